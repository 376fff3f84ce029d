#!/usr/bin/env bash
# Regenerate the golden captures in this directory from the running kernel.
# Two network namespaces joined by a veth pair; dumpcap records on one end;
# editcap strips the 14-byte Ethernet header to give LINKTYPE_RAW files.
# Needs root (namespaces). Both namespaces are removed on exit, also on failure.
set -euo pipefail
command -v ethtool >/dev/null || { echo 'capture.sh needs ethtool (apt-get install ethtool)'; exit 1; }
cd "$(dirname "$0")"
A=tdwire-a-$$ B=tdwire-b-$$
PY=/usr/bin/python3
cleanup() {
  [ -n "${CAP_PID:-}" ] && kill "$CAP_PID" 2>/dev/null || true
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -f "$tmp"
}
tmp=$(mktemp --suffix=.pcapng)
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip -n "$A" link add veth0 type veth peer name veth1 netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev veth0
ip -n "$B" addr add 192.0.2.2/24 dev veth1
ip -n "$A" addr add 2001:db8::1/64 dev veth0 nodad
ip -n "$B" addr add 2001:db8::2/64 dev veth1 nodad
for n in "$A" "$B"; do ip -n "$n" link set lo up; done
ip -n "$A" link set veth0 up; ip -n "$B" link set veth1 up
# veth offloads TCP/UDP checksums by default: the captured field would hold
# only the pseudo-header sum. Make the kernel compute them in software.
ip netns exec "$A" ethtool -K veth0 tx off >/dev/null
ip netns exec "$B" ethtool -K veth1 tx off >/dev/null
sleep 1

ip netns exec "$A" dumpcap -q -i veth0 -f 'ip or ip6' -w "$tmp" &
CAP_PID=$!
sleep 2


# 1. ping v4 and v6, one echo each (-p fills the payload with a pattern).
ip netns exec "$A" ping -c 1 -p 74756e647261 192.0.2.2 >/dev/null
ip netns exec "$A" ping -6 -c 1 -p 74756e647261 2001:db8::2 >/dev/null
# 2. TCP v4 and v6: handshake (Linux SYN carries MSS, SACK-perm, TS, wscale),
#    5 bytes of data each way, FIN exchange.
for addr in 192.0.2.2 2001:db8::2; do
  fam=AF_INET; [[ $addr == *:* ]] && fam=AF_INET6
  ip netns exec "$B" $PY -c "
import socket
s = socket.socket(socket.$fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('$addr', 5201)); s.listen(1); s.settimeout(10)
c, _ = s.accept(); c.sendall(c.recv(100).upper()); c.close()" &
  sleep 0.5
  ip netns exec "$A" $PY -c "
import socket
c = socket.create_connection(('$addr', 5201), timeout=10)
c.sendall(b'hello'); c.recv(100); c.close()"
  wait $!
done
# 3. UDP to a closed port v4 and v6: the datagram and the ICMP port unreachable quoting it.
ip netns exec "$A" $PY -c "
import socket
for fam, a in ((socket.AF_INET, '192.0.2.2'), (socket.AF_INET6, '2001:db8::2')):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.sendto(b'tundra', (a, 9)); s.close()"
sleep 0.5
# 4. Fragments: a 3000-byte echo over a 1500-byte MTU, v4 and v6 (fragment header).
ip netns exec "$A" ping -c 1 -s 3000 192.0.2.2 >/dev/null
ip netns exec "$A" ping -6 -c 1 -s 3000 2001:db8::2 >/dev/null
sleep 1
kill "$CAP_PID"; wait "$CAP_PID" 2>/dev/null || true; CAP_PID=

# Keep only IP traffic we caused (no ND/IGMP/MLD chatter), strip Ethernet.
keep() { # $1 = output, $2 = display filter
  tshark -o ip.defragment:FALSE -o ipv6.defragment:FALSE -r "$tmp" -Y "$2" -w "$1.eth.pcap" -F pcap 2>/dev/null
  editcap -F pcap -C 14 -T rawip "$1.eth.pcap" "$1.pcap"
  rm -f "$1.eth.pcap"
}
keep ping4 '(icmp.type == 8 || icmp.type == 0) && ip.flags.mf == 0 && ip.frag_offset == 0'
keep ping6 '(icmpv6.type == 128 || icmpv6.type == 129) && ipv6.nxt == 58'
keep tcp4 'tcp && ip'
keep tcp6 'tcp && ipv6'
keep udp_unreach 'udp.port == 9 || icmp.type == 3 || icmpv6.type == 1'
keep frag 'ip.flags.mf == 1 || ip.frag_offset > 0 || ipv6.nxt == 44'
keep mld 'icmpv6.type == 143'
./mkvectors.py
ls -l *.pcap
