"""Reference values for mlwatch's recommendation-list and A/B statistics.

Run from the repository root:  python3 tests/reference/recsys.py
(needs numpy, scipy and statsmodels: python3 -m pip install numpy scipy statsmodels)

It rewrites, under tests/fixtures/recsys/:
  lists.csv           current recommendation lists, one row per (user, rank, item)
  lists_previous.csv  the previous window's lists, same shape
  catalog.jsonl       the item catalog (category, popularity, optional embedding)
  feedback.csv        impressions with clicks
  expected.json       the recsys values, over all users and per arm, plus a tiny
                      hand-checkable case with its inputs inline
  ab.json             sample-ratio-mismatch chi-square and two-proportion z-tests

The data come from a seeded numpy Generator, so every run writes the same bytes.
The values are computed from the files as written (read back and parsed), not from
the generator's in-memory state, and the Rust code is never used to produce them.
Rational values (ratios, means of ratios, Gini) are computed exactly with integers
and fractions and rounded once to the nearest double; values with logarithms or
cosines use float64 with math.fsum.
"""
import csv
import io
import json
import math
import pathlib
from fractions import Fraction

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest

SEED = 20261202
K = 10
N_USERS = 3000
N_ITEMS = 800
N_CATS = 12
DIM = 8
OUT = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "recsys"


# ---------------------------------------------------------------- generation

def make_catalog(rng):
    """Items i0001.. with a Zipf-like popularity (rank r gets about 6000·r^-1.1),
    categories of unequal size, embeddings clustered by category."""
    ids = [f"i{n:04d}" for n in range(1, N_ITEMS + 1)]
    cat_p = rng.dirichlet(np.full(N_CATS, 3.0))
    cats = rng.choice(N_CATS, size=N_ITEMS, p=cat_p)
    rank = rng.permutation(N_ITEMS)  # popularity rank of each item, 0 = most popular
    pop = np.floor(6000.0 * (rank + 1.0) ** -1.1 * np.exp(rng.normal(0.0, 0.15, N_ITEMS))).astype(np.int64)
    # Some cold items nobody trained on.
    tail = np.flatnonzero(rank >= 600)
    pop[rng.choice(tail, size=25, replace=False)] = 0
    # Ties straddling the top-2% (16 items) and top-10% (80 items) cuts, so the
    # item_id tie-break decides membership.
    order = sorted(range(N_ITEMS), key=lambda i: (-pop[i], ids[i]))
    for cut in (16, 80):
        pop[order[cut]] = pop[order[cut - 1]]
        pop[order[cut + 1]] = pop[order[cut - 1]]
    centroids = rng.normal(0.0, 1.0, (N_CATS, DIM))
    emb = centroids[cats] + 0.7 * rng.normal(0.0, 1.0, (N_ITEMS, DIM))
    order = sorted(range(N_ITEMS), key=lambda i: (-pop[i], ids[i]))
    no_emb = set(rng.choice(order[:30], size=3, replace=False).tolist())
    no_emb |= set(rng.choice(order[30:], size=2, replace=False).tolist())
    rows = []
    for i in range(N_ITEMS):
        row = {"item_id": ids[i], "category": f"c{cats[i] + 1:02d}", "popularity": int(pop[i])}
        if i not in no_emb:
            row["embedding"] = [round(float(v), 4) + 0.0 for v in emb[i]]
        rows.append(row)
    return rows, order


def make_lists(rng, catalog, pop_order):
    """Current lists: per user an arm, a length (1% empty, 5% of 7-9, else 10),
    items drawn without replacement from a popularity-weighted pool (treatment
    more popularity-biased), then 1% of slots replaced by unknown ids and 2% of
    lists given one duplicated item."""
    ids = [r["item_id"] for r in catalog]
    pop = np.array([r["popularity"] for r in catalog], dtype=float)
    cats = np.array([int(r["category"][1:]) - 1 for r in catalog])
    zero = [i for i in pop_order if pop[i] == 0]
    eligible = np.array(sorted(pop_order[:500] + zero[:12]))
    base = {"control": (pop[eligible] + 3.0) ** 0.7, "treatment": (pop[eligible] + 3.0) ** 1.0}
    users = [f"u{n:05d}" for n in range(1, N_USERS + 1)]
    arms, lists, pools = {}, {}, {}
    for u in users:
        arm = "treatment" if rng.random() < 0.5 else "control"
        x = rng.random()
        length = 0 if x < 0.01 else int(rng.integers(7, 10)) if x < 0.06 else K
        favourite = rng.choice(N_CATS, size=2, replace=False)
        w = base[arm] * np.where(np.isin(cats[eligible], favourite), 3.0, 1.0)
        w = w / w.sum()
        pools[u] = w
        items = [ids[i] for i in rng.choice(eligible, size=length, replace=False, p=w)]
        for j in range(length):
            if rng.random() < 0.01:
                items[j] = f"x{int(rng.integers(1, 41)):04d}"
        if length >= 2 and rng.random() < 0.02:
            a, b = rng.choice(length, size=2, replace=False)
            items[b] = items[a]
        arms[u] = arm
        lists[u] = items
    return users, arms, lists, (ids, eligible, pools)


def list_rows(rng, users, arms, lists, shuffle_share=0.1, split_share=0.02):
    """Rows in user blocks of random order; some blocks with ranks shuffled, some
    users' rows split so that part of them comes at the end of the file."""
    rows, late = [], []
    for u in (users[i] for i in rng.permutation(len(users))):
        items = lists[u]
        block = [(u, r + 1, it, arms[u]) for r, it in enumerate(items)] or [(u, 1, None, arms[u])]
        if len(block) > 1 and rng.random() < shuffle_share:
            block = [block[i] for i in rng.permutation(len(block))]
        if len(block) > 3 and rng.random() < split_share:
            late.extend(block[-3:])
            block = block[:-3]
        rows.extend(block)
    return rows + late


def make_previous(rng, users, arms, lists, pool):
    """80% of the current users plus 150 users not in lists.csv. Each list keeps
    0..min(len, distinct current items) of the current items and is filled with
    items the current list does not hold. 1% of the previous arms differ from the
    current ones (the current arm is the one that counts)."""
    ids, eligible, pools = pool
    prev_users, prev_arms, prev = [], {}, {}
    others = [f"u{n:05d}" for n in range(N_USERS + 1, N_USERS + 151)]
    for u in users + others:
        if u in lists and rng.random() >= 0.8:
            continue
        cur = list(dict.fromkeys(lists.get(u, [])))
        x = rng.random()
        length = 0 if x < 0.01 else int(rng.integers(8, 10)) if x < 0.1 else K
        keep_n = int(rng.integers(0, min(length, len(cur)) + 1))
        kept = [cur[i] for i in sorted(rng.choice(len(cur), size=keep_n, replace=False))] if keep_n else []
        w = pools[u] if u in pools else np.full(len(eligible), 1.0 / len(eligible))
        fill = []
        while len(fill) < length - keep_n:
            it = ids[int(rng.choice(eligible, p=w))]
            if rng.random() < 0.01:
                it = f"x{int(rng.integers(41, 51)):04d}"
            if it not in cur and it not in fill:
                fill.append(it)
        items = kept + fill
        items = [items[i] for i in rng.permutation(len(items))]
        arm = arms.get(u) or ("treatment" if rng.random() < 0.5 else "control")
        if u in arms and rng.random() < 0.01:
            arm = "control" if arm == "treatment" else "treatment"
        prev_users.append(u)
        prev_arms[u] = arm
        prev[u] = items
    return prev_users, prev_arms, prev


def make_feedback(rng, users, arms, lists, pool):
    """One impression per slot for 70% of the list users (click probability 0.10
    control, 0.07 treatment); 1% of them also get an impression of an item not in
    their list; three empty-list users get one impression each; 30 rows for users
    absent from lists.csv."""
    ids, eligible, _ = pool
    rows = []
    empty_seen = 0
    for u in users:
        items = lists[u]
        if not items:
            if empty_seen < 3:
                rows.append((u, ids[int(rng.choice(eligible))], empty_seen < 2))
                empty_seen += 1
            continue
        if rng.random() >= 0.7:
            continue
        p = 0.10 if arms[u] == "control" else 0.07
        for it in items:
            rows.append((u, it, bool(rng.random() < p)))
        if rng.random() < 0.01:
            while True:
                it = ids[int(rng.choice(eligible))]
                if it not in items:
                    break
            rows.append((u, it, bool(rng.random() < 0.5)))
    strangers = [f"u{n:05d}" for n in range(N_USERS + 1, N_USERS + 21)] + [f"u{n:05d}" for n in range(9001, 9011)]
    for u in strangers:
        rows.append((u, ids[int(rng.choice(eligible))], bool(rng.random() < 0.3)))
    return rows


# ---------------------------------------------------------------- writing / reading

def csv_text(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in r])
    return buf.getvalue()


def read_lists(path):
    """user -> (arm, non-null items in rank order)."""
    raw = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            u, arm = row["user_id"], row["arm"]
            item = row["item_id"] or None
            if u in raw:
                assert raw[u][0] == arm, f"{u} has two arms"
            raw.setdefault(u, [arm, []])[1].append((int(row["rank"]), item))
    return {u: (arm, [it for _, it in sorted(rs, key=lambda t: t[0]) if it is not None])
            for u, (arm, rs) in raw.items()}


def read_feedback(path):
    with open(path, newline="") as f:
        return [(r["user_id"], r["item_id"], {"true": True, "false": False}[r["clicked"]])
                for r in csv.DictReader(f)]


def read_catalog(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- the values

def ceil_share(num, den, n):
    """ceil(num/den · n) in integers, e.g. ceil(0.02·N) = ceil_share(2, 100, N)."""
    return -((-num * n) // den)


def recsys_values(cur, prev, catalog, feedback, k, training_users=None):
    """cur, prev: user -> list of non-null items; catalog: rows; feedback: rows
    (user, item, clicked). Returns the defined values, leaving out undefined ones."""
    out = {}
    cat = {r["item_id"]: r for r in catalog}
    n_cat = len(cat)
    lists = list(cur.values())
    n_lists = len(lists)
    slots = sum(len(v) for v in lists)
    out["lists"] = n_lists
    if n_lists:
        out["list_length_mean"] = float(Fraction(slots, n_lists))
        out["short_list_ratio"] = float(Fraction(sum(len(v) < k for v in lists), n_lists))
        out["empty_list_ratio"] = float(Fraction(sum(len(v) == 0 for v in lists), n_lists))
    if slots:
        out["duplicate_item_ratio"] = float(Fraction(slots - sum(len(set(v)) for v in lists), slots))
    recommended = {}
    for v in lists:
        for it in v:
            recommended[it] = recommended.get(it, 0) + 1
    out["distinct_items"] = len(recommended)
    out["catalog_items"] = n_cat
    if n_cat:
        out["coverage"] = float(Fraction(sum(it in cat for it in recommended), n_cat))
    if slots:
        out["unknown_item_ratio"] = float(Fraction(sum(c for it, c in recommended.items() if it not in cat), slots))
    # Gini over the whole catalog, never-recommended items at 0.
    x = sorted(recommended.get(it, 0) for it in cat)
    if n_cat and sum(x):
        num = sum((2 * i - n_cat - 1) * xi for i, xi in enumerate(x, start=1))
        out["gini"] = float(Fraction(num, n_cat * sum(x)))
    # Evidently's convention, over the recommended items only.
    y = sorted(recommended.values())
    n = len(y)
    if n >= 2:
        num = sum((2 * j - n - 1) * yj for j, yj in enumerate(y, start=1))
        out["gini_recommended"] = float(Fraction(num, (n - 1) * sum(y)))
    # Per-list values over catalog slots.
    with_cat = [[cat[it] for it in v if it in cat] for v in lists]
    with_cat = [c for c in with_cat if c]
    if with_cat:
        out["arp"] = float(sum(Fraction(sum(r["popularity"] for r in c), len(c)) for c in with_cat) / len(with_cat))
    order = sorted(cat, key=lambda it: (-cat[it]["popularity"], it))
    if slots:
        for name, pct in (("top2_share", 2), ("top10_share", 10)):
            top = set(order[:ceil_share(pct, 100, n_cat)])
            out[name] = float(Fraction(sum(c for it, c in recommended.items() if it in top), slots))
    u_count = training_users if training_users is not None else n_lists
    if with_cat and u_count:
        def self_info(r):
            return -math.log2(min(1.0, max(r["popularity"], 1) / u_count))
        per = [math.fsum(self_info(r) for r in c) / len(c) for c in with_cat]
        out["novelty"] = math.fsum(per) / len(per)
    if with_cat:
        out["category_diversity"] = float(
            sum(Fraction(len({r["category"] for r in c}), len(c)) for c in with_cat) / len(with_cat))
        ent = []
        for c in with_cat:
            counts = {}
            for r in c:
                counts[r["category"]] = counts.get(r["category"], 0) + 1
            ent.append(-math.fsum((m / len(c)) * math.log2(m / len(c)) for m in counts.values()))
        out["category_entropy"] = math.fsum(ent) / len(ent)
    # Embedding diversity: mean pairwise cosine distance, duplicates included.
    div = []
    for v in lists:
        e = [cat[it]["embedding"] for it in v if it in cat and "embedding" in cat[it]]
        m = len(e)
        if m < 2:
            continue
        a = np.asarray(e, dtype=float)
        norms = np.sqrt(np.sum(a * a, axis=1))
        assert np.all(norms > 0)
        d = [1.0 - float(np.dot(a[i], a[j]) / (norms[i] * norms[j])) for i in range(m) for j in range(i + 1, m)]
        div.append(math.fsum(d) / (m * (m - 1) / 2))
    if div:
        out["embedding_diversity"] = math.fsum(div) / len(div)
    # Personalization over all pairs of non-empty lists.
    sets = [set(v) for v in lists if v]
    if len(sets) >= 2:
        out["personalization"] = 1.0 - float(Fraction(pair_overlap_sum(sets), k * len(sets) * (len(sets) - 1) // 2))
    # Stability against the previous window.
    both = [u for u in cur if cur[u] and prev.get(u)]
    out["stability_users"] = len(both)
    if both:
        out["stability"] = float(Fraction(sum(len(set(cur[u]) & set(prev[u])) for u in both), k * len(both)))
    # Feedback, joined to the list users.
    fb = [r for r in feedback if r[0] in cur]
    out["impressions"] = len(fb)
    out["clicks"] = sum(c for _, _, c in fb)
    if fb:
        out["ctr"] = float(Fraction(out["clicks"], len(fb)))
        seen, hit = set(), set()
        for u, it, c in fb:
            seen.add(u)
            if c and it in set(cur[u]):
                hit.add(u)
        out["hit_rate"] = float(Fraction(len(hit), len(seen)))
    return out


def pair_overlap_sum(sets):
    """Σ over unordered pairs u<v of |A_u ∩ A_v|, by a user×item 0/1 matrix product,
    checked against the item-count identity Σ_i c_i(c_i − 1)/2."""
    items = sorted(set().union(*sets))
    col = {it: j for j, it in enumerate(items)}
    m = np.zeros((len(sets), len(items)), dtype=np.float64)
    for i, s in enumerate(sets):
        m[i, [col[it] for it in s]] = 1.0
    g = m @ m.T
    by_product = int(round((float(g.sum()) - float(np.trace(g))) / 2))
    counts = m.sum(axis=0).astype(np.int64)
    by_counts = int(np.sum(counts * (counts - 1) // 2))
    assert by_product == by_counts, (by_product, by_counts)
    return by_counts


def by_arm(cur_arm, prev, feedback, arm):
    users = {u for u, (a, _) in cur_arm.items() if a == arm}
    cur = {u: v for u, (a, v) in cur_arm.items() if u in users}
    return cur, {u: v for u, v in prev.items() if u in users}, [r for r in feedback if r[0] in users]


# ---------------------------------------------------------------- the tiny case

def small_case():
    """3 users, 4 items, k = 3; the values are checked against hand-worked
    fractions below."""
    e = lambda *v: [float(a) for a in v] + [0.0] * (DIM - len(v))
    catalog = [
        {"item_id": "i1", "category": "c01", "popularity": 5, "embedding": e(1, 0)},
        {"item_id": "i2", "category": "c01", "popularity": 1, "embedding": e(0, 1)},
        {"item_id": "i3", "category": "c02", "popularity": 0, "embedding": e(1, 1)},
        {"item_id": "i4", "category": "c02", "popularity": 5},
    ]
    lists = [
        {"user_id": "u1", "rank": 1, "item_id": "i1", "arm": "control"},
        {"user_id": "u1", "rank": 2, "item_id": "i2", "arm": "control"},
        {"user_id": "u1", "rank": 3, "item_id": "i3", "arm": "control"},
        {"user_id": "u2", "rank": 1, "item_id": "i1", "arm": "treatment"},
        {"user_id": "u2", "rank": 2, "item_id": "x1", "arm": "treatment"},
        {"user_id": "u2", "rank": 3, "item_id": "i1", "arm": "treatment"},
        {"user_id": "u3", "rank": 1, "item_id": None, "arm": "control"},
    ]
    previous = [
        {"user_id": "u1", "rank": 1, "item_id": "i2", "arm": "control"},
        {"user_id": "u1", "rank": 2, "item_id": "i4", "arm": "control"},
        {"user_id": "u2", "rank": 1, "item_id": "i1", "arm": "treatment"},
        {"user_id": "u2", "rank": 2, "item_id": "x1", "arm": "treatment"},
        {"user_id": "u2", "rank": 3, "item_id": "i3", "arm": "treatment"},
        {"user_id": "u4", "rank": 1, "item_id": "i1", "arm": "control"},
    ]
    feedback = [
        {"user_id": "u1", "item_id": "i1", "clicked": False},
        {"user_id": "u1", "item_id": "i2", "clicked": True},
        {"user_id": "u1", "item_id": "i3", "clicked": False},
        {"user_id": "u2", "item_id": "i1", "clicked": False},
        {"user_id": "u2", "item_id": "x1", "clicked": False},
        {"user_id": "u2", "item_id": "i1", "clicked": False},
        {"user_id": "u3", "item_id": "i4", "clicked": True},
        {"user_id": "u9", "item_id": "i1", "clicked": True},
    ]
    k = 3
    cur_arm = {}
    for r in lists:
        cur_arm.setdefault(r["user_id"], (r["arm"], []))[1].append(r["item_id"])
    cur_arm = {u: (a, [it for it in v if it is not None]) for u, (a, v) in cur_arm.items()}
    prev = {}
    for r in previous:
        prev.setdefault(r["user_id"], []).append(r["item_id"])
    fb = [(r["user_id"], r["item_id"], r["clicked"]) for r in feedback]
    values = {"all": recsys_values({u: v for u, (_, v) in cur_arm.items()}, prev, catalog, fb, k)}
    for arm in ("control", "treatment"):
        c, pv, f = by_arm(cur_arm, prev, fb, arm)
        # Novelty's U is the tenant's users (all arms): popularity is counted over them all.
        values[arm] = recsys_values(c, pv, catalog, f, k, training_users=len(cur_arm))

    log3 = math.log2(3)
    hand = {
        "lists": 3, "list_length_mean": 2.0, "short_list_ratio": 1 / 3, "empty_list_ratio": 1 / 3,
        "duplicate_item_ratio": 1 / 6, "distinct_items": 4, "catalog_items": 4, "coverage": 0.75,
        "unknown_item_ratio": 1 / 6,
        "gini": 9 / 20,               # exposures 0,1,1,3: (-3·0 - 1·1 + 1·1 + 3·3) / (4·5)
        "gini_recommended": 1 / 3,    # 1,1,1,3: (-3 - 1 + 1 + 9) / (3·6)
        "arp": 3.5,                   # u1 (5+1+0)/3 = 2, u2 (5+5)/2 = 5
        "top2_share": 0.5, "top10_share": 0.5,  # top set {i1} (i1, i4 tie at 5; id breaks it): 3 of 6 slots
        "novelty": log3 / 3,          # U = 3: i1 p = 1 → 0; i2, i3 p = 1/3 → log2 3; u1 2·log2 3/3, u2 0
        "category_diversity": 7 / 12,  # u1 2/3, u2 1/2
        "category_entropy": (-(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3)) / 2,
        "embedding_diversity": (1 - math.sqrt(2) / 3) / 2,  # u1 (1 + 2(1 - 1/√2))/3, u2 (i1, i1) 0
        "personalization": 2 / 3,     # one pair, overlap {i1}: 1 - 1/3
        "stability_users": 2, "stability": 0.5,  # u1 {i2} → 1/3, u2 {i1, x1} → 2/3; u3 empty
        "impressions": 7, "clicks": 2, "ctr": 2 / 7,  # u9 has no list; u3's empty list counts
        "hit_rate": 1 / 3,            # u1 hit, u2 no click, u3 clicked i4 which is not in its list
    }
    assert set(hand) == set(values["all"]), set(hand) ^ set(values["all"])
    for name, want in hand.items():
        assert math.isclose(values["all"][name], want, rel_tol=1e-14, abs_tol=1e-15), (name, values["all"][name], want)
    assert "personalization" not in values["treatment"] and "stability" in values["treatment"]
    return {"k": k, "training_users": None,
            "inputs": {"lists": lists, "previous": previous, "catalog": catalog, "feedback": feedback},
            "values": values}


# ---------------------------------------------------------------- A/B tests

def srm_case(observed, split):
    total = sum(observed)
    expected = [total * w / sum(split) for w in split]
    r = stats.chisquare(observed, f_exp=expected)
    return {"observed": observed, "split": split, "expected": expected,
            "chi2": float(r.statistic), "p_value": float(r.pvalue), "dof": len(observed) - 1}


def ztest_case(name, arm, control):
    sa, na = arm
    sc, nc = control
    pa, pc = sa / na, sc / nc
    pooled = (sa + sc) / (na + nc)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nc))
    z = (pa - pc) / se_pooled
    p_worse = float(stats.norm.cdf(z))
    sm_z, sm_p = proportions_ztest(count=[sa, sc], nobs=[na, nc], alternative="smaller")
    assert abs(float(sm_z) - z) <= 1e-12 and abs(float(sm_p) - p_worse) <= 1e-12, (name, sm_z, z, sm_p, p_worse)
    q = float(stats.norm.ppf(0.975))
    assert abs(q - 1.959963984540054) < 1e-15
    se = math.sqrt(pa * (1 - pa) / na + pc * (1 - pc) / nc)
    diff = pa - pc
    return {"name": name, "arm": [sa, na], "control": [sc, nc], "z": z, "p_worse": p_worse,
            "p_two_sided": float(2 * stats.norm.sf(abs(z))), "diff": diff,
            "ci95_low": diff - q * se, "ci95_high": diff + q * se, "lift": pa / pc - 1}


def ab_reference():
    srm = [srm_case(*c) for c in [
        ([5000, 5000], [50, 50]),
        ([5250, 4750], [50, 50]),
        ([9000, 1000], [90, 10]),
        ([4500, 5500], [50, 50]),
        ([3400, 3300, 3150], [34, 33, 33]),
        ([5100, 4900], [50, 50]),
        ([6000, 4000], [50, 50]),
    ]]
    assert srm[-1]["p_value"] < 1e-12
    ztest = [
        ztest_case("worse_ctr", [700, 10000], [1000, 10000]),
        ztest_case("slightly_better", [1010, 10000], [1000, 10000]),
        ztest_case("small_n_close", [95, 1000], [100, 1000]),
        ztest_case("tiny_n", [2, 50], [9, 60]),
        ztest_case("unequal_n", [130, 1500], [1000, 10000]),
        ztest_case("unequal_n_better", [2400, 20000], [110, 1000]),
    ]
    return {"generator": "tests/reference/recsys.py", "scipy": __import__("scipy").__version__,
            "statsmodels": __import__("statsmodels").__version__, "srm": srm, "ztest": ztest}


# ---------------------------------------------------------------- main

def main():
    rng = np.random.default_rng(SEED)
    OUT.mkdir(parents=True, exist_ok=True)
    catalog, pop_order = make_catalog(rng)
    users, arms, lists, pool = make_lists(rng, catalog, pop_order)
    rows = list_rows(rng, users, arms, lists)
    prev_users, prev_arms, prev = make_previous(rng, users, arms, lists, pool)
    prev_rows = list_rows(rng, prev_users, prev_arms, prev)
    feedback = make_feedback(rng, users, arms, lists, pool)

    header = ["user_id", "rank", "item_id", "arm"]
    (OUT / "lists.csv").write_text(csv_text(header, rows))
    (OUT / "lists_previous.csv").write_text(csv_text(header, prev_rows))
    (OUT / "catalog.jsonl").write_text("".join(json.dumps(r) + "\n" for r in catalog))
    (OUT / "feedback.csv").write_text(csv_text(["user_id", "item_id", "clicked"], feedback))

    # Read back what was written and compute from that alone.
    cur_arm = read_lists(OUT / "lists.csv")
    prev_read = {u: v for u, (_, v) in read_lists(OUT / "lists_previous.csv").items()}
    cat = read_catalog(OUT / "catalog.jsonl")
    fb = read_feedback(OUT / "feedback.csv")
    assert {u: v for u, (_, v) in cur_arm.items()} == lists

    values = {"all": recsys_values({u: v for u, (_, v) in cur_arm.items()}, prev_read, cat, fb, K)}
    for arm in ("control", "treatment"):
        cur, prv, f = by_arm(cur_arm, prev_read, fb, arm)
        values[arm] = recsys_values(cur, prv, cat, f, K, training_users=len(cur_arm))
    expected = {"generator": "tests/reference/recsys.py", "numpy": np.__version__, "seed": SEED, "k": K, "training_users": None,
                "values": values, "small": small_case()}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    (OUT / "ab.json").write_text(json.dumps(ab_reference(), indent=1) + "\n")
    for name in ("lists.csv", "lists_previous.csv", "catalog.jsonl", "feedback.csv", "expected.json", "ab.json"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
