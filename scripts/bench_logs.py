#!/usr/bin/env python3
"""Serving logs for the log-source benchmark: N events over T tenants, spread
evenly over DAYS days (a fraction is fine) ending at END, in FILES files (the older ones as
rotations `api.log.K`). Seeded; about 150 bytes a line.

Usage: bench_logs.py OUT_DIR EVENTS TENANTS DAYS FILES [END]
"""
import datetime as dt
import os
import random
import sys


def main(out, events, tenants, days, files, end="2026-11-10T00:00:00Z"):
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    end = dt.datetime.fromisoformat(end.replace("Z", "+00:00"))
    start = end - dt.timedelta(days=days)
    span_ms = int(days * 86_400_000)
    per_file = events // files
    names = [f"t{t:03d}" for t in range(tenants)]
    statuses = [200] * 997 + [500, 503, 502]
    for k in range(files):
        # api.log.{files-1} is the oldest, api.log the newest.
        name = "api.log" if k == files - 1 else f"api.log.{files - 1 - k}"
        with open(os.path.join(out, name), "w") as f:
            lines = []
            for i in range(per_file):
                n = k * per_file + i
                t = start + dt.timedelta(milliseconds=n * span_ms // events)
                lat = rng.lognormvariate(4.4, 0.4)
                st = statuses[rng.randrange(1000)]
                lines.append(
                    f'{{"ts":"{t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}Z","tenant":"{names[n % tenants]}",'
                    f'"endpoint":"/recs","arm":"{"control" if n % 2 else "treatment"}","status":{st},'
                    f'"latency_ms":{lat:.1f},"items_returned":20,"fallback":false}}\n'
                )
                if len(lines) == 100_000:
                    f.write("".join(lines))
                    lines.clear()
            f.write("".join(lines))


if __name__ == "__main__":
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    a = sys.argv
    main(a[1], int(a[2]), int(a[3]), float(a[4]), int(a[5]), *a[6:])
