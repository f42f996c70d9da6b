"""Benchmark of the running agent (see scripts/bench-agent.sh).

An agent with 50 rules (10 groups x 5, per tenant, 21 tenants x 3 columns)
that is idle between evaluations: resident memory and CPU over a minute; then
the latency of scraping its /metrics (about 10,000 series) 1,000 times over one
keep-alive connection.
"""

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import time

from benchlib import free_port, get, proc_stat

BIN = sys.argv[1]
DIR = sys.argv[2]
TENANTS, GROUPS, RULES_PER_GROUP, COLUMNS = 21, 10, 5, ["a", "b", "c"]


def write_csv(path, rows, rng, shift=0.0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for _ in range(rows):
            f.write(",".join(f"{rng.gauss(shift, 1):.5f}" for _ in COLUMNS) + "\n")


def setup():
    rng = random.Random(7)
    write_csv(f"{DIR}/reference.csv", 5000, rng)
    for t in range(TENANTS):
        write_csv(f"{DIR}/data/tenant{t:02}/current.csv", 500, rng, shift=0.05 * t)
    subprocess.run([BIN, "baseline", "build", "--source", f"{DIR}/reference.csv", "--out", f"{DIR}/base.json"],
                   check=True, stdout=subprocess.DEVNULL)
    groups = []
    for g in range(GROUPS):
        rules = "".join(
            f"""
      - alert: Drift{g:02}x{r}
        check: {{ drift: {{ columns: [a, b, c], method: psi }} }}
        baseline: {{ profile: base.json }}
        when: "psi > 100"
"""
            for r in range(RULES_PER_GROUP))
        groups.append(f"""
  - name: group{g:02}
    source: current
    interval: 5m
    per_tenant: true
    rules:{rules}""")
    with open(f"{DIR}/rules.yaml", "w") as f:
        f.write("groups:" + "".join(groups))
    with open(f"{DIR}/mlwatch.yaml", "w") as f:
        f.write("""
sources:
  current: { kind: file, path: "data/{tenant}/current.csv" }
rule_files: ["rules.yaml"]
route: { receiver: log }
receivers:
  - name: log
    stdout: [{ format: text }]
""")


def main():
    setup()
    port = free_port()
    agent = subprocess.Popen([BIN, "--log-level", "warn", "run", "--listen", f"127.0.0.1:{port}",
                              "--config", f"{DIR}/mlwatch.yaml"])
    try:
        deadline = time.time() + 300
        while True:
            try:
                groups = json.loads(get(port, "/api/v1/rules"))["data"]["groups"]
                rules = [r for g in groups for r in g["rules"]]
                if len(rules) == GROUPS * RULES_PER_GROUP and all(r["health"] == "ok" for r in rules):
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.time() > deadline:
                sys.exit("agent did not evaluate every rule within 5 minutes")
            time.sleep(0.5)
        time.sleep(5)  # let the first evaluations' allocations settle
        cpu0, rss0 = proc_stat(agent.pid)
        time.sleep(60)
        cpu1, rss1 = proc_stat(agent.pid)

        text = get(port, "/metrics").decode()
        series = sum(1 for l in text.splitlines() if l and not l.startswith("#"))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        for _ in range(1000):
            t = time.perf_counter()
            conn.request("GET", "/metrics")
            conn.getresponse().read()
            latencies.append((time.perf_counter() - t) * 1000)
        conn.close()
        _, rss2 = proc_stat(agent.pid)
        latencies.sort()
        print(f"rules: {len(rules)}; /metrics: {series} series, {len(text) / 1024:.0f} KiB")
        print(f"idle resident memory: {max(rss0, rss1):.1f} MiB (target < 50 MiB)")
        print(f"idle CPU: {cpu1 - cpu0:.2f} CPU-seconds per minute")
        print(f"resident memory after the scrapes: {rss2:.1f} MiB")
        print(f"/metrics scrape over 1000 requests: median {statistics.median(latencies):.2f} ms, "
              f"p99 {latencies[989]:.2f} ms, max {latencies[-1]:.2f} ms (target p99 < 20 ms)")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)


main()
