#!/usr/bin/env bash
# e2e: clients' region discovery on a three-region `skyc store serve`:
# GetBucketLocation and HeadBucket's x-amz-bucket-region answer the
# bucket's home region at every endpoint (boto3, store/regions_location.py,
# clients signing for their own region; the aws CLI's mb --region and
# get-bucket-location); the home survives a restart.
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
 "policy": "write-local", "buckets": {"sr-home": "single-region"}}
JSON
s3_regions_start "$cfg"
t_run "bucket locations (boto3)" 0 timeout 60 "$PY_BIN" \
    "$(dirname "$0")/store/regions_location.py" "$S3_AK" "$S3_SK" "$T_TMP/meta" "${REG_ARGS[@]}"
echo "$OUT" | grep -v '^ok ' || true
t_eq "every location check ran" "$(echo "$OUT" | grep -c "^ok ")" 21

S3_URL=${REG_URL[aws:us-east-1]}
t_run "aws s3 mb --region eastus at the aws endpoint" 0 awss3 s3 mb s3://cli-az --region eastus
S3_URL=${REG_URL[gcp:europe-west1]}
t_run "aws get-bucket-location at gcp" 0 awss3 s3api get-bucket-location --bucket cli-az --output text
t_eq "aws CLI sees the azure home" "$OUT" eastus
t_run "aws mb at gcp without a region" 0 awss3 s3 mb s3://cli-gcp --region europe-west1
s3_regions_stop
s3_regions_start "$cfg"
S3_URL=${REG_URL[azure:eastus]}
t_run "get-bucket-location after restart" 0 awss3 s3api get-bucket-location --bucket cli-gcp --output text
t_eq "home kept across restart" "$OUT" europe-west1
s3_regions_stop
t_done
