#!/usr/bin/env bash
# TCP demo: tundra stack in a private namespace; the kernel fetches and checks
# a stream over HTTP, uploads, echoes through port 7, and reads the counters.
set -euo pipefail
T=${TUNDRA:-build/tundra}
if [ "$(id -u)" != 0 ]; then echo "40-tcp: needs root for a namespace; skipped"; exit 0; fi
NS=tdd-tcp-$$
ip netns add "$NS"
trap 'kill $SP 2>/dev/null; wait $SP 2>/dev/null; ip netns del "$NS"' EXIT
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" "$T" stack --name tdd0 & SP=$!
for _ in $(seq 50); do ip netns exec "$NS" ip -br addr show tdd0 2>/dev/null | grep -q 10.0.0.1 && break; sleep 0.1; done
sleep 0.2
echo "-- curl http://10.0.0.2/bytes/50000000 (deterministic stream, see docs/tcp.md)"
ip netns exec "$NS" curl -sS -o /dev/null -w 'downloaded %{size_download} bytes at %{speed_download} B/s\n' \
  http://10.0.0.2/bytes/50000000
echo "-- curl --data-binary (20 MB) http://[fd00::2]/upload"
head -c 20000000 /dev/zero | ip netns exec "$NS" curl -sS --data-binary @- http://[fd00::2]/upload
echo "-- echo through port 7"
ip netns exec "$NS" /usr/bin/python3 -c '
import socket; s = socket.create_connection(("10.0.0.2", 7)); s.sendall(b"hello, tundra\n")
s.shutdown(socket.SHUT_WR); print(s.recv(100).decode(), end="")'
echo "-- TCP counters (GET /stats)"
ip netns exec "$NS" curl -sS http://10.0.0.2/stats | tr ',' '\n' | grep -E '"tcp_(established|rx_bytes|tx_bytes|retransmits|passive_opens)"'
