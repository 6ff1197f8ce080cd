#!/usr/bin/env bash
# e2e: declarative request -> exact response cases (store/cases/*.case) for
# the S3 server's error paths and addressing, signed by botocore's
# independent signer. The server runs from a JSON config file with two
# users and a virtual-host domain; a bad config is rejected with its place.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need boto3 aws
cat >"$T_TMP/store.json" <<JSON
{"region": "us-east-1", "domain": "s3.test",
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"},
           {"access_key": "second-user", "secret_key": "second-secret"}]}
JSON
s3_start "$T_TMP/data" --config "$T_TMP/store.json"
t_run "cases" 0 timeout 120 "$PY_BIN" "$(dirname "$0")/store/cases.py" "$S3_URL" "$S3_AK" "$S3_SK" \
    "$(dirname "$0")"/store/cases/*.case
echo "$OUT" | grep -v '^ok ' || true
t_contains "all cases ran" "$OUT" "cases, 0 failed"
t_run "second user" 0 env AWS_ACCESS_KEY_ID=second-user AWS_SECRET_ACCESS_KEY=second-secret \
    "$AWS_BIN" --endpoint-url "$S3_URL" s3 ls s3://cases/
t_contains "second user lists" "$OUT" "hello.txt"
s3_stop

echo '{"users": [{"access_key": "a"}], "domian": "x"}' >"$T_TMP/bad.json"
t_run "bad config" 3 "$SKYC_BIN" store serve --config "$T_TMP/bad.json" --data "$T_TMP/d2"
t_contains "names the problem" "$ERR" "bad.json: "
echo '{"users": [' >"$T_TMP/broken.json"
t_run "broken config" 3 "$SKYC_BIN" store serve --config "$T_TMP/broken.json" --data "$T_TMP/d2"
t_contains "line and column" "$ERR" "broken.json:2:0: "
t_run "no user" 2 "$SKYC_BIN" store serve --data "$T_TMP/d2"
t_contains "no user says how" "$ERR" "--access-key"
t_run "bad listen" 2 "$SKYC_BIN" store serve --data "$T_TMP/d2" --listen nowhere --access-key a --secret-key b
t_contains "listen hint" "$ERR" "HOST:PORT"
t_done
