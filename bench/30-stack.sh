#!/usr/bin/env bash
# ICMP echo RTT and flood rate through tundra stack vs a minimal TUN responder
# and lwIP over the same TUN, all in one run (needs root: namespaces + TUN).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "30-stack: needs root, skipped"; exit 0; fi
build/bench/stack_core
exec /usr/bin/python3 bench/stack_bench.py
