#!/usr/bin/env bash
# Demo of `tundra stack`: a userspace IPv4/IPv6 host in a private namespace,
# pinged over both families, a UDP exchange, its counters, then teardown.
set -euo pipefail
TUNDRA=${TUNDRA:-$PWD/build/tundra}
if [ "$(id -u)" -ne 0 ]; then
  echo "30-stack: needs root for the namespace (or run: $TUNDRA stack --rootless -- sh)"; exit 0
fi
ns="tdemo-stack-$$"
dir=$(mktemp -d)
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up

echo "\$ tundra stack --stats=json --stats-file stats.json   # inside namespace $ns"
ip netns exec "$ns" "$TUNDRA" stack --stats=json --stats-file "$dir/stats.json" --pcap "$dir/demo.pcap" &
pid=$!
for _ in $(seq 50); do ip -n "$ns" addr show tundra0 2>/dev/null | grep -q fd00::1 && break; sleep 0.1; done
sleep 0.2

if "$TUNDRA" ping --help >/dev/null 2>&1; then
  ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
  PING=("$TUNDRA" ping); LABEL="tundra ping"
else
  PING=(ping); LABEL="ping"; echo "(tundra ping is not in this build: iputils ping)"
fi
echo "\$ $LABEL -c 3 10.0.0.2"
ip netns exec "$ns" "${PING[@]}" -c 3 -i 0.2 10.0.0.2
echo "\$ $LABEL -c 3 -s 4000 fd00::2      # fragmented both ways"
ip netns exec "$ns" "${PING[@]}" -c 3 -i 0.2 -s 4000 fd00::2

echo "\$ UDP: echo (port 7) from a kernel socket, then a closed port"
ip netns exec "$ns" /usr/bin/python3 - <<'PY'
import socket
for fam, dst in ((socket.AF_INET, "10.0.0.2"), (socket.AF_INET6, "fd00::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(b"hello, tundra", (dst, 7))
    print(f"  {dst} port 7 echoed: {s.recvfrom(100)[0]!r}")
    u = socket.socket(fam, socket.SOCK_DGRAM); u.settimeout(2); u.connect((dst, 4242)); u.send(b"?")
    try:
        u.recv(10)
    except ConnectionRefusedError:
        print(f"  {dst} port 4242: connection refused (ICMP port unreachable from the stack)")
PY

echo "\$ kill -USR1 <stack>   # counters (non-zero shown)"
kill -USR1 "$pid"; sleep 0.3
/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for k, v in d["counters"].items():
    if v: print(f"  {k:24} {v}")
for layer, errs in d["wire"].items():
    for k, v in errs.items():
        if v: print(f"  {layer}_{k:19} {v}")
' "$dir/stats.json"
kill "$pid"; wait "$pid" || true; pid=
echo "\$ tshark -r demo.pcap | tail -3"
tshark -n -r "$dir/demo.pcap" 2>/dev/null | tail -3 || true
echo "stack stopped; namespace $ns removed"
