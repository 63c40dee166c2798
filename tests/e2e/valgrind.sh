#!/usr/bin/env bash
# e2e (SLOW, ~1-2 min): vigil under valgrind memcheck
#   valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite
# asserting no memory error and no definite leak for:
#   1. a connect-mode scan of one /24 of the lab (198.19.1.0/24, ports 80 and
#      443: nginx, plain HTTP on 443 so the TLS probe falls back) with --probe,
#      stored with --db
#   2. a connect-mode --probe scan of the hostile farm (tests/lab/hostile.py)
#      minus its three slow cases (tarpit, silent, cl_more: they only test
#      timeouts, already covered by tests/e2e/hostile.sh)
#   3. the index verbs reading the database of run 1 (search, count, stats,
#      host, scans)
# Skipped when $VIGIL is a sanitizer build (ASan and valgrind cannot be
# combined) or when VIGIL_SKIP_SLOW=1. Installs valgrind if it is missing.
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-valgrind
PY=$(command -v /usr/bin/python3 || command -v python3)

if [ -n "${VIGIL_SKIP_SLOW:-}" ]; then ok "# SKIP valgrind: slow test (VIGIL_SKIP_SLOW set)"; exit 0; fi
if ldd "$VIGIL" 2>/dev/null | grep -q 'libasan\|libubsan'; then
	ok "# SKIP valgrind: $VIGIL is a sanitizer build"; exit 0
fi
if ! command -v valgrind >/dev/null; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1; }
	command -v valgrind >/dev/null || { nok "setup: valgrind missing and could not be installed"; exit 1; }
fi
e2e_lab_up
VG=(valgrind --leak-check=full --error-exitcode=99 --errors-for-leak-kinds=definite --track-fds=no --quiet)

# vg LABEL NETNS|- ARGS...: vigil under valgrind (log in $WORK/LABEL.vg); sets RC
vg() {
	local label=$1 ns=$2; shift 2
	local pre=()
	[ "$ns" != - ] && pre=(ip netns exec "$ns")
	(cd "$WORK" && timeout -k 5 300 "${pre[@]}" "${VG[@]}" --log-file="$WORK/$label.vg" "$VIGIL" "$@" \
		>"$WORK/$label.out" 2>"$WORK/$label.err")
	RC=$?
}
# vg_check LABEL EXPECTED_RC [DISPLAY]
vg_check() {
	local label=$1 want=$2 show=${3:-$1} errs leaks
	errs=$(grep -m1 -o 'ERROR SUMMARY: [0-9]*' "$WORK/$label.vg" | grep -o '[0-9]*$')
	leaks=$(grep -m1 -o 'definitely lost: [0-9,]* bytes' "$WORK/$label.vg" | grep -o '[0-9,]* bytes')
	if [ "$RC" = "$want" ] && ! grep -q 'Invalid \|uninitialised\|definitely lost in\|Mismatched free\|Source and destination overlap' "$WORK/$label.vg"; then
		ok "$show: no valgrind error, no definite leak (exit $RC)"
	else
		nok "$show: exit $RC (99 = valgrind found errors; expected $want): $(grep -m6 -E 'Invalid|uninitialised|definitely lost|ERROR SUMMARY|at 0x|by 0x' "$WORK/$label.vg" | tr '\n' '|' | cut -c1-600)"
	fi
	echo "# $show: errors ${errs:-0}, definitely lost ${leaks:-0 bytes}"
}

# 1. a /24 of the lab, connect mode, --probe, --db
vg scan24 "$(lab_ns_scan "$E2E_NAME")" scan 198.19.1.0/24 -p 80,443 --mode connect --probe --allow-reserved \
	--rate 0 -o scan24.jsonl --db vg.db
vg_check scan24 0
n=$(grep -c . "$WORK/scan24.jsonl" 2>/dev/null)
[ "$n" = 36 ] && ok "scan24: 36 records (32 on port 80, 4 on 443)" || nok "scan24: $n records, expected 36"
"$PY" -c '
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if all((x.get("http") or {}).get("status") == 200 for x in r) else 1)' "$WORK/scan24.jsonl" \
	&& ok "scan24: every record has its HTTP 200" || nok "scan24: records without HTTP 200"

# 2. the hostile farm (fast cases)
ip netns exec "$(lab_ns_tgt "$E2E_NAME")" "$PY" "$E2E_ROOT/tests/lab/hostile.py" --dir "$WORK/farm" \
	--ready-file "$WORK/farm.ready" 2>"$WORK/farm.log" &
for _ in $(seq 1 300); do [ -f "$WORK/farm.ready" ] && break; sleep 0.1; done
if [ -f "$WORK/farm.ready" ]; then
	PORTS=$("$PY" "$E2E_ROOT/tests/lab/hostile.py" --list | awk '$3 != "tarpit" && $3 != "silent" && $3 != "cl_more" {print $1}' | paste -sd,)
	vg hostile "$(lab_ns_scan "$E2E_NAME")" scan 198.19.7.0 -p "$PORTS" --mode connect --probe --allow-reserved \
		--rate 0 --probe-timeout 3000 -o hostile.jsonl
	vg_check hostile 0
	n=$(grep -c . "$WORK/hostile.jsonl" 2>/dev/null)
	want=$(echo "$PORTS" | tr ',' '\n' | wc -l)
	[ "$n" = "$want" ] && ok "hostile: one record per port ($n)" || nok "hostile: $n records for $want ports"
else
	nok "setup: hostile farm did not start: $(tail -3 "$WORK/farm.log" | tr '\n' ' ')"
fi

# 3. index verbs
i=0
for args in "search ''" "search '' --json" "count ''" "stats '' --facets port,title,server" "host 198.19.1.0" "scans"; do
	i=$((i + 1))
	eval "vg index$i - $args --db vg.db"
	vg_check "index$i" 0 "vigil $args"
done
exit 0
