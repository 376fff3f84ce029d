#!/usr/bin/env bash
# Loopback RTT median: 500 probes at 10 ms, tundra vs iputils ping vs fping, same run.
# All three run as root on the host loopback (127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TUNDRA:-build/tundra}
N=${RTT_PROBES:-500}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

"$T" ping -c "$N" -i 0.01 --json 127.0.0.1 >"$tmp/tundra.json"
ping -c "$N" -i 0.01 127.0.0.1 >"$tmp/iputils.txt"
fping -C "$N" -p 10 -q 127.0.0.1 2>"$tmp/fping.txt" || true

/usr/bin/python3 - "$tmp" "$N" <<'PY'
import json, re, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
t = [json.loads(l) for l in open(f"{d}/tundra.json")]
tr = [e["rtt_ms"] * 1000 for e in t if e["type"] == "reply" and not e["dup"]]
kern = sum(e["kernel_timestamps"] for e in t if e["type"] == "reply")
ir = [float(x) * 1000 for x in re.findall(r"time=([\d.]+) ms", open(f"{d}/iputils.txt").read())]
fl = open(f"{d}/fping.txt").read().split(":", 1)[1].split()
fr = [float(x) * 1000 for x in fl if x != "-"]
med = {k: statistics.median(v) for k, v in (("tundra", tr), ("iputils", ir), ("fping", fr))}
print(f"loopback RTT, {n} probes at 10 ms (median, p90 in us; replies):")
for k, v in (("tundra", tr), ("iputils", ir), ("fping", fr)):
    q = statistics.quantiles(v, n=10)
    print(f"  {k:8s} median {med[k]:7.2f}  p90 {q[8]:7.2f}  ({len(v)} replies)")
print(f"  tundra replies with kernel TX+RX stamps: {kern}/{len(tr)}")
print(f"ratio tundra/iputils median RTT = {med['tundra'] / med['iputils']:.2f}x (goal <= 0.70)")
print(f"ratio tundra/fping   median RTT = {med['tundra'] / med['fping']:.2f}x")
PY
