# lib.sh - shared helpers for the e2e tests (sourced, not run).
#
# Each test runs skyc ($SKYC_BIN) with a private HOME and XDG tree under a
# temporary directory that is removed on exit, so tests never touch the
# user's state and clean up after themselves.
set -u

: "${SKYC_BIN:?SKYC_BIN must name the skyc binary}"
: "${SKYC_SOURCE_DIR:?SKYC_SOURCE_DIR must name the source tree}"

T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/skyc-e2e.XXXXXX")
export HOME="$T_TMP/home" XDG_STATE_HOME="$T_TMP/state" \
       XDG_CACHE_HOME="$T_TMP/cache" XDG_CONFIG_HOME="$T_TMP/config"
mkdir -p "$HOME"
T_FAILS=0
T_PASSES=0
T_CLEANUPS=()

t_cleanup() {
    for c in "${T_CLEANUPS[@]+"${T_CLEANUPS[@]}"}"; do eval "$c" || true; done
    rm -rf "$T_TMP"
}
trap t_cleanup EXIT

# Register a command to run at exit.
t_on_exit() { T_CLEANUPS+=("$1"); }

skyc() { "$SKYC_BIN" "$@"; }

t_pass() { T_PASSES=$((T_PASSES + 1)); }
t_fail() { echo "FAIL: $*" >&2; T_FAILS=$((T_FAILS + 1)); }

# t_run NAME EXPECTED_RC CMD...: run CMD, capture stdout/stderr in $OUT/$ERR.
t_run() {
    local name=$1 want=$2; shift 2
    set +e
    "$@" >"$T_TMP/out" 2>"$T_TMP/err"
    local rc=$?
    set -e
    OUT=$(cat "$T_TMP/out"); ERR=$(cat "$T_TMP/err")
    if [ "$rc" -ne "$want" ]; then
        t_fail "$name: exit $rc, expected $want"
        echo "--- stdout:"; echo "$OUT" | head -40
        echo "--- stderr:"; echo "$ERR" | head -40
        return 0
    fi
    t_pass
}

t_contains() { # NAME HAYSTACK NEEDLE
    case "$2" in *"$3"*) t_pass ;; *) t_fail "$1: missing '$3' in: $(echo "$2" | head -20)" ;; esac
}
t_not_contains() {
    case "$2" in *"$3"*) t_fail "$1: unexpected '$3'" ;; *) t_pass ;; esac
}
t_eq() { # NAME GOT WANT
    if [ "$2" = "$3" ]; then t_pass; else t_fail "$1: got '$2', want '$3'"; fi
}

# Print the summary line and exit non-zero on any failure.
t_done() {
    echo "$T_PASSES passed, $T_FAILS failed"
    [ "$T_FAILS" -eq 0 ]
}

# Fail loudly when the shared data the test needs is missing.
t_need_shared() {
    if [ ! -d "${SKYC_SHARED_DATA:-}/$1" ]; then
        echo "FAIL: shared data '$1' not found under SKYC_SHARED_DATA='${SKYC_SHARED_DATA:-}'" >&2
        exit 1
    fi
}
