#!/usr/bin/env bash
# skyc store sim / store cost through the CLI: the shipped SkyStore traces,
# a hand-computed bill, generated traces, saved state, and bad input.
set -e
. "$(dirname "$0")/lib.sh"
t_need_shared skystore/traces
t_need_shared skystore/profiles
TR="$SKYC_SHARED_DATA/skystore/traces"

t_run "store help" 0 skyc store --help
t_contains "store lists sim" "$OUT" "sim"
t_contains "store lists cost" "$OUT" "cost"
t_run "sim help" 0 skyc store sim --help
t_contains "sim help" "$OUT" "--policy"

# every shipped trace replays under every policy
for f in "$TR"/*.csv; do
    t_run "sim $(basename "$f")" 0 skyc store sim --trace "$f"
    for p in single-region replicate-all write-local always-evict ttl:1h \
             ttl:1d always-store break-even; do
        t_contains "sim $(basename "$f") $p" "$OUT" "$p"
    done
    t_contains "sim $(basename "$f") best" "$OUT" "best"
done

# two_regions.csv by hand: 100000 B written in aws:eu-south-1 at 10:00:01,
# read twice from aws:eu-north-1 (10:00:10, 10:00:20); egress $0.02/GB,
# PUT $5.3e-6 (eu-south-1) / $5e-6 (eu-north-1), GET $4e-7, storage
# $0.024 / $0.023 per GB-month.
t_run "two_regions json" 0 skyc store sim --trace "$TR/two_regions.csv" \
    --policy write-local,always-store --json
echo "$OUT" >"$T_TMP/two.json"
t_run "two_regions bill" 0 python3 - "$T_TMP/two.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["policy"]: x for x in d["policies"]}
gbm = 1e5 / 1e9 / (30 * 86400)  # GB-months per second of 100000 B
want = {
    "write-local": 2 * 1e-4 * 0.02 + 5.3e-6 + 2 * 4e-7 + gbm * 19 * 0.024,
    "always-store": 1e-4 * 0.02 + 5.3e-6 + 4e-7 + 5e-6 + 4e-7
                    + gbm * 19 * 0.024 + gbm * 10 * 0.023,
}
for k, v in want.items():
    got = p[k]["total_usd"]
    assert abs(got - v) < 1e-13, (k, got, v)
assert p["always-store"]["replicas"] == 1 and p["write-local"]["replicas"] == 0
assert d["cheapest"] == "write-local"
assert d["trace"]["events"] == 3 and d["trace"]["span_s"] == 19
PY

# trace_output_new.csv: always-evict bills exactly what write-local does;
# copy-on-read beats never caching on these repeated reads
t_run "trace_output_new json" 0 skyc store sim --json \
    --trace "$TR/trace_output_new.csv"
echo "$OUT" >"$T_TMP/new.json"
t_run "trace_output_new properties" 0 python3 - "$T_TMP/new.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
p = {x["policy"]: x for x in d["policies"]}
assert len(p) == 8
assert abs(p["always-evict"]["total_usd"] - p["write-local"]["total_usd"]) < 1e-12
assert p["always-store"]["total_usd"] < p["write-local"]["total_usd"]
assert p["break-even"]["total_usd"] <= 2 * min(p["always-store"]["total_usd"],
                                               p["always-evict"]["total_usd"])
assert p["replicate-all"]["egress_gb"] > p["always-store"]["egress_gb"]
assert d["trace"]["events"] == 99 and len(d["trace"]["regions"]) == 10
PY

# a generated trace: saved, replayed from the file, same bills
t_run "generate" 0 skyc store sim --generate --events 5000 --objects 500 \
    --seed 3 --days 10 --save-trace "$T_TMP/gen.csv" --json
echo "$OUT" >"$T_TMP/gen1.json"
t_run "generated file head" 0 head -1 "$T_TMP/gen.csv"
t_eq "generated header" "$OUT" "timestamp,op,issue_region,obj_key,size"
t_run "replay generated" 0 skyc store sim --trace "$T_TMP/gen.csv" --json
echo "$OUT" >"$T_TMP/gen2.json"
t_run "generated = replayed" 0 python3 - "$T_TMP/gen1.json" "$T_TMP/gen2.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["trace"]["events"] == b["trace"]["events"] == 5000
for x, y in zip(a["policies"], b["policies"]):
    assert x["policy"] == y["policy"]
    assert abs(x["total_usd"] - y["total_usd"]) < 1e-9, (x, y)
PY
t_run "generator regions" 0 skyc store sim --generate --events 500 \
    --regions aws:us-east-1,gcp:us-central1 --policy replicate-all --json
t_contains "gcp zone alias" "$OUT" "gcp:us-central1-a"

# state -> store cost: the per-region bill sums to the simulated total
t_run "sim state" 0 skyc store sim --trace "$TR/trace_output_new.csv" \
    --policy break-even --state "$T_TMP/state.json" --json
echo "$OUT" >"$T_TMP/be.json"
t_run "store cost" 0 skyc store cost --state "$T_TMP/state.json"
t_contains "cost table" "$OUT" "aws:ap-northeast-2"
t_contains "cost total row" "$OUT" "total"
t_run "store cost json" 0 skyc store cost --state "$T_TMP/state.json" --json
echo "$OUT" >"$T_TMP/cost.json"
t_run "store cost later" 0 skyc store cost --state "$T_TMP/state.json" \
    --json --at "2024-12-01 18:00:00"
echo "$OUT" >"$T_TMP/cost2.json"
t_run "cost = sim" 0 python3 - "$T_TMP/be.json" "$T_TMP/cost.json" "$T_TMP/cost2.json" <<'PY'
import json, sys
sim, cost, later = (json.load(open(f)) for f in sys.argv[1:4])
total = sim["policies"][0]["total_usd"]
assert abs(cost["total_usd"] - total) < 1e-9, (cost["total_usd"], total)
assert abs(sum(r["total_usd"] for r in cost["rows"]) - total) < 1e-9
assert all(r["bucket"] == "sim" for r in cost["rows"])
# a year later the primaries have cost a year of storage more
assert later["total_usd"] > total + 0.1
PY

# bad input: located errors, documented exit codes
printf 'timestamp,op,issue_region,obj_key,size\n2023-12-01 18:08:50,write,aws:us-west-2,k,10\n2023-12-01 18:08:51,scan,aws:us-west-2,k,10\n' >"$T_TMP/bad-op.csv"
t_run "bad op" 3 skyc store sim --trace "$T_TMP/bad-op.csv"
t_contains "bad op located" "$ERR" "bad-op.csv:3: bad op 'scan'"
printf 'timestamp,op,issue_region,obj_key,size\n2023-12-01 18:08:50,write,aws:us-west-2,k,lots\n' >"$T_TMP/bad-size.csv"
t_run "bad size" 3 skyc store sim --trace "$T_TMP/bad-size.csv"
t_contains "bad size located" "$ERR" "bad-size.csv:2: bad size 'lots'"
printf 'timestamp,op,issue_region,obj_key,size\n2023-12-01 18:08:50,write,aws:us-west-2,k,1\n2023-12-01 18:08:51,read,aws:mars-1,k,1\n' >"$T_TMP/bad-region.csv"
t_run "unknown region" 3 skyc store sim --trace "$T_TMP/bad-region.csv"
t_contains "unknown region located" "$ERR" "bad-region.csv:3: unknown region 'aws:mars-1'"
printf 'timestamp,op,issue_region,obj_key,size\n' >"$T_TMP/empty.csv"
t_run "empty trace" 3 skyc store sim --trace "$T_TMP/empty.csv"
t_contains "empty trace" "$ERR" "no requests"
printf 'timestamp,op,issue_region,obj_key,size\n1,read,aws:us-east-1,ghost,5\n2,write,aws:us-east-1,k,5\n3,delete,aws:us-east-1,ghost,\n' >"$T_TMP/miss.csv"
t_run "reads of unwritten objects" 0 skyc store sim --trace "$T_TMP/miss.csv" --policy write-local
t_contains "misses reported" "$OUT" "2 reads or deletes of objects never written"
t_run "unwritable --save-trace" 6 skyc store sim --generate --events 10 --save-trace /nonexistent/dir/t.csv
t_run "missing trace" 4 skyc store sim --trace "$T_TMP/nope.csv"
t_run "unknown policy" 2 skyc store sim --trace "$TR/two_regions.csv" --policy lru
t_contains "unknown policy" "$ERR" "unknown policy 'lru'"
t_run "bad ttl" 2 skyc store sim --trace "$TR/two_regions.csv" --policy ttl:soon
t_run "both inputs" 2 skyc store sim --trace "$TR/two_regions.csv" --generate
t_run "no input" 2 skyc store sim
t_run "gen opts need --generate" 2 skyc store sim --trace "$TR/two_regions.csv" --events 5
t_run "bad gen region" 2 skyc store sim --generate --regions aws:nowhere-9
t_contains "bad gen region" "$ERR" "unknown region 'aws:nowhere-9' in --regions"
t_run "bad zipf" 2 skyc store sim --generate --zipf 99
t_run "state needs one policy" 2 skyc store sim --trace "$TR/two_regions.csv" --state "$T_TMP/s.json"
t_run "cost needs state" 2 skyc store cost
t_run "cost missing state" 4 skyc store cost --state "$T_TMP/nope.json"
echo '{"skyc_store_state": 2}' >"$T_TMP/bad-state.json"
t_run "cost bad state" 3 skyc store cost --state "$T_TMP/bad-state.json"
t_contains "cost bad state" "$ERR" "not a skyc store state file"
t_run "cost --at before" 2 skyc store cost --state "$T_TMP/state.json" --at "2020-01-01 00:00:00"
t_run "missing profiles" 4 skyc store sim --trace "$TR/two_regions.csv" --profiles "$T_TMP"
t_done
