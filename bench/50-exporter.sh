#!/usr/bin/env bash
# tundra exporter vs prometheus-smokeping-prober, same run, one after the other in
# one fresh network namespace (loopback targets only):
#   1. 1 000 and 10 000 targets (127.x.y.z) at 1 s for DURATION s (default 60):
#      CPU seconds, peak RSS, loss (1 - replies/requests) of each, and the ratios.
#   2. /metrics scrape latency with 10 000 targets (median of 5 scrapes), both.
#   3. Reported RTT median and mean on 127.0.0.1 (100 ms interval, same fine
#      buckets on both) vs `tundra ping`'s own figure.
# tundra runs rootless (uid 65534, ICMP datagram socket); smokeping_prober as
# Debian ships it (raw sockets, root in the namespace). Env: DURATION, SIZES.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-60}
SIZES=${SIZES:-"1000 10000"}
TUNDRA=$PWD/build/tundra
NS=tdbench-$$-$RANDOM
WORK=$(mktemp -d /tmp/tdbench-XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  # run_one runs in a subshell: its pids are in $WORK/pids
  [ -f "$WORK/pids" ] && while read -r p; do PIDS+=("$p"); done < "$WORK/pids"
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
command -v prometheus-smokeping-prober >/dev/null || { echo "prometheus-smokeping-prober missing (scripts/deps.sh)"; exit 1; }
[ -x "$TUNDRA" ] || { echo "build first: make"; exit 1; }
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
NX() { ip netns exec "$NS" "$@"; }
# for background processes: `ip netns exec`, setpriv and `bash -c "exec ..."`
# all exec, so $! is the measured process itself
NXB=(ip netns exec "$NS")
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all)

# ticks (utime+stime) of a pid and its threads
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# summary of one exposition: requests, replies over every series
loss_of() { # file -> "requests replies loss%"
  awk '/^smokeping_requests_total/ {r+=$NF} /^smokeping_response_duration_seconds_count/ {c+=$NF}
       END {printf "%d %d %.3f", r, c, (r ? 100*(r-c)/r : 0)}' "$1"
}

make_config() { # n interval file
  /usr/bin/python3 - "$1" "$2" > "$3" <<'EOF'
import sys
n, iv = int(sys.argv[1]), sys.argv[2]
print("targets:\n- interval: %s\n  hosts:" % iv)
for i in range(n):
    print("  - 127.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250, i % 250 + 1))
EOF
}

wait_http() { # port [seconds]: smokeping_prober starts its pingers one by one
  local end=$((SECONDS + ${2:-60}))
  while [ $SECONDS -lt $end ]; do
    NX curl -s -o /dev/null -m 20 "http://127.0.0.1:$1/metrics" && return 0
    sleep 0.2
  done
  return 1
}

# run_one name port cmd...: start; give HTTP up to 60 s; after 5 s more measure
# CPU over DURATION s whether or not HTTP answers; scrape at both ends.
# Prints "cpu_s rss_mb requests replies loss%" (loss "n/a" without scrapes).
run_one() {
  local name=$1 port=$2; shift 2
  "${NXB[@]}" "$@" > "$WORK/$name.log" 2>&1 &
  local pid=$!
  echo "$pid" >> "$WORK/pids"
  local up=1
  wait_http "$port" 60 || up=0
  sleep 5
  local t0; t0=$(cpu_ticks "$pid")
  [ $up = 1 ] && NX curl -s -m 60 -o "$WORK/$name.start.prom" "http://127.0.0.1:$port/metrics"
  sleep "$DURATION"
  local t1; t1=$(cpu_ticks "$pid")
  NX curl -s -m 60 -o "$WORK/$name.prom" "http://127.0.0.1:$port/metrics" || true
  local hwm; hwm=$(hwm_kb "$pid")
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local tck; tck=$(getconf CLK_TCK)
  if [ $up = 1 ] && [ -s "$WORK/$name.prom" ]; then
    # loss over the measured window only (start-up splay excluded)
    read -r r0 c0 _ < <(loss_of "$WORK/$name.start.prom")
    read -r r1 c1 _ < <(loss_of "$WORK/$name.prom")
    awk -v a="$t0" -v b="$t1" -v t="$tck" -v h="$hwm" -v r0="$r0" -v r1="$r1" -v c0="$c0" -v c1="$c1" \
      'BEGIN {r=r1-r0; c=c1-c0; printf "%.2f %.1f %d %d %.3f\n", (b-a)/t, h/1024, r, c, (r ? 100*(r-c)/r : 0)}'
  else
    awk -v a="$t0" -v b="$t1" -v t="$tck" -v h="$hwm" \
      'BEGIN {printf "%.2f %.1f 0 0 n/a(no-metrics-within-60s)\n", (b-a)/t, h/1024}'
  fi
}

echo "tundra exporter vs prometheus-smokeping-prober $(prometheus-smokeping-prober --version 2>&1 | head -1 | awk '{print $3}'), ${DURATION} s per run, $(nproc) CPUs"
for n in $SIZES; do
  make_config "$n" 1s "$WORK/c$n.yml"
  chmod 644 "$WORK/c$n.yml"
  t=$(run_one "tundra$n" 19474 "${NOBODY[@]}" "$TUNDRA" exporter --config "$WORK/c$n.yml" --listen 127.0.0.1:19474)
  read -r tc tr treq trep tl <<<"$t"
  printf "%6d targets  tundra exporter:  cpu %7.2f s  peak rss %7.1f MB  loss %s%% (%d replies / %d requests = %d/s of %d/s configured)\n" "$n" "$tc" "$tr" "$tl" "$trep" "$treq" "$((treq / DURATION))" "$n"
  # smokeping_prober opens one socket per target: lift the fd limit for it
  s=$(run_one "smoke$n" 19475 bash -c "ulimit -n 1048576; exec prometheus-smokeping-prober --config.file=$WORK/c$n.yml --web.listen-address=127.0.0.1:19475")
  read -r sc sr sreq srep sl <<<"$s"
  printf "%6d targets  smokeping_prober: cpu %7.2f s  peak rss %7.1f MB  loss %s%% (%d replies / %d requests = %d/s of %d/s configured)\n" "$n" "$sc" "$sr" "$sl" "$srep" "$sreq" "$((sreq / DURATION))" "$n"
  awk -v tc="$tc" -v sc="$sc" -v tr="$tr" -v sr="$sr" -v n="$n" 'BEGIN {
    printf "%6d targets  ratio: smokeping_prober uses %.1fx the CPU (goal >= 10x) and %.2fx the memory (goal >= 1x) of tundra exporter\n",
      n, (tc > 0 ? sc/tc : 0), (tr > 0 ? sr/tr : 0) }'
done

# ---- scrape latency at 10 000 targets ----
make_config 10000 1s "$WORK/c10k.yml"; chmod 644 "$WORK/c10k.yml"
scrape_ms() { # port -> median ms of 5 scrapes
  for _ in 1 2 3 4 5; do NX curl -s -m 60 -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$1/metrics"; done |
    sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[3]*1000}'
}
"${NXB[@]}" "${NOBODY[@]}" "$TUNDRA" exporter --config "$WORK/c10k.yml" --listen 127.0.0.1:19476 > "$WORK/ts.log" 2>&1 &
PIDS+=($!)
wait_http 19476 60; sleep 3
tms=$(scrape_ms 19476)
tsize=$(NX curl -s "http://127.0.0.1:19476/metrics" | wc -c)
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
echo "scrape of 10000 targets: tundra exporter ${tms} ms median of 5 (${tsize} bytes; goal < 100 ms)"
"${NXB[@]}" bash -c "ulimit -n 1048576; exec prometheus-smokeping-prober --config.file=$WORK/c10k.yml --web.listen-address=127.0.0.1:19477" > "$WORK/ss.log" 2>&1 &
PIDS+=($!)
if wait_http 19477 "${PEER_START:-120}"; then
  sleep 3
  sms=$(scrape_ms 19477)
  ssize=$(NX curl -s -m 60 "http://127.0.0.1:19477/metrics" | wc -c)
  echo "scrape of 10000 targets: smokeping_prober ${sms} ms (${ssize} bytes); ratio $(awk -v a="$sms" -v b="$tms" 'BEGIN{printf "%.1f", (b>0?a/b:0)}')x"
else
  echo "scrape of 10000 targets: smokeping_prober did not answer /metrics within ${PEER_START:-120} s of starting"
fi
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# ---- RTT on 127.0.0.1: same fine buckets on both ----
BUCKETS=$(/usr/bin/python3 -c 'print(",".join("%.3g" % (2e-6 * 1.1**i) for i in range(64)))')
rtt_of() { # file -> "median_us mean_us"
  /usr/bin/python3 - "$1" <<'EOF'
import re, sys
b, s, c = [], 0.0, 0.0
for line in open(sys.argv[1]):
    if 'ip="127.0.0.1"' not in line: continue
    m = re.match(r'smokeping_response_duration_seconds_bucket\{.*le="([^"]+)"\} (\S+)', line)
    if m: b.append((float(m.group(1)), float(m.group(2))))
    elif line.startswith("smokeping_response_duration_seconds_sum"): s = float(line.split()[-1])
    elif line.startswith("smokeping_response_duration_seconds_count"): c = float(line.split()[-1])
b.sort()
half, prev_le, prev_n, med = c / 2, 0.0, 0.0, float("nan")
for le, n in b:
    if n >= half:
        med = prev_le + (le - prev_le) * ((half - prev_n) / (n - prev_n) if n > prev_n else 0)
        break
    prev_le, prev_n = le, n
print("%.1f %.1f" % (med * 1e6, s / c * 1e6 if c else float("nan")))
EOF
}
printf 'targets:\n- hosts: [127.0.0.1]\n  interval: 100ms\n' > "$WORK/one.yml"; chmod 644 "$WORK/one.yml"
RTTD=${RTT_SECONDS:-20}
"${NXB[@]}" "${NOBODY[@]}" "$TUNDRA" exporter --config "$WORK/one.yml" --buckets "$BUCKETS" --listen 127.0.0.1:19478 > "$WORK/tr.log" 2>&1 &
PIDS+=($!)
"${NXB[@]}" prometheus-smokeping-prober --config.file="$WORK/one.yml" --buckets="$BUCKETS" --web.listen-address=127.0.0.1:19479 > "$WORK/sr.log" 2>&1 &
PIDS+=($!)
wait_http 19478 60; wait_http 19479 60
# tundra ping beside them over the same window, same interval: its median RTT
# is the figure the exporter's must stay within 1.2x of.
NPING=$(( RTTD * 10 ))
"${NXB[@]}" "${NOBODY[@]}" "$TUNDRA" ping --json -c "$NPING" -i 0.1 127.0.0.1 > "$WORK/ping.json" 2>&1 &
PPID_=$!; PIDS+=($PPID_)
sleep "$RTTD"
NX curl -s -o "$WORK/tr.prom" http://127.0.0.1:19478/metrics
NX curl -s -o "$WORK/sr.prom" http://127.0.0.1:19479/metrics
wait "$PPID_" 2>/dev/null || true
read -r tmed tmean < <(rtt_of "$WORK/tr.prom")
read -r smed smean < <(rtt_of "$WORK/sr.prom")
pmed=$(/usr/bin/python3 -c '
import json, statistics, sys
r = [json.loads(l)["rtt_ms"] * 1000 for l in open(sys.argv[1]) if l.startswith("{\"type\":\"reply\"")]
print("%.1f" % statistics.median(r) if r else "")' "$WORK/ping.json")
echo "RTT 127.0.0.1 (100 ms, ${RTTD} s, all three together): tundra exporter median ${tmed} us mean ${tmean} us; smokeping_prober median ${smed} us mean ${smean} us; tundra ping median ${pmed:-?} us"
awk -v t="$tmed" -v s="$smed" -v p="$pmed" 'BEGIN {
  printf "RTT ratio: smokeping_prober median / tundra exporter median = %.1fx; tundra exporter median / tundra ping median = %.2f (goal <= 1.2)\n",
    (t > 0 ? s/t : 0), (p > 0 ? t/p : 0) }'
