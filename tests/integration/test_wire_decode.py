"""tundra decode against tshark on the kernel captures in tests/vectors."""
import os
import re
import subprocess

import pytest

from conftest import ROOT, TUNDRA

VEC = os.path.join(ROOT, "tests", "vectors")
TSHARK_OPTS = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
               "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
               "-o", "ip.check_checksum:TRUE"]


def decode(path):
    r = subprocess.run([TUNDRA, "decode", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


def tshark_fields(path, *fields, extra=()):
    argv = ["tshark", *TSHARK_OPTS, *extra, "-r", path, "-T", "fields"]
    for f in fields:
        argv += ["-e", f]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines()]


@pytest.mark.parametrize("name", ["ping4", "ping6", "tcp4", "tcp6", "udp_unreach", "frag", "mld",
                                  "sack"])
def test_decode_frame_count_and_checksums_agree_with_tshark(name):
    path = os.path.join(VEC, name + ".pcap")
    out = decode(path)
    rows = tshark_fields(path, "frame.number")
    assert len(re.findall(r"^Frame \d+:", out, re.M)) == len(rows)
    assert "Status: Bad" not in out
    assert "Malformed" not in out


@pytest.mark.parametrize("name", ["tcp4", "tcp6", "sack"])
def test_decode_tcp_fields_match_tshark(name):
    path = os.path.join(VEC, name + ".pcap")
    out = decode(path)
    ours = list(zip(re.findall(r"Sequence Number \(raw\): (\d+)", out),
                    re.findall(r"Acknowledgment Number \(raw\): (\d+)", out),
                    re.findall(r"^    Window: (\d+)", out, re.M)))
    theirs = [tuple(r) for r in tshark_fields(path, "tcp.seq_raw", "tcp.ack_raw",
                                              "tcp.window_size_value")]
    assert ours == theirs
    assert re.findall(r"Maximum segment size: (\d+) bytes", out) == \
        [r[0] for r in tshark_fields(path, "tcp.options.mss_val") if r[0]]
    assert re.findall(r"TSval (\d+), TSecr (\d+)", out) == \
        [tuple(r) for r in tshark_fields(path, "tcp.options.timestamp.tsval",
                                         "tcp.options.timestamp.tsecr")]
    theirs = [tuple(r) for r in tshark_fields(path, "tcp.options.sack_le", "tcp.options.sack_re",
                                              extra=("-o", "tcp.relative_sequence_numbers:FALSE"))
              if r[0]]
    assert re.findall(r"left edge = (\d+), right edge = (\d+)", out) == theirs


def test_decode_ipv6_fragment_headers_match_tshark():
    path = os.path.join(VEC, "frag.pcap")
    out = decode(path)
    ours = re.findall(r"Offset: (\d+) \(\d+ bytes\)\n\s+More Fragments: (Yes|No)\n"
                      r"\s+Identification: 0x([0-9a-f]+)", out)
    theirs = [(o, "Yes" if m in ("1", "True") else "No", i[2:].rjust(8, "0"))
              for o, m, i in tshark_fields(path, "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
                                           "ipv6.fraghdr.ident") if o]
    assert ours == theirs and len(ours) == 6


def test_decode_flags_a_corrupted_checksum_like_tshark(tmp_path):
    src = open(os.path.join(VEC, "tcp4.pcap"), "rb").read()
    bad = bytearray(src)
    bad[-1] ^= 0x01  # last byte of the last frame: inside the TCP header
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(bad))
    out = decode(str(path))
    assert out.count("Status: Bad") == 1
    m = re.search(r"Checksum: 0x([0-9a-f]{4}) incorrect, should be 0x([0-9a-f]{4})", out)
    assert m
    status = tshark_fields(str(path), "tcp.checksum.status", "tcp.checksum_calculated")
    assert status[-1][0] == "0"  # tshark: bad
    assert status[-1][1] == "0x" + m.group(2)


def test_decode_truncated_file_reports_the_record(tmp_path):
    src = open(os.path.join(VEC, "ping4.pcap"), "rb").read()
    path = tmp_path / "cut.pcap"
    path.write_bytes(src[:-10])
    r = subprocess.run([TUNDRA, "decode", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "record 2: truncated" in r.stderr
    assert r.stdout.count("Frame ") == 1


def test_decode_live_any_interface_capture_like_tshark(tmp_path):
    """A real `dumpcap -i any` capture (Linux cooked header) made in a
    namespace of our own while the kernel pings itself over IPv4 and IPv6."""
    import time
    from netns import Netns

    path = tmp_path / "any.pcap"
    with Netns() as ns:
        cap = ns.popen(["dumpcap", "-q", "-P", "-i", "any", "-w", str(path)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):  # dumpcap creates the file once it is capturing
            if path.exists() and path.stat().st_size >= 24:
                break
            time.sleep(0.1)
        time.sleep(0.5)
        ns.run("ping", "-c", "2", "-i", "0.2", "127.0.0.1")
        ns.run("ping", "-6", "-c", "2", "-i", "0.2", "::1")
        time.sleep(0.5)
        cap.terminate()
        cap.wait(timeout=10)
    out = decode(str(path))
    linktype = int.from_bytes(path.read_bytes()[20:24], "little")
    assert linktype in (113, 276)
    assert "Linux cooked capture" in out
    frames = len(re.findall(r"^Frame \d+:", out, re.M))
    assert frames == len(tshark_fields(str(path), "frame.number")) >= 8
    assert out.count("Echo (ping) request") >= 4 and out.count("Echo (ping) reply") >= 4
    assert "Status: Bad" not in out and "Malformed" not in out


@pytest.mark.parametrize("name", ["tcp4", "sack", "frag", "udp_unreach"])
def test_decode_brief_prints_one_line_per_frame(name):
    path = os.path.join(VEC, name + ".pcap")
    r = subprocess.run([TUNDRA, "decode", "--brief", path], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    rows = tshark_fields(path, "frame.number", "frame.len")
    assert len(lines) == len(rows)
    for line, (num, flen) in zip(lines, rows):
        cols = line.split()
        assert cols[0] == num and flen in cols  # number and length on the wire
    if name == "sack":
        assert "SLE=5201 SRE=5301" in r.stdout and "SLE=5201 SRE=5401" in r.stdout
