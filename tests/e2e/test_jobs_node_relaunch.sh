#!/usr/bin/env bash
# Multi-node managed job on the sim whose lost node cannot be replaced: the
# spot trace of us-east-1a drops to one instance, so node rank 1 is
# preempted and its zone has no room for a replacement -> the whole
# cluster is relaunched (FAILOVER: same region, another zone), the job
# resumes from its checkpoint and succeeds; with EAGER_NEXT_REGION the
# whole cluster moves region at once. A provider without add_node
# (ssh) is covered by the unit tests of the decision.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

# time_scale 60 and 60 s ticks: one tick per wall second from the sim's
# first use; 2 instances for 5 ticks, then 1 for five minutes
python3 - "$T_TMP/trace.json" <<'PY'
import json, sys
json.dump({"metadata": {"gap_seconds": 60}, "data": [2] * 5 + [1] * 300},
          open(sys.argv[1], "w"))
PY
cat >"$SKYC_SIM_CONFIG" <<YAML
time_scale: 60
spot_traces:
  - zone: us-east-1a
    file: $T_TMP/trace.json
    format: availability
YAML
cat >"$T_TMP/multi.yaml" <<'YAML'
name: multi
num_nodes: 2
resources:
  cpus: 2
  use_spot: true
run: |
  if [ "$SKYC_NODE_RANK" = 0 ]; then
    step=$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
    echo "resuming at step $step"
    while [ $step -lt 16 ]; do sleep 0.5; step=$((step+1)); echo $step > $SKYC_CHECKPOINT_DIR/step; done
    echo "trained to step $step"
  else
    while [ "$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)" -lt 16 ]; do sleep 0.2; done
  fi
YAML

# EAGER_NEXT_REGION does not repair in place: it leaves the region
sed 's/^  use_spot: true$/  use_spot: true\n  job_recovery: EAGER_NEXT_REGION/' "$T_TMP/multi.yaml" >"$T_TMP/eager.yaml"
jlaunch J "$T_TMP/multi.yaml"
jlaunch JE "$T_TMP/eager.yaml"
jwait "$J" 60 SUCCEEDED || t_fail "job did not succeed"
t_eq "two launches" "$(jfield "$J" launches)" "2"
t_eq "one preemption" "$(jfield "$J" preemptions)" "1"
t_contains "history" "$(jevents "$J")" "RUNNING,PREEMPTED,REPLACE_FAILED,LAUNCH,RUNNING,SUCCEEDED"
t_run "queue" 0 skyc jobs queue "$J"
t_contains "queue: node 1 lost" "$OUT" "node 1 preempted (spot us-east-1/us-east-1a)"
t_contains "queue: no room in the zone" "$OUT" "no spot capacity in aws/us-east-1/us-east-1a"
t_contains "queue: same region" "$OUT" "in region us-east-1 (same region)"
t_contains "queue: moved zone" "$OUT" "us-east-1/us-east-1b"
t_not_contains "queue: nothing replaced" "$OUT" "replaced ("
t_run "logs" 0 skyc jobs logs "$J"
t_eq "logs: from scratch once" "$(echo "$OUT" | grep -c 'resuming at step 0$')" "1"
resumed=$(echo "$OUT" | grep 'resuming at step' | tail -1 | awk '{print $NF}')
[ "${resumed:-0}" -gt 0 ] && t_pass || t_fail "the relaunch did not resume from the checkpoint ('$resumed')"
t_contains "logs: finished" "$OUT" "trained to step 16"
jwait "$JE" 60 SUCCEEDED || t_fail "eager job did not succeed"
t_contains "eager: history" "$(jevents "$JE")" "RUNNING,PREEMPTED,NODES_LOST,LAUNCH,RUNNING,SUCCEEDED"
t_run "eager: queue" 0 skyc jobs queue "$JE"
t_contains "eager: why" "$OUT" "1 of 2 nodes lost; the whole cluster is relaunched (EAGER_NEXT_REGION moves the whole cluster)"
t_contains "eager: another region" "$OUT" "on spot us-west-2/us-west-2a"
t_eq "no clusters left" "$(clusters_left)" "0"
t_eq "no sim nodes left" "$(nodes_left)" "0"
t_done
