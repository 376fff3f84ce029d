#!/usr/bin/python3
"""Capture virtio-net headers the Linux kernel writes on a TUN device with
offloads (IFF_VNET_HDR + TUNSETOFFLOAD), for tests/unit/test_wire_vnet.c.

Run as root: ./capture_vnet.py. It creates a network namespace (removed on
exit), opens tun0 there with a 10-byte vnet header and TUN_F_CSUM|TSO4|TSO6,
plays the far end of a TCP connection by hand (a SYN-ACK built with scapy),
and saves what the kernel wrote: the SYN (checksum offloaded) and a GSO TCP
super-packet. Files: vnet_syn.bin, vnet_gso.bin (10-byte header + packet)."""
import fcntl
import os
import secrets
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
TUNSETIFF = 0x400454CA
TUNSETOFFLOAD = 0x400454D0
TUNSETVNETHDRSZ = 0x400454D8
IFF_TUN, IFF_NO_PI, IFF_VNET_HDR = 0x0001, 0x1000, 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6 = 0x01, 0x02, 0x04
VNET = 10


def inner():
    from scapy.all import IP, TCP  # noqa: E402  (scapy only in the child)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", b"tun0", IFF_TUN | IFF_NO_PI | IFF_VNET_HDR))
    fcntl.ioctl(fd, TUNSETVNETHDRSZ, struct.pack("i", VNET))
    fcntl.ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)
    subprocess.run(["ip", "addr", "add", "10.9.0.1/24", "dev", "tun0"], check=True)
    subprocess.run(["ip", "link", "set", "tun0", "up", "mtu", "1500"], check=True)

    def client():
        s = socket.create_connection(("10.9.0.2", 7000), timeout=5)
        s.sendall(b"t" * 20000)
        s.close()

    threading.Thread(target=client, daemon=True).start()
    syn = gso = None
    for _ in range(200):
        pkt = os.read(fd, 70000)
        hdr, ip = pkt[:VNET], pkt[VNET:]
        if ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        t = IP(ip)[TCP]
        if t.flags == "S" and syn is None:
            syn = pkt
            ans = IP(src="10.9.0.2", dst="10.9.0.1") / TCP(
                sport=7000, dport=t.sport, flags="SA", seq=1000, ack=t.seq + 1,
                window=65535, options=[("MSS", 1460), ("WScale", 7)])
            os.write(fd, bytes(VNET) + bytes(ans))
        elif syn is not None and hdr[1] != 0 and gso is None:
            gso = pkt
            break
    if syn is None or gso is None:
        sys.exit("did not see both a SYN and a GSO packet")
    with open(os.path.join(HERE, "vnet_syn.bin"), "wb") as f:
        f.write(syn)
    with open(os.path.join(HERE, "vnet_gso.bin"), "wb") as f:
        f.write(gso)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        return inner()
    ns = f"tdvnet-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                        "--inner"], check=True, timeout=60)
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


if __name__ == "__main__":
    sys.exit(main())
