#!/usr/bin/python3
"""Open N concurrent idle TCP connections from several source addresses.

    tcp_many_idle.py DST PORT N SRC1[,SRC2...] [--hold [--rtt M]]

Nonblocking connects driven by epoll, at most WINDOW in flight. Prints one
JSON line when all are established (or failed): counts, seconds, accept
rate; then, if --hold is given, keeps the connections open until a line is
read from stdin, proves the last-opened one still echoes and prints a second
JSON line.
"""
import errno
import json
import resource
import select
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24
WINDOW = 100  # under the stack's SYN backlog (128): no SYN cookies, whose lost ACK
# would leave the kernel side established and the stack without the connection


def main():
    dst, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    srcs = sys.argv[4].split(",")
    hold = "--hold" in sys.argv
    want = n + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        # the hard limit may not be raised here (no CAP_SYS_RESOURCE in some
        # containers): the caller then spreads connections over processes
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    if min(want, hard) < want:
        print(json.dumps({"error": f"RLIMIT_NOFILE hard limit {hard} < {want}"}), flush=True)
        return 1

    ep = select.epoll()
    socks = []
    pending = {}
    ok = failed = 0
    t0 = time.monotonic()
    nxt = 0
    while ok + failed < n:
        while nxt < n and len(pending) < WINDOW:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((srcs[nxt % len(srcs)], 0))
            s.setblocking(False)
            rc = s.connect_ex((dst, port))
            if rc not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
            else:
                pending[s.fileno()] = s
                ep.register(s.fileno(), select.EPOLLOUT)
            nxt += 1
        if time.monotonic() - t0 > 600:
            break
        for fd, _ in ep.poll(1.0):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                ok += 1
                socks.append(s)
            else:
                failed += 1
                s.close()
    dt = time.monotonic() - t0
    print(json.dumps({"established": ok, "failed": failed, "seconds": round(dt, 3),
                      "rate": round(ok / dt, 1) if dt > 0 else 0}), flush=True)
    if not hold:
        return 0
    sys.stdin.readline()
    last = socks[-1]
    last.setblocking(True)
    last.settimeout(10)
    msg = b"still here after %d connections" % ok
    last.sendall(msg)
    got = b""
    while len(got) < len(msg):
        chunk = last.recv(4096)
        if not chunk:
            break
        got += chunk
    res = {"echo_ok": got == msg}
    if "--rtt" in sys.argv:
        # 1-byte round trips on the connection opened last: the per-segment
        # cost with every other connection present (lookup, timers)
        m = int(sys.argv[sys.argv.index("--rtt") + 1])
        t = time.monotonic()
        for _ in range(m):
            last.sendall(b"x")
            if last.recv(1) != b"x":
                res["echo_ok"] = False
                break
        res["rtt_us"] = round((time.monotonic() - t) * 1e6 / m, 2)
    print(json.dumps(res), flush=True)
    for s in socks:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
