#!/usr/bin/env bash
# bench/index.sh [N] - index benchmark: generate N (default 1,000,000)
# synthetic service records, ingest them into SQLite and into a private
# PostgreSQL cluster (Unix socket only), then time 10 typical queries and 3
# facet queries on each backend (median of 5 runs). Prints a markdown table;
# with --record appends it to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
N=1000000; RECORD=0
for a in "$@"; do case "$a" in --record) RECORD=1 ;; *) N=$a ;; esac; done
VIGIL=${VIGIL:-build/vigil}
. tests/lab/pg.sh
W=$(mktemp -d /tmp/vigil-bench-index.XXXXXX); chmod 755 "$W"
trap 'pg_down "$W/pg"; rm -rf "$W"' EXIT
# a private copy: a rebuild during the run must not change the binary
cp "$VIGIL" "$W/vigil"; VIGIL="$W/vigil"
echo "generating $N records..." >&2
python3 bench/gen_records.py "$N" 7 >"$W/records.jsonl"
PGURI=$(pg_up "$W/pg")

ingest() {  # DB -> seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$VIGIL" import "$W/records.jsonl" --format vigil --db "$1" --scan-name bench 2>"$W/import.err" >/dev/null
	t1=$(date +%s.%N)
	python3 -c "print(f'{$t1-$t0:.2f}')"
}
median_ms() {  # VERB QUERY DB [extra]
	local verb=$1 q=$2 db=$3; shift 3
	for i in 1 2 3 4 5; do
		local t0 t1
		t0=$(date +%s%N); "$VIGIL" "$verb" "$q" --db "$db" "$@" >/dev/null; t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 ))
	done | sort -n | sed -n 3p | awk '{printf "%.1f", $1/1000}'
}
queries=(
	'product:sharepoint'
	'verdict:vulnerable country:DE'
	'product:sharepoint verdict:vulnerable country:DE -port:80'
	'port:443 has_tls:true'
	'vuln:CVE-2025-53770'
	'net:198.18.128.0/20'
	'ip:198.18.1.1'
	'title:"sign in"'
	'http.favicon.hash:116323821'
	'SPRequestGuid'
)
facets=('country,port:10,verdict' 'vuln,product' 'asn:10,org')
sq="$W/bench.db"
t_sq=$(ingest "$sq")
t_pg=$(ingest "$PGURI")
n_sq=$("$VIGIL" count '' --db "$sq"); n_pg=$("$VIGIL" count '' --db "$PGURI")
{
echo "### Index: $N records ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo
echo "Command: \`bash bench/index.sh $N\` (records from \`bench/gen_records.py $N 7\`, ingested with \`vigil import --format vigil\`)."
echo
echo "| | SQLite | PostgreSQL |"
echo "|---|---|---|"
echo "| records stored | $n_sq | $n_pg |"
echo "| ingest time (s) | $t_sq | $t_pg |"
echo "| ingest records/s | $(python3 -c "print(int($N/$t_sq))") | $(python3 -c "print(int($N/$t_pg))") |"
echo "| DB size | $(du -sh "$sq" | cut -f1) | $(psql "$PGURI" -Atc "select pg_size_pretty(pg_database_size('vigil'))") |"
echo
echo "| query (count; median of 5, ms, whole CLI process) | matches | SQLite | PostgreSQL |"
echo "|---|---|---|---|"
for q in "${queries[@]}"; do
	m=$("$VIGIL" count "$q" --db "$sq")
	echo "| \`$q\` | $m | $(median_ms count "$q" "$sq") | $(median_ms count "$q" "$PGURI") |"
done
for q in "${queries[@]:0:3}"; do
	echo "| search \`$q\` --limit 100 | | $(median_ms search "$q" "$sq" --limit 100) | $(median_ms search "$q" "$PGURI" --limit 100) |"
done
for f in "${facets[@]}"; do
	echo "| stats '' --facets \`$f\` | | $(median_ms stats '' "$sq" --facets "$f") | $(median_ms stats '' "$PGURI" --facets "$f") |"
done
} | tee "$W/table.md"
if [ "$RECORD" = 1 ]; then
	{ echo; echo "## Index and search (bench/index.sh)"; echo; cat "$W/table.md"; } >>bench/RESULTS.md
fi
