#!/usr/bin/env bash
# e2e: scan -> store -> search, on SQLite and on a private PostgreSQL
# cluster (Unix socket only); every query returns the same answer on both
# backends; bad queries fail with one line; kill -9 during a write leaves the
# SQLite database consistent with the scan marked unfinished.
. "$(dirname "$0")/../lab/e2e_lib.sh"
. "$(dirname "$0")/../lab/farm.sh"
. "$(dirname "$0")/../lab/pg.sh"
e2e_init vigil-e2e-store
PGDIR="$WORK/pg"
trap 'pg_down "$PGDIR"; farm_down "$E2E_NAME" >/dev/null 2>&1; e2e_cleanup' EXIT
if ! farm_up "$E2E_NAME" >"$WORK/farm.log" 2>&1; then nok "setup: farm_up: $(tail -3 "$WORK/farm.log" | tr '\n' ' ')"; exit 1; fi
PGURI=$(pg_up "$PGDIR") || { nok "setup: PostgreSQL cluster did not start"; exit 1; }
ok "setup: farm and PostgreSQL up"

SQ="$WORK/v.db"
# one census, stored in both backends (and as JSON Lines for comparison)
scan scan 198.19.0.0/20 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 1 \
	--db "$SQ" --scan-name census -o census.jsonl
[ "$RC" = 0 ] && ok "scan into SQLite exits 0" || nok "scan into SQLite exits 0 (rc $RC: $(head -c 300 "$WORK/last.err"))"
scan scan 198.19.0.0/20 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 1 \
	--db "$PGURI" --scan-name census
[ "$RC" = 0 ] && ok "scan into PostgreSQL exits 0" || nok "scan into PostgreSQL exits 0 (rc $RC: $(head -c 300 "$WORK/last.err"))"

lines=$(wc -l <"$WORK/census.jsonl")
n_sq=$("$VIGIL" count '' --db "$SQ")
n_pg=$("$VIGIL" count '' --db "$PGURI")
[ "$n_sq" = "$lines" ] && ok "SQLite holds every record ($n_sq)" || nok "SQLite holds $n_sq records, scan wrote $lines"
[ "$n_pg" = "$lines" ] && ok "PostgreSQL holds every record ($n_pg)" || nok "PostgreSQL holds $n_pg records, scan wrote $lines"

# expected counts computed from the JSON Lines with python, compared with both backends
expect() {  # QUERY PYTHON-PREDICATE-ON-d
	python3 - "$WORK/census.jsonl" "$2" <<'PY'
import json, sys
pred = eval("lambda d: " + sys.argv[2])
print(sum(1 for l in open(sys.argv[1]) if pred(json.loads(l))))
PY
}
q() {  # QUERY PREDICATE
	local want got_sq got_pg
	want=$(expect "$1" "$2")
	got_sq=$("$VIGIL" count "$1" --db "$SQ" 2>&1)
	got_pg=$("$VIGIL" count "$1" --db "$PGURI" 2>&1)
	if [ "$got_sq" = "$want" ] && [ "$got_pg" = "$want" ]; then ok "query '$1': $want on both backends"
	else nok "query '$1': expected $want, SQLite $got_sq, PostgreSQL $got_pg"; fi
	# same rows, not just the same count
	a=$("$VIGIL" search "$1" --db "$SQ" --json --limit 100000 | python3 -c 'import json,sys; print(sorted((json.loads(l)["ip"],json.loads(l)["port"]) for l in sys.stdin))' | md5sum)
	b=$("$VIGIL" search "$1" --db "$PGURI" --json --limit 100000 | python3 -c 'import json,sys; print(sorted((json.loads(l)["ip"],json.loads(l)["port"]) for l in sys.stdin))' | md5sum)
	[ "$a" = "$b" ] && ok "query '$1': identical rows on both backends" || nok "query '$1': rows differ between backends"
}
q 'product:sharepoint' 'd.get("product") == "sharepoint"'
q 'verdict:vulnerable' 'd.get("toolshell",{}).get("verdict") == "vulnerable"'
q 'verdict:july8-only,vulnerable -port:80' 'd.get("toolshell",{}).get("verdict") in ("july8-only","vulnerable") and d["port"] != 80'
q 'port:443' 'd["port"] == 443'
q 'has_tls:true' '"tls" in d'
q 'vuln:CVE-2025-53770' '"CVE-2025-53770" in d.get("vulns",[])'
q 'net:198.19.1.0/24 port:80' 'd["ip"].startswith("198.19.1.") and d["port"] == 80'
q 'ip:198.19.4.128' 'd["ip"] == "198.19.4.128"'
q 'title:home' '"home" in (d.get("http",{}).get("title") or "").lower()'
q 'server:"Microsoft-IIS"' '"microsoft-iis" in (d.get("http",{}).get("server") or "").lower()'
q 'http.status:200 -product:sharepoint' 'd.get("http",{}).get("status") == 200 and d.get("product") != "sharepoint"'
q 'SPRequestGuid' 'any(h[0].lower()=="sprequestguid" for h in d.get("http",{}).get("headers",[]))'
q 'version:16.0.10417.20027' 'd.get("version") == "16.0.10417.20027"'
q 'ssl.cert.subject.cn:sharepoint.lab.test' '(d.get("tls",{}).get("cert",{}).get("subject_cn") or "") == "sharepoint.lab.test"'
q 'scan:census' 'True'

# facets agree
fa=$("$VIGIL" stats 'product:sharepoint' --facets verdict,port,vuln --json --db "$SQ")
fb=$("$VIGIL" stats 'product:sharepoint' --facets verdict,port,vuln --json --db "$PGURI")
[ -n "$fa" ] && [ "$fa" = "$fb" ] && ok "facets identical on both backends" || nok "facets differ: $fa / $fb"
echo "$fa" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["total"]>0 and d["facets"]["verdict"]' \
	&& ok "facets JSON has totals and verdict counts" || nok "facets JSON malformed: $fa"

# host: every service of one address across scans (two scans -> 2 per port)
scan scan 198.19.4.128 -p 80,443 --checks toolshell --allow-reserved --rate 0 --cooldown 0.5 --db "$SQ" --scan-name again
h=$("$VIGIL" host 198.19.4.128 --db "$SQ" --json | wc -l)
[ "$h" = 4 ] && ok "host shows the address across both scans (4 services)" || nok "host shows $h services, expected 4"
"$VIGIL" scans --db "$SQ" --json | python3 -c '
import json,sys
rows=[json.loads(l) for l in sys.stdin]
assert [r["name"] for r in rows]==["again","census"], rows
assert all(r["finished"] for r in rows), rows' && ok "scans lists both finished scans" || nok "scans list wrong"

# bad queries: one line, exit 2, no crash
for bad in 'prot:80' 'port:http' 'title:"unbalanced' 'port:' "product:\"x' OR 1=1 --\""; do
	out=$("$VIGIL" search "$bad" --db "$SQ" 2>&1 >/dev/null); rc=$?
	if [ "$bad" = "product:\"x' OR 1=1 --\"" ]; then
		[ $rc = 0 ] && ok "SQL fragment in a value is just a value (no error, no rows)" || nok "SQL fragment query failed: $out"
		continue
	fi
	[ $rc = 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && ok "bad query '$bad': exit 2, one line ($out)" \
		|| nok "bad query '$bad': rc $rc, output: $out"
done
"$VIGIL" search 'prot:80' --db "$SQ" 2>&1 | grep -q "port" && ok "unknown filter suggests 'port'" || nok "no suggestion for prot"

# crash safety: kill -9 during a write, reopen, consistent
KDB="$WORK/k.db"
(cd "$WORK" && ip netns exec "$(lab_ns_scan "$E2E_NAME")" "$VIGIL" scan 198.19.0.0/16 -p 80,443 --checks toolshell \
	--allow-reserved --rate 20000 --db "$KDB" --scan-name killed >/dev/null 2>&1) &
sleep 3
pkill -9 -f "scan-name killed"
wait 2>/dev/null
if command -v sqlite3 >/dev/null; then :; fi
"$VIGIL" scans --db "$KDB" --json >"$WORK/k.scans" 2>&1 && python3 - "$WORK/k.scans" <<'PY' && ok "after kill -9: database opens, scan 'killed' is unfinished" || nok "after kill -9: $(head -c 300 "$WORK/k.scans")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 1 and rows[0]["name"] == "killed" and rows[0]["finished"] is None, rows
PY
n=$("$VIGIL" count '' --db "$KDB" 2>&1)
[ "$n" -ge 0 ] 2>/dev/null && ok "after kill -9: $n services readable" || nok "after kill -9: count failed: $n"
python3 - "$KDB" <<'PY' && ok "after kill -9: integrity_check ok, every service has its record, tags and facet counts" || nok "after kill -9: database inconsistent"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
for t in ("services_fts", "services_tri", "services_tags"):
    db.execute("INSERT INTO %s(%s) VALUES('integrity-check')" % (t, t))
a = db.execute("SELECT count(*) FROM services").fetchone()[0]
b = db.execute("SELECT count(*) FROM records").fetchone()[0]
c = db.execute("SELECT count(*) FROM services_tags WHERE services_tags MATCH 'port80 OR port443'").fetchone()[0]
d = db.execute("SELECT coalesce(sum(n), 0) FROM facet_counts WHERE facet = 'port'").fetchone()[0]
assert a == b == c == d, (a, b, c, d)
PY
# newer schema refused with a clear error, data untouched
cp "$SQ" "$WORK/new.db"
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute(\"UPDATE meta SET value='99' WHERE key='schema_version'\"); d.commit()" "$WORK/new.db"
out=$("$VIGIL" count '' --db "$WORK/new.db" 2>&1); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "newer" && ok "newer schema refused: $out" || nok "newer schema: rc $rc, $out"
exit 0
