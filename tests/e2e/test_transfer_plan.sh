#!/usr/bin/env bash
# `skyc transfer plan` through the CLI: hand-computed plans on a tiny grid
# (relay with integer connections, budget, Pareto), plans on Skyplane's real
# 2022-11 grid (units, direct baseline, relays), and bad input.
set -e
. "$(dirname "$0")/lib.sh"
t_need_shared skyplane
G="$SKYC_SHARED_DATA/skyplane"
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# A tiny grid: aws:a -> gcp:c direct 2 Gbps at $0.09/GB, or via aws:b
# (5 + 5 Gbps) at $0.02 + $0.09. Gbps are bit/s / 2^30 as in Skyplane.
cat >"$T_TMP/t.csv" <<'CSV'
src_region,dst_region,throughput_sent
aws:a,gcp:c,2147483648
aws:a,aws:b,5368709120
aws:b,gcp:c,5368709120
gcp:c,aws:a,2147483648
CSV
cat >"$T_TMP/c.csv" <<'CSV'
src,dest,cost
aws:a,gcp:c,0.09
aws:a,aws:b,0.02
aws:b,gcp:c,0.09
gcp:c,aws:a,0.12
CSV
tiny=(--grid "$T_TMP/t.csv" --prices "$T_TMP/c.csv" --vm-price 1)

# 1. 4 Gbps with one VM per region: 64 connections leave aws:a; integers
#    allow 21 direct (0.65625 Gbps) + 43 via aws:b (3.34375 Gbps)
t_run "tiny relay" 0 skyc transfer plan aws:a gcp:c --tput 4 "${tiny[@]}" --json
t_eq "tiny: relay" "$(echo "$OUT" | json 'd["plan"]["relays"]')" "['aws:b']"
t_eq "tiny: direct conns" "$(echo "$OUT" | json '[e["connections"] for e in d["plan"]["edges"] if e["to"]=="gcp:c" and e["from"]=="aws:a"][0]')" "21"
t_eq "tiny: direct gbps" "$(echo "$OUT" | json '[round(e["gbps"],6) for e in d["plan"]["edges"] if e["from"]=="aws:a" and e["to"]=="gcp:c"][0]')" "0.65625"
t_eq "tiny: cost" "$(echo "$OUT" | json 'round(d["plan"]["cost_per_gb"], 9)')" \
    "$(python3 -c "print(round((0.09*0.65625 + 0.11*3.34375 + 3*8/3600)/4, 9))")"
t_eq "tiny: price from" "$(echo "$OUT" | json 'd["plan"]["gateways"][0]["price_from"]')" "--vm-price"
t_eq "tiny: direct fails goal" "$(echo "$OUT" | json 'd["direct"]["meets_goal"]')" "False"
t_eq "tiny: direct best" "$(echo "$OUT" | json 'round(d["direct"]["throughput_gbps"], 6)')" "2.0"

# 2. the human table: gateways, edges, the comparison, the proof
t_run "tiny table" 0 skyc transfer plan aws:a gcp:c --tput 4 "${tiny[@]}"
t_contains "table: relay row" "$OUT" "aws:b"
t_contains "table: role" "$OUT" "relay"
t_contains "table: conns col" "$OUT" "CONNS"
t_contains "table: direct col" "$OUT" "DIRECT"
t_contains "table: note" "$OUT" "direct: cannot meet the goal; at most 2.000 Gbps"
t_contains "table: proof" "$OUT" "proven optimal"

# 3. budget: $0.0923/GB affords only the direct path at 2 Gbps
t_run "tiny budget" 0 skyc transfer plan aws:a gcp:c --max-cost 0.0923 "${tiny[@]}" --json
t_eq "budget: tput" "$(echo "$OUT" | json 'round(d["plan"]["throughput_gbps"], 6)')" "2.0"
t_eq "budget: mode" "$(echo "$OUT" | json 'd["mode"]')" "max-cost"
t_run "tiny budget too low" 5 skyc transfer plan aws:a gcp:c --max-cost 0.05 "${tiny[@]}"
t_contains "budget: says cheapest" "$ERR" "at least \$0.0900/GB"

# 4. Pareto (one VM per region): rising in throughput and cost, from the
#    direct path's best (2 Gbps) to the AWS NIC cap (5 Gbps)
t_run "tiny pareto" 0 skyc transfer plan aws:a gcp:c --pareto "${tiny[@]}" --json
t_eq "pareto: monotone" "$(echo "$OUT" | json 'all(a["throughput_gbps"] < b["throughput_gbps"] and a["cost_per_gb"] < b["cost_per_gb"] for a, b in zip(d["pareto"], d["pareto"][1:]))')" "True"
t_eq "pareto: max" "$(echo "$OUT" | json 'round(d["pareto"][-1]["throughput_gbps"], 4)')" "5.0"
t_eq "pareto: exact" "$(echo "$OUT" | json 'd["exact"] and d["proven_optimal"]')" "True"
t_eq "pareto: direct best first" "$(echo "$OUT" | json '(round(d["pareto"][0]["throughput_gbps"], 6), d["pareto"][0]["relays"])')" "(2.0, [])"
t_eq "pareto: arcs rise" "$(echo "$OUT" | json 'len(d["arcs"]) > 0 and all(a["cost_per_gb_b"] < 0 and a["to_gbps"] > a["from_gbps"] for a in d["arcs"])')" "True"
t_eq "pareto: curve = plan" "$(echo "$OUT" | json 'all(abs(p["curve_cost_per_gb"] - p["cost_per_gb"]) < 1e-9 for p in d["pareto"])')" "True"
# every point, and a point inside an arc, is what --tput plans
echo "$OUT" >"$T_TMP/front.json"
python3 - "$T_TMP/front.json" >"$T_TMP/checks" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for p in d["pareto"][::16]:
    print("%.12g %.12g" % (p["throughput_gbps"], p["cost_per_gb"]))
a = d["arcs"][len(d["arcs"]) // 2]
t = (a["from_gbps"] + a["to_gbps"]) / 2
print("%.12g %.12g" % (t, a["cost_per_gb_a"] + a["cost_per_gb_b"] / t))
PY
bad=0
while read -r t c; do
    got=$(skyc transfer plan aws:a gcp:c --tput "$t" "${tiny[@]}" --json | json 'd["plan"]["cost_per_gb"]')
    python3 -c "import sys; sys.exit(abs($got - $c) > 1e-7 * $c)" || { bad=1; echo "at $t: --tput says $got, curve $c" >&2; }
done <"$T_TMP/checks"
t_eq "pareto: reproduced by --tput" "$bad" "0"
t_run "tiny pareto range" 0 skyc transfer plan aws:a gcp:c --pareto --max-vms 2 --min-tput 5 --max-tput 6 "${tiny[@]}" --json
t_eq "range: inside" "$(echo "$OUT" | json 'all(5 - 1e-6 <= p["throughput_gbps"] <= 6 + 1e-6 for p in d["pareto"]) and d["range_gbps"] == [5.0, 6.0]')" "True"
t_run "tiny pareto table" 0 skyc transfer plan aws:a gcp:c --pareto --max-tput 3 "${tiny[@]}"
t_contains "pareto table" "$OUT" "RELAYS"
t_contains "pareto table arcs" "$OUT" "arc to"
t_run "range without pareto" 2 skyc transfer plan aws:a gcp:c --min-tput 1 "${tiny[@]}"
t_contains "range flag msg" "$ERR" "--min-tput and --max-tput go with --pareto"
t_run "range upside down" 2 skyc transfer plan aws:a gcp:c --pareto --min-tput 6 --max-tput 5 "${tiny[@]}"
t_contains "range order msg" "$ERR" "must be below --max-tput"
t_run "range too fast" 5 skyc transfer plan aws:a gcp:c --pareto --min-tput 50 "${tiny[@]}"
t_contains "range too fast msg" "$ERR" "the most is 5.000 Gbps"

# 5. the real grid: a direct plan, in Skyplane's units
t_run "real direct" 0 skyc transfer plan aws:us-east-1 gcp:us-west1-a --tput 4 --json
want=$(python3 - "$G/throughput_grid_2022-11.csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    if r["src_region"] == "aws:us-east-1" and r["dst_region"] == "gcp:us-west1-a":
        print(round(float(r["throughput_sent"]) / 2**30, 6)); break
PY
)
t_eq "real: grid gbps is bit/s / 2^30" "$(echo "$OUT" | json 'round(d["plan"]["edges"][0]["grid_gbps"], 6)')" "$want"
t_eq "real: no relay" "$(echo "$OUT" | json 'd["plan"]["relays"]')" "[]"
t_eq "real: egress" "$(echo "$OUT" | json 'round(d["plan"]["egress_per_gb"], 6)')" "0.09"
t_eq "real: same as direct" "$(echo "$OUT" | json 'round(d["plan"]["cost_per_gb"] - d["direct"]["cost_per_gb"], 9)')" "0.0"
t_eq "real: proven" "$(echo "$OUT" | json 'd["plan"]["proven_optimal"]')" "True"
t_eq "real: integer conns" "$(echo "$OUT" | json 'd["plan"]["edges"][0]["connections"]')" \
    "$(python3 -c "import math; print(math.ceil(64*4/$want))")"

# 6. the real grid: beyond the direct path, relays carry the rest
t_run "real relay" 0 skyc transfer plan azure:eastus aws:ap-northeast-1 --tput 12 --max-vms 2 --json
t_eq "relay: tput" "$(echo "$OUT" | json 'round(d["plan"]["throughput_gbps"], 6)')" "12.0"
t_eq "relay: has relays" "$(echo "$OUT" | json 'len(d["plan"]["relays"]) >= 1')" "True"
t_eq "relay: direct short" "$(echo "$OUT" | json 'd["direct"]["meets_goal"] is False and d["direct"]["throughput_gbps"] < 12')" "True"
t_eq "relay: conns per VM" "$(echo "$OUT" | json 'all(sum(e["connections"] for e in d["plan"]["edges"] if e["from"]==g["region"]) <= 64*g["vms"] for g in d["plan"]["gateways"])')" "True"
t_eq "relay: edge caps" "$(echo "$OUT" | json 'all(e["gbps"] <= e["grid_gbps"]*e["connections"]/64 + 1e-6 for e in d["plan"]["edges"])')" "True"
# a GCP region without its zone finds the grid's zone; catalog prices used
t_run "real gcp region" 0 skyc transfer plan gcp:us-central1 aws:us-east-1 --tput 3 --json
t_eq "gcp zone" "$(echo "$OUT" | json 'd["src"]')" "gcp:us-central1-a"
t_eq "catalog price" "$(echo "$OUT" | json '[g["price_from"] for g in d["plan"]["gateways"] if g["region"]=="aws:us-east-1"][0]')" "catalog"

# the 2022-01 grid (63 regions, PREMIUM rows only) with its cost grid
t_run "2022-01 grid" 0 skyc transfer plan aws:us-east-1 gcp:us-central1 --tput 6 --max-vms 2 \
    --grid "$G/throughput_grid_2022-01.csv" --prices "$G/cost_grid_2022-05.csv" --json
t_eq "2022-01: regions" "$(echo "$OUT" | json 'd["grid"]["regions"]')" "63"
t_eq "2022-01: tput" "$(echo "$OUT" | json 'round(d["plan"]["throughput_gbps"], 6)')" "6.0"
t_eq "2022-11: regions" "$(skyc transfer plan aws:a gcp:c --tput 1 "${tiny[@]}" --json | json 'd["grid"]["regions"]')" "3"

# 7. bad input
t_run "no args" 2 skyc transfer plan
t_run "two goals" 2 skyc transfer plan aws:a gcp:c --tput 1 --pareto "${tiny[@]}"
t_contains "two goals msg" "$ERR" "exclude each other"
t_run "bad tput" 2 skyc transfer plan aws:a gcp:c --tput -1 "${tiny[@]}"
t_run "bad vms" 2 skyc transfer plan aws:a gcp:c --max-vms 0 "${tiny[@]}"
t_run "same region" 2 skyc transfer plan aws:a aws:a "${tiny[@]}"
t_run "unknown region" 4 skyc transfer plan aws:a gcp:nowhere "${tiny[@]}"
t_contains "unknown region msg" "$ERR" "region 'gcp:nowhere' is not in the throughput grid"
t_run "too fast" 5 skyc transfer plan aws:a gcp:c --tput 50 "${tiny[@]}"
t_contains "too fast msg" "$ERR" "the most is 5.000 Gbps"
t_run "missing grid" 4 skyc transfer plan aws:a gcp:c --grid "$T_TMP/none.csv" --prices "$T_TMP/c.csv"
t_contains "missing grid msg" "$ERR" "cannot read throughput grid"
printf 'src_region,dst_region,throughput_sent\naws:a,gcp:c,lots\n' >"$T_TMP/bad.csv"
t_run "bad grid" 3 skyc transfer plan aws:a gcp:c --grid "$T_TMP/bad.csv" --prices "$T_TMP/c.csv"
t_contains "bad grid located" "$ERR" "bad.csv:2:13: throughput_sent 'lots' is not a non-negative number"
printf 'src,dest\naws:a,gcp:c\n' >"$T_TMP/badc.csv"
t_run "bad prices" 3 skyc transfer plan aws:a gcp:c --grid "$T_TMP/t.csv" --prices "$T_TMP/badc.csv"
t_contains "bad prices msg" "$ERR" "badc.csv:1:1: no 'cost' column"
t_run "unknown sub" 2 skyc transfer plot
t_done
