#!/usr/bin/env bash
# make demo: run each part's demonstration in order (scripts/demo.d/NN-*.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export TUNDRA=${TUNDRA:-$PWD/build/tundra}
for d in scripts/demo.d/*.sh; do
  [ -e "$d" ] || continue
  echo "== $(basename "$d" .sh)"
  bash "$d"
  echo
done
