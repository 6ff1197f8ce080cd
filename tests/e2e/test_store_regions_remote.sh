#!/usr/bin/env bash
# e2e: a region's backend is a remote S3-compatible bucket. A plain
# `skyc store serve` on loopback plays the remote cloud (its own user); a
# two-region `skyc store serve --config` names it as region gcp's "s3"
# backend (URL, bucket, prefix, credentials from the config). boto3
# (store/regions_remote.py) checks that objects placed in gcp live in the
# remote bucket by listing it directly, and that reads, replication and
# eviction work through it. Also: bad "s3" configs fail clearly.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
t_need_shared skystore
s3_need boto3 aws

RAK=remote-cloud-key RSK=remote-cloud-secret
s3_cloud_start "$RAK" "$RSK"
cloud_pid=$CLOUD_PID
S3_URL=$RURL AWS_ACCESS_KEY_ID=$RAK AWS_SECRET_ACCESS_KEY=$RSK \
    t_run "remote bucket made" 0 awss3 s3 mb s3://cloud-bucket

cfg=$T_TMP/regions.json
cat >"$cfg" <<JSON
{"data": "$T_TMP/meta", "fsync": false,
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$T_TMP/r-aws", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "listen": "127.0.0.1:0",
    "s3": {"url": "$RURL", "bucket": "cloud-bucket", "prefix": "skyc",
           "access_key": "$RAK", "secret_key": "$RSK"}}],
 "policy": "write-local",
 "buckets": {"p-cor": "always-store", "p-ra": "replicate-all", "p-ttl": "ttl:2s"}}
JSON
s3_regions_start "$cfg"
t_run "placement through a remote backend (boto3)" 0 timeout 150 "$PY_BIN" \
    "$(dirname "$0")/store/regions_remote.py" "$S3_AK" "$S3_SK" "$T_TMP/meta" \
    "${REG_ARGS[@]}" "$RURL" "$RAK" "$RSK" cloud-bucket skyc
echo "$OUT" | grep -v '^ok ' || true
t_eq "every remote check ran" "$(echo "$OUT" | grep -c "^ok ")" 22
s3_regions_stop
kill "$cloud_pid"; wait "$cloud_pid" 2>/dev/null || true

# bad remote configs say what and how to fix it
sed 's/"bucket": "cloud-bucket", //' "$cfg" >"$T_TMP/bad1.json"
t_run "s3 backend without a bucket rejected" 3 skyc store serve --config "$T_TMP/bad1.json"
t_contains "missing bucket named" "$ERR" 'regions[1].s3 needs "bucket"'
sed 's/"url": "http/"url": "ftp/' "$cfg" >"$T_TMP/bad2.json"
t_run "s3 backend with a bad url rejected" 3 skyc store serve --config "$T_TMP/bad2.json"
t_contains "bad url named" "$ERR" "must start with http:// or https://"
sed 's/"listen": "127.0.0.1:0",$/"listen": "127.0.0.1:0", "dir": "x",/' "$cfg" >"$T_TMP/bad3.json"
t_run "dir and s3 together rejected" 3 skyc store serve --config "$T_TMP/bad3.json"
t_contains "dir or s3 said" "$ERR" 'either "dir"'
t_done
