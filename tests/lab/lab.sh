#!/usr/bin/env bash
# vigil network-namespace lab.
#
# Usage:  tests/lab/lab.sh up|down|status [NAME]        (NAME defaults to "vigil")
#         tests/lab/lab.sh lo-up|lo-down [NAME]          (lo-only namespace "${NAME}-lo")
#         tests/lab/lab.sh exec [NAME] -- CMD...         (run CMD in the scanner ns)
#    or:  source tests/lab/lab.sh; lab_up NAME; lab_exec_scan CMD...; lab_down NAME
#
# Topology (everything lives in namespaces created here; nothing touches the host's
# interfaces or routes):
#
#   ${NAME}-scan                                   ${NAME}-tgt
#   vs0 198.18.0.1/30  <------ veth ------>        vt0 198.18.0.2/30
#   MAC 02:00:c6:12:00:01                          MAC 02:00:c6:12:00:02
#   route 198.19.0.0/16 via 198.18.0.2             local 198.19.0.0/16 dev lo
#   NO default route (asserted)                    (every 198.19.x.y is a local address)
#
# Target behaviour (for every one of the 65536 addresses 198.19.x.y):
#   * TCP/80  open   iff y % 8  == 0  -> 8192 open  (nginx answers, SYN-ACK)
#   * TCP/443 open   iff y % 64 == 0  -> 1024 open  (nginx, plain http on 443)
#   * the other 80/443 addresses get a TCP RST from an nftables "reject with tcp reset"
#     rule in the target ns; every other port is closed (kernel RST, nothing listens).
#   * an nft counter in the target ns ("table inet vigil_lab", counter "syn_in") counts
#     every pure SYN (syn set, ack clear) arriving from 198.18.0.1: the number of probes
#     that actually reached the targets (lab_syn_count NAME prints it).
#
# nginx (Debian nginx-light/nginx) runs inside the target ns with its own prefix dir
# ${LAB_TMPBASE:-/tmp}/vigil-lab.NAME (config, pid, logs, temp dirs, html); "down" stops it.
#
# Tuning: rp_filter off in both namespaces, IPv6 disabled in both (no ND/RS noise in the
# tx counters), somaxconn/tcp_max_syn_backlog raised in the target, checksum offload
# (tx/rx) turned off on vs0 and vt0 so every frame seen by AF_PACKET carries a real,
# verifiable checksum, and the (global, not per-netns) net.core.netdev_max_backlog is
# raised to >= 65536 when writable so a fast sender does not overflow the veth backlog.
#
# Lo-only namespace (lab_lo_up NAME): "${NAME}-lo" with only lo up and no routes other
# than the kernel's local 127.0.0.0/8; used for scanning 127.0.0.0/8 (RSS benchmark).
# accept_local=1 and route_localnet=1 are set on lo (needed for raw SYN frames on lo).
#
# All functions are idempotent; lab_down is safe when nothing exists.

LAB_SCAN_MAC=02:00:c6:12:00:01
LAB_TGT_MAC=02:00:c6:12:00:02
LAB_SCAN_IP=198.18.0.1
LAB_TGT_IP=198.18.0.2
LAB_PREFIX=198.19.0.0/16
LAB_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

_lab_name() { echo "${1:-${LAB_NAME:-vigil}}"; }
lab_ns_scan() { echo "$(_lab_name "$1")-scan"; }
lab_ns_tgt() { echo "$(_lab_name "$1")-tgt"; }
lab_ns_lo() { echo "$(_lab_name "$1")-lo"; }
lab_dir() { echo "${LAB_TMPBASE:-/tmp}/vigil-lab.$(_lab_name "$1")"; }
_lab_ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx -- "$1"; }
_lab_log() { echo "lab: $*" >&2; }

# lab_exec_scan CMD...  (uses $LAB_NAME or "vigil")
lab_exec_scan() { ip netns exec "$(lab_ns_scan)" "$@"; }
lab_exec_tgt() { ip netns exec "$(lab_ns_tgt)" "$@"; }
lab_exec_lo() { ip netns exec "$(lab_ns_lo)" "$@"; }

lab_nginx_conf() {
    local d="$1"
    cat <<EOF
worker_processes 2;
worker_rlimit_nofile 65536;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
daemon on;
user root;
events { worker_connections 16384; }
http {
    access_log off;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    keepalive_timeout 5;
    server {
        listen 0.0.0.0:80 backlog=65535 default_server;
        listen 0.0.0.0:443 backlog=65535 default_server;
        root $d/html;
        location / { index index.html; }
    }
}
EOF
}

lab_nft_rules() {
    cat <<'EOF'
table inet vigil_lab {
    counter syn_in { }
    chain input {
        type filter hook input priority 0; policy accept;
        ip saddr 198.18.0.1 tcp flags & (syn | ack) == syn counter name syn_in
        ip daddr 198.19.0.0/16 tcp dport 80 ip daddr & 0.0.0.7 != 0.0.0.0 reject with tcp reset
        ip daddr 198.19.0.0/16 tcp dport 443 ip daddr & 0.0.0.63 != 0.0.0.0 reject with tcp reset
    }
}
EOF
}

lab_up() {
    local name; name="$(_lab_name "$1")"
    local S T D
    S="$(lab_ns_scan "$name")"; T="$(lab_ns_tgt "$name")"; D="$(lab_dir "$name")"
    lab_down "$name" >/dev/null 2>&1
    command -v nginx >/dev/null || { _lab_log "nginx not installed (apt-get install -y nginx-light)"; return 1; }
    command -v nft >/dev/null || { _lab_log "nft not installed (apt-get install -y nftables)"; return 1; }
    (
        set -e
        ip netns add "$S"
        ip netns add "$T"
        ip link add vs0 netns "$S" type veth peer name vt0 netns "$T"
        ip -n "$S" link set vs0 address "$LAB_SCAN_MAC"
        ip -n "$T" link set vt0 address "$LAB_TGT_MAC"
        for ns in "$S" "$T"; do
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
            ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
            ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_syn_backlog=65536 net.core.somaxconn=65535
            ip -n "$ns" link set lo up
        done
        ip netns exec "$S" sysctl -qw net.ipv6.conf.vs0.disable_ipv6=1 net.ipv4.conf.vs0.rp_filter=0
        ip netns exec "$T" sysctl -qw net.ipv6.conf.vt0.disable_ipv6=1 net.ipv4.conf.vt0.rp_filter=0
        ip netns exec "$T" sysctl -qw net.ipv4.conf.lo.rp_filter=0
        # wide ephemeral range for connect-mode scanners
        ip netns exec "$S" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
        ip -n "$S" addr add "$LAB_SCAN_IP/30" dev vs0
        ip -n "$T" addr add "$LAB_TGT_IP/30" dev vt0
        ip netns exec "$S" ethtool -K vs0 tx off rx off >/dev/null 2>&1 || true
        ip netns exec "$T" ethtool -K vt0 tx off rx off >/dev/null 2>&1 || true
        ip -n "$S" link set vs0 up
        ip -n "$T" link set vt0 up
        ip -n "$S" route add "$LAB_PREFIX" via "$LAB_TGT_IP" dev vs0
        ip -n "$T" route add local "$LAB_PREFIX" dev lo
        lab_nft_rules | ip netns exec "$T" nft -f -
        # global knob (not per-netns): avoid veth backlog drops at high pps
        if [ -w /proc/sys/net/core/netdev_max_backlog ] &&
            [ "$(cat /proc/sys/net/core/netdev_max_backlog)" -lt 65536 ]; then
            echo 65536 >/proc/sys/net/core/netdev_max_backlog || true
        fi
        mkdir -p "$D"/logs "$D"/tmp "$D"/html
        echo "<html><body>vigil lab target</body></html>" >"$D/html/index.html"
        lab_nginx_conf "$D" >"$D/nginx.conf"
        ip netns exec "$T" nginx -e "$D/logs/error.log" -p "$D" -c "$D/nginx.conf"
    ) || { set +e; _lab_log "setup of lab '$name' failed"; lab_down "$name" >/dev/null 2>&1; return 1; }
    # wait for nginx to listen
    local i
    for i in $(seq 1 50); do
        if ip netns exec "$T" ss -Hltn 2>/dev/null | grep -q ':443 ' &&
            ip netns exec "$T" ss -Hltn 2>/dev/null | grep -q ':80 '; then break; fi
        sleep 0.1
    done
    # resolve the neighbour once so the first probes are not lost to ARP
    ip netns exec "$S" ping -c1 -W1 "$LAB_TGT_IP" >/dev/null 2>&1 || true  # ping may be absent
    lab_assert "$name"
}

# Sanity checks; returns non-zero if the lab is not as documented.
lab_assert() {
    local name S T rc=0
    name="$(_lab_name "$1")"; S="$(lab_ns_scan "$name")"; T="$(lab_ns_tgt "$name")"
    if ip -n "$S" route show default | grep -q .; then
        _lab_log "FATAL: scanner namespace $S has a default route"; rc=1
    fi
    if ip -n "$S" -6 route show default 2>/dev/null | grep -q .; then
        _lab_log "FATAL: scanner namespace $S has an IPv6 default route"; rc=1
    fi
    local routes
    routes="$(ip -n "$S" -4 route show | awk '{print $1}' | sort | tr '\n' ' ')"
    if [ "$routes" != "198.18.0.0/30 198.19.0.0/16 " ]; then
        _lab_log "FATAL: unexpected routes in $S: $routes"; rc=1
    fi
    if ! ip netns exec "$T" ss -Hltn | grep -q ':80 '; then
        _lab_log "nginx is not listening on :80 in $T"; rc=1
    fi
    return $rc
}

lab_nginx_stop() {
    local name D T pid
    name="$(_lab_name "$1")"; D="$(lab_dir "$name")"; T="$(lab_ns_tgt "$name")"
    if [ -f "$D/nginx.pid" ]; then
        pid="$(cat "$D/nginx.pid" 2>/dev/null)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null
            for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    # any process left in the target ns (e.g. nginx workers) -- by pid only
    if _lab_ns_exists "$T"; then
        for pid in $(ip netns pids "$T" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    fi
}

lab_down() {
    local name S T D pid
    name="$(_lab_name "$1")"; S="$(lab_ns_scan "$name")"; T="$(lab_ns_tgt "$name")"; D="$(lab_dir "$name")"
    lab_nginx_stop "$name"
    if _lab_ns_exists "$S"; then
        for pid in $(ip netns pids "$S" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$S" 2>/dev/null
    fi
    _lab_ns_exists "$T" && ip netns del "$T" 2>/dev/null
    case "$D" in */vigil-lab.*) rm -rf -- "$D" ;; esac
    return 0
}

lab_status() {
    local name S T D
    name="$(_lab_name "$1")"; S="$(lab_ns_scan "$name")"; T="$(lab_ns_tgt "$name")"; D="$(lab_dir "$name")"
    if ! _lab_ns_exists "$S" || ! _lab_ns_exists "$T"; then
        echo "lab '$name': down"
        return 1
    fi
    echo "lab '$name': up (dir $D)"
    echo "-- $S addresses/routes"
    ip -n "$S" -br addr
    ip -n "$S" route
    echo "-- $T addresses/routes"
    ip -n "$T" -br addr
    ip -n "$T" route show table local | grep 198.19 || true
    echo "-- $T listening"
    ip netns exec "$T" ss -Hltn
    echo "-- $T syn counter"
    lab_syn_count "$name"
    lab_assert "$name" && echo "assertions: ok"
}

# Number of pure SYNs from the scanner that reached the target ns so far.
lab_syn_count() {
    local T; T="$(lab_ns_tgt "$1")"
    ip netns exec "$T" nft list counter inet vigil_lab syn_in 2>/dev/null |
        awk '/packets/ {for (i=1;i<=NF;i++) if ($i=="packets") print $(i+1)}'
}
lab_syn_reset() {
    ip netns exec "$(lab_ns_tgt "$1")" nft reset counter inet vigil_lab syn_in >/dev/null 2>&1
}
# tx packet counter of vs0 in the scanner ns
lab_tx_packets() {
    ip netns exec "$(lab_ns_scan "$1")" cat /sys/class/net/vs0/statistics/tx_packets
}

# Expected sets, one address per line (sorted with sort -V).
lab_expected_80() { local x y; for x in $(seq 0 255); do for y in $(seq 0 8 255); do echo "198.19.$x.$y"; done; done; }
lab_expected_443() { local x y; for x in $(seq 0 255); do for y in 0 64 128 192; do echo "198.19.$x.$y"; done; done; }

lab_lo_up() {
    local L; L="$(lab_ns_lo "$1")"
    lab_lo_down "$1"
    ip netns add "$L" || return 1
    ip -n "$L" link set lo up
    ip netns exec "$L" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.core.somaxconn=65535 \
        net.ipv4.tcp_max_syn_backlog=65536 net.ipv4.ip_local_port_range="1024 65000" >/dev/null 2>&1
    # raw SYN frames injected on lo carry a local source address: accept them
    ip netns exec "$L" sysctl -qw net.ipv4.conf.lo.accept_local=1 net.ipv4.conf.lo.route_localnet=1 \
        net.ipv4.conf.all.accept_local=1 net.ipv4.conf.all.route_localnet=1 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lo.rp_filter=0 >/dev/null 2>&1
    if ip -n "$L" route show default | grep -q .; then
        _lab_log "FATAL: $L has a default route"; lab_lo_down "$1"; return 1
    fi
}
lab_lo_down() {
    local L pid; L="$(lab_ns_lo "$1")"
    if _lab_ns_exists "$L"; then
        for pid in $(ip netns pids "$L" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
        ip netns del "$L" 2>/dev/null
    fi
    return 0
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    cmd="${1:-status}"; shift || true
    case "$cmd" in
    up) lab_up "$1" ;;
    down) lab_down "$1" ;;
    status) lab_status "$1" ;;
    lo-up) lab_lo_up "$1" ;;
    lo-down) lab_lo_down "$1" ;;
    exec)
        if [ "$1" != "--" ] && [ -n "$1" ]; then LAB_NAME="$1"; shift; fi
        [ "$1" = "--" ] && shift
        lab_exec_scan "$@"
        ;;
    *) echo "usage: $0 up|down|status|lo-up|lo-down [NAME] | exec [NAME] -- CMD..." >&2; exit 2 ;;
    esac
fi
