#!/usr/bin/env bash
# Run every libFuzzer target for N seconds on a scratch copy of its committed
# seed corpus; stop at the first crash or sanitizer finding.
set -euo pipefail
secs=$1; shift
for f in "$@"; do
  name=$(basename "$f")
  seeds=tests/fuzz/corpus/$name
  work=build/fuzz/corpus/$name
  mkdir -p "$work" "$seeds"
  log=build/fuzz/$name.log
  if ! "$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix=build/fuzz/"$name"- \
        "$work" "$seeds" >"$log" 2>&1; then
    tail -50 "$log"; echo "fuzz: $name FAILED"; exit 1
  fi
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  echo "fuzz: $name ok, $execs executions in ${secs}s"
done
