"""ICMP errors over a routed path (A - R - B), interface binding, injected misbehaviour."""
import re

import pytest

from conftest import TUNDRA
from netns import Netns, veth_pair
from pinghelp import events, flood_line, of, summary, tundra

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def path():
    """A (10.1.0.1, fd01::1) -- R (forwarding) -- B (10.2.0.1, fd02::1). A routes all via R.
    R has no route beyond 10.2.0.0/24 and fd02::/64, so 10.3.0.1 / fd03::1 are unreachable."""
    with Netns("tdA") as a, Netns("tdR") as r, Netns("tdB") as b:
        veth_pair(a, r, "veth0", "vA")
        veth_pair(r, b, "vB", "veth0")
        for ns in (a, r, b):
            ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
            ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
        for dev in ("veth0",):
            a.sysctl(f"net.ipv6.conf.{dev}.accept_dad", "0")
            b.sysctl(f"net.ipv6.conf.{dev}.accept_dad", "0")
        r.sysctl("net.ipv6.conf.vA.accept_dad", "0")
        r.sysctl("net.ipv6.conf.vB.accept_dad", "0")
        a.run("ip", "addr", "add", "10.1.0.1/24", "dev", "veth0")
        # Routers rate-limit "net unreachable" per source (net.ipv4.route.error_cost, a
        # host-wide knob we leave alone): each test that needs a burst gets its own source.
        for i in (11, 12):
            a.run("ip", "addr", "add", f"10.1.0.{i}/24", "dev", "veth0")
        a.run("ip", "-6", "addr", "add", "fd01::1/64", "dev", "veth0", "nodad")
        r.run("ip", "addr", "add", "10.1.0.254/24", "dev", "vA")
        r.run("ip", "-6", "addr", "add", "fd01::fe/64", "dev", "vA", "nodad")
        r.run("ip", "addr", "add", "10.2.0.254/24", "dev", "vB")
        r.run("ip", "-6", "addr", "add", "fd02::fe/64", "dev", "vB", "nodad")
        b.run("ip", "addr", "add", "10.2.0.1/24", "dev", "veth0")
        b.run("ip", "-6", "addr", "add", "fd02::1/64", "dev", "veth0", "nodad")
        a.run("ip", "route", "add", "default", "via", "10.1.0.254")
        a.run("ip", "-6", "route", "add", "default", "via", "fd01::fe")
        b.run("ip", "route", "add", "default", "via", "10.2.0.254")
        b.run("ip", "-6", "route", "add", "default", "via", "fd02::fe")
        # A narrower link beyond R: large probes with DF get "packet too big".
        r.run("ip", "link", "set", "vB", "mtu", "1300")
        b.run("ip", "link", "set", "veth0", "mtu", "1300")
        r.sysctl("net.ipv4.ip_forward", "1")
        r.sysctl("net.ipv6.conf.all.forwarding", "1")
        r.sysctl("net.ipv4.icmp_ratelimit", "0")
        r.sysctl("net.ipv6.icmp.ratelimit", "0")
        # warm up neighbours so the first probe is not lost to resolution
        a.run("ping", "-c", "1", "-W", "2", "10.2.0.1", check=False)
        a.run("ping", "-6", "-c", "1", "-W", "2", "fd02::1", check=False)
        yield a, r, b


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("dst,router", [("10.2.0.1", "10.1.0.254"), ("fd02::1", "fd01::fe")])
def test_ttl_1_gives_time_exceeded_from_router(path, mode, dst, router):
    a, _, _ = path
    r = tundra(a, "--mode", mode, "-c", "2", "-i", "0.1", "-W", "1", "-t", "1", "--json", dst)
    assert r.returncode == 1, r.stdout + r.stderr
    ev = events(r.stdout)
    errs = of(ev, "error")
    assert len(errs) == 2, r.stdout
    assert all(e["kind"] == "time_exceeded" and e["from"] == router for e in errs)
    s = of(ev, "summary")[0]
    assert s["errors"] == 2 and s["errors_by_kind"]["time_exceeded"] == 2 and s["received"] == 0
    assert s["timeouts"] == 0  # an error ends the probe


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_threads_route_each_error_to_the_loop_that_sent_the_probe(path, mode):
    # With two loops every loop has its own socket and engine: an ICMP error
    # must reach the loop whose probe it quotes (raw sockets: the socket
    # filter reads the quoted identifier; datagram sockets: the kernel).
    a, _, b = path
    dsts = []
    for i in range(2, 6):
        b.run("ip", "addr", "replace", f"10.2.0.{i}/24", "dev", "veth0")
        b.run("ip", "-6", "addr", "replace", f"fd02::{i}/64", "dev", "veth0", "nodad")
        dsts += [f"10.2.0.{i}", f"fd02::{i}"]
    r = tundra(a, "--mode", mode, "--threads", "2", "-c", "2", "-i", "0.1", "-W", "1",
               "-t", "1", "--json", *dsts)
    ev = events(r.stdout)
    summ = of(ev, "summary")
    assert len(summ) == 8, r.stdout + r.stderr
    for s in summ:
        assert s["errors_by_kind"]["time_exceeded"] == 2, s
        assert s["received"] == 0 and s["timeouts"] == 0, s
    errs = of(ev, "error")
    assert sorted((e["target"], e["seq"]) for e in errs) == [(t, q) for t in range(8)
                                                            for q in (1, 2)]
    assert of(ev, "end")[0]["drops"]["foreign"] == 0
    # and the replies of the same targets, on both loops
    r = tundra(a, "--mode", mode, "--threads", "2", "-c", "2", "-i", "0.1", "-W", "1",
               "--json", *dsts)
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(s["received"] == 2 for s in of(events(r.stdout), "summary"))


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("dst,router,code", [("10.3.0.1", "10.1.0.254", 0),
                                             ("fd03::1", "fd01::fe", 0)])
def test_missing_route_gives_unreachable(path, mode, dst, router, code):
    a, _, _ = path
    src = [] if ":" in dst else ["-I", "10.1.0.11" if mode == "dgram" else "10.1.0.12"]
    r = tundra(a, "--mode", mode, *src, "-c", "2", "-i", "0.1", "-W", "1", "--json", dst)
    assert r.returncode == 1
    errs = of(events(r.stdout), "error")
    assert len(errs) == 2
    assert all(e["kind"] == "unreachable" and e["from"] == router and e["icmp_code"] == code
               for e in errs)


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_error_text_and_counts_agree_with_iputils(path, mode):
    a, _, _ = path
    ours = tundra(a, "--mode", mode, "-c", "3", "-i", "0.1", "-W", "1", "-t", "1", "10.2.0.1")
    theirs = a.run("ping", "-c", "3", "-i", "0.1", "-W", "1", "-t", "1", "10.2.0.1", check=False)
    assert ours.returncode == theirs.returncode == 1
    x, y = summary(ours.stdout), summary(theirs.stdout)
    assert (x["tx"], x["rx"], x["errors"]) == (y["tx"], y["rx"], y["errors"]) == (3, 0, 3)
    line = re.compile(r"^From 10\.1\.0\.254 icmp_seq=(\d) Time to live exceeded$", re.M)
    assert line.findall(ours.stdout) == line.findall(theirs.stdout) == ["1", "2", "3"]


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_deadline_ends_at_first_error_like_iputils(path, mode):
    # iputils main_loop: `if (deadline && nerrors) break` -- with -w the first
    # ICMP error ends the run, long before the 3 s deadline or 3 answers.
    import time
    a, _, _ = path
    args = ["-c", "3", "-i", "0.2", "-w", "3", "-t", "1", "10.2.0.1"]
    t0 = time.monotonic()
    ours = tundra(a, "--mode", mode, "-q", *args)
    took = time.monotonic() - t0
    theirs = a.run("ping", "-q", *args, check=False)
    assert ours.returncode == theirs.returncode == 1
    x, y = summary(ours.stdout), summary(theirs.stdout)
    assert (x["tx"], x["rx"], x["errors"]) == (y["tx"], y["rx"], y["errors"]) == (1, 0, 1)
    assert took < 1.5


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_flood_line_shows_errors_and_losses_as_iputils_does(path, mode):
    # iputils -f: "." per probe sent, "\b \b" per reply, "\bE" per ICMP error;
    # tundra draws the same line at most every 10 ms. A terminal shows the same.
    a, _, b = path
    args = ["-f", "-c", "10", "-i", "0.05", "-W", "0.5", "-t", "1", "10.2.0.1"]
    ours = tundra(a, "--mode", mode, *args)
    theirs = a.run("ping", *args, check=False)
    assert ours.returncode == theirs.returncode == 1
    assert flood_line(ours.stdout)[0] == flood_line(theirs.stdout)[0] == "E" * 10
    b.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
    try:
        args = ["-f", "-c", "20", "-W", "0.3", "10.2.0.1"]
        ours = tundra(a, "--mode", mode, *args)
        theirs = a.run("ping", *args, check=False)
        quiet = tundra(a, "--mode", mode, "-q", *args)
    finally:
        b.sysctl("net.ipv4.icmp_echo_ignore_all", "0")
    assert ours.returncode == theirs.returncode == quiet.returncode == 1
    assert flood_line(ours.stdout)[0] == flood_line(theirs.stdout)[0] == "." * 20
    assert summary(ours.stdout)["loss"] == 100.0
    assert flood_line(quiet.stdout) == ("", "")  # -q: no line, as iputils


def test_routed_reply_and_interface_binding(path):
    a, _, _ = path
    ok = tundra(a, "-I", "veth0", "-c", "2", "-i", "0.1", "10.2.0.1")
    assert ok.returncode == 0 and summary(ok.stdout)["rx"] == 2
    src = tundra(a, "-I", "10.1.0.1", "-c", "1", "10.2.0.1")
    assert src.returncode == 0
    # Bound to lo, the probe cannot leave: no reply.
    lo = tundra(a, "-I", "lo", "-c", "1", "-W", "0.5", "10.2.0.1")
    assert lo.returncode == 1 and summary(lo.stdout)["rx"] == 0
    bad = tundra(a, "-I", "nosuchif0", "-c", "1", "10.2.0.1")
    assert bad.returncode == 2 and "SO_BINDTODEVICE" in bad.stderr


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_injected_dup_reorder_corrupt_forged_classified(mode):
    with Netns("tdinj") as ns:
        ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
        ns.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
        import os
        resp = ns.popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                                          "ping_responder.py"), "6"],
                        stdout=-1, text=True)
        assert resp.stdout.readline().strip() == "ready"
        r = tundra(ns, "--mode", mode, "-c", "6", "-i", "0.1", "-W", "0.5", "--json", "127.0.0.1")
        ev = events(r.stdout)
        rep = {}
        for e in of(ev, "reply"):
            rep.setdefault(e["seq"], []).append(e)
        assert len(rep[1]) == 1 and not rep[1][0]["dup"]
        assert [e["dup"] for e in rep[2]] == [False, True]
        assert rep[3][0]["out_of_order"] and not rep[4][0]["out_of_order"]
        assert rep[5][0]["corrupted"] and not rep[1][0]["corrupted"]
        assert 6 not in rep
        assert len(of(ev, "forged")) == 1
        assert [e["seq"] for e in of(ev, "timeout")] == [6]
        s = of(ev, "summary")[0]
        assert (s["transmitted"], s["received"], s["duplicates"], s["out_of_order"],
                s["corrupted"], s["forged"], s["timeouts"]) == (6, 5, 1, 1, 1, 1, 1)
        assert of(ev, "end")[0]["drops"]["forged"] == 1
        assert r.returncode == 0


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("dst,router", [("10.2.0.1", "10.1.0.254"), ("fd02::1", "fd01::fe")])
def test_df_probe_too_big_for_next_link_reports_mtu(path, mode, dst, router):
    a, _, _ = path
    a.run("ip", "route", "flush", "cache", check=False)
    a.run("ip", "-6", "route", "flush", "cache", check=False)
    r = tundra(a, "--mode", mode, "-c", "1", "-W", "1", "-s", "1400", "-M", "do", "--json", dst)
    ev = events(r.stdout)
    errs = of(ev, "error")
    # The route cache was flushed: the first probe meets the narrow link and the
    # router's error carries the MTU it allows.
    assert len(errs) == 1, r.stdout
    assert errs[0]["kind"] == "packet_too_big" and errs[0]["info"] == 1300
    assert errs[0]["from"] == router
    assert r.returncode == 1


def test_link_local_with_zone_names_its_link(path):
    a, r, _ = path
    out = r.run("ip", "-6", "addr", "show", "dev", "vA", "scope", "link").stdout
    ll = re.search(r"inet6 (fe80::[0-9a-f:]+)/64", out)[1]
    res = tundra(a, "-c", "2", "-i", "0.1", "-W", "2", f"{ll}%veth0")
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary(res.stdout)["rx"] == 2


def responder(ns, *args):
    import os
    ns.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
    p = ns.popen(["/usr/bin/python3", os.path.join(os.path.dirname(__file__),
                                                   "ping_responder.py"), *args],
                 stdout=-1, text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


PIPE_RE = re.compile(r"^rtt min/avg/max/mdev = [\d./]+ ms, pipe (\d+)$", re.M)
TIME_RE = re.compile(r", time (\d+)ms$", re.M)


def test_slow_replies_count_until_the_end_of_the_run_as_in_iputils():
    # iputils' -W is the wait after the last probe when nothing came back;
    # a reply slower than -W still counts if it comes before the end, and
    # "pipe 2" says two probes were in flight. Tools run one after the other.
    with Netns("tdslow") as ns:
        ns.run("ip", "link", "set", "lo", "up")
        args = ["-c", "3", "-i", "1", "-W", "1", "127.0.0.1"]
        outs = []
        for cmd in ([TUNDRA, "ping"], ["ping"]):
            resp = responder(ns, "3", "1.5")
            outs.append(ns.run(*cmd, *args, check=False, timeout=30))
            resp.wait(timeout=10)
        ours, theirs = outs
        assert ours.returncode == theirs.returncode == 0, ours.stdout
        x, y = summary(ours.stdout), summary(theirs.stdout)
        assert (x["tx"], x["rx"], x["loss"]) == (y["tx"], y["rx"], y["loss"]) == (3, 3, 0.0)
        assert PIPE_RE.findall(ours.stdout) == PIPE_RE.findall(theirs.stdout) == ["2"]
        assert "LATE" not in ours.stdout
        # "time" runs to the last send (2 s), not to the last reply (3.5 s)
        t_ours, t_theirs = int(TIME_RE.findall(ours.stdout)[0]), int(TIME_RE.findall(theirs.stdout)[0])
        assert abs(t_ours - t_theirs) < 150 and t_ours < 2300, (t_ours, t_theirs)


def test_lost_last_probe_ends_the_run_after_the_interval_not_after_w():
    # Answers only the first two of three: iputils waits max(2 x RTT, -i)
    # after the last probe, not -W (10 s by default), and so does tundra.
    import time
    with Netns("tdlast") as ns:
        ns.run("ip", "link", "set", "lo", "up")
        args = ["-c", "3", "-i", "0.2", "127.0.0.1"]
        res = []
        for cmd in ([TUNDRA, "ping"], ["ping"]):
            resp = responder(ns, "2", "0")  # plain replies to the first two
            t0 = time.monotonic()
            r = ns.run(*cmd, *args, check=False, timeout=30)
            res.append((r, time.monotonic() - t0))
            resp.wait(timeout=10)
        (ours, took), (theirs, _) = res
        assert ours.returncode == theirs.returncode == 0
        x, y = summary(ours.stdout), summary(theirs.stdout)
        assert (x["tx"], x["rx"]) == (y["tx"], y["rx"]) == (3, 2)
        assert took < 2, took
        # nothing answered: iputils' second summary line is still there, empty
        ours = ns.run(TUNDRA, "ping", "-c", "2", "-i", "0.2", "-W", "0.3", "127.0.0.1", check=False)
        theirs = ns.run("ping", "-c", "2", "-i", "0.2", "-W", "0.3", "127.0.0.1", check=False)
        assert ours.returncode == theirs.returncode == 1
        assert ours.stdout.endswith("ms\n\n") and theirs.stdout.endswith("ms\n\n")
        t_ours, t_theirs = int(TIME_RE.findall(ours.stdout)[0]), int(TIME_RE.findall(theirs.stdout)[0])
        assert abs(t_ours - t_theirs) < 100, (t_ours, t_theirs)  # both ~200: to the last send


def test_flood_with_losses_ends_as_iputils_after_the_last_probe():
    # 2 of 5 answered: like iputils, a flood waits twice the longest RTT
    # after its last probe (its interval is 0), not -W (10 s) for the lost.
    import time
    with Netns("tdfl") as ns:
        ns.run("ip", "link", "set", "lo", "up")
        for cmd in ([TUNDRA, "ping"], ["ping"]):
            resp = responder(ns, "2", "0")
            t0 = time.monotonic()
            r = ns.run(*cmd, "-f", "-c", "5", "127.0.0.1", check=False, timeout=30)
            took = time.monotonic() - t0
            resp.wait(timeout=10)
            assert r.returncode == 0 and (summary(r.stdout)["tx"], summary(r.stdout)["rx"]) == (5, 2)
            assert took < 2, (cmd, took)


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_pipe_counts_probes_answered_by_errors_as_iputils(path, mode):
    # An on-link address with no host: the probes wait for neighbour
    # resolution, then all come back as "Destination Host Unreachable"
    # together, so iputils says "pipe 3".
    a, _, _ = path
    args = ["-c", "3", "-i", "0.2", "-W", "5", "10.1.0.77"]
    ours = tundra(a, "--mode", mode, *args)
    theirs = a.run("ping", *args, check=False)
    assert ours.returncode == theirs.returncode == 1
    assert summary(ours.stdout)["errors"] == summary(theirs.stdout)["errors"] == 3
    assert ours.stdout.rstrip("\n").splitlines()[-1] == theirs.stdout.rstrip("\n").splitlines()[-1] \
        == "pipe 3", (ours.stdout, theirs.stdout)


@pytest.mark.parametrize("dst,iface,src", [("10.2.0.1", "veth0", "10.1.0.1"),
                                           ("fd02::1", "veth0", "fd01::1")])
def test_dash_I_header_names_the_source_as_iputils(path, dst, iface, src):
    # iputils' header with -I: "from SOURCE DEVICE: " (the source the kernel
    # picks through the device), or "from ADDRESS : " for an address
    a, _, _ = path
    for i in (iface, src):
        ours = tundra(a, "-I", i, "-c", "1", "-W", "1", dst)
        theirs = a.run("ping", "-I", i, "-c", "1", "-W", "1", dst, check=False)
        assert ours.returncode == theirs.returncode == 0, ours.stderr
        head = ours.stdout.splitlines()[0]
        assert head == theirs.stdout.splitlines()[0], (head, theirs.stdout)
        assert f" from {src} {i if i == iface else ''}: " in head, head
