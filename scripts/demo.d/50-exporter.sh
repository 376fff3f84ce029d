#!/usr/bin/env bash
# tundra exporter: rootless (uid 65534) in a namespace of its own, probing
# 127.0.0.1 and ::1 every 100 ms; then a scrape, as Prometheus would see it.
set -euo pipefail
T=${TUNDRA:-build/tundra}
if [ "$(id -u)" != 0 ]; then
  echo "(not root: running in the current namespace; needs ping_group_range or CAP_NET_RAW)"
  "$T" exporter --listen 127.0.0.1:19399 -i 100ms 127.0.0.1 ::1 & pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
  sleep 2
  curl -s 127.0.0.1:19399/metrics | grep -E '^(smokeping_requests_total|smokeping_response_duration_seconds_(count|sum)|tundra_socket_mode)'
  exit 0
fi
NS=tddemo-$$
ip netns add "$NS"
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; ip netns del "$NS"' EXIT
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
echo "\$ setpriv --reuid=65534 ... tundra exporter -i 100ms 127.0.0.1 ::1   # no root, no capabilities"
ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
  "$T" exporter --listen 127.0.0.1:19399 -i 100ms 127.0.0.1 ::1 & pid=$!
sleep 2
echo "\$ curl -s 127.0.0.1:19399/metrics | grep ..."
ip netns exec "$NS" curl -s 127.0.0.1:19399/metrics |
  grep -E '^(smokeping_requests_total|smokeping_response_duration_seconds_(count|sum)|smokeping_response_duration_seconds_bucket.*le="0.0001"|tundra_timeouts_total|tundra_jitter_seconds|tundra_socket_mode)'
