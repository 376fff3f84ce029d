"""tundra stack answers the kernel's ping over IPv4 and IPv6, any size up to 65507, without loss."""
import re
import time

import pytest

from conftest import TUNDRA
from netns import Netns
from stackutil import STACK4, STACK6, Stack, c, have_tundra_ping, ping

SIZES = [0, 1, 56, 1472, 1473, 1452, 1453, 4000, 9000, 32768, 65507]


def received(out):
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@pytest.mark.timeout(120)
def test_stack_iputils_ping_every_size_both_families_fragmented_both_ways():
    with Netns() as ns, Stack(ns) as st:
        for fam in (4, 6):
            for size in SIZES:
                r = ping(ns, fam, "-c", "2", "-i", "0.05", "-W", "2", "-s", str(size),
                         check=False)
                assert received(r.stdout) == (2, 2), (fam, size, r.stdout, r.stderr)
        s = st.stats()
        # the kernel fragmented the big requests and we fragmented the replies
        assert c(s, "reass_ok") >= 2 * 2 * 5
        assert c(s, "tx_frags") > 0
        assert c(s, "icmp_tx_echo_reply") == 2 * 2 * len(SIZES)
        assert c(s, "reass_overlap") == 0 and c(s, "tx_no_slot") == 0


@pytest.mark.timeout(120)
def test_stack_ten_thousand_echoes_no_loss():
    with Netns() as ns, Stack(ns) as st:
        for fam in (4, 6):
            r = ping(ns, fam, "-f", "-q", "-c", "10000", "-W", "2", timeout=60)
            assert received(r.stdout) == (10000, 10000), r.stdout
        s = st.stats()
        assert c(s, "icmp_tx_echo_reply") == 20000


@pytest.mark.timeout(120)
def test_stack_tundra_ping_both_families():
    if not have_tundra_ping():
        pytest.skip("tundra ping is not merged into this build: iputils ping only")
    with Netns() as ns, Stack(ns):
        ns.sysctl("net.ipv4.ping_group_range", "0 2147483647")
        for dst in (STACK4, STACK6):
            for size in (0, 56, 1473, 65507):
                r = ns.run(TUNDRA, "ping", "-c", "3", "-i", "0.05", "-W", "2", "-s", str(size),
                           dst, check=False)
                assert r.returncode == 0, (dst, size, r.stdout, r.stderr)
                assert re.search(r"\b3 received|received 3|\b0(\.0+)?% (packet )?loss", r.stdout), r.stdout


@pytest.mark.timeout(60)
def test_stack_loop_lone_echo_costs_no_empty_read_and_bulk_keeps_batches():
    """One packet per wakeup: no read that only says EAGAIN (epoll says it);
    a TCP bulk transfer still reads many packets per wakeup."""
    with Netns() as ns, Stack(ns, "--offload=off") as st:
        r = ping(ns, 4, "-c", "500", "-i", "0.002", "-W", "2", timeout=30)
        assert received(r.stdout) == (500, 500), r.stdout
        t = st.stats()["tun"]
        assert t["reads"] >= 500
        # before: one empty read per echo; now one per 17 lone wakeups
        assert t["reads_empty"] * 4 < t["reads"], t
        code = ("import socket; s = socket.create_connection(('10.0.0.2', 9)); "
                "b = bytes(65536); [s.sendall(b) for _ in range(256)]; s.close()")
        ns.run("/usr/bin/python3", "-c", code, timeout=30)
        time.sleep(0.2)
        u = st.stats()["tun"]
        reads, wakeups = u["reads"] - t["reads"], u["wakeups"] - t["wakeups"]
        assert reads > 5000 and reads >= 2 * wakeups, u
