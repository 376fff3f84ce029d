"""TCP under tundra's impairment layer: our sender against the kernel's, same run.

    impair_tcp.py run NBYTES SEED[,SEED...]   (root; used by bench/47-impair.sh)
    impair_tcp.py put NBYTES CC               (inside the namespace: one upload)

Per seed, one `tundra stack --impair loss=5%,reorder=2%,dup=1%,delay=20,
jitter=5` (both directions of the stack) and, at the same time on three
connections: curl downloads /bytes/N (tundra's TCP sends, sha256 checked),
and the kernel uploads N bytes to /upload/stream twice, once with the
namespace's default congestion control and once with CUBIC (set per socket
with TCP_CONGESTION, which root may do for any available algorithm), the
stack checking every byte. Prints KB/s per flow and the ratios of our rate to
each kernel rate, and tundra's loss-recovery counters.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

IMPAIR = "loss=5%,reorder=2%,dup=1%,delay=20,jitter=5"
COUNTERS = ["tcp_retransmits", "tcp_rto_expired", "tcp_fast_retransmits", "tcp_rack_lost",
            "tcp_tlp_probes", "tcp_rx_dsack", "tcp_undo_dsack", "tcp_undo_rto"]


def put(n, cc):
    import tcp_stream
    s = socket.create_connection(("10.0.0.2", 80), timeout=1200)
    if cc != "default":
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.sendall(f"PUT /upload/stream HTTP/1.1\r\nHost: b\r\nContent-Length: {n}\r\n"
              "Connection: close\r\n\r\n".encode())
    for off in range(0, n, 1 << 20):
        s.sendall(tcp_stream.stream(off, min(1 << 20, n - off)))
    r = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        r += d
    body = json.loads(r.split(b"\r\n\r\n", 1)[1])
    ok = body.get("received") == n and body.get("stream_ok") is True
    print(json.dumps({"ok": ok, **body}))
    return 0 if ok else 1


def run(n, seed):
    from netns import Netns
    import tcp_stream
    tundra = os.environ.get("TUNDRA", os.path.join(HERE, "..", "build", "tundra"))
    with Netns("tdb") as ns:
        stats = f"/tmp/{ns.name}.stats.json"
        err = open(f"/tmp/{ns.name}.err", "w+")
        p = ns.popen([tundra, "stack", "--stats=json", "--stats-file", stats, "--slots", "8192",
                      "--impair", f"{IMPAIR},seed={seed}"], stdout=subprocess.DEVNULL, stderr=err)
        for _ in range(200):
            err.seek(0)
            if "ready on" in err.read():
                break
            time.sleep(0.05)
        cc_default = ns.run("sysctl", "-n", "net.ipv4.tcp_congestion_control").stdout.strip()
        res = {}
        out = f"/tmp/{ns.name}.dl"

        def flow(name, argv):
            t = time.time()
            r = ns.run(*argv, timeout=1300, check=False)
            res[name] = (time.time() - t, r)

        flows = [("tundra", ["curl", "-sS", "--max-time", "1200", "-o", out,
                             f"http://10.0.0.2/bytes/{n}"]),
                 ("kernel_" + cc_default, ["/usr/bin/python3", __file__, "put", str(n), "default"]),
                 ("kernel_cubic", ["/usr/bin/python3", __file__, "put", str(n), "cubic"])]
        ths = [threading.Thread(target=flow, args=f) for f in flows]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        p.terminate()
        p.wait(timeout=10)
        with open(stats) as f:
            tr = json.load(f)["transport"]
        os.unlink(stats)
        err.close()
        os.unlink(err.name)
        h = hashlib.sha256()
        with open(out, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        os.unlink(out)
        ok = h.hexdigest() == tcp_stream.sha256(n) and all(r.returncode == 0 for _, r in res.values())
        kbs = {k: round(n / 1024 / v[0], 1) for k, v in res.items()}
        line = {"seed": seed, "ok": ok, "KB/s": kbs}
        for k in kbs:
            if k != "tundra":
                line[f"tundra/{k}"] = round(kbs["tundra"] / kbs[k], 2)
        line.update({k.replace("tcp_", ""): tr.get(k) for k in COUNTERS})
        print(json.dumps(line), flush=True)
        return line


def main():
    if sys.argv[1] == "put":
        return put(int(sys.argv[2]), sys.argv[3])
    n = int(sys.argv[2])
    lines = [run(n, int(s)) for s in sys.argv[3].split(",")]
    for key in sorted(k for k in lines[0] if k.startswith("tundra/")):
        vals = sorted(x[key] for x in lines)
        print(f"47-impair: {key} median {vals[len(vals) // 2]:.2f}x over {len(vals)} seeds "
              f"({n >> 20} MB each, {IMPAIR})")
    return 0 if all(x["ok"] for x in lines) else 1


if __name__ == "__main__":
    sys.exit(main())
