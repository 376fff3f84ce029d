#!/usr/bin/env bash
# Flood (-f -c 200000, root) on loopback: packets/s of tundra vs iputils ping -f, same run.
# First as a person types it: stdout and stderr a pseudo-terminal (spawn_measure
# -t reads it as a terminal emulator does), so the flood line is drawn. iputils
# draws it with two writes per probe ("." and "\b \b"); tundra draws the same
# line at most every 10 ms. Then with -q (no line) for both, where only the
# pinging is timed.
# Also with a window of 64 outstanding probes (-l 64) for both. tundra -f takes
# no kernel TX stamps by default (--tx-stamps auto: RTT = kernel RX stamp - clock
# before the send call, as iputils measures it); the --tx-stamps on row shows
# their cost. The loopback round trip in the kernel dominates here: the
# "kernel floor" row (build/bench/ping_floor: one sendto + one recvmsg per
# probe and nothing else) is the most any one-in-flight pinger can reach.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(readlink -f "${TUNDRA:-build/tundra}")
MEASURE=$(readlink -f build/bench/spawn_measure)
[ -x "$MEASURE" ] || { echo "$0: $MEASURE missing (make bench-build)" >&2; exit 2; }
C=${FLOOD_COUNT:-200000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pps() { # [-t] label cmd...
  local tty=()
  [ "$1" = -t ] && { tty=(-t); shift; }
  local label=$1; shift
  read -r wall cpu rss < <("$MEASURE" "${tty[@]}" 3 "$tmp/out" "$@")
  local rx
  rx=$(sed -nE 's/^[0-9]+ packets transmitted, ([0-9]+) received.*/\1/p' "$tmp/out")
  local v
  v=$(echo "$rx / $wall" | bc)
  printf "  %-34s %8d pps  (%s received, %.3f s, CPU %.3f s)\n" "$label" "$v" "$rx" "$wall" "$cpu" >&2
  echo "$v"
}
echo "flood, $C probes to 127.0.0.1 (median of 3):"
tt=$(pps -t "tundra ping -f, on a terminal" "$T" ping -f -c "$C" 127.0.0.1)
it=$(pps -t "iputils ping -f, on a terminal" ping -f -c "$C" 127.0.0.1)
t=$(pps "tundra ping -f" "$T" ping -f -q -c "$C" 127.0.0.1)
i=$(pps "iputils ping -f" ping -f -q -c "$C" 127.0.0.1)
tl=$(pps "tundra ping -f -l 64" "$T" ping -f -l 64 -q -c "$C" 127.0.0.1)
il=$(pps "iputils ping -f -l 64" ping -f -l 64 -q -c "$C" 127.0.0.1)
tu=$(pps "tundra ping -f --tx-stamps on" "$T" ping -f --tx-stamps on -q -c "$C" 127.0.0.1)
fl=$(pps "kernel floor (ping_floor)" build/bench/ping_floor "$C")
echo "ratio tundra/iputils flood pps on a terminal (-f -c $C as typed) = $(echo "scale=2; $tt / $it" | bc)x (goal >= 1.3)"
echo "ratio tundra/iputils flood pps with -q (no line drawn) = $(echo "scale=2; $t / $i" | bc)x"
echo "ratio tundra/iputils flood pps with -l 64 = $(echo "scale=2; $tl / $il" | bc)x"
echo "ratio tundra --tx-stamps on/iputils flood pps = $(echo "scale=2; $tu / $i" | bc)x"
echo "ratio kernel floor/iputils flood pps = $(echo "scale=2; $fl / $i" | bc)x (the most a one-in-flight flood can reach here)"
