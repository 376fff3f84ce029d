"""Many connections: N concurrent idle connections from the kernel side of the
TUN to the stack's echo service, from several source addresses added inside
the test's namespace. Reports the stack's resident memory per connection and
the accept rate, and checks that the connection opened last still echoes.

N is 10 000 in `make check` (about 10 s) and the issue's 100 000 under
TUNDRA_LONG=1 (`make check-long`).
"""
import json
import os
import subprocess
import time

import pytest

from netns import Netns
from stackutil import Stack

HERE = os.path.dirname(__file__)
CLIENT = os.path.join(HERE, "tcp_many_idle.py")
LONG = os.environ.get("TUNDRA_LONG") == "1"
N = 100000 if LONG else 10000
SRCS = [f"10.0.0.{i}" for i in range(11, 15)]  # 4 x ~64k ports

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def open_many(ns, st, n, max_conns):
    """Open n idle connections; returns (report dict, client process)."""
    for a in SRCS:
        ns.run("ip", "addr", "add", f"{a}/32", "dev", "tundra0")
    ns.sysctl("net.ipv4.ip_local_port_range", "1024 65535")
    ns.run("ip", "link", "set", "tundra0", "txqueuelen", "10000")
    p = ns.popen(["/usr/bin/python3", CLIENT, "10.0.0.2", "7", str(n), ",".join(SRCS), "--hold"],
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    line = p.stdout.readline()
    assert line, p.stderr.read() if p.poll() is not None else "client said nothing"
    return json.loads(line), p


def test_tcp_scale_idle_connections_memory_rate_and_last_echo(record_property):
    with Netns() as ns:
        with Stack(ns, "--tcp-max-conns", str(N + 1000)) as st:
            pid = st.p.pid
            before = rss_kib(pid)
            rep, cl = open_many(ns, st, N, N + 1000)
            try:
                assert rep["established"] == N, rep
                # the kernel is established at the SYN-ACK; the stack at
                # the last ACK, which may still be on its way
                deadline = time.monotonic() + 20
                while True:
                    s = st.stats()
                    if (s["transport"]["tcp_established"] >= N
                            or time.monotonic() > deadline):
                        break
                    time.sleep(0.2)
                t = s["transport"]
                assert t["tcp_established"] >= N, {k: v for k, v in t.items() if v}
                after = rss_kib(pid)
                per_conn = (after - before) * 1024 / N
                assert s["transport"]["tcp_conn_limit_refused"] == 0
                cl.stdin.write("go\n")
                cl.stdin.flush()
                echo = json.loads(cl.stdout.readline())
                assert echo["echo_ok"], echo
            finally:
                if cl.poll() is None:
                    cl.stdin.close()
                    cl.wait(timeout=60)
        print(f"\nscale: {N} idle connections, stack RSS {before} -> {after} KiB, "
              f"{per_conn:.0f} B/connection, accept rate {rep['rate']:.0f}/s "
              f"({rep['seconds']} s)")
        record_property("bytes_per_conn", per_conn)
        record_property("accept_rate", rep["rate"])
        assert per_conn <= 1024, f"{per_conn:.0f} B per connection, goal <= 1 KiB"


def test_tcp_scale_ceiling_refuses_with_rst_and_counts():
    with Netns() as ns:
        with Stack(ns, "--tcp-max-conns", "200") as st:
            rep, cl = open_many(ns, st, 300, 200)
            try:
                # listeners hold a few control blocks of the 200
                assert 150 <= rep["established"] < 200, rep
                assert rep["established"] + rep["failed"] == 300
                s = st.stats()
                assert s["transport"]["tcp_conn_limit_refused"] == rep["failed"]
            finally:
                cl.stdin.close()
                cl.wait(timeout=60)
