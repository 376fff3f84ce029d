"""Run a command REPEAT times; print median wall seconds, CPU seconds and peak RSS (KiB).

Peak RSS comes from GNU time wrapped around the command (a forked Python child
would report Python's own RSS).

usage: ping_measure.py REPEAT OUTFILE cmd...   (stdout+stderr of the last run go to OUTFILE)
"""
import os
import statistics
import subprocess
import sys
import time

repeat, outfile, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
walls, cpus, rss = [], [], []
for _ in range(repeat):
    with open(outfile, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M", "-o", outfile + ".rss", *cmd],
                             stdout=out, stderr=subprocess.STDOUT)
        _, _, ru = os.wait4(p.pid, 0)
        walls.append(time.perf_counter() - t0)
    cpus.append(ru.ru_utime + ru.ru_stime)
    rss.append(int(open(outfile + ".rss").read().split()[-1]))
i = walls.index(statistics.median_low(walls))
print(f"{walls[i]:.4f} {cpus[i]:.4f} {max(rss)}")
