"""Link-local targets on different links in one run: fe80::99 behind two veths is two targets.

H (the pinger) has vA -> P1 and vB -> P2; P1 and P2 both carry fe80::99.
Each probe names its link in sin6_scope_id (no SO_BINDTODEVICE), each reply
is matched by address and the link it came in on.
"""
import re
import time

import pytest

from netns import Netns, veth_pair
from pinghelp import events, of, tundra
from exporter_helpers import Exporter, value, wait_for

pytestmark = pytest.mark.timeout(90)

LL = "fe80::99"


def in_echos(ns):
    """Echo requests this namespace's kernel received (ICMPv6 MIB)."""
    snmp = ns.run("cat", "/proc/net/snmp6").stdout
    return int(re.search(r"^Icmp6InEchos\s+(\d+)$", snmp, re.M)[1])


@pytest.fixture
def links():
    with Netns("tdLH") as h, Netns("tdL1") as p1, Netns("tdL2") as p2:
        for ns in (h, p1, p2):
            ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
        h.sysctl("net.ipv4.ping_group_range", "0 2147483647")  # this namespace only
        veth_pair(h, p1, "vA", "veth0")
        veth_pair(h, p2, "vB", "veth0")
        for p in (p1, p2):
            p.run("ip", "-6", "addr", "add", f"{LL}/64", "dev", "veth0", "nodad")
        yield h, p1, p2


def summaries(ev):
    return {s["addr"]: s for s in of(ev, "summary")}


@pytest.mark.parametrize("mode", ["raw", "dgram"])
def test_same_link_local_on_two_links_each_answered_on_its_own(links, mode):
    h, p1, p2 = links
    user = mode == "dgram"  # rootless: uid 65534, the range open in H only
    e1, e2 = in_echos(p1), in_echos(p2)
    r = tundra(h, "--mode", mode, "-c", "3", "-i", "0.1", "-W", "1", "--json",
               f"{LL}%vA", f"{LL}%vB", user=user)
    assert r.returncode == 0, r.stdout + r.stderr
    ev = events(r.stdout)
    assert of(ev, "start")[0]["socket_v6"] == mode
    s = summaries(ev)
    assert set(s) == {f"{LL}%vA", f"{LL}%vB"}
    for a in s.values():
        assert (a["transmitted"], a["received"], a["duplicates"]) == (3, 3, 0), a
    # every reply is attributed to the target of the link it came in on
    for rep in of(ev, "reply"):
        assert rep["addr"] == (f"{LL}%vA" if rep["target"] == 0 else f"{LL}%vB")
    assert of(ev, "end")[0]["drops"]["wrong_source"] == 0
    # each probe left on its own link: each peer saw exactly its three
    assert (in_echos(p1) - e1, in_echos(p2) - e2) == (3, 3)

    # one peer loses the address: only its target loses replies, and the
    # "address unreachable" of failed neighbour discovery (after ~3 s) is
    # matched to that target: raw quotes carry no zone, the engine takes it
    # from the link the error came in on
    p2.run("ip", "-6", "addr", "del", f"{LL}/64", "dev", "veth0")
    h.run("ip", "-6", "neigh", "flush", "dev", "vB")  # resolve afresh (and fail)
    r = tundra(h, "--mode", mode, "-c", "2", "-i", "0.1", "-W", "6", "--json",
               f"{LL}%vA", f"{LL}%vB", user=user)
    assert r.returncode == 1, r.stdout + r.stderr  # fping: some target unreachable
    ev = events(r.stdout)
    s = summaries(ev)
    assert s[f"{LL}%vA"]["received"] == 2 and s[f"{LL}%vA"]["errors"] == 0
    b = s[f"{LL}%vB"]
    assert (b["transmitted"], b["received"], b["errors"], b["timeouts"]) == (2, 0, 2, 0), b
    assert b["errors_by_kind"]["unreachable"] == 2
    assert all(e["addr"] == f"{LL}%vB" and e["from"].endswith("%vB") for e in of(ev, "error"))
    assert of(ev, "end")[0]["drops"]["error_unmatched"] == 0


def test_text_output_numeric_zone_and_distinct_addresses(links):
    h, p1, p2 = links
    p2.run("ip", "-6", "addr", "add", "fe80::b/64", "dev", "veth0", "nodad")
    p1.run("ip", "-6", "addr", "add", "fe80::a/64", "dev", "veth0", "nodad")
    idx_b = int(h.run("cat", "/sys/class/net/vB/ifindex").stdout)
    r = tundra(h, "-c", "2", "-i", "0.1", "-W", "1", "fe80::a%vA", f"fe80::b%{idx_b}")
    assert r.returncode == 0, r.stdout + r.stderr
    # zones print as interface names, in reply lines and per-target summaries
    assert re.search(r"^64 bytes from fe80::a%vA: icmp_seq=1 ", r.stdout, re.M), r.stdout
    assert re.search(r"^64 bytes from fe80::b%vB: icmp_seq=1 ", r.stdout, re.M), r.stdout
    assert re.search(r"^fe80::a%vA : xmt/rcv/%loss = 2/2/0%", r.stdout, re.M), r.stdout
    assert re.search(r"^fe80::b%vB : xmt/rcv/%loss = 2/2/0%", r.stdout, re.M), r.stdout
    # fe80::a lives only behind vA: asked on vB it is unreachable, and listed so
    r = tundra(h, "-c", "1", "-W", "0.5", "--unreachable", "fe80::a%vA", "fe80::a%vB")
    assert r.returncode == 1 and r.stdout.split() == ["fe80::a%vB"], r.stdout + r.stderr
    r = tundra(h, "-c", "1", "-W", "0.5", "--alive", "fe80::a%vA", "fe80::a%vB")
    assert r.stdout.split() == ["fe80::a%vA"], r.stdout + r.stderr
    r = tundra(h, "-c", "1", "fe80::a%nosuchif0")
    assert r.returncode == 2 and "no interface 'nosuchif0'" in r.stderr, r.stderr


def test_dash_I_binds_and_refuses_a_target_on_another_link(links):
    h, _, _ = links
    # -I names the link of an unscoped link-local target (iputils' way)
    r = tundra(h, "-I", "vA", "-c", "2", "-i", "0.1", "-W", "1", "--json", LL)
    assert r.returncode == 0, r.stdout + r.stderr
    s = of(events(r.stdout), "summary")[0]
    assert s["addr"] == f"{LL}%vA" and s["received"] == 2
    # a zone on another link than -I's cannot be reached through the bound socket
    r = tundra(h, "-I", "vA", "-c", "1", "-W", "1", f"{LL}%vA", f"{LL}%vB")
    assert "fe80::99%vB: interface differs from -I vA" in r.stderr, r.stderr
    assert re.search(r"^fe80::99%vA : xmt/rcv/%loss = 1/1/0%", r.stdout, re.M), r.stdout
    assert r.returncode == 2  # fping: a target not found
    # -I with a zoned link-local source: bound to that address, so to its link
    h.run("ip", "-6", "addr", "add", "fe80::2/64", "dev", "vA", "nodad")
    r = tundra(h, "-I", "fe80::2%vA", "-c", "1", "-W", "1", LL)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^64 bytes from fe80::99%vA: icmp_seq=1 ", r.stdout, re.M), r.stdout


def test_exporter_probes_one_link_local_address_on_two_links_as_two_series(links):
    h, _, p2 = links
    cfg = ("targets:\n"
           f"- hosts: [{LL}%vA, {LL}%vB]\n"
           "  interval: 100ms\n  timeout: 500ms\n"
           # no zone, but an interface: the interface is the zone
           f"- host: {LL}\n  interface: vB\n  interval: 100ms\n  timeout: 500ms\n")
    with Exporter(h, [], 19391, config=cfg) as ex:
        def both_answered():
            m = ex.metrics()
            return all(value(m, "smokeping_response_duration_seconds_count",
                             host=host, ip=f"{LL}%{dev}") >= 3
                       for host, dev in ((f"{LL}%vA", "vA"), (f"{LL}%vB", "vB"), (LL, "vB")))
        wait_for(both_answered, timeout=10, what="replies on both links")
        p2.run("ip", "-6", "addr", "del", f"{LL}/64", "dev", "veth0")
        time.sleep(1.0)  # answers in flight before the address went
        m = ex.metrics()
        a0 = value(m, "smokeping_response_duration_seconds_count", host=f"{LL}%vA")
        b0 = value(m, "smokeping_response_duration_seconds_count", host=f"{LL}%vB")
        c0 = value(m, "smokeping_response_duration_seconds_count", host=LL)
        time.sleep(1.0)
        m = ex.metrics()
        assert value(m, "smokeping_response_duration_seconds_count", host=f"{LL}%vA") > a0
        assert value(m, "smokeping_response_duration_seconds_count", host=f"{LL}%vB") == b0
        assert value(m, "smokeping_response_duration_seconds_count", host=LL) == c0


def test_zone_names_an_interface_whose_name_starts_with_a_digit():
    # Linux names may start with a digit (6in4-wan); getaddrinfo, so iputils,
    # fping and the exporter, try the name before a number: so does ping
    with Netns("tdLH") as h, Netns("tdL1") as p:
        for ns in (h, p):
            ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
            ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
        veth_pair(h, p, "6to4x", "veth0")
        p.run("ip", "-6", "addr", "add", f"{LL}/64", "dev", "veth0", "nodad")
        r = tundra(h, "-c", "1", "-W", "1", f"{LL}%6to4x")
        assert r.returncode == 0, r.stdout + r.stderr
        assert re.search(rf"^64 bytes from {LL}%6to4x: icmp_seq=1 ", r.stdout, re.M), r.stdout
        idx = int(h.run("cat", "/sys/class/net/6to4x/ifindex").stdout)
        r = tundra(h, "-c", "1", "-W", "1", f"{LL}%{idx}")  # the index still works
        assert r.returncode == 0, r.stdout + r.stderr
        r = tundra(h, "-c", "1", f"{LL}%6nosuch")
        assert r.returncode == 2 and "no interface '6nosuch'" in r.stderr, r.stderr


def test_exporter_skips_a_numeric_zone_of_another_link_than_its_interface(links):
    """interface: vA binds the group's socket to vA: fe80::99%<index of vB>
    could never be reached through it, so the address is skipped with a log
    line and counted as a failed resolution, while the group's other host
    on vA is probed."""
    h, _, _ = links
    idx_b = h.run("cat", "/sys/class/net/vB/ifindex").stdout.strip()
    cfg = ("targets:\n"
           f"- hosts: ['{LL}%{idx_b}', '{LL}%vA']\n"
           "  interface: vA\n  interval: 100ms\n  timeout: 500ms\n")
    with Exporter(h, [], 19392, config=cfg) as ex:
        wait_for(lambda: value(ex.metrics(), "smokeping_response_duration_seconds_count",
                               host=f"{LL}%vA") >= 3, timeout=10, what="replies on vA")
        m = ex.metrics()
        assert value(m, "tundra_resolve_failures_total", host=f"{LL}%{idx_b}") >= 1
        assert value(m, "tundra_resolved_addresses", host=f"{LL}%{idx_b}") == 0
        out = ex.output()
        assert f"{LL}%{idx_b}: zone {idx_b} is not interface: vA" in out
        assert f"cannot resolve {LL}%{idx_b}: no address on the group's interface" in out
        assert "Address family" not in out  # not the resolver's unrelated text
