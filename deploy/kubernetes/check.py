#!/usr/bin/env python3
"""Checks on rendered Kubernetes manifests that a schema cannot make.

Usage: check.py MANIFEST.yaml... (the output of `kubectl kustomize`, and
Secret examples). The schemas (kubernetes-validate) say each object is
well-formed; this says the objects fit together and follow the rules of
deploy/: every pod hardened and with resources, every volume, ConfigMap and
Secret it names present, mlwatch's probes and port, the shards' --shard
matching their replica count, a headless Service and a PodDisruptionBudget
selecting them. Exits 1 with one line per problem.
"""

import fnmatch
import re
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}
problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def selects(selector, labels):
    """Whether a matchLabels selector selects a pod with these labels."""
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_container(where, c, pod_sc, volumes):
    sc = c.get("securityContext") or {}
    if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
        problem(where, "runAsNonRoot is not set")
    if sc.get("allowPrivilegeEscalation") is not False:
        problem(where, "allowPrivilegeEscalation is not false")
    if sc.get("readOnlyRootFilesystem") is not True:
        problem(where, "readOnlyRootFilesystem is not true")
    if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
        problem(where, "capabilities do not drop ALL")
    seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
    if seccomp != "RuntimeDefault":
        problem(where, f"seccompProfile is {seccomp!r}, not RuntimeDefault")
    res = c.get("resources") or {}
    for kind, keys in (("requests", ("cpu", "memory")), ("limits", ("memory",))):
        for key in keys:
            if key not in (res.get(kind) or {}):
                problem(where, f"no resources.{kind}.{key}")
    for m in c.get("volumeMounts") or []:
        if m["name"] not in volumes:
            problem(where, f"mounts volume {m['name']!r}, which the pod does not have")


def check_mlwatch(where, c):
    """The agent's own container: port, probes, listen address."""
    ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    if ports.get("metrics") != 9464:
        problem(where, "no port named `metrics` on 9464")
    for probe, path in (("livenessProbe", "/-/healthy"), ("readinessProbe", "/-/ready")):
        got = ((c.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            problem(where, f"{probe} is {got!r}, not GET {path}")
    args = c.get("args") or []
    if "--listen=0.0.0.0:9464" not in args:
        problem(where, "does not pass --listen=0.0.0.0:9464 (the agent listens on loopback by default)")
    if not any(a.startswith("--config=") for a in args):
        problem(where, "does not pass --config")


def mounted_files(c, volumes, objs):
    """The files the container sees from ConfigMaps and Secrets, by path."""
    files = {}
    for m in c.get("volumeMounts") or []:
        v = volumes.get(m["name"]) or {}
        sources = list((v.get("projected") or {}).get("sources") or [])
        if "configMap" in v:
            sources.append({"configMap": v["configMap"]})
        if "secret" in v:
            sources.append({"secret": dict(v["secret"], name=v["secret"]["secretName"])})
        for s in sources:
            kind = "Secret" if "secret" in s else "ConfigMap" if "configMap" in s else None
            if kind is None:
                continue
            ref = s["secret" if kind == "Secret" else "configMap"]
            obj = objs.get((kind, ref["name"])) or {}
            data = dict(obj.get("data") or {}, **(obj.get("stringData") or {}))
            items = ref.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                files[f"{m['mountPath'].rstrip('/')}/{item['path']}"] = data.get(item["key"], "")
    return files


def file_keys(node):
    """Every value of a `*_file` key in a parsed YAML tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, str) and k.endswith("_file") and isinstance(v, str):
                yield k, v
            else:
                yield from file_keys(v)
    elif isinstance(node, list):
        for v in node:
            yield from file_keys(v)


def check_config_files(where, c, volumes, objs):
    """The config file --config names is mounted, and so is every file it names."""
    files = mounted_files(c, volumes, objs)
    config = next((a.split("=", 1)[1] for a in c.get("args") or [] if a.startswith("--config=")), None)
    if config not in files:
        problem(where, f"--config={config} is not a file of a mounted ConfigMap")
        return
    parsed = yaml.safe_load(files[config])
    for key, path in file_keys(parsed):
        if path.startswith("/") and path not in files:
            problem(where, f"{config} names {key}: {path}, which no mounted ConfigMap or Secret provides")
    base = config.rsplit("/", 1)[0]
    for pattern in parsed.get("rule_files") or []:
        full = pattern if pattern.startswith("/") else f"{base}/{pattern}"
        if not fnmatch.filter(files, full):
            problem(where, f"rule_files {pattern!r} matches no mounted file")
    storage = ((parsed.get("storage") or {}).get("path"))
    mounts = {m["mountPath"] for m in c.get("volumeMounts") or [] if not m.get("readOnly")}
    if storage not in mounts:
        problem(where, f"storage.path {storage!r} is not a writable volume mount")


def main(paths):
    objects = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            objects += [(path, o) for o in yaml.safe_load_all(f) if o]
    by_kind = {}
    for path, o in objects:
        by_kind.setdefault(o["kind"], []).append(o)
    objs = {(o["kind"], o["metadata"]["name"]): o for _, o in objects}
    names = set(objs)

    workloads = [o for _, o in objects if o["kind"] in WORKLOADS]
    if not workloads:
        problem(",".join(paths), "no workload found")
    for w in workloads:
        wname = f"{w['kind']}/{w['metadata']['name']}"
        spec = w["spec"]
        tpl = spec["template"]
        labels = tpl["metadata"].get("labels") or {}
        pod = tpl["spec"]
        pod_sc = pod.get("securityContext") or {}
        if not selects(spec.get("selector"), labels):
            problem(wname, "its selector does not select its own pods")
        if pod.get("automountServiceAccountToken") is not False:
            problem(wname, "mounts a service account token it does not need")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for t in spec.get("volumeClaimTemplates") or []:
            volumes[t["metadata"]["name"]] = t
        for v in volumes.values():
            refs = []
            if "configMap" in v:
                refs.append(("ConfigMap", v["configMap"]["name"], v["configMap"].get("optional")))
            if "secret" in v:
                refs.append(("Secret", v["secret"]["secretName"], v["secret"].get("optional")))
            for s in (v.get("projected") or {}).get("sources") or []:
                if "configMap" in s:
                    refs.append(("ConfigMap", s["configMap"]["name"], s["configMap"].get("optional")))
                if "secret" in s:
                    refs.append(("Secret", s["secret"]["name"], s["secret"].get("optional")))
            for kind, name, optional in refs:
                if (kind, name) not in names and not optional:
                    problem(wname, f"volume {v['name']!r} needs {kind} {name!r}, which is in none of the files")
            for s in (v.get("projected") or {}).get("sources") or []:
                ref = s.get("secret") or s.get("configMap")
                obj = objs.get(("Secret" if "secret" in s else "ConfigMap", ref["name"]))
                if obj is None:
                    continue
                keys = set(obj.get("data") or {}) | set(obj.get("stringData") or {})
                for item in ref.get("items") or []:
                    if item["key"] not in keys:
                        problem(wname, f"volume {v['name']!r} wants key {item['key']!r}, which {ref['name']} lacks")
        for c in pod.get("initContainers", []) + pod["containers"]:
            where = f"{wname} container {c['name']}"
            check_container(where, c, pod_sc, volumes)
            if c["name"] == "mlwatch":
                check_mlwatch(where, c)
                check_config_files(where, c, volumes, objs)

        if not any(selects(p["spec"].get("selector"), labels) for p in by_kind.get("PodDisruptionBudget", [])):
            problem(wname, "no PodDisruptionBudget selects its pods")

        if w["kind"] == "StatefulSet":
            svc = [s for s in by_kind.get("Service", []) if s["metadata"]["name"] == spec.get("serviceName")]
            if not svc:
                problem(wname, f"serviceName {spec.get('serviceName')!r} is not a Service in the files")
            else:
                s = svc[0]["spec"]
                if s.get("clusterIP") != "None":
                    problem(wname, "its Service is not headless")
                if not all(labels.get(k) == v for k, v in (s.get("selector") or {}).items()):
                    problem(wname, "its Service does not select its pods")
            for c in pod["containers"]:
                if c["name"] != "mlwatch":
                    continue
                shard = [a for a in c.get("args") or [] if a.startswith("--shard=")]
                m = re.fullmatch(r"--shard=\$\(POD_INDEX\)/(\d+)", shard[0]) if shard else None
                if not m:
                    problem(wname, "does not pass --shard=$(POD_INDEX)/N")
                elif int(m.group(1)) != spec.get("replicas"):
                    problem(wname, f"--shard says {m.group(1)} shards, replicas is {spec.get('replicas')}")
                env = {e["name"]: e for e in c.get("env") or []}
                path = (((env.get("POD_INDEX") or {}).get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
                if path != "metadata.labels['apps.kubernetes.io/pod-index']":
                    problem(wname, "POD_INDEX does not come from the label apps.kubernetes.io/pod-index")
                mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts") or []}
                claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
                if mounts.get("/var/lib/mlwatch") not in claims:
                    problem(wname, "the state directory /var/lib/mlwatch is not on a volumeClaimTemplate")

    for p in problems:
        print(f"FAIL {p}")
    kinds = ", ".join(f"{len(v)} {k}" for k, v in sorted(by_kind.items()))
    if problems:
        return 1
    print(f"OK {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
