#!/usr/bin/env bash
# wire: decode packets the Linux kernel sent (tests/vectors) layer by layer,
# the way `tshark -V` prints them.
set -euo pipefail
cd "$(dirname "$0")/../.."
TUNDRA=${TUNDRA:-build/tundra}
echo "\$ tundra decode --brief tests/vectors/sack.pcap   # a hole, and the kernel's SACK blocks"
"$TUNDRA" decode --brief tests/vectors/sack.pcap
echo
echo "\$ tundra decode tests/vectors/tcp4.pcap   # first two frames: SYN and SYN-ACK with options"
"$TUNDRA" decode tests/vectors/tcp4.pcap | awk '/^Frame 3:/{stop=1} !stop'
echo
echo "\$ tundra decode tests/vectors/udp_unreach.pcap   # ICMPv6 error quoting the UDP datagram"
"$TUNDRA" decode tests/vectors/udp_unreach.pcap | awk '/^Frame 4:/{p=1} p'
echo
echo "\$ tundra decode tests/vectors/frag.pcap | grep -A5 'Fragment Header for IPv6'   # IPv6 fragments"
"$TUNDRA" decode tests/vectors/frag.pcap | grep -A5 'Fragment Header for IPv6$' | awk 'NR <= 13'
echo
echo "every vector, frames and checksum status:"
for f in tests/vectors/*.pcap; do
  out=$("$TUNDRA" decode "$f")
  printf '  %-32s %3d frames, %3d checksums good, %d bad\n' "$f" \
    "$(grep -c '^Frame ' <<<"$out")" "$(grep -c 'Status: Good' <<<"$out")" \
    "$(grep -c 'Status: Bad' <<<"$out" || true)"
done
