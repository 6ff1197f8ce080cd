#!/usr/bin/env bash
# The deadline-aware mode of managed jobs on the sim, driven by spot traces
# (time_scale 1800: a sim hour in 2 s): deadline pressure after spot goes
# away -> on-demand, still in time; a zone with no spot -> the policy moves
# zone; the job's reported progress drives the decisions.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

# us-east-1a: spot for the first hour (6 ticks of 10 min), then none.
# us-west-2a: never any spot.
python3 - "$T_TMP" <<'PY'
import json, sys
d = sys.argv[1]
json.dump({"metadata": {"gap_seconds": 600}, "data": [1] * 6 + [0] * 200}, open(d + "/east.json", "w"))
json.dump({"metadata": {"gap_seconds": 600}, "data": [0]}, open(d + "/west.json", "w"))
PY
cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 1800
spot_traces:
  - zone: us-east-1a
    file: east.json
    format: availability
  - zone: us-west-2a
    file: west.json
    format: availability
YAML
# A job of STEPS steps of 0.25 s (450 sim s) that checkpoints and reports
# its progress as a fraction.
task() { # FILE STEPS REGION
    cat >"$1" <<YAML
resources:
  cpus: 2
  region: $3
run: |
  step=\$(cat \$SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
  echo "resuming at step \$step"
  while [ \$step -lt $2 ]; do
    sleep 0.25; step=\$((step+1)); echo \$step > \$SKYC_CHECKPOINT_DIR/step
    echo "\$step $2" | awk '{print \$1 / \$2}' > \$SKYC_CHECKPOINT_DIR/progress
  done
  echo "done at step \$step"
YAML
}
task "$T_TMP/east.yaml" 24 us-east-1   # 3 h of work
task "$T_TMP/west.yaml" 8 us-west-2    # 1 h of work
cat >"$T_TMP/zones.yaml" <<'YAML'
resources:
  cpus: 2
  cloud: aws
  region: us-east-1
run: echo "on $SKYC_NODE_RANK"; sleep 2; echo finished
YAML

# 1. deadline pressure: spot ends after 1 h; 3 h of work due in 5 h
jlaunch J1 --deadline 5h --work 3h --policy up "$T_TMP/east.yaml"
# 2. the only zone of us-west-2 has no spot, and the up policy cannot move
#    zone: behind its uniform-progress line it goes on-demand
jlaunch J2 --deadline 3h --work 1h --policy up "$T_TMP/west.yaml"
jwait "$J1" 60 SUCCEEDED || t_fail "deadline job did not succeed"
ev=$(jevents "$J1")
t_contains "pressure: spot first, then preempted" "$ev" "LAUNCH,RUNNING,PREEMPTED"
t_run "pressure: history" 0 skyc jobs queue "$J1"
t_contains "pressure: spot launch" "$OUT" "policy: spot"
t_contains "pressure: on-demand launch" "$OUT" "policy: on-demand"
t_contains "pressure: ran on-demand" "$OUT" "on on-demand us-east-1"
fin=$(skyc jobs queue --json "$J1" | python3 -c 'import json,sys; d=json.load(sys.stdin); e=[e for e in d["events"] if e["kind"]=="SUCCEEDED"][0]; s=d["events"][0]; print((e["sim_at"]-s["sim_at"])/3600)')
t_eq "pressure: met the deadline" "$(python3 -c "print($fin <= 5.0)")" "True"
t_run "pressure: logs" 0 skyc jobs logs "$J1"
t_contains "pressure: resumed from the checkpoint" "$(echo "$OUT" | grep 'resuming at step' | tail -1)" "resuming at step"
t_not_contains "pressure: resumed, not restarted" "$(echo "$OUT" | grep 'resuming at step' | tail -1)" "step 0"
t_contains "pressure: finished" "$OUT" "done at step 24"

# 3. once us-east-1a has no spot any more (after the first hour), the
#    multi-zone policy moves to us-east-1b
jlaunch J3 --deadline 10h --work 0.5h --policy mz-up "$T_TMP/zones.yaml"

jwait "$J2" 60 SUCCEEDED || t_fail "no-spot job did not succeed"
t_run "no spot: history" 0 skyc jobs queue "$J2"
t_contains "no spot: spot refused" "$OUT" "LAUNCH_FAILED"
t_contains "no spot: on-demand in the end" "$OUT" "on on-demand us-west-2/us-west-2a"

jwait "$J3" 60 SUCCEEDED || t_fail "zone-moving job did not succeed"
t_run "move zone: history" 0 skyc jobs queue "$J3"
t_contains "move zone: tried the cheapest zone" "$OUT" "zone us-east-1a"
t_contains "move zone: it had no spot" "$OUT" "no spot capacity in aws/us-east-1/us-east-1a"
t_contains "move zone: spot in the next zone" "$OUT" "on spot us-east-1/us-east-1b"
t_eq "nothing left" "$(clusters_left)" "0"

t_done
