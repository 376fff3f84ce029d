"""tundra ping and its peers (iputils ping, fping) run side by side on the same
namespace: the same situation must read the same."""
import os
import re
import subprocess
import time

import pytest

from conftest import TUNDRA
from netns import Netns, veth_pair
from pinghelp import events, of, summary, tundra

pytestmark = pytest.mark.timeout(60)

PEER_V4, PEER_V6 = "10.9.0.2", "fd09::2"


@pytest.fixture(scope="module")
def narrow():
    """A (10.9.0.1, fd09::1) -- B (10.9.0.2, fd09::2) on a veth whose routes
    in A to B carry mtu 1400: a 1500-byte probe with -M do cannot leave A."""
    with Netns("tdfA") as a, Netns("tdfB") as b:
        veth_pair(a, b)
        for ns in (a, b):
            ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
            ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
        a.run("ip", "addr", "add", "10.9.0.1/24", "dev", "veth0")
        a.run("ip", "-6", "addr", "add", "fd09::1/64", "dev", "veth0", "nodad")
        b.run("ip", "addr", "add", "10.9.0.2/24", "dev", "veth0")
        b.run("ip", "-6", "addr", "add", "fd09::2/64", "dev", "veth0", "nodad")
        a.run("ip", "route", "add", f"{PEER_V4}/32", "dev", "veth0", "mtu", "1400")
        a.run("ip", "-6", "route", "add", f"{PEER_V6}/128", "dev", "veth0", "mtu", "1400")
        yield a


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("dst", [PEER_V4, PEER_V6])
def test_df_probe_larger_than_route_mtu_says_local_error_with_mtu_as_iputils(narrow, mode, dst):
    args = ["-c", "2", "-i", "0.2", "-W", "1", "-M", "do", "-s", "1500", dst]
    peer = narrow.run("ping", *args, check=False)
    mine = tundra(narrow, "--mode", mode, *args, timeout=10)
    # iputils: "ping: local error: message too long, mtu=1400" (IPv6: "mtu: 1400"),
    # once per probe, on stderr; each counts in "+N errors"; status 1.
    assert peer.stderr.splitlines() == [
        "ping: local error: message too long, mtu" + ("=" if "." in dst else ": ") + "1400"] * 2
    assert mine.stderr.splitlines() == ["tundra " + x for x in peer.stderr.splitlines()]
    sp, sm = summary(peer.stdout), summary(mine.stdout)
    assert (sm["tx"], sm["rx"], sm["errors"]) == (sp["tx"], sp["rx"], sp["errors"]) == (2, 0, 2)
    assert mine.returncode == peer.returncode == 1
    # -q: nothing on stderr, as iputils
    q = tundra(narrow, "--mode", mode, "-q", *args, timeout=10)
    assert q.stderr == narrow.run("ping", "-q", *args, check=False).stderr == ""
    # -f: an E on the flood line per probe, nothing on stderr, as iputils
    fargs = ["-f", "-c", "3", "-M", "do", "-s", "1500", dst]
    fp, fm = narrow.run("ping", *fargs, check=False), tundra(narrow, "--mode", mode, *fargs)
    assert fm.stdout.splitlines()[1] == fp.stdout.splitlines()[1] == "EEE"
    assert fm.stderr == fp.stderr == ""
    assert summary(fm.stdout)["errors"] == summary(fp.stdout)["errors"] == 3
    # the JSON event says the MTU too
    j = tundra(narrow, "--mode", mode, "--json", *args, timeout=10)
    errs = of(events(j.stdout), "send_error")
    assert [e["mtu"] for e in errs] == [1400, 1400]


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_df_probe_that_fits_the_route_mtu_is_answered(narrow, mode):
    # the error queue read with -M do costs nothing to probes that leave
    r = tundra(narrow, "--mode", mode, "-c", "2", "-i", "0.2", "-W", "1", "-M", "do",
               "-s", "1372", PEER_V4, timeout=10)
    assert summary(r.stdout)["rx"] == 2 and r.stderr == "", r.stderr


def corrupt_replies(ns, offset, count):
    """Start corrupt_responder.py in ns: every reply has data byte offset flipped."""
    ns.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
    p = ns.popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                                   "corrupt_responder.py"),
                  str(offset), str(count)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("size,offset", [(56, 40), (100, 90), (20, 18)])
def test_wrong_data_byte_and_hex_dump_read_as_iputils(mode, size, offset):
    with Netns("tdfc") as ns:
        ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
        args = ["-c", "1", "-W", "1", "-s", str(size), "127.0.0.1"]
        corrupt_replies(ns, offset, 2)
        peer = ns.run("ping", *args, check=False, timeout=10)
        mine = tundra(ns, "--mode", mode, *args, timeout=10)
    # iputils, after the reply line: the first wrong byte, then the data in hex
    # from offset 16 (after its struct timeval), 32 bytes a line:
    #   wrong data byte #40 should be 0x28 but was 0x7d
    #   #16\t10 11 12 ... 2f
    #   #48\t30 31 ... 37
    def block(out):
        lines = out.split("bytes of data.\n", 1)[1].split("\n\n--- ", 1)[0].split("\n")
        assert re.match(r"\d+ bytes from 127\.0\.0\.1: icmp_seq=1 ttl=64 time=[\d.]+ ms$",
                        lines[0]), lines
        return lines[1:]
    p, m = block(peer.stdout), block(mine.stdout)
    want = offset & 0xFF
    assert p[0] == f"wrong data byte #{offset} should be 0x{want:x} but was 0x{want ^ 0x55:x}"
    assert len(m) == len(p) == 1 + (size - 16 + 31) // 32, (p, m)
    assert m[0] == p[0]
    # tundra's bytes 16..23 are its authentication block's MAC, iputils' its
    # pattern: the rest of the dump is the same bytes in the same layout
    assert m[1].split("\t")[0] == p[1].split("\t")[0] == "#16"
    assert m[1].split(" ")[8:] == p[1].split(" ")[8:]
    assert m[2:] == p[2:]
    if size < 24:  # no authentication block: every byte is the pattern
        assert m == p
    assert all(line.endswith(" ") for line in m[1:])
    # iputils' "+N corrupted" counts bad checksums, not wrong data: the
    # summary lines read the same
    assert mine.stdout.split("\n--- ")[1].split(", time")[0] == \
        peer.stdout.split("\n--- ")[1].split(", time")[0]
    assert summary(mine.stdout)["rx"] == summary(peer.stdout)["rx"] == 1


def slow_replies(ns, delay):
    """ping_responder.py in ns answering one request, delay seconds late."""
    ns.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
    p = ns.popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "ping_responder.py"),
                  "1", str(delay)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


@pytest.mark.parametrize("w", ["0", "0.0009"])
def test_W_0_waits_for_the_reply_without_limit_as_iputils(w):
    # iputils keeps -W in whole milliseconds; 0 is "infinite timeout" (ping(8)):
    # a reply 1.5 s late still counts, where -W 1 gives up after a second.
    with Netns("tdfw") as ns:
        ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
        runs = {}
        for name, argv in (("peer", ["ping"]), ("mine", [TUNDRA, "ping"])):
            for wait in (w, "1"):
                resp = slow_replies(ns, 1.5)
                t0 = time.monotonic()
                r = ns.run(*argv, "-c", "1", "-W", wait, "127.0.0.1", check=False, timeout=10)
                runs[name, wait] = (r, time.monotonic() - t0)
                resp.wait(timeout=5)
    for name in ("peer", "mine"):
        r, took = runs[name, w]
        assert r.returncode == 0 and summary(r.stdout)["rx"] == 1 and took >= 1.4, (name, r)
        r, took = runs[name, "1"]
        assert r.returncode == 1 and summary(r.stdout)["rx"] == 0 and took < 1.4, (name, r)


def test_W_negative_is_refused_as_iputils():
    with Netns("tdfw") as ns:
        peer = ns.run("ping", "-c", "1", "-W", "-1", "127.0.0.1", check=False)
        mine = tundra(ns, "-c", "1", "-W", "-1", "127.0.0.1")
    assert peer.returncode == mine.returncode == 2
    assert peer.stderr == "ping: bad linger time: -1\n"
    assert mine.stderr == "tundra ping: -W -1 out of range: must be 0..2147483\n"


@pytest.mark.parametrize("text", ["", "# no target here\n\n"])
@pytest.mark.parametrize("args", [[], ["-c", "1"], ["-q", "-c", "1"]])
def test_file_naming_no_target_exits_1_silently_as_fping(tmp_path, text, args):
    f = tmp_path / "targets"
    f.write_text(text)
    with Netns("tdff") as ns:
        for path, stdin in ((str(f), None), ("-", text)):
            peer = ns.run("fping", *args, "-f", path, check=False, input=stdin, timeout=10)
            mine = tundra_in(ns, *args, "--file", path, stdin=stdin)
            assert (peer.returncode, peer.stdout, peer.stderr) == (1, "", "")
            assert (mine.returncode, mine.stdout, mine.stderr) == (1, "", ""), (path, mine)


def tundra_in(ns, *args, stdin=None):
    return ns.run(TUNDRA, "ping", *args, check=False, input=stdin, timeout=10)
