#!/usr/bin/env bash
# Benchmark of the running agent: an idle agent with 50 rules (resident memory,
# CPU per minute) and /metrics scrapes with about 10,000 series (median and
# p99 latency). Release build; takes about two minutes after the build.
#
# Usage: scripts/bench-agent.sh   (needs python3, standard library only)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-target/bench-agent}
rm -rf "$dir" && mkdir -p "$dir"
cargo build --release --quiet --bin mlwatch
python3 scripts/bench_agent.py "$PWD/target/release/mlwatch" "$PWD/$dir"
