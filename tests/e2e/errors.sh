#!/usr/bin/env bash
# e2e: usage and environment errors. Each case must exit 2, print exactly one line on stderr
# and not crash (exit < 128). Everything runs inside a namespace with no interface up and no
# routes at all, and every target is either reserved (refused without --allow-reserved) or in
# 198.18.0.0/15, so no packet can leave even if a case were not refused.
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-errors
NS="${E2E_NAME}-bare"
E2E_EXTRA_NS="$NS"
ip netns del "$NS" 2>/dev/null
if ! ip netns add "$NS"; then nok "setup: ip netns add $NS"; exit 1; fi
if [ -n "$(ip -n "$NS" -4 route show table all 2>/dev/null)" ]; then nok "setup: $NS has routes"; exit 1; fi

# a copy of the binary that user nobody can execute
# $VIGIL is already a private copy in $WORK (mode 755), runnable by nobody

# expect_err DESC [--grep REGEX] [--as-nobody] ARGS...
expect_err() {
    local desc="$1"; shift
    local pre=() pat=""
    if [ "$1" = "--grep" ]; then pat="$2"; shift 2; fi
    if [ "$1" = "--as-nobody" ]; then pre=(setpriv --reuid=nobody --regid=nogroup --clear-groups); shift; fi
    (cd "$WORK" && timeout -k 5 60 ip netns exec "$NS" "${pre[@]}" "$WORK/vigil" "$@" \
        >"$WORK/err.out" 2>"$WORK/err.err" </dev/null)
    local rc=$? lines
    lines=$(wc -l <"$WORK/err.err")
    # a last line without a newline still counts as a line
    if [ -s "$WORK/err.err" ] && [ "$(tail -c1 "$WORK/err.err" | od -An -c | tr -d ' ')" != '\n' ]; then lines=$((lines + 1)); fi
    local msg; msg=$(tr '\n' '|' <"$WORK/err.err" | cut -c1-200)
    if [ "$rc" -ge 128 ]; then nok "$desc: crashed (exit $rc) stderr: $msg"; return; fi
    if [ "$rc" -eq 2 ]; then ok "$desc: exit 2"; else nok "$desc: exit $rc, expected 2 (stderr: $msg)"; fi
    if [ "$lines" -eq 1 ]; then ok "$desc: one line on stderr ($msg)"; else nok "$desc: $lines lines on stderr, expected 1: $msg"; fi
    if [ -n "$pat" ]; then
        if grep -Eqi -- "$pat" "$WORK/err.err"; then ok "$desc: message matches /$pat/"; else nok "$desc: message does not match /$pat/: $msg"; fi
    fi
}

expect_err "no targets" scan -p 80
expect_err "all targets reserved (10.0.0.0/8 without --allow-reserved)" scan 10.0.0.0/8 -p 80
expect_err "all targets excluded" scan 198.19.0.0/16 --exclude 198.19.0.0/16 --allow-reserved -p 80
expect_err "bad CIDR 198.19.0.1/33" scan 198.19.0.1/33 --allow-reserved -p 80
expect_err "-p 0" scan 198.19.0.1 --allow-reserved -p 0
expect_err "-p 65536" scan 198.19.0.1 --allow-reserved -p 65536
expect_err "-p 80-" scan 198.19.0.1 --allow-reserved -p 80-
expect_err "missing -p" scan 198.19.0.1 --allow-reserved
expect_err "unknown interface" --grep nosuch0 scan 198.19.0.1 --allow-reserved -p 80 --mode syn --interface nosuch0
expect_err "unwritable output (connect mode)" --grep /nonexistent/dir/x.jsonl scan 198.19.0.1 --allow-reserved -p 80 --mode connect -o /nonexistent/dir/x.jsonl
expect_err "bad --shard 3/3" scan 198.19.0.1 --allow-reserved -p 80 --shard 3/3
expect_err "unknown option" scan 198.19.0.1 --allow-reserved -p 80 --no-such-option
expect_err "SYN mode as nobody" --grep 'root|CAP_NET_RAW|privilege|permission' --as-nobody scan 198.19.0.1 --allow-reserved -p 80 --mode syn
exit 0
