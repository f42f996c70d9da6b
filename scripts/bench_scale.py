"""Scale benchmark of the agent (see scripts/bench-scale.sh).

Lakes of tenants (lake-<n>/<tenant>/current.csv, 200 rows of three columns,
timestamped within the hour) and 10 drift rules per tenant in one group.
  1. One agent at 1,000 tenants: evaluation time per cycle
     (mlwatch_group_last_duration_seconds), CPU per cycle, resident memory,
     /metrics size and scrape latency.
  2. /metrics scrape latency at about 10,000 and 100,000 series.
  3. The 1,000 tenants over 4 shards (4 processes): tenants per shard, their
     evaluation times against the single agent's; then over 5 shards: which
     tenants moved.
Scrapes run while the agent keeps evaluating (every 20 s), as in production.
"""

import calendar
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

from benchlib import free_port, get, proc_stat, timed

BIN, DIR = sys.argv[1], sys.argv[2]
RULES = [("a", "psi"), ("b", "psi"), ("c", "psi"), ("a", "ks"), ("b", "ks"), ("c", "ks"),
         ("a", "js"), ("b", "js"), ("c", "wasserstein"), ("a", "chi2")]
SCRAPES = 200


def write_lake(tenants):
    """`tenants` tenants under lake-<tenants>/, one in ten drifting."""
    rng = random.Random(7)
    now = int(time.time())
    for t in range(tenants):
        path = f"{DIR}/lake-{tenants}/tenant-{t:04}/current.csv"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shift = 0.5 if t % 10 == 0 else 0.0
        with open(path, "w") as f:
            f.write("ts,a,b,c\n")
            for i in range(200):
                f.write(f"{now - 15 * i},{rng.gauss(shift, 1):.4f},{rng.gauss(0, 1):.4f},{rng.randint(0, 9)}\n")


def write_config(name, tenants):
    """A config reading the lake of `tenants` tenants."""
    rules = "".join(f"""
      - alert: Drift{i}
        check: {{ drift: {{ columns: [{col}], method: {method} }} }}
        baseline: {{ profile: ../base.json }}
        when: "{'psi' if method == 'psi' else 'count'} > 1000000"
""" for i, (col, method) in enumerate(RULES))
    os.makedirs(f"{DIR}/{name}", exist_ok=True)
    with open(f"{DIR}/{name}/rules.yaml", "w") as f:
        f.write(f"""groups:
  - name: drift
    source: lake
    interval: 20s
    window: 1h
    per_tenant: true
    rules:{rules}""")
    path = f"../lake-{tenants}/{{tenant}}/current.csv"
    with open(f"{DIR}/{name}/mlwatch.yaml", "w") as f:
        f.write(f"""
sources:
  lake: {{ kind: file, path: "{path}", timestamp: ts }}
storage: {{ path: state }}
rule_files: [rules.yaml]
route: {{ receiver: log }}
receivers: [{{ name: log }}]
""")
    return f"{DIR}/{name}/mlwatch.yaml"


def start(config, shard=None):
    port = free_port()
    args = [BIN, "--log-level", "warn", "run", "--listen", f"127.0.0.1:{port}", "--config", config]
    if shard:
        args += ["--shard", shard]
    return subprocess.Popen(args), port


def metric(text, name):
    return [float(l.rsplit(" ", 1)[1]) for l in text.splitlines() if l.startswith(name)]


def wait_evaluated(port, after=0.0, deadline=900):
    """Wait for an evaluation of the group that ended after `after` (Unix
    time); returns its wall time in seconds."""
    end = time.time() + deadline
    while time.time() < end:
        try:
            rules = json.loads(get(port, "/api/v1/rules"))["data"]["groups"][0]["rules"]
            last = [r.get("lastEvaluation") for r in rules]
            text = get(port, "/metrics").decode()
            took = metric(text, 'mlwatch_group_last_duration_seconds{group="drift"}')
            if took and all(last):
                stamps = [calendar.timegm(time.strptime(l[:19], "%Y-%m-%dT%H:%M:%S")) for l in last]
                if min(stamps) > after:
                    return took[0]
        except (OSError, ValueError, KeyError, IndexError):
            pass
        time.sleep(0.5)
    raise SystemExit("no evaluation within the deadline")


def tenants_of(port):
    text = get(port, "/metrics").decode()
    return set(re.findall(r'^mlwatch_window_rows\{rule="Drift0",tenant="([^"]+)"\}', text, re.M))


def stop(agent):
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=120)


def single(tenants, cycles):
    config = write_config(f"one-{tenants}", tenants)
    agent, port = start(config)
    try:
        first = wait_evaluated(port)
        durations, t0 = [], time.time()
        cpu0, _ = proc_stat(agent.pid)
        for _ in range(cycles):
            durations.append(wait_evaluated(port, after=time.time()))
        cpu1, rss = proc_stat(agent.pid)
        median, p99, size = timed(port, "/metrics", SCRAPES)
        text = get(port, "/metrics").decode()
        series = sum(1 for l in text.splitlines() if l and not l.startswith("#"))
        return {"tenants": tenants, "first_cycle_s": first, "cycle_s": sorted(durations)[len(durations) // 2],
                "cpu_per_cycle_s": (cpu1 - cpu0) / cycles, "elapsed": time.time() - t0, "rss_mib": rss,
                "series": series, "metrics_kib": size / 1024, "scrape_median_ms": median, "scrape_p99_ms": p99}
    finally:
        stop(agent)


def shards(count, config):
    agents = [start(config.replace("mlwatch.yaml", f"shard{i}of{count}.yaml"), f"{i}/{count}") for i in range(count)]
    try:
        for _, port in agents:
            wait_evaluated(port)
        cpu0 = [proc_stat(a.pid)[0] for a, _ in agents]
        since = time.time()
        took = [wait_evaluated(port, after=since) for _, port in agents]
        # One cycle each since `since` (an interval is 20 s; waiting took less).
        cpu = [proc_stat(a.pid)[0] - c for (a, _), c in zip(agents, cpu0)]
        owned = [tenants_of(port) for _, port in agents]
        rss = [proc_stat(a.pid)[1] for a, _ in agents]
        return took, cpu, owned, rss
    finally:
        for a, _ in agents:
            stop(a)


def main():
    for tenants in (250, 1000, 2500):
        write_lake(tenants)
    subprocess.run([BIN, "baseline", "build", "--source", f"{DIR}/lake-1000/tenant-0001/current.csv", "--out", f"{DIR}/base.json"],
                   check=True, stdout=subprocess.DEVNULL)
    one = single(1000, 3)
    print(f"one agent, {one['tenants']} tenants x {len(RULES)} rules: cycle {one['cycle_s']:.2f} s "
          f"(first, reading every file: {one['first_cycle_s']:.2f} s), CPU {one['cpu_per_cycle_s']:.2f} s per cycle, "
          f"resident {one['rss_mib']:.0f} MiB; /metrics {one['series']} series, {one['metrics_kib']:.0f} KiB, "
          f"scrape median {one['scrape_median_ms']:.1f} ms, p99 {one['scrape_p99_ms']:.1f} ms")

    # Shards: each its own state and port, the same lake and rules.
    base = f"{DIR}/one-1000/mlwatch.yaml"
    text = open(base).read()
    for count in (4, 5):
        for i in range(count):
            with open(base.replace("mlwatch.yaml", f"shard{i}of{count}.yaml"), "w") as f:
                f.write(text.replace("storage: { path: state }", f"storage: {{ path: state-{i}of{count} }}"))
    took4, cpu4, owned4, rss4 = shards(4, base)
    sizes = [len(o) for o in owned4]
    print(f"4 shards: tenants {sizes} (each within {max(abs(s - 250) for s in sizes) / 2.5:.1f}% of 250), "
          f"cycles {', '.join(f'{t:.2f}' for t in took4)} s (4 processes sharing 2 cores), "
          f"CPU {', '.join(f'{c:.2f}' for c in cpu4)} s per cycle (sum {sum(cpu4):.2f} s vs {one['cpu_per_cycle_s']:.2f} s for one agent), "
          f"resident {', '.join(f'{r:.0f}' for r in rss4)} MiB")
    took5, _, owned5, _ = shards(5, base)
    owner4 = {t: i for i, o in enumerate(owned4) for t in o}
    owner5 = {t: i for i, o in enumerate(owned5) for t in o}
    moved = [t for t in owner4 if owner5.get(t) != owner4[t]]
    to_new = sum(1 for t in moved if owner5.get(t) == 4)
    print(f"4 -> 5 shards: {len(moved)} of {len(owner4)} tenants moved ({100 * len(moved) / len(owner4):.1f}%, "
          f"expected 20%), {to_new} of them to the new shard; cycles {', '.join(f'{t:.2f}' for t in took5)} s")

    # /metrics at about 10,000 and 100,000 series: the lake grows.
    for tenants in (250, 2500):
        r = single(tenants, 1)
        print(f"/metrics at {r['series']} series ({tenants} tenants), {r['metrics_kib']:.0f} KiB: "
              f"median {r['scrape_median_ms']:.1f} ms, p99 {r['scrape_p99_ms']:.1f} ms over {SCRAPES} scrapes "
              f"(cycle {r['cycle_s']:.2f} s, resident {r['rss_mib']:.0f} MiB)")


main()
