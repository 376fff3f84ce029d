#!/usr/bin/env bash
# One probe to each of 1 000 / 10 000 / 65 000 loopback addresses (127.x.y.z),
# inside a namespace of our own so the loopback is ours: wall time, CPU, peak
# RSS, targets/s for tundra vs `fping -q -i 0` vs oping, same run.
# Each figure is the median of SWEEP_REPEAT runs under build/bench/spawn_measure
# (fork, exec, wait4: the tool's start, work and exit, nothing of the driver's).
# --alive prints no RTT, so tundra takes no kernel TX stamps (--tx-stamps
# auto); the row "tundra+tx" is the same sweep with --tx-stamps on.
# The "floor" rows are build/bench/sweep_floor, dynamically linked as fping is,
# static-pie with glibc and static-pie with musl as tundra is (LIBC=musl, the
# Makefile's default; glibc's start-up alone is 0.4-0.5 ms of CPUID exits in a
# virtual machine), with 1 and 2 loops: raw ICMP sockets with
# tundra's options, sendmmsg/recvmmsg in batches of 32 and no other work (no
# MAC, no statistics, no output). The kernel's loopback round trips plus
# process start-up dominate a sweep; the best of the floors is the most any
# tool can reach here.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(readlink -f "${TUNDRA:-build/tundra}")
FLOOR=$(readlink -f build/bench/sweep_floor)
SFLOOR=$(readlink -f build/bench/sweep_floor_static)
MFLOOR=$(readlink -f build/bench/sweep_floor_musl 2>/dev/null || true) # LIBC=musl builds only
FLOORS="floor1 floor2 sfloor1 sfloor2"
[ -x "$MFLOOR" ] && FLOORS="$FLOORS mfloor1 mfloor2"
MEASURE=$(readlink -f build/bench/spawn_measure)
for b in "$FLOOR" "$SFLOOR" "$MEASURE"; do
  [ -x "$b" ] || { echo "21-ping-sweep: $b missing (make bench-build)" >&2; exit 2; }
done
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
  echo "$name $(X "$MEASURE" "$REPEAT" "$out" "$@")"
}

# Starting and ending a process costs every tool about the same: /bin/true's
# figure (dynamically linked) is that part; it weighs most at 1 000 targets.
set -- $(measure true "$tmp/true.out" /bin/true)
echo "process start and exit alone (/bin/true): wall $2 s, CPU $3 s"
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
  for k in $FLOORS; do
    l=${k: -1} F=$FLOOR
    [ "${k:0:1}" = s ] && F=$SFLOOR
    [ "${k:0:1}" = m ] && F=$MFLOOR
    set -- $(measure "$k" "$tmp/$k.out" "$F" "$l" "$lo" "$n")
    W[$k]=$2 C[$k]=$3 R[$k]=$4
    A[$k]=$(sed -nE 's/^[0-9]+ targets, ([0-9]+) answered.*/\1/p' "$tmp/$k.out")
  done
  N[floor1]=floor N[floor2]=floor N[sfloor1]=floor-st N[sfloor2]=floor-st
  N[mfloor1]=floor-mu N[mfloor2]=floor-mu
  L[floor1]="1 loop" L[floor2]="2 loops" L[sfloor1]="1 loop" L[sfloor2]="2 loops"
  L[mfloor1]="1 loop" L[mfloor2]="2 loops"
  # the fastest floor: the lowest median wall time of them all
  fb=floor1
  for k in ${FLOORS#floor1 }; do
    [ "$(echo "${W[$k]} < ${W[$fb]}" | bc)" = 1 ] && fb=$k
  done
  tools="tundra tundra+tx fping $FLOORS"
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
  echo "ratio $n: kernel floor (best of all)/fping targets/s = $(echo "scale=2; ${W[fping]} / ${W[$fb]}" | bc)x (the most any tool can reach here)"
  echo "ratio $n: tundra/kernel floor targets/s = $(echo "scale=2; ${W[$fb]} / ${W[tundra]}" | bc)x (best floor: ${N[$fb]}, ${L[$fb]})"
  [ -n "${W[oping]:-}" ] && echo "ratio $n: tundra/oping targets/s = $(echo "scale=2; ${W[oping]} / ${W[tundra]}" | bc)x, peak RSS tundra/oping = $(echo "scale=2; ${R[tundra]} / ${R[oping]}" | bc)x"
  unset W C R A L N
done
