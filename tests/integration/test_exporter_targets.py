"""tundra exporter: names that stop resolving or change address; targets that start answering with ICMP errors."""
import os
import shutil
import time

from netns import Netns, veth_pair
from exporter_helpers import Exporter, http, open_ping_range, value, value0, wait_for


class HostsFile:
    """/etc/netns/<ns>/hosts: `ip netns exec` bind-mounts it over /etc/hosts
    for processes started in that namespace. Rewritten in place (same inode)."""

    def __init__(self, ns):
        self.dir = f"/etc/netns/{ns.name}"

    def __enter__(self):
        os.makedirs(self.dir, exist_ok=True)
        self.set("127.0.0.1 localhost\n")
        return self

    def set(self, text):
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write(text)
        os.chmod(os.path.join(self.dir, "hosts"), 0o644)

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def series_ips(m, host):
    return sorted(dict(ls)["ip"] for (n, ls) in m
                  if n == "smokeping_requests_total" and dict(ls).get("host") == host)


def test_name_that_stops_resolving_is_counted_retried_and_followed():
    with Netns("tdd") as ns, HostsFile(ns) as hosts:
        open_ping_range(ns)
        hosts.set("127.0.0.1 localhost\n127.0.0.5 tgt.tundra.test\n")
        cfg = ("resolve_interval: 1s\ntargets:\n"
               "- hosts: [tgt.tundra.test, never.tundra.test, 127.0.0.1]\n"
               "  interval: 100ms\n  network: ip4\n")
        with Exporter(ns, [], 19381, config=cfg) as ex:
            m = ex.metrics()
            assert series_ips(m, "tgt.tundra.test") == ["127.0.0.5"]
            # a name that never resolved: counted, retried, no series, nothing else hurt
            assert value(m, "tundra_resolve_failures_total", host="never.tundra.test") >= 1
            assert value(m, "tundra_resolved_addresses", host="never.tundra.test") == 0
            assert series_ips(m, "never.tundra.test") == []
            # the name disappears: failures counted, the last address is still probed
            hosts.set("127.0.0.1 localhost\n")
            f0 = value(m, "tundra_resolve_failures_total", host="tgt.tundra.test")
            wait_for(lambda: value(ex.metrics(), "tundra_resolve_failures_total",
                                   host="tgt.tundra.test") >= f0 + 2,
                     timeout=10, what="failures counted")
            r0 = value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.5")
            time.sleep(0.5)
            assert value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.5") > r0
            assert ex.proc.poll() is None
            # it comes back with two other addresses: each probed under its own ip label
            hosts.set("127.0.0.1 localhost\n127.0.0.6 tgt.tundra.test\n"
                      "127.0.0.7 tgt.tundra.test\n")
            wait_for(lambda: series_ips(ex.metrics(), "tgt.tundra.test")
                     == ["127.0.0.6", "127.0.0.7"], timeout=10, what="new addresses")
            m = ex.metrics()
            assert value(m, "tundra_resolved_addresses", host="tgt.tundra.test") == 2
            wait_for(lambda: value(ex.metrics(), "smokeping_response_duration_seconds_count",
                                   ip="127.0.0.7") > 0, what="replies from the new address")
            # 127.0.0.1 kept its counters through both table swaps
            assert value(m, "smokeping_requests_total", ip="127.0.0.1") > 20


def test_target_that_starts_answering_with_icmp_errors_is_counted_by_type_and_code():
    with Netns("tda") as a, Netns("tdr") as r, Netns("tdb") as b:
        veth_pair(a, r, "a0", "r0")
        veth_pair(r, b, "r1", "b0")
        a.run("ip", "addr", "add", "10.77.1.2/24", "dev", "a0")
        a.run("ip", "route", "add", "default", "via", "10.77.1.1")
        r.run("ip", "addr", "add", "10.77.1.1/24", "dev", "r0")
        r.run("ip", "addr", "add", "10.77.2.1/24", "dev", "r1")
        r.sysctl("net.ipv4.ip_forward", "1")
        r.sysctl("net.ipv4.icmp_ratelimit", "0")
        b.run("ip", "addr", "add", "10.77.2.2/24", "dev", "b0")
        b.run("ip", "route", "add", "default", "via", "10.77.2.1")
        open_ping_range(a)
        cfg = "targets:\n- hosts: [10.77.2.2]\n  interval: 100ms\n  timeout: 300ms\n"
        with Exporter(a, [], 19382, config=cfg) as ex:
            wait_for(lambda: value(ex.metrics(), "smokeping_response_duration_seconds_count",
                                   ip="10.77.2.2") >= 3, what="replies through the router")
            assert value(ex.metrics(), "smokeping_response_ttl", ip="10.77.2.2") == 63
            # the router starts refusing: ICMP host unreachable (type 3, code 1)
            r.run("ip", "route", "add", "unreachable", "10.77.2.2/32")
            wait_for(lambda: value0(ex.metrics(), "tundra_icmp_errors_total", ip="10.77.2.2",
                                   type="3", code="1") >= 3, what="unreachable counted")
            r.run("ip", "route", "del", "unreachable", "10.77.2.2/32")
            # TTL 1: the router answers time exceeded (type 11, code 0)
            ex.write_config(cfg + "  ttl: 1\n")
            code, body = http(a, "http://127.0.0.1:19382/-/reload", method="POST")
            assert code == 200, body
            wait_for(lambda: value0(ex.metrics(), "tundra_icmp_errors_total", ip="10.77.2.2",
                                   type="11", code="0") >= 3, what="time exceeded counted")
            m = ex.metrics()
            # errors are not replies: the histogram did not grow with them
            assert value(m, "smokeping_response_duration_seconds_count", ip="10.77.2.2") < \
                value(m, "smokeping_requests_total", ip="10.77.2.2") - 5
            assert value(m, "tundra_icmp_errors_total", ip="10.77.2.2", type="3", code="1") >= 3
