#!/usr/bin/env bash
# e2e: skyc store serve driven by boto3 (store/boto3_checks.py): metadata,
# ranges, conditionals, errors with RequestId, checksums, listings v1/v2/
# versions with pagination, copy, multipart (incl. part copy and order
# checks), managed transfers, presigned GET/PUT with expiry, DeleteObjects.
# Runs with Debian's python3-boto3, and again with a newer boto3 on PATH
# when there is one (newer botocore sends aws-chunked bodies with CRC32
# trailers by default). store/chunked.py sends aws-chunked bodies (signed
# chunks, and unsigned chunks with a CRC32 trailer) built by hand.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need boto3
s3_start "$T_TMP/data"
t_run "boto3 ($PY_BIN)" 0 timeout 300 "$PY_BIN" "$(dirname "$0")/store/boto3_checks.py" "$S3_URL" "$S3_AK" "$S3_SK"
echo "$OUT" | grep -v '^ok ' || true
other=$(command -v python3 || true)
if [ -n "$other" ] && [ "$(readlink -f "$other")" != "$(readlink -f "$PY_BIN")" ] &&
   "$other" -c 'import boto3' 2>/dev/null; then
    t_run "boto3 ($other)" 0 timeout 300 "$other" "$(dirname "$0")/store/boto3_checks.py" "$S3_URL" "$S3_AK" "$S3_SK"
    echo "$OUT" | grep -v '^ok ' || true
fi
t_run "aws-chunked" 0 timeout 60 "$PY_BIN" "$(dirname "$0")/store/chunked.py" "$S3_URL" "$S3_AK" "$S3_SK"
echo "$OUT" | grep -v '^ok ' || true
s3_stop
t_done
