#!/usr/bin/env bash
# Run each cmocka test binary; print the per-binary result and one total line.
set -uo pipefail
pass=0 fail=0 bad=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  p=$(grep -oE '^\[  PASSED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
  f=$(grep -oE '^\[  FAILED  \] [0-9]+' <<<"$out" | grep -oE '[0-9]+$' || true)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    bad+=("$t"); echo "$out"
  else
    echo "ok   $(basename "$t") (${p:-0} tests)"
  fi
done
echo "unit: $pass passed, $fail failed"
[ ${#bad[@]} -eq 0 ]
