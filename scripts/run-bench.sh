#!/usr/bin/env bash
# Run every benchmark script in bench/ (bench/*.sh, in name order). Each runs its
# peers in the same run and prints ratios.
set -uo pipefail
rc=0
for b in bench/*.sh; do
  [ -e "$b" ] || continue
  echo "== $b"
  bash "$b" || { echo "bench: $b failed"; rc=1; }
done
exit $rc
