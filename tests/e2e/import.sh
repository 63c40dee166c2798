#!/usr/bin/env bash
# e2e: vigil import of every foreign format through the CLI, with
# enrichment at ingest, then searched; bad lines reported with line numbers
# and skipped; a failed import leaves what was stored intact; enrichment
# re-run over a stored scan (vigil enrich).
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-import
D=tests/data/import
E=tests/data/enrich
DB="$WORK/i.db"

for f in masscan.json masscan.txt zmap.csv nmap.xml shodan.jsonl vigil.jsonl; do
	out=$("$VIGIL" import "$D/$f" --db "$DB" --scan-name "$f" --asn-tsv "$E/ip2asn-sample.tsv" 2>&1); rc=$?
	[ $rc = 0 ] && ok "import $f: exit 0 ($(echo "$out" | tail -1))" || nok "import $f: rc $rc: $out"
done
out=$("$VIGIL" import "$D/zmap-plain.txt" --port 443 --db "$DB" --scan-name zmap-plain 2>&1); rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "imported [1-9]" && ok "import bare ZMap IP list with --port" || nok "zmap-plain: $out"

"$VIGIL" scans --db "$DB" --json >"$WORK/scans.json"
python3 - "$WORK/scans.json" <<'PY' && ok "every import is a finished scan named after its file, source names the format" || nok "scans: $(cat "$WORK/scans.json")"
import json, sys
rows = {r["name"]: r for r in map(json.loads, open(sys.argv[1]))}
want = {"masscan.json": "import:masscan-json", "masscan.txt": "import:masscan-list", "zmap.csv": "import:zmap-csv",
        "nmap.xml": "import:nmap-xml", "shodan.jsonl": "import:shodan", "vigil.jsonl": "import:vigil"}
for name, src in want.items():
    assert rows[name]["source"] == src and rows[name]["finished"] and rows[name]["services"] > 0, (name, rows[name])
PY

# bad lines: reported with their line numbers, the rest stored
printf '{"ip":"198.18.0.9","port":80,"transport":"tcp","timestamp":"2026-01-01T00:00:00Z"}\nnot json at all\n{"ip":"198.18.0.10","port":81,"transport":"tcp","timestamp":"2026-01-01T00:00:00Z"}\n{"ip":"198.18.0.11"}\n' >"$WORK/bad.jsonl"
out=$("$VIGIL" import "$WORK/bad.jsonl" --format vigil --db "$DB" --scan-name bad 2>&1); rc=$?
echo "$out" | grep -q "line 2" && echo "$out" | grep -q "line 4" && [ $rc = 0 ] && ok "bad lines reported with line numbers (2 and 4)" || nok "bad lines: rc $rc: $out"
n=$("$VIGIL" count 'scan:bad' --db "$DB")
[ "$n" = 2 ] && ok "good lines of a damaged file are stored (2)" || nok "stored $n of the damaged file, expected 2"

# a missing file: one line, exit 2, nothing lost
before=$("$VIGIL" count '' --db "$DB")
out=$("$VIGIL" import /nonexistent/file.json --db "$DB" 2>&1); rc=$?
after=$("$VIGIL" count '' --db "$DB")
[ $rc = 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] && ok "missing file: exit 2, one line ($out)" || nok "missing file: rc $rc: $out"
[ "$before" = "$after" ] && ok "missing file: nothing stored was lost ($after)" || nok "count changed $before -> $after"

# enrichment at ingest: 198.18.0.0/24 is AS64496 US in the sample TSV
n=$("$VIGIL" count 'asn:64496 country:US net:198.18.0.0/24' --db "$DB")
m=$("$VIGIL" count 'net:198.18.0.0/24 -scan:bad -scan:zmap-plain -scan:shodan.jsonl -scan:vigil.jsonl' --db "$DB")
# (shodan and vigil records carry their own ASN: ingest does not overwrite it)
n=$("$VIGIL" count 'asn:64496 country:US net:198.18.0.0/24 -scan:shodan.jsonl -scan:vigil.jsonl' --db "$DB")
[ "$n" -gt 0 ] && [ "$n" = "$m" ] && ok "ingest enrichment: every 198.18.0.0/24 service has AS64496/US ($n)" || nok "enriched $n of $m"

# re-run enrichment over a stored scan with a MaxMind database
out=$("$VIGIL" enrich --db "$DB" --geoip "$E/country.mmdb" --geoip "$E/asn.mmdb" 2>&1); rc=$?
[ $rc = 0 ] && ok "vigil enrich: $out" || nok "vigil enrich: rc $rc: $out"
"$VIGIL" search 'scan:bad' --db "$DB" --json >"$WORK/bad.out"
python3 - "$WORK/bad.out" <<'PY' && ok "records updated by enrich carry the new fields in their JSON" || nok "enrich did not update records: $(head -c 300 "$WORK/bad.out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows and all("asn" in r or "country" in r for r in rows), rows
PY
exit 0
