#!/usr/bin/env bash
# TCP under the impairment layer (5 % loss, 2 % reorder, 1 % duplication,
# 20 ms + 0-5 ms each way): tundra's TCP as the sender against the kernel's as
# the sender, same stack process, same time, per seed (bench/impair_tcp.py).
# The kernel runs its default congestion control (BBR on this VM, which does
# not back off on random loss) and CUBIC (loss-based, like ours). Low CPU: no
# bench lock needed. IMPAIR_BENCH_BYTES (default 4 MB) per flow,
# IMPAIR_BENCH_SEEDS (default 7,11,13).
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "47-impair: needs root (network namespaces); skipped"; exit 0; }
T=${TUNDRA:-build/tundra}
[ -x "$T" ] || { echo "47-impair: missing $T (make all)"; exit 1; }
TUNDRA=$(realpath "$T") exec /usr/bin/python3 bench/impair_tcp.py run \
    "${IMPAIR_BENCH_BYTES:-4194304}" "${IMPAIR_BENCH_SEEDS:-7,11,13}"
