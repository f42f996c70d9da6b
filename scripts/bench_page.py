"""Benchmark of the agent's page with 500 tenants (see scripts/bench-page.sh).

An agent with one per-tenant group of three rules (drift on two columns,
volume, freshness) over 500 tenants, 20 of them drifting on one column (so the overview
lists 20 firing alerts and 500 tenant chips). Once every rule has been
evaluated a few times, the overview `/` and a drill-down
`/rules/Drift?tenant=...` are fetched 200 times each over one keep-alive
connection: median and p99 latency.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time

from benchlib import free_port, get, timed

BIN = sys.argv[1]
DIR = sys.argv[2]
TENANTS, DRIFTING, ROUNDS = 500, 20, 200


def write_csv(path, rows, rng, shift=0.0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    now = int(time.time())
    with open(path, "w") as f:
        f.write("ts,a,b\n")
        for i in range(rows):
            f.write(f"{now - 60 * (i % 50)},{rng.gauss(shift, 1):.5f},{rng.gauss(0, 1):.5f}\n")


def setup():
    rng = random.Random(11)
    write_csv(f"{DIR}/reference.csv", 5000, rng)
    for t in range(TENANTS):
        write_csv(f"{DIR}/data/tenant{t:03}/current.csv", 200, rng, shift=2.0 if t < DRIFTING else 0.0)
    subprocess.run([BIN, "baseline", "build", "--source", f"{DIR}/reference.csv", "--columns", "a,b", "--out", f"{DIR}/base.json"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(f"{DIR}/rules.yaml", "w") as f:
        f.write("""
groups:
  - name: tenants
    source: current
    interval: 20s
    per_tenant: true
    rules:
      - alert: Drift
        check: { drift: { columns: [a, b], method: psi } }
        baseline: { profile: base.json }
        when: "psi > 0.2"
        annotations: { summary: "PSI {{ value | round(3) }} on {{ labels.column }} for {{ labels.tenant }}" }
      - alert: Quiet
        check: { volume: {} }
        when: "count < 10"
      - alert: Stale
        check: { freshness: {} }
        when: "age_seconds > 86400"
""")
    with open(f"{DIR}/mlwatch.yaml", "w") as f:
        f.write("""
sources:
  current: { kind: file, path: "data/{tenant}/current.csv", timestamp: ts }
rule_files: ["rules.yaml"]
storage: { path: state }
route: { receiver: log }
receivers:
  - name: log
""")


def main():
    setup()
    port = free_port()
    agent = subprocess.Popen([BIN, "--log-level", "warn", "run", "--listen", f"127.0.0.1:{port}", "--config", f"{DIR}/mlwatch.yaml"])
    try:
        deadline = time.time() + 600
        while True:
            try:
                rules = [r for g in json.loads(get(port, "/api/v1/rules"))["data"]["groups"] for r in g["rules"]]
                firing = sum(1 for r in rules for a in r["alerts"] if a["state"] == "firing")
                if firing >= DRIFTING:
                    break
            except (OSError, ValueError, KeyError):
                pass
            if time.time() > deadline:
                sys.exit("the drifting tenants did not fire within 10 minutes")
            time.sleep(1)
        time.sleep(45)  # a few more evaluations of history
        page = get(port, "/").decode()
        chips = page.count('<a class="chip')
        print(f"tenants on the overview: {chips}; firing alerts: {firing}")
        for path in ["/", "/rules/Drift?tenant=tenant000"]:
            median, p99, size = timed(port, path, ROUNDS)
            print(f"{path}: {size / 1024:.0f} KiB, over {ROUNDS} requests median {median:.1f} ms, p99 {p99:.1f} ms (target < 200 ms)")
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=60)


main()
