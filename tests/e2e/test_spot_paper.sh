#!/usr/bin/env bash
# The Can't-Be-Late reproduction on the real traces (the 8 AWS zone x type
# sets, 300 windows each): Table 3's mean hours on on-demand / spot within
# +-2 h, zero deadline misses for every online policy, Uniform Progress
# cheaper than Greedy in every set where Greedy is not already all-spot, and
# our policy >= 5% cheaper than Uniform Progress over D in {52,60,70} h x
# d in {0.05,0.2} h with zero misses. The optimum runs on 30 windows/set (its mean moves < 0.2 h from 100).
set -e
. "$(dirname "$0")/lib.sh"
t_need_shared spot-traces/adrs-cant-be-late-windows/windows_48h_task

t_run "paper" 0 skyc spot paper --optimal-windows 30 --json
J="$OUT"
for row in 0 1 2 3; do
    name=$(echo "$J" | jq -r ".table3[$row].label")
    ok=$(echo "$J" | jq -r ".table3[$row] | ((.od_hours - .paper_od_hours) | fabs) <= 2 and ((.spot_hours - .paper_spot_hours) | fabs) <= 2")
    t_eq "table3 $name within 2h ($(echo "$J" | jq -c ".table3[$row] | [.od_hours, .paper_od_hours, .spot_hours, .paper_spot_hours]"))" "$ok" "true"
    t_eq "table3 $name no misses" "$(echo "$J" | jq ".table3[$row].misses")" "0"
done
t_eq "table3 runs" "$(echo "$J" | jq '[.table3[0:3][].runs] | unique')" "$(printf '[\n  2400\n]')"
t_eq "8 sets" "$(echo "$J" | jq '.per_set | length')" "8"
bad=$(echo "$J" | jq -r '[.per_set[] | select(.greedy_all_spot | not) | select(.up_cost >= .greedy_cost) | .set] | join(",")')
t_eq "up beats greedy in every set" "$bad" ""
t_eq "some set is all-spot for greedy" "$(echo "$J" | jq '[.per_set[] | select(.greedy_all_spot)] | length <= 1')" "true"
t_eq "per-set misses" "$(echo "$J" | jq '[.per_set[] | .greedy_misses + .up_misses] | add')" "0"
t_eq "grid cells" "$(echo "$J" | jq '.grid | length')" "6"
t_eq "grid misses" "$(echo "$J" | jq '.grid_misses')" "0"
t_eq "ours >= 5% below up ($(echo "$J" | jq '.ours_vs_up_reduction'))" \
    "$(echo "$J" | jq '.ours_vs_up_reduction >= 0.05')" "true"
t_eq "ours below up in every cell" \
    "$(echo "$J" | jq '[.grid[] | select(.ours_cost >= .up_cost)] | length')" "0"

# the human table names the published figures next to ours
t_run "paper table" 0 skyc spot paper --optimal-windows 5 --set us-west-2a_v100_1
t_contains "table3 header" "$OUT" "Table 3"
t_contains "table3 published" "$OUT" "22.9"
t_contains "summary" "$OUT" "Cost saved vs on-demand"
t_done
