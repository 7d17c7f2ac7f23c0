#!/usr/bin/env bash
# Runs Click's own test suite with clickos-vm standing in for `click`, and counts how many of
# the tests Click itself passes here pass with clickos-vm too.
#
#   scripts/click-conformance.sh CLICK_CHECKOUT [TEST.clicktest ...]
#
# CLICK_CHECKOUT is a kohler/click source tree: its test/clicktest script and test/**/
# *.clicktest files are used as they are. When Click's userlevel tools are built there (in
# bin/, as `make install-local` or the tree's own build leaves them; or userlevel/click), the
# same tests run against Click first, for the baseline; otherwise every test counts. Nothing
# of Click is copied into this repository, and this script builds nothing of Click.
#
# clickos-vm is $CLICKOS_VM, else .build/debug/clickos-vm (built if missing). The stand-ins,
# in a temporary PATH directory: `click` (clickos-vm), `click-flatten` (clickos-vm
# --flatten -o -), and `click-buildtool provides CLASS...` (true when clickos-vm knows every
# CLASS, which is how the tests ask whether an element exists).
#
# Output: one line per test that Click passes and clickos-vm does not, then the counts.
# RESULTS (default: .build/click-conformance) keeps both runs' logs and the lists;
# REUSE_BASELINE=1 takes Click's list from there instead of running Click again.
# TEST_TIMEOUT (default 20) is clicktest's limit per test, in seconds.
set -euo pipefail

if [ $# -lt 1 ] || [ ! -f "$1/test/clicktest" ]; then
    echo "usage: $0 CLICK_CHECKOUT [TEST.clicktest ...]   (a kohler/click source tree with test/clicktest)" >&2
    exit 2
fi
click_tree=$(cd "$1" && pwd)
shift
root=$(cd "$(dirname "$0")/.." && pwd)
results=${RESULTS:-$root/.build/click-conformance}
timeout=${TEST_TIMEOUT:-20}
mkdir -p "$results"

vm=${CLICKOS_VM:-$root/.build/debug/clickos-vm}
if [ ! -x "$vm" ]; then
    (cd "$root" && swift build --product clickos-vm >&2)
fi

# The tests: those named, or every one except the Linux kernel module's.
if [ $# -gt 0 ]; then
    tests=("$@")
else
    mapfile -t tests < <(cd "$click_tree/test" && find . -name '*.clicktest' -not -path './linuxmodule/*' | sed 's|^\./||' | sort)
    tests=("${tests[@]/#/$click_tree/test/}")
fi

stand_ins=$(mktemp -d)
trap 'rm -rf "$stand_ins"' EXIT
cat > "$stand_ins/click" <<EOF
#!/bin/sh
exec "$vm" "\$@"
EOF
cat > "$stand_ins/click-flatten" <<EOF
#!/bin/sh
exec "$vm" --flatten -o - "\$@"
EOF
cat > "$stand_ins/click-buildtool" <<EOF
#!/bin/sh
# Only "provides CLASS...": true when clickos-vm has every class.
[ "\$1" = provides ] || exit 1
shift
for class in "\$@"; do
    "$vm" --doc "\$class" >/dev/null 2>&1 || exit 1
done
exit 0
EOF
chmod +x "$stand_ins"/*

# Runs the tests with PATH starting at $1; writes the passing tests to $2 and the log to $3.
run_suite() {
    local path=$1 passed=$2 log=$3
    (cd "$results" && perl "$click_tree/test/clicktest" -V -p "$path" -t "$timeout" "${tests[@]}" > "$log" 2>&1) || true
    sed -n 's/^\(.*\.clicktest\): Success!$/\1/p' "$log" | sed "s|^$click_tree/test/||" | sort -u > "$passed"
}

click_bin=""
for d in "$click_tree/bin" "$click_tree/userlevel"; do
    if [ -x "$d/click" ]; then click_bin=$d; break; fi
done
if [ -n "${REUSE_BASELINE:-}" ] && [ -s "$results/click-passes" ]; then
    echo "Click: reusing the baseline in $results/click-passes" >&2
elif [ -n "$click_bin" ]; then
    if [ ! -x "$click_bin/click-buildtool" ] && [ -x "$click_tree/click-buildtool" ]; then
        echo "note: $click_bin has no click-buildtool; tests that ask for elements will be skipped under Click" >&2
    fi
    echo "Click: running ${#tests[@]} tests with $click_bin/click ..." >&2
    run_suite "$click_bin" "$results/click-passes" "$results/click.log"
else
    echo "Click's userlevel driver is not built in $click_tree: every test counts" >&2
    printf '%s\n' "${tests[@]}" | sed "s|^$click_tree/test/||" | sort -u > "$results/click-passes"
fi

echo "clickos-vm: running ${#tests[@]} tests with $vm ..." >&2
run_suite "$stand_ins" "$results/clickos-passes" "$results/clickos.log"

comm -23 "$results/click-passes" "$results/clickos-passes" > "$results/failing"
comm -13 "$results/click-passes" "$results/clickos-passes" > "$results/clickos-only"
click_count=$(wc -l < "$results/click-passes")
both=$(comm -12 "$results/click-passes" "$results/clickos-passes" | wc -l)
sed 's/^/not passing: /' "$results/failing"
if [ -s "$results/clickos-only" ]; then
    sed 's/^/passes here, not in Click: /' "$results/clickos-only"
fi
percent=$(( click_count > 0 ? both * 1000 / click_count : 0 ))
printf 'Click passes %d of %d tests; clickos-vm passes %d of those (%d.%d%%). Logs and lists: %s\n' \
    "$click_count" "${#tests[@]}" "$both" $((percent / 10)) $((percent % 10)) "$results"
