#!/usr/bin/env bash
# skyc spot sim: the table and JSON, both trace formats (opposite polarity),
# multi-zone against single-zone uniform progress, the SVG plots, and bad
# traces / flags failing with what, where and how to fix.
set -e
. "$(dirname "$0")/lib.sh"
t_need_shared spot-traces/adrs-cant-be-late-windows/windows_48h_task
t_need_shared spot-traces/skypilot-org-spot-traces/availability/1-node/aws-10-26-2022
WIN="$SKYC_SHARED_DATA/spot-traces/adrs-cant-be-late-windows/windows_48h_task"
RAW="$SKYC_SHARED_DATA/spot-traces/skypilot-org-spot-traces"

t_run "table" 0 skyc spot sim --set us-west-2a_v100_1 --windows 20 --policy od,greedy,up,sliced,markov,optimal
for w in POLICY "MEAN \$" "P90 \$" "VS OD" "SPOT H" "OD H" MISSES "GAP CLOSED" greedy sliced markov optimal; do
    t_contains "table has $w" "$OUT" "$w"
done
t_contains "od is 100%" "$OUT" "100.0%"

t_run "json" 0 skyc spot sim --set us-west-2a_v100_1 --set us-west-2b_k80_1 --windows 30 --by-set --json --policy od,up,optimal
J="$OUT"
t_eq "json rows" "$(echo "$J" | jq '.rows | length')" "6"
t_eq "json runs" "$(echo "$J" | jq '[.rows[].runs] | unique')" "$(printf '[\n  30\n]')"
t_eq "od cost" "$(echo "$J" | jq '[.rows[] | select(.policy == "od") | .cost_vs_od] | unique')" "$(printf '[\n  1\n]')"
t_eq "progress sums to C" "$(echo "$J" | jq '[.rows[] | (.spot_hours + .od_hours - 48) | fabs < 1e-6] | all')" "true"
t_eq "optimum lowest" "$(echo "$J" | jq '[.rows | group_by(.set)[] | (map(select(.policy == "optimal"))[0].mean_cost) as $o | map(.mean_cost >= $o - 1e-9) | all] | all')" "true"
t_eq "gap closed 100% for optimal" "$(echo "$J" | jq '[.rows[] | select(.policy == "optimal") | .gap_closed] | unique')" "$(printf '[\n  1\n]')"
t_eq "job echoed" "$(echo "$J" | jq '.job.deadline_hours')" "60"

# the raw skypilot-org traces count AVAILABLE instances (the windows count
# preemptions): the same zone and period must look alike in both
t_run "raw traces" 0 skyc spot sim --traces "$RAW/availability/1-node/aws-10-26-2022" --set us-west-2a_k80_1 --windows 50 --json --policy greedy
t_eq "raw k80_1 mostly spot" "$(echo "$OUT" | jq '.rows[0].spot_hours > 40')" "true"
t_run "windows k80_1" 0 skyc spot sim --set us-west-2a_k80_1 --windows 50 --json --policy greedy
t_eq "window k80_1 mostly spot" "$(echo "$OUT" | jq '.rows[0].spot_hours > 40')" "true"
t_run "forced wrong polarity" 0 skyc spot sim --traces "$RAW/availability/1-node/aws-10-26-2022/us-west-2a_k80_1.json" --trace-format window --json --policy greedy
t_eq "flipped polarity loses spot" "$(echo "$OUT" | jq '.rows[0].spot_hours < 10')" "true"
t_run "4-node counts" 0 skyc spot sim --traces "$RAW/preemption/4-node" --nodes 4 --windows 20 --json --policy up
t_eq "4-node sets" "$(echo "$OUT" | jq '.rows[0].runs')" "60"

# several zones: the multi-zone policies beat the best single zone's
# uniform progress (mz-markov also the best single zone's markov here)
for ty in v100_1 k80_8; do
    t_run "zones $ty" 0 skyc spot sim --zones --set us-west-2a_$ty --set us-west-2b_$ty --json --policy up,mz-up,markov,mz-markov
    best() { echo "$OUT" | jq "[.rows[] | select(.policy == \"$1\") | .mean_cost] | min"; }
    for mz in mz-up mz-markov; do
        t_eq "$mz beats best single-zone up ($ty)" "$(echo "$OUT" | jq "$(best "$mz") < $(best up)")" "true"
    done
    t_eq "mz-markov beats best single-zone markov ($ty)" "$(echo "$OUT" | jq "$(best mz-markov) < $(best markov)")" "true"
    t_eq "zones no misses ($ty)" "$(echo "$OUT" | jq '[.rows[].misses] | add')" "0"
    t_contains "zones row names both" "$OUT" "us-west-2a_$ty+us-west-2b_$ty"
done

# plots
t_run "plot" 0 skyc spot sim --set us-west-2a_v100_1 --windows 20 --policy greedy,up --plot "$T_TMP/cost.svg"
t_contains "plot written" "$ERR" "wrote $T_TMP/cost.svg"
S=$(cat "$T_TMP/cost.svg")
t_contains "svg" "$S" "<svg xmlns="
t_contains "svg series" "$S" ">greedy<"
t_contains "svg axis" "$S" "deadline slack"
t_eq "svg well formed" "$(python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1]); print("ok")' "$T_TMP/cost.svg")" "ok"
t_run "timeline" 0 skyc spot sim --set us-west-2b_v100_1 --windows 10 --window 3 --policy up,markov,optimal --timeline "$T_TMP/tl.svg"
S=$(cat "$T_TMP/tl.svg")
t_contains "timeline bands" "$S" "spot in us-west-2b_v100_1"
t_contains "timeline line" "$S" "uniform progress t*C/D"
t_contains "timeline optimal" "$S" ">optimal ("
t_contains "timeline legend" "$S" ">on-demand<"
t_eq "timeline well formed" "$(python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1]); print("ok")' "$T_TMP/tl.svg")" "ok"
t_run "timeline range" 2 skyc spot sim --set us-west-2b_v100_1 --window 300 --timeline "$T_TMP/x.svg"
t_contains "timeline range message" "$ERR" "--window 300 is out of range"

# bad traces: what, where, how
mkdir -p "$T_TMP/bad/z"
printf '{"metadata": {"gap_seconds": 600},\n "data": [0, 1,, 0]}' >"$T_TMP/bad/z/1.json"
t_run "syntax" 3 skyc spot sim --traces "$T_TMP/bad"
t_contains "syntax located" "$ERR" "skyc: error: $T_TMP/bad/z/1.json:2:"
t_contains "syntax hint" "$ERR" "expected {\"metadata\""
printf '{"generator": "random_start_time", "metadata": {"gap_seconds": 600, "start_time": 0}, "data": [0, 1, 3]}' >"$T_TMP/bad/z/1.json"
t_run "window value" 3 skyc spot sim --traces "$T_TMP/bad"
t_contains "value located" "$ERR" "1.json: data[2] is 3, but a window trace holds 0 (available) or 1 (preempted)"
printf '{"metadata": {"gap_seconds": 0}, "data": [0]}' >"$T_TMP/bad/z/1.json"
t_run "gap" 3 skyc spot sim --traces "$T_TMP/bad"
t_contains "gap message" "$ERR" "metadata.gap_seconds must be"
printf '{"metadata": {"gap_seconds": 600}, "data": [1, 1, 1]}' >"$T_TMP/bad/z/1.json"
t_run "too short" 3 skyc spot sim --traces "$T_TMP/bad"
t_contains "short message" "$ERR" "too short for"
t_run "missing dir" 4 skyc spot sim --traces "$T_TMP/nope"
t_contains "missing dir message" "$ERR" "cannot open trace directory"
t_run "empty dir" 4 skyc spot sim --traces "$T_TMP/home"
t_contains "empty dir message" "$ERR" "no *.json traces under"

# prices from the catalog
t_run "catalog prices" 0 skyc spot sim --instance p3.2xlarge --region us-west-2 --set us-west-2a_v100_1 --windows 5 --policy od --json
t_contains "catalog prices said" "$ERR" "prices of p3.2xlarge in us-west-2: on-demand \$"
t_eq "catalog od price used" "$(echo "$OUT" | jq '.job.od_price > 0 and .job.spot_price > 0 and .job.spot_price < .job.od_price')" "true"
t_run "catalog typo" 4 skyc spot sim --instance p3.2xlarg --windows 1
t_contains "catalog typo message" "$ERR" "no offering of 'p3.2xlarg'"

# bad flags
t_run "png" 2 skyc spot sim --plot "$T_TMP/x.png"
t_contains "png message" "$ERR" "plots are written as SVG"
t_run "policy typo" 2 skyc spot sim --policy uniform
t_contains "policy hint" "$ERR" "unknown policy 'uniform'"
t_run "set typo" 4 skyc spot sim --set us-west-2a_v100
t_contains "set hint" "$ERR" "did you mean 'us-west-2a_v100_1'?"
t_run "deadline" 14 skyc spot sim --duration 48h --deadline 40h
t_contains "deadline message" "$ERR" "cannot fit 48.00 h of work"
t_run "zones needs sets" 2 skyc spot sim --zones --set us-west-2a_v100_1
t_run "param" 2 skyc spot sim --param streak=-1 --windows 1
t_contains "param message" "$ERR" "--param 'streak=-1'"
t_run "help" 0 skyc spot sim --help
t_contains "help lists options" "$OUT" "--timeline"
t_run "spot help" 0 skyc spot
t_contains "spot subcommands" "$OUT" "paper"
t_done
