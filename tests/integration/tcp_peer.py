"""Kernel-side TCP peer for the TCP integration tests; run inside the test's namespace.

    tcp_peer.py echo HOST PORT NBYTES          send NBYTES, half-close, read the echo, compare sha256
    tcp_peer.py many HOST PORT NCONN NBYTES    NCONN concurrent echo connections
    tcp_peer.py discard HOST PORT N            send N bytes, half-close, expect EOF and nothing back
    tcp_peer.py chargen HOST PORT N            read N bytes
    tcp_peer.py rst HOST PORT                  connect, send, abort with RST (SO_LINGER 0)
    tcp_peer.py refused HOST PORT              connect to a closed port: expect ECONNREFUSED
    tcp_peer.py listen PORT SEND_N EXPECT_N    accept one connection, send SEND_N stream bytes,
                                               read until EOF, check EXPECT_N stream bytes
Prints one JSON line; exits non-zero on failure.
"""
import errno
import hashlib
import json
import os
import selectors
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import tcp_stream  # noqa: E402


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def echo(host, port, n):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect((host, port))
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    h_tx, h_rx = hashlib.sha256(), hashlib.sha256()
    sent = got = 0
    chunk = os.urandom(65536)
    t0 = time.time()
    while got < n:
        if time.time() - t0 > 120:
            raise SystemExit("echo: timeout")
        for key, ev in sel.select(1):
            if ev & selectors.EVENT_WRITE and sent < n:
                piece = chunk[: min(len(chunk), n - sent)]
                try:
                    w = s.send(piece)
                except BlockingIOError:
                    w = 0
                h_tx.update(piece[:w])
                sent += w
                if sent == n:
                    s.shutdown(socket.SHUT_WR)  # half-close: the echo still comes back
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    d = s.recv(262144)
                except BlockingIOError:
                    continue
                if not d:
                    raise SystemExit(f"echo: EOF after {got} of {n}")
                h_rx.update(d)
                got += len(d)
    s.setblocking(True)
    tail = s.recv(1)  # the stack closes after echoing everything
    s.close()
    ok = h_tx.hexdigest() == h_rx.hexdigest() and tail == b""
    print(json.dumps({"ok": ok, "bytes": got, "seconds": time.time() - t0,
                      "sha256": h_rx.hexdigest()}))
    return 0 if ok else 1


def many(host, port, nconn, nbytes):
    sel = selectors.DefaultSelector()
    conns = {}
    payload = os.urandom(nbytes)
    for i in range(nconn):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect((host, port))
        except BlockingIOError:
            pass
        conns[s] = {"sent": 0, "got": bytearray()}
        sel.register(s, selectors.EVENT_WRITE)
    t0 = time.time()
    done = 0
    while done < nconn and time.time() - t0 < 60:
        for key, ev in sel.select(1):
            s = key.fileobj
            c = conns[s]
            if ev & selectors.EVENT_WRITE:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise SystemExit(f"connect: {os.strerror(err)}")
                c["sent"] += s.send(payload[c["sent"]:])
                if c["sent"] == nbytes:
                    sel.modify(s, selectors.EVENT_READ)
            elif ev & selectors.EVENT_READ:
                d = s.recv(65536)
                c["got"] += d
                if len(c["got"]) == nbytes:
                    done += 1
                    sel.unregister(s)
    # every connection open at the same time before any closes
    ok = done == nconn and all(bytes(c["got"]) == payload for c in conns.values())
    for s in conns:
        s.close()
    print(json.dumps({"ok": ok, "done": done, "seconds": time.time() - t0}))
    return 0 if ok else 1


def discard(host, port, n):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect((host, port))
    s.sendall(b"\0" * n)
    s.shutdown(socket.SHUT_WR)
    back = s.recv(1)  # the service answers our FIN with its own, sending nothing
    s.close()
    print(json.dumps({"ok": back == b""}))
    return 0 if back == b"" else 1


def chargen(host, port, n):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    got = bytearray()
    while len(got) < n:
        d = s.recv(n - len(got))
        if not d:
            break
        got += d
    s.close()
    print(json.dumps({"ok": len(got) == n, "data": got.decode("ascii")}))
    return 0


def rst(host, port):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect((host, port))
    s.sendall(b"x" * 1000)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print(json.dumps({"ok": True}))
    return 0


def refused(host, port):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    s.settimeout(10)
    try:
        s.connect((host, port))
    except ConnectionRefusedError:
        print(json.dumps({"ok": True}))
        return 0
    print(json.dumps({"ok": False}))
    return 1


def listen(port, send_n, expect_n):
    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", port))
    ls.listen(1)
    ls.settimeout(30)
    print(json.dumps({"listening": port}), flush=True)
    s, _ = ls.accept()
    s.settimeout(60)
    sent = 0
    while sent < send_n:
        n = min(65536, send_n - sent)
        s.sendall(tcp_stream.stream(sent, n))
        sent += n
    s.shutdown(socket.SHUT_WR)
    h = hashlib.sha256()
    got = 0
    while True:
        d = s.recv(262144)
        if not d:
            break
        h.update(d)
        got += len(d)
    ok = got == expect_n and h.hexdigest() == tcp_stream.sha256(expect_n)
    print(json.dumps({"ok": ok, "received": got, "sent": sent}))
    return 0 if ok else 1


def main(argv):
    cmd = argv[1]
    if cmd == "echo":
        return echo(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "many":
        return many(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    if cmd == "discard":
        return discard(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "chargen":
        return chargen(argv[2], int(argv[3]), int(argv[4]))
    if cmd == "rst":
        return rst(argv[2], int(argv[3]))
    if cmd == "refused":
        return refused(argv[2], int(argv[3]))
    if cmd == "listen":
        return listen(int(argv[2]), int(argv[3]), int(argv[4]))
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
