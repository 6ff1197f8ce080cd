#!/usr/bin/env bash
# A managed job runs with the settings of the command that submitted it
# (SKYC_* variables, provider and catalog paths, PATH), not those of the
# command that happened to start the controller: one controller started
# with settings C runs job A (a sim config that preempts us-east-1a spot
# after 2 sim minutes at time_scale 60, the two-cloud catalog) and job B
# (a sim config without faults, a catalog with only us-west-2), each with
# its own marker variable in its processes.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

CAT_B="$T_TMP/catalog-b"
mkdir -p "$CAT_B/aws"
cat >"$CAT_B/aws/vms.csv" <<'CSV'
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
m5.large,,,2,8,,0.107,0.040,us-west-2,us-west-2a,x86_64
CSV
cat >"$T_TMP/sim-a.yaml" <<'YAML'
time_scale: 60
preemptions:
  - zone: us-east-1a
    after: 2m
YAML
cat >"$T_TMP/sim-b.yaml" <<'YAML'
time_scale: 60
YAML
# the controller's own: every spot node preempted at once
cat >"$T_TMP/sim-c.yaml" <<'YAML'
time_scale: 1
preemptions:
  - zone: us-west-2a
    after: 1s
YAML
cat >"$T_TMP/job.yaml" <<'YAML'
resources:
  cpus: 2
  use_spot: true
run: |
  n=$(cat $SKYC_CHECKPOINT_DIR/n 2>/dev/null || echo 0); echo $((n+1)) > $SKYC_CHECKPOINT_DIR/n
  echo "mark=$SKYC_TEST_MARK run=$n"
  [ $n -ge 1 ] || sleep 4
YAML

# the controller, started first, by a command with settings C
( export SKYC_SIM_CONFIG="$T_TMP/sim-c.yaml" SKYC_TEST_MARK=controller
  exec "$SKYC_BIN" jobs controller --foreground ) 2>"$T_TMP/ctl.log" &
CTL=$!
for _ in $(seq 100); do [ -s "$CTL_PID_FILE" ] && break; sleep 0.05; done
t_eq "controller runs" "$(test -s "$CTL_PID_FILE" && echo yes)" "yes"

A=$(SKYC_SIM_CONFIG="$T_TMP/sim-a.yaml" SKYC_TEST_MARK=alpha \
    "$SKYC_BIN" jobs launch "$T_TMP/job.yaml" 2>/dev/null)
B=$(SKYC_SIM_CONFIG="$T_TMP/sim-b.yaml" SKYC_CATALOG_DIR="$CAT_B" \
    SKYC_TEST_MARK=beta "$SKYC_BIN" jobs launch "$T_TMP/job.yaml" 2>/dev/null)
t_eq "one controller: the one started first" "$(cat "$CTL_PID_FILE")" "$CTL"
jwait "$A" 60 SUCCEEDED || t_fail "job A did not succeed"
jwait "$B" 60 SUCCEEDED || t_fail "job B did not succeed"

# A: its own sim config (preempted once in us-east-1a, then recovered), the
# two-cloud catalog (us-east-1 is cheapest), its own marker
t_eq "A: preempted by its config" "$(jfield "$A" preemptions)" "1"
t_run "A: logs" 0 skyc jobs logs "$A"
t_contains "A: its marker" "$OUT" "mark=alpha run=0"
t_not_contains "A: not the controller's" "$OUT" "mark=controller"
t_contains "A: first cluster in us-east-1" "$(jevents "$A")" "PREEMPTED"
# B: its catalog (only us-west-2), its sim config (no faults; the
# controller's own would have preempted us-west-2a after 1 s)
t_eq "B: not preempted" "$(jfield "$B" preemptions)" "0"
t_eq "B: region from its catalog" "$(jfield "$B" region)" "us-west-2"
t_run "B: logs" 0 skyc jobs logs "$B"
t_contains "B: its marker" "$OUT" "mark=beta run=0"
t_not_contains "B: not the controller's" "$OUT" "mark=controller"
# the snapshot is what jobs.db keeps
snap=$(python3 -c 'import sqlite3,sys,json; r=sqlite3.connect(sys.argv[1]).execute("select env from mjobs where id=?", (int(sys.argv[2]),)).fetchone(); print(json.loads(r[0]).get("SKYC_TEST_MARK"))' "$XDG_STATE_HOME/skyc/jobs.db" "$B")
t_eq "B: settings kept in jobs.db" "$snap" "beta"
t_eq "nothing left" "$(clusters_left)" "0"

t_done
