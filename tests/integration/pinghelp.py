"""Helpers shared by the tundra ping integration tests."""
import json
import re
import subprocess

from conftest import TUNDRA

NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all"]

TX_RE = re.compile(r"^(\d+) packets transmitted, (\d+) received(?:, \+(\d+) duplicates)?"
                   r"(?:, \+(\d+) corrupted)?(?:, \+(\d+) errors)?, ([\d.]+)% packet loss",
                   re.M)
RTT_RE = re.compile(r"^rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms$", re.M)


def summary(text):
    """Parse the two iputils summary lines the way scripts do."""
    m = TX_RE.search(text)
    assert m, text
    r = {"tx": int(m[1]), "rx": int(m[2]), "dup": int(m[3] or 0),
         "errors": int(m[5] or 0), "loss": float(m[6])}
    m = RTT_RE.search(text)
    r["rtt"] = tuple(float(x) for x in m.groups()) if m else None
    return r


def tundra(ns, *args, user=False, timeout=60):
    argv = ([*NOBODY] if user else []) + [TUNDRA, "ping", *args]
    return ns.run(*argv, check=False, timeout=timeout)


def events(out):
    ev = [json.loads(line) for line in out.splitlines() if line.strip()]
    for e in ev:
        assert "type" in e and "time" in e
    assert ev[0]["type"] == "start" and ev[0]["schema"] == "tundra.ping/1"
    assert ev[-1]["type"] == "end"
    return ev


def of(ev, kind):
    return [e for e in ev if e["type"] == kind]


def flood_line(out):
    """The -f line between the header and the summary: (what a terminal shows
    of it, backspaces applied and trailing blanks dropped; the raw bytes)."""
    body = out.split("bytes of data.\n", 1)[1].split("\n--- ", 1)[0]
    cells, pos = [], 0
    for ch in body:
        if ch == "\b":
            pos = max(0, pos - 1)
            continue
        if pos == len(cells):
            cells.append(ch)
        else:
            cells[pos] = ch
        pos += 1
    return "".join(cells).rstrip(" "), body
