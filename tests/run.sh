#!/usr/bin/env bash
# tests/run.sh - runs the unit tests and every end-to-end test script, and
# prints "N passed, N failed" last. Each test prints "ok - ..." or
# "not ok - ..." lines; a script that crashes without a verdict counts as a
# failure. Usage: VIGIL=build/vigil UNIT=build/test_unit bash tests/run.sh [FILTER]
set -u
cd "$(dirname "$0")/.."
export VIGIL=${VIGIL:-build/vigil}
UNIT=${UNIT:-build/test_unit}
filter=${1:-}
passed=0 failed=0
log=$(mktemp)
run_one() {  # name, command...
	local name=$1; shift
	echo "# running $name"
	local t0=$SECONDS
	"$@" >"$log" 2>&1
	local rc=$?
	echo "# $name took $((SECONDS - t0)) s"
	cat "$log"
	local p f
	p=$(grep -c '^ok - ' "$log")
	f=$(grep -c '^not ok - ' "$log")
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $name produced no verdict (exit $rc)"
		f=1
	elif [ "$rc" -ge 128 ]; then
		echo "not ok - $name died with signal $((rc - 128))"
		f=$((f + 1))
	fi
	passed=$((passed + p)); failed=$((failed + f))
}
if [ -z "$filter" ] || [ "$filter" = unit ]; then
	run_one unit "$UNIT"
fi
for t in tests/e2e/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ -n "$filter" ] && [ "$filter" != "$name" ]; then continue; fi
	run_one "$name" timeout 600 bash "$t"
done
rm -f "$log"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
