"""tundra exporter's own HTTP server as clients meet it: keep-alive, pipelining, HEAD,
query strings, strict parsing, connection limits, slowloris and stalled readers."""
import json
import os

from netns import Netns
from exporter_helpers import Exporter, open_ping_range, value, wait_for

CLIENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exporter_http_client.py")
SMALL = "targets:\n- hosts: [127.0.0.1]\n  interval: 100ms\n"


def client(ns, mode, port, timeout=30):
    r = ns.run("/usr/bin/python3", CLIENT, mode, str(port), timeout=timeout)
    return json.loads(r.stdout)


def test_scrapes_reuse_one_connection_and_pipelined_requests_answer_in_order():
    with Netns("tdh") as ns:
        open_ping_range(ns)
        with Exporter(ns, [], 19390, config=SMALL) as ex:
            before = value(ex.metrics(), "tundra_http_connections_accepted_total")
            r = client(ns, "keepalive", 19390)
            for status, ctype, length, has_date, n in r["scrapes"]:
                assert status == 200 and length > 1000 and has_date and n >= 2, r
                assert ctype == "text/plain; version=0.0.4; charset=utf-8"
            after = value(ex.metrics(), "tundra_http_connections_accepted_total")
            # three scrapes on one connection, plus the scrape that read `before`
            assert after - before == 2, (before, after)

            r = client(ns, "pipelined", 19390)
            healthy, query, head, missing, ready = r["responses"]
            assert healthy["status"] == 200 and healthy["body"].startswith("tundra exporter is Healthy")
            # the query string is not part of the path
            assert query["status"] == 200 and query["body"].startswith("# HELP smokeping_requests_total")
            # HEAD: the GET's headers (a length near the GET's), no body before the next answer
            assert head["status"] == 200 and abs(head["length"] - query["length"]) < 200, r
            assert missing["status"] == 404
            assert ready["status"] == 200 and ready["connection"] == "close"
            assert r["rest"] == 0, r


def test_malformed_requests_get_4xx_and_a_close_and_are_counted():
    with Netns("tdh") as ns:
        open_ping_range(ns)
        with Exporter(ns, [], 19391, config=SMALL) as ex:
            r = client(ns, "bad", 19391)
            expect = {"garbage": 400, "bare_words": 400, "big_header": 431, "chunked": 411,
                      "no_host": 400, "http2_preface": 505, "http2": 505, "bad_target": 400}
            for k, status in expect.items():
                assert r[k]["status"] == status, (k, r[k])
                assert r[k]["connection"] == "close" and r[k]["closed"], (k, r[k])
            # endpoints keep their own answers: /-/reload wants POST
            assert r["reload_get"]["status"] == 405, r["reload_get"]
            m = ex.metrics()
            for reason, n in (("control_byte", 1), ("bad_request_line", 1), ("bad_target", 1), ("header_too_large", 1),
                              ("transfer_encoding", 1), ("bad_host", 1),
                              ("version_not_supported", 2)):
                got = value(m, "tundra_http_bad_requests_total", reason=reason)
                assert got == n, (reason, got)


def test_connections_over_the_limits_are_closed_at_once():
    with Netns("tdh") as ns:
        open_ping_range(ns)
        # 4 in all, a quarter (1) per client address
        with Exporter(ns, ["--max-connections", "4"], 19392, config=SMALL) as ex:
            wait_for(lambda: value(ex.metrics(), "tundra_http_open_connections") <= 1,
                     what="readiness probes' connections closed")
            r = client(ns, "limits", 19392)
            assert r["per_client_closed"] and r["per_client_s"] < 0.5, r
            assert r["total_closed"] and r["total_s"] < 0.5, r
            assert r["held_status"] == 200, r
            m = ex.metrics()
            assert value(m, "tundra_http_connections_refused_total", reason="per_client_limit") >= 1
            assert value(m, "tundra_http_connections_refused_total", reason="connection_limit") >= 1


def test_slowloris_and_a_reader_that_never_reads_stall_no_scraper():
    # 400 series with a 1 000-byte label: /metrics is ~15 MB, more than the
    # socket buffers of a reader that never reads can take
    pad = "p" * 1000
    hosts = ", ".join("127.0.%d.%d" % (1 + i // 200, 1 + i % 200) for i in range(400))
    cfg = "targets:\n- hosts: [%s]\n  interval: 10s\n  labels: {pad: %s}\n" % (hosts, pad)
    with Netns("tdh") as ns:
        open_ping_range(ns)
        with Exporter(ns, [], 19393, config=cfg) as ex:
            r = client(ns, "hostile", 19393, timeout=60)
            scrapes = r["scrapes"]
            assert len(scrapes) >= 6, r
            for status, length, secs in scrapes:
                assert status == 200 and length > 5_000_000, scrapes
                assert secs < 2.0, scrapes
            # the slowloris is cut off by the 5 s request timeout
            assert r["slow_closed_at"] is not None and 4.0 < r["slow_closed_at"] < 7.0, r
            m = ex.metrics()
            assert value(m, "tundra_http_connections_timed_out_total", phase="request") >= 1
            assert value(m, "tundra_http_connections_timed_out_total", phase="response") >= 1
