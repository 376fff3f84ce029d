#!/usr/bin/env bash
# Everything CI runs: warnings-as-errors build, lint, unit tests (plain and
# ASan+UBSan), a fuzz smoke run of every target, integration tests. Ends with
# one total line.
set -uo pipefail
J=${J:-$(nproc)}
pass=0 fail=0 failed_stages=()
log=$(mktemp); trap 'rm -f "$log"' EXIT

count() { # sums the stage log's "N passed" / "N failed" lines (a stage may
  # run several suites: integration runs pytest twice, offloads off and on)
  local p f
  p=$(grep -oE '([0-9]+) passed' "$log" | awk '{s += $1} END {print s + 0}')
  f=$(grep -oE '([0-9]+) failed' "$log" | awk '{s += $1} END {print s + 0}')
  pass=$((pass + p)); fail=$((fail + f))
}
stage() { # $1 = name, rest = command
  local name=$1; shift
  echo "==== $name"
  if "$@" 2>&1 | tee "$log"; then count; else
    count; failed_stages+=("$name")
    # a stage that failed without a test count still counts as one failure
    grep -qE '[0-9]+ failed' "$log" || fail=$((fail + 1))
  fi
}

stage build       make -j"$J" all bench-build
stage lint        make lint
stage unit        make -j"$J" unit
stage unit-asan   make -j"$J" SANITIZE=1 unit
stage fuzz-smoke  make -j"$J" fuzz-smoke
stage integration make integration

echo
[ ${#failed_stages[@]} -gt 0 ] && echo "failed stages: ${failed_stages[*]}"
echo "$pass passed, $fail failed"
[ ${#failed_stages[@]} -eq 0 ]
