#!/usr/bin/env bash
# wire: checksum throughput against a 16-bit-at-a-time reference (same run, same
# compiler flags) and TCP segment parse rate.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bench/csum_bench
