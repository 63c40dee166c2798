#!/usr/bin/env bash
# e2e: faults around stored results (issue 5: "never loses stored results").
#  (a) kill -9 during a SYN scan of the lab (8192 open on port 80 over
#      198.19.0.0/16) writing to the index with --resume, then
#      `vigil scan --resume STATE --db DB`: the index must hold every open
#      port exactly once (vigil count; search --json checked for duplicates
#      and gaps). Once with SQLite, once with PostgreSQL (tests/lab/pg.sh,
#      Unix socket only). The kill comes ~2 s after the first checkpoint, so
#      records stored after the last checkpoint are in the database when the
#      resumed scan probes their targets again.
#  (b) disk full: the SQLite database on a 2 MiB tmpfs: one clear error line,
#      non-zero exit (not a crash), the database still opens and holds what
#      was stored; the same for -o JSON Lines on a full disk.
#  (c) PostgreSQL restarted (pg_restart) during a rate-limited scan: vigil
#      either reconnects and finishes with every open port stored once, or
#      stops with one clear error line and what was stored intact; the test
#      says which happened.
#  (d) output file safety: -o onto a planted symbolic link (existing or
#      dangling target, and on --resume) is refused with exit 2 and the
#      link's target untouched; files vigil creates are 0644 or stricter even
#      under umask 000.
. "$(dirname "$0")/../lab/e2e_lib.sh"
. "$(dirname "$0")/../lab/pg.sh"
e2e_init vigil-e2e-faults
PGDIR="$WORK/pg"
MNT="$WORK/full"
trap 'mountpoint -q "$MNT" && umount "$MNT"; pg_down "$PGDIR"; e2e_cleanup' EXIT
PY=$(command -v /usr/bin/python3 || command -v python3)
NS=$(lab_ns_scan "$E2E_NAME")
e2e_lab_up
PGURI=$(pg_up "$PGDIR") || { nok "setup: PostgreSQL cluster did not start"; exit 1; }
ok "setup: lab and PostgreSQL up"
lab_expected_80 >"$WORK/expected80"

# dupcheck QUERY DB: prints "rows distinct dups missing extra" against the lab's 8192
dupcheck() {
	"$VIGIL" search "$1" --db "$2" --json --limit 100000 2>"$WORK/dup.err" | "$PY" -c '
import collections, json, sys
c = collections.Counter()
for l in sys.stdin:
    d = json.loads(l)
    c[(d["ip"], d["port"])] += 1
exp = {(l.strip(), 80) for l in open(sys.argv[1]) if l.strip()}
got = set(c)
print(sum(c.values()), len(c), sum(v - 1 for v in c.values()), len(exp - got), len(got - exp))' "$WORK/expected80"
}

# bg_scan LABEL ARGS...: vigil in the scanner ns, in the background; PID = vigil's pid
bg_scan() {
	local label=$1; shift
	(cd "$WORK" && exec ip netns exec "$NS" "$VIGIL" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err") &
	PID=$!
}

alive() { grep -qs '^State:[[:space:]]*[^Z]' "/proc/$1/status"; }

# ---------------------------------------------------------------- (a) kill -9 + resume
kill_resume() {  # LABEL DB
	local label=$1 db=$2 i n rc st
	rm -f "$WORK/$label.state"
	bg_scan "$label" scan 198.19.0.0/16 -p 80 --allow-reserved --rate 4000 --cooldown 1 \
		--resume "$label.state" --db "$db" --scan-name "$label"
	for i in $(seq 1 150); do [ -s "$WORK/$label.state" ] && break; sleep 0.1; done
	sleep 2
	n=$("$VIGIL" count "scan:$label" --db "$db" 2>/dev/null)
	{ kill -9 "$PID"; wait "$PID"; } 2>/dev/null; rc=$?
	if [ "$rc" = 137 ] && [ -s "$WORK/$label.state" ]; then ok "$label: killed with SIGKILL mid-scan ($n services stored, state file checkpointed)"
	else nok "$label: setup: kill -9 did not hit a running scan (rc $rc, state $(wc -c <"$WORK/$label.state" 2>/dev/null) bytes)"; return; fi
	scan scan --resume "$label.state" --db "$db"
	check_rc "$label: vigil scan --resume $label.state --db ... exits 0" 0
	[ ! -e "$WORK/$label.state" ] && ok "$label: state file removed once the scan completed" || nok "$label: state file left behind"
	n=$("$VIGIL" count "scan:$label" --db "$db" 2>&1)
	read -r rows distinct dups missing extra < <(dupcheck "scan:$label" "$db")
	echo "# $label: count $n, search rows $rows, distinct $distinct, duplicates $dups, missing $missing, extra $extra"
	[ "$n" = 8192 ] && ok "$label: vigil count = 8192 (every open port once)" || nok "$label: vigil count = $n, expected 8192 ($dups duplicates, $missing missing)"
	[ "$missing" = 0 ] && [ "$extra" = 0 ] && ok "$label: every open port of the lab is stored (0 missing, 0 extra)" \
		|| nok "$label: $missing open ports missing, $extra unexpected"
	[ "$dups" = 0 ] && ok "$label: no service stored twice" \
		|| nok "$label: $dups services stored twice (rows stored after the last checkpoint before kill -9 are stored again by the resumed scan)"
	st=$("$VIGIL" scans --db "$db" --json 2>&1 | "$PY" -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
r = [x for x in rows if x["name"] == sys.argv[1]]
print("one-finished" if len(r) == 1 and r[0]["finished"] else "scans: %s" % r)' "$label")
	[ "$st" = one-finished ] && ok "$label: the resumed scan is the same stored scan, marked finished" || nok "$label: $st"
}
kill_resume killed-sqlite "$WORK/killed.db"
kill_resume killed-pg "$PGURI"

# ---------------------------------------------------------------- (b) disk full
mkdir -p "$MNT"
if mount -t tmpfs -o size=2m tmpfs "$MNT"; then
	# a finished scan first (32 services), then one that fills the disk; rate-limited
	# so its own batches (committed every few seconds) get stored before the disk fills
	scan scan 198.19.0.0/24 -p 80 --allow-reserved --rate 0 --cooldown 1 --db full/x.db --scan-name before
	[ "$RC" = 0 ] || nok "disk full: setup scan into the tmpfs failed: $(last_err)"
	scan scan 198.19.0.0/16 -p 80 --allow-reserved --rate 4000 --cooldown 1 --db full/x.db -o full-db.jsonl \
		--scan-name filler
	lines=$(grep -c . "$WORK/last.err")
	if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ] && [ "$lines" = 1 ]; then ok "disk full (SQLite): exit $RC, one error line: $(cat "$WORK/last.err")"
	else nok "disk full (SQLite): exit $RC, $lines stderr lines: $(last_err)"; fi
	"$VIGIL" scans --db "$WORK/full/x.db" >"$WORK/full.scans" 2>&1 && grep -q unfinished "$WORK/full.scans" \
		&& ok "disk full: the database still opens (vigil scans), scan marked unfinished" \
		|| nok "disk full: vigil scans: $(head -c 300 "$WORK/full.scans")"
	nb=$("$VIGIL" count 'scan:before' --db "$WORK/full/x.db" 2>&1)
	nf=$("$VIGIL" count 'scan:filler' --db "$WORK/full/x.db" 2>&1)
	n=$("$VIGIL" count '' --db "$WORK/full/x.db" 2>&1)
	echo "# disk full: earlier scan $nb services, the scan that filled the disk $nf services stored ($(grep -c . "$WORK/full-db.jsonl") found)"
	[ "$nb" = 32 ] && ok "disk full: the earlier scan's 32 services are intact" || nok "disk full: earlier scan holds '$nb' services, expected 32"
	[ "$nf" -gt 0 ] 2>/dev/null && ok "disk full: $nf services of the filling scan stored before the disk filled are readable" \
		|| nok "disk full: the filling scan stored '$nf' services before the disk filled (its batches were never committed)"
	"$PY" -c '
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
a = db.execute("SELECT count(*) FROM services").fetchone()[0]
b = db.execute("SELECT count(*) FROM records").fetchone()[0]
c = db.execute("SELECT count(*) FROM services_tags WHERE services_tags MATCH \x27port80\x27").fetchone()[0]
d = db.execute("SELECT coalesce(sum(n), 0) FROM facet_counts WHERE facet = \x27port\x27").fetchone()[0]
assert a == b == c == d == int(sys.argv[2]), (a, b, c, d)' "$WORK/full/x.db" "$n" 2>"$WORK/ic.err" \
		&& ok "disk full: integrity_check ok, every service has its record, tags and facet counts" || nok "disk full: database inconsistent: $(tail -1 "$WORK/ic.err")"
	rm -f "$WORK"/full/x.db*
	# JSON Lines on the full disk
	dd if=/dev/zero of="$MNT/filler" bs=1k count=1900 2>/dev/null
	scan scan 198.19.0.0/16 -p 80 --allow-reserved --rate 0 --cooldown 1 -o full/out.jsonl
	lines=$(grep -c . "$WORK/last.err")
	if [ "$RC" -ne 0 ] && [ "$RC" -lt 124 ] && [ "$lines" = 1 ]; then ok "disk full (-o): exit $RC, one error line: $(cat "$WORK/last.err")"
	else nok "disk full (-o): exit $RC, $lines stderr lines: $(last_err)"; fi
	"$PY" -c '
import json, sys
d = open(sys.argv[1], "rb").read()
for l in d.split(b"\n")[:-1]:
    json.loads(l)
print(d.count(b"\n"))' "$MNT/out.jsonl" >"$WORK/full.lines" 2>&1 \
		&& ok "disk full (-o): the $(cat "$WORK/full.lines") complete lines written are valid JSON" \
		|| nok "disk full (-o): invalid complete line: $(tail -1 "$WORK/full.lines")"
	umount "$MNT"
else
	nok "setup: cannot mount a tmpfs on $MNT"
fi

# ---------------------------------------------------------------- (c) PostgreSQL restart
bg_scan restart scan 198.19.0.0/16 -p 80 --allow-reserved --rate 4000 --cooldown 1 --db "$PGURI" \
	--scan-name restart -o restart.jsonl
for i in $(seq 1 100); do
	n=$("$VIGIL" count 'scan:restart' --db "$PGURI" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] 2>/dev/null && break; sleep 0.1
done
sleep 1
if pg_restart "$PGDIR"; then ok "PostgreSQL restarted mid-scan ($n services stored before)"; else nok "setup: pg_restart failed"; fi
for i in $(seq 1 600); do alive "$PID" || break; sleep 0.1; done
if alive "$PID"; then
	{ kill -9 "$PID"; wait "$PID"; } 2>/dev/null; nok "PostgreSQL restart: vigil still running 60 s after the restart (hang)"
fi
wait "$PID"; rc=$?
n=$("$VIGIL" count 'scan:restart' --db "$PGURI" 2>&1)
read -r rows distinct dups missing extra < <(dupcheck 'scan:restart' "$PGURI")
jl=$(grep -c . "$WORK/restart.jsonl")
echo "# PostgreSQL restart: exit $rc, stderr: $(tr '\n' '|' <"$WORK/restart.err"); JSON Lines $jl; stored $n (distinct $distinct, duplicates $dups, missing $missing)"
if [ "$rc" = 0 ]; then
	ok "PostgreSQL restart: outcome = vigil reconnected and finished (exit 0)"
	[ "$n" = 8192 ] && [ "$dups" = 0 ] && [ "$missing" = 0 ] && ok "PostgreSQL restart: every open port stored exactly once" \
		|| nok "PostgreSQL restart: reconnected but stored $n ($dups duplicates, $missing missing)"
elif [ "$rc" -lt 124 ]; then
	ok "PostgreSQL restart: outcome = vigil stopped (exit $rc) with: $(head -1 "$WORK/restart.err")"
	[ "$(grep -c . "$WORK/restart.err")" = 1 ] && ok "PostgreSQL restart: one clear error line" \
		|| nok "PostgreSQL restart: stderr is not one line: $(tr '\n' '|' <"$WORK/restart.err" | cut -c1-300)"
	[ "$n" -gt 0 ] 2>/dev/null && [ "$dups" = 0 ] && [ "$extra" = 0 ] \
		&& ok "PostgreSQL restart: $n services stored before the restart intact (no duplicates)" \
		|| nok "PostgreSQL restart: after the stop: count $n, $dups duplicates, $extra unexpected"
	"$VIGIL" scans --db "$PGURI" --json | "$PY" -c '
import json, sys
r = [x for x in map(json.loads, sys.stdin) if x["name"] == "restart"]
sys.exit(0 if len(r) == 1 and r[0]["finished"] is None else 1)' \
		&& ok "PostgreSQL restart: the scan is listed as unfinished" || nok "PostgreSQL restart: scan not listed as unfinished"
	echo "# PostgreSQL restart: $((jl - n)) services written to -o but not in the database (the open batch)"
else
	nok "PostgreSQL restart: vigil crashed or hung (exit $rc): $(tr '\n' '|' <"$WORK/restart.err" | cut -c1-300)"
fi
# every stored row is one the scan reported
"$VIGIL" search 'scan:restart' --db "$PGURI" --json --limit 100000 | "$PY" -c '
import json, sys
out = {(json.loads(l)["ip"], json.loads(l)["port"]) for l in open(sys.argv[1]) if l.strip()}
db = {(json.loads(l)["ip"], json.loads(l)["port"]) for l in sys.stdin}
sys.exit(0 if db <= out else 1)' "$WORK/restart.jsonl" \
	&& ok "PostgreSQL restart: every stored service is one the scan reported" || nok "PostgreSQL restart: stored services the scan never reported"

# ---------------------------------------------------------------- (d) output file safety
echo "precious" >"$WORK/victim"
ln -s victim "$WORK/link.jsonl"
scan scan 198.19.7.0 -p 80 --allow-reserved --cooldown 0.5 -o link.jsonl
[ "$RC" = 2 ] && [ "$(cat "$WORK/victim")" = precious ] && [ -L "$WORK/link.jsonl" ] \
	&& ok "-o onto a symlink refused (exit 2: $(cat "$WORK/last.err")), target untouched" \
	|| nok "-o onto a symlink: exit $RC, target now '$(head -c 80 "$WORK/victim")'"
ln -s nowhere "$WORK/dangling.jsonl"
scan scan 198.19.7.0 -p 80 --allow-reserved --cooldown 0.5 -o dangling.jsonl
[ "$RC" = 2 ] && [ ! -e "$WORK/nowhere" ] && ok "-o onto a dangling symlink refused (exit 2), nothing created" \
	|| nok "-o onto a dangling symlink: exit $RC, $(ls -la "$WORK/nowhere" 2>&1)"
# planted between an interrupted scan and its --resume
rm -f "$WORK/r.state" "$WORK/r.jsonl"
bg_scan rint scan 198.19.0.0/16 -p 80 --allow-reserved --rate 4000 --cooldown 1 --resume r.state -o r.jsonl
sleep 2; { kill -INT "$PID"; wait "$PID"; } 2>/dev/null
mv "$WORK/r.jsonl" "$WORK/r-first.jsonl"; ln -s victim "$WORK/r.jsonl"
scan scan --resume r.state
[ "$RC" = 2 ] && [ "$(cat "$WORK/victim")" = precious ] && ok "--resume onto an -o path replaced by a symlink refused (exit 2), target untouched" \
	|| nok "--resume with a planted symlink: exit $RC, target '$(head -c 80 "$WORK/victim")'"
# modes, even with umask 000
(cd "$WORK" && umask 000 && timeout 60 ip netns exec "$NS" "$VIGIL" scan 198.19.7.0 -p 80 --allow-reserved \
	--cooldown 0.5 -o mode.jsonl --db mode.db >/dev/null 2>&1)
for f in mode.jsonl mode.db; do
	m=$(stat -c %a "$WORK/$f" 2>/dev/null)
	[ -n "$m" ] && [ $((8#$m & 8#133)) = 0 ] && ok "$f created with mode $m (0644 or stricter) under umask 000" \
		|| nok "$f mode '$m' under umask 000 (expected 0644 or stricter)"
done
m=$(stat -c %a "$WORK/r.state" 2>/dev/null)
[ -n "$m" ] && [ $((8#$m & 8#177)) = 0 ] && ok "resume state file mode $m (0600 or stricter)" || nok "resume state file mode '$m'"
exit 0
