"""The same drift computation in Python, as the reference to beat: scipy's
ks_2samp and numpy PSI (decile bins) on every numeric column, scipy's chi-square
on every categorical column. Prints the time of each phase.

Usage: python3 scripts/bench_reference.py BASELINE.parquet CURRENT.parquet
"""
import sys
import time

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
from scipy import stats

EPS = 1e-4


def psi(ref, cur):
    edges = np.unique(np.quantile(ref, np.arange(1, 10) / 10))
    rc = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1)
    cc = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1)
    p = np.maximum(rc / rc.sum(), EPS)
    q = np.maximum(cc / cc.sum(), EPS)
    return float(np.sum((q - p) * np.log(q / p)))


def main():
    t0 = time.perf_counter()
    base = pq.read_table(sys.argv[1])
    cur = pq.read_table(sys.argv[2])
    numeric = [c for c in base.column_names if c.startswith("num_")]
    categorical = [c for c in base.column_names if c.startswith("cat_")]
    b = {c: base[c].to_numpy() for c in numeric}
    k = {c: cur[c].to_numpy() for c in numeric}
    t1 = time.perf_counter()
    drifted = 0
    for c in numeric:
        r = stats.ks_2samp(b[c], k[c])
        drifted += r.pvalue < 0.05
    t2 = time.perf_counter()
    for c in numeric:
        drifted += psi(b[c], k[c]) > 0.2
    t3 = time.perf_counter()
    for c in categorical:
        # Category counts with Arrow's C++ kernel: the fastest Python has.
        rb, cb = pc.value_counts(base[c]), pc.value_counts(cur[c])
        ref = dict(zip(rb.field("values").to_pylist(), rb.field("counts").to_pylist()))
        got = dict(zip(cb.field("values").to_pylist(), cb.field("counts").to_pylist()))
        obs = np.array([got.get(v, 0) for v in ref], dtype=float)
        exp = np.array(list(ref.values()), dtype=float)
        r = stats.chisquare(obs, exp / exp.sum() * obs.sum())
        drifted += r.pvalue < 0.05
    t4 = time.perf_counter()
    print(f"python: load {t1 - t0:.2f}s, ks {t2 - t1:.2f}s, psi {t3 - t2:.2f}s, chi2 {t4 - t3:.2f}s, "
          f"total {t4 - t0:.2f}s ({drifted} drift flags)")


if __name__ == "__main__":
    main()
