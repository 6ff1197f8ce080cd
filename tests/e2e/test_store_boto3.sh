#!/usr/bin/env bash
# e2e: skyc store serve driven by boto3 (store/boto3_checks.py): metadata,
# ranges, conditionals, errors with RequestId, checksums, listings v1/v2/
# versions with pagination, copy, multipart (incl. part copy and order
# checks), managed transfers, presigned GET/PUT with expiry, DeleteObjects.
# Runs with Debian's python3-boto3, and again with a newer boto3 on PATH
# when there is one (newer botocore sends aws-chunked bodies with CRC32
# trailers by default).
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
s3_stop
t_done
