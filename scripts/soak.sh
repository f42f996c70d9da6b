#!/usr/bin/env bash
# Soak run: one agent with 500 tenants and rules evaluating every 10 s for
# about 30 minutes, alerts firing and resolving as tenants' data drifts on and
# off, a webhook receiver that fails now and then (500, 429 with Retry-After,
# slow answers). Samples RSS, open files, threads and state-file size every
# 30 s and checks them flat after warm-up. Release build.
#
# Usage: scripts/soak.sh [MINUTES] [TENANTS]   (default 30, 500; needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${SOAK_DIR:-target/soak}
rm -rf "$dir" && mkdir -p "$dir"
cargo build --release --quiet --bin mlwatch
python3 scripts/soak.py "$PWD/target/release/mlwatch" "$PWD/$dir" "${1:-30}" "${2:-500}"
