# lib_store.sh - start/stop a `skyc store serve` on a free loopback port
# (sourced after lib.sh). Sets S3_PORT, S3_URL, S3_PID; the server is killed
# at exit. Clients: Debian's aws CLI, python3 + boto3, rclone.
S3_AK=e2e-access
S3_SK=e2e-secret-key
export AWS_ACCESS_KEY_ID=$S3_AK AWS_SECRET_ACCESS_KEY=$S3_SK \
       AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
       AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
AWS_BIN=/usr/bin/aws; [ -x "$AWS_BIN" ] || AWS_BIN=$(command -v aws || true)
PY_BIN=/usr/bin/python3; [ -x "$PY_BIN" ] || PY_BIN=$(command -v python3)

s3_need() { # fail loudly when a client is missing (scripts/install-deps installs them)
    for c in "$@"; do
        case $c in
        aws) [ -n "$AWS_BIN" ] || { echo "FAIL: aws CLI not installed (scripts/install-deps)" >&2; exit 1; } ;;
        boto3) "$PY_BIN" -c 'import boto3' 2>/dev/null || { echo "FAIL: python3-boto3 not installed" >&2; exit 1; } ;;
        *) command -v "$c" >/dev/null || { echo "FAIL: $c not installed (scripts/install-deps)" >&2; exit 1; } ;;
        esac
    done
}

# s3_serve_port NAME PID: wait for the server PID, whose stdout is
# $T_TMP/NAME.out, to print its address; prints its port, or fails the test
# with $T_TMP/NAME.err.
s3_serve_port() {
    local i port=
    for i in $(seq 1 100); do
        port=$(sed -n 's/^listening on http:\/\/127\.0\.0\.1:\([0-9]*\)$/\1/p' "$T_TMP/$1.out")
        [ -n "$port" ] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "FAIL: store serve ($1) did not start:" >&2; cat "$T_TMP/$1.err" >&2; exit 1
    fi
    echo "$port"
}

# s3_start DATA_DIR [extra serve args...]
s3_start() {
    local data=$1; shift
    : >"$T_TMP/serve.out"
    "$SKYC_BIN" store serve --data "$data" --listen 127.0.0.1:0 \
        --access-key "$S3_AK" --secret-key "$S3_SK" "$@" \
        >"$T_TMP/serve.out" 2>>"$T_TMP/serve.err" &
    S3_PID=$!
    t_on_exit "kill -9 $S3_PID 2>/dev/null"
    S3_PORT=$(s3_serve_port serve "$S3_PID")
    S3_URL=http://127.0.0.1:$S3_PORT
}

# s3_cloud_start AK SK: a second store server playing a remote cloud's
# bucket service (no fsync); sets CLOUD_PID and RURL. Killed on exit (after
# a SIGCONT, for tests that freeze it).
s3_cloud_start() {
    : >"$T_TMP/cloud.out"
    "$SKYC_BIN" store serve --data "$T_TMP/cloud" --listen 127.0.0.1:0 \
        --access-key "$1" --secret-key "$2" --no-fsync \
        >"$T_TMP/cloud.out" 2>"$T_TMP/cloud.err" &
    CLOUD_PID=$!
    t_on_exit "kill -CONT $CLOUD_PID 2>/dev/null; kill -9 $CLOUD_PID 2>/dev/null"
    RURL=http://127.0.0.1:$(s3_serve_port cloud "$CLOUD_PID")
}

s3_stop() { # graceful (SIGTERM), waits
    kill "$S3_PID" 2>/dev/null; wait "$S3_PID" 2>/dev/null || true
}

awss3() {
    if [ "$1" = s3 ] && case $2 in cp|sync|rm|mv) true ;; *) false ;; esac; then
        local sub=$2; shift 2
        timeout 120 "$AWS_BIN" --endpoint-url "$S3_URL" s3 "$sub" --only-show-errors "$@"
    else
        timeout 120 "$AWS_BIN" --endpoint-url "$S3_URL" "$@"
    fi
}

# s3_regions_start CONFIG: a multi-region `skyc store serve --config CONFIG`
# (its regions' "dir" are $T_TMP/r-<cloud>); waits for every endpoint. Sets
# REG_PID, REG_ARGS (NAME=URL=DIR per region, config order) and REG_URL
# (NAME -> URL).
s3_regions_start() {
    local cfg=$1 want i
    want=$("$PY_BIN" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["regions"]))' "$cfg")
    : >"$T_TMP/serve.out"
    "$SKYC_BIN" store serve --config "$cfg" >"$T_TMP/serve.out" 2>>"$T_TMP/serve.err" &
    REG_PID=$!
    t_on_exit "kill -9 $REG_PID 2>/dev/null"
    for i in $(seq 1 100); do
        [ "$(grep -c '^listening on ' "$T_TMP/serve.out")" = "$want" ] && break
        kill -0 "$REG_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$(grep -c '^listening on ' "$T_TMP/serve.out")" != "$want" ]; then
        echo "FAIL: store serve did not start:" >&2; cat "$T_TMP/serve.err" >&2; exit 1
    fi
    REG_ARGS=()
    declare -gA REG_URL=()
    local url name d
    while read -r _ _ url _ name; do
        d=$("$PY_BIN" -c 'import json,sys; print([r.get("dir","") for r in json.load(open(sys.argv[1]))["regions"] if r["name"]==sys.argv[2]][0])' "$cfg" "$name")
        REG_ARGS+=("$name=$url=$d")
        REG_URL[$name]=$url
    done <"$T_TMP/serve.out"
}

s3_regions_stop() { # graceful (SIGTERM), waits
    kill "$REG_PID" 2>/dev/null; wait "$REG_PID" 2>/dev/null || true
}
