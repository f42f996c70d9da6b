#!/usr/bin/env bash
# Benchmark of `mlwatch drift` end to end on 2,000,000 rows × 25 columns
# (a baseline and a drifted current Parquet file), against:
#  - the floor: reading the same columns and sorting each numeric column once
#    (examples/drift_floor.rs);
#  - the Python reference: scipy ks_2samp + numpy PSI + scipy chi-square.
# Prints the best wall time of three runs, the peak memory (from /usr/bin/time -v)
# and the ratios. The machine is shared: expect a few percent of noise.
#
# Usage: scripts/bench-drift.sh [ROWS]   (needs python3; installs numpy, scipy, pyarrow with pip)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-2000000}
dir=${BENCH_DIR:-target/bench-drift}

python3 -m pip install --quiet --disable-pip-version-check numpy scipy pyarrow
cargo build --release --quiet --bin mlwatch --example drift_floor
[ -f "$dir/rows-$rows" ] || { python3 scripts/bench_data.py "$dir" "$rows"; touch "$dir/rows-$rows"; }

measure() { # name, command...: prints "name seconds max_rss_kb", best wall time of 3 runs
  local name=$1; shift
  local best="" rss=0 secs r
  for _ in 1 2 3; do
    /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$dir/$name.time" || [ $? -eq 1 ]
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$dir/$name.time")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/$name.time")
    [ "$r" -gt "$rss" ] && rss=$r
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$secs; fi
  done
  echo "$name $best $rss"
}

read -r _ t_mlw rss_mlw < <(measure mlwatch target/release/mlwatch drift "$dir/baseline.parquet" "$dir/current.parquet" \
  --method ks --method psi --method chi2 --format json)
read -r _ t_floor rss_floor < <(measure floor target/release/examples/drift_floor "$dir/baseline.parquet" "$dir/current.parquet")
read -r _ t_py rss_py < <(measure python python3 scripts/bench_reference.py "$dir/baseline.parquet" "$dir/current.parquet")

columns_mb=$(awk '/columns read/ {print $(NF-1)}' "$dir/floor.out")
echo
cat "$dir/python.out"
cat "$dir/floor.out"
echo "mlwatch drift: $(grep -c '"drift": true' "$dir/mlwatch.out") drifted (column, method) pairs"
echo
printf '%-16s %10s %14s\n' "run" "wall (s)" "peak RSS (MiB)"
printf '%-16s %10.2f %14.0f\n' "mlwatch drift" "$t_mlw" "$((rss_mlw / 1024))"
printf '%-16s %10.2f %14.0f\n' "floor" "$t_floor" "$((rss_floor / 1024))"
printf '%-16s %10.2f %14.0f\n' "python scipy" "$t_py" "$((rss_py / 1024))"
echo
awk -v m="$t_mlw" -v f="$t_floor" -v p="$t_py" -v r="$rss_mlw" -v c="$columns_mb" 'BEGIN {
  printf "speed-up over python: %.1fx (target >= 5x)\n", p / m
  printf "time over the floor:  %.2fx (target <= 2x)\n", m / f
  printf "peak memory / columns read: %.2fx (target < 2x; columns read %.0f MiB)\n", (r / 1024) / c, c
}'
