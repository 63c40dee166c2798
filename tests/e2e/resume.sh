#!/usr/bin/env bash
# e2e: --resume. A scan at --rate 20000 is interrupted with SIGINT after ~1 s (exit 130, state
# file written), then continued with --resume; part1 + part2 must be disjoint and together equal
# the lab's expected set. Done for SYN (continued with only --resume, and with the same args
# repeated) and for connect mode.
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-resume
e2e_lab_up
NS=$(lab_ns_scan "$E2E_NAME")

# interrupted LABEL STATE OUT ARGS...: start vigil, SIGINT after 1 s, wait (bounded)
interrupted() {
    local label="$1" state="$2" out="$3"; shift 3
    ( cd "$WORK" && exec ip netns exec "$NS" "$VIGIL" scan "$@" --resume "$state" -o "$out" \
        >"$WORK/$label.p1.out" 2>"$WORK/$label.p1.err" ) &
    local pid=$! i
    sleep 1
    kill -INT "$pid" 2>/dev/null
    for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        nok "$label: vigil still running 30 s after SIGINT (killed)"
    fi
    wait "$pid"
    local rc=$?
    if [ "$rc" -eq 130 ]; then ok "$label: interrupted scan exits 130"; else
        nok "$label: interrupted scan exit $rc, expected 130 (stderr: $(tr '\n' '|' <"$WORK/$label.p1.err" | cut -c1-300))"; fi
    check "$label: state file $state exists after SIGINT" test -s "$WORK/$state"
    local n; n=$(grep -c . "$WORK/$out" 2>/dev/null || echo 0)
    if [ "$n" -gt 0 ] && [ "$n" -lt 8192 ]; then ok "$label: part 1 stopped mid-scan ($n found)"; else
        nok "$label: part 1 found $n, expected between 1 and 8191 (was the scan interrupted mid-way?)"; fi
}

TGT=(198.19.0.0/16 -p 80 --allow-reserved --rate 20000)

# SYN, continued with --resume only
interrupted syn-resume-only state1 part1.jsonl "${TGT[@]}" --mode syn --cooldown 1
scan scan --resume state1 -o part2.jsonl
check_rc "syn-resume-only: 'vigil scan --resume state1' exits 0" 0
jsonl_check "syn-resume-only: part1+part2" 80 "$WORK/part1.jsonl" "$WORK/part2.jsonl"

# SYN, continued with the same arguments repeated
interrupted syn-same-args state2 part1b.jsonl "${TGT[@]}" --mode syn --cooldown 1
scan scan "${TGT[@]}" --mode syn --cooldown 1 --resume state2 -o part2b.jsonl
check_rc "syn-same-args: resumed scan exits 0" 0
jsonl_check "syn-same-args: part1+part2" 80 "$WORK/part1b.jsonl" "$WORK/part2b.jsonl"

# connect mode, continued with --resume only
interrupted connect-resume-only state3 part1c.jsonl "${TGT[@]}" --mode connect --concurrency 2000
scan scan --resume state3 -o part2c.jsonl
check_rc "connect-resume-only: 'vigil scan --resume state3' exits 0" 0
jsonl_check "connect-resume-only: part1+part2" 80 "$WORK/part1c.jsonl" "$WORK/part2c.jsonl"
exit 0
