"""Hostile TCP segments for tundra stack, run inside the test's namespace.

    tcp_scapy_peer.py CASE      prints one JSON line: what the stack answered

Source 10.0.0.77 is spoofed (the kernel does not own it, so it never resets the
stack's answers); answers are sniffed on the TUN device.
"""
import json
import random
import socket
import struct
import sys
import time

from scapy.all import IP, TCP, AsyncSniffer, Raw, conf, send  # noqa: E402

conf.verb = 0
IFACE = "tundra0"
ME, STACK = "10.0.0.77", "10.0.0.2"


def fix_tcp_csum(raw):
    """Recompute the TCP checksum of raw IPv4 bytes as they are (scapy would
    re-serialise and "repair" the malformation under test)."""
    ihl = (raw[0] & 0xF) * 4
    tcp = bytearray(raw[ihl:])
    tcp[16:18] = b"\0\0"
    ph = raw[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    struct.pack_into("!H", tcp, 16, csum(bytes(ph + tcp)))
    return raw[:ihl] + bytes(tcp)


def send_raw(raw):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(raw, (STACK, 0))
    s.close()


def exchange(pkts, timeout=0.6, port=None):
    sn = AsyncSniffer(iface=IFACE, filter=f"tcp and src host {STACK}", store=True)
    sn.start()
    time.sleep(0.2)
    for p in pkts:
        if isinstance(p, (bytes, bytearray)):
            send_raw(bytes(p))
        else:
            send(p)
    time.sleep(timeout)
    got = sn.stop() or []
    out = []
    for g in got:
        if TCP in g and (port is None or g[TCP].dport == port):
            out.append({"flags": str(g[TCP].flags), "seq": g[TCP].seq, "ack": g[TCP].ack,
                        "len": len(g[TCP].payload)})
    return out


def handshake(sport):
    """SYN, get SYN-ACK, ACK: returns (our next seq, stack's next seq)."""
    got = exchange([IP(src=ME, dst=STACK) / TCP(sport=sport, dport=7, flags="S", seq=1000)],
                   port=sport)
    sa = [g for g in got if g["flags"] == "SA"]
    assert sa, got
    their = sa[0]["seq"] + 1
    send(IP(src=ME, dst=STACK) / TCP(sport=sport, dport=7, flags="A", seq=1001, ack=their))
    return 1001, their


def case_zero_len_option():
    # option kind 30 with length 0: must be dropped (no answer), not loop
    p = IP(src=ME, dst=STACK) / TCP(sport=40001, dport=7, flags="S", seq=5,
                                   options=[(30, b"")])
    raw = bytes(p)
    # force a length byte of 0 after kind 30
    i = 40
    raw = raw[:i] + bytes([30, 0, 1, 1]) + raw[i + 4:]
    return {"answers": exchange([fix_tcp_csum(raw)], port=40001)}


def case_overlong_option():
    # MSS option claiming 16 bytes inside a 4-byte option area
    raw = bytes(IP(src=ME, dst=STACK) / TCP(sport=40002, dport=7, flags="S", seq=5,
                                            options=[("MSS", 1460)]))
    raw = raw[:40] + bytes([2, 16, 5, 0xB4]) + raw[44:]
    return {"answers": exchange([fix_tcp_csum(raw)], port=40002)}


def case_data_offset_lies():
    # data offset 15 (60 bytes) on a 20-byte segment, and 2 (< 5)
    raw = bytes(IP(src=ME, dst=STACK) / TCP(sport=40003, dport=7, flags="S", seq=5))
    a = raw[:32] + bytes([15 << 4]) + raw[33:]
    b = raw[:32] + bytes([2 << 4]) + raw[33:]
    return {"answers": exchange([fix_tcp_csum(a), fix_tcp_csum(b)], port=40003)}


def case_syn_fin():
    pk = IP(src=ME, dst=STACK) / TCP(sport=40004, dport=7, flags="SF", seq=5)
    return {"answers": exchange([pk], port=40004)}


def case_rst_wrong_seq():
    ours, theirs = handshake(40005)
    pk = IP(src=ME, dst=STACK) / TCP(sport=40005, dport=7, flags="R", seq=ours + 500)
    ans = exchange([pk], port=40005)
    # then the exact RST really resets
    send(IP(src=ME, dst=STACK) / TCP(sport=40005, dport=7, flags="R", seq=ours))
    return {"answers": ans, "ours": ours, "theirs": theirs}


def case_data_outside_window():
    ours, theirs = handshake(40006)
    pk = IP(src=ME, dst=STACK) / TCP(sport=40006, dport=7, flags="PA", seq=ours + 50_000_000,
                                    ack=theirs) / Raw(b"far away")
    ans = exchange([pk], port=40006)
    send(IP(src=ME, dst=STACK) / TCP(sport=40006, dport=7, flags="R", seq=ours))
    return {"answers": ans, "ours": ours, "theirs": theirs}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def case_syn_flood(n):
    """n spoofed SYNs to port 80 from 10.0.1.0/24-ish sources, as fast as a raw socket goes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst = socket.inet_aton(STACK)
    t0 = time.time()
    rnd = random.Random(1)
    for i in range(n):
        src = bytes([10, 0, 0, 100 + (i % 150)])
        sport = 1024 + (i * 7) % 60000
        seq = rnd.getrandbits(32)
        tcp = struct.pack("!HHIIBBHHH", sport, 80, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
        ph = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        c = csum(ph + tcp)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
        s.sendto(ip + tcp, (STACK, 0))
    return {"sent": n, "seconds": time.time() - t0}


def main(argv):
    c = argv[1]
    if c == "flood":
        r = case_syn_flood(int(argv[2]))
    else:
        r = globals()["case_" + c]()
    print(json.dumps(r))


if __name__ == "__main__":
    main(sys.argv)
