#!/usr/bin/env bash
# e2e: three shards (--shard 0/3, 1/3, 2/3, same --seed 42) are disjoint and their union is
# the lab's expected set (198.19.x.y, y % 8 == 0, port 80).
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-shard
e2e_lab_up

files=()
for i in 0 1 2; do
    scan scan 198.19.0.0/16 -p 80 --allow-reserved --seed 42 --shard "$i/3" -o "shard$i.jsonl" --cooldown 2
    check_rc "shard $i/3 exits 0" 0
    n=$(grep -c . "$WORK/shard$i.jsonl" 2>/dev/null || echo 0)
    # each shard should hold roughly a third of 8192
    if [ "$n" -gt 2000 ] && [ "$n" -lt 3500 ]; then ok "shard $i/3 found $n (about a third)"; else nok "shard $i/3 found $n, expected about 2731"; fi
    files+=("$WORK/shard$i.jsonl")
done
jsonl_check "shards 0..2/3 seed 42" 80 "${files[@]}"

# connect mode shards too
files=()
for i in 0 1 2; do
    scan scan 198.19.0.0/16 -p 80 --mode connect --concurrency 2000 --allow-reserved --seed 42 --shard "$i/3" -o "cshard$i.jsonl"
    check_rc "connect shard $i/3 exits 0" 0
    files+=("$WORK/cshard$i.jsonl")
done
jsonl_check "connect shards 0..2/3 seed 42" 80 "${files[@]}"
exit 0
