#!/usr/bin/env bash
# e2e: declarative request -> exact response cases (store/cases/*.case) for
# the S3 server's error paths, signed by botocore's independent signer.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need boto3
s3_start "$T_TMP/data"
t_run "cases" 0 timeout 120 "$PY_BIN" "$(dirname "$0")/store/cases.py" "$S3_URL" "$S3_AK" "$S3_SK" \
    "$(dirname "$0")"/store/cases/*.case
echo "$OUT" | grep -v '^ok ' || true
s3_stop
t_done
