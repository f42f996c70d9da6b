"""Helpers shared by the agent benchmarks (bench_agent.py, bench_page.py,
bench_scale.py): ports, HTTP on one keep-alive connection, /proc readings."""

import http.client
import os
import socket
import statistics
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", path)
    body = c.getresponse().read()
    c.close()
    return body


def timed(port, path, rounds):
    """(median ms, p99 ms, body bytes) of `rounds` GETs over one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies, size = [], 0
    for _ in range(rounds):
        t = time.perf_counter()
        conn.request("GET", path)
        size = len(conn.getresponse().read())
        latencies.append((time.perf_counter() - t) * 1000)
    conn.close()
    latencies.sort()
    return statistics.median(latencies), latencies[max(0, int(rounds * 0.99) - 1)], size


def proc_stat(pid):
    """(cpu seconds, resident MiB) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    with open(f"/proc/{pid}/status") as f:
        rss_kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return ticks / os.sysconf("SC_CLK_TCK"), rss_kb / 1024
