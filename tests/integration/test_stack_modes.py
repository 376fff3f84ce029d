"""Where the stack lives: --netns NAME, --new-netns with -- COMMAND, --rootless as an unprivileged user."""
import json
import os
import stat
import subprocess

import pytest

from conftest import TUNDRA
from netns import Netns
from stackutil import Stack, ping

PINGS = "ping -c 2 -i 0.1 -W 2 10.0.0.2 && ping -c 2 -i 0.1 -W 2 -s 3000 fd00::2"


@pytest.mark.timeout(60)
def test_stack_netns_name_enters_the_namespace():
    with Netns() as ns:
        p = subprocess.Popen([TUNDRA, "stack", "--netns", ns.name, "--quiet", "--",
                              "sh", "-c", PINGS], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 0, (out, err)
        assert "2 received" in out


@pytest.mark.timeout(60)
def test_stack_command_mode_returns_the_command_status_and_cleans_up():
    r = subprocess.run([TUNDRA, "stack", "--new-netns", "--quiet", "--", "sh", "-c",
                        PINGS + " && ping -c 1 -W 2 127.0.0.1 && exit 7"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 7, (r.stdout, r.stderr)  # loopback is up in the new namespace too
    assert r.stdout.count("2 received") == 2
    # the device lived in the private namespace only
    assert "tundra0" not in subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    r = subprocess.run([TUNDRA, "stack", "--new-netns", "--quiet", "--", "/nonexistent"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 127


@pytest.mark.timeout(60)
def test_stack_rootless_as_nobody():
    tun = "/dev/net/tun"
    mode = stat.S_IMODE(os.stat(tun).st_mode)
    os.chmod(tun, 0o666)
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", TUNDRA, "stack", "--rootless", "--quiet",
                            "--stats", "--", "sh", "-c", "id -u; " + PINGS],
                           capture_output=True, text=True, timeout=30)
    finally:
        os.chmod(tun, mode)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.count("2 received") == 2
    assert "icmp_tx_echo_reply" in r.stdout


@pytest.mark.timeout(30)
def test_stack_without_privilege_explains_the_remedy():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "--inh-caps=-all", TUNDRA, "stack", "--quiet"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "--rootless" in r.stderr


@pytest.mark.timeout(60)
def test_stack_sigterm_removes_the_device():
    with Netns() as ns:
        with Stack(ns, "--name", "tdx0"):
            assert "tdx0" in ns.run("ip", "link").stdout
        assert "tdx0" not in ns.run("ip", "link").stdout


@pytest.mark.timeout(60)
def test_stack_persist_then_attach_and_route():
    with Netns() as ns:
        with Stack(ns, "--name", "tdp0", "--persist", "--route", "192.168.77.0/24",
                   "--route", "fd77::/64"):
            assert "192.168.77.0/24 dev tdp0" in ns.run("ip", "-4", "route").stdout
            assert "fd77::/64 dev tdp0" in ns.run("ip", "-6", "route").stdout
        # persistent: the device outlived the process
        assert "tdp0" in ns.run("ip", "link").stdout
        with Stack(ns, "--name", "tdp0", "--attach"):
            ping(ns, 4, "-c", "1", "-W", "2")
            ping(ns, 6, "-c", "1", "-W", "2")
        ns.run("ip", "link", "del", "tdp0")
        r = subprocess.run(["ip", "netns", "exec", ns.name, TUNDRA, "stack", "--name", "nosuch0",
                            "--attach", "--quiet"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 1 and "No such device" in r.stderr


@pytest.mark.timeout(60)
def test_stack_txqueuelen_sets_the_kernel_queue_and_checks_its_range():
    for args, want in (([], 4096), (["--txqueuelen", "777"], 777)):
        r = subprocess.run([TUNDRA, "stack", "--new-netns", "--quiet", *args, "--",
                            "ip", "-j", "link", "show", "tundra0"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)[0]["txqlen"] == want
    for bad in ("0", "-1", "1000001", "4k"):
        r = subprocess.run([TUNDRA, "stack", "--new-netns", "--txqueuelen", bad, "--", "true"],
                           capture_output=True, text=True, timeout=10)
        assert r.returncode == 2
        assert "--txqueuelen must be 1..1000000 packets" in r.stderr
