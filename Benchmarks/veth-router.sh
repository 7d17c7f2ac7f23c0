#!/usr/bin/env bash
# A Click IP router with ARP between a client and a server network namespace joined by veth
# pairs (issue 17), root: `make bench-veth` or `Benchmarks/veth-router.sh [PATH_TO_CLICK]`.
#
#   client (10.1.0.2) --veth-- [r0 10.1.0.1  router  r1 10.2.0.1] --veth-- server (10.2.0.2)
#
# The router namespace runs, in turn: Linux's own forwarding (addresses on r0/r1,
# ip_forward=1), `clickos-vm` with Benchmarks/ip-router.click (FromDevice/ToDevice on
# AF_PACKET, ARPQuerier, StaticIPLookup, Click's per-interface path), and, when a Click
# binary is given, Click's userlevel driver with the same file; `clickos-gso` is clickos-vm
# with FromDevice(..., GSO true), large segments passed on whole. For each: ping RTT (PINGS,
# default 20, 50 ms apart: median), iperf3 TCP (5 s), and a 10 MB HTTP GET with curl, first
# with the veth ends' offloads as Linux sets them up, then with `ethtool -K tx off rx off`.
# Rounds alternate between the engines; medians over ROUNDS (default 3). ENGINES and
# OFFLOADS ("on off") pick a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
CLICK=${1:-}
VM=${CLICKOS_VM:-.build/release/clickos-vm}
ROUNDS=${ROUNDS:-3}
P=${VR_PREFIX:-vr}
WORK=$(mktemp -d /tmp/veth-router.XXXXXX)
engine_pid=""

down() {
    [ -n "$engine_pid" ] && kill "$engine_pid" 2>/dev/null && wait "$engine_pid" 2>/dev/null || true
    [ -f "$WORK/iperf.pid" ] && kill "$(cat "$WORK/iperf.pid")" 2>/dev/null || true
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    for n in client router server; do ip netns del "$P-$n" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap down EXIT
down; WORK=$(mktemp -d /tmp/veth-router.XXXXXX)

nsx() { local n=$1; shift; ip netns exec "$P-$n" "$@"; }
for n in client router server; do ip netns add "$P-$n"; nsx $n ip link set lo up; done
ip link add c0 netns "$P-client" type veth peer name r0 netns "$P-router"
ip link add s0 netns "$P-server" type veth peer name r1 netns "$P-router"
for x in "client c0" "router r0" "router r1" "server s0"; do set -- $x; nsx $1 ip link set $2 up; done
nsx client ip addr add 10.1.0.2/24 dev c0; nsx client ip route add default via 10.1.0.1
nsx server ip addr add 10.2.0.2/24 dev s0; nsx server ip route add default via 10.2.0.1
for x in "client c0" "router r0" "router r1" "server s0"; do set -- $x; nsx $1 sysctl -qw net.ipv6.conf.$2.disable_ipv6=1; done

offloads_to() { local m=$1; for x in "client c0" "router r0" "router r1" "server s0"; do set -- $x; nsx $1 ethtool -K $2 tx "$m" rx "$m" >/dev/null 2>&1 || true; done; }

sed -e "s/R0_MAC/$(nsx router cat /sys/class/net/r0/address)/g" -e "s/R1_MAC/$(nsx router cat /sys/class/net/r1/address)/g" \
    Benchmarks/ip-router.click > "$WORK/router.click"
sed -e 's/FromDevice(\(r[01]\))/FromDevice(\1, GSO true)/' "$WORK/router.click" > "$WORK/router-gso.click"
head -c 10000000 /dev/urandom > "$WORK/blob"
nsx server iperf3 -s -D -p 5201 --pidfile "$WORK/iperf.pid" > /dev/null
# Not `python3 -m http.server`: its main looks the bind address up in DNS, which here goes
# through the router to nowhere and stalls the first requests.
(cd "$WORK" && exec ip netns exec "$P-server" python3 -c '
import http.server, socketserver
class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "10.2.0.2", 8080
Server(("10.2.0.2", 8080), http.server.SimpleHTTPRequestHandler).serve_forever()' > /dev/null 2>&1) &
server_pid=$!

start() {  # linux | clickos | click
    case $1 in
    linux)
        nsx router ip addr add 10.1.0.1/24 dev r0; nsx router ip addr add 10.2.0.1/24 dev r1
        nsx router sysctl -qw net.ipv4.ip_forward=1 ;;
    clickos) ip netns exec "$P-router" "$VM" "$WORK/router.click" > "$WORK/engine.log" 2>&1 & engine_pid=$! ;;
    clickos-gso) ip netns exec "$P-router" "$VM" "$WORK/router-gso.click" > "$WORK/engine.log" 2>&1 & engine_pid=$! ;;
    click) ip netns exec "$P-router" "$CLICK" "$WORK/router.click" > "$WORK/engine.log" 2>&1 & engine_pid=$! ;;
    esac
    # ARP caches cleared so that every engine answers its own ARP.
    nsx client ip neigh flush dev c0; nsx server ip neigh flush dev s0
    for _ in $(seq 100); do nsx client ping -c 1 -W 0.2 10.2.0.2 > /dev/null 2>&1 && return 0; done
    echo "veth-router: $1 does not forward" >&2; cat "$WORK/engine.log" >&2 || true; return 1
}
stop() {
    case $1 in
    linux) nsx router sysctl -qw net.ipv4.ip_forward=0; nsx router ip addr flush dev r0; nsx router ip addr flush dev r1 ;;
    *) kill "$engine_pid"; wait "$engine_pid" 2>/dev/null || true; engine_pid="" ;;
    esac
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
rtt() { nsx client ping -c "${PINGS:-20}" -i 0.05 -W 1 10.2.0.2 | sed -n 's/.*time=\([0-9.]*\).*/\1/p' | median; }
tcp() { nsx client iperf3 -c 10.2.0.2 -p 5201 -t 5 -J 2>/dev/null | python3 -c 'import json,sys
try: print(round(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9, 3))
except Exception: print(0)'; }
http() { local s; s=$(nsx client curl -s -m 20 -o /dev/null -w '%{speed_download}' http://10.2.0.2:8080/blob || true); awk -v s="${s:-0}" 'BEGIN {printf "%.3f\n", s * 8 / 1e9}'; }

engines="linux clickos clickos-gso"
[ -n "$CLICK" ] && engines="linux click clickos clickos-gso"
engines=${ENGINES:-$engines}
for mode in ${OFFLOADS:-on off}; do
    offloads_to "$mode"
    declare -A R=()
    for round in $(seq 0 "$ROUNDS"); do
        for e in $engines; do
            start "$e"
            r=$(rtt); t=$(tcp); h=$(http)
            stop "$e"
            # Round 0 warms up.
            [ "$round" -gt 0 ] && R[$e]+="$r $t $h;"
        done
    done
    for e in $engines; do
        col() { echo "${R[$e]}" | tr ';' '\n' | awk -v c="$1" 'NF {print $c}' | median; }
        all() { echo "${R[$e]}" | tr ';' '\n' | awk -v c="$1" 'NF {printf "%s ", $c}'; }
        printf 'veth router, offloads %-3s %-11s ping RTT p50 %s ms (%s)  TCP %s Gb/s (%s)  HTTP 10 MB %s Gb/s (%s)\n' \
            "$mode" "$e" "$(col 1)" "$(all 1)" "$(col 2)" "$(all 2)" "$(col 3)" "$(all 3)"
    done
    unset R
done
