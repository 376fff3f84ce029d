#!/usr/bin/env bash
# Sustained: 10 000 loopback targets (127.x.y.z in a namespace of our own), one
# probe each per second for 60 s. Goals: 0 % loss, CPU < 10 % of a core.
# fping cannot run this (one 65 535-entry sequence space reused after 10 s
# caps it at ~6.5k probes/s); it is run at the same settings for the record.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(readlink -f "${TUNDRA:-build/tundra}")
MEASURE=$(readlink -f build/bench/spawn_measure)
[ -x "$MEASURE" ] || { echo "$0: $MEASURE missing (make bench-build)" >&2; exit 2; }
N=${SUSTAINED_TARGETS:-10000}
SECS=${SUSTAINED_SECONDS:-60}
ns=tdsust-$$-$RANDOM
tmp=$(mktemp -d)
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null; rm -rf "$tmp"' EXIT
ip -n "$ns" link set lo up
hi=$(/usr/bin/python3 -c "import ipaddress; print(ipaddress.IPv4Address('127.1.0.1') + $N - 1)")

# Spread each round over 0.8 s (spacing = 0.8 s / N) so sends are paced, as fping's -i does.
spacing=$(echo "scale=4; 800 / $N" | bc)
r=$(ip netns exec "$ns" "$MEASURE" 1 "$tmp/t.out" \
      "$T" ping -q -c "$SECS" -i 1 -W 1 --spacing "$spacing" -g "127.1.0.1-$hi")
read -r wall cpu rss <<<"$r"
line=$(grep -E 'packets transmitted' "$tmp/t.out")
tx=$(sed -E 's/^([0-9]+) packets transmitted.*/\1/' <<<"$line")
rx=$(sed -E 's/^[0-9]+ packets transmitted, ([0-9]+) received.*/\1/' <<<"$line")
loss=$(sed -E 's/.* ([0-9.]+)% packet loss.*/\1/' <<<"$line")
echo "tundra: $N targets x $SECS s at 1/s: $tx sent, $rx received, loss $loss %, wall ${wall}s," \
     "CPU ${cpu}s = $(echo "scale=1; 100 * $cpu / $wall" | bc) % of a core, peak RSS $((rss / 1024)) MB"

# fping, same targets, count mode, -p 1000 (period) -i (spacing in ms), for the record
fr=$(ip netns exec "$ns" "$MEASURE" 1 "$tmp/f.out" \
      fping -q -c "$SECS" -p 1000 -i "$(echo "scale=3; 800 / $N" | bc | sed 's/^\./0./')" -r 0 -t 1000 -g 127.1.0.1 "$hi")
read -r fwall fcpu frss <<<"$fr"
fsent=$(grep -oE 'xmt/rcv/%loss = [0-9]+/[0-9]+' "$tmp/f.out" | awk -F'[=/ ]+' '{s+=$4; r+=$5} END {print s+0, r+0}')
ferr=$(grep -c "not enough sequence numbers" "$tmp/f.out" || true)
echo "fping:  $N targets x $SECS s: sent/received $fsent, wall ${fwall}s, CPU ${fcpu}s, peak RSS $((frss / 1024)) MB, 'not enough sequence numbers' errors: $ferr"
echo "ratio: tundra CPU share of a core = $(echo "scale=3; $cpu / $wall" | bc) (goal < 0.10), tundra loss = $loss % (goal 0)"
