"""Hostile and malformed TCP from scapy against tundra stack (kernel side of the TUN)."""
import json
import os
import subprocess
import threading
import time

import pytest

from netns import Netns
from test_tcp_kernel import PY, Stack, curl

HERE = os.path.dirname(__file__)
SCAPY = os.path.join(HERE, "tcp_scapy_peer.py")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces")


def run_case(ns, case, *args, timeout=120):
    r = ns.run(PY, SCAPY, case, *args, timeout=timeout, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def stack():
    with Netns() as ns:
        st = Stack(ns)
        yield ns, st
        st.stop()


def test_tcp_malformed_segments_are_counted_drops(stack):
    ns, st = stack
    for case in ("zero_len_option", "overlong_option", "data_offset_lies"):
        r = run_case(ns, case)
        assert r["answers"] == [], case
    r = run_case(ns, "syn_fin")
    assert r["answers"] == []
    s = st.counters()
    wire = s["wire"]["tcp"]
    assert wire["bad_option"] >= 2
    assert wire["bad_hdr_len"] >= 2
    assert s["transport"]["tcp_rx_bad_segment"] >= 1
    # and the stack still answers
    assert json.loads(curl(ns, "http://10.0.0.2/stats").stdout)["tcp_established"] >= 1


def test_tcp_rst_with_wrong_sequence_gets_challenge_ack(stack):
    ns, st = stack
    r = run_case(ns, "rst_wrong_seq")
    acks = [a for a in r["answers"] if a["flags"] == "A"]
    assert acks and acks[0]["ack"] == r["ours"] and acks[0]["seq"] == r["theirs"]
    assert not [a for a in r["answers"] if "R" in a["flags"]]
    time.sleep(0.3)
    s = st.counters()["transport"]
    assert s["tcp_tx_challenge_ack"] >= 1
    assert s["tcp_conn_resets_rx"] == 1  # the exact RST afterwards


def test_tcp_data_far_outside_window_is_acked_not_taken(stack):
    ns, st = stack
    r = run_case(ns, "data_outside_window")
    acks = [a for a in r["answers"] if a["flags"] == "A"]
    assert acks and acks[0]["ack"] == r["ours"]
    assert st.counters()["transport"]["tcp_rx_unacceptable"] >= 1


def test_tcp_syn_flood_does_not_lock_out_a_real_client(stack):
    ns, st = stack
    n = int(os.environ.get("TCP_FLOOD_SYNS", "100000"))
    result = {}

    def flood():
        result.update(run_case(ns, "flood", str(n), timeout=300))

    th = threading.Thread(target=flood)
    th.start()
    time.sleep(1.0)  # the SYN queue is full by now
    ok = 0
    for _ in range(5):
        r = curl(ns, "-o", "/dev/null", "-w", "%{http_code}", "http://10.0.0.2/bytes/100000",
                 timeout=30)
        ok += r.stdout == "200"
    th.join()
    assert ok == 5
    assert result["sent"] == n
    s = st.counters()["transport"]
    print(f"flood: {n} SYNs in {result['seconds']:.1f} s, cookies sent {s['tcp_tx_cookies']}")
    assert s["tcp_tx_cookies"] > 0
