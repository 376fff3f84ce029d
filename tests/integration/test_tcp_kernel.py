"""TCP of tundra stack with the Linux kernel as the peer, through the TUN, in
namespaces each test creates. Sizes are scaled to keep this file within about
2 minutes: 64 MiB downloads, 32 MiB upload, 16 MiB echo. The issue's 1 GiB
each (download, upload, echo) runs under TUNDRA_LONG=1 (`make check-long`),
about 30 s more."""
import atexit
import glob
import hashlib
import json
import os
import subprocess
import time

import pytest

from conftest import OFFLOAD_ARGS, TUNDRA
from netns import Netns
import tcp_stream

HERE = os.path.dirname(__file__)
PEER = os.path.join(HERE, "tcp_peer.py")
PY = "/usr/bin/python3"
LONG = os.environ.get("TUNDRA_LONG") == "1"
BIG = (1 << 30) if LONG else (64 << 20)
# 100 MB each way under impairment (test_tcp_under_impairment_...): measured
# times are in docs/tcp.md; the bound is about twice the slower direction.
BOUND_LONG_S = 1400

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces")


def _remove_leftovers(prefix):
    for f in glob.glob(prefix + "*"):
        try:
            os.unlink(f)
        except OSError:
            pass


class Stack:
    """tundra stack in a fresh namespace; counters in JSON at exit."""

    def __init__(self, ns, *args):
        self.ns = ns
        # files of a failed test go too (stats, stderr, download/upload scratch)
        atexit.register(_remove_leftovers, f"/tmp/{ns.name}.")
        self.stats = f"/tmp/{ns.name}.stats.json"
        self.err = open(f"/tmp/{ns.name}.stderr", "w+")
        self.p = ns.popen([TUNDRA, "stack", "--stats=json", "--stats-file", self.stats,
                           *OFFLOAD_ARGS, *args], stdout=subprocess.PIPE, stderr=self.err, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            self.err.seek(0)
            if "ready on" in self.err.read():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        self.err.seek(0)
        raise RuntimeError("tundra stack did not start: " + self.err.read())

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(timeout=10)
        with open(self.stats) as f:
            st = json.load(f)
        os.unlink(self.stats)
        self.err.close()
        os.unlink(self.err.name)
        return st

    def counters(self):
        """Counters now (SIGUSR1 rewrites the stats file)."""
        self.p.send_signal(10)
        time.sleep(0.3)
        with open(self.stats) as f:
            return json.load(f)


def curl(ns, *args, timeout=120):
    return ns.run("curl", "-sS", "--max-time", str(timeout - 5), *args, timeout=timeout)


def peer(ns, *args, timeout=120):
    r = ns.run(PY, PEER, *args, timeout=timeout, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_tcp_http_download_verified_v4_and_v6():
    with Netns() as ns:
        st = Stack(ns)
        for url in ("http://10.0.0.2/bytes/%d" % BIG, "http://[fd00::2]/bytes/%d" % (BIG // 4)):
            out = f"/tmp/{ns.name}.dl"
            r = curl(ns, "-o", out, "-w", "%{size_download} %{speed_download}", url)
            n = int(url.rsplit("/", 1)[1])
            size, speed = r.stdout.split()
            assert int(size) == n
            h = hashlib.sha256()
            with open(out, "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    h.update(b)
            os.unlink(out)
            assert h.hexdigest() == tcp_stream.sha256(n), url
            print(f"{url}: {float(speed) * 8 / 1e6:.0f} Mbit/s")
        s = st.stop()
        t = s["transport"]
        assert t["tcp_established"] >= 2
        assert t["tcp_rx_bad_segment"] == 0


def test_tcp_http_upload_counted_and_stats_json():
    with Netns() as ns:
        st = Stack(ns)
        n = BIG if LONG else BIG // 2
        src = f"/tmp/{ns.name}.up"
        with open(src, "wb") as f:
            f.write(os.urandom(1 << 20) * (n >> 20))
        # -T streams the file (PUT with a Content-Length); --data-binary would load it whole
        r = curl(ns, "-T", src, "http://10.0.0.2/upload")
        os.unlink(src)
        assert json.loads(r.stdout)["received"] == n
        stats = json.loads(curl(ns, "http://10.0.0.2/stats").stdout)
        assert stats["http_upload_bytes"] == n
        # /upload/stream checks the body against the /bytes stream
        good = f"/tmp/{ns.name}.good"
        with open(good, "wb") as f:
            f.write(tcp_stream.stream(0, 300000))
        r = json.loads(curl(ns, "-T", good, "http://10.0.0.2/upload/stream").stdout)
        assert r == {"received": 300000, "stream_ok": True}
        with open(good, "r+b") as f:
            f.seek(299999)
            f.write(b"\x00" if tcp_stream.stream(299999, 1) != b"\x00" else b"\x01")
        r = json.loads(curl(ns, "-T", good, "http://10.0.0.2/upload/stream").stdout)
        os.unlink(good)
        assert r == {"received": 300000, "stream_ok": False}
        assert stats["tcp_rx_bytes"] >= n
        assert curl(ns, "-o", "/dev/null", "-w", "%{http_code}", "http://10.0.0.2/nope",
                    ).stdout == "404"
        st.stop()


def test_tcp_echo_sha256_with_half_close_both_families():
    with Netns() as ns:
        st = Stack(ns)
        n = BIG if LONG else BIG // 4
        r = peer(ns, "echo", "10.0.0.2", "7", str(n))
        assert r["ok"] and r["bytes"] == n
        r = peer(ns, "echo", "fd00::2", "7", str(4 << 20))
        assert r["ok"]
        st.stop()


def test_tcp_discard_and_chargen():
    with Netns() as ns:
        st = Stack(ns)
        assert peer(ns, "discard", "10.0.0.2", "9", "4000000")["ok"]
        data = peer(ns, "chargen", "10.0.0.2", "19", "148")["data"]
        # RFC 864: 72 printable characters per line, each line starting one later
        assert data[:74] == "".join(chr(32 + (i % 95)) for i in range(72)) + "\r\n"
        assert data[74:] == "".join(chr(32 + ((1 + i) % 95)) for i in range(72)) + "\r\n"
        s = st.stop()
        assert s["transport"]["tcp_rx_bytes"] >= 4000000


def test_tcp_resets_both_ways():
    with Netns() as ns:
        st = Stack(ns)
        # the kernel's RST (SO_LINGER 0) is accepted by the stack
        assert peer(ns, "rst", "10.0.0.2", "9")["ok"]
        # the stack's RST for a closed port: the kernel reports ECONNREFUSED
        assert peer(ns, "refused", "10.0.0.2", "4444")["ok"]
        assert peer(ns, "refused", "fd00::2", "4444")["ok"]
        time.sleep(0.3)
        s = st.stop()["transport"]
        assert s["tcp_conn_resets_rx"] == 1
        assert s["tcp_tx_rst"] >= 2


def test_tcp_thousand_concurrent_connections():
    with Netns() as ns:
        ns.run("sh", "-c", "ulimit -n 8192")
        st = Stack(ns)
        r = ns.run("sh", "-c", f"ulimit -n 8192 && {PY} {PEER} many 10.0.0.2 7 1000 2000",
                   timeout=90, check=False)
        link = json.loads(ns.run("ip", "-s", "-j", "link", "show", "tundra0").stdout)[0]
        s = st.stop()["transport"]
        # The stack asks for a 4096-packet queue: with the kernel's 500 this
        # burst overflowed it, and a SYN cookie's lost ACK and first data
        # segment made the stack reset the connection (RFC 9293 §3.10.7.2,
        # as Linux does). On failure the queue's drops and the stack's
        # nonzero counters say which path reset a connection.
        assert link["txqlen"] == 4096
        assert r.returncode == 0, (r.stdout + r.stderr + json.dumps(link["stats64"]["tx"]) +
                                   json.dumps({k: v for k, v in s.items() if v}))
        assert json.loads(r.stdout.strip().splitlines()[-1])["done"] == 1000
        assert s["tcp_established"] >= 1000


@pytest.mark.parametrize("sack,ts,ws,ecn", [(0, 0, 0, 0), (1, 1, 1, 1), (1, 0, 1, 0), (0, 1, 0, 1)])
def test_tcp_kernel_option_sysctls_interoperate(sack, ts, ws, ecn):
    with Netns() as ns:
        for k, v in (("tcp_sack", sack), ("tcp_timestamps", ts), ("tcp_window_scaling", ws),
                     ("tcp_ecn", ecn)):
            ns.sysctl(f"net.ipv4.{k}", v)
        st = Stack(ns)
        n = 8 << 20
        out = f"/tmp/{ns.name}.dl"
        curl(ns, "-o", out, f"http://10.0.0.2/bytes/{n}")
        with open(out, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == tcp_stream.sha256(n)
        os.unlink(out)
        r = peer(ns, "echo", "10.0.0.2", "7", str(2 << 20))
        assert r["ok"]
        st.stop()


IMPAIR = "loss=5%,reorder=2%,dup=1%,delay=20,jitter=5,seed=7"


def _impaired_transfers(ns, n, timeout):
    """Concurrently, on two connections: curl downloads /bytes/n (the stack
    sends; sha256 checked here) and uploads n bytes of the same stream to
    /upload/stream (the kernel sends; the stack compares every byte with the
    stream and counts them). Returns {dir: seconds}."""
    import threading
    out, src = f"/tmp/{ns.name}.dl", f"/tmp/{ns.name}.up"
    with open(src, "wb") as f:
        for off in range(0, n, 1 << 20):
            f.write(tcp_stream.stream(off, min(1 << 20, n - off)))
    res = {}

    def run(name, *args):
        t = time.time()
        r = ns.run("curl", "-sS", "--retry", "0", "--max-time", str(timeout), *args,
                   timeout=timeout + 30, check=False)
        res[name] = (time.time() - t, r)

    ths = [threading.Thread(target=run, args=("down", "-o", out, f"http://10.0.0.2/bytes/{n}")),
           threading.Thread(target=run, args=("up", "-T", src, "http://10.0.0.2/upload/stream"))]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    os.unlink(src)
    for name, (took, r) in res.items():
        assert r.returncode == 0, f"{name}: curl {r.returncode} after {took:.0f} s: {r.stderr}"
    h = hashlib.sha256()
    with open(out, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    os.unlink(out)
    assert h.hexdigest() == tcp_stream.sha256(n)
    up = json.loads(res["up"][1].stdout)
    assert up["received"] == n and up["stream_ok"] is True  # compared byte for byte
    return {k: v[0] for k, v in res.items()}


def test_tcp_under_impairment_arrives_exact_within_bound():
    # 5 % loss, 2 % reorder, 1 % duplication, 20 ms delay + 0-5 ms jitter,
    # each way (input and output of the stack): n bytes each way at the same
    # time, our TCP sending one, the kernel's the other. 2 MB in `make check`;
    # the 100 MB each way under TUNDRA_LONG (`make check-long`).
    # Bounds: see docs/tcp.md "Under impairment" for the measured times.
    n = (100 << 20) if LONG else (2 << 20)
    bound = BOUND_LONG_S if LONG else 120
    with Netns() as ns:
        st = Stack(ns, "--impair", IMPAIR, "--slots", "8192")
        t0 = time.time()
        took = _impaired_transfers(ns, n, bound)
        wall = time.time() - t0
        s = st.stop()["transport"]
        for d, who in (("down", "stack sends"), ("up", "kernel sends")):
            print(f"impaired {d} ({who}): {n} bytes in {took[d]:.1f} s, "
                  f"{n / 1024 / took[d]:.0f} KB/s")
        kcc = ns.run("sysctl", "-n", "net.ipv4.tcp_congestion_control").stdout.strip()
        print(f"impaired: ours/kernel ({kcc}) sender rate {took['up'] / took['down']:.2f}; "
              f"retransmits {s['tcp_retransmits']} (fast {s['tcp_fast_retransmits']}, "
              f"sack {s['tcp_sack_retransmits']}, rto {s['tcp_rto_expired']})")
        assert wall < bound, f"{n} bytes each way took {wall:.0f} s, bound {bound} s"
        assert s["tcp_retransmits"] > 0


@pytest.mark.parametrize("target", ["10.0.0.1:5001", "[fd00::1]:5002"])
def test_tcp_client_mode_connects_to_kernel_listener(target):
    port = target.rsplit(":", 1)[1]
    with Netns() as ns:
        lp = ns.popen([PY, PEER, "listen", port, str(3 << 20), str(5 << 20)],
                      stdout=subprocess.PIPE, text=True)
        assert "listening" in lp.stdout.readline()
        r = ns.run(TUNDRA, "stack", *OFFLOAD_ARGS, "--name", "tdc0", "--connect", target,
                   "--send", str(5 << 20), "--recv", str(3 << 20), timeout=60, check=False)
        assert r.returncode == 0, r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["ok"] and res["sent"] == 5 << 20 and res["received"] == 3 << 20
        out = lp.communicate(timeout=30)[0]
        assert json.loads(out.strip().splitlines()[-1])["ok"]


def test_tcp_client_mode_refused_reports_failure():
    with Netns() as ns:
        r = ns.run(TUNDRA, "stack", *OFFLOAD_ARGS, "--name", "tdc0", "--connect", "10.0.0.1:5999",
                   "--send", "1000", timeout=30, check=False)
        assert r.returncode == 1
        assert "Connection refused" in r.stderr
