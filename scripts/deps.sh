#!/usr/bin/env bash
# scripts/deps.sh - installs every Debian 12 package vigil needs to build,
# test and benchmark (idempotent; needs root).
set -euo pipefail
pkgs=(
	gcc make pkg-config libpcap-dev libssl-dev openssl  # build
	libsqlite3-dev libpq-dev libjson-c-dev libmaxminddb-dev libxml2-dev  # store, import, enrichment
	postgresql mmdb-bin                      # fleet-store tests
	clang libclang-rt-14-dev                 # fuzz targets (libFuzzer)
	iproute2 nftables nginx-light procps     # the namespace lab
	libnginx-mod-http-headers-more-filter openssl  # the SharePoint farm
	python3 time valgrind                    # test assertions, RSS, memcheck
	zmap masscan nmap                        # side-by-side benchmarks
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
