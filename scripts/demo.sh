#!/usr/bin/env bash
# scripts/demo.sh - installs dependencies, builds vigil, creates the
# namespace lab (198.19.0.0/16 behind a veth pair, no default route) and runs
# a SYN scan of it, then tears the lab down. Needs root (sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make -s -j"$(nproc)" build/vigil
source tests/lab/lab.sh
LAB_NAME=demo
trap 'lab_down demo >/dev/null 2>&1 || true' EXIT
lab_up demo
out=${VIGIL_DEMO_OUT:-demo.jsonl}
echo "demo: scanning 198.19.0.0/16 ports 80,443 inside the lab (results in $out)"
ip netns exec demo-scan build/vigil scan 198.19.0.0/16 -p 80,443 --allow-reserved \
	--rate 0 --cooldown 2 --status -o "$out"
echo "demo: $(wc -l <"$out") open ports found (expected 8192 on port 80 + 1024 on port 443); first lines:"
head -3 "$out"
