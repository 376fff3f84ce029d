"""Shared helpers for the tundra exporter integration tests.

Each test owns its namespaces (netns.Netns) and the exporter processes it
starts; everything is stopped and removed on exit, also on failure.
"""
import os
import re
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import TUNDRA

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
          "--inh-caps=-all"]

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Exposition text -> {(name, frozenset(labels.items())): float}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"unparsable exposition line: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    """The one sample of `name` whose labels include `labels`."""
    hits = [v for (n, ls), v in metrics.items()
            if n == name and set(labels.items()) <= set(ls)]
    assert len(hits) == 1, f"{name}{labels}: {len(hits)} samples"
    return hits[0]


def value0(metrics, name, **labels):
    """Like value(), but 0 when the series does not exist (yet)."""
    hits = [v for (n, ls), v in metrics.items()
            if n == name and set(labels.items()) <= set(ls)]
    assert len(hits) <= 1, f"{name}{labels}: {len(hits)} samples"
    return hits[0] if hits else 0


def http(ns, url, method="GET", timeout=10, source=None):
    """(status, body) of a request made inside namespace ns with curl."""
    src = ["--interface", source] if source else []
    r = ns.run("curl", "-s", "-m", str(timeout), "-X", method, "-o", "-", *src,
               "-w", "\n%{http_code}", url, check=False, timeout=timeout + 5)
    body, _, code = r.stdout.rpartition("\n")
    return int(code or 0), body


def scrape(ns, port):
    code, body = http(ns, f"http://127.0.0.1:{port}/metrics")
    assert code == 200, f"/metrics answered {code}: {body[:200]}"
    return body


def open_ping_range(ns):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")


class Exporter:
    """tundra exporter inside ns (as nobody unless root=True), stopped on exit."""

    def __init__(self, ns, args, port, root=False, config=None):
        self.ns, self.port = ns, port
        self.dir = tempfile.mkdtemp(prefix="tdexp-")
        os.chmod(self.dir, 0o755)
        self.config = os.path.join(self.dir, "config.yml")
        if config is not None:
            self.write_config(config)
            args = ["--config", self.config] + list(args)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        prefix = [] if root else NOBODY
        self.proc = ns.popen(prefix + [TUNDRA, "exporter", "--listen",
                                       f"127.0.0.1:{port}"] + list(args),
                             stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def write_config(self, text):
        # rewrite in place: the exporter reads the same path on reload
        with open(self.config, "w") as f:
            f.write(text)
        os.chmod(self.config, 0o644)

    def wait_ready(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            assert self.proc.poll() is None, f"exporter exited: {self.output()}"
            code, _ = http(self.ns, f"http://127.0.0.1:{self.port}/-/ready", timeout=2)
            if code == 200:
                return
            time.sleep(0.1)
        raise AssertionError(f"exporter not ready: {self.output()}")

    def metrics(self):
        return parse_metrics(scrape(self.ns, self.port))

    def text(self):
        return scrape(self.ns, self.port)

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        subprocess.run(["rm", "-rf", self.dir], check=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def wait_for(pred, timeout=10, step=0.1, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
