#!/usr/bin/env bash
# Peak memory of reading one column of a JSON-lines file whose lines also hold
# a 300-item list and a 50-field object (52 MB, 20,000 lines): `mlwatch drift
# --columns a` reads the file twice (baseline and current). Release build.
#
# Usage: scripts/bench-jsonl-memory.sh   (needs python3 and GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-target/bench-jsonl}
bin=target/release/mlwatch
cargo build --release --quiet --bin mlwatch
mkdir -p "$dir"
file="$dir/lists.jsonl"
[ -f "$file" ] || python3 - "$file" <<'PY'
import json, random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    for i in range(20000):
        row = {"a": random.gauss(0, 1), "items": [random.randint(0, 100000) for _ in range(300)],
               "obj": {f"x{j}": j for j in range(50)}}
        f.write(json.dumps(row) + "\n")
PY
echo "file: $(du -m "$file" | cut -f1) MB"
/usr/bin/time -f "drift --columns a: %e s, peak RSS %M KiB" "$bin" drift "$file" "$file" --columns a >/dev/null
