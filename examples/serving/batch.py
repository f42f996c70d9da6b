#!/usr/bin/env python3
"""Seeded batch outputs of a multi-tenant recommender, for the serving example
and the tests of the freshness, volume and quality rules.

Writes OUT/{tenant}/recommendations/dt={date}/part-0.csv for 2026-11-01 to
2026-11-21: one list of 10 items per active user, written by the nightly job
at 02:00 UTC. Weekends have fewer active users than weekdays (weekly
seasonality). Items are drawn from 200, the first ones most often; each
row names the model version that scored it. Four incidents:

- globex releases model v2 on 2026-11-16: its scores sit higher and it
  recommends other items (prediction drift, model version change);
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
RELEASE = dt.date(2026, 11, 16)  # globex's model v2


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
            v2 = tenant == "globex" and day >= RELEASE
            lines = [f"ts,user_id,rank,item_id,{score},model_version"]
            written = dt.datetime.combine(day, dt.time(2, 0))
            for u in range(users_on(tenant, day)):
                ts = (written + dt.timedelta(seconds=u)).strftime("%Y-%m-%dT%H:%M:%SZ")
                for rank in range(1, 11):
                    item = int(200 * rng.random() ** 1.5)  # item 0 is the most popular
                    s = rng.random()
                    if v2:
                        item, s = item + 150, s ** 0.5  # v2 favours newer items, scores higher
                    lines.append(f"{ts},u{u},{rank},i{item},{s:.4f},{'v2' if v2 else 'v1'}")
            with open(os.path.join(folder, "part-0.csv"), "w") as f:
                f.write("\n".join(lines) + "\n")
        day += dt.timedelta(days=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
