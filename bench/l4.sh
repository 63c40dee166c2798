#!/usr/bin/env bash
# bench/l4.sh - layer-4 SYN scan benchmark: vigil vs ZMap vs masscan, plus vigil's memory.
#
# Usage (root):  bash bench/l4.sh [--record] [--skip-vigil] [--skip-zmap] [--skip-masscan] [--skip-rss]
# Env:  VIGIL (default build/vigil)   REPEAT (runs per configuration, default 1)
#       COOLDOWN (seconds every tool waits for late replies after sending, default 3)
#       MASSCAN_RATES (default "1000000 200000")  COMMON_RATE (a capped rate every tool also
#       runs at, default 100000; empty = none)    RSS_BOUND (seconds for the 127.0.0.0/8 run,
#       default 300; RSS_MODES default "syn connect")   L4_OUT (work dir, default a fresh /tmp/vigil-bench-l4.XXXXXX, kept)
#
# Lab: tests/lab/lab.sh, lab name "vigil-bench-l4". Target set 198.19.0.0/16 port 80, open on
# the 8192 addresses whose last octet % 8 == 0; closed ones answer RST. Every scan runs in the
# scanner namespace, which has no default route. Tools, one after another, same cooldown:
#   vigil   : vigil scan 198.19.0.0/16 -p 80 --mode syn --allow-reserved --interface vs0
#             --rate 0 --cooldown $COOLDOWN -o FILE            (0 = as fast as it can)
#   zmap    : zmap -C <empty conf> -b <empty blocklist> -p 80 -i vs0 -S 198.18.0.1
#             -G <vt0 MAC> -r 0 -c $COOLDOWN -o FILE 198.19.0.0/16
#             (the empty -C/-b override Debian's /etc/zmap config, whose blocklist holds
#             198.18.0.0/15; -r 0 = unlimited)
#   masscan : masscan 198.19.0.0/16 -p80 --adapter vs0 --adapter-ip 198.18.0.1
#             --router-mac <vt0 MAC> --rate R --wait $COOLDOWN -oL FILE
#             (masscan 1.3.2 here never exits after its --wait: it counts down into negative
#             seconds, a known masscan bug; the script waits for its "waiting -N-secs" status,
#             then sends SIGINT three times (results are flushed) and SIGKILL if needed. Its
#             wall time is measured to the first negative "waiting" status.)
# Columns:
#   wall      : start to exit (masscan: see above), including the cooldown
#   send      : the send window, from a 20 Hz sampler of vs0's tx_packets: first to last
#               sample in which more than 100 packets left (kernel RSTs answering SYN-ACKs
#               come within microseconds of the probes, so they do not stretch it)
#   raw tx    : vs0 tx packet delta minus the packets the scanner kernel sent itself (an
#               nft output-hook counter in the scanner ns; mostly RSTs to SYN-ACKs) = the
#               frames the tool injected: probes, plus masscan's own RSTs to SYN-ACKs
#   at target : pure SYNs from 198.18.0.1 counted by nft in the target ns = probes that
#               were sent and delivered (veth drops would show here)
#   probes/s  : at target / send
#   found     : distinct open ips reported, out of 8192; for vigil the set is compared
#               with the expected set (exact = found set == expected set)
#   max RSS   : /usr/bin/time -v of the tool's process
# Then vigil's max RSS for a 16,777,216-target scan: 127.0.0.0/8 port 80 in a namespace
# with only lo (tests/lab/lab.sh lab_lo_up), SYN mode on lo, --rate 0, bounded by RSS_BOUND
# seconds (SIGINT after that; the table says whether it finished).
# Prints a markdown snippet; with --record writes/replaces the "## L4" section of
# bench/RESULTS.md with it.
set -u
export LC_ALL=C
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VIGIL=${VIGIL:-build/vigil}
case "$VIGIL" in /*) ;; *) VIGIL="$ROOT/$VIGIL" ;; esac
NAME=vigil-bench-l4
REPEAT=${REPEAT:-1}
COOLDOWN=${COOLDOWN:-3}
MASSCAN_RATES=${MASSCAN_RATES:-"1000000 200000"}
COMMON_RATE=${COMMON_RATE-100000}
RSS_BOUND=${RSS_BOUND:-300}
record=0 do_vigil=1 do_zmap=1 do_masscan=1 do_rss=1
for a in "$@"; do
    case "$a" in
    --record) record=1 ;;
    --skip-vigil) do_vigil=0 ;;
    --skip-zmap) do_zmap=0 ;;
    --skip-masscan) do_masscan=0 ;;
    --skip-rss) do_rss=0 ;;
    *) echo "usage: $0 [--record] [--skip-vigil] [--skip-zmap] [--skip-masscan] [--skip-rss]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/l4.sh: needs root (network namespaces, raw sockets)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench/l4.sh: /usr/bin/time missing (apt-get install -y time)" >&2; exit 2; }

# shellcheck source=tests/lab/lab.sh
. "$ROOT/tests/lab/lab.sh"
OUT=${L4_OUT:-$(mktemp -d /tmp/vigil-bench-l4.XXXXXX)}
mkdir -p "$OUT"
S=$(lab_ns_scan "$NAME")
SAMPLER_PID=""
# run a private copy: build/vigil may be relinked by a concurrent make while the bench runs
if [ $do_vigil = 1 ]; then
    cp "$VIGIL" "$OUT/vigil" || { echo "bench/l4.sh: cannot copy $VIGIL" >&2; exit 2; }
    chmod 755 "$OUT/vigil"; VIGIL_SRC="$VIGIL"; VIGIL="$OUT/vigil"
fi
cleanup() {
    [ -n "$SAMPLER_PID" ] && kill "$SAMPLER_PID" 2>/dev/null
    lab_down "$NAME" >/dev/null 2>&1
    lab_lo_down "$NAME" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "l4: $*" >&2; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
lab_up "$NAME" || { log "lab setup failed"; exit 1; }
# count what the scanner's own kernel sends (RSTs to SYN-ACKs, ARP excluded)
ip netns exec "$S" nft -f - <<'EOF' || { log "nft in scanner ns failed"; exit 1; }
table inet vigil_bench {
    counter kout { }
    chain output { type filter hook output priority 0; policy accept; oifname "vs0" counter name kout; }
}
EOF
kout() { ip netns exec "$S" nft list counter inet vigil_bench kout | awk '/packets/ {for (i=1;i<=NF;i++) if ($i=="packets") print $(i+1)}'; }
txp() { ip netns exec "$S" cat /sys/class/net/vs0/statistics/tx_packets; }
: >"$OUT/empty"
lab_expected_80 | sort >"$OUT/expected80.txt"

ROWS=()
start_sampler() { # file
    ip netns exec "$S" bash -c 'while :; do echo "$EPOCHREALTIME $(</sys/class/net/vs0/statistics/tx_packets)"; sleep 0.05; done' >"$1" &
    SAMPLER_PID=$!
}
stop_sampler() { kill "$SAMPLER_PID" 2>/dev/null; wait "$SAMPLER_PID" 2>/dev/null; SAMPLER_PID=""; }
send_window() { # samples -> seconds between first and last interval with > 100 packets
    awk 'NR>1 { d=$2-p; if (d>100) { if (first=="") first=pt; last=$1 } } { p=$2; pt=$1 }
         END { if (first=="") print 0; else printf "%.3f", last-first }' "$1"
}
maxrss() { awk -F': ' '/Maximum resident set size/ {printf "%.1f MiB", $2/1024}' "$1" 2>/dev/null; }

# run_tool LABEL TOOL FOUNDFILE-kind CMD...  (CMD runs in the scanner ns under /usr/bin/time)
run_tool() {
    local label="$1" tool="$2"; shift 2
    local id; id=$(echo "$label" | tr -c 'A-Za-z0-9\n' '_')
    local tx0 k0 tx1 k1 t0 t1 wall rc a args=()
    for a in "$@"; do args+=("${a//@OUT@/$OUT/$id.out}"); done
    set -- "${args[@]}"
    lab_syn_reset "$NAME"
    tx0=$(txp); k0=$(kout)
    start_sampler "$OUT/$id.samples"
    sleep 0.2
    t0=$EPOCHREALTIME
    if [ "$tool" = masscan ]; then
        ( cd "$OUT" && exec ip netns exec "$S" /usr/bin/time -v -o "$OUT/$id.time" "$@" >"$OUT/$id.stdout" 2>"$OUT/$id.stderr" ) &
        local pid=$! i tend=""
        for i in $(seq 1 $(( (COOLDOWN + 120) * 10 ))); do
            kill -0 "$pid" 2>/dev/null || break
            if tr '\r' '\n' <"$OUT/$id.stderr" | grep -q 'waiting -'; then tend=$EPOCHREALTIME; break; fi
            sleep 0.1
        done
        # masscan's process is the child of /usr/bin/time; signal it by pid
        local mpid; mpid=$(pgrep -P "$pid" -x masscan | head -1)
        for i in 1 2 3; do [ -n "$mpid" ] && kill -INT "$mpid" 2>/dev/null; sleep 0.3; done
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        [ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && kill -KILL "$mpid" 2>/dev/null
        wait "$pid"; rc=$?
        t1=${tend:-$EPOCHREALTIME}
    else
        ( cd "$OUT" && exec ip netns exec "$S" /usr/bin/time -v -o "$OUT/$id.time" "$@" >"$OUT/$id.stdout" 2>"$OUT/$id.stderr" )
        rc=$?
        t1=$EPOCHREALTIME
    fi
    sleep 0.3
    stop_sampler
    tx1=$(txp); k1=$(kout)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b-a}')
    local send raw pps
    send=$(send_window "$OUT/$id.samples")
    raw=$(( (tx1 - tx0) - (k1 - k0) ))
    local syn
    syn=$(lab_syn_count "$NAME")
    pps=$(awk -v r="$syn" -v s="$send" 'BEGIN { if (s>0) printf "%.0f", r/s; else print "n/a" }')
    # found ips
    local found exact="-"
    case "$tool" in
    vigil) python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l=l.strip()
    if l: print(json.loads(l)["ip"])' "$OUT/$id.out" | sort >"$OUT/$id.ips" 2>/dev/null
        if cmp -s "$OUT/$id.ips" "$OUT/expected80.txt"; then exact=yes; else
            exact="no ($(comm -23 "$OUT/expected80.txt" "$OUT/$id.ips" | wc -l) missing, $(comm -13 "$OUT/expected80.txt" "$OUT/$id.ips" | wc -l) extra/dup)"; fi ;;
    zmap) sort "$OUT/$id.out" >"$OUT/$id.ips" ;;
    masscan) awk '$1=="open" {print $4}' "$OUT/$id.out" | sort >"$OUT/$id.ips" ;;
    esac
    found=$(sort -u "$OUT/$id.ips" | comm -12 - "$OUT/expected80.txt" | wc -l)
    local rss; rss=$(maxrss "$OUT/$id.time")
    log "$label: rc=$rc wall=${wall}s send=${send}s raw_tx=$raw pps=$pps at_target=$syn found=$found exact=$exact rss=$rss"
    ROWS+=("| $label | $wall | $send | $raw | $syn | $pps | $found / 8192 | $exact | $rss |")
}

for r in $(seq 1 "$REPEAT"); do
    if [ $do_vigil = 1 ]; then
        run_tool "vigil --rate 0 (#$r)" vigil "$VIGIL" scan 198.19.0.0/16 -p 80 --mode syn --allow-reserved \
            --interface vs0 --rate 0 --cooldown "$COOLDOWN" -o @OUT@
    fi
    if [ $do_zmap = 1 ]; then
        run_tool "zmap -r 0 (#$r)" zmap zmap -C "$OUT/empty" -b "$OUT/empty" -p 80 -i vs0 -S "$LAB_SCAN_IP" \
            -G "$LAB_TGT_MAC" -r 0 -c "$COOLDOWN" -o @OUT@ 198.19.0.0/16
    fi
    if [ $do_masscan = 1 ]; then
        for rate in $MASSCAN_RATES; do
            run_tool "masscan --rate $rate (#$r)" masscan masscan 198.19.0.0/16 -p80 --adapter vs0 \
                --adapter-ip "$LAB_SCAN_IP" --router-mac "$LAB_TGT_MAC" --rate "$rate" --wait "$COOLDOWN" \
                -oL @OUT@
        done
    fi
    if [ -n "$COMMON_RATE" ]; then
        [ $do_vigil = 1 ] && run_tool "vigil --rate $COMMON_RATE (#$r)" vigil "$VIGIL" scan 198.19.0.0/16 -p 80 \
            --mode syn --allow-reserved --interface vs0 --rate "$COMMON_RATE" --cooldown "$COOLDOWN" \
            -o @OUT@
        [ $do_zmap = 1 ] && run_tool "zmap -r $COMMON_RATE (#$r)" zmap zmap -C "$OUT/empty" -b "$OUT/empty" -p 80 \
            -i vs0 -S "$LAB_SCAN_IP" -G "$LAB_TGT_MAC" -r "$COMMON_RATE" -c "$COOLDOWN" \
            -o @OUT@ 198.19.0.0/16
    fi
done

# ---- vigil max RSS on 127.0.0.0/8 (16,777,216 targets) in a lo-only namespace
RSS_ROWS=()
if [ $do_rss = 1 ] && [ $do_vigil = 1 ]; then
    lab_lo_up "$NAME" || { log "lo namespace setup failed"; exit 1; }
    L=$(lab_ns_lo "$NAME")
    for mode in ${RSS_MODES:-syn connect}; do
        extra=()
        [ "$mode" = syn ] && extra=(--interface lo --cooldown 1)
        [ "$mode" = connect ] && extra=(--concurrency 2000 --timeout 500 --retries 0)
        log "127.0.0.0/8 $mode scan, bounded to ${RSS_BOUND}s"
        t0=$EPOCHREALTIME
        ( cd "$OUT" && exec ip netns exec "$L" /usr/bin/time -v -o "$OUT/lo_$mode.time" \
            timeout -s INT -k 30 "$RSS_BOUND" "$VIGIL" scan 127.0.0.0/8 -p 80 --mode "$mode" --allow-reserved \
            --rate 0 "${extra[@]}" --status -o "$OUT/lo_$mode.out" >"$OUT/lo_$mode.stdout" 2>"$OUT/lo_$mode.stderr" )
        rc=$?
        el=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b-a}')
        case $rc in
        0) fin="yes (exit 0)" ;;
        124 | 130) fin="no: SIGINT after ${RSS_BOUND} s (exit $rc)" ;;
        *) fin="exit $rc: $(tail -n1 "$OUT/lo_$mode.stderr" | tr '\r' ' ' | cut -c1-120)" ;;
        esac
        progress=$(tr '\r' '\n' <"$OUT/lo_$mode.stderr" | grep 'probes sent in' | tail -n1 | cut -c1-160)
        [ -n "$progress" ] || progress=$(tr '\r' '\n' <"$OUT/lo_$mode.stderr" | grep -v '^ *$' | tail -n1 | cut -c1-160)
        log "lo $mode: rc=$rc elapsed=${el}s rss=$(maxrss "$OUT/lo_$mode.time") last status: $progress"
        RSS_ROWS+=("| vigil scan 127.0.0.0/8 -p 80 --mode $mode --rate 0 ${extra[*]} | 16,777,216 | $fin | $el | $(maxrss "$OUT/lo_$mode.time") | ${progress//|/\\|} |")
    done
    lab_lo_down "$NAME"
fi

# ---- report
ver_vigil=$("$VIGIL" version 2>&1 | head -1)
[ -n "${VIGIL_SRC:-}" ] && ver_vigil="$ver_vigil ($(cd "$ROOT" && git log -1 --format=%h 2>/dev/null) tree)"
ver_zmap=$(zmap --version 2>&1 | head -1)
ver_masscan=$(masscan --version 2>&1 | grep -m1 -i 'version')
{
    echo "## L4 (bench/l4.sh)"
    echo
    echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs, kernel $(uname -r), load average at start $LOAD_START, at end $(cut -d' ' -f1-3 /proc/loadavg);"
    echo "$ver_vigil; $ver_zmap; ${ver_masscan}. Command: \`bash bench/l4.sh\` (REPEAT=$REPEAT, COOLDOWN=$COOLDOWN)."
    echo
    echo "Target: 198.19.0.0/16 port 80 in the namespace lab (tests/lab/lab.sh), open on the 8192 addresses"
    echo "with last octet % 8 == 0; one probe per address (no retries); cooldown $COOLDOWN s for every tool."
    echo "send = tx window of vs0 (20 Hz sampler of tx_packets); raw tx = vs0 tx delta minus the scanner"
    echo "kernel's own packets (nft output counter) = frames the tool injected (masscan's include its own"
    echo "RSTs); SYNs at target = probe SYNs counted by nft in the target namespace; probes/s = SYNs at"
    echo "target / send; exact = vigil's found set equals the expected set."
    echo "masscan 1.3.2 hangs after its --wait (known bug); its wall time is taken at its first negative"
    echo "\"waiting\" status and it is then stopped with SIGINT."
    if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
        echo "Caveat: the machine was busy with other work during this run (load average above); send rates"
        echo "and the other tools' losses vary from run to run, so compare rows of the same run."
    fi
    echo
    echo "| tool | wall s | send s | raw tx | SYNs at target | probes/s | found | exact | max RSS |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for r in "${ROWS[@]}"; do echo "$r"; done
    if [ ${#RSS_ROWS[@]} -gt 0 ]; then
        echo
        echo "vigil memory on 16,777,216 targets (127.0.0.0/8 port 80 in a namespace with only lo; nothing"
        echo "listens, so every probe gets a RST; bounded to $RSS_BOUND s):"
        echo
        echo "| command | targets | finished | elapsed s | max RSS | last status line |"
        echo "|---|---|---|---|---|---|"
        for r in "${RSS_ROWS[@]}"; do echo "$r"; done
    fi
} >"$OUT/l4.md"
cat "$OUT/l4.md"
log "work files kept in $OUT"

if [ $record = 1 ]; then
    res="$ROOT/bench/RESULTS.md"
    [ -f "$res" ] || echo "# vigil benchmarks" >"$res"
    # replace an existing "## L4" section (up to the next "## "), else append
    python3 - "$res" "$OUT/l4.md" <<'PY'
import sys
res, new = sys.argv[1], open(sys.argv[2]).read().rstrip("\n") + "\n"
lines = open(res).read().splitlines(keepends=True)
out, i, done = [], 0, False
while i < len(lines):
    if lines[i].startswith("## L4") and not done:
        i += 1
        while i < len(lines) and not lines[i].startswith("## "):
            i += 1
        out.append(new + "\n")
        done = True
        continue
    out.append(lines[i]); i += 1
if not done:
    if out and not out[-1].endswith("\n"):
        out.append("\n")
    out.append("\n" + new)
open(res, "w").write("".join(out))
PY
    log "recorded in bench/RESULTS.md"
fi
