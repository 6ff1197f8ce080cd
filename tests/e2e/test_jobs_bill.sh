#!/usr/bin/env bash
# The bill of a managed job on a replayed spot trace matches what the spot
# simulator predicts for the same trace, policy and job, within one tick's
# cost: a 12 h job (15 s of real work that checkpoints) with a 16 h deadline
# on a real Can't-Be-Late window, replayed by the sim at time_scale 2880.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"
W48=spot-traces/adrs-cant-be-late-windows/windows_48h_task
t_need_shared "$W48"
mkdir -p "$T_TMP/traces/us-east-1a"
cp "$SKYC_SHARED_DATA/$W48/us-west-2a_v100_1/traces/random_start/223.json" "$T_TMP/traces/us-east-1a/0.json"
cat >"$SKYC_SIM_CONFIG" <<YAML
time_scale: 2880
spot_traces:
  - zone: us-east-1a
    file: $T_TMP/traces/us-east-1a/0.json
    format: unavailable
YAML
cat >"$T_TMP/train.yaml" <<'YAML'
resources:
  cpus: 2
  zone: us-east-1a
run: |
  done=$(cat $SKYC_CHECKPOINT_DIR/done_us 2>/dev/null || echo 0)
  echo "resuming at $done us"
  need=15000000
  last=${EPOCHREALTIME/./}
  while [ $done -lt $need ]; do
    sleep 0.05
    now=${EPOCHREALTIME/./}; done=$((done + now - last)); last=$now
    echo $done > $SKYC_CHECKPOINT_DIR/done_us
    echo "$done $need" | awk '{print $1 / $2}' > $SKYC_CHECKPOINT_DIR/progress
  done
  echo trained
YAML
export SKYC_JOBS_TICK_S=600 SKYC_JOBS_OVERHEAD_S=600
jlaunch J --deadline 16h --work 12h --policy up "$T_TMP/train.yaml"
jwait "$J" 90 SUCCEEDED || t_fail "the job did not succeed"
t_eq "preempted once, as the trace says" "$(jfield "$J" preemptions)" "1"
t_run "simulator" 0 skyc spot sim --traces "$T_TMP/traces" --trace-format window --policy up --duration 12h --deadline 16h --overhead 600s --od-price 0.09 --spot-price 0.03 --windows 1 --json
sim=$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"][0]["mean_cost"])')
got=$(jfield "$J" cost)
echo "controller bill \$$got, simulator \$$sim, one tick \$0.015"
t_eq "bill within one tick of the simulator" "$(python3 -c "print(abs($got - $sim) <= 0.09 * 600 / 3600)")" "True"
t_run "logs" 0 skyc jobs logs "$J"
t_contains "resumed from its checkpoint" "$(echo "$OUT" | grep resuming | tail -1)" "resuming at"
t_not_contains "not from zero" "$(echo "$OUT" | grep resuming | tail -1)" "resuming at 0 us"
t_done
