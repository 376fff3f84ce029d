"""--pcap output read back by tshark: every packet in and out, no malformed packet."""
import os
import subprocess
import tempfile

import pytest

from netns import Netns
from stackutil import Stack, ping

UDP = r'''
import socket
for fam, dst in ((socket.AF_INET, "10.0.0.2"), (socket.AF_INET6, "fd00::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM); s.settimeout(2)
    s.sendto(b"x" * 3000, (dst, 7)); s.recvfrom(4000)
    s.sendto(b"y", (dst, 4444))
'''


@pytest.mark.timeout(60)
def test_stack_pcap_has_every_packet_and_tshark_finds_nothing_malformed():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "cap.pcap")
        with Netns() as ns, Stack(ns, "--pcap", path) as st:
            for fam in (4, 6):
                ping(ns, fam, "-c", "3", "-i", "0.05", "-s", "4000", "-W", "2")
            ns.run("/usr/bin/python3", "-c", UDP)
        st_final = st.final
        tun = st_final["tun"]
        r = subprocess.run(["tshark", "-n", "-r", path], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, r.stderr
        lines = [x for x in r.stdout.splitlines() if x.strip()]
        assert len(lines) == tun["reads"] + tun["writes"]
        assert "Malformed" not in r.stdout and "malformed" not in r.stderr.lower(), r.stdout
        # reassembled echo replies and the port unreachable are decoded as such
        assert "Echo (ping) reply" in r.stdout
        assert "Destination unreachable (Port unreachable)" in r.stdout
        e = subprocess.run(["tshark", "-n", "-r", path, "-q", "-z", "expert,error"],
                           capture_output=True, text=True, timeout=60)
        assert "Malformed" not in e.stdout, e.stdout
