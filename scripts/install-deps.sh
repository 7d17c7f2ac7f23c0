#!/usr/bin/env bash
# Installs what building and testing this project needs on Debian 12, and nothing twice:
# safe to run again. Swift itself (6.2 or newer) must already be on PATH or in /opt/swift.
set -euo pipefail

# Debian packages the build and the tests use. Each later capability adds its own here.
PACKAGES=(make git iproute2 tcpdump dpdk-dev librte-net-memif23 protobuf-compiler libprotobuf-dev libzmq3-dev python3-zmq python3-protobuf libseccomp-dev iputils-ping ethtool)

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "install-deps: swift is in /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "install-deps: Swift 6.2 or newer is required (https://www.swift.org/install/linux/)" >&2
  fi
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present (${PACKAGES[*]})"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
