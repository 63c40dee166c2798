#!/usr/bin/env bash
# e2e: connect() scan of the lab's 198.19.0.0/16: port 80 (8192 open) and 80,443 (8192 + 1024).
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-connect
e2e_lab_up

scan scan 198.19.0.0/16 -p 80 --mode connect --concurrency 2000 --allow-reserved -o out.jsonl
check_rc "connect scan -p 80 exits 0" 0
jsonl_check "connect -p 80" 80 "$WORK/out.jsonl"

scan scan 198.19.0.0/16 -p 80,443 --mode connect --concurrency 2000 --allow-reserved -o multi.jsonl
check_rc "connect scan -p 80,443 exits 0" 0
jsonl_check "connect -p 80,443" 80,443 "$WORK/multi.jsonl"
n443=$(grep -c '"port":443' "$WORK/multi.jsonl")
if [ "$n443" -eq 1024 ]; then ok "connect -p 80,443: 1024 records for port 443"; else nok "connect -p 80,443: $n443 records for port 443, expected 1024"; fi
exit 0
