"""Reference values for mlwatch's statistics, computed with numpy and scipy.

Run from the repository root:  python3 tests/reference/generate.py
It rewrites tests/reference/drift.json, which tests/stats.rs checks against.
The Rust code is never used to produce these numbers.
"""
import json
import math
import pathlib

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

EPS = 1e-4  # the PSI empty-bin floor, as documented


def psi_quantile(ref, cur, bins=10):
    ref_sorted = np.sort(ref)
    edges = np.unique(np.quantile(ref_sorted, [i / bins for i in range(1, bins)]))
    # Right-closed bins with open outer edges: bin = number of edges < x.
    rc = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    p = np.maximum(rc / rc.sum(), EPS)
    q = np.maximum(cc / cc.sum(), EPS)
    return edges.tolist(), rc.tolist(), cc.tolist(), float(np.sum((q - p) * np.log(q / p)))


def lattice(n, a, b, p, scale, shift, sqrt):
    """Deterministic pseudo-samples that Rust reproduces bit for bit: integer
    arithmetic, then one division, an optional square root and one affine step,
    all correctly rounded in IEEE 754."""
    out = []
    for i in range(n):
        u = ((i * a + b) % p) / p
        if sqrt:
            u = math.sqrt(u)
        out.append(u * scale + shift)
    return out


def ks_case(name, ref_spec, cur_spec):
    ref = np.asarray(lattice(**ref_spec))
    cur = np.asarray(lattice(**cur_spec))
    r = stats.ks_2samp(ref, cur, method="auto")
    return {"name": name, "reference": ref_spec, "current": cur_spec,
            "statistic": float(r.statistic), "p_value": float(r.pvalue)}


def categorical_case(name, ref_counts, cur_counts):
    """Chi-square, PSI and JS over categories, with the documented rule for
    categories the baseline never had: one pooled cell whose expected
    proportion is EPS, expected proportions renormalised."""
    cats = sorted(ref_counts)
    ref = [ref_counts[c] for c in cats]
    obs = [cur_counts.get(c, 0) for c in cats]
    unseen = sum(v for k, v in cur_counts.items() if k not in ref_counts)
    props = [r / sum(ref) for r in ref]
    cells_obs = list(obs)
    if unseen:
        props.append(EPS)
        cells_obs.append(unseen)
    props = np.asarray(props) / np.sum(props)
    n = sum(cells_obs)
    chi = stats.chisquare(cells_obs, f_exp=props * n)
    # PSI and JS over the aligned cells, with an unseen cell that the baseline has 0 of.
    r_cells = np.asarray(ref + [0], dtype=float)
    c_cells = np.asarray(obs + [unseen], dtype=float)
    p = np.maximum(r_cells / r_cells.sum(), EPS)
    q = np.maximum(c_cells / c_cells.sum(), EPS)
    return {
        "name": name, "reference": ref, "observed": obs, "unseen": unseen,
        "chi2_statistic": float(chi.statistic), "chi2_pvalue": float(chi.pvalue), "chi2_dof": len(cells_obs) - 1,
        "psi": float(np.sum((q - p) * np.log(q / p))),
        "js_distance": float(jensenshannon(r_cells, c_cells, base=2)),
    }


def case(name, ref, cur):
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    edges, rc, cc, psi = psi_quantile(ref, cur)
    uedges = np.unique(np.linspace(ref.min(), ref.max(), 11)[1:-1])
    urc = np.bincount(np.searchsorted(uedges, ref, side="left"), minlength=len(uedges) + 1)
    ucc = np.bincount(np.searchsorted(uedges, cur, side="left"), minlength=len(uedges) + 1)
    up = np.maximum(urc / urc.sum(), EPS)
    uq = np.maximum(ucc / ucc.sum(), EPS)
    return {
        "psi_uniform_edges": uedges.tolist(),
        "psi_uniform": float(np.sum((uq - up) * np.log(uq / up))),
        "js_distance": float(jensenshannon(rc, cc, base=2)),
        "wasserstein": float(stats.wasserstein_distance(ref, cur)),
        "std": float(np.std(ref, ddof=1)) if len(ref) > 1 else 0.0,
        "name": name,
        "reference": ref.tolist(),
        "current": cur.tolist(),
        # scipy's default (method="auto"): exact p-values up to 10,000 values.
        "ks_statistic": float(stats.ks_2samp(ref, cur).statistic),
        "ks_pvalue": float(stats.ks_2samp(ref, cur).pvalue),
        "psi_edges": edges,
        "psi_reference_counts": rc,
        "psi_current_counts": cc,
        "psi": psi,
    }


def main():
    rng = np.random.default_rng(20261128)
    cases = [
        case("normal_same", rng.normal(0, 1, 500), rng.normal(0, 1, 400)),
        case("normal_shifted", rng.normal(0, 1, 500), rng.normal(0.3, 1, 300)),
        case("normal_wider", rng.normal(0, 1, 800), rng.normal(0, 1.5, 800)),
        case("ties_integers", rng.integers(0, 5, 300), rng.integers(0, 6, 250)),
        case("tiny", [1.0, 2.0, 3.0], [2.5, 3.5]),
        case("lognormal_large", rng.lognormal(3, 0.6, 3000), rng.lognormal(3.05, 0.6, 2500)),
        case("identical", [1.0, 2.0, 2.0, 3.0, 4.0], [1.0, 2.0, 2.0, 3.0, 4.0]),
    ]
    def spec(n, a, b, p=1_000_003, scale=1.0, shift=0.0, sqrt=False):
        return {"n": n, "a": a, "b": b, "p": p, "scale": scale, "shift": shift, "sqrt": sqrt}

    ks_cases = [
        # Exact regime (both samples at most 10,000 values).
        ks_case("exact_equal_n", spec(3000, 7919, 1), spec(3000, 104729, 5, shift=0.02)),
        ks_case("exact_unequal_n", spec(5000, 7919, 1), spec(1234, 104729, 5, shift=0.03)),
        ks_case("exact_coprime_small", spec(97, 7919, 1), spec(89, 104729, 5, sqrt=True)),
        ks_case("exact_ties", spec(800, 7, 1, p=11), spec(600, 5, 2, p=13)),
        ks_case("exact_max_n", spec(10000, 7919, 3), spec(9999, 104729, 5, shift=0.01)),
        # Asymptotic regime: effective n in every branch of kstwo.
        ks_case("asymp_tiny_current", spec(20000, 7919, 1), spec(40, 104729, 5, shift=0.1)),
        ks_case("asymp_small_current", spec(20000, 7919, 1), spec(130, 104729, 5, shift=0.05)),
        ks_case("asymp_pomeranz", spec(50000, 7919, 1), spec(100, 104729, 5, shift=0.12)),
        ks_case("asymp_mid", spec(20000, 7919, 1), spec(3000, 104729, 5, shift=0.01)),
        ks_case("asymp_large_close", spec(40000, 7919, 1), spec(30000, 104729, 5, shift=0.004)),
        ks_case("asymp_large_far", spec(40000, 7919, 1), spec(30000, 104729, 5, sqrt=True)),
        ks_case("asymp_large_same", spec(30000, 7919, 1), spec(30000, 104729, 5)),
        ks_case("asymp_large_tail", spec(40000, 7919, 1), spec(30000, 104729, 5, shift=0.012)),
    ]
    categorical = [
        categorical_case("same_proportions", {"a": 50, "b": 30, "c": 20}, {"a": 25, "b": 15, "c": 10}),
        categorical_case("shifted", {"android": 400, "ios": 350, "web": 250}, {"android": 150, "ios": 200, "web": 150}),
        categorical_case("missing_category", {"a": 10, "b": 10, "c": 80}, {"a": 30, "b": 20}),
        categorical_case("unseen", {"a": 100, "b": 100}, {"a": 90, "b": 80, "tv": 7, "car": 3}),
    ]
    rng2 = np.random.default_rng(7)
    pvals = rng2.uniform(0, 0.1, 25).tolist() + [0.0001, 0.5, 0.9, 1.0]
    corrections = {"p": pvals, "bh": stats.false_discovery_control(pvals, method="bh").tolist(),
                   "bonferroni": np.minimum(np.asarray(pvals) * len(pvals), 1.0).tolist()}
    grid = []
    for n in [1, 2, 3, 5, 10, 40, 100, 140, 141, 500, 5000, 20000, 100000, 100001, 400000]:
        for x in [0.001, 0.005, 0.01, 0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9, 0.99]:
            grid.append([n, x, float(stats.kstwo.sf(x, n))])
    out = pathlib.Path(__file__).with_name("drift.json")
    out.write_text(json.dumps({"generator": "tests/reference/generate.py", "numpy": np.__version__,
                               "scipy": __import__("scipy").__version__, "psi_epsilon": EPS,
                               "cases": cases, "ks_cases": ks_cases, "kstwo_sf": grid,
                               "categorical": categorical, "corrections": corrections}, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
