#!/usr/bin/env bash
# The demo of what exists so far:
#  1. a real chain function (the firewall) read, checked for Click-language errors and
#     flattened as `click-flatten` would;
#  2. configurations run by the Click runtime: packets generated, queued, counted;
#  3. a broken configuration reported with every error and Click's landmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
VM=.build/debug/clickos-vm
[ -x "$VM" ] || swift build --product clickos-vm

echo "== 1. chains/functions/firewall.click, flattened (ALLOW overridden on the command line)"
"$VM" --flatten -o - 'ALLOW=tcp dst port 443 or icmp' chains/functions/firewall.click
echo
echo "== 2. running: 3 packets through a queue, printed, then the counters"
"$VM" -e 'InfiniteSource(LIMIT 3, STOP true) -> q :: Queue -> Unqueue -> Print(pkt, 16) -> c :: Counter -> Discard' \
  -h c.count -h q.drops 2>&1
echo
echo "   and 5 million 64-byte packets through InfiniteSource -> Counter -> Discard (debug build):"
"$VM" -t -e 'InfiniteSource(LIMIT 5000000, BURST 64, LENGTH 64, STOP true) -> c :: Counter -> Discard' -h c.count 2>&1
echo
echo "== 3. a broken configuration: every error, with Click's file:line landmarks"
printf 'fw :: Queue(lots);\nfw :: Queue;\nInfiniteSource -> [x] Discard;\n' > /tmp/clickos-demo-broken.click
if "$VM" -q /tmp/clickos-demo-broken.click 2>&1; then
  echo "unexpected: the broken configuration was accepted" >&2
  exit 1
fi
echo "(exit status non-zero, as click's)"
