"""Reference values for mlwatch's statistics, computed with numpy and scipy.

Run from the repository root:  python3 tests/reference/generate.py
It rewrites tests/reference/drift.json, which tests/stats.rs checks against.
The Rust code is never used to produce these numbers.
"""
import json
import pathlib

import numpy as np
from scipy import stats

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


def case(name, ref, cur):
    ref = np.asarray(ref, dtype=float)
    cur = np.asarray(cur, dtype=float)
    d = stats.ks_2samp(ref, cur, method="asymp").statistic
    en = len(ref) * len(cur) / (len(ref) + len(cur))
    edges, rc, cc, psi = psi_quantile(ref, cur)
    return {
        "name": name,
        "reference": ref.tolist(),
        "current": cur.tolist(),
        "ks_statistic": float(d),
        # The asymptotic Kolmogorov p-value at the effective sample size.
        "ks_pvalue_asymptotic": float(stats.kstwobign.sf(np.sqrt(en) * d)),
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
    out = pathlib.Path(__file__).with_name("drift.json")
    out.write_text(json.dumps({"generator": "tests/reference/generate.py", "numpy": np.__version__,
                               "scipy": __import__("scipy").__version__, "psi_epsilon": EPS,
                               "cases": cases}, indent=1) + "\n")
    print(f"wrote {out} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
