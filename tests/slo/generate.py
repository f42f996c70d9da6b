#!/usr/bin/env python3
"""Seeded synthetic serving logs for the SLO tests, plus an independent
reference computation of burn rates and page/ticket intervals.

    python3 tests/slo/generate.py OUT_DIR                   # writes OUT_DIR/api.log
    python3 tests/slo/generate.py OUT_DIR --write-expected  # also tests/slo/expected.json

Standard library only; the output is byte-identical across runs.
"""
import json
import math
import random
import sys
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

SEED = 20261102
START = datetime(2026, 11, 2, tzinfo=timezone.utc)  # a Monday
MINUTES = 5 * 24 * 60                               # log covers [START, START + 5 days)
TENANTS = ["acme", "globex", "initech", "newco"]    # sorted: also the tie-break order


def minute_of(at):
    """Minute index since START of a (day, hour, minute) in November 2026."""
    day, hour, minute = at
    return int((datetime(2026, 11, day, hour, minute, tzinfo=timezone.utc) - START).total_seconds()) // 60


ACME_INCIDENT = (minute_of((5, 14, 0)), minute_of((5, 16, 0)))
GLOBEX_DAY = (minute_of((4, 0, 0)), minute_of((5, 0, 0)))
# 3 errors per block of 250 requests = 1.2 %. 28800 requests a day is 115.2 blocks,
# so the whole day has 346 errors (1.2014 %): no placement can make it exact.
GLOBEX_ERROR_SLOTS = {41, 124, 208}
INITECH_NIGHT = (minute_of((5, 3, 0)), minute_of((5, 3, 3)))
NEWCO_START = minute_of((6, 12, 0))
BASE_ERROR_P = 0.001


def plan(tenant, m):
    """How tenant behaves in minute m: (requests, error rule, latency factor).

    The error rule is either a probability (seeded Bernoulli draw) or a function
    of the request's index within the scenario (deterministic errors, so the
    reference ratios are exact rather than merely likely)."""
    hour = (m // 60) % 24
    if tenant == "acme":
        if ACME_INCIDENT[0] <= m < ACME_INCIDENT[1]:
            return 20, 0.08, 4.0
        return 20, BASE_ERROR_P, 1.0
    if tenant == "globex":
        if GLOBEX_DAY[0] <= m < GLOBEX_DAY[1]:
            first = (m - GLOBEX_DAY[0]) * 20      # index of this minute's first request that day
            return 20, lambda i: (first + i) % 250 in GLOBEX_ERROR_SLOTS, 1.0
        return 20, BASE_ERROR_P, 1.0
    if tenant == "initech":
        if INITECH_NIGHT[0] <= m < INITECH_NIGHT[1]:
            first = (m - INITECH_NIGHT[0]) * 4    # 12 night requests, the first 5 fail
            return 4, lambda i: first + i < 5, 1.0
        if 8 <= hour < 20:
            return 5, BASE_ERROR_P, 1.0
        return 0, None, 1.0
    if tenant == "newco":
        if m < NEWCO_START:
            return 0, None, 1.0
        return 10, lambda i: m == NEWCO_START and i == 0, 1.0
    raise ValueError(tenant)


def generate(rng):
    """All events as (ms since START, tenant, arm, is_error, latency_ms), sorted by (ts, tenant)."""
    events = []
    counter = {t: 0 for t in TENANTS}  # per-tenant request counter: even = control
    for m in range(MINUTES):
        for tenant in TENANTS:
            n, error_rule, slow = plan(tenant, m)
            step = 60_000 / max(n, 1)
            for i in range(n):
                # Centre of slot i plus at most a quarter slot of jitter: stays
                # strictly inside the minute and keeps the tenant's order.
                offset = int((i + 0.5) * step + rng.uniform(-0.25, 0.25) * step)
                if tenant == "newco" and m == NEWCO_START and i == 0:
                    offset = 500  # the spec'd first request: 12:00:00.500Z
                if callable(error_rule):
                    is_error = error_rule(i)
                else:
                    is_error = rng.random() < error_rule
                latency = round(math.exp(rng.gauss(math.log(80), 0.4)) * slow, 1)
                arm = "control" if counter[tenant] % 2 == 0 else "treatment"
                counter[tenant] += 1
                events.append((m * 60_000 + offset, tenant, arm, is_error, latency))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def ts_text(ms):
    t = START + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def minute_text(m):
    return (START + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_log(events, path):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ms, tenant, arm, is_error, latency in events:
            line = {
                "ts": ts_text(ms), "tenant": tenant, "endpoint": "/recs", "arm": arm,
                "status": 503 if is_error else 200, "latency_ms": latency,
                "items_returned": 0 if is_error else 20, "fallback": is_error,
            }
            f.write(json.dumps(line) + "\n")


# ---------------------------------------------------------------- reference

SLOS = {  # name: (objective %, error budget, is the event good?)
    "availability": (99.7, "0.003", lambda e: not e[3]),   # status < 500
    "latency": (99.0, "0.01", lambda e: e[4] < 250),
}
WINDOWS = {"5m": 5, "30m": 30, "1h": 60, "2h": 120, "6h": 360, "1d": 1440, "3d": 4320, "30d": 43200}
PAIRS = {  # kind: [(long, short, factor)]
    "page": [("1h", "5m", "14.4"), ("6h", "30m", "6")],
    "ticket": [("1d", "2h", "3"), ("3d", "6h", "1")],
}
MIN_LONG_VALID = 100


def prefix_sums(events, tenant, is_good):
    """cum_valid[k], cum_good[k] = events of tenant in minutes [0, k). Windows end
    on a minute, so per-minute counts give exact [now - w, now) windows."""
    valid, good = [0] * MINUTES, [0] * MINUTES
    for e in events:
        if e[1] == tenant:
            valid[e[0] // 60_000] += 1
            good[e[0] // 60_000] += is_good(e)
    cum_valid, cum_good = [0], [0]
    for v, g in zip(valid, good):
        cum_valid.append(cum_valid[-1] + v)
        cum_good.append(cum_good[-1] + g)
    return cum_valid, cum_good


def evaluate(cum_valid, cum_good, first_minute, budget_text, now):
    """Everything the reference knows about one (SLO, tenant) at minute `now`."""
    budget = float(budget_text)
    windows, complete, bad = {}, {}, {}
    for name, length in WINDOWS.items():
        lo = max(0, now - length)
        v = cum_valid[now] - cum_valid[lo]
        g = cum_good[now] - cum_good[lo]
        burn = (v - g) / v / budget if v else 0.0
        windows[name] = {"valid": v, "good": g, "burn_rate": burn}
        complete[name] = first_minute is not None and now - length >= first_minute
        bad[name] = (v - g, v)
    fires, ties = {}, []
    for kind, pairs in PAIRS.items():
        fires[kind] = False
        for long, short, factor in pairs:
            if not complete[long] or windows[long]["valid"] < MIN_LONG_VALID:
                continue
            # Decide with exact fractions: bad/valid > factor * budget.
            limit = Fraction(factor) * Fraction(budget_text)
            above, at_least = [], []
            for w in (long, short):
                b, v = bad[w]
                above.append(v > 0 and Fraction(b, v) > limit)
                at_least.append(v > 0 and Fraction(b, v) >= limit)
            fires[kind] |= all(above)
            # A window exactly at the limit decides the outcome only if the
            # pair would fire with it; rounding in the budget could flip that.
            if all(at_least) and not all(above):
                ties.append((long, short, factor))
    v, g = windows["30d"]["valid"], windows["30d"]["good"]
    remaining = 1 - (v - g) / v / budget if v else 1.0
    return windows, complete, remaining, fires, ties


def intervals(holds):
    """Maximal runs of True over evaluation minutes 0..MINUTES as start/end texts."""
    out, start = [], None
    for now, h in enumerate(holds):
        if h and start is None:
            start = now
        elif not h and start is not None:
            out.append({"start": minute_text(start), "end": minute_text(now)})
            start = None
    if start is not None:
        out.append({"start": minute_text(start), "end": None})
    return out


POINTS = [  # (slo, tenant, (day, hour, minute))
    *[(slo, "acme", at) for slo in ("availability", "latency")
      for at in ((5, 14, 20), (5, 14, 40), (5, 16, 10), (6, 0, 0))],
    *[("availability", "globex", at) for at in ((4, 12, 0), (5, 0, 0), (5, 3, 0))],
    *[("availability", "initech", at) for at in ((5, 3, 3), (5, 3, 5))],
    *[("availability", "newco", at) for at in ((6, 12, 1), (6, 13, 30))],
]


def reference(events):
    result = {"intervals": {}, "points": []}
    point_at = {(s, t, minute_of(at)) for s, t, at in POINTS}
    points, all_ties = {}, []
    for slo, (objective, budget_text, is_good) in SLOS.items():
        result["intervals"][slo] = {}
        for tenant in TENANTS:
            cum_valid, cum_good = prefix_sums(events, tenant, is_good)
            first = next((e[0] // 60_000 for e in events if e[1] == tenant), None)  # F floored
            holds = {"page": [], "ticket": []}
            for now in range(MINUTES + 1):  # evaluations 11-02T00:00 .. 11-07T00:00 inclusive
                windows, complete, remaining, fires, ties = evaluate(
                    cum_valid, cum_good, first, budget_text, now)
                all_ties += [(slo, tenant, minute_text(now), t) for t in ties]
                for kind in holds:
                    holds[kind].append(fires[kind])
                if (slo, tenant, now) in point_at:
                    points[(slo, tenant, now)] = {
                        "slo": slo, "tenant": tenant, "at": minute_text(now),
                        "windows": windows, "complete": complete,
                        "error_budget_remaining": remaining,
                        "page": fires["page"], "ticket": fires["ticket"]}
            result["intervals"][slo][tenant] = {k: intervals(h) for k, h in holds.items()}
    result["points"] = [points[(s, t, minute_of(at))] for s, t, at in POINTS]
    return result, all_ties


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    out_dir = Path(args[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    events = generate(random.Random(SEED))
    write_log(events, out_dir / "api.log")
    if "--write-expected" not in argv:
        return
    ref, ties = reference(events)
    expected = {
        "generated_by": "tests/slo/generate.py",
        "seed": SEED,
        "lines": len(events),
        "per_tenant_lines": {t: sum(e[1] == t for e in events) for t in TENANTS},
        "slos": {slo: {"objective": spec[0]} for slo, spec in SLOS.items()},
        **ref,
    }
    path = Path(__file__).resolve().parent / "expected.json"
    path.write_text(json.dumps(expected, indent=2) + "\n", encoding="utf-8")
    for slo, by_tenant in ref["intervals"].items():
        for tenant, kinds in by_tenant.items():
            for kind, runs in kinds.items():
                text = ", ".join(f"{r['start']} -> {r['end']}" for r in runs) or "never"
                print(f"{slo:12} {tenant:8} {kind:6} {text}")
    # Should be 0: otherwise the expected result depends on float rounding.
    print(f"decisive exact ties: {len(ties)}", *ties[:10], sep="\n  ")


if __name__ == "__main__":
    main(sys.argv[1:])
