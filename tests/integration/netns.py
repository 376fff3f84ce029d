"""Network namespaces owned by one test: unique names, always removed.

    with Netns() as ns:                 # ip netns add tdt-<pid>-<rand>
        ns.run("ip", "link", "set", "lo", "up")
        p = ns.popen([...])             # process inside the namespace
    # namespace (and its interfaces) removed here, also on failure

Nothing here touches the host namespace's interfaces or addresses.
"""
import os
import secrets
import signal
import subprocess

_live = []


def unique(prefix="tdt"):
    return f"{prefix}-{os.getpid()}-{secrets.token_hex(3)}"


class Netns:
    def __init__(self, prefix="tdt", lo_up=True):
        self.name = unique(prefix)
        self.procs = []
        self.lo_up = lo_up

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        _live.append(self.name)
        if self.lo_up:
            self.run("ip", "link", "set", "lo", "up")
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def cmd(self, *argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def run(self, *argv, check=True, timeout=120, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        return subprocess.run(self.cmd(*argv), check=check, timeout=timeout, **kw)

    def popen(self, argv, **kw):
        p = subprocess.Popen(self.cmd(*argv), **kw)
        self.procs.append(p)
        return p

    def sysctl(self, key, value):
        self.run("sysctl", "-qw", f"{key}={value}")

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        if self.name in _live:
            subprocess.run(["ip", "netns", "del", self.name], check=False)
            _live.remove(self.name)


def veth_pair(a, b, a_if="veth0", b_if="veth0"):
    """Create a veth pair between namespaces a and b (both Netns)."""
    tmp = unique("tdv")[:15]
    subprocess.run(["ip", "link", "add", tmp, "netns", a.name, "type", "veth",
                    "peer", "name", b_if, "netns", b.name], check=True)
    a.run("ip", "link", "set", tmp, "name", a_if)
    a.run("ip", "link", "set", a_if, "up")
    b.run("ip", "link", "set", b_if, "up")
