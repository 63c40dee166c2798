#!/usr/bin/env bash
# e2e: SYN scan of the lab's 198.19.0.0/16 on port 80 (8192 open: last octet % 8 == 0).
# Needs root (network namespaces). Prints "ok - ..." / "not ok - ..." lines.
. "$(dirname "$0")/../lab/e2e_lib.sh"
e2e_init vigil-e2e-syn
e2e_lab_up

# 1. explicit interface
scan scan 198.19.0.0/16 -p 80 --mode syn --allow-reserved --interface vs0 -o out.jsonl --cooldown 2
check_rc "syn scan --interface vs0 exits 0" 0
jsonl_check "syn --interface vs0" 80 "$WORK/out.jsonl"

# 2. interface, source ip and router MAC auto-detected
scan scan 198.19.0.0/16 -p 80 --mode syn --allow-reserved -o auto.jsonl --cooldown 2
check_rc "syn scan with auto-detected interface/source/router-mac exits 0" 0
jsonl_check "syn auto-detect" 80 "$WORK/auto.jsonl"

# 3. explicit source ip and router MAC
scan scan 198.19.0.0/16 -p 80 --mode syn --allow-reserved --interface vs0 --source-ip 198.18.0.1 \
    --router-mac "$LAB_TGT_MAC" -o explicit.jsonl --cooldown 2
check_rc "syn scan with --source-ip/--router-mac exits 0" 0
jsonl_check "syn explicit source/mac" 80 "$WORK/explicit.jsonl"

# 4. stdout output, two ports
scan scan 198.19.0.0/16 -p 80,443 --mode syn --allow-reserved --cooldown 2 -o -
check_rc "syn scan -p 80,443 -o - exits 0" 0
cp "$WORK/last.out" "$WORK/stdout.jsonl"
jsonl_check "syn -p 80,443 to stdout" 80,443 "$WORK/stdout.jsonl"
exit 0
