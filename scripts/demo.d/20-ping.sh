#!/usr/bin/env bash
# tundra ping: localhost over both families and a range of loopback addresses,
# rootless where the machine allows it (uid 65534 in a namespace whose
# ping_group_range is open); the host's own settings are never changed.
set -euo pipefail
T=${TUNDRA:-build/tundra}

if [ "$(id -u)" -eq 0 ]; then
  ns=tddemo-$$-$RANDOM
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip -n "$ns" link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
  run() { ip netns exec "$ns" setpriv --reuid=65534 --regid=65534 --clear-groups \
            --inh-caps=-all "$@"; }
  echo "# as uid $(run id -u) (nobody) in namespace $ns, ping_group_range open: no privilege"
else
  # Not root: a user+network namespace of our own, if the kernel allows it.
  run() { unshare -rn sh -c 'ip link set lo up; sysctl -qw net.ipv4.ping_group_range="0 2147483647"; "$@"' sh "$@"; }
  echo "# as $(id -un) in an unprivileged user+network namespace"
fi

echo "\$ tundra ping -c 3 -i 0.2 127.0.0.1"
run "$T" ping -c 3 -i 0.2 127.0.0.1
echo
echo "\$ tundra ping -c 3 -i 0.2 ::1"
run "$T" ping -c 3 -i 0.2 ::1
echo
echo "\$ tundra ping -q -c 3 -i 0.2 -g 127.0.0.1-127.0.0.8 ::1 --extra"
run "$T" ping -q -c 3 -i 0.2 -g 127.0.0.1-127.0.0.8 ::1 --extra
echo
echo "\$ tundra ping -c 1 --spacing 0 -g 127.10.0.0/22 --alive | wc -l   (1022 addresses)"
run "$T" ping -c 1 --spacing 0 -g 127.10.0.0/22 --alive | wc -l
echo
echo "\$ tundra ping -c 2 -i 0.2 --json 127.0.0.1   (NDJSON, schema tundra.ping/1)"
run "$T" ping -c 2 -i 0.2 --json 127.0.0.1
echo
echo "\$ tundra ping -c 200 -i 0.005 -q --histogram 127.0.0.1"
run "$T" ping -c 200 -i 0.005 -q --histogram 127.0.0.1
