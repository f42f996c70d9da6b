#!/usr/bin/env bash
# The log source at scale (release build): EVENTS serving events over TENANTS
# tenants and DAYS days in 10 files; time and peak memory to ingest them and
# evaluate an availability and a latency SLO (all four window pairs) per
# tenant, then one more evaluation after a minute of new lines.
#
# Usage: scripts/bench-logs.sh [EVENTS] [TENANTS] [DAYS]   (default 10000000 100 3)
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-10000000} tenants=${2:-100} days=${3:-3}
dir=${BENCH_DIR:-target/bench-logs}/$events-$tenants-$days
end=2026-11-10T00:00:00Z
if [ ! -f "$dir/done" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  python3 scripts/bench_logs.py "$dir/logs" "$events" "$tenants" "$days" 10 "$end"
  # One more minute of traffic at the same rate, after `end`.
  per_minute=$(( events / (days * 1440) ))
  python3 scripts/bench_logs.py "$dir/minute" "$per_minute" "$tenants" "$(python3 -c 'print(1/1440)')" 1 "2026-11-10T00:01:00Z"
  mv "$dir/minute/api.log" "$dir/next-minute.jsonl"
  touch "$dir/done"
fi
echo "logs: $(du -sm "$dir/logs" | cut -f1) MB, $events events, $tenants tenants, $days days"
work=$(mktemp -d)
cp -r "$dir/logs" "$work/logs"
cargo bench --quiet --bench log_source -- "$work/logs" "$end" "$dir/next-minute.jsonl"
rm -rf "$work"
