"""The kernel side of the link, set through tundra's own rtnetlink: what the kernel holds, and its words on errors."""
import json
import subprocess

import pytest

from conftest import TUNDRA

SHOW = ("ip -j link show tundra0; echo; ip -j addr show tundra0; echo; "
        "ip -j -4 route; echo; ip -j -6 route")


def stack(*args, command=("true",)):
    return subprocess.run([TUNDRA, "stack", "--new-netns", "--quiet", *args, "--", *command],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.timeout(60)
def test_stack_sets_mtu_queue_addresses_and_routes_in_the_kernel():
    r = stack("--mtu", "9000", "--txqueuelen", "321", "--kernel4", "10.7.0.1/16",
              "--kernel6", "fd07::1/48", "--addr4", "10.7.0.2", "--addr6", "fd07::2",
              "--route", "192.168.5.0/24", "--route", "fd08::/64", "--route", "default",
              "--route", "default6",
              "--route", "192.168.5.0/24",  # already there: EEXIST is not an error
              command=("sh", "-c", SHOW))
    assert r.returncode == 0, r.stderr
    link, addrs, r4, r6 = (json.loads(part) for part in r.stdout.split("\n\n"))
    assert link[0]["mtu"] == 9000 and link[0]["txqlen"] == 321
    assert "UP" in link[0]["flags"]
    a = {(x["local"], x["prefixlen"]): x for x in addrs[0]["addr_info"]}
    assert ("10.7.0.1", 16) in a
    assert a[("fd07::1", 48)].get("nodad") is True  # IFA_F_NODAD: usable at once
    routes4 = {x["dst"]: x for x in r4}
    for dst in ("192.168.5.0/24", "default"):
        assert routes4[dst]["dev"] == "tundra0"
        assert routes4[dst]["protocol"] == "static" and routes4[dst]["scope"] == "link"
    routes6 = {x["dst"]: x for x in r6}
    for dst in ("fd08::/64", "default"):
        assert routes6[dst]["dev"] == "tundra0" and routes6[dst]["protocol"] == "static"


@pytest.mark.timeout(60)
def test_stack_rtnetlink_errors_name_the_step_and_carry_the_kernels_explanation():
    # host bits set under the prefix: the kernel refuses, and says why (NETLINK_EXT_ACK)
    r = stack("--route", "10.9.0.1/8")
    assert r.returncode == 1
    assert ("tundra stack: --route: Invalid argument (adding the route: "
            "Invalid prefix for given prefix length)") in r.stderr, r.stderr
    r = stack("--no-ipv4", "--kernel6", "::1/128")
    assert r.returncode == 1
    assert "configuring tundra0 through rtnetlink:" in r.stderr
    assert "(adding the IPv6 address" in r.stderr, r.stderr
