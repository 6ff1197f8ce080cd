#!/usr/bin/env bash
# kill -9 the managed-jobs controller: mid-run (healthy cluster: no
# relaunch), while its spot node is preempted (recovered when it is back),
# mid-launch (the half-made cluster is torn down and the job relaunched),
# and with several launches in flight in the controller's workers while a
# recovery goes on beside them; never a lost job or a leaked cluster.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 60
preemptions:
  - zone: us-east-1a
    after: 2m
YAML
task() { # FILE SPOT STEPS
    cat >"$1" <<YAML
resources:
  cpus: 2
  use_spot: $2
run: |
  step=\$(cat \$SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
  echo "resuming at step \$step"
  while [ \$step -lt $3 ]; do sleep 0.5; step=\$((step+1)); echo \$step > \$SKYC_CHECKPOINT_DIR/step; done
  echo "done at step \$step"
YAML
}
task "$T_TMP/od.yaml" false 6
task "$T_TMP/spot.yaml" true 6
kill_ctl() {
    local p
    p=$(cat "$CTL_PID_FILE")
    kill -9 "$p"
    while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
}

# 1. mid-run on a healthy cluster: the restarted controller adopts it
jlaunch J1 "$T_TMP/od.yaml"
jwait "$J1" 30 RUNNING || true
c1=$(jfield "$J1" cluster)
kill_ctl
t_eq "mid-run: cluster survives" "$(skyc status --json | python3 -c 'import json,sys; print([c["status"] for c in json.load(sys.stdin)])')" "['UP']"
t_run "mid-run: queue restarts the controller" 0 skyc jobs queue
t_contains "mid-run: restarted" "$ERR" "restarted the jobs controller"
jwait "$J1" 30 SUCCEEDED || t_fail "mid-run job did not succeed"
t_eq "mid-run: no relaunch" "$(jfield "$J1" launches)" "1"
t_not_contains "mid-run: no relaunch event" "$(jevents "$J1")" "RELAUNCH"
t_run "mid-run: logs" 0 skyc jobs logs "$J1"
t_contains "mid-run: ran once to the end" "$OUT" "done at step 6"
t_eq "mid-run: started once" "$(echo "$OUT" | grep -c 'resuming at step')" "1"
t_eq "mid-run: cluster was $c1, now gone" "$(clusters_left)" "0"

# 2. the spot node is preempted while no controller runs
jlaunch J2 "$T_TMP/spot.yaml"
jwait "$J2" 30 RUNNING || true
kill_ctl
sleep 3 # the sim preempts it 2 sim minutes (2 s) in
t_run "dead: queue restarts the controller" 0 skyc jobs queue
jwait "$J2" 40 SUCCEEDED || t_fail "job preempted while the controller was dead did not succeed"
t_eq "dead: recovered" "$(jfield "$J2" preemptions)" "1"
t_eq "dead: 2 launches" "$(jfield "$J2" launches)" "2"
t_eq "dead: nothing left" "$(clusters_left)" "0"

# 3. mid-launch: the cluster is INIT, owned by the killed controller
p=$(cat "$CTL_PID_FILE"); kill "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
SKYC_DEBUG_LAUNCH_PAUSE_MS=3000 jlaunch J3 "$T_TMP/od.yaml"
for _ in $(seq 100); do
    [ "$(skyc status --json | python3 -c 'import json,sys; print([c["status"] for c in json.load(sys.stdin)])')" = "['INIT']" ] && break
    sleep 0.1
done
t_eq "mid-launch: starting" "$(jfield "$J3" status)" "STARTING"
kill_ctl
t_run "mid-launch: queue restarts the controller" 0 skyc jobs queue
jwait "$J3" 40 SUCCEEDED || t_fail "job killed mid-launch did not succeed"
t_contains "mid-launch: relaunched" "$(jevents "$J3")" "LAUNCH,RELAUNCH,LAUNCH,RUNNING,SUCCEEDED"
t_eq "mid-launch: 2 launches" "$(jfield "$J3" launches)" "2"
t_eq "mid-launch: no cluster leaked" "$(clusters_left)" "0"
t_eq "mid-launch: no sim node leaked" "$(nodes_left)" "0"

# 4. three slow launches in flight in workers (each pauses 10 s after
# provisioning: the setting is the submitting command's, see
# test_jobs_env.sh) while a spot job is preempted: the controller asks for
# its replacement while they are still launching; then kill -9 it with the
# launches still in flight
jlaunch S4 "$T_TMP/spot.yaml"
jwait "$S4" 30 RUNNING || true
for k in 1 2 3; do
    SKYC_DEBUG_LAUNCH_PAUSE_MS=10000 jlaunch "P$k" "$T_TMP/od.yaml"
done
relaunched=
end=$((SECONDS + 8))
while [ $SECONDS -lt $end ]; do
    [ "$(jevents "$S4" | tr ',' '\n' | grep -c '^LAUNCH$')" -ge 2 ] && { relaunched=1; break; }
    sleep 0.05
done
ctl=$(cat "$CTL_PID_FILE")
workers=$(ps -o pid= --ppid "$ctl" | tr -d ' ')
t_eq "in flight: the preempted job was relaunched" "$relaunched" "1"
t_eq "in flight: beside three slow launches" \
    "$(jfield "$P1" status) $(jfield "$P2" status) $(jfield "$P3" status)" \
    "STARTING STARTING STARTING"
t_eq "in flight: launches run in workers" "$([ "$(echo "$workers" | grep -c .)" -ge 3 ] && echo yes)" "yes"
kill_ctl
gone=yes
for w in $workers; do
    for _ in $(seq 40); do kill -0 "$w" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$w" 2>/dev/null && gone=no
done
t_eq "in flight: workers die with the controller" "$gone" "yes"
t_run "in flight: queue restarts the controller" 0 skyc jobs queue
for id in "$P1" "$P2" "$P3"; do
    jwait "$id" 90 SUCCEEDED || t_fail "job $id killed in flight did not succeed"
    t_contains "in flight: $id relaunched" "$(jevents "$id")" "LAUNCH,RELAUNCH,LAUNCH,RUNNING,SUCCEEDED"
done
jwait "$S4" 60 SUCCEEDED || t_fail "the recovered job did not succeed"
t_eq "in flight: no cluster leaked" "$(clusters_left)" "0"
t_eq "in flight: no sim node leaked" "$(nodes_left)" "0"

t_done
