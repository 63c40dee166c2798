#!/usr/bin/env bash
# scripts/test.sh - the README's test command: installs dependencies, builds,
# runs the whole suite (unit + end-to-end in namespace labs), then the same
# suite under AddressSanitizer + UndefinedBehaviorSanitizer, then replays the
# fuzz corpora and fuzzes each parser briefly. Last line: "N passed, N failed".
# Needs root (network namespaces, raw sockets).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
total_p=0 total_f=0
tally() {  # parse the "N passed, N failed" line of a log
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	if [ -z "$line" ]; then p=0; f=1; fi
	total_p=$((total_p + p)); total_f=$((total_f + f))
}
log=$(mktemp)
echo "== build and test"
if make -s -j"$(nproc)" all; then
	make -s test 2>&1 | tee "$log"; tally "$log"
else
	total_f=$((total_f + 1))
fi
echo "== sanitizers (ASan + UBSan)"
if make -s -j"$(nproc)" BUILD=build-asan SANITIZE=1 OPT=-O1 all; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		make -s BUILD=build-asan SANITIZE=1 OPT=-O1 test >"$log" 2>&1
	sed 's/^/[asan] /' "$log"; tally "$log"
else
	total_f=$((total_f + 1))
fi
echo "== fuzz (corpus replay + ${FUZZ_SECONDS:-10} s per target)"
bash fuzz/run.sh "${FUZZ_SECONDS:-10}" 2>&1 | tee "$log"; tally "$log"
rm -f "$log"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
