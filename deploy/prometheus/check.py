#!/usr/bin/env python3
"""Checks of deploy/prometheus/ that promtool cannot make here.

  check.py strip-sd PROMETHEUS_YML OUT_YML
      Debian's promtool is built without Kubernetes service discovery and
      rejects `kubernetes_sd_configs`. This checks those blocks against the
      keys Prometheus knows, then writes a copy of the config with each of
      them replaced by a static target (and rule_files made absolute), for
      `promtool check config` to check everything else: relabelling, rule
      files, Alertmanagers.

  check.py relabel PROMETHEUS_YML MANIFEST.yaml...
      Runs each job's relabel_configs over the targets Kubernetes' pod
      discovery would give for the pods of the rendered manifests (one per
      container port, with the __meta_kubernetes_pod_* labels), and checks
      that the shards are scraped by mlwatch-shards with their `shard` (the
      pod index) and `replica`, the sidecars by mlwatch-sidecars, and no
      other container by either.

  check.py runbooks RULES_YML...
      Every runbook_url of an alerting rule that points into this
      repository's docs (…/blob/main/docs/FILE.md#anchor) names a file that
      exists and a heading of it (GitHub's anchors).

Exits 1 with one line per problem.
"""

import os
import re
import sys

import yaml

SD_KEYS = {
    "role", "namespaces", "selectors", "api_server", "kubeconfig_file", "attach_metadata",
    "basic_auth", "authorization", "oauth2", "tls_config", "proxy_url", "no_proxy",
    "proxy_from_environment", "proxy_connect_header", "follow_redirects", "enable_http2",
}
SD_ROLES = {"node", "pod", "service", "endpoints", "endpointslice", "ingress"}
RELABEL_KEYS = {"source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"}
RELABEL_ACTIONS = {"replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop",
                   "labelkeep", "lowercase", "uppercase"}

problems = []


def strip_sd(src, out):
    with open(src, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    base = os.path.dirname(os.path.abspath(src))
    for job in config.get("scrape_configs") or []:
        name = job.get("job_name")
        sds = job.pop("kubernetes_sd_configs", None)
        if sds is None:
            continue
        for sd in sds:
            unknown = set(sd) - SD_KEYS
            if unknown:
                problems.append(f"job {name}: kubernetes_sd_configs has unknown keys {sorted(unknown)}")
            if sd.get("role") not in SD_ROLES:
                problems.append(f"job {name}: kubernetes_sd_configs role {sd.get('role')!r} is not one of {sorted(SD_ROLES)}")
            ns = sd.get("namespaces")
            if ns is not None and (set(ns) - {"names", "own_namespace"}
                                   or not all(isinstance(n, str) for n in ns.get("names") or [])):
                problems.append(f"job {name}: kubernetes_sd_configs namespaces must be {{names: [...], own_namespace: bool}}")
        job.setdefault("static_configs", []).append({"targets": ["127.0.0.1:9464"]})
    config["rule_files"] = [p if os.path.isabs(p) else os.path.join(base, p) for p in config.get("rule_files") or []]
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)


def sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def pods(manifests):
    """(namespace, name, labels, annotations, containers) of the pods the workloads would make."""
    for path in manifests:
        with open(path, encoding="utf-8") as f:
            for o in yaml.safe_load_all(f):
                if not o or o["kind"] not in ("StatefulSet", "Deployment"):
                    continue
                ns = o["metadata"].get("namespace", "ml-api")
                tpl = o["spec"]["template"]
                labels = dict(tpl["metadata"].get("labels") or {})
                annotations = dict(tpl["metadata"].get("annotations") or {})
                containers = tpl["spec"]["containers"]
                if o["kind"] == "StatefulSet":
                    for i in range(o["spec"].get("replicas", 1)):
                        name = f"{o['metadata']['name']}-{i}"
                        extra = {"apps.kubernetes.io/pod-index": str(i), "statefulset.kubernetes.io/pod-name": name}
                        yield o, ns, name, {**labels, **extra}, annotations, containers
                else:
                    yield o, ns, f"{o['metadata']['name']}-7c9d8b6f5-x2x4z", {**labels, "pod-template-hash": "7c9d8b6f5"}, annotations, containers


def targets(ns, pod, labels, annotations, containers):
    for c in containers:
        for port in c.get("ports") or []:
            t = {
                "__address__": f"10.1.2.3:{port['containerPort']}",
                "__meta_kubernetes_namespace": ns,
                "__meta_kubernetes_pod_name": pod,
                "__meta_kubernetes_pod_container_name": c["name"],
                "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
            }
            for k, v in labels.items():
                t[f"__meta_kubernetes_pod_label_{sanitize(k)}"] = v
                t[f"__meta_kubernetes_pod_labelpresent_{sanitize(k)}"] = "true"
            for k, v in annotations.items():
                t[f"__meta_kubernetes_pod_annotation_{sanitize(k)}"] = v
            yield c["name"], port.get("name", ""), t


def relabel(labels, configs):
    """Prometheus' relabelling, for the actions deploy/ uses; None when dropped."""
    labels = dict(labels)
    for rc in configs:
        unknown = set(rc) - RELABEL_KEYS
        if unknown:
            problems.append(f"relabel config has unknown keys {sorted(unknown)}")
        action = rc.get("action", "replace")
        if action not in RELABEL_ACTIONS:
            problems.append(f"relabel action {action!r} is unknown")
            continue
        value = rc.get("separator", ";").join(labels.get(s, "") for s in rc.get("source_labels") or [])
        regex = re.compile(f"^(?:{rc.get('regex', '(.*)')})$")
        m = regex.match(value)
        if action == "keep" and not m:
            return None
        if action == "drop" and m:
            return None
        if action == "replace" and m:
            replacement = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", rc.get("replacement", "$1"))
            result = m.expand(replacement)
            if result:
                labels[rc["target_label"]] = result
            else:
                labels.pop(rc["target_label"], None)
        if action not in ("keep", "drop", "replace"):
            problems.append(f"relabel action {action!r} is not simulated here")
    return {k: v for k, v in labels.items() if not k.startswith("__")}


def check_relabel(prometheus_yml, manifests):
    with open(prometheus_yml, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    jobs = [j for j in config.get("scrape_configs") or [] if j.get("kubernetes_sd_configs")]
    seen = {"mlwatch-shards": 0, "mlwatch-sidecars": 0}
    for workload, ns, pod, labels, annotations, containers in pods(manifests):
        is_shard = workload["kind"] == "StatefulSet"
        for container, port, target in targets(ns, pod, labels, annotations, containers):
            where = f"pod {ns}/{pod} container {container} port {port or '(unnamed)'}"
            for job in jobs:
                names = set()
                for sd in job["kubernetes_sd_configs"]:
                    names |= set((sd.get("namespaces") or {}).get("names") or [])
                if names and ns not in names:
                    continue
                out = relabel(target, job.get("relabel_configs") or [])
                want = (container == "mlwatch" and port == "metrics"
                        and job["job_name"] == ("mlwatch-shards" if is_shard else "mlwatch-sidecars"))
                if out is None:
                    if want:
                        problems.append(f"{where}: dropped by job {job['job_name']}, which should scrape it")
                    continue
                if not want:
                    problems.append(f"{where}: scraped by job {job['job_name']}, which should not")
                    continue
                seen[job["job_name"]] += 1
                if out.get("pod") != pod or out.get("namespace") != ns:
                    problems.append(f"{where}: job {job['job_name']} gives pod={out.get('pod')!r} namespace={out.get('namespace')!r}")
                if is_shard:
                    if out.get("shard") != labels["apps.kubernetes.io/pod-index"]:
                        problems.append(f"{where}: shard label is {out.get('shard')!r}, not the pod index")
                    if out.get("replica") != labels.get("app.kubernetes.io/instance"):
                        problems.append(f"{where}: replica label is {out.get('replica')!r}")
    for job, n in seen.items():
        if n == 0:
            problems.append(f"job {job} scrapes none of the pods of {', '.join(manifests)}")
    return seen


def github_anchor(heading):
    """The id GitHub gives a Markdown heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def check_runbooks(rule_files):
    checked = 0
    for path in rule_files:
        with open(path, encoding="utf-8") as f:
            groups = yaml.safe_load(f)["groups"]
        for group in groups:
            for rule in group["rules"]:
                if "alert" not in rule:
                    continue
                url = (rule.get("annotations") or {}).get("runbook_url")
                if not url:
                    problems.append(f"{path}: alert {rule['alert']} has no runbook_url")
                    continue
                m = re.search(r"/blob/main/(docs/[\w./-]+\.md)(?:#([\w-]+))?$", url)
                if not m:
                    continue
                doc, anchor = m.group(1), m.group(2)
                try:
                    with open(doc, encoding="utf-8") as f:
                        text = f.read()
                except OSError:
                    problems.append(f"{path}: alert {rule['alert']}: runbook {doc} does not exist")
                    continue
                text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
                anchors = {github_anchor(h) for h in re.findall(r"^#+\s+(.*)$", text, re.M)}
                if anchor and anchor not in anchors:
                    problems.append(f"{path}: alert {rule['alert']}: {doc} has no heading #{anchor}")
                checked += 1
    return checked


def main(argv):
    if len(argv) == 3 and argv[0] == "strip-sd":
        strip_sd(argv[1], argv[2])
        summary = f"kubernetes_sd_configs of {argv[1]} checked; the rest written to {argv[2]}"
    elif len(argv) >= 2 and argv[0] == "relabel":
        seen = check_relabel(argv[1], argv[2:])
        summary = ", ".join(f"{job} scrapes {n} pod(s)" for job, n in seen.items())
    elif len(argv) >= 2 and argv[0] == "runbooks":
        summary = f"{check_runbooks(argv[1:])} runbook links resolve"
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(f"OK {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
