#!/usr/bin/env python3
"""Seeded data of a multi-tenant recommender running an A/B test, with three
quality incidents, for replaying the recommendation-quality and experiment
rules with `mlwatch backtest`.

Writes, for the tenants acme, globex, initech and umbrella:

- OUT/lake/{tenant}/catalog/items.csv (item_id,category,popularity):
  2,000 items in 20 categories; popularity is the number of training users
  who interacted with the item (Zipf-like: a few in the thousands, a long
  tail in single digits, some 0).
- OUT/lake/{tenant}/lists/dt={date}/part-0.csv (ts,user_id,rank,item_id,arm):
  the nightly batch job's lists, 2026-11-09 (a Monday) to 2026-11-15, written
  at 02:00 UTC (ts = Unix ms of that time, same for every row): 10 items for
  each of 1,500 users. A user's arm (control/treatment, declared 50/50) is a
  hash of the user id. Healthy lists are personalised (a few preferred
  categories per user, mild popularity weighting) and keep about 6 of the
  previous day's 10 items.
- OUT/logs/api.log: JSON lines of the `recommend` endpoint, all tenants,
  sorted by ts (Unix ms), 2026-11-13T00:00Z to 2026-11-16T00:00Z: about 8,000
  impressions per tenant and day with a daily cycle, each followed a few
  seconds later by a click with probability 0.10.

Incidents (everything else is healthy; umbrella is healthy throughout):

- globex, popularity collapse: the lists of 2026-11-13 on (written
  2026-11-13T02:00Z) give everyone 10 of the 30 most popular items, so
  catalog coverage falls from over 0.5 to 0.015 and exposure Gini jumps.
- initech, broken split: from 2026-11-14T00:00Z, impressions go 45 % to
  control and 55 % to treatment instead of 50/50 (clicks stay at 10 %).
- acme, CTR drop in one arm: from 2026-11-14T12:00Z, treatment impressions
  are clicked with probability 0.06 instead of 0.10; control stays at 0.10.

Usage: python3 examples/recsys/quality.py OUT_DIR
       (e.g. examples/recsys/data/quality)

Standard library only; the output is byte-identical across runs.
"""

import bisect
import datetime as dt
import hashlib
import json
import math
import os
import random
import sys

SEED = 20261109
TENANTS = ["acme", "globex", "initech", "umbrella"]  # sorted: also the log's tie-break order
ARMS = ["control", "treatment"]
EXPERIMENT = "ranker-v2"                 # salt of the user -> arm hash

FIRST_DAY, LAST_DAY = dt.date(2026, 11, 9), dt.date(2026, 11, 15)
LIST_HOUR = 2                            # the batch job writes at 02:00 UTC
LOG_FROM = dt.datetime(2026, 11, 13, tzinfo=dt.timezone.utc)
LOG_TO = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)

ITEMS, CATEGORIES, USERS, K = 2000, 20, 1500, 10
TOP_POPULARITY, ZIPF_S = 5000, 1.1       # most popular item ~5,000 users; rank 2,000 ~1
PREFERRED = 3                            # categories per user
POPULARITY_ALPHA = 0.5                   # item weight (popularity + 1) ** alpha: mild
KEEP_P = 0.6                             # each of yesterday's items stays with this probability

IMPRESSIONS_PER_DAY = 8000               # per tenant
BUCKET_MS = 10 * 60_000                  # traffic is planned per 10 minutes ...
MIN_PER_BUCKET = 5                       # ... and never drops to zero in one
PEAK_HOUR, DAILY_SWING = 15, 0.6         # rate 1 +- 0.6: busiest 15:00, quietest 03:00 UTC
CLICK_DELAY_MS = (1_000, 10_000)
CTR = 0.10

# Incidents.
GLOBEX_COLLAPSE_DAY = dt.date(2026, 11, 13)  # first collapsed list
COLLAPSE_TOP = 30
INITECH_SPLIT_FROM = dt.datetime(2026, 11, 14, 0, 0, tzinfo=dt.timezone.utc)
INITECH_CONTROL_SHARE = 0.45
ACME_CTR_FROM = dt.datetime(2026, 11, 14, 12, 0, tzinfo=dt.timezone.utc)
ACME_TREATMENT_CTR = 0.06


def ms(t: dt.datetime) -> int:
    return int(t.timestamp()) * 1000


def tenant_rng(tenant: str) -> random.Random:
    """One generator per tenant, seeded from SEED and the name through SHA-256
    (not hash(), which Python salts per process)."""
    digest = hashlib.sha256(f"{SEED}/{tenant}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def arm_of(user: str) -> str:
    digest = hashlib.sha256(f"{EXPERIMENT}/{user}".encode()).digest()
    return ARMS[digest[0] & 1]


def write_csv(path: str, header: str, rows: list) -> int:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # newline="\n": the same bytes on Windows.
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(header + "\n")
        f.writelines(",".join(map(str, row)) + "\n" for row in rows)
    return len(rows) + 1


# ---------------------------------------------------------------- catalog

class Catalog:
    def __init__(self, rng: random.Random):
        self.ids = [f"i{n:05d}" for n in range(1, ITEMS + 1)]
        self.category = [rng.randrange(CATEGORIES) for _ in self.ids]
        # Which item is how popular is random; the shape is Zipf with
        # log-normal noise, which rounds part of the tail down to 0.
        ranks = list(range(ITEMS))
        rng.shuffle(ranks)
        self.popularity = [
            int(TOP_POPULARITY / (r + 1) ** ZIPF_S * math.exp(rng.gauss(0, 0.5))) for r in ranks]
        # Per category: its items and cumulative weights, for bisect draws.
        self.members = [[] for _ in range(CATEGORIES)]
        self.cum_weights = [[] for _ in range(CATEGORIES)]
        for i, c in enumerate(self.category):
            total = self.cum_weights[c][-1] if self.cum_weights[c] else 0.0
            self.members[c].append(i)
            self.cum_weights[c].append(total + (self.popularity[i] + 1) ** POPULARITY_ALPHA)
        # Ties (equal popularity) go to the lower item id, so the top is well defined.
        self.top = sorted(range(ITEMS), key=lambda i: (-self.popularity[i], i))[:COLLAPSE_TOP]

    def draw(self, rng: random.Random, category: int) -> int:
        cw = self.cum_weights[category]
        return self.members[category][bisect.bisect_right(cw, rng.random() * cw[-1])]

    def rows(self):
        return [(self.ids[i], f"c{self.category[i] + 1:02d}", self.popularity[i]) for i in range(ITEMS)]


# ---------------------------------------------------------------- lists

def personalised(rng, catalog, preferred, previous):
    """Keep each of yesterday's items with KEEP_P, fill up with new items from
    the user's categories, then rank by a noisy, mildly popularity-led score."""
    kept = [i for i in previous if rng.random() < KEEP_P]
    chosen, seen = set(kept), set(previous)  # new items are new: overlap = kept
    items = list(kept)
    while len(items) < K:
        i = catalog.draw(rng, rng.choices(preferred[0], weights=preferred[1])[0])
        if i not in seen and i not in chosen:
            chosen.add(i)
            items.append(i)
    score = {i: 0.3 * math.log1p(catalog.popularity[i]) + rng.gauss(0, 1) for i in items}
    return sorted(items, key=lambda i: (-score[i], i))


def collapsed(rng, catalog):
    """10 of the top 30 (the more popular, the likelier), in popularity order
    with a little noise: what a ranker stuck on popularity serves everyone."""
    # Weighted sampling without replacement (Efraimidis-Spirakis keys).
    keys = {i: rng.random() ** (r + 10) for r, i in enumerate(catalog.top)}
    items = sorted(catalog.top, key=lambda i: (-keys[i], i))[:K]
    position = {i: r + rng.gauss(0, 2) for r, i in enumerate(catalog.top)}
    return sorted(items, key=lambda i: (position[i], i))


def write_lists(out, tenant, rng, catalog, users):
    preferred = []
    for _ in users:
        cats = rng.sample(range(CATEGORIES), PREFERRED)
        preferred.append((cats, [rng.uniform(1, 3) for _ in cats]))
    previous = [[] for _ in users]
    files, day = [], FIRST_DAY
    while day <= LAST_DAY:
        ts = ms(dt.datetime.combine(day, dt.time(LIST_HOUR), tzinfo=dt.timezone.utc))
        rows = []
        for u, user in enumerate(users):
            if tenant == "globex" and day >= GLOBEX_COLLAPSE_DAY:
                items = collapsed(rng, catalog)
            else:
                items = personalised(rng, catalog, preferred[u], previous[u])
            previous[u] = items
            arm = arm_of(user)
            rows += [(ts, user, rank, catalog.ids[i], arm) for rank, i in enumerate(items, 1)]
        path = os.path.join(out, "lake", tenant, "lists", f"dt={day.isoformat()}", "part-0.csv")
        files.append((path, write_csv(path, "ts,user_id,rank,item_id,arm", rows)))
        day += dt.timedelta(days=1)
    return files


# ---------------------------------------------------------------- serving log

def control_share(tenant, at):
    if tenant == "initech" and at >= ms(INITECH_SPLIT_FROM):
        return INITECH_CONTROL_SHARE
    return 0.5


def click_p(tenant, arm, at):
    if tenant == "acme" and arm == "treatment" and at >= ms(ACME_CTR_FROM):
        return ACME_TREATMENT_CTR
    return CTR


def log_events(tenant, rng, users):
    """(ts, tenant, user, arm, event) of one tenant. The arm of an impression is
    drawn with the split's share and the user among that arm's users: the
    hashed user split is only about 50/50, and drawing users uniformly would
    carry its imbalance into every healthy tenant's impressions."""
    by_arm = {arm: [u for u in users if arm_of(u) == arm] for arm in ARMS}
    per_bucket = IMPRESSIONS_PER_DAY * BUCKET_MS / 86_400_000
    events = []
    for start in range(ms(LOG_FROM), ms(LOG_TO), BUCKET_MS):
        hour = (start + BUCKET_MS / 2) % 86_400_000 / 3_600_000
        mean = per_bucket * (1 + DAILY_SWING * math.cos(2 * math.pi * (hour - PEAK_HOUR) / 24))
        n = max(MIN_PER_BUCKET, round(rng.gauss(mean, math.sqrt(mean))))
        for at in sorted(start + rng.randrange(BUCKET_MS) for _ in range(n)):
            arm = ARMS[0] if rng.random() < control_share(tenant, at) else ARMS[1]
            user = rng.choice(by_arm[arm])
            events.append((at, tenant, user, arm, "impression"))
            if rng.random() < click_p(tenant, arm, at):
                # A click right at the end would fall outside the log's span.
                click = min(at + rng.randint(*CLICK_DELAY_MS), ms(LOG_TO) - 1)
                events.append((click, tenant, user, arm, "click"))
    return events


def write_log(path, events):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for at, tenant, user, arm, event in events:
            line = {"ts": at, "tenant": tenant, "user_id": user, "arm": arm,
                    "event": event, "endpoint": "recommend"}
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    return len(events)


# ---------------------------------------------------------------- main

def main(out: str) -> None:
    users = [f"u{n:05d}" for n in range(1, USERS + 1)]
    catalogs, lists, events = [], [], []
    for tenant in TENANTS:
        # Each tenant draws catalog, lists and log from its own generator, in
        # that order, so one tenant's incident does not change another's data.
        rng = tenant_rng(tenant)
        catalog = Catalog(rng)
        path = os.path.join(out, "lake", tenant, "catalog", "items.csv")
        catalogs.append((path, write_csv(path, "item_id,category,popularity", catalog.rows())))
        lists += write_lists(out, tenant, rng, catalog, users)
        events += log_events(tenant, rng, users)
    # Stable sort on (ts, tenant): within a tenant, generation order breaks ties.
    events.sort(key=lambda e: (e[0], e[1]))
    log_path = os.path.join(out, "logs", "api.log")
    write_log(log_path, events)

    print(f"catalogs: {len(catalogs)} files, {sum(n for _, n in catalogs)} lines "
          f"(lake/{{tenant}}/catalog/items.csv)")
    print(f"lists:    {len(lists)} files, {sum(n for _, n in lists)} lines "
          f"(lake/{{tenant}}/lists/dt={FIRST_DAY}..{LAST_DAY}/part-0.csv)")
    print(f"log:      {len(events)} lines ({log_path})")
    for tenant in TENANTS:
        mine = [e for e in events if e[1] == tenant]
        clicks = sum(e[4] == "click" for e in mine)
        print(f"  {tenant:9} {len(mine) - clicks} impressions, {clicks} clicks")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
