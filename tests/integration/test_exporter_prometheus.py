"""tundra exporter against real peers: Debian's Prometheus scraping it, and prometheus-smokeping-prober side by side."""
import json
import os
import subprocess
import tempfile
import time
import urllib.parse

from netns import Netns
from exporter_helpers import Exporter, http, open_ping_range, parse_metrics, value, wait_for


def prom_query(ns, port, q):
    code, body = http(ns, f"http://127.0.0.1:{port}/api/v1/query?query=" + urllib.parse.quote(q))
    assert code == 200, body
    d = json.loads(body)
    assert d["status"] == "success", d
    return d["data"]["result"]


def test_prometheus_scrapes_exporter_and_sees_what_was_probed():
    with Netns("tdp") as ns:
        open_ping_range(ns)
        cfg = "targets:\n- hosts: [127.0.0.1, '::1']\n  interval: 100ms\n  labels: {site: lab}\n"
        with Exporter(ns, [], 19377, config=cfg) as ex, \
                tempfile.TemporaryDirectory(prefix="tdprom-") as d:
            with open(os.path.join(d, "prometheus.yml"), "w") as f:
                f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        "scrape_configs:\n- job_name: tundra\n  static_configs:\n"
                        "  - targets: ['127.0.0.1:19377']\n")
            log = open(os.path.join(d, "log"), "w")
            ns.popen(["prometheus", f"--config.file={d}/prometheus.yml",
                      f"--storage.tsdb.path={d}/data", "--web.listen-address=127.0.0.1:19090"],
                     stdout=log, stderr=subprocess.STDOUT)

            def scraped_enough():
                try:
                    r = prom_query(ns, 19090, 'count_over_time(up{job="tundra"}[1m])')
                except (AssertionError, ValueError):
                    return False
                return r and float(r[0]["value"][1]) >= 4

            wait_for(scraped_enough, timeout=40, step=0.5, what="4 prometheus scrapes")
            assert float(prom_query(ns, 19090, 'up{job="tundra"}')[0]["value"][1]) == 1
            direct = ex.metrics()
            for ip in ("127.0.0.1", "::1"):
                sel = f'{{ip="{ip}",site="lab"}}'
                req = prom_query(ns, 19090, "smokeping_requests_total" + sel)
                assert len(req) == 1, req
                prom_req = float(req[0]["value"][1])
                now_req = value(direct, "smokeping_requests_total", ip=ip)
                # Prometheus holds a scrape at most ~1-2 s old: 100 ms probes
                assert now_req - 30 <= prom_req <= now_req, (prom_req, now_req)
                cnt = float(prom_query(ns, 19090, "smokeping_response_duration_seconds_count"
                                       + sel)[0]["value"][1])
                assert prom_req - 1 <= cnt <= prom_req
                # smokeping_prober's own recording rule: success ratio over the window
                ratio = prom_query(ns, 19090,
                                   "increase(smokeping_response_duration_seconds_count" + sel +
                                   "[3s]) / increase(smokeping_requests_total" + sel + "[3s])")
                assert 0.9 <= float(ratio[0]["value"][1]) <= 1.1, ratio
                # the histogram: every bucket present, the median on loopback well under 1 ms
                buckets = prom_query(ns, 19090, "smokeping_response_duration_seconds_bucket" + sel)
                assert len(buckets) == 21
                q50 = prom_query(ns, 19090, "histogram_quantile(0.5, "
                                 "smokeping_response_duration_seconds_bucket" + sel + ")")
                assert 0 < float(q50[0]["value"][1]) < 0.001, q50


def test_every_smokeping_prober_series_exists_in_tundra_exporter():
    with Netns("tds") as ns, tempfile.TemporaryDirectory(prefix="tdsp-") as d:
        open_ping_range(ns)
        cfg = ("targets:\n- hosts: [127.0.0.1, localhost, '::1']\n  interval: 200ms\n"
               "  network: ip\n  protocol: icmp\n  size: 56\n")
        path = os.path.join(d, "smokeping.yml")
        with open(path, "w") as f:
            f.write(cfg)
        os.chmod(d, 0o755)
        os.chmod(path, 0o644)
        log = open(os.path.join(d, "log"), "w")
        # smokeping_prober 0.6.1 as Debian ships it: raw sockets, root in the namespace
        ns.popen(["prometheus-smokeping-prober", f"--config.file={path}",
                  "--web.listen-address=127.0.0.1:19378"], stdout=log, stderr=subprocess.STDOUT)
        with Exporter(ns, [], 19379, config=cfg) as ex:
            def theirs_ready():
                code, body = http(ns, "http://127.0.0.1:19378/metrics", timeout=2)
                return code == 200 and "smokeping_response_duration_seconds_count" in body \
                    and body
            time.sleep(1.5)
            theirs = parse_metrics(wait_for(theirs_ready, timeout=15, what="smokeping_prober"))
            ours = parse_metrics(ex.text())
            checked = 0
            by_name = {}
            for name, labels in ours:
                by_name.setdefault(name, []).append(set(labels))
            for name, labels in theirs:
                if not (name.startswith("smokeping_") or name.startswith("process_")):
                    continue
                if name.startswith("smokeping_prober_"):
                    continue  # the program's own info; ours is tundra_build_info
                assert name in by_name, f"{name} missing from tundra exporter"
                assert any(set(labels) <= ls for ls in by_name[name]), \
                    f"{name}{dict(labels)} missing from tundra exporter"
                checked += 1
            assert checked >= 3 * 24, checked  # 3 targets x (requests, 23 histogram lines...)
