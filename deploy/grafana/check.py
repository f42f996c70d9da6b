#!/usr/bin/env python3
"""Checks a Grafana dashboard JSON, and writes its PromQL for promtool.

Usage: check.py DASHBOARD.json RULES_OUT.yml

Checks the essentials Grafana needs to import the dashboard: title, uid
(at most 40 characters), an integer schemaVersion, the template variables
datasource, tenant and rule, panels (rows' nested panels too) with unique
ids, a gridPos inside the 24-column grid that overlaps no other panel, a
Prometheus datasource that is the ${datasource} variable, and targets with a
non-empty expr and unique refIds. Every metric a query names must be one
mlwatch exports (docs/metrics.md) or a recording rule of
deploy/prometheus/mlwatch-rules.yml or `up`.

Then writes every expression (queries and variable queries) into RULES_OUT
as recording rules, with Grafana's variables replaced by valid values
($tenant -> acme, $__rate_interval -> 5m, ...), so that
`promtool check rules RULES_OUT` proves each one parses. An expression that
still holds a `$` after the substitution names a variable this script does
not know, and fails.
"""

import json
import re
import sys

import yaml

# Grafana's built-in variables and the dashboard's own, with a value each
# that keeps the PromQL valid where the variable stands.
SUBSTITUTIONS = {
    "__rate_interval": "5m",
    "__interval": "1m",
    "__interval_ms": "60000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "tenant": "acme",
    "rule": "FeatureDrift",
    "datasource": "prometheus",
}
REQUIRED_VARIABLES = {"datasource", "tenant", "rule"}
PROMQL_WORDS = {
    # functions, aggregations and keywords that can precede "(" or stand alone
    "sum", "min", "max", "avg", "count", "topk", "bottomk", "quantile", "count_values", "stddev", "stdvar", "group",
    "rate", "irate", "increase", "delta", "idelta", "deriv", "histogram_quantile", "vector", "scalar", "absent",
    "absent_over_time", "present_over_time", "label_replace", "label_join", "by", "without", "on", "ignoring",
    "group_left", "group_right", "and", "or", "unless", "offset", "bool", "abs", "clamp_min", "clamp_max", "time",
    "max_over_time", "min_over_time", "avg_over_time", "sum_over_time", "count_over_time", "last_over_time",
    "label_values", "le", "inf", "nan",
}
problems = []


def substitute(expr):
    def repl(m):
        name = m.group(1) or m.group(2) or m.group(3)
        name = name.split(":")[0]  # ${var:format}
        return SUBSTITUTIONS.get(name, m.group(0))

    return re.sub(r"\$\{([\w:]+)\}|\[\[(\w+)\]\]|\$(\w+)", repl, expr)


def all_panels(panels):
    for p in panels:
        yield p
        yield from all_panels(p.get("panels") or [])


def known_metrics(metrics_md, rules_yml):
    names = {"up"}
    with open(metrics_md, encoding="utf-8") as f:
        text = f.read()
    names |= set(re.findall(r"`(mlwatch_[a-z0-9_]+)[`{]", text))
    # Families documented with a shared prefix: `mlwatch_recsys_*` (`coverage`, `gini`, ...)
    for prefix, rest in re.findall(r"`(mlwatch_[a-z0-9]+)_\*` \(([^)]*)\)", text):
        names |= {f"{prefix}_{n}" for n in re.findall(r"`([a-z0-9_]+)`", rest)}
    for row in re.findall(r"^\|([^|]*)\|", text, re.M):
        stems = re.findall(r"`(mlwatch_[a-z0-9_]+)`", row)
        for suffix in re.findall(r"`(_[a-z0-9_]+)`", row):
            names |= {re.sub(r"_[a-z0-9]+$", "", s) + suffix for s in stems}
    # Histograms: the _bucket, _sum and _count series of each.
    names |= {f"{n}_{part}" for n in names for part in ("bucket", "sum", "count")}
    with open(rules_yml, encoding="utf-8") as f:
        for group in yaml.safe_load(f)["groups"]:
            names |= {r["record"] for r in group["rules"] if "record" in r}
    return names


def metric_names(expr):
    """Identifiers in an expression that are metric names (not functions, labels or strings)."""
    stripped = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    stripped = re.sub(r"\{[^}]*\}", "{}", stripped)
    stripped = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", stripped)
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)
    names = set()
    for m in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped):
        word = m.group(0)
        if word.lower() in PROMQL_WORDS or re.fullmatch(r"\d+[smhdwy]", word):
            continue
        names.add(word)
    return names


def main(dashboard_path, out_path):
    with open(dashboard_path, encoding="utf-8") as f:
        d = json.load(f)
    metrics = known_metrics("docs/metrics.md", "deploy/prometheus/mlwatch-rules.yml")

    if not isinstance(d.get("title"), str) or not d["title"]:
        problems.append("no title")
    if not isinstance(d.get("uid"), str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", d["uid"]):
        problems.append(f"uid {d.get('uid')!r} is not 1 to 40 letters, digits, - or _")
    if not isinstance(d.get("schemaVersion"), int):
        problems.append("schemaVersion is not an integer")
    if d.get("id") not in (None,):
        problems.append("has an `id`: leave it out, so that importing does not overwrite another dashboard")

    variables = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
    for name in sorted(REQUIRED_VARIABLES - set(variables)):
        problems.append(f"no template variable {name!r}")
    if (variables.get("datasource") or {}).get("type") != "datasource" or variables["datasource"].get("query") != "prometheus":
        problems.append("variable `datasource` is not a Prometheus datasource variable")

    exprs = []
    for name, v in variables.items():
        if v.get("type") == "query":
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q or "")
            if not m:
                problems.append(f"variable {name}: query {q!r} is not label_values(<series>, <label>)")
            else:
                exprs.append((f"variable {name}", m.group(1)))

    panels = list(all_panels(d.get("panels") or []))
    if not panels:
        problems.append("no panels")
    ids = {}
    cells = {}
    for p in panels:
        where = f"panel {p.get('id')} {p.get('title')!r}"
        if not isinstance(p.get("id"), int):
            problems.append(f"{where}: id is not an integer")
        elif p["id"] in ids:
            problems.append(f"{where}: id {p['id']} is also panel {ids[p['id']]!r}")
        ids[p.get("id")] = p.get("title")
        if not p.get("title"):
            problems.append(f"{where}: no title")
        g = p.get("gridPos") or {}
        if not all(isinstance(g.get(k), int) for k in "hwxy"):
            problems.append(f"{where}: gridPos needs integer h, w, x, y")
            continue
        if g["x"] < 0 or g["w"] < 1 or g["x"] + g["w"] > 24 or g["h"] < 1 or g["y"] < 0:
            problems.append(f"{where}: gridPos {g} is outside the 24-column grid")
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    problems.append(f"{where}: overlaps panel {cells[(x, y)]!r} at column {x}, row {y}")
                    break
                cells[(x, y)] = p.get("title")
            else:
                continue
            break
        if p.get("type") == "row":
            continue
        ds = p.get("datasource") or {}
        if ds.get("uid") != "${datasource}":
            problems.append(f"{where}: datasource is {ds!r}, not the ${{datasource}} variable")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = set()
        for t in targets:
            if t.get("refId") in refs:
                problems.append(f"{where}: refId {t.get('refId')!r} twice")
            refs.add(t.get("refId"))
            if not (t.get("expr") or "").strip():
                problems.append(f"{where}: target {t.get('refId')} has no expr")
                continue
            exprs.append((f"{where} target {t.get('refId')}", t["expr"]))

    rules = []
    for i, (where, expr) in enumerate(exprs):
        concrete = substitute(expr)
        if "$" in concrete:
            problems.append(f"{where}: unknown variable in {expr!r}")
            continue
        for name in sorted(metric_names(concrete) - metrics):
            problems.append(f"{where}: {name} is neither an mlwatch metric (docs/metrics.md) nor a recording rule")
        rules.append({"record": f"grafana:expr_{i}", "expr": concrete})
    with open(out_path, "w", encoding="utf-8") as f:
        yaml.safe_dump({"groups": [{"name": "grafana-dashboard", "rules": rules}]}, f, sort_keys=False, width=1000)

    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(f"OK {d['title']!r} (uid {d['uid']}, schemaVersion {d['schemaVersion']}): "
          f"{len(panels)} panels, {len(exprs)} expressions written to {out_path}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
