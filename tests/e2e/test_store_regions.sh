#!/usr/bin/env bash
# e2e: one `skyc store serve --config` serving a bucket namespace across three
# regions (one S3 endpoint each on free loopback ports, one directory backend
# each, one SQLite metadata recording each replica), a placement policy per
# bucket. boto3 puts at one
# region and gets at another (store/regions.py) and the test checks which
# region directories hold copies; then `skyc store cost` bills the saved
# placement state. Also: a config naming an unknown region fails clearly.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
t_need_shared skystore
s3_need boto3

cfg=$T_TMP/regions.json
cat >"$cfg" <<JSON
{"data": "$T_TMP/meta", "fsync": false,
 "users": [{"access_key": "$S3_AK", "secret_key": "$S3_SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$T_TMP/r-aws", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "dir": "$T_TMP/r-gcp", "listen": "127.0.0.1:0"},
   {"name": "azure:eastus", "dir": "$T_TMP/r-azure", "listen": "127.0.0.1:0"}],
 "policy": "write-local",
 "buckets": {"p-cor": "always-store", "p-ra": "replicate-all", "p-ttl": "ttl:2s",
             "p-sr": "single-region"}}
JSON
"$SKYC_BIN" store serve --config "$cfg" >"$T_TMP/serve.out" 2>"$T_TMP/serve.err" &
pid=$!
t_on_exit "kill -9 $pid 2>/dev/null"
for _ in $(seq 1 100); do
    [ "$(grep -c '^listening on ' "$T_TMP/serve.out")" = 3 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
t_eq "three endpoints" "$(grep -c '^listening on http://127.0.0.1:[0-9]* region ' "$T_TMP/serve.out")" 3
args=()
while read -r _ _ url _ name; do
    case $name in aws:*) d=r-aws ;; gcp:*) d=r-gcp ;; *) d=r-azure ;; esac
    args+=("$name=$url=$T_TMP/$d")
done <"$T_TMP/serve.out"
t_run "placement across regions (boto3)" 0 timeout 120 "$PY_BIN" \
    "$(dirname "$0")/store/regions.py" "$S3_AK" "$S3_SK" "$T_TMP/meta" "${args[@]}"
echo "$OUT" | grep -v '^ok ' || true
t_eq "every placement check ran" "$(echo "$OUT" | grep -c "^ok ")" 28
kill "$pid"; wait "$pid" 2>/dev/null || true
t_eq "placement state saved" "$(test -s "$T_TMP/meta/placement.json" && echo yes)" yes
t_run "store cost of the served state" 0 skyc store cost --state "$T_TMP/meta/placement.json" --json
t_contains "bill names bucket p-cor" "$OUT" '"p-cor"'
t_contains "bill names region gcp" "$OUT" 'gcp:europe-west1'

# bad config: an unknown region says which and how to fix it
sed 's/gcp:europe-west1"/mars:olympus-1"/' "$cfg" >"$T_TMP/bad.json"
t_run "unknown region rejected" 3 skyc store serve --config "$T_TMP/bad.json"
t_contains "unknown region named" "$ERR" "region 'mars:olympus-1' is not in the cost model"
t_done
