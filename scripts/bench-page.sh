#!/usr/bin/env bash
# Benchmark of the agent's page: the overview and a drill-down with 500
# tenants (median and p99 latency over 200 requests each). Release build by
# default; BENCH_PROFILE=dev measures the debug build. About two minutes
# after the build.
#
# Usage: scripts/bench-page.sh   (needs python3, standard library only)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-target/bench-page}
rm -rf "$dir" && mkdir -p "$dir"
if [ "${BENCH_PROFILE:-release}" = dev ]; then
    cargo build --quiet --bin mlwatch
    bin=$PWD/target/debug/mlwatch
else
    cargo build --release --quiet --bin mlwatch
    bin=$PWD/target/release/mlwatch
fi
python3 scripts/bench_page.py "$bin" "$PWD/$dir"
