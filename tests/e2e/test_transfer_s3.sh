#!/usr/bin/env bash
# e2e: skyc cp / sync with an S3 endpoint (libcurl + the project's SigV4
# signer) against the project's own S3-compatible server on loopback:
# upload (packed small objects and multipart large ones), download, sync,
# a gateway dying mid-upload and the re-run finishing the multipart uploads
# it left, and bad credentials refused.
. "$(dirname "$0")/lib.sh"
set -e

PIDS=()
t_on_exit 'for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'

mkdir -p "$T_TMP/store"
"$SKYC_BIN" store serve --data "$T_TMP/store" --listen 127.0.0.1:0 \
    --access-key AKTEST --secret-key SKTEST123 --no-fsync \
    >"$T_TMP/store.out" 2>"$T_TMP/store.err" &
PIDS+=($!)
ADDR=
for _ in $(seq 1 100); do
    ADDR=$(sed -n 's/.*serving.* on \(127\.0\.0\.1:[0-9]*\).*/\1/p' "$T_TMP/store.err" 2>/dev/null | head -1)
    [ -n "$ADDR" ] && break
    sleep 0.05
done
[ -n "$ADDR" ] || { echo "store did not start"; cat "$T_TMP/store.err"; exit 1; }
export AWS_ACCESS_KEY_ID=AKTEST AWS_SECRET_ACCESS_KEY=SKTEST123 \
       SKYC_S3_ENDPOINT="http://$ADDR" AWS_REGION=us-east-1
curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user AKTEST:SKTEST123 \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "http://$ADDR/bkt" >/dev/null

start_gw() {
    local var=$1; shift
    local out="$T_TMP/gw.$RANDOM.out"
    "$SKYC_BIN" gateway --listen 127.0.0.1:0 "$@" >"$out" 2>>"$T_TMP/gw.log" &
    PIDS+=($!)
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$out" 2>/dev/null && break
        sleep 0.05
    done
    printf -v "$var" '%s' "$(sed -n 's/^listening on //p' "$out")"
}

SRC="$T_TMP/src"
mkdir -p "$SRC/d"
head -c 12000000 /dev/urandom >"$SRC/big.bin"     # 3 parts of 5 MiB
for i in $(seq 1 40); do head -c $((i * 331)) /dev/urandom >"$SRC/d/s$i"; done
: >"$SRC/empty"

t_run "upload" 0 skyc cp -r "$SRC" s3://bkt/up --chunk-size 5M
t_contains "upload" "$ERR" "copied 42 objects"
t_run "download" 0 skyc cp -r s3://bkt/up "$T_TMP/back" --chunk-size 5M -q
if diff -r "$SRC" "$T_TMP/back" >/dev/null; then t_pass; else t_fail "round trip differs"; fi
t_run "single object" 0 skyc cp s3://bkt/up/big.bin "$T_TMP/one.bin" -q
cmp -s "$SRC/big.bin" "$T_TMP/one.bin" && t_pass || t_fail "single object differs"
# a single object keeps its mtime (x-amz-meta-skyc-mtime, read by HEAD)
t_eq "mtime through s3" "$(stat -c %Y "$T_TMP/one.bin")" "$(stat -c %Y "$SRC/big.bin")"

t_run "sync noop" 0 skyc sync "$SRC" s3://bkt/up --json -q
t_contains "sync noop" "$OUT" '"objects": 0'
printf 'new' >"$SRC/d/s3"
t_run "sync one" 0 skyc sync "$SRC" s3://bkt/up --json -q
t_contains "sync one" "$OUT" '"objects": 1'

# the gateway dies after two parts of big2; the re-run sends only the rest
# and completes the multipart upload the first run started
head -c 30000000 /dev/urandom >"$T_TMP/big2.bin"
start_gw GW_DIE --fault-exit-chunk 3
t_run "upload dies" 7 skyc cp "$T_TMP/big2.bin" s3://bkt/r/big2.bin --to "$GW_DIE" \
    --chunk-size 5M -n 1 --retries 0 -q
t_run "upload resumes" 0 skyc cp "$T_TMP/big2.bin" s3://bkt/r/big2.bin \
    --chunk-size 5M -n 1 --json -q
skipped=$(echo "$OUT" | sed -n 's/.*"chunks_skipped": \([0-9]*\).*/\1/p')
[ "$skipped" -ge 1 ] && [ "$skipped" -lt 6 ] && t_pass || t_fail "resume skipped $skipped of 6"
t_run "fetch resumed" 0 skyc cp s3://bkt/r/big2.bin "$T_TMP/big2.back" -q
cmp -s "$T_TMP/big2.bin" "$T_TMP/big2.back" && t_pass || t_fail "resumed upload differs"

t_run "small parts" 2 skyc cp -r "$SRC" s3://bkt/x --chunk-size 1M
t_contains "small parts" "$ERR" "at least 5M"
t_run "bad secret" 10 env AWS_SECRET_ACCESS_KEY=wrong "$SKYC_BIN" cp -r s3://bkt/up "$T_TMP/x" -q
t_contains "bad secret" "$ERR" "HTTP 403"
t_run "no bucket" 4 skyc cp -r s3://nobucket/x "$T_TMP/x" -q
t_run "no creds" 10 env -u AWS_ACCESS_KEY_ID "$SKYC_BIN" cp -r s3://bkt/up "$T_TMP/x" -q
t_contains "no creds" "$ERR" "AWS_ACCESS_KEY_ID"

t_done
