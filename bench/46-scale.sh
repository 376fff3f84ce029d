#!/usr/bin/env bash
# Many connections: 1k / 10k / 100k concurrent idle connections from the
# kernel into tundra stack over TUN vs a kernel listener over veth, same
# client, same run: RSS per connection, accept rate (ratio to the kernel),
# and the per-segment cost (1-byte round trips on the connection opened last)
# with N connections present vs one. Needs root. SCALE_BENCH_SIZES overrides.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "46-scale: needs root (network namespaces); skipped"; exit 0; }
T=${TUNDRA:-build/tundra}
[ -x "$T" ] || { echo "46-scale: missing $T (make all)"; exit 1; }
if [ -x build/bench/tcp_lookup ]; then
  echo "46-scale: TCP input per data segment (hash lookup, delayed-ACK timer on the wheel), in-process"
  build/bench/tcp_lookup || echo "46-scale: tcp_lookup FAILED"
fi
echo "46-scale: idle connections, tundra stack (TUN) vs kernel (veth), same client"
# shellcheck disable=SC2086
if [ $# -gt 0 ]; then set -- "$@"; else set -- ${SCALE_BENCH_SIZES:-1000 10000 100000}; fi
TUNDRA="$T" exec /usr/bin/python3 bench/scale_bench.py "$@"
