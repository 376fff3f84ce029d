#!/usr/bin/python3
"""Kernel echo server for bench/46-scale.sh: W processes share ADDR:PORT with
SO_REUSEPORT (one process cannot hold 100 000 sockets under a 20 000 fd hard
limit), each accepting and echoing with epoll.

    scale_echo_server.py ADDR PORT WORKERS
"""
import os
import resource
import select
import signal
import socket
import sys


def worker(addr, port):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    ls.bind((addr, port))
    ls.listen(65535)
    ls.setblocking(False)
    ep = select.epoll()
    ep.register(ls.fileno(), select.EPOLLIN)
    conns = {}
    while True:
        for fd, _ in ep.poll():
            if fd == ls.fileno():
                while len(conns) < hard - 64:
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    conns[c.fileno()] = c
                    ep.register(c.fileno(), select.EPOLLIN)
                continue
            c = conns[fd]
            try:
                d = c.recv(65536)
            except BlockingIOError:
                continue
            if not d:
                ep.unregister(fd)
                del conns[fd]
                c.close()
                continue
            c.sendall(d)


def main():
    addr, port, w = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kids = []
    for _ in range(w):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            worker(addr, port)
            os._exit(0)
        kids.append(pid)

    def stop(*_):
        for k in kids:  # our own children, by pid
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for k in kids:
            os.waitpid(k, 0)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
