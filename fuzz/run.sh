#!/usr/bin/env bash
# fuzz/run.sh SECONDS - builds the libFuzzer targets (clang), replays each
# committed corpus (a crash on a known input fails), then fuzzes each target
# for SECONDS. Prints "ok"/"not ok" per target and "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
secs=${1:-20}
passed=0 failed=0
if ! make -s fuzz >/tmp/vigil-fuzz-build.log 2>&1; then
	cat /tmp/vigil-fuzz-build.log
	echo "not ok - fuzz: build"
	echo "0 passed, 1 failed"
	exit 1
fi
for bin in build-fuzz/fuzz_*; do
	name=$(basename "$bin"); name=${name#fuzz_}
	corpus=fuzz/corpus/$name
	work=$(mktemp -d)
	if "$bin" -runs=0 "$corpus" >"$work/replay.log" 2>&1 &&
	   "$bin" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
		"$work" "$corpus" >"$work/fuzz.log" 2>&1; then
		echo "ok - fuzz: $name ($(grep -o 'Done [0-9]* runs' "$work/fuzz.log" | tail -1 || true), no crash in ${secs} s)"
		passed=$((passed + 1))
	else
		tail -30 "$work"/*.log
		echo "not ok - fuzz: $name crashed (reproducer in $work)"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
