"""tundra ping and its peers (iputils ping, fping) run side by side on the same
namespace: the same situation must read the same."""
import pytest

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
