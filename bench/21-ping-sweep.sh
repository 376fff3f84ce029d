#!/usr/bin/env bash
# One probe to each of 1 000 / 10 000 / 65 000 loopback addresses (127.x.y.z),
# inside a namespace of our own so the loopback is ours: wall time, CPU, peak
# RSS, targets/s for tundra vs `fping -q -i 0` vs oping, same run.
# --alive prints no RTT, so tundra takes no kernel TX stamps (--tx-stamps
# auto); the row "tundra+tx" is the same sweep with --tx-stamps on.
# The "floor" rows are build/bench/sweep_floor with 1 and 2 loops: raw ICMP
# sockets with tundra's options, sendmmsg/recvmmsg in batches of 32 and no
# other work (no MAC, no statistics, no output). The kernel's loopback round
# trips plus process start-up dominate a sweep; the best of the two floors is
# the most a dynamically linked tool (tundra, fping) can reach here.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(readlink -f "${TUNDRA:-build/tundra}")
FLOOR=$(readlink -f build/bench/sweep_floor)
[ -x "$FLOOR" ] || { echo "21-ping-sweep: $FLOOR missing (make bench-build)" >&2; exit 2; }
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

# The harness itself (fork, exec, /usr/bin/time) costs every tool the same:
# /bin/true's figure is that floor (it weighs most on the 1 000-target ratio).
set -- $(measure true "$tmp/true.out" /bin/true)
echo "harness floor (/bin/true): wall $2 s, CPU $3 s"
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
  declare -A W C R A L N
  set -- $(measure tundra "$tmp/t.out" "$T" ping -c 1 -W 1 --spacing 0 -g "$lo-$hi" --alive)
  W[tundra]=$2 C[tundra]=$3 R[tundra]=$4; A[tundra]=$(wc -l <"$tmp/t.out")
  set -- $(measure tundra+tx "$tmp/tx.out" "$T" ping -c 1 -W 1 --spacing 0 -g "$lo-$hi" --alive --tx-stamps on)
  W[tundra+tx]=$2 C[tundra+tx]=$3 R[tundra+tx]=$4; A[tundra+tx]=$(wc -l <"$tmp/tx.out")
  set -- $(measure fping "$tmp/f.out" fping -q -i 0 -r 0 -t 1000 -a -g "$lo" "$hi")
  W[fping]=$2 C[fping]=$3 R[fping]=$4; A[fping]=$(grep -c '^127\.' "$tmp/f.out" || true)
  for k in floor1 floor2; do
    l=${k:5:1}
    set -- $(measure "$k" "$tmp/$k.out" "$FLOOR" "$l" "$lo" "$n")
    W[$k]=$2 C[$k]=$3 R[$k]=$4
    A[$k]=$(sed -nE 's/^[0-9]+ targets, ([0-9]+) answered.*/\1/p' "$tmp/$k.out")
  done
  N[floor1]=floor N[floor2]=floor
  L[floor1]="1 loop" L[floor2]="2 loops"
  # the faster of the two (dynamically linked) floors: the lower median wall time
  if [ "$(echo "${W[floor2]} < ${W[floor1]}" | bc)" = 1 ]; then fb=floor2; else fb=floor1; fi
  tools="tundra tundra+tx fping floor1 floor2"
  if [ "$n" -le 10000 ]; then
    set -- $(measure oping "$tmp/o.out" bash -c "ulimit -n 65536; oping -c 1 -w 1 -f $tmp/hosts")
    W[oping]=$2 C[oping]=$3 R[oping]=$4
    A[oping]=$(grep -cE '^[0-9]+ bytes from' "$tmp/o.out" || true)
    tools="$tools oping"
  fi
  for k in $tools; do
    printf "%-7s %7s %-8s %9s %9s %10.1f %12.0f %8s\n" "$n" "${N[$k]:-$k}" "${L[$k]:-}" "${W[$k]}" "${C[$k]}" \
      "$(echo "${R[$k]} / 1024" | bc -l)" "$(echo "$n / ${W[$k]}" | bc -l)" "${A[$k]}"
  done
  echo "ratio $n: tundra/fping targets/s = $(echo "scale=2; ${W[fping]} / ${W[tundra]}" | bc)x (goal >= 2), peak RSS tundra/fping = $(echo "scale=2; ${R[tundra]} / ${R[fping]}" | bc)x (goal <= 1)"
  echo "ratio $n: tundra --tx-stamps on/fping targets/s = $(echo "scale=2; ${W[fping]} / ${W[tundra+tx]}" | bc)x; CPU tundra/fping = $(echo "scale=2; ${C[tundra]} / ${C[fping]}" | bc)x"
  echo "ratio $n: kernel floor (best of 1/2 loops)/fping targets/s = $(echo "scale=2; ${W[fping]} / ${W[$fb]}" | bc)x (the most any tool can reach here, dynamically linked as tundra and fping)"
  echo "ratio $n: tundra/kernel floor targets/s = $(echo "scale=2; ${W[$fb]} / ${W[tundra]}" | bc)x (best floor: ${L[$fb]})"
  [ -n "${W[oping]:-}" ] && echo "ratio $n: tundra/oping targets/s = $(echo "scale=2; ${W[oping]} / ${W[tundra]}" | bc)x, peak RSS tundra/oping = $(echo "scale=2; ${R[tundra]} / ${R[oping]}" | bc)x"
  unset W C R A L N
done
