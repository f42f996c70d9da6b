#!/usr/bin/env python3
"""Seeded batch outputs of a multi-tenant recommender, for the serving example
and the tests of the freshness, volume and quality rules.

Writes OUT/{tenant}/recommendations/dt={date}/part-0.csv for 2026-11-01 to
2026-11-21: one list of 10 items per active user, written by the nightly job
at 02:00 UTC. Weekends have fewer active users than weekdays (weekly
seasonality). Three incidents:

- initech's job stops: no partition after 2026-11-18 (freshness);
- globex's list count halves on Thursday 2026-11-19 (volume);
- acme's job renames `score` to `model_score` from 2026-11-20 (schema).

Usage: python3 examples/serving/batch.py OUT_DIR
"""

import datetime as dt
import os
import random
import sys

TENANTS = {"acme": 300, "globex": 240, "initech": 180}  # active users on a weekday
FIRST, LAST = dt.date(2026, 11, 1), dt.date(2026, 11, 21)


def users_on(tenant: str, day: dt.date) -> int:
    n = TENANTS[tenant]
    if day.weekday() >= 5:
        n = n * 2 // 5  # weekends: 40 % of a weekday
    if tenant == "globex" and day == dt.date(2026, 11, 19):
        n //= 2
    return n


def main(out: str) -> None:
    rng = random.Random(20261101)
    day = FIRST
    while day <= LAST:
        for tenant in TENANTS:
            if tenant == "initech" and day > dt.date(2026, 11, 18):
                continue
            score = "model_score" if tenant == "acme" and day >= dt.date(2026, 11, 20) else "score"
            folder = os.path.join(out, tenant, "recommendations", f"dt={day.isoformat()}")
            os.makedirs(folder, exist_ok=True)
            lines = [f"ts,user_id,rank,item_id,{score}"]
            written = dt.datetime.combine(day, dt.time(2, 0))
            for u in range(users_on(tenant, day)):
                ts = (written + dt.timedelta(seconds=u)).strftime("%Y-%m-%dT%H:%M:%SZ")
                for rank in range(1, 11):
                    item = rng.randrange(5000)
                    lines.append(f"{ts},u{u},{rank},i{item},{rng.random():.4f}")
            with open(os.path.join(folder, "part-0.csv"), "w") as f:
                f.write("\n".join(lines) + "\n")
        day += dt.timedelta(days=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
