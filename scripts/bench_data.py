"""Seeded benchmark data for `mlwatch drift`: a baseline and a drifted current
set, each ROWS rows × 20 numeric + 5 categorical columns, as Parquet.

Usage: python3 scripts/bench_data.py OUT_DIR [ROWS]
"""
import pathlib
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def make(rng, rows, drift):
    cols = {}
    for i in range(20):
        kind = i % 4
        shift = 0.15 if drift and i % 5 == 0 else 0.0  # every fifth column drifts
        if kind == 0:
            x = rng.normal(shift, 1.0, rows)
        elif kind == 1:
            x = rng.lognormal(1.0 + shift, 0.5, rows)
        elif kind == 2:
            x = rng.gamma(2.0 + 4 * shift, 2.0, rows)
        else:
            x = np.round(rng.normal(50 + 10 * shift, 10, rows))  # discrete-ish, many ties
        cols[f"num_{i:02d}"] = x
    for j in range(5):
        k = 5 + 10 * j
        p = np.linspace(1.0, 2.0, k)
        if drift and j == 0:
            p = p[::-1]  # the first categorical column shifts its mix
        p = p / p.sum()
        cols[f"cat_{j}"] = pa.array(rng.choice([f"c{v:03d}" for v in range(k)], rows, p=p))
    return pa.table(cols)


def main():
    out = pathlib.Path(sys.argv[1])
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 2_000_000
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261128)
    pq.write_table(make(rng, rows, drift=False), out / "baseline.parquet")
    pq.write_table(make(rng, rows, drift=True), out / "current.parquet")
    print(f"wrote {out}/baseline.parquet and current.parquet ({rows} rows × 25 columns each)")


if __name__ == "__main__":
    main()
