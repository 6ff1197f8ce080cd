#!/usr/bin/env bash
# e2e: a bucket's placement policy changed at run time over HTTP
# (PUT /BUCKET?skyc-policy, signed) with `skyc store policy get|set`
# against a two-region `skyc store serve`: the new policy applies to the
# next request (a GET at the other region now keeps a replica), it outlives
# a restart, bad policies / buckets / keys fail clearly, and a
# single-region server says policies need regions.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
t_need_shared skystore
s3_need aws

cfg=$T_TMP/regions.json
cat >"$cfg" <<JSON
{"data": "$T_TMP/meta", "fsync": false,
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$T_TMP/r-aws", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "dir": "$T_TMP/r-gcp", "listen": "127.0.0.1:0"}],
 "policy": "write-local", "buckets": {"pol-conf": "replicate-all"}}
JSON
copies() { # BUCKET KEY: regions the metadata records a replica in
    "$PY_BIN" -c 'import sqlite3,sys; db=sqlite3.connect("file:%s/meta.db?mode=ro" % sys.argv[1], uri=True); print(" ".join(r[0] for r in db.execute("SELECT region FROM copies WHERE bucket=? AND key=?", sys.argv[2:4])))' "$T_TMP/meta" "$1" "$2"
}
wait_copies() { # BUCKET KEY WANT
    for _ in $(seq 1 50); do [ "$(copies "$1" "$2")" = "$3" ] && break; sleep 0.1; done
    copies "$1" "$2"
}
s3_regions_start "$cfg"
A=${REG_URL[aws:us-east-1]} B=${REG_URL[gcp:europe-west1]}
S3_URL=$A
t_run "bucket made" 0 awss3 s3 mb s3://pol
t_run "bucket p-conf made" 0 awss3 s3 mb s3://pol-conf
t_run "policy get (default)" 0 skyc store policy get pol --endpoint "$A"
t_contains "default policy shown" "$OUT" "write-local"
t_contains "source default" "$OUT" "default"
t_run "policy get of a configured bucket" 0 skyc store policy get pol-conf --endpoint "$B" --json
t_contains "config policy shown" "$OUT" '"policy": "replicate-all"'
t_contains "source config" "$OUT" '"source": "config"'

echo one >"$T_TMP/one"
t_run "put at A" 0 awss3 s3 cp "$T_TMP/one" s3://pol/one
S3_URL=$B
t_run "get at B under write-local" 0 awss3 s3 cp s3://pol/one "$T_TMP/got"
t_eq "write-local keeps no replica" "$(copies pol one)" ""

t_run "policy set at B" 0 skyc store policy set pol always-store --endpoint "$B"
t_contains "set answers the new policy" "$OUT" "always-store"
t_contains "set answers source runtime" "$OUT" "runtime"
t_run "get at B under always-store" 0 awss3 s3 cp s3://pol/one "$T_TMP/got"
t_eq "the new policy keeps a replica in B" "$(wait_copies pol one gcp:europe-west1)" "gcp:europe-west1"
t_run "policy get at A sees it" 0 skyc store policy get pol --endpoint "$A" --json
t_contains "runtime policy at A" "$OUT" '"policy": "always-store"'

# bad input
t_run "unknown policy rejected" 2 skyc store policy set pol sometimes --endpoint "$A"
t_contains "bad policy named" "$ERR" "InvalidArgument"
t_contains "bad policy quoted" "$ERR" "sometimes"
t_run "unknown bucket" 4 skyc store policy get nope --endpoint "$A"
t_contains "no such bucket said" "$ERR" "NoSuchBucket"
t_run "wrong secret" 10 skyc store policy get pol --endpoint "$A" --secret-key wrong
t_contains "signature rejected" "$ERR" "SignatureDoesNotMatch"
t_run "no endpoint" 2 skyc store policy get p
t_contains "endpoint required" "$ERR" "--endpoint URL is required"
t_run "bad verb" 2 skyc store policy put pol x --endpoint "$A"
t_run "malformed body" 0 curl -s -o "$T_TMP/mal" -w '%{http_code}' -X PUT \
    --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_AK:$S3_SK" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    --data-binary '{"policy": ' "$A/pol?skyc-policy="
t_eq "malformed JSON is 400" "$OUT" 400
t_contains "malformed JSON said" "$(cat "$T_TMP/mal")" "must be JSON"

# the runtime policy outlives a restart, and the engine uses it
s3_regions_stop
s3_regions_start "$cfg"
A=${REG_URL[aws:us-east-1]} B=${REG_URL[gcp:europe-west1]}
t_run "policy get after restart" 0 skyc store policy get pol --endpoint "$B" --json
t_contains "policy kept across restart" "$OUT" '"policy": "always-store"'
t_contains "still runtime" "$OUT" '"source": "runtime"'
echo two >"$T_TMP/two"
S3_URL=$A
t_run "put at A after restart" 0 awss3 s3 cp "$T_TMP/two" s3://pol/two
S3_URL=$B
t_run "get at B after restart" 0 awss3 s3 cp s3://pol/two "$T_TMP/got"
t_eq "restarted engine keeps a replica" "$(wait_copies pol two gcp:europe-west1)" "gcp:europe-west1"
s3_regions_stop

# a single-region server has no placement policies
s3_start "$T_TMP/single"
awss3 s3 mb s3://pol >/dev/null
t_run "single-region server: policy get" 2 skyc store policy get pol --endpoint "$S3_URL"
t_contains "needs regions said" "$ERR" "multi-region server"
s3_stop
t_done
