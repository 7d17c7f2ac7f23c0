#!/usr/bin/env bash
# The demo of what exists so far: clickos-vm reads a real chain function written in the
# Click language, checks it, and prints the flat configuration Click itself would print
# (`click -qo-`), with a command-line definition overriding the file's own.
set -euo pipefail
cd "$(dirname "$0")/.."
VM=.build/debug/clickos-vm
[ -x "$VM" ] || swift build --product clickos-vm

echo "== chains/functions/firewall.click, flattened (ALLOW overridden on the command line)"
"$VM" -q -o - 'ALLOW=tcp dst port 443 or icmp' chains/functions/firewall.click
echo
echo "== a broken configuration: every error, with Click's file:line landmarks"
printf 'fw :: IPFilter(allow tcp);\nfw :: Queue;\nfw -> [x] Discard;\n' > /tmp/clickos-demo-broken.click
if "$VM" -q /tmp/clickos-demo-broken.click 2>&1; then
  echo "unexpected: the broken configuration was accepted" >&2
  exit 1
fi
echo "(exit status non-zero, as click's)"
