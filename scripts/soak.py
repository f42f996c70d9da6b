"""Soak run of the agent (see scripts/soak.sh).

Writes a lake of TENANTS tenants, starts a flaky webhook receiver and the
agent (two groups, every 10 s: a drift rule and a no-data rule per tenant),
flips a few tenants' data between healthy and drifted every minute, and
samples the agent's process every 30 s. Prints the samples as CSV and a
summary; exits 1 if memory, open files or threads grew after warm-up.
"""

import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request

BIN, DIR, MINUTES, TENANTS = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
SAMPLE_EVERY = 30
WARM_UP = min(5 * 60, MINUTES * 60 / 3)  # 5 minutes, or a third of a short run
received = {"ok": 0, "failed": 0, "alerts": 0}


def write_csv(path, rows, rng, shift):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("x,y\n")
        for _ in range(rows):
            f.write(f"{rng.gauss(shift, 1):.4f},{rng.choice('abc')}\n")
    os.replace(tmp, path)  # written whole, as a pipeline that renames does


class Flaky(http.server.BaseHTTPRequestHandler):
    """Accepts most notifications; now and then answers 500, 429 or slowly."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        roll = random.random()
        if roll < 0.10:
            self.send_response(500)
            self.end_headers()
            received["failed"] += 1
            return
        if roll < 0.15:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
            received["failed"] += 1
            return
        if roll < 0.20:
            time.sleep(2)
        received["ok"] += 1
        received["alerts"] += len(json.loads(body)["alerts"])
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def setup(port):
    rng = random.Random(7)
    os.makedirs(f"{DIR}/data", exist_ok=True)
    write_csv(f"{DIR}/reference.csv", 5000, rng, 0.0)
    for t in range(TENANTS):
        os.makedirs(f"{DIR}/data/t{t:04}", exist_ok=True)
        write_csv(f"{DIR}/data/t{t:04}/current.csv", 200, rng, 0.0)
    subprocess.run([BIN, "baseline", "build", "--source", f"{DIR}/reference.csv", "--out", f"{DIR}/base.json"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(f"{DIR}/mlwatch.yaml", "w") as f:
        f.write(f"""sources:
  lake: {{ kind: file, path: "data/{{tenant}}/*.csv" }}
rule_files: ["rules.yaml"]
storage: {{ path: state, retention: 1h }}
route: {{ receiver: hook, group_by: [alertname, tenant], group_wait: 5s, group_interval: 30s, repeat_interval: 1h }}
receivers:
  - name: hook
    webhook: [{{ url: "http://127.0.0.1:{port}/hook", timeout: 5s }}]
""")
    with open(f"{DIR}/rules.yaml", "w") as f:
        f.write("""groups:
  - name: drift
    source: lake
    interval: 10s
    per_tenant: true
    rules:
      - alert: Drift
        check: { drift: { columns: [x, y], method: [psi] } }
        baseline: { profile: base.json }
        when: "psi > 0.5"
        annotations: { summary: "PSI {{ value | round(2) }} on {{ labels.column }} for {{ labels.tenant }}" }
  - name: volume
    source: lake
    interval: 10s
    per_tenant: true
    rules:
      - alert: NoData
        check: { drift: { columns: [x], method: [psi] } }
        baseline: { profile: base.json }
        when: "rows == 0"
""")


def sample(pid):
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    rss_kib = int(status["VmRSS"].split()[0])
    threads = int(status["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    state = sum(os.path.getsize(f"{DIR}/state/{n}") for n in os.listdir(f"{DIR}/state"))
    return rss_kib, fds, threads, state


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    setup(server.server_address[1])
    log = open(f"{DIR}/agent.log", "w")
    agent = subprocess.Popen([BIN, "--log-format", "json", "run", "--listen", "127.0.0.1:0", "--config", f"{DIR}/mlwatch.yaml"],
                             stdout=subprocess.DEVNULL, stderr=log)
    rng = random.Random(11)
    drifted = set()
    start = time.time()
    rows = []
    print("seconds,rss_kib,open_files,threads,state_bytes,notifications_ok,notifications_failed")
    next_sample, next_flip = start + 10, start + 60
    while time.time() - start < MINUTES * 60:
        now = time.time()
        if now >= next_flip:
            # Every minute: 5 tenants start drifting, the oldest 5 recover.
            for t in rng.sample(range(TENANTS), 5):
                write_csv(f"{DIR}/data/t{t:04}/current.csv", 200, rng, 3.0)
                drifted.add(t)
            for t in sorted(drifted)[:5] if len(drifted) > 20 else []:
                write_csv(f"{DIR}/data/t{t:04}/current.csv", 200, rng, 0.0)
                drifted.discard(t)
            next_flip += 60
        if now >= next_sample:
            if agent.poll() is not None:
                print(f"agent exited with {agent.returncode}", file=sys.stderr)
                sys.exit(1)
            s = (round(now - start),) + sample(agent.pid) + (received["ok"], received["failed"])
            rows.append(s)
            print(",".join(map(str, s)), flush=True)
            next_sample += SAMPLE_EVERY
        time.sleep(1)
    agent.send_signal(signal.SIGTERM)
    agent.wait(timeout=60)
    warm = [r for r in rows if r[0] >= WARM_UP]
    first, last = warm[0], warm[-1]
    peak = max(r[1] for r in warm)
    print(f"\nafter warm-up ({WARM_UP / 60:.0f} min): RSS {first[1] / 1024:.1f} -> {last[1] / 1024:.1f} MiB (peak {peak / 1024:.1f}), "
          f"open files {first[2]} -> {last[2]}, threads {first[3]} -> {last[3]}, "
          f"state {first[4] / 1e6:.2f} -> {last[4] / 1e6:.2f} MB; "
          f"notifications delivered {received['ok']}, refused by the flaky receiver {received['failed']}; exit code {agent.returncode}")
    grew = last[1] > first[1] * 1.10 + 4096 or last[2] > first[2] + 5 or last[3] > first[3] + 2
    sys.exit(1 if grew or agent.returncode != 0 else 0)


main()
