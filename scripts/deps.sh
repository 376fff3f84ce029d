#!/usr/bin/env bash
# Install the Debian packages tundra needs to build, test and benchmark.
# As root: apt-get update, then install what is missing. Otherwise print the
# exact command and stop.
set -euo pipefail

PKGS=(
  gcc make clang llvm-14 libclang-rt-14-dev cppcheck clang-tidy pkg-config
  libc6-dev libcmocka-dev libyaml-dev musl-tools
  python3 python3-pytest python3-pytest-timeout python3-scapy
  iproute2 iputils-ping fping oping tshark curl procps libcap2-bin bc time
  prometheus prometheus-smokeping-prober liblwip-dev slirp4netns iperf3
  libnss-myhostname
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "tundra needs these Debian packages: ${missing[*]}" >&2
  echo "run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
