"""Run `tundra stack` inside a test's namespace and read its counters.

    with Netns() as ns, Stack(ns, "--pcap", path) as st:
        ns.run("ping", "-c", "1", "10.0.0.2")
        c = st.stats()            # SIGUSR1 -> JSON file -> dict
    # stack stopped (SIGTERM) and reaped here; st.final holds the last counters
"""
import json
import os
import select
import signal
import subprocess
import tempfile
import time

from conftest import OFFLOAD_ARGS, TUNDRA

STACK4 = "10.0.0.2"
STACK6 = "fd00::2"


class Stack:
    def __init__(self, ns, *args, ifname="tundra0"):
        self.ns = ns
        self.args = list(args)
        self.ifname = ifname
        self.dir = tempfile.mkdtemp(prefix="tdstack-")
        self.stats_file = os.path.join(self.dir, "stats.json")
        self.p = None
        self.final = None
        self.stderr = ""

    def __enter__(self):
        argv = [TUNDRA, "stack", "--name", self.ifname, "--stats=json",
                "--stats-file", self.stats_file, *OFFLOAD_ARGS, *self.args]
        self.p = self.ns.popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
        deadline = time.monotonic() + 10
        line = ""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.p.stderr], [], [], 0.2)
            if r:
                line = self.p.stderr.readline()
                self.stderr += line
                if "ready on" in line:
                    return self
                if not line:
                    break
            if self.p.poll() is not None:
                break
        self.p.kill()
        self.p.wait()
        raise RuntimeError(f"tundra stack did not come up: {self.stderr!r}")

    def stats(self, timeout=5):
        """Counters now: SIGUSR1 makes the stack rewrite the file atomically."""
        try:
            os.unlink(self.stats_file)
        except FileNotFoundError:
            pass
        self.p.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.stats_file):
                with open(self.stats_file) as f:
                    return json.load(f)
            time.sleep(0.02)
        raise RuntimeError("no stats after SIGUSR1")

    def alive(self):
        return self.p.poll() is None

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if self.p and self.p.stderr:
            self.stderr += self.p.stderr.read()
            self.p.stderr.close()
        if os.path.exists(self.stats_file):
            with open(self.stats_file) as f:
                self.final = json.load(f)
        return self.p.returncode

    def __exit__(self, *exc):
        self.stop()
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)
        return False


def c(stats, name):
    return stats["counters"][name]


def w(stats, layer, err):
    return stats["wire"][layer][err]


def ping(ns, family, *args, check=True, timeout=120):
    dst = STACK4 if family == 4 else STACK6
    return ns.run("ping", f"-{family}", *args, dst, check=check, timeout=timeout)


def have_tundra_ping():
    r = subprocess.run([TUNDRA, "ping", "--help"], capture_output=True, text=True)
    return r.returncode == 0
