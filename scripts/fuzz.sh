#!/usr/bin/env bash
# Run one fuzz target for N minutes (cargo-fuzz, nightly), its corpus seeded
# from the project's own rule files, configs, templates and fixtures.
#
# Usage: scripts/fuzz.sh TARGET [MINUTES]   (default 10)
#   targets: rule_file config when template jsonl matcher
#   needs:   cargo install cargo-fuzz; rustup toolchain nightly
# A crash is saved under fuzz/artifacts/TARGET/; replay it with
#   cargo +nightly fuzz run --sanitizer none TARGET fuzz/artifacts/TARGET/crash-...
# and turn it into a regression test before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET [MINUTES]}
minutes=${2:-10}
corpus=fuzz/corpus/$target
mkdir -p "$corpus"

seed() { # copy files into the corpus under content-addressed names
  for f in "$@"; do
    [ -f "$f" ] && cp "$f" "$corpus/seed-$(sha1sum "$f" | cut -c1-16)"
  done
  return 0
}
case $target in
  rule_file) seed rules/*.yaml tests/fixtures/check/*/rules/*.yaml tests/fixtures/check/broken/*.yaml ;;
  config) seed examples/recsys/mlwatch.yaml tests/fixtures/check/*.yaml tests/fixtures/check/*/mlwatch.yaml ;;
  when | template | matcher)
    # One seed per `when:`, annotation or matcher line found in the rule files and docs.
    field=$(case $target in when) echo 'when' ;; template) echo 'summary|description|title|text' ;; matcher) echo 'matchers' ;; esac)
    i=0
    grep -hoE "($field): *\"[^\"]+\"" rules/*.yaml docs/*.md tests/fixtures/check/*/rules/*.yaml 2>/dev/null \
      | sed -E 's/^[a-z_]+: *"//; s/"$//' | sort -u | while IFS= read -r line; do
        printf '%s' "$line" > "$corpus/seed-line-$i"; i=$((i + 1))
      done || true
    ;;
  jsonl) seed examples/recsys/data/*/*.jsonl tests/fixtures/*.jsonl
    printf '{"x": 1.5, "tenant": "acme"}\n{"x": null, "l": [1, [2, {"a": "b"}]]}\n' > "$corpus/seed-basic" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
if [ "$target" = matcher ]; then
  for m in 'alertname=~"Drift|Skew"' 'tenant!=""' 'severity="page"' 'alertname!~".+"'; do
    printf '%s' "$m" > "$corpus/seed-$(printf '%s' "$m" | sha1sum | cut -c1-16)"
  done
fi
echo "fuzzing $target for $minutes min from $(ls "$corpus" | wc -l) seeds"
cargo +nightly fuzz run --sanitizer none "$target" "$corpus" -- -max_total_time=$((minutes * 60)) -max_len=65536 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
