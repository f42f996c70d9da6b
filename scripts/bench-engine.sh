#!/usr/bin/env bash
# Benchmark of the engine on a lake of 100 tenants x 60 daily partitions and
# one drift rule per tenant with a 1-hour window (release build):
#  1. one evaluation with 10 days of lake and with 60: wall time and files
#     opened (equal within noise: the window prunes partitions);
#  2. `mlwatch backtest` over 7 days at a 15-minute step: wall time and
#     simulated hours per second.
# Prints the best wall time of three runs for (1), one run for (2).
#
# Usage: scripts/bench-engine.sh   (needs python3)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-target/bench-engine}
bin=target/release/mlwatch
cargo build --release --quiet --bin mlwatch
mkdir -p "$dir"

setup() { # name, days: a lake of that many days, a baseline and a config
  local name=$1 days=$2 d="$dir/$1"
  python3 scripts/bench_lake.py "$d/lake" 100 "$days"
  [ -f "$d/base.json" ] || "$bin" baseline build --source "$d/lake/t000/dt=2026-11-2[1-3]/*.csv" --columns age,sessions_7d --out "$d/base.json" >/dev/null
  cat > "$d/mlwatch.yaml" <<YAML
sources:
  features: { kind: file, path: "lake/{tenant}/dt={date}/*.csv", timestamp: ts }
rule_files: ["rules.yaml"]
route: { receiver: oncall, group_by: [alertname, tenant] }
receivers: [{ name: oncall, stdout: [{}] }]
YAML
  cat > "$d/rules.yaml" <<YAML
groups:
  - name: features
    source: features
    interval: 15m
    window: 1h
    per_tenant: true
    rules:
      - alert: FeatureDrift
        check: { drift: { columns: [age, sessions_7d], method: [psi, ks] } }
        baseline: { profile: base.json }
        when: "psi > 0.2"
YAML
}

timed() { # output file, command...: runs it, prints its wall time in seconds
  local out=$1; shift
  /usr/bin/time -f %e -o "$dir/time" "$@" > "$out"
  cat "$dir/time"
}

one_evaluation() { # name: best wall time of 3 single evaluations, and files opened
  local d="$dir/$1" times=()
  for _ in 1 2 3; do
    times+=("$(timed "$d/one.json" "$bin" --log-level error backtest --config "$d/mlwatch.yaml" --from 2026-11-30T12:00:00Z --to 2026-11-30T12:00:01Z --step 15m --format json)")
  done
  python3 - "$1" "$d/one.json" "${times[@]}" <<'PY'
import json, sys
name, path, times = sys.argv[1], sys.argv[2], [float(t) for t in sys.argv[3:]]
r = json.load(open(path))
print(f"{name}: one evaluation of 100 tenants: best {min(times):.3f} s of {len(times)}; {r['files_read']} files opened, {r['rows_read']} rows read")
PY
}

setup days10 10
setup days60 60
one_evaluation days10
one_evaluation days60

secs=$(timed "$dir/week.json" "$bin" --log-level error backtest --config "$dir/days60/mlwatch.yaml" --from 2026-11-23T00:00:00Z --to 2026-11-30T00:00:00Z --step 15m --format json)
python3 - "$dir/week.json" "$secs" <<'PY'
import json, sys
r, secs = json.load(open(sys.argv[1])), float(sys.argv[2])
print(f"backtest 7 days at 15m: {r['evaluations']} evaluations of 100 tenants in {secs:.1f} s, "
      f"{7 * 24 / secs:.1f} simulated hours per second; {r['files_read']} files opened")
PY
