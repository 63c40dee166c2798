#!/usr/bin/env bash
# bench/l7.sh - layer-7 census of the fake SharePoint farm: vigil vs Nmap vs masscan.
#
# Usage (root):  bash bench/l7.sh [--no-record] [--skip-vigil] [--skip-nmap] [--skip-masscan]
# Env:           VIGIL (default build/vigil), NMAP_MIN_RATE (20000), MASSCAN_RATE (list of rates,
#                one masscan run each; default "5000 20000": masscan loses banners and
#                even SYN-ACKs above ~5 kpps here),
#                L7_OUT (output dir, default a fresh /tmp/vigil-bench-l7.XXXXXX, kept)
#
# Sets up tests/lab/farm.sh on the whole 198.19.0.0/16 (lab "vigil-bench-l7"): TCP/80 open on
# the 8192 addresses whose last octet %8==0, TCP/443 (https) on the 1024 with last octet %64==0,
# every address serving the profile chosen by the farm (a fixed table on 198.19.0-5.x, the rest by
# the last digit of the third octet; `tests/lab/farm.sh counts` prints the expected mix). Then,
# all inside the scanner namespace (no default route), times:
#   (a) vigil scan 198.19.0.0/16 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 1 -o FILE
#       SharePoint found = records with "product":"sharepoint"; also checks every record's
#       toolshell.verdict against the farm's expected verdict.
#   (b) nmap -sS -p80,443 -n -Pn -T4 --min-rate $NMAP_MIN_RATE -e vs0 --script http-headers
#       198.19.0.0/16 -oX FILE   (-Pn: no host discovery; -n: no DNS; -e vs0: the lab veth;
#       --min-rate: the SYN stage at >= 20 kpps like the other tools; http-headers does one
#       HEAD/GET / per open port, over TLS on 443)
#   (c) masscan 198.19.0.0/16 -p80 --banners --source-ip 198.18.0.1 --source-port 61000
#       --router-mac <target veth MAC> --adapter vs0 --rate R --wait 10 -oJ FILE
#       masscan's user-mode TCP stack needs the kernel not to answer its SYN-ACKs with RSTs:
#       an nftables rule in the scanner namespace drops inbound TCP to port 61000 (the trick
#       from masscan's documentation; libpcap still sees the packets). Port 80 only: on 443
#       masscan --banners records the TLS certificate, not the HTTP response.
#   For Nmap and masscan a service counts as SharePoint when its captured response headers
#   contain MicrosoftSharePointTeamServices, SPRequestGuid or X-SharePointHealthScore (so the
#   farm's one generator-only profile is invisible to them: "expected (headers)").
# Prints a markdown table; when vigil ran, appends it with the exact commands to
# bench/RESULTS.md under "## L7 census (bench/l7.sh)" (unless --no-record).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VIGIL=${VIGIL:-build/vigil}
case "$VIGIL" in /*) ;; *) VIGIL="$ROOT/$VIGIL" ;; esac
NAME=vigil-bench-l7
NMAP_MIN_RATE=${NMAP_MIN_RATE:-20000}
MASSCAN_RATE=${MASSCAN_RATE:-"5000 20000"}
record=1 do_vigil=1 do_nmap=1 do_masscan=1
for a in "$@"; do
    case "$a" in
    --no-record) record=0 ;;
    --skip-vigil) do_vigil=0 ;;
    --skip-nmap) do_nmap=0 ;;
    --skip-masscan) do_masscan=0 ;;
    *) echo "usage: $0 [--no-record] [--skip-vigil] [--skip-nmap] [--skip-masscan]" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench/l7.sh: needs root (network namespaces, raw sockets)" >&2; exit 2; }

# shellcheck source=tests/lab/farm.sh
. "$ROOT/tests/lab/farm.sh"
OUT=${L7_OUT:-$(mktemp -d /tmp/vigil-bench-l7.XXXXXX)}
mkdir -p "$OUT"
trap 'farm_down "$NAME" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM
log() { echo "l7: $*" >&2; }

farm_up "$NAME" || { log "farm setup failed"; exit 1; }
SCAN_NS=$(lab_ns_scan "$NAME")
inns() { ip netns exec "$SCAN_NS" "$@"; }
now() { date +%s.%N; }

# expected mix and the address -> verdict mapping for the checks below
farm_expected_counts >"$OUT/expected_counts.txt"
exp_sp=$(awk '$1 == "sharepoint" && $2 == "all" { print $3 }' "$OUT/expected_counts.txt")
exp_hd=$(awk '$1 == "sharepoint-headers" && $2 == "all" { print $3 }' "$OUT/expected_counts.txt")
exp_hd80=$(awk '$1 == "sharepoint-headers" && $2 == "80" { print $3 }' "$OUT/expected_counts.txt")
exp_open=$(awk '$1 == "open" { print $3 }' "$OUT/expected_counts.txt")
farm_table >"$OUT/farm_table.txt"
for p in $(farm_profiles); do echo "$p $(farm_profile_field "$p" 12)"; done >"$OUT/farm_verdicts.txt"
echo "${FARM_DERIVED[*]}" >"$OUT/farm_derived.txt"
log "expected: $exp_open open services, $exp_sp SharePoint ($exp_hd with SharePoint headers, $exp_hd80 of them on port 80)"

rows=()     # markdown rows
cmds=()     # exact commands
vigil_ran=0

# ---- (a) vigil
VIGIL_CMD="vigil scan 198.19.0.0/16 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 1 -o $OUT/vigil.jsonl"
if [ $do_vigil -eq 0 ]; then
    :
elif "$VIGIL" scan --help 2>&1 | grep -q -- '--checks'; then
    log "vigil: $VIGIL_CMD"
    t0=$(now)
    inns "$VIGIL" scan 198.19.0.0/16 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 1 \
        -o "$OUT/vigil.jsonl" >"$OUT/vigil.stdout" 2>"$OUT/vigil.stderr"
    rc=$?
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    read -r v_open v_sp v_ok v_bad v_badjson < <(python3 - "$OUT" <<'PYEOF'
import json, sys
out = sys.argv[1]
spec = dict(l.split() for l in open(f'{out}/farm_table.txt'))
der = open(f'{out}/farm_derived.txt').read().split()
verd = dict(l.split() for l in open(f'{out}/farm_verdicts.txt'))
def expected(ip):
    p = spec.get(ip) or der[int(ip.split('.')[2]) % 10]
    return verd[p]
seen, sp, ok, bad, badjson = set(), 0, 0, 0, 0
mism = {}
try:
    lines = open(f'{out}/vigil.jsonl', errors='replace')
except OSError:
    lines = []
for l in lines:
    try:
        r = json.loads(l)
    except Exception:
        badjson += 1; continue
    k = (r.get('ip'), r.get('port'))
    if k in seen: continue
    seen.add(k)
    if r.get('product') == 'sharepoint': sp += 1
    v = (r.get('toolshell') or {}).get('verdict')
    e = expected(r.get('ip', ''))
    if v == e: ok += 1
    else:
        bad += 1; mism[(e, v)] = mism.get((e, v), 0) + 1
with open(f'{out}/vigil_mismatches.txt', 'w') as f:
    for (e, v), n in sorted(mism.items(), key=lambda x: -x[1]):
        f.write(f'expected {e} got {v}: {n}\n')
print(len(seen), sp, ok, bad, badjson)
PYEOF
    )
    note="exit $rc; verdict = farm's on $v_ok/$v_open records"
    [ "$v_bad" -gt 0 ] && note="$note ($(head -3 "$OUT/vigil_mismatches.txt" | paste -sd';' -))"
    [ "$v_badjson" -gt 0 ] && note="$note; $v_badjson invalid JSON lines"
    rows+=("| vigil --checks toolshell | 80,443 | $wall | $v_open / $exp_open | $v_sp | $exp_sp | $note |")
    cmds+=("$VIGIL_CMD")
    [ $rc -eq 0 ] && vigil_ran=1
else
    rows+=("| vigil --checks toolshell | 80,443 | - | - | - | $exp_sp | not run: build/vigil has no --checks yet |")
fi

# ---- (b) nmap
NMAP_ARGS=(-sS -p80,443 -n -Pn -T4 --min-rate "$NMAP_MIN_RATE" -e vs0 --script http-headers 198.19.0.0/16 -oX "$OUT/nmap.xml")
if [ $do_nmap -eq 1 ]; then
    log "nmap: nmap ${NMAP_ARGS[*]}"
    t0=$(now)
    timeout 3600 ip netns exec "$SCAN_NS" nmap "${NMAP_ARGS[@]}" >"$OUT/nmap.stdout" 2>"$OUT/nmap.stderr"
    rc=$?
    t1=$(now)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    read -r n_open n_sp < <(python3 - "$OUT/nmap.xml" <<'PYEOF'
import sys, xml.etree.ElementTree as E
keys = ('microsoftsharepointteamservices', 'sprequestguid', 'x-sharepointhealthscore')
o = n = 0
try:
    root = E.parse(sys.argv[1]).getroot()
except Exception:
    print(0, 0); sys.exit()
for h in root.iter('host'):
    for p in h.iter('port'):
        st = p.find('state')
        if st is None or st.get('state') != 'open': continue
        o += 1
        s = p.find("script[@id='http-headers']")
        if s is not None and any(k in s.get('output', '').lower() for k in keys): n += 1
print(o, n)
PYEOF
    )
    rows+=("| nmap -sS --script http-headers | 80,443 | $wall | $n_open / $exp_open | $n_sp | $exp_hd (headers) | exit $rc |")
    cmds+=("nmap ${NMAP_ARGS[*]}")
fi

# ---- (c) masscan (one run per rate in MASSCAN_RATE)
if [ $do_masscan -eq 1 ]; then
    inns nft -f - <<'EOF'
table inet bench_masscan {
    chain input {
        type filter hook input priority 0; policy accept;
        tcp dport 61000 drop
    }
}
EOF
    for mrate in $MASSCAN_RATE; do
        MASSCAN_ARGS=(198.19.0.0/16 -p80 --banners --source-ip "$LAB_SCAN_IP" --source-port 61000
            --router-mac "$LAB_TGT_MAC" --adapter vs0 --rate "$mrate" --wait 10 -oJ "$OUT/masscan.$mrate.json")
        log "masscan: masscan ${MASSCAN_ARGS[*]}"
        t0=$(now)
        timeout 1800 ip netns exec "$SCAN_NS" masscan "${MASSCAN_ARGS[@]}" >"$OUT/masscan.$mrate.stdout" 2>"$OUT/masscan.$mrate.stderr"
        rc=$?
        t1=$(now)
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
        read -r m_open m_ban m_sp < <(python3 - "$OUT/masscan.$mrate.json" <<'PYEOF'
import sys, json
keys = ('microsoftsharepointteamservices', 'sprequestguid', 'x-sharepointhealthscore')
opened, banner, sp = set(), set(), set()
try:
    text = open(sys.argv[1], errors='replace').read()
except OSError:
    text = ''
for l in text.splitlines():
    l = l.strip().rstrip(',')
    if not l.startswith('{'): continue
    try:
        r = json.loads(l)
    except Exception:
        continue
    for p in r.get('ports', []):
        k = (r.get('ip'), p.get('port'))
        if p.get('status') == 'open': opened.add(k)
        s = p.get('service') or {}
        if s.get('name') == 'http':
            banner.add(k)
            if any(x in s.get('banner', '').lower() for x in keys): sp.add(k)
print(len(opened), len(banner), len(sp))
PYEOF
        )
        rows+=("| masscan --banners --rate $mrate | 80 | $wall | $m_open / 8192 | $m_sp | $exp_hd80 (headers, port 80) | exit $rc; HTTP banners on $m_ban of $m_open open |")
        cmds+=("masscan ${MASSCAN_ARGS[*]}")
    done
    inns nft delete table inet bench_masscan 2>/dev/null
    cmds+=("(for masscan, the scanner ns has: nft add rule inet bench_masscan input tcp dport 61000 drop)")
fi

# ---- report
table=$(
    echo "| tool | ports | wall s | open found / expected | SharePoint found | SharePoint expected | notes |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
)
echo
echo "$table"
echo
echo "outputs in $OUT"

if [ $vigil_ran -eq 1 ] && [ $record -eq 1 ]; then
    R="$ROOT/bench/RESULTS.md"
    hdr="## L7 census (bench/l7.sh)"
    {
        # re-read the file right before appending: open a section unless ours is the last one
        [ -s "$R" ] || printf '# vigil benchmark results\n'
        last=$(grep '^## ' "$R" 2>/dev/null | tail -1)
        if [ "$last" != "$hdr" ]; then printf '\n%s\n\n' "$hdr"; else echo; fi
        echo "Run $(date -u +%Y-%m-%dT%H:%M:%SZ), vigil $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null), $(uname -r), $(nproc) CPUs,"
        echo "$(nmap --version 2>/dev/null | head -1), $(masscan --version 2>/dev/null | grep -m1 -o 'version [0-9.]*' | sed 's/^/masscan /')."
        echo "Farm: \`tests/lab/farm.sh\` on 198.19.0.0/16 ($exp_open open services: 8192 on 80, 1024 on 443 https), all in the scanner namespace."
        echo
        echo "$table"
        echo
        echo "Commands (inside \`ip netns exec $SCAN_NS\`):"
        echo
        for c in "${cmds[@]}"; do echo "    $c"; done
    } >>"$R"
    log "appended to bench/RESULTS.md"
fi
exit 0
