#!/usr/bin/env bash
# e2e: replication is asynchronous and crash safe, the placement state is
# saved incrementally. Region gcp's backend is a remote bucket (a second
# `skyc store serve`) that the test freezes (SIGSTOP): a copy-on-read GET at
# gcp still gets its bytes at once and the replica waits, while other
# requests at both endpoints go on (nothing waits behind the stuck copy);
# thawed, the replica lands. A kill -9 with a copy in flight leaves no
# replica, whole or half, visible anywhere; after the restart the engine's
# state (snapshot + journal, replayed) still knows earlier replicas.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
t_need_shared skystore
s3_need aws

RAK=cloud-key RSK=cloud-secret
s3_cloud_start "$RAK" "$RSK"
cloud_pid=$CLOUD_PID
S3_URL=$RURL AWS_ACCESS_KEY_ID=$RAK AWS_SECRET_ACCESS_KEY=$RSK \
    t_run "remote bucket made" 0 awss3 s3 mb s3://cloud
remote_keys() {
    S3_URL=$RURL AWS_ACCESS_KEY_ID=$RAK AWS_SECRET_ACCESS_KEY=$RSK \
        awss3 s3api list-objects-v2 --bucket cloud --query 'length(Contents || `[]`)' --output text
}
cfg=$T_TMP/regions.json
cat >"$cfg" <<JSON
{"data": "$T_TMP/meta", "fsync": false,
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$T_TMP/r-aws", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "listen": "127.0.0.1:0",
    "s3": {"url": "$RURL", "bucket": "cloud", "access_key": "$RAK", "secret_key": "$RSK"}}],
 "policy": "always-store"}
JSON
stats() { # ENDPOINT: the server's counters
    curl -sf --max-time 10 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_AK:$S3_SK" \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$1/?skyc-stats="
}
pending() { stats "$1" | "$PY_BIN" -c 'import json,sys; print(json.load(sys.stdin)["copies_pending"])'; }
copies() {
    "$PY_BIN" -c 'import sqlite3,sys; db=sqlite3.connect("file:%s/meta.db?mode=ro" % sys.argv[1], uri=True); print(db.execute("SELECT count(*) FROM copies").fetchone()[0])' "$T_TMP/meta"
}
s3_regions_start "$cfg"
A=${REG_URL[aws:us-east-1]} G=${REG_URL[gcp:europe-west1]}
S3_URL=$A
t_run "bucket made" 0 awss3 s3 mb s3://cor
head -c $((3 << 20)) /dev/urandom >"$T_TMP/obj1"
head -c $((3 << 20)) /dev/urandom >"$T_TMP/obj2"
t_run "put obj1 at aws" 0 awss3 s3 cp "$T_TMP/obj1" s3://cor/obj1
t_run "put obj2 at aws" 0 awss3 s3 cp "$T_TMP/obj2" s3://cor/obj2
t_eq "no copy pending at rest" "$(pending "$A")" 0

# freeze the remote cloud: replicas to gcp cannot land
kill -STOP "$cloud_pid"
S3_URL=$G
t_run "copy-on-read get at gcp while its replica cannot be written" 0 \
    timeout 20 "$AWS_BIN" --endpoint-url "$G" s3 cp --only-show-errors s3://cor/obj1 "$T_TMP/got1"
t_eq "the client got every byte" "$(cmp "$T_TMP/obj1" "$T_TMP/got1" && echo same)" same
t_eq "the replica is still pending" "$(pending "$G")" 1
# other requests go on meanwhile, at both endpoints
t_run "another copy-on-read get at gcp" 0 \
    timeout 20 "$AWS_BIN" --endpoint-url "$G" s3 cp --only-show-errors s3://cor/obj2 "$T_TMP/got2"
t_eq "second get's bytes" "$(cmp "$T_TMP/obj2" "$T_TMP/got2" && echo same)" same
t_run "a put at aws during the stuck copies" 0 \
    timeout 20 "$AWS_BIN" --endpoint-url "$A" s3 cp --only-show-errors "$T_TMP/obj2" s3://cor/obj3
t_run "a listing at gcp during the stuck copies" 0 \
    timeout 20 "$AWS_BIN" --endpoint-url "$G" s3api list-objects-v2 --bucket cor --query 'length(Contents)'
t_eq "the listing sees every object" "$OUT" 3
t_eq "both replicas pending" "$(pending "$A")" 2
t_eq "no replica recorded yet" "$(copies)" 0
kill -CONT "$cloud_pid"
for _ in $(seq 1 100); do [ "$(pending "$A")" = 0 ] && break; sleep 0.1; done
t_eq "thawed: the copies finish" "$(pending "$A")" 0
t_eq "thawed: both replicas recorded" "$(copies)" 2
t_eq "thawed: both replicas in the remote bucket" "$(remote_keys)" 2
t_run "get at gcp reads its replica" 0 \
    curl -sf -o /dev/null -D "$T_TMP/h" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_AK:$S3_SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$G/cor/obj1"
t_contains "served from gcp" "$(cat "$T_TMP/h")" "x-skyc-read-region: gcp:europe-west1"

# the engine's state is a journal, not a file rewritten every second
t_eq "journal has the engine's calls" "$( [ -s "$T_TMP/meta/placement.journal" ] && echo yes)" yes
snap=$(stat -c %Y.%s "$T_TMP/meta/placement.json")
sleep 1.3
t_run "a get at aws" 0 timeout 20 "$AWS_BIN" --endpoint-url "$A" s3 cp --only-show-errors s3://cor/obj3 "$T_TMP/got3"
sleep 1.3
t_eq "snapshot not rewritten while serving" "$(stat -c %Y.%s "$T_TMP/meta/placement.json")" "$snap"

# kill -9 with a copy in flight: freeze the remote, start a replica, kill
kill -STOP "$cloud_pid"
t_run "get at gcp starts a replica of obj3" 0 \
    timeout 20 "$AWS_BIN" --endpoint-url "$G" s3 cp --only-show-errors s3://cor/obj3 "$T_TMP/got3"
t_eq "its copy is in flight" "$(pending "$A")" 1
kill -9 "$REG_PID"; wait "$REG_PID" 2>/dev/null || true
cp "$T_TMP/meta/placement.journal" "$T_TMP/journal.old"
kill -CONT "$cloud_pid"
sleep 0.5
t_eq "no replica of obj3 reached the remote" "$(remote_keys)" 2
t_eq "no replica of obj3 recorded" "$(copies)" 2
t_eq "spool holds at most the unsent copy" "$(ls "$T_TMP"/meta/spool-1/tmp | wc -l)" 1
s3_regions_start "$cfg"
A=${REG_URL[aws:us-east-1]} G=${REG_URL[gcp:europe-west1]}
t_contains "journal replayed at start" "$(cat "$T_TMP/serve.err")" "journal record"
t_eq "the spool is cleared at start" "$(ls "$T_TMP"/meta/spool-1/tmp | wc -l)" 0
t_run "get at gcp after the crash" 0 \
    curl -sf -o "$T_TMP/got1b" -D "$T_TMP/h" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_AK:$S3_SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$G/cor/obj1"
t_contains "the replayed engine still reads obj1's replica at gcp" "$(cat "$T_TMP/h")" "x-skyc-read-region: gcp:europe-west1"
t_eq "its bytes" "$(cmp "$T_TMP/obj1" "$T_TMP/got1b" && echo same)" same
# the engine kept obj3's replica at gcp (always-store); the crash lost its
# copy, so the start queues it again from the primary
t_contains "lost replica queued again at start" "$(cat "$T_TMP/serve.err")" "1 replica(s) not made before the last stop queued again"
for _ in $(seq 1 100); do [ "$(pending "$A")" = 0 ] && break; sleep 0.1; done
t_eq "the lost replica is made" "$(copies)" 3
t_eq "and is in the remote bucket" "$(remote_keys)" 3
t_run "get of obj3 at gcp after the crash" 0 \
    curl -sf -o "$T_TMP/got3b" -D "$T_TMP/h" --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_AK:$S3_SK" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$G/cor/obj3"
t_contains "obj3 served from its remade replica at gcp" "$(cat "$T_TMP/h")" "x-skyc-read-region: gcp:europe-west1"
t_eq "obj3's bytes" "$(cmp "$T_TMP/obj2" "$T_TMP/got3b" && echo same)" same
s3_regions_stop
t_eq "journal restarted at stop" "$(cut -f1 "$T_TMP/meta/placement.journal" | tr -d '\n')" g
t_run "bill of the stopped server" 0 skyc store cost --state "$T_TMP/meta/placement.json" --json
bill=$OUT
# a crash between a snapshot and the journal's restart leaves a journal of
# the old generation: the next start must not apply its calls twice
cp "$T_TMP/journal.old" "$T_TMP/meta/placement.journal"
s3_regions_start "$cfg"
s3_regions_stop
t_contains "stale journal recognised" "$(cat "$T_TMP/serve.err")" "not of the snapshot's generation"
t_run "bill after the stale journal" 0 skyc store cost --state "$T_TMP/meta/placement.json" --json
t_eq "no call applied twice" "$(echo "$OUT" | grep -v '"at"')" "$(echo "$bill" | grep -v '"at"')"
kill "$cloud_pid"; wait "$cloud_pid" 2>/dev/null || true
t_done
