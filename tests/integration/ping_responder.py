"""A misbehaving ICMP echo responder for tundra ping tests.

Runs inside a namespace whose kernel does not answer echo itself
(net.ipv4.icmp_echo_ignore_all=1). It answers each echo request by its
wire sequence number (0-based):

    seq 0  normal reply
    seq 1  reply sent twice                     -> duplicate
    seq 2  held back, sent after seq 3's reply  -> out of order
    seq 3  normal reply
    seq 4  one pattern byte changed (checksum fixed) -> corrupted
    seq 5  one MAC byte changed (checksum fixed)     -> forged, then timeout
    other  normal reply

With a second argument DELAY (seconds) it misbehaves only by being slow:
every request gets a normal reply DELAY seconds later. Either way it stops
after COUNT (first argument, default 6) distinct requests.

Prints "ready" once its socket is open.
"""
import socket
import struct
import sys
import threading


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return (~s) & 0xFFFF


def reply(icmp, flip=None):
    b = bytearray(icmp)
    b[0] = 0
    b[2:4] = b"\0\0"
    if flip is not None:
        b[flip] ^= 0x55
    b[2:4] = struct.pack("!H", csum(bytes(b)))
    return bytes(b)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else None
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("ready", flush=True)
    held = None
    seen = set()
    timers = []
    while len(seen) < count:
        pkt, (src, _) = s.recvfrom(4096)
        ihl = (pkt[0] & 0x0F) * 4
        icmp = pkt[ihl:]
        if len(icmp) < 8 or icmp[0] != 8:
            continue
        seq = struct.unpack("!H", icmp[6:8])[0]
        if seq in seen:
            continue
        seen.add(seq)
        if delay is not None:
            t = threading.Timer(delay, s.sendto, (reply(icmp), (src, 0)))
            t.start()
            timers.append(t)
        elif seq == 1:
            s.sendto(reply(icmp), (src, 0))
            s.sendto(reply(icmp), (src, 0))
        elif seq == 2:
            held = reply(icmp)
        elif seq == 3:
            s.sendto(reply(icmp), (src, 0))
            if held:
                s.sendto(held, (src, 0))
        elif seq == 4:
            s.sendto(reply(icmp, flip=8 + 40), (src, 0))
        elif seq == 5:
            s.sendto(reply(icmp, flip=8 + 18), (src, 0))
        else:
            s.sendto(reply(icmp), (src, 0))
    for t in timers:
        t.join()
    print("done", flush=True)


if __name__ == "__main__":
    main()
