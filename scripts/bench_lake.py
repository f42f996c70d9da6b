"""A seeded lake for scripts/bench-engine.sh: TENANTS tenants x DAYS daily
partitions of CSV, {tenant}/dt={date}/part-0.csv, ROWS_PER_HOUR rows an hour,
with an event time and two numeric features whose means differ per tenant.
Partitions run backwards from END_DATE, so a 10-day and a 60-day lake share
their newest days."""
import datetime
import os
import random
import sys

root, tenants, days = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows_per_hour = int(sys.argv[4]) if len(sys.argv) > 4 else 10
end = datetime.date(2026, 11, 30)
for t in range(tenants):
    rng = random.Random(t)
    mean = 20 + (t % 40)
    for d in range(days):
        day = end - datetime.timedelta(days=d)
        path = os.path.join(root, f"t{t:03d}", f"dt={day}")
        if os.path.exists(os.path.join(path, "part-0.csv")):
            continue
        os.makedirs(path, exist_ok=True)
        lines = ["ts,age,sessions_7d"]
        for h in range(24):
            for i in range(rows_per_hour):
                ts = datetime.datetime(day.year, day.month, day.day, h, i * 60 // rows_per_hour)
                lines.append(f"{ts:%Y-%m-%dT%H:%M:%SZ},{rng.gauss(mean, 6):.1f},{rng.gauss(10, 3):.2f}")
        with open(os.path.join(path, "part-0.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
