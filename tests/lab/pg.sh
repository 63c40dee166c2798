#!/usr/bin/env bash
# tests/lab/pg.sh - a private PostgreSQL cluster for tests and benchmarks:
# initdb in a temp directory, listening on a Unix socket only (no TCP at all),
# started and stopped by the caller. Sourceable:
#   pg_up DIR      -> prints the connection URI on stdout
#   pg_down DIR
#   pg_restart DIR
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

pg_up() {
	local dir=$1
	mkdir -p "$dir"
	chown postgres:postgres "$dir"
	chmod 755 "$dir"  # the socket lives here: vigil reconnects after dropping privileges
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		su postgres -s /bin/sh -c "$PG_BIN/initdb -D '$dir/data' -A trust -U postgres" >"$dir/initdb.log" 2>&1 || {
			cat "$dir/initdb.log" >&2; return 1; }
	fi
	su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$dir/data' -l '$dir/pg.log' -w -t 60 \
		-o \"-c listen_addresses='' -k '$dir' -c fsync=off -c full_page_writes=off\" start" >/dev/null 2>&1 || {
		cat "$dir/pg.log" >&2; return 1; }
	su postgres -s /bin/sh -c "$PG_BIN/createdb -h '$dir' vigil" 2>/dev/null || true
	echo "postgresql:///vigil?host=$dir&user=postgres"
}

pg_down() {
	local dir=$1
	[ -d "$dir/data" ] || return 0
	su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$dir/data' -m immediate -w stop" >/dev/null 2>&1 || true
}

pg_restart() {
	local dir=$1
	su postgres -s /bin/sh -c "$PG_BIN/pg_ctl -D '$dir/data' -m fast -w restart -o \"-c listen_addresses='' -k '$dir'\"" \
		>/dev/null 2>&1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case "${1:-}" in
	up) pg_up "$2" ;;
	down) pg_down "$2" ;;
	*) echo "usage: $0 up|down DIR" >&2; exit 2 ;;
	esac
fi
