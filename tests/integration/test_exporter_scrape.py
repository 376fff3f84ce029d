"""tundra exporter: exposition validity, endpoints, reload, slow clients (rootless, in a namespace)."""
import signal
import socket
import subprocess
import time

from conftest import TUNDRA
from netns import Netns
from exporter_helpers import (NOBODY, Exporter, http, open_ping_range, parse_metrics, value,
                              wait_for)

CONFIG = """\
targets:
- hosts: [127.0.0.1, '::1']
  interval: 100ms
  labels:
    zone: "lab \\"1\\""
- hosts: [127.0.0.2]
  interval: 100ms
  labels:
    zone: b
- hosts: [127.0.0.4]
  interval: 200ms
  tos: 32
"""


def test_exporter_rootless_scrape_passes_promtool_and_counts_probes():
    with Netns("tdx") as ns:
        open_ping_range(ns)
        with Exporter(ns, [], 19374, config=CONFIG) as ex:
            time.sleep(1.5)
            text = ex.text()
            r = subprocess.run(["promtool", "check", "metrics"], input=text,
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stdout + r.stderr
            m = parse_metrics(text)
            for ip in ("127.0.0.1", "::1"):
                req = value(m, "smokeping_requests_total", ip=ip, zone='lab \\"1\\"')
                cnt = value(m, "smokeping_response_duration_seconds_count", ip=ip)
                inf = value(m, "smokeping_response_duration_seconds_bucket", ip=ip, le="+Inf")
                # 100 ms for ~1.5 s, one probe may be in flight at the scrape
                assert 8 <= req <= 20, req
                assert req - 1 <= cnt <= req and inf == cnt
                assert value(m, "tundra_timeouts_total", ip=ip) == 0
                assert value(m, "smokeping_response_ttl", ip=ip) == 64
                assert 0 < value(m, "smokeping_response_duration_seconds_sum", ip=ip) < cnt * 0.01
            assert value(m, "smokeping_requests_total", ip="127.0.0.2", zone="b") >= 8
            # another interval and TOS: a second probe loop, running beside the first
            assert 4 <= value(m, "smokeping_requests_total", ip="127.0.0.4", tos="32") <= 10
            assert value(m, "smokeping_response_duration_seconds_count", ip="127.0.0.4") >= 3
            # rootless: the unprivileged datagram socket, never raw
            assert value(m, "tundra_socket_mode", family="ipv4") == 1
            assert ("tundra_socket_mode", frozenset({("family", "ipv4"), ("mode", "dgram")})) in m
            assert value(m, "tundra_build_info") == 1
            assert value(m, "process_resident_memory_bytes") > 0
            assert value(m, "process_open_fds") > 3
            assert value(m, "tundra_replies_dropped_total", reason="forged") == 0
            base = "http://127.0.0.1:19374"
            assert http(ns, base + "/-/healthy")[0] == 200
            assert http(ns, base + "/-/ready")[0] == 200
            code, page = http(ns, base + "/")
            assert code == 200 and "<td>127.0.0.2</td>" in page and "&quot;" in page
            assert http(ns, base + "/nope")[0] == 404
            assert http(ns, base + "/-/reload")[0] == 405  # GET does not reload
            assert http(ns, base + "/metrics", method="POST")[0] == 405


def test_exporter_reload_keeps_counters_and_rejects_broken_config():
    with Netns("tdx") as ns:
        open_ping_range(ns)
        with Exporter(ns, [], 19375, config=CONFIG) as ex:
            time.sleep(1.0)
            before = value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.1")
            # good reload: drop 127.0.0.2, add 127.0.0.3; 127.0.0.1 keeps its counters
            ex.write_config(CONFIG.replace("127.0.0.2]", "127.0.0.3]"))
            code, body = http(ns, "http://127.0.0.1:19375/-/reload", method="POST")
            assert code == 200, body
            m = ex.metrics()
            assert value(m, "smokeping_requests_total", ip="127.0.0.1") >= before
            assert value(m, "tundra_config_last_reload_successful") == 1
            assert not [k for k in m if ("ip", "127.0.0.2") in k[1]]
            wait_for(lambda: value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.3") > 0,
                     what="new target probed")
            # broken reload: file, line and reason; the running targets go on
            ex.write_config(CONFIG + "  intervall: 1s\n")
            code, body = http(ns, "http://127.0.0.1:19375/-/reload", method="POST")
            assert code == 500
            assert "config.yml:13: unknown key 'intervall'" in body, body
            m1 = ex.metrics()
            assert value(m1, "tundra_config_last_reload_successful") == 0
            n1 = value(m1, "smokeping_requests_total", ip="127.0.0.3")
            time.sleep(0.5)
            assert value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.3") > n1
            # SIGHUP reloads too, once the file is good again
            ex.write_config(CONFIG)
            ex.proc.send_signal(signal.SIGHUP)
            wait_for(lambda: value(ex.metrics(), "tundra_config_last_reload_successful") == 1,
                     what="SIGHUP reload")
            assert "reload failed, keeping the running configuration" in ex.output()


def test_exporter_flooding_client_stalls_neither_probing_nor_other_scrapers():
    with Netns("tdx") as ns:
        open_ping_range(ns)
        with Exporter(ns, ["--max-connections", "8"], 19376,
                      config="targets:\n- hosts: [127.0.0.1]\n  interval: 50ms\n") as ex:
            t0 = time.time()
            r0 = value(ex.metrics(), "smokeping_requests_total", ip="127.0.0.1")
            # one client opens 40 connections and never finishes a request (slowloris)
            holder = ns.popen(["/usr/bin/python3", "-c", """
import socket, time
s = []
for i in range(40):
    try:
        c = socket.create_connection(("127.0.0.1", 19376), timeout=1)
        c.send(b"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n")
        s.append(c)
    except OSError:
        pass
time.sleep(3)
"""])
            time.sleep(1.5)
            # another client address still gets its scrape: at most 8/4 slots per address
            code, body = http(ns, "http://127.0.0.1:19376/metrics", source="127.0.0.2", timeout=5)
            assert code == 200, code
            m1 = parse_metrics(body)
            dt = time.time() - t0
            r1 = value(m1, "smokeping_requests_total", ip="127.0.0.1")
            # probing went on at its 50 ms interval the whole time
            assert r1 - r0 >= (dt / 0.05) * 0.8, (r0, r1, dt)
            assert value(m1, "tundra_timeouts_total", ip="127.0.0.1") == 0
            holder.wait(timeout=20)


def test_exporter_without_permission_exits_2_naming_both_remedies():
    with Netns("tdx") as ns:
        ns.sysctl("net.ipv4.ping_group_range", "1 0")  # closed, and no CAP_NET_RAW
        r = ns.run(*NOBODY, TUNDRA, "exporter", "--listen", "127.0.0.1:19383", "127.0.0.1",
                   check=False, timeout=20)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "ping_group_range" in r.stderr and "CAP_NET_RAW" in r.stderr, r.stderr
        assert '"1 0"' in r.stderr, r.stderr  # the current range, as read


def test_exporter_bad_config_at_start_names_file_and_line():
    with Netns("tdx") as ns:
        open_ping_range(ns)
        r = ns.run(TUNDRA, "exporter", "--config", "/dev/null/x.yml", check=False, timeout=20)
        assert r.returncode == 2 and "/dev/null/x.yml" in r.stderr, r.stderr
        r = ns.run("sh", "-c", f"printf 'targets:\\n- hosts: [a]\\n  size: 5\\n' > /tmp/tdx-bad-$$.yml; "
                   f"{TUNDRA} exporter --config /tmp/tdx-bad-$$.yml; rc=$?; rm -f /tmp/tdx-bad-$$.yml; exit $rc",
                   check=False, timeout=20)
        assert r.returncode == 2, r.stderr
        assert ".yml:3: size: 5 is out of range 24..65507" in r.stderr, r.stderr
