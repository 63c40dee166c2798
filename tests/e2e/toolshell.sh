#!/usr/bin/env bash
# tests/e2e/toolshell.sh - `vigil scan --checks toolshell [--assume-breach]` against the fake
# SharePoint farm (tests/lab/farm.sh) in its own namespace lab "vigil-e2e-ts-PID".
#
# Scans the specific addresses of tests/lab/farm_expected.tsv on 80,443 (SYN mode,
# --rate 0 --cooldown 1) twice, without and with --assume-breach, and asserts:
#   * vigil exits 0; every output line is valid JSON; exactly one record per expected (ip, port);
#   * per (ip, port): product, edition, toolshell.verdict, version, version_source
#     (farm_expected.tsv; "-" = absent, the version may be a glob like 16*);
#   * toolshell.compromised is null without --assume-breach, and with it true only on the
#     planted web shell (false on the catch-all decoys, false or null on not-sharepoint);
#   * vulns agree with the verdict (from the CVE records: vulnerable -> CVE-2025-49706 and
#     -53770, july8-only -> -53770 but not -49704/-49706, patched -> none of the four);
#   * on 443: tls.cert.subject_cn = sharepoint.lab.test, tls.cert.sha256 = the farm
#     certificate's fingerprint (openssl x509 -fingerprint -sha256), both SANs;
#   * the fake machine keys (web shell and decoys) appear nowhere in what vigil wrote
#     (output dir, cwd, files under /tmp, /var/tmp, /dev/shm newer than the start);
#   * the farm's access log (what vigil actually requested): no POST, no ToolPane.aspx ever,
#     no spinstall without --assume-breach; with it, spinstall0.aspx was requested on the
#     compromised host.
# Needs root. Prints ok/not ok lines; exit 0.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VIGIL=${VIGIL:-build/vigil}
case "$VIGIL" in /*) ;; *) VIGIL="$ROOT/$VIGIL" ;; esac
NAME=vigil-e2e-ts-$$   # per process: concurrent runs (plain and ASan suites) do not collide
T=toolshell
TSV="$ROOT/tests/lab/farm_expected.tsv"

if [ "$(id -u)" -ne 0 ]; then echo "not ok - $T: needs root (network namespaces)"; exit 0; fi
if [ ! -x "$VIGIL" ]; then echo "not ok - $T: $VIGIL not built"; exit 0; fi
if ! "$VIGIL" scan --help 2>&1 | grep -q -- '--checks'; then
    echo "not ok - $T: vigil scan has no --checks option (layer-7 stage not built)"; exit 0
fi

# shellcheck source=tests/lab/farm.sh
. "$ROOT/tests/lab/farm.sh"
WORK=$(mktemp -d /tmp/vigil-e2e-ts.XXXXXX)
chmod 755 "$WORK"
cleanup() { farm_down "$NAME" >/dev/null 2>&1; rm -rf -- "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! farm_up "$NAME" >"$WORK/farm.log" 2>&1; then
    echo "not ok - $T: farm setup failed: $(tail -3 "$WORK/farm.log" | tr '\n' ' ')"; exit 0
fi
echo "ok - $T: farm up (lab $NAME)"
FD=$(farm_dir "$NAME")
ALOG=$(farm_access_log "$NAME")
KEYS="$FD/keys.only"   # the farm dir is excluded from the key search
farm_keys "$NAME" >"$KEYS"
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$(farm_cert "$NAME")" | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')
targets=$(awk '!/^#/ { print $1 }' "$TSV" | sort -u -V | paste -sd, -)
touch "$WORK/.stamp"
sleep 1  # coarse mtime granularity: files vigil writes are strictly newer

run_vigil() {  # dir extra-args...
    local dir="$WORK/$1"; shift
    mkdir -p "$dir"
    (cd "$dir" && timeout 300 ip netns exec "$(lab_ns_scan "$NAME")" "$VIGIL" scan "$targets" -p 80,443 \
        --checks toolshell --allow-reserved --rate 0 --cooldown 1 "$@" -o "$dir/out.jsonl" \
        >"$dir/stdout" 2>"$dir/stderr")
}

run_vigil run1
rc=$?
[ $rc -eq 0 ] && echo "ok - $T: vigil --checks toolshell exits 0" ||
    echo "not ok - $T: vigil --checks toolshell exits $rc: $(head -c 300 "$WORK/run1/stderr" | tr '\n' ' ')"
sleep 0.5
L1=$(wc -l <"$ALOG")

run_vigil run2 --assume-breach
rc=$?
[ $rc -eq 0 ] && echo "ok - $T: vigil --checks toolshell --assume-breach exits 0" ||
    echo "not ok - $T: vigil --checks toolshell --assume-breach exits $rc: $(head -c 300 "$WORK/run2/stderr" | tr '\n' ' ')"
sleep 0.5

# --- JSON assertions
python3 - "$TSV" "$WORK/run1/out.jsonl" "$WORK/run2/out.jsonl" "$fp" "$T" <<'PYEOF'
import json, sys, fnmatch
tsv, out1, out2, fp, T = sys.argv[1:6]
rows = []
for line in open(tsv):
    if line.startswith('#') or not line.strip():
        continue
    ip, port, prof, verdict, version, source, comp, edition = line.rstrip('\n').split('\t')
    rows.append(dict(ip=ip, port=int(port), profile=prof, verdict=verdict, version=version,
                     source=source, comp=comp, edition=edition))

def say(cond, msg, why=''):
    print(('ok - ' if cond else 'not ok - ') + T + ': ' + msg + ('' if cond or not why else ' (' + why + ')'))

def load(path, tag):
    recs, bad, n = {}, [], 0
    try:
        lines = open(path, encoding='utf-8', errors='replace').read().splitlines()
    except OSError as e:
        say(False, f'{tag}: output file exists', str(e))
        return None
    dups = []
    for i, l in enumerate(lines, 1):
        n += 1
        try:
            r = json.loads(l)
            if not isinstance(r, dict):
                raise ValueError('not an object')
        except Exception as e:
            bad.append(f'line {i}: {e}')
            continue
        k = (r.get('ip'), r.get('port'))
        if k in recs:
            dups.append(f'{k[0]}:{k[1]}')
        recs[k] = r
    say(n > 0 and not bad, f'{tag}: every line of the output is valid JSON ({n} lines)', '; '.join(bad[:3]) or 'empty')
    exp = {(r['ip'], r['port']) for r in rows}
    missing = sorted(f'{a}:{b}' for a, b in exp - set(recs))
    extra = sorted(f'{a}:{b}' for a, b in set(recs) - exp)
    say(not missing and not extra and not dups, f'{tag}: exactly one record per expected (ip, port) ({len(exp)})',
        f'missing {missing} extra {extra} duplicated {dups}')
    return recs

def g(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d

def classify(tag, recs):
    for e in rows:
        r = recs.get((e['ip'], e['port']))
        name = f"{tag}: {e['ip']}:{e['port']} {e['profile']}"
        if r is None:
            say(False, f"{name}: verdict {e['verdict']}", 'no record')
            continue
        errs = []
        sp = e['verdict'] != 'not-sharepoint'
        got = {'product': r.get('product'), 'edition': r.get('edition'),
               'verdict': g(r, 'toolshell', 'verdict'), 'version': r.get('version'),
               'version_source': r.get('version_source')}
        want = {'product': 'sharepoint' if sp else None,
                'edition': None if e['edition'] == '-' else e['edition'],
                'verdict': e['verdict'],
                'version': None if e['version'] == '-' else e['version'],
                'version_source': None if e['source'] == '-' else e['source']}
        for k in want:
            w, v = want[k], got[k]
            if k == 'version' and w is not None and any(c in w for c in '*?['):
                okk = isinstance(v, str) and fnmatch.fnmatchcase(v, w)
            elif k == 'edition' and w is None and not sp:
                okk = v is None
            elif k == 'edition' and w is None:
                okk = True          # edition unknown (generator only): anything or nothing
            else:
                okk = v == w
            if not okk:
                errs.append(f'{k}={json.dumps(v)} want {json.dumps(w)}')
        say(not errs, f"{name}: verdict {e['verdict']}, version {e['version']} from {e['source']}",
            '; '.join(errs))

def compromised(tag, recs, assume_breach):
    for e in rows:
        r = recs.get((e['ip'], e['port']))
        name = f"{tag}: {e['ip']}:{e['port']} {e['profile']}"
        ts = r.get('toolshell') if r else None
        has = isinstance(ts, dict) and 'compromised' in ts
        v = ts.get('compromised') if has else None
        if not assume_breach:
            say(has and v is None, f'{name}: compromised is null without --assume-breach',
                'toolshell.compromised missing' if not has else f'compromised={json.dumps(v)}')
        else:
            allowed = {'true': [True], 'false': [False], 'false|null': [False, None]}[e['comp']]
            ok = (has or None in allowed) and any(v is a for a in allowed)
            say(ok, f"{name}: compromised {e['comp']} with --assume-breach",
                'toolshell.compromised missing' if not has else f'compromised={json.dumps(v)} evidence={json.dumps(g(ts, "evidence"))}')

def vulns(tag, recs):
    errs = []
    for e in rows:
        r = recs.get((e['ip'], e['port']))
        if r is None:
            continue
        v = r.get('vulns') or []
        if not isinstance(v, list):
            errs.append(f"{e['ip']}:{e['port']} vulns not a list"); continue
        s = set(v)
        vd = e['verdict']
        need, never = set(), set()
        if vd == 'vulnerable':
            need = {'CVE-2025-49706', 'CVE-2025-53770'}
        elif vd == 'july8-only':
            need, never = {'CVE-2025-53770'}, {'CVE-2025-49704', 'CVE-2025-49706'}
        elif vd in ('patched', 'not-sharepoint'):
            never = {'CVE-2025-49704', 'CVE-2025-49706', 'CVE-2025-53770', 'CVE-2025-53771'}
        if not need <= s or s & never:
            errs.append(f"{e['ip']}:{e['port']} {vd} vulns={v}")
    say(not errs, f'{tag}: vulns agree with the verdicts', '; '.join(errs[:6]) + (' ...' if len(errs) > 6 else ''))

def tls(tag, recs):
    cn, sha, sans, no80, st = [], [], [], [], []
    for (ip, port), r in sorted(recs.items(), key=lambda x: str(x[0])):
        c = g(r, 'tls', 'cert')
        if port == 443:
            if g(c, 'subject_cn') != 'sharepoint.lab.test':
                cn.append(f'{ip}: {json.dumps(g(c, "subject_cn"))}')
            h = g(c, 'sha256')
            if not isinstance(h, str) or h.lower() != fp:
                sha.append(f'{ip}: {json.dumps(h)}')
            if not isinstance(g(c, 'sans'), list) or not {'sharepoint.lab.test', 'www.lab.test'} <= set(g(c, 'sans')):
                sans.append(f'{ip}: {json.dumps(g(c, "sans"))}')
        elif 'tls' in r:
            no80.append(ip)
        if g(r, 'http', 'status') != 200:
            st.append(f'{ip}:{port}: {json.dumps(g(r, "http", "status"))}')
    say(not cn, f'{tag}: tls.cert.subject_cn is sharepoint.lab.test on every 443 record', '; '.join(cn[:5]))
    say(not sha, f'{tag}: tls.cert.sha256 is the certificate fingerprint {fp[:16]}... on every 443 record', '; '.join(sha[:5]))
    say(not sans, f'{tag}: tls.cert.sans has sharepoint.lab.test and www.lab.test on every 443 record', '; '.join(sans[:5]))
    say(not no80, f'{tag}: no tls object on the plain-http port 80 records', ' '.join(no80[:5]))
    say(not st, f'{tag}: http.status is 200 on every record (every profile serves /)', '; '.join(st[:5]))

r1 = load(out1, 'run 1 (no --assume-breach)')
if r1 is not None:
    classify('run 1', r1); compromised('run 1', r1, False); vulns('run 1', r1); tls('run 1', r1)
r2 = load(out2, 'run 2 (--assume-breach)')
if r2 is not None:
    classify('run 2', r2); compromised('run 2', r2, True)
PYEOF

# --- secrets: the fake keys must appear nowhere vigil wrote
nkeys=$(wc -l <"$KEYS")
leaks=$( { grep -rlaiF -f "$KEYS" "$WORK" 2>/dev/null
    find /tmp /var/tmp /dev/shm -xdev -type f -newer "$WORK/.stamp" -size -100M \
        ! -path "$FD/*" ! -path "$WORK/*" ! -path '/tmp/bash_jobs*' -print0 2>/dev/null |
        xargs -0 -r grep -laiF -f "$KEYS" 2>/dev/null; } | sort -u | paste -sd' ' -)
if [ "$nkeys" -ne 4 ]; then
    echo "not ok - $T: the farm recorded 4 fake keys (got $nkeys)"
elif [ -z "$leaks" ]; then
    echo "ok - $T: the fake machine keys (web shell and decoys) appear in no file vigil wrote"
else
    echo "not ok - $T: the fake machine keys appear in: $leaks"
fi

# --- what vigil requested (the farm's access log)
if [ ! -s "$ALOG" ]; then
    echo "not ok - $T: the farm access log is empty (vigil sent no HTTP request)"
else
    n1=$(head -n "$L1" "$ALOG" | grep -ci 'spinstall')
    [ "$n1" -eq 0 ] && echo "ok - $T: without --assume-breach no request to a spinstall path ($L1 requests)" ||
        echo "not ok - $T: without --assume-breach $n1 requests to a spinstall path: $(head -n "$L1" "$ALOG" | grep -i spinstall | head -2 | tr '\n' ' ')"
    np=$(grep -c '"POST ' "$ALOG")
    [ "$np" -eq 0 ] && echo "ok - $T: no POST request in either run" ||
        echo "not ok - $T: $np POST requests: $(grep '"POST ' "$ALOG" | head -2 | tr '\n' ' ')"
    nt=$(grep -ci 'toolpane' "$ALOG")
    [ "$nt" -eq 0 ] && echo "ok - $T: no request to ToolPane.aspx in either run" ||
        echo "not ok - $T: $nt requests to ToolPane.aspx: $(grep -i toolpane "$ALOG" | head -2 | tr '\n' ' ')"
    n2=$(tail -n +"$((L1 + 1))" "$ALOG" | grep -c ' 198\.19\.4\.128:[0-9]* compromised "GET /_layouts/15/spinstall0\.aspx')
    [ "$n2" -gt 0 ] && echo "ok - $T: with --assume-breach spinstall0.aspx was requested on the compromised host" ||
        echo "not ok - $T: with --assume-breach spinstall0.aspx was never requested on the compromised host 198.19.4.128"
    nb=$(grep -vc '^198\.18\.0\.1 ' "$ALOG")
    [ "$nb" -eq 0 ] && echo "ok - $T: every request came from the scanner namespace" ||
        echo "not ok - $T: $nb requests from elsewhere"
fi
exit 0
