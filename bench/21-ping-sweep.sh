#!/usr/bin/env bash
# One probe to each of 1 000 / 10 000 / 65 000 loopback addresses (127.x.y.z),
# inside a namespace of our own so the loopback is ours: wall time, CPU, peak
# RSS, targets/s for tundra vs `fping -q -i 0` vs oping, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(readlink -f "${TUNDRA:-build/tundra}")
SIZES=${SWEEP_SIZES:-"1000 10000 65000"}
ns=tdbench-$$-$RANDOM
tmp=$(mktemp -d)
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ip -n "$ns" link set lo up
X() { ip netns exec "$ns" "$@"; }

REPEAT=${SWEEP_REPEAT:-3}
measure() { # name file cmd... ; prints "name wall cpu rss_kb" (median of REPEAT runs)
  local name=$1 out=$2; shift 2
  echo "$name $(X /usr/bin/python3 bench/ping_measure.py "$REPEAT" "$out" "$@")"
}

printf "%-7s %7s %-8s %9s %9s %10s %12s %8s\n" targets tool "" wall_s cpu_s rss_MB targets/s answered
for n in $SIZES; do
  # n addresses from 127.1.0.1 up, as a list file (oping) and a first-last range
  /usr/bin/python3 - "$n" "$tmp/hosts" <<'PY'
import ipaddress, sys
n, path = int(sys.argv[1]), sys.argv[2]
first = ipaddress.IPv4Address("127.1.0.1")
with open(path, "w") as f:
    for i in range(n):
        f.write(f"{first + i}\n")
print(first, first + n - 1, file=open(path + ".range", "w"))
PY
  read -r lo hi <"$tmp/hosts.range"
  declare -A W C R A
  set -- $(measure tundra "$tmp/t.out" "$T" ping -c 1 -W 1 --spacing 0 -g "$lo-$hi" --alive)
  W[tundra]=$2 C[tundra]=$3 R[tundra]=$4; A[tundra]=$(wc -l <"$tmp/t.out")
  set -- $(measure fping "$tmp/f.out" fping -q -i 0 -r 0 -t 1000 -a -g "$lo" "$hi")
  W[fping]=$2 C[fping]=$3 R[fping]=$4; A[fping]=$(grep -c '^127\.' "$tmp/f.out" || true)
  tools="tundra fping"
  if [ "$n" -le 10000 ]; then
    set -- $(measure oping "$tmp/o.out" bash -c "ulimit -n 65536; oping -c 1 -w 1 -f $tmp/hosts")
    W[oping]=$2 C[oping]=$3 R[oping]=$4
    A[oping]=$(grep -cE '^[0-9]+ bytes from' "$tmp/o.out" || true)
    tools="$tools oping"
  fi
  for k in $tools; do
    printf "%-7s %7s %-8s %9s %9s %10.1f %12.0f %8s\n" "$n" "$k" "" "${W[$k]}" "${C[$k]}" \
      "$(echo "${R[$k]} / 1024" | bc -l)" "$(echo "$n / ${W[$k]}" | bc -l)" "${A[$k]}"
  done
  echo "ratio $n: tundra/fping targets/s = $(echo "scale=2; ${W[fping]} / ${W[tundra]}" | bc)x (goal >= 2), peak RSS tundra/fping = $(echo "scale=2; ${R[tundra]} / ${R[fping]}" | bc)x (goal <= 1)"
  [ -n "${W[oping]:-}" ] && echo "ratio $n: tundra/oping targets/s = $(echo "scale=2; ${W[oping]} / ${W[tundra]}" | bc)x, peak RSS tundra/oping = $(echo "scale=2; ${R[tundra]} / ${R[oping]}" | bc)x"
  unset W C R A
done
