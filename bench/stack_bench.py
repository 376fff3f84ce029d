"""ICMP echo through tundra stack vs a minimal TUN responder and lwIP, same run, ratios printed.

Each responder gets a fresh network namespace with the same addressing
(kernel 10.0.0.1/24, responder 10.0.0.2). For each: 1000 pings at 10 ms
(median and p99 RTT, responder CPU), then a ping flood (packets/s),
in interleaved rounds so that every responder sees the same noise.
"""
import os
import re
import secrets
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TUNDRA = os.environ.get("TUNDRA", os.path.join(ROOT, "build", "tundra"))
BENCH = os.path.join(ROOT, "build", "bench")
PROBES = int(os.environ.get("STACK_BENCH_PROBES", "1000"))
FLOOD = int(os.environ.get("STACK_BENCH_FLOOD", "100000"))


def cpu_seconds(pid):
    """Time on CPU in ns resolution (schedstat), not in clock ticks."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e9


class Responder:
    def __init__(self, name, argv):
        self.name, self.argv = name, argv
        self.ns = f"tdb-{os.getpid()}-{secrets.token_hex(3)}"
        self.p = None
        self.rtts, self.cpu, self.wall, self.lost = [], 0.0, 0.0, 0
        self.flood_pps = []

    def ping(self, *args):
        return subprocess.run(["ip", "netns", "exec", self.ns, "ping", *args, "10.0.0.2"],
                              capture_output=True, text=True)

    def start(self):
        subprocess.run(["ip", "netns", "add", self.ns], check=True)
        subprocess.run(["ip", "-n", self.ns, "link", "set", "lo", "up"], check=True)
        # `ip netns exec` execs the command in place: p.pid is the responder
        self.p = subprocess.Popen(["ip", "netns", "exec", self.ns, *self.argv],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if self.ping("-c", "1", "-W", "1").returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{self.name} did not answer")
        self.ping("-c", "50", "-i", "0.01")

    def rtt_round(self, n):
        c0, t0 = cpu_seconds(self.p.pid), time.monotonic()
        r = self.ping("-c", str(n), "-i", "0.01", "-W", "1")
        self.cpu += cpu_seconds(self.p.pid) - c0
        self.wall += time.monotonic() - t0
        got = [float(x) * 1000 for x in re.findall(r"time=([\d.]+) ms", r.stdout)]
        self.rtts += got
        self.lost += n - len(got)

    def flood_round(self, n):
        f = self.ping("-f", "-q", "-c", str(n), "-W", "1")
        m = re.search(r"(\d+) received.*time (\d+)ms", f.stdout)
        if m and int(m.group(2)):
            self.flood_pps.append(int(m.group(1)) / (int(m.group(2)) / 1000))

    def result(self):
        rtts = sorted(self.rtts)
        return {"median": statistics.median(rtts), "p99": rtts[max(0, int(len(rtts) * 0.99) - 1)],
                "cpu": self.cpu / self.wall * 100 if self.wall else 0,
                # median of the rounds: one round slowed by a neighbour's
                # burst does not decide the figure
                "pps": statistics.median(self.flood_pps) if self.flood_pps else 0,
                "lost": self.lost}

    def stop(self):
        if self.p:
            self.p.terminate()
            try:
                self.p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        subprocess.run(["ip", "netns", "del", self.ns])


ROUNDS = 10


def main():
    peers = [
        ("minimal TUN responder", [f"{BENCH}/tun_echo_min", "tb0"]),
        ("tundra stack", [TUNDRA, "stack", "--name", "tb0", "--quiet"]),
        ("lwIP 2.1.3 (Debian)", [f"{BENCH}/lwip_tun", "tb0"]),
        ("minimal, busy-poll 20ms", [f"{BENCH}/tun_echo_min", "tb0", "20000"]),
        ("tundra stack --busy-poll 20000", [TUNDRA, "stack", "--name", "tb0", "--quiet",
                                            "--busy-poll", "20000"]),
    ]
    rs = []
    try:
        for name, argv in peers:
            if not os.path.exists(argv[0]):
                print(f"{name}: not built ({argv[0]}), skipped")
                continue
            r = Responder(name, argv)
            rs.append(r)
            r.start()
        # Interleaved rounds: every responder sees the same machine noise.
        for _ in range(ROUNDS):
            for r in rs:
                r.rtt_round(PROBES // ROUNDS)
            for r in rs:
                r.flood_round(FLOOD // ROUNDS)
        res = {r.name: r.result() for r in rs}
    finally:
        for r in rs:
            r.stop()
    base = res.get("minimal TUN responder")
    print(f"\nICMP echo over TUN: {PROBES} probes at 10 ms and ping -f x{FLOOD} per responder, "
          f"in {ROUNDS} interleaved rounds (same run)")
    print(f"{'responder':32} {'median us':>9} {'p99 us':>8} {'x min':>6} {'cpu %':>6} "
          f"{'flood pps':>10} {'x min':>6} {'lost':>5}")
    for name, r in res.items():
        ref = base if "busy" not in name else res.get("minimal, busy-poll 20ms", base)
        print(f"{name:32} {r['median']:9.1f} {r['p99']:8.1f} {r['median'] / ref['median']:6.2f} "
              f"{r['cpu']:6.2f} {r['pps']:10.0f} {r['pps'] / ref['pps']:6.2f} {r['lost']:5d}")
    st, lw = res.get("tundra stack"), res.get("lwIP 2.1.3 (Debian)")
    if st and base:
        print(f"\nratio RTT  tundra/minimal = {st['median'] / base['median']:.2f}  (goal <= 1.2)")
        print(f"ratio pps  tundra/minimal = {st['pps'] / base['pps']:.2f}  (goal >= 0.9)")
    if st and lw:
        print(f"ratio RTT  tundra/lwIP    = {st['median'] / lw['median']:.2f}  (goal < 1)")
        print(f"ratio pps  tundra/lwIP    = {st['pps'] / lw['pps']:.2f}")
    sb = res.get("tundra stack --busy-poll 20000")
    if sb and st:
        print(f"busy-poll: RTT {sb['median']:.1f} us vs {st['median']:.1f} us sleeping, "
              f"CPU {sb['cpu']:.0f} % vs {st['cpu']:.0f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
