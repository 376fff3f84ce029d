#!/usr/bin/python3
"""bench/46-scale.sh: many idle connections into tundra stack over TUN vs a
kernel listener over veth, same client (tests/integration/tcp_many_idle.py).

For each N: the stack's resident memory per connection (VmRSS delta / N), the
accept rate (connections/s, client side) for the stack and for the kernel,
and 1-byte round trips on the connection opened last, the per-segment cost
with N connections present, against the same with a single connection.
"""
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from netns import Netns, veth_pair  # noqa: E402
os.environ.setdefault("TUNDRA", os.path.join(HERE, "..", "build", "tundra"))
from stackutil import Stack  # noqa: E402

CLIENT = os.path.join(HERE, "..", "tests", "integration", "tcp_many_idle.py")
SERVER = os.path.join(HERE, "scale_echo_server.py")
TUNDRA = os.environ.get("TUNDRA", os.path.join(HERE, "..", "build", "tundra"))
RTT_N = int(os.environ.get("SCALE_BENCH_RTT", "2000"))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def budget():
    return max(1000, resource.getrlimit(resource.RLIMIT_NOFILE)[1] - 200)


def run_clients(ns, dst, srcs, n, rtt, on_held=None):
    """n connections over as many client processes as fds need; the last
    client times rtt round trips. Returns (rate, seconds, rtt_us, ok)."""
    clients, ok, secs, left = [], 0, 0.0, n
    try:
        while left > 0:
            k = min(budget(), left)
            p = ns.popen(["/usr/bin/python3", CLIENT, dst, "7", str(k), ",".join(srcs),
                          "--hold", "--rtt", str(rtt)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            clients.append(p)
            r = json.loads(p.stdout.readline() or '{"error": "no output"}')
            if "error" in r:
                raise RuntimeError(r)
            ok += r["established"]
            secs += r["seconds"]
            left -= k
        if on_held:
            on_held()
        last = clients[-1]
        last.stdin.write("go\n")
        last.stdin.flush()
        e = json.loads(last.stdout.readline())
        return ok / secs if secs else 0, secs, e.get("rtt_us", 0), ok == n and e["echo_ok"]
    finally:
        for p in clients:
            if p.poll() is None:
                p.stdin.close()
                p.wait(timeout=120)


def stack_run(n, rtt):
    srcs = [f"10.0.0.{i}" for i in range(11, 15)]
    with Netns("tdb-scl") as ns:
        with Stack(ns, "--tcp-max-conns", str(n + 1000)) as st:
            return _stack_measure(ns, st.p.pid, srcs, n, rtt)


def _stack_measure(ns, pid, srcs, n, rtt):
    for a in srcs:
        ns.run("ip", "addr", "add", f"{a}/32", "dev", "tundra0")
    ns.sysctl("net.ipv4.ip_local_port_range", "1024 65535")
    ns.run("ip", "link", "set", "tundra0", "txqueuelen", "10000")
    before = rss_kib(pid)
    held = []

    def measure():
        time.sleep(0.5)  # the last handshakes' ACKs reach the stack
        held.append(rss_kib(pid))

    rate, secs, rtt_us, ok = run_clients(ns, "10.0.0.2", srcs, n, rtt, measure)
    return rate, (held[0] - before) * 1024 / n, rtt_us, ok


def kernel_run(n, rtt):
    srcs = [f"10.1.0.{i}" for i in range(11, 15)]
    with Netns("tdb-scla") as a, Netns("tdb-sclb") as b:
        veth_pair(a, b)
        a.run("ip", "addr", "add", "10.1.0.1/24", "dev", "veth0")
        b.run("ip", "addr", "add", "10.1.0.2/24", "dev", "veth0")
        for x in (a, b):
            x.run("ip", "link", "set", "veth0", "up")
        for s in srcs:
            a.run("ip", "addr", "add", f"{s}/32", "dev", "veth0")
        a.sysctl("net.ipv4.ip_local_port_range", "1024 65535")
        b.sysctl("net.core.somaxconn", "65535")
        workers = n // budget() + 2
        b.popen(["/usr/bin/python3", SERVER, "10.1.0.2", "7", str(workers)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        rate, secs, rtt_us, ok = run_clients(a, "10.1.0.2", srcs, n, rtt)
        return rate, rtt_us, ok


def main():
    sizes = [int(x) for x in (sys.argv[1:] or ["1000", "10000", "100000"])]
    print(f"{'conns':>7} {'stack B/conn':>12} {'stack acc/s':>11} {'kernel acc/s':>12} "
          f"{'ratio':>6} {'stack rtt us':>12} {'kernel rtt us':>13}")
    base_rtt = None
    for n in [1] + sizes:
        srate, bpc, srtt, sok = stack_run(n, RTT_N)
        krate, krtt, kok = kernel_run(n, RTT_N)
        if n == 1:
            base_rtt = srtt
            print(f"{1:>7} {'-':>12} {'-':>11} {'-':>12} {'-':>6} {srtt:>12.1f} {krtt:>13.1f}")
            continue
        flag = "" if (sok and kok) else "  (FAILED: not all connections/echo)"
        print(f"{n:>7} {bpc:>12.0f} {srate:>11.0f} {krate:>12.0f} {srate / krate:>6.2f} "
              f"{srtt:>12.1f} {krtt:>13.1f}{flag}")
        sys.stdout.flush()
        last = (n, srtt)
    n, srtt = last
    print(f"per-segment cost with {n} idle connections vs 1: "
          f"{srtt / base_rtt:.2f}x (1-byte round trip, flat = 1.0)")


if __name__ == "__main__":
    main()
