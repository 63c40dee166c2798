#!/usr/bin/env bash
# scripts/demo.sh - installs dependencies, builds vigil, creates the
# namespace lab with a fake SharePoint farm (198.19.0.0/16 behind a veth
# pair, no default route: nothing leaves the machine), runs the main job -
# a census with ToolShell verdicts stored in the default embedded index
# (SQLite) - then queries the index and tears the lab down. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -s -j"$(nproc)" build/vigil
source tests/lab/farm.sh
trap 'farm_down demo >/dev/null 2>&1 || true' EXIT
farm_up demo >/dev/null || { echo "demo: could not create the lab (see tests/lab/farm.sh)" >&2; exit 1; }
db=${VIGIL_DEMO_DB:-demo.db}
rm -f "$db" "$db-wal" "$db-shm"
echo "demo: census of 198.19.0.0/16, ports 80 and 443, with ToolShell checks (index: $db)"
ip netns exec demo-scan build/vigil scan 198.19.0.0/16 -p 80,443 --checks toolshell --allow-reserved \
	--rate 0 --cooldown 1 --status --db "$db" --scan-name demo -o demo.jsonl
echo
echo "demo: vigil stats 'product:sharepoint' --facets verdict,vuln,port --db $db"
build/vigil stats 'product:sharepoint' --facets verdict,vuln,port --db "$db"
echo
echo "demo: vigil search 'verdict:vulnerable,july8-only port:443' --limit 5 --db $db"
build/vigil search 'verdict:vulnerable,july8-only port:443' --limit 5 --db "$db"
echo
echo "demo: records are in demo.jsonl; query more with: build/vigil search QUERY --db $db"
