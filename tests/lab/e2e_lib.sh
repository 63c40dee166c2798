# Helpers for tests/e2e/*.sh (sourced; not a test itself).
#   e2e_init NAME       cd to the repo root, resolve $VIGIL, check root/netns, make $WORK,
#                       set a trap that tears the lab down; exits on failure after
#                       printing "not ok - ..."
#   e2e_lab_up          lab_up "$E2E_NAME" (prints "not ok - setup ..." and exits on failure)
#   ok/nok/check        TAP-like output
#   scan ARGS...        run "$VIGIL" ARGS in the scanner ns, cwd $WORK, bounded by
#                       $E2E_TIMEOUT (default 300 s); stdout/stderr to $WORK/last.out/.err;
#                       sets $RC
#   jsonl_check LABEL PORTS FILES...
E2E_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_ROOT="$(cd "$E2E_LIB_DIR/../.." && pwd)"
# shellcheck source=tests/lab/lab.sh
. "$E2E_LIB_DIR/lab.sh"

ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; }
# check DESC CMD...   ok if CMD succeeds
check() { local d="$1"; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

e2e_cleanup() {
    [ -n "${E2E_NAME:-}" ] && lab_down "$E2E_NAME" >/dev/null 2>&1
    [ -n "${E2E_NAME:-}" ] && lab_lo_down "$E2E_NAME" >/dev/null 2>&1
    if [ -n "${E2E_EXTRA_NS:-}" ]; then
        local ns pid
        for ns in $E2E_EXTRA_NS; do
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        done
    fi
    if [ -n "${WORK:-}" ] && [ -d "$WORK" ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf -- "$WORK"; fi
}

e2e_init() {
    # unique per process: two runs of the same test (e.g. two sessions) must not share a lab
    E2E_NAME="$1-$$"
    cd "$E2E_ROOT" || { nok "setup: cd $E2E_ROOT"; exit 1; }
    VIGIL="${VIGIL:-build/vigil}"
    case "$VIGIL" in /*) ;; *) VIGIL="$E2E_ROOT/$VIGIL" ;; esac
    if [ "$(id -u)" -ne 0 ]; then nok "needs root"; exit 1; fi
    if ! ip netns list >/dev/null 2>&1; then nok "needs root (ip netns unavailable)"; exit 1; fi
    if [ ! -x "$VIGIL" ]; then nok "setup: $VIGIL missing (run make)"; exit 1; fi
    command -v python3 >/dev/null || { nok "setup: python3 missing"; exit 1; }
    WORK="$(mktemp -d "/tmp/$E2E_NAME.XXXXXX")" || { nok "setup: mktemp"; exit 1; }
    chmod 755 "$WORK"
    # a private copy: build/vigil may be relinked by a concurrent make during the test
    cp "$VIGIL" "$WORK/vigil" && chmod 755 "$WORK/vigil" || { nok "setup: cannot copy $VIGIL"; exit 1; }
    VIGIL="$WORK/vigil"
    trap 'e2e_cleanup' EXIT
    trap 'e2e_cleanup; exit 1' INT TERM
    E2E_TIMEOUT="${E2E_TIMEOUT:-300}"
}

e2e_lab_up() {
    if ! lab_up "$E2E_NAME" >"$WORK/lab.log" 2>&1; then
        nok "setup: lab_up $E2E_NAME failed: $(tr '\n' ' ' <"$WORK/lab.log" | cut -c1-300)"
        exit 1
    fi
}

# scan ARGS...: vigil in the scanner ns of this test's lab
scan() {
    (cd "$WORK" && timeout -k 5 "$E2E_TIMEOUT" ip netns exec "$(lab_ns_scan "$E2E_NAME")" \
        "$VIGIL" "$@" >"$WORK/last.out" 2>"$WORK/last.err")
    RC=$?
    return 0
}

# one-line summary of the last stderr for diagnostics
last_err() { tr '\n' '|' <"$WORK/last.err" | cut -c1-300; }

check_rc() { # DESC EXPECTED
    if [ "$RC" -eq "$2" ]; then ok "$1 (exit $RC)"; else nok "$1 (exit $RC, expected $2; stderr: $(last_err))"; fi
}

jsonl_check() { python3 "$E2E_LIB_DIR/jsonl_check.py" "$@"; }
