#!/usr/bin/python3
"""Capture TCP segments carrying SACK blocks from the Linux kernel, for
tests/unit/test_wire_tcp.c. Writes sack.pcap (LINKTYPE_RAW, usec).

Run as root: ./capture_sack.py. In a network namespace it creates (removed on
exit) it opens tun0, gives it 10.9.0.1/24, lets a kernel socket listen on
10.9.0.1:7001 and plays a client at 10.9.0.2 by hand (scapy): handshake with
SACK-permitted and timestamps, then 3 data segments of 100 bytes with the
second one missing, so the kernel answers the third and fourth with duplicate
ACKs carrying SACK blocks (RFC 2018). Every packet in both directions is
saved as it crossed the TUN device."""
import fcntl
import os
import secrets
import select
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000


def inner():
    from scapy.all import IP, TCP, Raw  # noqa: E402
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI))
    subprocess.run(["ip", "addr", "add", "10.9.0.1/24", "dev", "tun0"], check=True)
    subprocess.run(["ip", "link", "set", "tun0", "up"], check=True)
    srv = socket.socket()
    srv.bind(("10.9.0.1", 7001))
    srv.listen(1)
    conns = []  # keep the accepted socket open (unread) while we play

    def server():
        conns.append(srv.accept()[0])

    threading.Thread(target=server, daemon=True).start()
    got = []  # (time, bytes) in both directions

    def send(pkt):
        b = bytes(pkt)
        got.append((time.time(), b))
        os.write(fd, b)

    def recv_tcp(timeout=2.0):
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([fd], [], [], end - time.time())
            if not r:
                break
            b = os.read(fd, 65536)
            if b[0] >> 4 == 4 and b[9] == 6:
                got.append((time.time(), b))
                return IP(b)
        return None

    ip = IP(src="10.9.0.2", dst="10.9.0.1")
    isn, ts = 5000, 777
    opts = [("MSS", 1400), ("SAckOK", b""), ("Timestamp", (ts, 0)), ("NOP", None),
            ("WScale", 7)]
    send(ip / TCP(sport=40001, dport=7001, flags="S", seq=isn, window=64000, options=opts))
    synack = recv_tcp()
    if synack is None or synack[TCP].flags != "SA":
        sys.exit("no SYN-ACK")
    ack = synack[TCP].seq + 1
    tsecr = dict(synack[TCP].options)["Timestamp"][0]

    def seg(off, flags="A"):
        return ip / TCP(sport=40001, dport=7001, flags=flags, seq=isn + 1 + off, ack=ack,
                        window=500, options=[("NOP", None), ("NOP", None),
                                             ("Timestamp", (ts + 1 + off // 100, tsecr))])

    send(seg(0))                                  # the handshake's ACK
    send(seg(0) / Raw(b"a" * 100))                # bytes 0..99
    recv_tcp(0.5)                                 # its ACK (may be delayed)
    send(seg(200) / Raw(b"c" * 100))              # 200..299: a hole at 100..199
    sack1 = recv_tcp()
    send(seg(300) / Raw(b"d" * 100))              # 300..399
    sack2 = recv_tcp()
    if not sack1 or not sack2:
        sys.exit("no duplicate ACKs")
    with open(os.path.join(HERE, "sack.pcap"), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for t, b in got:
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(b), len(b)) + b)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        return inner()
    ns = f"tdsack-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                        "--inner"], check=True, timeout=60)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    sys.exit(main())
