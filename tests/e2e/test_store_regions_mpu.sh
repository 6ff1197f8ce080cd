#!/usr/bin/env bash
# e2e: a multipart upload across the endpoints of a three-region
# `skyc store serve`: parts sent to different regions' endpoints land in
# their regions' backends, complete at a third endpoint assembles them
# (S3's multipart ETag), every endpoint reads the object (boto3,
# store/regions_multipart.py); the aws CLI's own multipart cp at one
# endpoint and a get at another.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
t_need_shared skystore
s3_need boto3 aws

cfg=$T_TMP/regions.json
cat >"$cfg" <<JSON
{"data": "$T_TMP/meta", "fsync": false,
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$T_TMP/r-aws", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "dir": "$T_TMP/r-gcp", "listen": "127.0.0.1:0"},
   {"name": "azure:eastus", "dir": "$T_TMP/r-azure", "listen": "127.0.0.1:0"}],
 "policy": "write-local"}
JSON
s3_regions_start "$cfg"
t_run "multipart across region endpoints (boto3)" 0 timeout 120 "$PY_BIN" \
    "$(dirname "$0")/store/regions_multipart.py" "$S3_AK" "$S3_SK" "$T_TMP/meta" "${REG_ARGS[@]}"
echo "$OUT" | grep -v '^ok ' || true
t_eq "every multipart check ran" "$(echo "$OUT" | grep -c "^ok ")" 26

# the aws CLI: a 12 MiB multipart cp into the gcp endpoint, read at azure
head -c $((12 << 20)) /dev/urandom >"$T_TMP/big.bin"
S3_URL=${REG_URL[gcp:europe-west1]}
t_run "aws s3 cp (multipart) at gcp" 0 awss3 s3 cp "$T_TMP/big.bin" s3://mpu/cli.bin
S3_URL=${REG_URL[azure:eastus]}
t_run "aws s3 cp back at azure" 0 awss3 s3 cp s3://mpu/cli.bin "$T_TMP/back.bin"
t_eq "bytes survive the round trip" "$(cmp "$T_TMP/big.bin" "$T_TMP/back.bin" && echo same)" same
t_run "head at azure" 0 awss3 s3api head-object --bucket mpu --key cli.bin
t_contains "aws CLI object has a multipart ETag" "$OUT" '-2\"'
s3_regions_stop
t_done
