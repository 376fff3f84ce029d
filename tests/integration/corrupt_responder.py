"""An ICMP echo responder that corrupts one data byte of every reply.

    corrupt_responder.py OFFSET COUNT

Runs inside a namespace whose kernel does not answer echo itself
(net.ipv4.icmp_echo_ignore_all=1). Each echo request is answered once with
ICMP data byte OFFSET (0 = first byte after the 8-byte header) xored with
0x55 and the checksum fixed: the reply reads as sent except that byte, so
the pinger must report a wrong data byte. Stops after COUNT replies.
Prints "ready" once its socket is open.
"""
import socket
import sys

from ping_responder import reply


def main():
    offset, count = int(sys.argv[1]), int(sys.argv[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    print("ready", flush=True)
    done = 0
    while done < count:
        pkt, (src, _) = s.recvfrom(65536)
        icmp = pkt[(pkt[0] & 0x0F) * 4:]
        if len(icmp) <= 8 + offset or icmp[0] != 8:
            continue
        s.sendto(reply(icmp, flip=8 + offset), (src, 0))
        done += 1


if __name__ == "__main__":
    main()
