#!/usr/bin/env bash
# Scale benchmark: one agent with 1,000 tenants x 10 rules (cycle time, CPU,
# memory, /metrics size and scrape latency), /metrics at about 10,000 and
# 100,000 series, and the 1,000 tenants over 4 then 5 shards (4 and 5
# processes on this machine). Release build; about ten minutes after it.
#
# Usage: scripts/bench-scale.sh   (needs python3, standard library only)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-target/bench-scale}
rm -rf "$dir" && mkdir -p "$dir"
cargo build --release --quiet --bin mlwatch
python3 scripts/bench_scale.py "$PWD/target/release/mlwatch" "$PWD/$dir"
