"""tundra ping on loopback: both families, both socket kinds, rootless paths, iputils parity."""
import os
import re
import shutil
import subprocess
import time

import pytest

from netns import Netns, veth_pair
from conftest import TUNDRA
from pinghelp import events, flood_line, of, summary, tundra

pytestmark = pytest.mark.timeout(120)


def after_first(replies):
    """The replies but each target's first. When no socket on the system has
    asked for timestamps yet, the kernel turns RX stamping on from a work
    item (net_enable_timestamp() -> netstamp_work), so on a busy machine the
    first reply can arrive before it has run, without a kernel RX stamp
    (seen ~3 % of runs under load, with or without this branch's changes)."""
    seen, out = set(), []
    for e in replies:
        if e["target"] in seen:
            out.append(e)
        seen.add(e["target"])
    return out


@pytest.fixture
def ns():
    with Netns("tdping") as n:
        yield n


@pytest.mark.parametrize("mode", ["dgram", "raw"])
@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_loopback_replies_both_families_both_modes(ns, mode, target):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    r = tundra(ns, "--mode", mode, "-c", "3", "-i", "0.05", "--json", target)
    assert r.returncode == 0, r.stderr
    ev = events(r.stdout)
    assert ev[0][f"socket_v{6 if ':' in target else 4}"] == mode
    rep = of(ev, "reply")
    assert [e["seq"] for e in rep] == [1, 2, 3]
    assert all(e["authenticated"] and not e["dup"] for e in rep)
    assert all(e["ttl"] == 64 for e in rep)
    s = of(ev, "summary")[0]
    assert s["transmitted"] == 3 and s["received"] == 3 and s["loss_pct"] == 0
    assert 0 < s["p50_ms"] < 5


def test_nobody_with_open_range_uses_dgram_and_kernel_tx_stamps(ns):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    r = tundra(ns, "-c", "2", "-i", "0.05", "--json", "127.0.0.1", "::1", user=True)
    assert r.returncode == 0, r.stderr
    ev = events(r.stdout)
    assert ev[0]["socket_v4"] == "dgram" and ev[0]["socket_v6"] == "dgram"
    assert ev[0]["timestamps_v4"] == "kernel_tx_rx"
    assert len(of(ev, "reply")) == 4
    assert all(e["kernel_timestamps"] for e in after_first(of(ev, "reply")))


def test_nobody_with_closed_range_gets_exact_remedy(ns):
    ns.sysctl("net.ipv4.ping_group_range", "1 0")
    r = tundra(ns, "-c", "1", "127.0.0.1", user=True)
    assert r.returncode == 2
    err = r.stderr
    assert "net.ipv4.ping_group_range = 1 0" in err
    assert "your groups: 65534" in err
    assert "CAP_NET_RAW: no" in err
    assert 'sysctl -w net.ipv4.ping_group_range="0 2147483647"' in err
    assert re.search(r"setcap cap_net_raw\+ep \S*tundra", err)
    # the same status with several targets (the 2, not fping's 4)
    r = tundra(ns, "-c", "1", "127.0.0.1", "::1", user=True)
    assert r.returncode == 2 and "remedies" in r.stderr
    # --mode raw: the range would not help, only the capability
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    r = tundra(ns, "--mode", "raw", "-c", "1", "127.0.0.1", user=True)
    assert r.returncode == 2 and "--mode raw was given: only the second remedy applies" in r.stderr


def test_nobody_cannot_flood_or_go_below_2ms(ns):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    for args in (["-f"], ["-i", "0.001"]):
        r = tundra(ns, *args, "-c", "1", "127.0.0.1", user=True)
        assert r.returncode == 2 and "minimal interval allowed for user is 2ms" in r.stderr


def test_raw_mode_drops_capabilities_after_open(ns):
    ns.sysctl("net.ipv4.ping_group_range", "1 0")
    # Root opens a raw socket, then drops every capability: CapEff is 0 while pinging.
    p = ns.popen(["bash", "-c", f"{os.environ.get('TUNDRA', 'build/tundra')} ping -c 30 -i 0.05 "
                  "127.0.0.1 >/dev/null & pid=$!; sleep 0.5; grep -E '^Cap(Eff|Prm)' "
                  "/proc/$pid/status; wait $pid"], stdout=-1, text=True)
    out, _ = p.communicate(timeout=30)
    assert "CapEff:\t0000000000000000" in out, out
    assert "CapPrm:\t0000000000000000" in out, out


def test_summary_lines_parse_like_iputils(ns):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    ours = tundra(ns, "-c", "4", "-i", "0.05", "127.0.0.1")
    theirs = ns.run("ping", "-c", "4", "-i", "0.05", "127.0.0.1", check=False)
    assert ours.returncode == theirs.returncode == 0
    a, b = summary(ours.stdout), summary(theirs.stdout)
    assert (a["tx"], a["rx"], a["loss"]) == (b["tx"], b["rx"], b["loss"]) == (4, 4, 0.0)
    assert a["rtt"] and b["rtt"]
    reply_re = re.compile(r"^64 bytes from 127\.0\.0\.1: icmp_seq=(\d+) ttl=64 time=[\d.]+ ms$", re.M)
    assert reply_re.findall(ours.stdout) == reply_re.findall(theirs.stdout) == ["1", "2", "3", "4"]
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0]


@pytest.fixture
def silent():
    # A peer namespace that ignores echo requests: 10.9.1.1 never answers.
    with Netns("tdping") as a, Netns("tdpeer") as b:
        veth_pair(a, b)
        a.run("ip", "addr", "add", "10.9.1.2/24", "dev", "veth0")
        b.run("ip", "addr", "add", "10.9.1.1/24", "dev", "veth0")
        b.sysctl("net.ipv4.icmp_echo_ignore_all", "1")
        yield a


def test_no_reply_exit_code_matches_iputils(silent):
    ns = silent
    ours = tundra(ns, "-c", "2", "-i", "0.2", "-W", "0.3", "10.9.1.1")
    theirs = ns.run("ping", "-c", "2", "-i", "0.2", "-W", "0.3", "10.9.1.1", check=False)
    assert ours.returncode == theirs.returncode == 1
    a, b = summary(ours.stdout), summary(theirs.stdout)
    assert (a["tx"], a["rx"], a["loss"]) == (b["tx"], b["rx"], b["loss"]) == (2, 0, 100.0)
    assert a["rtt"] is None and b["rtt"] is None


def test_count_with_deadline_waits_for_count_answers_like_iputils(silent):
    # iputils ping(8) -w: "ping does not stop after count packet are sent, it
    # waits either for deadline expire or until count probes are answered".
    import time
    ns = silent
    for args, live in ((["-c", "3", "-i", "0.2", "-w", "5", "127.0.0.1"], True),
                       (["-c", "3", "-i", "0.2", "-W", "0.3", "-w", "2", "10.9.1.1"], False)):
        t0 = time.monotonic()
        ours = tundra(ns, "-q", *args)
        took = time.monotonic() - t0
        theirs = ns.run("ping", "-q", *args, check=False)
        a, b = summary(ours.stdout), summary(theirs.stdout)
        assert ours.returncode == theirs.returncode == (0 if live else 1), (ours, theirs)
        assert a["rx"] == b["rx"] == (3 if live else 0)
        if live:  # three answers: done at once, not at the deadline
            assert a["tx"] == b["tx"] == 3 and took < 2.5
        else:  # keeps probing at the interval until the 2 s deadline
            assert 9 <= a["tx"] <= 11 and abs(a["tx"] - b["tx"]) <= 1, (a, b)
            assert took >= 1.9


def test_range_and_alive_listing(ns):
    r = tundra(ns, "-c", "1", "-g", "127.1.0.0/28", "-g", "127.2.0.1-127.2.0.3", "--spacing", "0",
               "--alive")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split()
    assert len(lines) == 14 + 3 and "127.1.0.1" in lines and "127.2.0.3" in lines


def test_many_targets_fping_summaries_and_exit_code(silent):
    ns = silent
    r = tundra(ns, "-c", "2", "-i", "0.05", "-W", "0.3", "127.0.0.1", "::1", "10.9.1.1")
    assert r.returncode == 1  # fping: some target unreachable
    assert re.search(r"^127\.0\.0\.1 : xmt/rcv/%loss = 2/2/0%, min/avg/max = [\d.]+/[\d.]+/[\d.]+$",
                     r.stdout, re.M)
    # names padded to the longest, as fping does
    assert re.search(r"^10\.9\.1\.1  : xmt/rcv/%loss = 2/0/100%", r.stdout, re.M)
    assert re.search(r"^::1       : xmt/rcv/%loss = 2/2/0%", r.stdout, re.M)
    assert summary(r.stdout)["tx"] == 6
    u = tundra(ns, "-c", "1", "-W", "0.3", "127.0.0.1", "10.9.1.1", "--unreachable")
    assert u.stdout.split() == ["10.9.1.1"]


def test_unresolvable_name_reported_others_go_on(ns):
    # The namespace has no route to any resolver: the lookup fails locally.
    r = tundra(ns, "-c", "1", "127.0.0.1", "no-such-host.invalid")
    assert "no-such-host.invalid:" in r.stderr
    assert "127.0.0.1 : xmt/rcv/%loss = 1/1/0%" in r.stdout
    assert r.returncode == 2  # fping: a name was not found


@pytest.mark.parametrize("args,msg", [
    (["-c", "0"], "-c 0 out of range: must be 1.."),
    (["-s", "70000"], "-s 70000 out of range: must be 0..65527"),
    (["-t", "0"], "-t 0 out of range: must be 1..255"),
    (["-Q", "300"], "-Q 300 out of range"),
    (["-i", "abc"], "invalid argument for -i: 'abc'"),
    (["-W", "-1"], "-W -1 out of range"),
    (["-p", "xyz"], "not a hex pattern"),
    (["-M", "maybe"], "-M: expected do, want, dont or probe"),
    (["--mode", "udp"], "--mode: expected auto, dgram or raw"),
    (["-g", "10.0.0.0/8"], "more than"),
])
def test_numeric_options_range_checked(ns, args, msg):
    r = tundra(ns, *args, "127.0.0.1")
    assert r.returncode == 2
    assert msg in r.stderr, r.stderr


def test_pattern_size_ttl_tos_options_on_the_wire(ns):
    r = tundra(ns, "-c", "2", "-i", "0.05", "-s", "100", "-p", "a5", "-t", "7", "-Q", "0x10",
               "--json", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    rep = of(events(r.stdout), "reply")
    assert all(e["bytes"] == 108 and not e["corrupted"] for e in rep)
    # The replier answers with its own TTL; Linux copies the request's TOS.
    assert all(e["ttl"] == 64 and e["tos"] == 0x10 for e in rep)


def test_histogram_and_extra_lines(ns):
    r = tundra(ns, "-c", "20", "-i", "0.01", "-q", "--histogram", "--extra", "127.0.0.1")
    assert r.returncode == 0
    assert "RTT distribution (20 replies):" in r.stdout
    assert re.search(r"(ms|us) \|#+ \d+$", r.stdout, re.M)
    assert re.search(r"^jitter [\d.]+ ms, p50/p90/p99 = ", r.stdout, re.M)


def test_sigquit_prints_interim_statistics(ns):
    import signal
    import time
    p = ns.popen([os.environ.get("TUNDRA", "build/tundra"), "ping", "-i", "0.05", "-c", "40",
                  "127.0.0.1"], stdout=-1, stderr=-1, text=True)
    time.sleep(0.6)
    # ip netns exec execs: p.pid is tundra itself.
    os.kill(p.pid, signal.SIGQUIT)
    out, err = p.communicate(timeout=20)
    assert re.search(r"\d+/\d+ packets, \d+% loss", err), err
    assert summary(out)["tx"] == 40


def test_sigquit_interim_ewma_is_smoothed_rtt_with_several_targets(ns):
    # iputils' status(): min/avg/ewma/max, ewma its smoothed RTT. Several
    # targets: the mean of theirs, so within [min, max] and never 0.
    import signal
    import time
    p = ns.popen([os.environ.get("TUNDRA", "build/tundra"), "ping", "-i", "0.05", "-c", "30",
                  "127.0.0.1", "::1"], stdout=-1, stderr=-1, text=True)
    time.sleep(0.6)
    os.kill(p.pid, signal.SIGQUIT)
    _, err = p.communicate(timeout=20)
    m = re.search(r"min/avg/ewma/max = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", err)
    assert m, err
    mn, _, ew, mx = (float(x) for x in m.groups())
    assert ew > 0 and mn <= ew <= mx, err


@pytest.fixture
def nobody_dir():
    # A directory nobody can traverse (pytest's tmp_path sits under a 0700 parent).
    import shutil
    import tempfile
    d = tempfile.mkdtemp(prefix="tdping-")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_setcap_binary_as_nobody_uses_raw_then_drops_caps(ns, nobody_dir):
    # The second remedy: a copy of the binary with cap_net_raw+ep works for
    # nobody with the range closed, and holds no capability while it pings.
    import shutil
    import subprocess
    ns.sysctl("net.ipv4.ping_group_range", "1 0")
    exe = os.path.join(nobody_dir, "tundra")
    shutil.copy(os.environ.get("TUNDRA", "build/tundra"), exe)
    subprocess.run(["setcap", "cap_net_raw+ep", str(exe)], check=True)
    r = ns.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(exe), "ping",
               "-c", "2", "-i", "0.05", "--json", "127.0.0.1", check=False)
    assert r.returncode == 0, r.stderr
    assert events(r.stdout)[0]["socket_v4"] == "raw"
    p = ns.popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
                  f"{exe} ping -c 20 -i 0.05 127.0.0.1 >/dev/null & pid=$!; sleep 0.4; "
                  "grep -E '^Cap(Eff|Prm)' /proc/$pid/status; wait $pid"], stdout=-1, text=True)
    out, _ = p.communicate(timeout=30)
    assert "CapEff:\t0000000000000000" in out and "CapPrm:\t0000000000000000" in out, out
    # Under no_new_privs file capabilities are ignored: the remedy message says so.
    r = ns.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--no-new-privs",
               "bash", "-c", f"{exe} ping -c 1 127.0.0.1", check=False)
    assert r.returncode == 2 and "no_new_privs is set" in r.stderr


def test_targets_from_stdin_file_and_deadline(ns):
    r = ns.run(os.environ.get("TUNDRA", "build/tundra"), "ping", "-c", "1", "--file", "-",
               check=False, input="127.0.0.1\n# comment\n\n::1   # trailing\n127.0.0.2\n")
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["tx"] == 3
    d = tundra(ns, "-w", "1", "-i", "0.2", "127.0.0.1")
    s = summary(d.stdout)
    assert d.returncode == 0 and 4 <= s["tx"] <= 6 and s["rx"] == s["tx"]


def test_timestamps_prefix_and_numeric_output(ns):
    r = tundra(ns, "-D", "-n", "-c", "2", "-i", "0.05", "127.0.0.1")
    assert re.findall(r"^\[\d+\.\d{6}\] 64 bytes from 127\.0\.0\.1: icmp_seq=\d", r.stdout, re.M)


@pytest.mark.parametrize("size", [0, 23, 24, 3000, 65507])
def test_payload_sizes_from_empty_to_largest(ns, size):
    r = tundra(ns, "-c", "2", "-i", "0.05", "-s", str(size), "--json", "127.0.0.1", "::1")
    assert r.returncode == 0, r.stderr
    rep = of(events(r.stdout), "reply")
    assert len(rep) == 4
    assert all(e["bytes"] == size + 8 and not e["corrupted"] for e in rep)
    assert all(e["authenticated"] == (size >= 24) for e in rep)


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_ipv6_carries_65527_data_bytes_ipv4_refuses_more_than_65507(ns, mode):
    # as iputils: an ICMPv6 echo may hold 65 535 - 8 bytes (the IPv6 payload
    # length leaves out the fixed header); IPv4's limit is 65 507, said once
    ns.run("ip", "link", "set", "lo", "up")
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    r = tundra(ns, "--mode", mode, "-c", "2", "-i", "0.05", "-s", "65527", "::1")
    assert r.returncode == 0, r.stderr
    assert "PING ::1(::1) 65527 data bytes" in r.stdout
    assert len(re.findall(r"^65535 bytes from ::1: icmp_seq=\d", r.stdout, re.M)) == 2
    r = tundra(ns, "--mode", mode, "-c", "1", "-s", "65508", "127.0.0.1")
    assert r.returncode == 2
    assert "-s 65508: an IPv4 packet holds at most 65507 data bytes (IPv6: 65527)" in r.stderr


@pytest.mark.parametrize("mode", ["dgram", "raw"])
def test_mark_takes_the_whole_32_bits_and_steers_policy_routing(ns, mode):
    # -m sets SO_MARK (CAP_NET_ADMIN: root here). A rule ahead of the local
    # table prohibits packets marked 0xfffffffe (above INT_MAX, as iputils
    # allows): marked probes cannot leave, unmarked and otherwise marked do.
    ns.run("ip", "link", "set", "lo", "up")
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    ns.run("ip", "rule", "add", "pref", "100", "lookup", "local")
    ns.run("ip", "rule", "del", "pref", "0")
    ns.run("ip", "rule", "add", "pref", "10", "fwmark", "0xfffffffe", "prohibit")
    r = tundra(ns, "--mode", mode, "-c", "1", "-m", str(0xfffffffe), "127.0.0.1")
    assert r.returncode == 2 and "Permission denied" in r.stderr, r.stdout + r.stderr
    for args in ([], ["-m", "1"], ["-m", str(0xffffffff)]):
        r = tundra(ns, "--mode", mode, "-c", "1", *args, "127.0.0.1")
        assert r.returncode == 0, (args, r.stderr)
    r = tundra(ns, "-c", "1", "-m", str(1 << 32), "127.0.0.1")
    assert r.returncode == 2 and "must be 0..4294967295" in r.stderr


@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_mark_without_cap_net_admin_warns_and_pings_like_iputils(ns, target):
    # iputils: "WARNING: failed to set mark: 7: Operation not permitted" on
    # stderr, then the ping as if no -m had been given.
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    r = tundra(ns, "--mode", "dgram", "-c", "2", "-i", "0.05", "-m", "7", target, user=True)
    assert r.returncode == 0, r.stderr
    assert summary(r.stdout)["rx"] == 2
    warn = "tundra ping: WARNING: failed to set mark: 7: Operation not permitted\n"
    assert r.stderr == warn
    # once per family, not per socket or per probe
    r = tundra(ns, "--mode", "dgram", "-c", "1", "-m", "7", "--json", "127.0.0.1", "::1",
               user=True)
    assert r.returncode == 0, r.stderr
    assert r.stderr == warn * 2
    assert len(of(events(r.stdout), "reply")) == 2


@pytest.mark.parametrize("pattern", ["ff00", "f", "fff", "0102030405060708090a0b0c0d0e0f10"])
@pytest.mark.parametrize("target", ["127.0.0.1", "::1"])
def test_pattern_line_as_iputils_prints_it(ns, pattern, target):
    # iputils: "PATTERN: 0x<bytes>" before the PING line, none with -q
    head = re.compile(r"^(PATTERN: .*\n)?PING .*\n", re.M)
    for quiet in ([], ["-q"]):
        args = ["-c", "1", *quiet, "-p", pattern, target]
        ours = tundra(ns, *args)
        theirs = ns.run("ping", *args, check=False)
        assert ours.returncode == theirs.returncode == 0, ours.stderr + theirs.stderr
        a, b = head.match(ours.stdout), head.match(theirs.stdout)
        assert a and b and a[0] == b[0], (ours.stdout, theirs.stdout)
        assert bool(a[1]) == (not quiet)
    # only the text mode: JSON and the listings stay what scripts parse
    r = tundra(ns, "-c", "1", "-p", pattern, "--json", target)
    assert r.returncode == 0 and events(r.stdout)
    r = tundra(ns, "-c", "1", "-p", pattern, "--alive", target)
    assert r.returncode == 0 and r.stdout == f"{target}\n"


def test_adaptive_and_preload_limits(ns):
    import time
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    t0 = time.monotonic()
    r = tundra(ns, "-A", "-c", "50", "-q", "127.0.0.1")  # root: next probe on each answer
    assert r.returncode == 0 and summary(r.stdout)["rx"] == 50
    assert time.monotonic() - t0 < 3
    bad = tundra(ns, "-l", "4", "-c", "1", "127.0.0.1", user=True)
    assert bad.returncode == 2 and "maximum preload for user is 3" in bad.stderr
    ok = tundra(ns, "-l", "3", "-c", "6", "-i", "0.05", "-q", "127.0.0.1", user=True)
    assert ok.returncode == 0 and summary(ok.stdout)["rx"] == 6


def test_adaptive_user_keeps_iputils_2ms_floor_not_200ms(ns):
    # iputils' MINUSERINTERVAL is 2 ms for an unprivileged -A (its man page
    # said 200 ms): 20 probes on loopback take ~40 ms, not 3.8 s.
    import time
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    t0 = time.monotonic()
    u = tundra(ns, "-A", "-c", "20", "-q", "127.0.0.1", user=True)
    took = time.monotonic() - t0
    assert u.returncode == 0, u.stderr
    assert summary(u.stdout)["rx"] == 20
    assert took < 1.0, took
    # the floor is there: 20 probes 2 ms apart need 38 ms at least
    assert summary(u.stdout)["tx"] == 20 and took >= 0.038, took


def test_sigint_ends_with_the_summary(ns):
    import signal
    import time
    p = ns.popen([os.environ.get("TUNDRA", "build/tundra"), "ping", "-i", "0.05", "127.0.0.1"],
                 stdout=-1, stderr=-1, text=True)
    time.sleep(0.5)
    os.kill(p.pid, signal.SIGINT)
    out, _ = p.communicate(timeout=10)
    s = summary(out)
    assert p.returncode == 0 and s["tx"] >= 5 and s["rx"] == s["tx"]


def test_report_outstanding_like_iputils(silent):
    ns = silent
    ours = tundra(ns, "-O", "-c", "3", "-i", "0.2", "-W", "0.3", "10.9.1.1")
    theirs = ns.run("ping", "-O", "-c", "3", "-i", "0.2", "-W", "0.3", "10.9.1.1", check=False)
    pat = re.compile(r"^no answer yet for icmp_seq=(\d+)$", re.M)
    assert pat.findall(ours.stdout) == pat.findall(theirs.stdout), (ours.stdout, theirs.stdout)
    assert ours.returncode == theirs.returncode == 1
    # each said when the next probe leaves: 0.2 s apart, the last one too
    # (it was held back to the end of the run)
    d = tundra(ns, "-D", "-O", "-c", "3", "-i", "0.2", "-W", "0.3", "10.9.1.1")
    at = [float(x) for x in re.findall(r"^\[([\d.]+)\] no answer yet", d.stdout, re.M)]
    assert len(at) == 2 and at[1] - at[0] < 0.33, d.stdout


def test_single_reply_shows_the_same_rtt_in_the_reply_line_and_the_summary(ns):
    # iputils prints both from whole microseconds; rounding the line but
    # truncating the summary made them differ by 0.001 ms in a third of runs.
    ns.run("ip", "link", "set", "lo", "up")
    for _ in range(20):
        r = tundra(ns, "-c", "1", "127.0.0.1")
        assert r.returncode == 0, r.stderr
        line = re.search(r"icmp_seq=1 ttl=\d+ time=([\d.]+) ms$", r.stdout, re.M)[1]
        assert summary(r.stdout)["rtt"][:3] == (float(line),) * 3, r.stdout


def test_interval_0_keeps_one_probe_in_flight_as_iputils(ns):
    # iputils -i 0 (root): the next probe when the reply comes (or after
    # 10 ms), so no "pipe"; the second line ends with ipg/ewma as for -f.
    ns.run("ip", "link", "set", "lo", "up")
    line = re.compile(r"^rtt min/avg/max/mdev = [\d./]+ ms(, pipe \d+)?, ipg/ewma [\d.]+/[\d.]+ ms$",
                      re.M)
    for cmd in ([TUNDRA, "ping"], ["ping"]):
        r = ns.run(*cmd, "-c", "200", "-i", "0", "-q", "127.0.0.1", check=False)
        assert r.returncode == 0 and summary(r.stdout)["rx"] == 200, r.stdout
        m = line.search(r.stdout)
        assert m and m[1] is None, r.stdout


def test_flood_line_is_drawn_per_redraw_not_per_probe(ns):
    # iputils writes 4 bytes per probe to draw a line that stays empty while
    # every reply comes back: on a terminal that costs it more than the pings.
    ns.run("ip", "link", "set", "lo", "up")
    ours = tundra(ns, "-f", "-c", "20000", "--extra", "127.0.0.1")
    theirs = ns.run("ping", "-f", "-c", "20000", "127.0.0.1", check=False)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    seen, raw = flood_line(ours.stdout)
    assert seen == flood_line(theirs.stdout)[0] == ""
    assert len(flood_line(theirs.stdout)[1]) >= 4 * 20000
    assert len(raw) < 4000, len(raw)  # a few bytes per 10 ms at most
    assert summary(ours.stdout)["rx"] == 20000
    # iputils' flood suffix: mean gap between probes and smoothed RTT
    ipg = re.compile(r"^rtt min/avg/max/mdev = [\d./]+ ms, ipg/ewma [\d.]+/[\d.]+ ms$", re.M)
    assert ipg.search(ours.stdout) and ipg.search(theirs.stdout)
    # --extra names what timed the RTTs, in the JSON start event's words
    assert ours.stdout.rstrip().endswith("timestamps kernel_rx")
    r = tundra(ns, "-c", "2", "-i", "0.05", "--extra", "127.0.0.1")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("timestamps kernel_tx_rx")


def test_flood_uses_kernel_rx_stamps_only_unless_tx_stamps_on(ns):
    # -f: no kernel TX stamp per probe (an skb clone and an error-queue read
    # each); RTT = kernel RX stamp - clock before sendmmsg, never negative.
    r = tundra(ns, "-f", "-c", "300", "--json", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    ev = events(r.stdout)
    assert ev[0]["timestamps_v4"] == "kernel_rx"
    rep = of(ev, "reply")
    assert len(rep) == 300
    assert all(not e["kernel_timestamps"] and 0 < e["rtt_ms"] < 100 for e in rep)
    r = tundra(ns, "-f", "-c", "300", "--tx-stamps", "on", "--json", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    ev = events(r.stdout)
    assert ev[0]["timestamps_v4"] == "kernel_tx_rx"
    assert all(e["kernel_timestamps"] for e in after_first(of(ev, "reply")))
    # off without -f; a bad value is a clear error
    r = tundra(ns, "-c", "2", "-i", "0.05", "--tx-stamps", "off", "--json", "127.0.0.1")
    assert r.returncode == 0, r.stderr
    assert events(r.stdout)[0]["timestamps_v4"] == "kernel_rx"
    r = tundra(ns, "-c", "1", "--tx-stamps", "maybe", "127.0.0.1")
    assert r.returncode == 2 and "--tx-stamps" in r.stderr


@pytest.mark.parametrize("mode", ["raw", "dgram"])
def test_threads_answer_every_target_once_with_single_thread_stats(ns, mode):
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    ns.run("ip", "link", "set", "lo", "up")
    base = ["--mode", mode, "-c", "2", "-i", "0.2", "-W", "1", "--spacing", "0",
            "--json", "-g", "127.3.0.1-127.3.7.208"]  # 2000 targets
    totals = {}
    for threads in ("1", "3"):
        r = tundra(ns, "--threads", threads, *base)
        assert r.returncode == 0, r.stderr
        ev = events(r.stdout)
        summ = of(ev, "summary")
        assert len(summ) == 2000
        assert all(s["transmitted"] == 2 and s["received"] == 2 and s["duplicates"] == 0
                   for s in summ)
        rep = of(ev, "reply")
        assert len(rep) == 4000 and not any(e["dup"] for e in rep)
        assert len({(e["target"], e["seq"]) for e in rep}) == 4000
        end = of(ev, "end")[0]
        assert end["window_waits"] == 0 and end["evicted"] == 0  # no window pressure here
        totals[threads] = (end["transmitted"], end["received"], end["drops"])
    assert totals["1"] == totals["3"]
    r = tundra(ns, "--threads", "17", "-c", "1", "127.0.0.1")
    assert r.returncode == 2 and "--threads" in r.stderr


def loops_of(r):
    assert r.returncode == 0, r.stderr
    return events(r.stdout)[0]["loops"]


def test_threads_auto_uses_the_cpus_the_affinity_and_cpu_quota_allow(ns):
    # --threads auto: two loops for a burst of 8192+ targets when the process
    # may use two CPUs, whatever else runs at that instant; one when its
    # affinity or its cgroup's CPU quota allows one.
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two CPUs")
    ns.run("ip", "link", "set", "lo", "up")
    base_args = ["-c", "1", "-W", "1", "--json", "-g"]
    args = ["--spacing", "0", *base_args, "127.5.0.1-127.5.32.10"]  # 8202 targets
    assert loops_of(tundra(ns, *args)) == 2
    assert loops_of(ns.run("taskset", "-c", "0", TUNDRA, "ping", *args, check=False)) == 1
    # paced (10 us apart: one loop keeps up) or under 8192 targets: one loop
    assert loops_of(tundra(ns, "--spacing", "0.01", *base_args, "127.5.0.1-127.5.32.10")) == 1
    assert loops_of(tundra(ns, "--spacing", "0", *base_args, "127.5.0.1-127.5.0.200")) == 1
    # A CPU quota of one CPU (cgroup v1 cpu controller or v2 cpu.max).
    # `ip netns exec` remounts /sys without the cgroup tree, so this part runs
    # in an anonymous network namespace (unshare -n) instead.
    v1 = "/sys/fs/cgroup/cpu"
    base = v1 if os.path.exists(f"{v1}/cpu.cfs_quota_us") else "/sys/fs/cgroup"
    ctl = f"{base}/cgroup.subtree_control"
    if base != v1 and (not os.path.exists(ctl) or "cpu" not in open(ctl).read().split()):
        pytest.skip("no cgroup with a cpu controller to put a quota on")
    cg = f"{base}/tundra-test-{os.getpid()}"
    os.mkdir(cg)
    try:
        def run_in_cg(quota_milli):
            if base == v1:
                with open(f"{cg}/cpu.cfs_period_us", "w") as f:
                    f.write("100000")
                with open(f"{cg}/cpu.cfs_quota_us", "w") as f:
                    f.write(str(quota_milli * 100) if quota_milli else "-1")
            else:
                with open(f"{cg}/cpu.max", "w") as f:
                    f.write(f"{quota_milli * 100} 100000" if quota_milli else "max 100000")
            script = (f"echo $$ > {cg}/cgroup.procs && exec unshare -n sh -c "
                      f"'ip link set lo up && exec {TUNDRA} ping {' '.join(args)}'")
            return subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                                  timeout=60)
        assert loops_of(run_in_cg(1000)) == 1
        assert loops_of(run_in_cg(1400)) == 1  # rounded to the nearest CPU
        assert loops_of(run_in_cg(1600)) == 2
        assert loops_of(run_in_cg(0)) == 2
    finally:
        os.rmdir(cg)


def test_threads_auto_sweep_lists_every_target_once(ns):
    # 9000 targets back to back: --threads auto (the default) runs two loops
    # on a machine with two CPUs; the listing must be the one loop's.
    ns.run("ip", "link", "set", "lo", "up")
    args = ["-c", "1", "-W", "1", "--spacing", "0", "--alive", "-g", "127.4.0.1-127.4.35.40"]
    outs = []
    for threads in (None, "auto", "1"):
        r = tundra(ns, *(["--threads", threads] if threads else []), *args)
        assert r.returncode == 0, r.stderr
        lines = r.stdout.split()
        assert len(lines) == 9000 and len(set(lines)) == 9000
        outs.append(set(lines))
    assert outs[0] == outs[1] == outs[2]
    assert "127.4.35.40" in outs[0] and "127.4.0.1" in outs[0]
    # auto falls back to one loop when the extra loop's socket or eventfd
    # cannot be had (here: out of descriptors); an explicit count fails
    for nofile in ("4", "5"):
        r = ns.run("prlimit", "--nofile=" + nofile, TUNDRA, "ping", *args, check=False, timeout=60)
        assert r.returncode == 0, r.stderr
        assert set(r.stdout.split()) == outs[0]
    r = ns.run("prlimit", "--nofile=4", TUNDRA, "ping", "--threads", "2", *args,
               check=False, timeout=60)
    assert r.returncode != 0 and "--threads" in r.stderr


def test_listing_exit_status_and_lists(ns):
    # The listing's single pass over the targets also gives fping's exit status.
    ns.run("ip", "link", "set", "lo", "up")
    r = tundra(ns, "-c", "1", "-W", "0.3", "--unreachable", "127.0.0.1", "192.0.2.1")
    assert r.returncode == 1 and r.stdout.split() == ["192.0.2.1"]
    r = tundra(ns, "-c", "1", "-W", "0.3", "--alive", "127.0.0.1", "192.0.2.1")
    assert r.returncode == 1 and r.stdout.split() == ["127.0.0.1"]
    r = tundra(ns, "-c", "1", "-W", "0.3", "--alive", "127.0.0.1", "127.0.0.2")
    assert r.returncode == 0 and r.stdout.split() == ["127.0.0.1", "127.0.0.2"]


@pytest.mark.parametrize("args,status", [
    (["127.0.0.1"], 2),                  # one target: iputils' error status
    (["-q", "127.0.0.1"], 2),
    (["--json", "127.0.0.1"], 2),
    (["127.0.0.1", "::1"], 4),           # several: fping's system call failure
    (["--alive", "127.0.0.1", "::1"], 4),
])
def test_lost_output_is_a_write_error_not_a_clean_run(ns, args, status):
    # iputils: "ping: write error" and a failed run when stdout cannot take
    # the output; exit 0 would tell a script its log was written.
    with open("/dev/full", "w") as full:
        r = ns.run(TUNDRA, "ping", "-c", "1", *args, capture_output=False, stdout=full,
                   stderr=subprocess.PIPE, check=False)
    assert r.returncode == status, r.stderr
    assert r.stderr.endswith("tundra ping: write error: No space left on device\n"), r.stderr
    # a closed stdout (>&-): not written into the ICMP socket that took its number
    r = ns.run("sh", "-c", f"exec {TUNDRA} ping -c 1 {' '.join(args)} >&-", check=False)
    assert r.returncode == status, r.stderr
    assert r.stderr.endswith("tundra ping: write error: Bad file descriptor\n"), r.stderr


def test_reader_gone_with_sigpipe_ignored_is_no_write_error(ns):
    # EPIPE (SIGPIPE ignored) stops the run as the reader wished: not an error
    p = subprocess.Popen(ns.cmd(TUNDRA, "ping", "-c", "20", "-i", "0.05", "127.0.0.1"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         restore_signals=False)  # pytest's SIGPIPE is ignored: inherited
    try:
        assert p.stdout.readline().startswith("PING ")
        p.stdout.close()
        err = p.communicate(timeout=10)[1]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0 and "write error" not in err, err


def test_reply_lines_reach_a_pipe_at_once_and_a_closed_pipe_ends_the_run(ns):
    # Scripts read ping through pipes (| grep -m1, | tee): every line leaves
    # when it happens, as iputils and fping do, and once the reader is gone
    # the run ends (SIGPIPE) instead of pinging on into a full buffer.
    import subprocess
    import time
    ns.run("ip", "link", "set", "lo", "up")
    p = ns.popen([TUNDRA, "ping", "-c", "20", "-i", "0.2", "127.0.0.1"],
                 stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    try:
        p.stdout.readline()                      # PING header
        assert "bytes from 127.0.0.1" in p.stdout.readline()
        assert "icmp_seq=2" in p.stdout.readline()
        assert time.monotonic() - t0 < 2.0       # not at exit, 4 s in
        assert p.poll() is None
    finally:
        p.kill()
        p.wait()
    t0 = time.monotonic()
    r = ns.run("sh", "-c", f"{TUNDRA} ping -i 0.2 127.0.0.1 | head -2", timeout=20)
    assert time.monotonic() - t0 < 5 and len(r.stdout.splitlines()) == 2


def test_numbers_are_decimal_as_in_iputils(ns):
    ns.run("ip", "link", "set", "lo", "up")
    for arg, want in (("010", 10), ("08", 8), ("0x0a", 10)):
        r = tundra(ns, "-q", "-c", arg, "-i", "0.01", "127.0.0.1")
        assert r.returncode == 0, r.stderr
        assert summary(r.stdout)["tx"] == want
    r = tundra(ns, "-c", "99999999999999999999", "127.0.0.1")
    assert r.returncode == 2 and "out of range" in r.stderr
    r = tundra(ns, "-W", "-0.5", "-c", "1", "127.0.0.1")
    assert r.returncode == 2 and "must be 0..2147483" in r.stderr


def test_histogram_leaves_json_and_listings_parseable(ns):
    ns.run("ip", "link", "set", "lo", "up")
    r = tundra(ns, "--json", "--histogram", "-c", "3", "-i", "0.01", "127.0.0.1")
    assert r.returncode == 0
    events(r.stdout)  # every stdout line is JSON
    assert "RTT distribution (3 replies)" in r.stderr
    r = tundra(ns, "--alive", "--histogram", "-c", "1", "-g", "127.0.0.1/30")
    assert r.stdout.split() == ["127.0.0.1", "127.0.0.2"]
    assert "RTT distribution" in r.stderr


def test_family_flags_apply_to_ranges(ns):
    ns.run("ip", "link", "set", "lo", "up")
    r = tundra(ns, "-4", "-c", "1", "-g", "::1/128")
    assert r.returncode == 2 and "-g ::1/128: address family excluded by -4" in r.stderr
    r = tundra(ns, "-6", "-c", "1", "-W", "1", "--json", "-g", "127.0.0.1/30", "::1")
    assert "excluded by -6" in r.stderr
    assert [s["addr"] for s in of(events(r.stdout), "summary")] == ["::1"]


def test_file_errors_are_reported(ns, tmp_path):
    ns.run("ip", "link", "set", "lo", "up")
    # a file that cannot be read is fping's system call failure, status 4
    r = tundra(ns, "--file", str(tmp_path), "-c", "1")
    assert r.returncode == 4 and f"--file {tmp_path}: cannot read: Is a directory" in r.stderr
    missing = tmp_path / "missing"
    for extra in ([], ["127.0.0.1"]):
        r = tundra(ns, "--file", str(missing), "-c", "1", *extra)
        assert r.returncode == 4, (extra, r.stderr)
        assert f"--file {missing}: cannot open: No such file or directory" in r.stderr
    secret = tmp_path / "secret"
    secret.write_text("127.0.0.1\n")
    secret.chmod(0o600)
    r = tundra(ns, "--file", str(secret), "-c", "1", user=True)
    assert r.returncode == 4 and "cannot open: Permission denied" in r.stderr, r.stderr
    empty = tmp_path / "empty"
    empty.write_text("# nothing here\n")
    r = tundra(ns, "--file", str(empty), "-c", "1")
    assert r.returncode == 1 and r.stderr == ""  # fping's answer (test_ping_fidelity)
    long = tmp_path / "long"
    long.write_text("a" * 5000 + "\n127.0.0.1\n")
    r = tundra(ns, "--file", str(long), "-c", "1", "-W", "1", "--json")
    assert "line 1 longer than" in r.stderr
    assert [s["addr"] for s in of(events(r.stdout), "summary")] == ["127.0.0.1"]


def test_first_probe_without_route_stops_like_iputils(ns):
    # iputils exits 2 at once when a lone target has no route; so do we, and
    # the local error counts in "+N errors" as iputils counts it.
    ns.run("ip", "link", "set", "lo", "up")
    r = tundra(ns, "-c", "3", "-i", "0.5", "10.9.9.9", timeout=10)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Network is unreachable" in r.stderr
    s = summary(r.stdout)
    assert s["tx"] == 1 and s["rx"] == 0 and s["errors"] == 1
    r = tundra(ns, "-c", "1", "--json", "10.9.9.9", "127.0.0.1")
    summ = of(events(r.stdout), "summary")
    assert summ[0]["send_errors"] == 1 and summ[1]["received"] == 1


def elf_facts(path):
    """(ELF type, has a PT_INTERP program header) of a 64-bit little-endian ELF."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1
        e_type, = struct.unpack_from("<H", head, 0x10)
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        ph = f.read(phentsize * phnum)
    types = [struct.unpack_from("<I", ph, k * phentsize)[0] for k in range(phnum)]
    return e_type, 3 in types  # PT_INTERP = 3


def test_binary_is_one_file_that_runs_alone_in_an_empty_root(ns, tmp_path):
    # `make` links tundra static-pie (Makefile, STATIC): no dynamic loader
    # and no shared library, so the one file is a whole scratch container.
    # Position-independent (ET_DYN), so ASLR still moves it.
    import shutil
    e_type, interp = elf_facts(TUNDRA)
    assert e_type == 3 and not interp, (e_type, interp)
    root = tmp_path / "root"
    root.mkdir()
    root.chmod(0o755)
    tmp_path.chmod(0o755)
    shutil.copy(TUNDRA, root / "tundra")
    ns.run("ip", "link", "set", "lo", "up")
    ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
    # nothing else in the root: no /proc, no /etc, no libraries; as nobody
    r = ns.run("chroot", "--userspec=65534:65534", str(root), "/tundra", "ping",
               "-c", "2", "-i", "0.05", "--json", "127.0.0.1", "::1", check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    ev = events(r.stdout)
    assert ev[0]["socket_v4"] == "dgram" and ev[0]["socket_v6"] == "dgram"
    assert [s["received"] for s in of(ev, "summary")] == [2, 2]


def test_contradictory_options_are_refused(ns):
    ns.run("ip", "link", "set", "lo", "up")
    for args, msg in ((["-4", "-6"], "-4 and -6 exclude each other"),
                      (["--alive", "--unreachable"], "--alive and --unreachable exclude each other"),
                      (["-Z"], "tundra ping: invalid option -- 'Z'")):
        r = tundra(ns, *args, "-c", "1", "127.0.0.1")
        assert r.returncode == 2 and msg in r.stderr, r.stderr
    assert tundra(ns, "-4", "-4", "-q", "-c", "1", "127.0.0.1").returncode == 0


def test_option_errors_read_as_iputils_and_glibc_getopt_print_them(ns):
    # whatever C library links the binary (musl words these its own way)
    for args in (["-Z"], ["-c"]):
        r, i = tundra(ns, *args), ns.run("ping", *args, check=False)
        assert r.returncode == i.returncode == 2, r.stderr
        assert r.stderr.splitlines()[0] == "tundra " + i.stderr.splitlines()[0]
    for args, msg in ((["--bogus=1"], "unrecognized option '--bogus=1'"),
                      (["--json=1"], "option '--json' doesn't allow an argument"),
                      (["--fil"], "option '--file' requires an argument"),
                      (["--t"], "option '--t' is ambiguous; possibilities: "
                                "'--tx-stamps' '--threads'")):
        r = tundra(ns, *args)
        assert r.returncode == 2 and r.stderr.startswith(f"tundra ping: {msg}\n"), r.stderr


def test_name_lookup_without_a_reachable_name_server_fails_at_once_as_iputils(ns):
    # A namespace with only lo: its name server has no route. iputils (glibc)
    # says so at once; a musl-linked tundra would wait out musl's 5 s timeout
    # if it asked. Hosts-file names still resolve, nothing is sent.
    ns.run("ip", "link", "set", "lo", "up")
    etc = f"/etc/netns/{ns.name}"  # `ip netns exec` mounts these over /etc
    os.makedirs(etc, exist_ok=True)
    try:
        with open(f"{etc}/resolv.conf", "w") as f:
            f.write("nameserver 198.51.100.53\n")
        with open(f"{etc}/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n127.0.0.9 there.tundra.test\n")
        with open(f"{etc}/nsswitch.conf", "w") as f:
            f.write("hosts: files dns\n")
        for args, text in (([], "Temporary failure in name resolution"),
                           (["-6"], "Temporary failure in name resolution"),
                           # the hosts file has it, in the other family only
                           (["-6", "there"], "Address family for hostname not supported")):
            name = ("there" if "there" in args else "nowhere") + ".tundra.test"
            fam = [a for a in args if a != "there"]
            t0 = time.monotonic()
            r = tundra(ns, *fam, "-c", "1", name)
            took = time.monotonic() - t0
            i = ns.run("ping", *fam, "-c", "1", name, check=False)
            assert r.returncode == i.returncode == 2, r.stdout + r.stderr
            assert r.stderr == "tundra " + i.stderr
            assert text in r.stderr
            assert took < 2, took
        r = tundra(ns, "-c", "1", "-W", "1", "there.tundra.test")
        assert r.returncode == 0 and "PING there.tundra.test (127.0.0.9)" in r.stdout, r.stderr
        # inet_aton's short forms are addresses, not names, for both
        r, i = tundra(ns, "-c", "1", "-W", "1", "127.1"), ns.run("ping", "-c", "1", "127.1")
        assert r.returncode == 0 and "(127.0.0.1)" in r.stdout.splitlines()[0], r.stderr
        assert "(127.0.0.1)" in i.stdout.splitlines()[0]
    finally:
        shutil.rmtree(etc, ignore_errors=True)


def test_names_only_an_nss_module_knows_resolve_as_with_iputils(ns):
    # nsswitch.conf's myhostname (scripts/deps.sh installs it) answers the
    # machine's own name with its addresses. iputils has it from glibc; a
    # musl-linked tundra asks getent(1), whose lookups use AI_ADDRCONFIG: the
    # namespace gets an address of each family besides loopback's.
    ns.run("ip", "link", "set", "lo", "up")
    ns.run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
    ns.run("ip", "link", "set", "d0", "up")
    ns.run("ip", "link", "set", "d1", "up")
    ns.run("ip", "addr", "add", "10.99.0.1/24", "dev", "d0")
    ns.run("ip", "addr", "add", "fd99::1/64", "dev", "d0", "nodad")
    etc = f"/etc/netns/{ns.name}"
    os.makedirs(etc, exist_ok=True)
    name = ns.run("hostname").stdout.strip()
    try:
        for fn, text in (("resolv.conf", "nameserver 198.51.100.53\n"),
                         ("hosts", "127.0.0.1 localhost\n"),
                         ("nsswitch.conf", "hosts: files dns myhostname\n")):
            with open(f"{etc}/{fn}", "w") as f:
                f.write(text)
        for fam in (["-4"], ["-6"], []):
            r = tundra(ns, *fam, "-c", "1", "-W", "1", name)
            i = ns.run("ping", *fam, "-c", "1", "-W", "1", name, check=False)
            assert r.returncode == i.returncode == 0, r.stderr + i.stderr
            want = re.search(r"\(([0-9a-f.:]+)\)", i.stdout.splitlines()[0]).group(1)
            head = r.stdout.splitlines()[0]
            assert head.startswith(f"PING {name}") and f"({want})" in head, (r.stdout, i.stdout)
        # a name no source knows: the same error as iputils, and at once
        t0 = time.monotonic()
        r = tundra(ns, "-c", "1", "nowhere.tundra.test")
        i = ns.run("ping", "-c", "1", "nowhere.tundra.test", check=False)
        assert r.returncode == i.returncode == 2 and time.monotonic() - t0 < 3
    finally:
        shutil.rmtree(etc, ignore_errors=True)


def test_flood_with_a_listing_prints_only_addresses(silent):
    # the flood line goes nowhere near a listing that scripts read
    ns = silent
    r = tundra(ns, "-f", "-c", "5", "-W", "0.2", "--unreachable", "127.0.0.1", "10.9.1.1")
    assert r.returncode == 1 and r.stdout == "10.9.1.1\n", repr(r.stdout)
    r = tundra(ns, "-f", "-c", "5", "-W", "0.2", "--alive", "127.0.0.1", "10.9.1.1")
    assert r.stdout == "127.0.0.1\n", repr(r.stdout)


def test_flood_send_error_is_said_and_fails_as_without_flood(ns):
    for extra in ([], ["-f"]):
        r = tundra(ns, *extra, "-c", "5", "10.99.0.1")  # no route in a fresh namespace
        assert r.returncode == 2, (extra, r.stdout, r.stderr)
        assert "sendmsg to 10.99.0.1: Network is unreachable" in r.stderr, r.stderr


def test_fast_long_run_to_a_dead_target_never_waits_for_slots(silent):
    # More probes than a target has slots (65 536), 0.1 ms apart, none
    # answered: each lost probe must end before its slot comes round again,
    # so the 70 000 probes leave in ~7 s, not after minute-long timeouts.
    import time
    ns = silent
    t0 = time.monotonic()
    r = tundra(ns, "-q", "-c", "70000", "-i", "0.0001", "-W", "0.5", "10.9.1.1", timeout=90)
    took = time.monotonic() - t0
    assert r.returncode == 1 and summary(r.stdout)["tx"] == 70000, r.stdout
    assert took < 20, took
