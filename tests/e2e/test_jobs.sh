#!/usr/bin/env bash
# Managed jobs on the sim through the CLI: preemption -> recovery on spot
# with the checkpoint kept (FAILOVER and EAGER_NEXT_REGION), user errors with
# and without restarts (max_restarts_on_errors, recover_on_exit_codes),
# setup failure, no resources, cancel, logs across relaunches, bad input.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

# time_scale 60: a sim minute per second; spot in us-east-1a is taken back
# 2 sim minutes after each start
cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 60
preemptions:
  - zone: us-east-1a
    after: 2m
YAML
# A job that checkpoints its step and resumes from it.
ckpt_task() { # FILE STEPS [extra resources lines]
    cat >"$1" <<YAML
name: train
resources:
  cpus: 2
  use_spot: true
${3:-}
run: |
  step=\$(cat \$SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
  echo "resuming at step \$step"
  while [ \$step -lt $2 ]; do sleep 0.5; step=\$((step+1)); echo \$step > \$SKYC_CHECKPOINT_DIR/step; echo "step \$step"; done
  echo "trained to step \$step"
YAML
}
ckpt_task "$T_TMP/spot.yaml" 6
ckpt_task "$T_TMP/eager.yaml" 6 "  job_recovery: EAGER_NEXT_REGION"
cat >"$T_TMP/fail.yaml" <<'YAML'
resources:
  cpus: 2
run: echo about to fail; exit 3
YAML
cat >"$T_TMP/retry.yaml" <<'YAML'
resources:
  cpus: 2
  job_recovery:
    max_restarts_on_errors: 2
run: |
  n=$(cat $SKYC_CHECKPOINT_DIR/n 2>/dev/null || echo 0); echo $((n+1)) > $SKYC_CHECKPOINT_DIR/n
  echo "try $n"; [ $n -ge 1 ] || exit 5; echo "worked on try $n"
YAML
cat >"$T_TMP/code.yaml" <<'YAML'
resources:
  cpus: 2
  job_recovery:
    recover_on_exit_codes: [42]
run: |
  n=$(cat $SKYC_CHECKPOINT_DIR/n 2>/dev/null || echo 0); echo $((n+1)) > $SKYC_CHECKPOINT_DIR/n
  [ $n -ge 1 ] || exit 42; echo recovered
YAML
cat >"$T_TMP/always.yaml" <<'YAML'
resources:
  cpus: 2
  job_recovery:
    strategy: FAILOVER
    max_restarts_on_errors: 1
run: exit 4
YAML
cat >"$T_TMP/setup.yaml" <<'YAML'
resources:
  cpus: 2
setup: echo broken setup; exit 7
run: echo never
YAML
cat >"$T_TMP/long.yaml" <<'YAML'
resources:
  cpus: 2
run: echo long; sleep 60
YAML

# submit them all at once: one controller watches every one
jlaunch J_SPOT "$T_TMP/spot.yaml"
timeout 60 "$SKYC_BIN" jobs logs -f "$J_SPOT" >"$T_TMP/follow.out" 2>"$T_TMP/follow.err" &
FOLLOW=$!
jlaunch J_EAGER "$T_TMP/eager.yaml"
jlaunch J_FAIL "$T_TMP/fail.yaml"
jlaunch J_RETRY "$T_TMP/retry.yaml"
jlaunch J_CODE "$T_TMP/code.yaml"
jlaunch J_ALWAYS "$T_TMP/always.yaml"
jlaunch J_SETUP "$T_TMP/setup.yaml"
jlaunch J_LONG -n sleeper "$T_TMP/long.yaml"
t_eq "ids" "$J_SPOT $J_EAGER $J_LONG" "1 2 8"
t_run "one controller" 0 test -s "$CTL_PID_FILE"

# 1. preemption -> recovery on spot in the same region, from the checkpoint
jwait "$J_SPOT" 60 SUCCEEDED || t_fail "spot job did not succeed"
t_eq "spot: 2 launches" "$(jfield "$J_SPOT" launches)" "2"
t_eq "spot: 1 preemption" "$(jfield "$J_SPOT" preemptions)" "1"
t_contains "spot: history" "$(jevents "$J_SPOT")" "LAUNCH,RUNNING,PREEMPTED,LAUNCH,RUNNING,SUCCEEDED"
t_run "spot: history table" 0 skyc jobs queue "$J_SPOT"
t_contains "spot: preempted row" "$OUT" "node 0 preempted (spot us-east-1/us-east-1a)"
t_contains "spot: same region" "$OUT" "in region us-east-1 (same region)"
t_contains "spot: bill" "$OUT" "all on-demand"
t_run "spot: logs" 0 skyc jobs logs "$J_SPOT"
t_contains "spot: first run" "$OUT" "resuming at step 0"
t_contains "spot: resumed from the checkpoint" "$(echo "$OUT" | grep 'resuming at step' | tail -1)" "resuming at step "
t_not_contains "spot: not from scratch twice" "$(echo "$OUT" | grep -c 'resuming at step 0')" "2"
t_contains "spot: finished" "$OUT" "trained to step 6"
set +e; wait "$FOLLOW"; frc=$?; set -e
t_eq "logs -f: ends with the job" "$frc" "0"
t_eq "logs -f: first run once" "$(grep -c 'resuming at step 0' "$T_TMP/follow.out")" "1"
t_eq "logs -f: across the relaunch, once" "$(grep -c 'trained to step 6' "$T_TMP/follow.out")" "1"
t_eq "logs -f: both runs" "$(grep -c 'resuming at step' "$T_TMP/follow.out")" "2"
t_contains "logs -f: final status" "$(cat "$T_TMP/follow.err")" "Managed job $J_SPOT: SUCCEEDED"
cost=$(jfield "$J_SPOT" cost); od=$(jfield "$J_SPOT" od_cost)
t_eq "spot: cheaper than on-demand" "$(python3 -c "print(0 < $cost < $od)")" "True"

# 2. EAGER_NEXT_REGION: the next launch avoids the preempted region
jwait "$J_EAGER" 60 SUCCEEDED || t_fail "eager job did not succeed"
regions=$(skyc jobs queue --json "$J_EAGER" | python3 -c 'import json,sys; print(",".join(e["detail"].split(" on ")[1].split()[1].split("/")[0] for e in json.load(sys.stdin)["events"] if e["kind"]=="RUNNING"))')
t_eq "eager: us-east-1 then another region" "$(echo "$regions" | cut -d, -f1)" "us-east-1"
t_not_contains "eager: moved" "$(echo "$regions" | cut -d, -f2)" "us-east-1"
t_contains "eager: launch avoided" "$(skyc jobs queue "$J_EAGER")" "avoiding its region (next region)"

# 3. user error on a healthy cluster, no restarts: FAILED at once
jwait "$J_FAIL" 30 FAILED || true
t_eq "fail: status" "$(jfield "$J_FAIL" status)" "FAILED"
t_eq "fail: message" "$(jfield "$J_FAIL" message)" "exit code 3 on a healthy cluster"
t_eq "fail: 1 launch" "$(jfield "$J_FAIL" launches)" "1"
t_eq "fail: not a preemption" "$(jfield "$J_FAIL" preemptions)" "0"
t_run "fail: logs" 0 skyc jobs logs "$J_FAIL"
t_contains "fail: output kept" "$OUT" "about to fail"

# 4. user error with restarts: restarted on the same cluster, then works
jwait "$J_RETRY" 30 SUCCEEDED || t_fail "retry job did not succeed"
t_eq "retry: 1 restart" "$(jfield "$J_RETRY" restarts)" "1"
t_eq "retry: same cluster" "$(jfield "$J_RETRY" launches)" "1"
t_contains "retry: history" "$(jevents "$J_RETRY")" "RUNNING,RESTART,SUCCEEDED"
t_run "retry: logs of both tries" 0 skyc jobs logs "$J_RETRY"
t_contains "retry: first try" "$OUT" "try 0"
t_contains "retry: second try" "$OUT" "worked on try 1"
jwait "$J_CODE" 30 SUCCEEDED || t_fail "recover_on_exit_codes job did not succeed"
t_eq "code: not counted as a restart" "$(jfield "$J_CODE" restarts)" "0"
t_contains "code: why" "$(skyc jobs queue "$J_CODE")" "listed in recover_on_exit_codes"
jwait "$J_ALWAYS" 30 FAILED || true
t_eq "always: failed" "$(jfield "$J_ALWAYS" status)" "FAILED"
t_eq "always: used its restart" "$(jfield "$J_ALWAYS" restarts)" "1"
t_contains "always: out of restarts" "$(jfield "$J_ALWAYS" message)" "(out of restarts)"

# 5. setup failure
jwait "$J_SETUP" 30 FAILED_SETUP || true
t_eq "setup: status" "$(jfield "$J_SETUP" status)" "FAILED_SETUP"

# 6. cancel a running job: its cluster goes
jwait "$J_LONG" 30 RUNNING || true
t_run "cancel" 0 skyc jobs cancel "$J_LONG"
t_contains "cancel: said" "$ERR" "Managed job $J_LONG: CANCELLED"
t_eq "cancel: status" "$(jfield "$J_LONG" status)" "CANCELLED"
t_run "cancel again" 0 skyc jobs cancel "$J_LONG"
t_contains "cancel again: already" "$ERR" "already CANCELLED"
t_run "queue" 0 skyc jobs queue
t_contains "queue: name" "$OUT" "sleeper"
t_contains "queue: columns" "$OUT" "SPENT"
t_eq "no clusters left" "$(clusters_left)" "0"
t_eq "no sim nodes left" "$(nodes_left)" "0"

# 7. no capacity anywhere: FAILED_NO_RESOURCE, nothing left
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - error: capacity
YAML
jlaunch J_NONE "$T_TMP/fail.yaml"
jwait "$J_NONE" 30 FAILED_NO_RESOURCE || true
t_eq "no resource: status" "$(jfield "$J_NONE" status)" "FAILED_NO_RESOURCE"
t_contains "no resource: why" "$(jfield "$J_NONE" message)" "could not provision"
t_eq "no resource: nothing left" "$(clusters_left)" "0"

# 8. bad input: clear errors, nothing submitted
t_run "missing task" 4 skyc jobs launch "$T_TMP/nope.yaml"
cat >"$T_TMP/badrec.yaml" <<'YAML'
resources:
  job_recovery: sometimes
run: echo hi
YAML
t_run "bad job_recovery" 3 skyc jobs launch "$T_TMP/badrec.yaml"
t_contains "bad job_recovery: where" "$ERR" "badrec.yaml:2"
t_run "bad policy" 2 skyc jobs launch --deadline 10h --work 1h --policy nope "$T_TMP/fail.yaml"
t_contains "bad policy: names them" "$ERR" "unknown --policy 'nope'"
t_run "deadline without work" 2 skyc jobs launch --deadline 10h "$T_TMP/fail.yaml"
t_contains "deadline without work: hint" "$ERR" "--work"
t_run "deadline too short" 14 skyc jobs launch --deadline 1h --work 2h "$T_TMP/fail.yaml"
t_run "bad id" 2 skyc jobs logs abc
t_run "unknown id" 4 skyc jobs queue 999
t_run "unknown cancel" 4 skyc jobs cancel 999

t_done
