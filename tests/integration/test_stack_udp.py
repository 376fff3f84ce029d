"""UDP through tundra stack from kernel sockets: echo (7), discard (9), port unreachable as ECONNREFUSED."""
import pytest

from netns import Netns
from stackutil import Stack, c

CLIENT = r'''
import socket, sys, os
fam = socket.AF_INET if sys.argv[1] == "4" else socket.AF_INET6
dst = "10.0.0.2" if sys.argv[1] == "4" else "fd00::2"
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
for n in (0, 1, 100, 1472, 1473, 8000, 65507):
    data = os.urandom(n)
    s.sendto(data, (dst, 7))
    got, frm = s.recvfrom(70000)
    assert got == data, (n, len(got))
    assert frm[1] == 7
# discard: nothing comes back
s.sendto(b"into the void", (dst, 9))
s.settimeout(0.3)
try:
    s.recvfrom(10)
    raise SystemExit("discard answered")
except socket.timeout:
    pass
# a closed port: the stack's port unreachable surfaces as ECONNREFUSED
u = socket.socket(fam, socket.SOCK_DGRAM)
u.settimeout(2)
u.connect((dst, 4242))
u.send(b"hello?")
try:
    u.recv(10)
    raise SystemExit("closed port answered")
except ConnectionRefusedError:
    print("ECONNREFUSED")
'''


@pytest.mark.timeout(60)
def test_stack_udp_echo_discard_and_port_unreachable_from_kernel_sockets():
    with Netns() as ns, Stack(ns) as st:
        for fam in ("4", "6"):
            r = ns.run("/usr/bin/python3", "-c", CLIENT, fam, check=False)
            assert r.returncode == 0, r.stderr
            assert "ECONNREFUSED" in r.stdout
        s = st.stats()
        assert c(s, "udp_echo") == 14
        assert c(s, "udp_discard") == 2
        assert c(s, "udp_no_port") == 2
        assert c(s, "icmp_tx_error") == 2
        assert c(s, "udp_rcvbuf_full") == 0
