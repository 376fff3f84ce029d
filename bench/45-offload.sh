#!/usr/bin/env bash
# TUN offloads: one TCP flow each way between the kernel and tundra stack with
# --offload=on and --offload=off, the minimal TUN sink/source with the same
# offloads (bench/tcp_tun_min.c vnet: the offloaded ceiling) and without,
# lwIP when build/bench/lwip_tun exists (bench/lwip/lwip_tun.c), slirp4netns,
# and kernel-to-kernel over veth; one table, ratios against the peers of this run, and tundra's
# CPU seconds per GB moved (utime+stime from /proc/PID/stat).
# Latency in the same run: 1-byte TCP request/response rate (tcp_blast rr on
# echo port 7) vs kernel-to-kernel over veth, and the median ICMP echo RTT
# through the stack vs the minimal TUN responder (bench/tun_echo_min.c). For
# --offload=on the two sides of each latency ratio run at the same time and
# are measured in alternating rounds (ping blocks of PINGS/6; REPS x RRSEC rr
# rounds of 1 s, best of each side): the machine's latency regime (vCPUs
# halting between packets or not) changes within seconds and would otherwise
# decide the ratio; the ping ratio is the median of the six per-round ratios
# of medians.
# TUNDRA_BEFORE=path/to/an/older/tundra adds its --offload=off row (the
# "offloads off is not slower" check).
# Needs root. OFFLOAD_BENCH_BYTES (default 400 MB), best of OFFLOAD_BENCH_REPS (2),
# OFFLOAD_BENCH_RRSEC (2 s per rr run), OFFLOAD_BENCH_PINGS (300 at 5 ms).
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/bench
T=${TUNDRA:-build/tundra}
BYTES=${OFFLOAD_BENCH_BYTES:-400000000}
REPS=${OFFLOAD_BENCH_REPS:-2}
RRSEC=${OFFLOAD_BENCH_RRSEC:-2}
PINGS=${OFFLOAD_BENCH_PINGS:-300}
BEFORE=${TUNDRA_BEFORE:-}
[ "$(id -u)" = 0 ] || { echo "45-offload: needs root (network namespaces); skipped"; exit 0; }
for x in "$T" $B/tcp_blast $B/tcp_tun_min $B/tun_echo_min; do [ -x "$x" ] || { echo "45-offload: missing $x (make all bench-build)"; exit 1; }; done

id=$$-$RANDOM
NS=(tdb-off-a-$id tdb-off-b-$id tdb-off-c-$id tdb-off-d-$id tdb-off-e-$id tdb-off-f-$id tdb-off-g-$id tdb-off-h-$id tdb-off-i-$id tdb-off-j-$id tdb-off-k-$id)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  # forked servers (tcp_blast serve) live on in our namespaces: end them too
  for n in "${NS[@]}"; do for p in $(ip netns pids "$n" 2>/dev/null); do kill "$p" 2>/dev/null; done; done
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
  rm -f "${log:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for n in "${NS[@]}"; do ip netns add "$n"; ip netns exec "$n" ip link set lo up; done
nx() { local n=$1; shift; ip netns exec "$n" "$@"; }
log=$(mktemp)
waitready() { for _ in $(seq 100); do grep -q ready "$log" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# best of REPS transfers; also accumulates CPU ticks of pid $CPID and bytes moved
TICKS=0 MOVED=0
best() {
  local b=0 v t0 t1
  for _ in $(seq "$REPS"); do
    t0=$(cpu_ticks "${CPID:-0}")
    v=$(timeout 120 "$@" 2>/dev/null) || v=0
    t1=$(cpu_ticks "${CPID:-0}")
    TICKS=$((TICKS + t1 - t0)); MOVED=$((MOVED + BYTES))
    b=$(awk -v a="$b" -v c="$v" 'BEGIN{print (c>a)?c:a}')
  done
  echo "$b" > "$log.best"
}
run_pair() { # ns -> sets UP DOWN from tcp_blast against 10.0.0.2 9/19
  best ip netns exec "$1" $B/tcp_blast send 10.0.0.2 9 "$BYTES"; UP=$(cat "$log.best")
  best ip netns exec "$1" $B/tcp_blast recv 10.0.0.2 19 "$BYTES"; DOWN=$(cat "$log.best")
}
bestv() { # best of REPS runs of a command printing one number
  local b=0 v
  for _ in $(seq "$REPS"); do
    v=$(timeout 60 "$@" 2>/dev/null) || v=0
    b=$(awk -v a="$b" -v c="$v" 'BEGIN{print (c>a)?c:a}')
  done
  echo "$b"
}
ping_rtts() { # ns count -> ICMP echo RTTs to 10.0.0.2 in ms, one per line
  ip netns exec "$1" ping -c "$2" -i 0.005 -W 1 10.0.0.2 2>/dev/null |
    sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p'
}
median_us() { sort -g | awk '{a[NR]=$1} END{ if (NR) printf "%.1f", a[int((NR+1)/2)]*1000; else print "n/a" }'; }
ping_median() { # ns -> median ICMP echo RTT to 10.0.0.2 in us
  ping_rtts "$1" 20 >/dev/null # warm-up
  ping_rtts "$1" "$PINGS" | median_us
}
cpu_per_gb() { awk -v t="$TICKS" -v b="$MOVED" -v hz="$(getconf CLK_TCK)" \
  'BEGIN{ if (b > 0) printf "%.2f", t / hz / (b / 1e9); else print "n/a" }'; }

# 1, 2. tundra stack, offloads on and off
declare -A R
R[b_up]=n/a R[b_down]=n/a R[b_cpu]=n/a
for mode in on off tso before; do
  n=${NS[0]}; [ $mode = off ] && n=${NS[1]}; [ $mode = tso ] && n=${NS[4]}; [ $mode = before ] && n=${NS[9]}
  bin=$T om=$mode
  if [ $mode = before ]; then [ -x "$BEFORE" ] || continue; bin=$BEFORE om=off; fi
  : > "$log"
  # ip netns exec execs the stack: $! is its pid (for /proc/PID/stat)
  ip netns exec "$n" "$bin" stack --name tdo0 --offload=$om 2>"$log" & PIDS+=($!); CPID=$!
  waitready || { cat "$log"; exit 1; }
  grep -q "offload=on:" "$log" && sed -n 's/^tundra stack: //p' "$log" | grep offload >&2
  TICKS=0 MOVED=0
  run_pair "$n"
  R[t_${mode}_up]=$UP R[t_${mode}_down]=$DOWN R[t_${mode}_cpu]=$(cpu_per_gb)
  [ $mode = before ] && R[b_up]=$UP R[b_down]=$DOWN R[b_cpu]=$(cpu_per_gb)
  if [ $mode = off ]; then # on: interleaved with its peers in section 8
    R[t_${mode}_rr]=$(bestv ip netns exec "$n" $B/tcp_blast rr 10.0.0.2 7 "$RRSEC")
    R[t_${mode}_ping]=$(ping_median "$n")
  fi
  kill "$CPID"; wait "$CPID" 2>/dev/null
done
CPID=0

# 3, 4. minimal TUN sink/source, with and without the same offloads
for mode in vnet plain; do
  n=${NS[2]}; [ $mode = plain ] && n=${NS[3]}
  : > "$log"
  ip netns exec "$n" $B/tcp_tun_min tmo0 $([ $mode = vnet ] && echo vnet) 2>"$log" & PIDS+=($!); mp=$!
  waitready || { cat "$log"; exit 1; }
  run_pair "$n"
  R[m_${mode}_up]=$UP R[m_${mode}_down]=$DOWN
  kill "$mp"; wait "$mp" 2>/dev/null
done

# 5. lwIP over the same TUN, (bench/lwip/lwip_tun.c: same
# interface assumed as tcp_tun_min: IFNAME, "ready" on stderr, 9 and 19)
R[l_up]=n/a R[l_down]=n/a R[l_cpu]=n/a R[l_rr]=n/a
if [ -x $B/lwip_tun ]; then
  : > "$log"
  ip netns exec "${NS[7]}" $B/lwip_tun tlo0 2>"$log" & PIDS+=($!); CPID=$!; lp=$!
  TICKS=0 MOVED=0
  if waitready; then
    run_pair "${NS[7]}"; R[l_up]=$UP R[l_down]=$DOWN R[l_cpu]=$(cpu_per_gb)
    R[l_rr]=$(bestv ip netns exec "${NS[7]}" $B/tcp_blast rr 10.0.0.2 7 "$RRSEC")
  fi
  CPID=0
  kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
fi

# 6. kernel to kernel over veth (MTU 1500)
ip link add tdov-$$ netns "${NS[5]}" type veth peer name tdow-$$ netns "${NS[6]}"
nx "${NS[5]}" ip addr add 10.9.0.1/24 dev tdov-$$; nx "${NS[5]}" ip link set tdov-$$ up
nx "${NS[6]}" ip addr add 10.9.0.2/24 dev tdow-$$; nx "${NS[6]}" ip link set tdow-$$ up
ip netns exec "${NS[6]}" $B/tcp_blast serve 5000 & PIDS+=($!)
sleep 0.3
best ip netns exec "${NS[5]}" $B/tcp_blast send 10.9.0.2 5000 "$BYTES"; R[v_up]=$(cat "$log.best")
best ip netns exec "${NS[5]}" $B/tcp_blast recv 10.9.0.2 5001 "$BYTES"; R[v_down]=$(cat "$log.best")

# 7. slirp4netns (MTU 1500): namespace -> 10.0.2.2 -> host 127.0.0.1
R[s_up]=n/a R[s_down]=n/a
if command -v slirp4netns >/dev/null; then
  port=$((20000 + RANDOM % 20000))
  $B/tcp_blast serve $port 127.0.0.1 & PIDS+=($!)
  slirp4netns --configure --mtu=1500 --netns-type=path "/run/netns/${NS[10]}" tap0 >/dev/null 2>&1 & PIDS+=($!)
  sleep 1
  best ip netns exec "${NS[10]}" $B/tcp_blast send 10.0.2.2 $port "$BYTES"; R[s_up]=$(cat "$log.best")
  best ip netns exec "${NS[10]}" $B/tcp_blast recv 10.0.2.2 $((port + 1)) "$BYTES"; R[s_down]=$(cat "$log.best")
fi

# 8. latency, --offload=on against its peers in alternating rounds: ping
# through tundra and through the minimal TUN echo responder (the RTT floor),
# rr through tundra and kernel-to-kernel over veth
R[t_on_rr]=n/a R[t_on_ping]=n/a R[e_ping]=n/a R[ping_ratio]=n/a
: > "$log"
ip netns exec "${NS[0]}" "$T" stack --name tdo0 --offload=on 2>"$log" & PIDS+=($!); tp=$!
waitready || { cat "$log"; exit 1; }
: > "$log"
ip netns exec "${NS[8]}" $B/tun_echo_min tme0 2>"$log" & PIDS+=($!); ep=$!
if waitready; then
  ping_rtts "${NS[0]}" 20 >/dev/null; ping_rtts "${NS[8]}" 20 >/dev/null # warm-up
  blk=$(( (PINGS + 5) / 6 ))
  : > "$log.pr"
  for _ in 1 2 3 4 5 6; do
    ping_rtts "${NS[0]}" "$blk" > "$log.t1"
    ping_rtts "${NS[8]}" "$blk" > "$log.e1"
    cat "$log.t1" >> "$log.pt"; cat "$log.e1" >> "$log.pe"
    awk -v a="$(median_us < "$log.t1")" -v b="$(median_us < "$log.e1")" \
      'BEGIN{ if (b+0 > 0) print a/b }' >> "$log.pr"
  done
  R[t_on_ping]=$(median_us < "$log.pt") R[e_ping]=$(median_us < "$log.pe")
  # the ratio: median over the rounds of (tundra / minimal) in that round
  R[ping_ratio]=$(sort -g "$log.pr" | awk '{a[NR]=$1} END{ if (NR) printf "%.2fx", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; else print "n/a" }')
  rm -f "$log.pt" "$log.pe" "$log.t1" "$log.e1" "$log.pr"
fi
kill "$ep"; wait "$ep" 2>/dev/null
tb=0 vb=0
for _ in $(seq $((REPS * RRSEC))); do # 1 s rounds, alternating: best of each side
  v=$(timeout 60 ip netns exec "${NS[0]}" $B/tcp_blast rr 10.0.0.2 7 1 2>/dev/null) || v=0
  tb=$(awk -v a="$tb" -v c="$v" 'BEGIN{print (c>a)?c:a}')
  v=$(timeout 60 ip netns exec "${NS[5]}" $B/tcp_blast rr 10.9.0.2 5002 1 2>/dev/null) || v=0
  vb=$(awk -v a="$vb" -v c="$v" 'BEGIN{print (c>a)?c:a}')
done
R[t_on_rr]=$tb R[v_rr]=$vb
kill "$tp"; wait "$tp" 2>/dev/null
rm -f "$log.best"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 > 0) printf "%.2fx", a/b; else print "n/a" }'; }
row() { printf "  %-40s %10s %10s %s\n" "$1" "$2" "$3" "${4:-}"; }
echo "TUN offloads, TCP one flow, MTU 1500, $BYTES bytes per transfer (best of $REPS), Gbit/s:"
row "" "kernel->X" "X->kernel" "CPU s/GB"
row "tundra --offload=on" "${R[t_on_up]}" "${R[t_on_down]}" "${R[t_on_cpu]}"
row "tundra --offload=off" "${R[t_off_up]}" "${R[t_off_down]}" "${R[t_off_cpu]}"
row "tundra --offload=tso (alias of on)" "${R[t_tso_up]}" "${R[t_tso_down]}" "${R[t_tso_cpu]}"
row "minimal TUN sink/source, offloads (ceiling)" "${R[m_vnet_up]}" "${R[m_vnet_down]}"
row "minimal TUN sink/source, plain" "${R[m_plain_up]}" "${R[m_plain_down]}"
row "lwIP (build/bench/lwip_tun)" "${R[l_up]}" "${R[l_down]}" "${R[l_cpu]}"
row "kernel-kernel veth" "${R[v_up]}" "${R[v_down]}"
row "slirp4netns" "${R[s_up]}" "${R[s_down]}"
row "tundra on / off" "$(ratio "${R[t_on_up]}" "${R[t_off_up]}")" "$(ratio "${R[t_on_down]}" "${R[t_off_down]}")"
row "tundra on / offloaded ceiling (goal 0.8)" "$(ratio "${R[t_on_up]}" "${R[m_vnet_up]}")" "$(ratio "${R[t_on_down]}" "${R[m_vnet_down]}")"
row "tundra off / plain ceiling" "$(ratio "${R[t_off_up]}" "${R[m_plain_up]}")" "$(ratio "${R[t_off_down]}" "${R[m_plain_down]}")"
row "tundra tso / offloaded ceiling" "$(ratio "${R[t_tso_up]}" "${R[m_vnet_up]}")" "$(ratio "${R[t_tso_down]}" "${R[m_vnet_down]}")"
row "tundra on / lwIP (goal 4)" "$(ratio "${R[t_on_up]}" "${R[l_up]}")" "$(ratio "${R[t_on_down]}" "${R[l_down]}")"
row "tundra on / slirp4netns" "$(ratio "${R[t_on_up]}" "${R[s_up]}")" "$(ratio "${R[t_on_down]}" "${R[s_down]}")"
row "tundra on / veth (goal 0.5)" "$(ratio "${R[t_on_up]}" "${R[v_up]}")" "$(ratio "${R[t_on_down]}" "${R[v_down]}")"
row "tundra on / lwIP, CPU s per GB" "" "" "$(ratio "${R[t_on_cpu]}" "${R[l_cpu]}")"
if [ -n "$BEFORE" ]; then
  row "tundra before ($BEFORE) --offload=off" "${R[b_up]}" "${R[b_down]}" "${R[b_cpu]}"
  row "tundra off / before (goal 0.9)" "$(ratio "${R[t_off_up]}" "${R[b_up]}")" "$(ratio "${R[t_off_down]}" "${R[b_down]}")"
fi
echo "Latency: 1-byte TCP request/response (transactions/s, best of $REPS x ${RRSEC} s, on: of $((REPS * RRSEC)) x 1 s); ICMP echo RTT (median of $PINGS at 5 ms, us); --offload=on alternates rounds with its peers:"
row "" "rr/s" "ping us"
row "tundra --offload=on" "${R[t_on_rr]}" "${R[t_on_ping]}"
row "tundra --offload=off" "${R[t_off_rr]}" "${R[t_off_ping]}"
row "minimal TUN echo responder" "" "${R[e_ping]}"
row "lwIP (build/bench/lwip_tun)" "${R[l_rr]}" ""
row "kernel-kernel veth" "${R[v_rr]}" ""
row "tundra on rr / veth (goal 0.8)" "$(ratio "${R[t_on_rr]}" "${R[v_rr]}")" ""
row "tundra on ping / minimal (goal <= 1.2)" "" "${R[ping_ratio]}" "(median of 6 paired rounds)"
