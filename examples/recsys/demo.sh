#!/usr/bin/env bash
# The mlwatch demo in one command: build, generate a simulated multi-tenant
# recommender's data (tenant globex's sessions_7d drifts in the last hour),
# build each tenant's healthy baseline, and run the agent. A FeatureDrift alert prints
# within about a minute; /metrics is on http://127.0.0.1:9464/metrics.
set -euo pipefail
cd "$(dirname "$0")/../.."

cargo build --quiet --bin mlwatch --example recsys
target/debug/examples/recsys --out examples/recsys/data
for tenant in acme globex initech; do
  target/debug/mlwatch baseline build \
    --source "examples/recsys/data/reference/$tenant/features.parquet" \
    --columns age,sessions_7d,basket_value \
    --out "examples/recsys/data/baselines/$tenant/features.json"
done
target/debug/mlwatch check --config examples/recsys/mlwatch.yaml
exec target/debug/mlwatch run --config examples/recsys/mlwatch.yaml "$@"
