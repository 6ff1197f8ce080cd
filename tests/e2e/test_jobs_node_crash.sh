#!/usr/bin/env bash
# kill -9 the managed-jobs controller in the middle of replacing one node
# of a 2-node spot cluster (the new node recorded, the cluster INIT owned
# by the dead controller): the restarted controller lets reconcile tear the
# half-repaired cluster down whole, relaunches it, and the job still
# succeeds from its checkpoint, with no cluster or sim node leaked; killed
# after the repair but before the resubmission, the job restarts on the
# repaired cluster.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 60
preemptions:
  - zone: us-east-1a
    rank: 1
    times: 1
    after: 2m
  - zone: us-east-1b
    rank: 1
    times: 1
    after: 2m
YAML
cat >"$T_TMP/multi.yaml" <<'YAML'
num_nodes: 2
resources:
  cpus: 2
  use_spot: true
run: |
  if [ "$SKYC_NODE_RANK" = 0 ]; then
    step=$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
    echo "resuming at step $step"
    while [ $step -lt 10 ]; do sleep 0.5; step=$((step+1)); echo $step > $SKYC_CHECKPOINT_DIR/step; done
    echo "trained to step $step"
  else
    while [ "$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)" -lt 10 ]; do sleep 0.2; done
  fi
YAML
# the controller started by this launch pauses 4 s inside each repair
SKYC_DEBUG_REPLACE_PAUSE_MS=4000 jlaunch J "$T_TMP/multi.yaml"
for _ in $(seq 1 150); do
    [ "$(jfield "$J" message)" = "replacing lost nodes in place" ] && break
    sleep 0.1
done
t_eq "repair under way" "$(jfield "$J" status)" "RECOVERING"
sleep 0.5 # inside the pause: the new node is recorded, the cluster INIT
p=$(cat "$CTL_PID_FILE")
kill -9 "$p"
while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
# the first look reconciles: INIT with a dead owner goes, new node and all
t_run "status reconciles" 0 skyc status
t_contains "status: torn down whole" "$ERR" "cluster 'mj$J-1' was left in INIT by a launch that died; terminated its 2 nodes"
t_eq "status: no sim node left behind" "$(nodes_left)" "0"

t_run "queue restarts the controller" 0 skyc jobs queue
jwait "$J" 60 SUCCEEDED || t_fail "job killed mid-repair did not succeed"
t_contains "history" "$(jevents "$J")" "PREEMPTED,RESUME,LAUNCH,RUNNING,SUCCEEDED"
t_eq "relaunched whole" "$(jfield "$J" launches)" "2"
t_run "logs" 0 skyc jobs logs "$J"
t_contains "logs: finished" "$OUT" "trained to step 10"

# 2. killed after the repair is done but before the job was resubmitted:
#    the restarted controller finds every node up and restarts the job on
#    the same (repaired) cluster
sed 's/^  use_spot: true$/  use_spot: true\n  zone: us-east-1b/' "$T_TMP/multi.yaml" >"$T_TMP/b.yaml"
p=$(cat "$CTL_PID_FILE"); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
SKYC_DEBUG_REPLACED_PAUSE_MS=4000 jlaunch J2 "$T_TMP/b.yaml"
asks() { grep -c "asking sim for a node 1" "$XDG_STATE_HOME/skyc/jobs/controller.log" || true; }
for _ in $(seq 1 150); do [ "$(asks)" -ge 2 ] && break; sleep 0.1; done
sleep 1 # inside the second pause: the cluster is UP with its new node
p=$(cat "$CTL_PID_FILE")
kill -9 "$p"
while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
t_run "2: queue restarts the controller" 0 skyc jobs queue
jwait "$J2" 60 SUCCEEDED || t_fail "job killed after its repair did not succeed"
t_contains "2: history" "$(jevents "$J2")" "PREEMPTED,RESUME,RUNNING,SUCCEEDED"
t_eq "2: same cluster" "$(jfield "$J2" launches)" "1"
t_contains "2: restarted on the repaired cluster" "$(skyc jobs queue "$J2")" "mj$J2-1 repaired: the job restarts on all 2 nodes"
t_eq "no clusters left" "$(clusters_left)" "0"
t_eq "no sim nodes left" "$(nodes_left)" "0"
t_done
