#!/usr/bin/env bash
# The demo (`make demo`): the service on one machine. Three hosts as network namespaces,
# each with a real clickos-agent, one planner, CURVE keys (deploy/lab/lab up); then
#  1. chains/web.yaml (firewall -> NAT -> load balancer) applied and placed across hosts;
#  2. real curl requests and a UDP echo from the client through the chain to the two
#     backends: each answer's status line, which backend answered, the NAT address it saw;
#     a port the firewall denies;
#  3. `clickos chains`, `clickos hosts`, a few seconds of `clickos top` under traffic;
#  4. a chain VM killed with SIGKILL, and the time until HTTP answers again;
#  5. the lab taken down.
# Without root (no namespaces) it says so and runs the single-host demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ] || ! ip netns add clickos-demo-probe 2>/dev/null; then
    echo "make demo: the service demo needs root and network namespaces; running the single-host VM demo (make demo-vms) instead"
    exec bash scripts/demo-vms.sh
fi
ip netns del clickos-demo-probe
for p in clickos-vm clickos-agent clickos; do swift build -c release --product "$p" 2>&1 | tail -1; done
export CLICKOS_LAB=${CLICKOS_LAB:-/tmp/clickos-demo-lab}
LAB=deploy/lab/lab
$LAB down > /dev/null 2>&1 || true
trap '$LAB down > /dev/null 2>&1 || true' EXIT

echo
echo "== The lab: 3 hosts (namespaces), an agent on each, one planner, CURVE keys"
$LAB up --hosts 3

echo
echo "== 1. clickos apply chains/web.yaml"
$LAB cli apply chains/web.yaml
for _ in $(seq 100); do
    $LAB cli chains | grep -q "web *RUNNING" && break
    sleep 0.1
done

echo
echo "== 2. traffic from the client (10.1.0.10) to the virtual address 10.2.0.100"
for i in 1 2 3 4; do
    $LAB run client -- curl -s -m 3 -i http://10.2.0.100/ | tr -d '\r' | grep -E '^HTTP|answered' | paste -sd ' ' - \
        | sed 's/^/   curl: /' || echo "   curl: no answer"
done
$LAB run client -- python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(b"hello", ("10.2.0.100", 7)); print("   udp:", s.recvfrom(1000)[0].decode())'
if $LAB run client -- curl -s -m 2 http://10.2.0.100:8080/ > /dev/null; then
    echo "   unexpected: port 8080 went through the firewall" >&2
    exit 1
fi
echo "   curl to port 8080: no answer (the firewall lets only HTTP, UDP echo and ICMP through)"

echo
echo "== 3. clickos chains / clickos hosts / clickos top (under traffic)"
$LAB cli chains
echo
$LAB cli hosts
$LAB run client -- bash -c 'for i in $(seq 400); do curl -s -m 1 http://10.2.0.100/ > /dev/null; done' &
LOAD=$!
for _ in 1 2 3; do
    sleep 1.5
    echo
    $LAB cli top --once web
done
kill $LOAD 2> /dev/null || true
wait $LOAD 2> /dev/null || true

echo
echo "== 4. kill -9 the NAT's VM; the agent boots it again"
record=$(ls "$CLICKOS_LAB"/host*/vms/web-nat-0/vm.record | head -1)
pid=$(sed -n 's/^pid=//p' "$record")
kill -9 "$pid"
start=$(date +%s%N)
until $LAB run client -- curl -s -m 0.3 http://10.2.0.100/ > /dev/null; do
    [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 20000 ] || { echo "   HTTP did not come back in 20 s" >&2; exit 1; }
done
echo "   killed pid $pid; HTTP answered again after $(( ($(date +%s%N) - start) / 1000000 )) ms"

echo
echo "== 5. the lab goes down"
$LAB down
trap - EXIT
