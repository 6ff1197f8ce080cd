#!/usr/bin/env bash
# e2e: durability of skyc store serve. kill -9 in the middle of a PUT leaves
# no partial object (the old version stays intact, the temporary file is
# cleared at restart), a client vanishing mid-PUT leaves nothing, metadata
# survives the restart, and readers of an
# object being overwritten see the old bytes or the new, never a mix.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need aws boto3
D=$(dirname "$0")/store/durability.py
s3_start "$T_TMP/data"
t_run "mb" 0 awss3 s3 mb s3://dur-bucket
echo "old version" >"$T_TMP/old"
t_run "put old" 0 awss3 s3 cp "$T_TMP/old" s3://dur-bucket/victim
t_run "put other" 0 awss3 s3 cp "$T_TMP/old" s3://dur-bucket/other

# a slow overwrite of 'victim' and a slow new key, then kill -9 the server
"$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" slow-put victim 33554432 >"$T_TMP/slow1" 2>&1 &
P1=$!
"$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" slow-put newkey 33554432 >"$T_TMP/slow2" 2>&1 &
P2=$!
t_on_exit "kill $P1 $P2 2>/dev/null"
for i in $(seq 1 100); do
    [ "$(grep -c sent "$T_TMP/slow1" 2>/dev/null)" -ge 10 ] && [ "$(grep -c sent "$T_TMP/slow2" 2>/dev/null)" -ge 10 ] && break
    sleep 0.1
done
t_eq "partial uploads in tmp/" "$(find "$T_TMP/data/tmp" -type f | wc -l)" "2"
kill -9 "$S3_PID"; wait "$S3_PID" 2>/dev/null || true
wait $P1 $P2 2>/dev/null || true

# a blob committed just before a crash, its metadata row never written
echo orphan >"$T_TMP/data/blobs/ab/ab000000000000000000000000000000"
s3_start "$T_TMP/data"
t_eq "tmp cleared at restart" "$(find "$T_TMP/data/tmp" -type f | wc -l)" "0"
t_run "old version intact" 0 awss3 s3 cp s3://dur-bucket/victim -
t_eq "old bytes" "$OUT" "old version"
t_run "new key absent" 254 awss3 s3api head-object --bucket dur-bucket --key newkey
t_run "listing" 0 awss3 s3 ls s3://dur-bucket/
t_contains "other survives" "$OUT" "other"
t_not_contains "no partial" "$OUT" "newkey"
# (victim and other are small: they live inline in their rows, no blob file)
t_eq "orphan blob swept" "$(find "$T_TMP/data/blobs" -type f | wc -l)" "0"

# a client that goes away mid-PUT leaves nothing behind either
"$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" slow-put gone 33554432 >"$T_TMP/slow3" 2>&1 &
P3=$!
for i in $(seq 1 100); do
    [ "$(grep -c sent "$T_TMP/slow3" 2>/dev/null)" -ge 5 ] && break; sleep 0.1
done
kill -9 $P3; wait $P3 2>/dev/null || true
for i in $(seq 1 50); do
    [ "$(find "$T_TMP/data/tmp" -type f | wc -l)" -eq 0 ] && break; sleep 0.1
done
t_eq "aborted upload cleaned up" "$(find "$T_TMP/data/tmp" -type f | wc -l)" "0"
t_run "aborted key absent" 254 awss3 s3api head-object --bucket dur-bucket --key gone

t_run "readers during overwrites" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" mix flip 3
echo "$OUT"
s3_stop
t_done
