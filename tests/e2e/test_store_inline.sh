#!/usr/bin/env bash
# e2e: small objects (<= 64 KiB) stored inline in their SQLite row, and the
# group commit that makes them durable together: round trip, ranges,
# overwrite small -> big -> small, copy, delete, list, readers during
# overwrites (store/inline.py checks); a burst of concurrent PUTs all
# acknowledged survives a kill -9 right after; a small PUT killed mid-body
# leaves neither the new key nor a torn overwrite; and a PUT burst and reads
# over a --threads pool as well.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need boto3
D=$(dirname "$0")/store/inline.py
DATA=$T_TMP/data
s3_start "$DATA"
t_run "inline checks" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" checks
echo "$OUT"

# every PUT that got its 200 is durable: kill -9 right after the burst
t_run "burst of 300 concurrent small PUTs" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" burst 300
t_contains "all acked" "$OUT" "acked 300"
kill -9 "$S3_PID"; wait "$S3_PID" 2>/dev/null || true
s3_start "$DATA"
t_run "burst survives kill -9" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" verify 300
t_contains "all verified" "$OUT" "verified 300 of 300"

# a small PUT (an overwrite, and a new key) killed mid-body with the server
"$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" slow burst/7 >"$T_TMP/slow1" 2>&1 &
P1=$!
"$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" slow fresh >"$T_TMP/slow2" 2>&1 &
P2=$!
t_on_exit "kill $P1 $P2 2>/dev/null"
for i in $(seq 1 100); do
    [ "$(grep -c sent "$T_TMP/slow1" 2>/dev/null)" -ge 5 ] && [ "$(grep -c sent "$T_TMP/slow2" 2>/dev/null)" -ge 5 ] && break
    sleep 0.1
done
kill -9 "$S3_PID"; wait "$S3_PID" 2>/dev/null || true
wait $P1 $P2 2>/dev/null || true
s3_start "$DATA"
t_run "old small version intact" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" verify 300
t_run "killed new key absent" 0 "$PY_BIN" -c '
import sys, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name="us-east-1", config=Config(signature_version="s3v4"))
keys = [o["Key"] for o in s3.list_objects_v2(Bucket="inline-bucket", Prefix="fresh").get("Contents", [])]
sys.exit(1 if keys else 0)' "$S3_URL" "$S3_AK" "$S3_SK"
s3_stop

# the same over a pool of 2 epoll threads instead of a thread per connection
s3_start "$DATA" --threads 2
t_run "pool: burst of PUTs" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" burst 100
t_run "pool: reads back" 0 timeout 120 "$PY_BIN" "$D" "$S3_URL" "$S3_AK" "$S3_SK" "$DATA" verify 300
s3_stop
t_done
