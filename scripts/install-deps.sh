#!/usr/bin/env bash
# Installs what building and testing this project needs on Debian 12, and nothing twice:
# safe to run again. Swift itself (6.2 or newer) must already be on PATH or in /opt/swift.
set -euo pipefail

# Debian packages the build and the tests use. Each later capability adds its own here.
PACKAGES=(make git iproute2 tcpdump dpdk-dev librte-net-memif23 protobuf-compiler libprotobuf-dev libzmq3-dev python3-zmq python3-protobuf libseccomp-dev iputils-ping ethtool python3-pip curl iperf3 iptables libxen-dev
  protobuf-c-compiler libprotobuf-c-dev gcc qemu-system-x86 linux-image-cloud-amd64)

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

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present (${PACKAGES[*]})"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# OR-Tools from PyPI for the placement-quality test (scripts/placement-optimum.py), in a
# directory of its own: its protobuf must not replace Debian's python3-protobuf, which the
# wire tests use.
ORTOOLS_DIR=/usr/local/lib/clickos-python
if ! PYTHONPATH="$ORTOOLS_DIR" /usr/bin/python3 -c 'import ortools' 2>/dev/null; then
  echo "install-deps: installing ortools 9.15 into $ORTOOLS_DIR"
  $SUDO /usr/bin/python3 -m pip install -q --target "$ORTOOLS_DIR" 'ortools==9.15.6755' \
    || echo "install-deps: ortools could not be installed (no PyPI?); the placement-quality test will say it skipped" >&2
fi
