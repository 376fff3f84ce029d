#!/usr/bin/env bash
# One TCP flow each way and 1-byte request/response between the kernel and:
# tundra stack over TUN, the minimal TUN sink/source (bench/tcp_tun_min.c, the
# ceiling of the plain TUN path), lwIP over the same kind of TUN
# (bench/lwip/lwip_tun.c, Debian's liblwip), slirp4netns, and kernel-to-kernel
# over veth. All in one run; ratios printed against the peers measured in this
# run. CPU seconds per GB moved (utime+stime of the stack's process from
# /proc/PID/stat) for tundra and lwIP.
# Needs root (namespaces). TCP_BENCH_BYTES (default 400 MB) per transfer,
# best of TCP_BENCH_REPS (default 2).
set -uo pipefail
stage() { [ -n "${TCP_BENCH_VERBOSE:-}" ] && echo "40-tcp: $*" >&2; true; }
cd "$(dirname "$0")/.."
B=build/bench
T=${TUNDRA:-build/tundra}
BYTES=${TCP_BENCH_BYTES:-400000000}
REPS=${TCP_BENCH_REPS:-2}
RRSEC=${TCP_BENCH_RR_SECONDS:-3}
[ "$(id -u)" = 0 ] || { echo "40-tcp: needs root (network namespaces); skipped"; exit 0; }
for x in "$T" $B/tcp_blast $B/tcp_tun_min $B/lwip_tun; do [ -x "$x" ] || { echo "40-tcp: missing $x (make all bench-build)"; exit 1; }; done

id=$$-$RANDOM
NS=(tdb-tcp-a-$id tdb-tcp-b-$id tdb-tcp-c-$id tdb-tcp-d-$id tdb-tcp-e-$id tdb-tcp-f-$id)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for n in "${NS[@]}"; do ip netns add "$n"; ip netns exec "$n" ip link set lo up; done
nx() { local n=$1; shift; ip netns exec "$n" "$@"; }

best() { # best of REPS runs of a command printing one number
  local b=0 v
  for _ in $(seq "$REPS"); do
    v=$(timeout 120 "$@" 2>/dev/null) || v=0
    b=$(awk -v a="$b" -v c="$v" 'BEGIN{print (c>a)?c:a}')
  done
  echo "$b"
}
# CPU ticks (utime+stime, all threads) of a process; `ip netns exec` execs, so
# the PID of the backgrounded command is the stack's own
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HZ=$(getconf CLK_TCK)
# CPU seconds per GB moved: ticks before, ticks after, over REPS transfers of BYTES
cpugb() { awk -v a="$1" -v b="$2" -v hz="$HZ" -v gb="$(awk -v r="$REPS" -v n="$BYTES" 'BEGIN{print r*n/1e9}')" \
  'BEGIN{ if (gb > 0) printf "%.2f", (b - a) / hz / gb; else print "n/a" }'; }
waitready() { for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# 1. tundra stack (services: discard 9, chargen 19, echo 7)
log=$(mktemp)
ip netns exec "${NS[0]}" "$T" stack --name tdb0 2>"$log" & PIDS+=($!); tpid=$!
waitready "$log" || { cat "$log"; exit 1; }
c0=$(ticks $tpid)
t_up=$(best ip netns exec "${NS[0]}" $B/tcp_blast send 10.0.0.2 9 "$BYTES")
c1=$(ticks $tpid)
t_down=$(best ip netns exec "${NS[0]}" $B/tcp_blast recv 10.0.0.2 19 "$BYTES")
c2=$(ticks $tpid)
t_cpu_up=$(cpugb "$c0" "$c1") t_cpu_down=$(cpugb "$c1" "$c2")
t_rr=$(best ip netns exec "${NS[0]}" $B/tcp_blast rr 10.0.0.2 7 "$RRSEC")

stage lwip
# 1b. lwIP over the same kind of TUN (services: discard 9, chargen 19, echo 7)
ip netns exec "${NS[5]}" $B/lwip_tun tlw0 2>"$log" & PIDS+=($!); lpid=$!
waitready "$log" || { cat "$log"; exit 1; }
c0=$(ticks $lpid)
l_up=$(best ip netns exec "${NS[5]}" $B/tcp_blast send 10.0.0.2 9 "$BYTES")
c1=$(ticks $lpid)
l_down=$(best ip netns exec "${NS[5]}" $B/tcp_blast recv 10.0.0.2 19 "$BYTES")
c2=$(ticks $lpid)
l_cpu_up=$(cpugb "$c0" "$c1") l_cpu_down=$(cpugb "$c1" "$c2")
l_rr=$(best ip netns exec "${NS[5]}" $B/tcp_blast rr 10.0.0.2 7 "$RRSEC")

stage minimal
# 2. minimal TUN sink/source
ip netns exec "${NS[1]}" $B/tcp_tun_min tmin0 2>"$log" & PIDS+=($!)
waitready "$log" || { cat "$log"; exit 1; }
m_up=$(best ip netns exec "${NS[1]}" $B/tcp_blast send 10.0.0.2 9 "$BYTES")
m_down=$(best ip netns exec "${NS[1]}" $B/tcp_blast recv 10.0.0.2 19 "$BYTES")

stage veth
# 3. kernel to kernel over veth (MTU 1500)
ip link add tdbv-$$ netns "${NS[2]}" type veth peer name tdbw-$$ netns "${NS[3]}"
nx "${NS[2]}" ip addr add 10.9.0.1/24 dev tdbv-$$; nx "${NS[2]}" ip link set tdbv-$$ up
nx "${NS[3]}" ip addr add 10.9.0.2/24 dev tdbw-$$; nx "${NS[3]}" ip link set tdbw-$$ up
ip netns exec "${NS[3]}" $B/tcp_blast serve 5000 & PIDS+=($!)
sleep 0.3
v_up=$(best ip netns exec "${NS[2]}" $B/tcp_blast send 10.9.0.2 5000 "$BYTES")
v_down=$(best ip netns exec "${NS[2]}" $B/tcp_blast recv 10.9.0.2 5001 "$BYTES")
v_rr=$(best ip netns exec "${NS[2]}" $B/tcp_blast rr 10.9.0.2 5002 "$RRSEC")

stage slirp
# 4. slirp4netns (MTU 1500): namespace -> 10.0.2.2 -> host 127.0.0.1
s_up=n/a s_down=n/a
if command -v slirp4netns >/dev/null; then
  port=$((20000 + RANDOM % 20000))
  $B/tcp_blast serve $port 127.0.0.1 & PIDS+=($!)
  slirp4netns --configure --mtu=1500 --netns-type=path "/run/netns/${NS[4]}" tap0 >/dev/null 2>&1 & PIDS+=($!)
  sleep 1
  s_up=$(best ip netns exec "${NS[4]}" $B/tcp_blast send 10.0.2.2 $port "$BYTES")
  s_down=$(best ip netns exec "${NS[4]}" $B/tcp_blast recv 10.0.2.2 $((port + 1)) "$BYTES")
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b+0 > 0) printf "%.2fx", a/b; else print "n/a" }'; }
echo "TCP, one flow, MTU 1500, $BYTES bytes per transfer (best of $REPS), Gbit/s:"
printf "  %-34s %10s %10s\n" "" "kernel->X" "X->kernel"
printf "  %-34s %10s %10s\n" "tundra stack (TUN)" "$t_up" "$t_down"
printf "  %-34s %10s %10s\n" "minimal TUN sink/source (ceiling)" "$m_up" "$m_down"
printf "  %-34s %10s %10s\n" "lwIP 2.1.3 Debian (TUN)" "$l_up" "$l_down"
printf "  %-34s %10s %10s\n" "slirp4netns" "$s_up" "$s_down"
printf "  %-34s %10s %10s\n" "kernel-kernel veth" "$v_up" "$v_down"
printf "  %-34s %10s %10s\n" "tundra / minimal" "$(ratio "$t_up" "$m_up")" "$(ratio "$t_down" "$m_down")"
printf "  %-34s %10s %10s\n" "tundra / lwIP" "$(ratio "$t_up" "$l_up")" "$(ratio "$t_down" "$l_down")"
printf "  %-34s %10s %10s\n" "tundra / slirp4netns" "$(ratio "$t_up" "$s_up")" "$(ratio "$t_down" "$s_down")"
printf "  %-34s %10s %10s\n" "tundra / veth" "$(ratio "$t_up" "$v_up")" "$(ratio "$t_down" "$v_down")"
echo "1-byte request/response, transactions/s (best of $REPS x ${RRSEC} s): tundra $t_rr, lwIP $l_rr, veth $v_rr"
echo "  tundra / lwIP $(ratio "$t_rr" "$l_rr"), tundra / veth $(ratio "$t_rr" "$v_rr")"
echo "CPU seconds per GB moved (stack process utime+stime; lower is better):"
printf "  %-34s %10s %10s\n" "" "kernel->X" "X->kernel"
printf "  %-34s %10s %10s\n" "tundra stack" "$t_cpu_up" "$t_cpu_down"
printf "  %-34s %10s %10s\n" "lwIP" "$l_cpu_up" "$l_cpu_down"
printf "  %-34s %10s %10s\n" "tundra / lwIP" "$(ratio "$t_cpu_up" "$l_cpu_up")" "$(ratio "$t_cpu_down" "$l_cpu_down")"
echo "lwIP as built by Debian (lwipopts.h): TCP_MSS 1460, TCP_WND 65535 with window scaling"
echo "  (LWIP_WND_SCALE 1, TCP_RCV_SCALE 1), TCP_SND_BUF 65535, no SACK; one thread, one copy per packet"
rm -f "$log"
