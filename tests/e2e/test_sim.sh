#!/usr/bin/env bash
# The sim provider and the failover loop through the CLI: capacity -> next
# zone, auth -> next cloud, everything blocked -> a clear error and nothing
# left behind, a bad fault config, --retry-until-up, a spot preemption, and
# the sim failover example.
set -e
. "$(dirname "$0")/lib.sh"

CAT="$T_TMP/catalog"
mkdir -p "$CAT/aws" "$CAT/gcp"
cat >"$CAT/aws/vms.csv" <<'CSV'
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
m5.large,,,2,8,,0.090,0.030,us-east-1,us-east-1a,x86_64
m5.large,,,2,8,,0.096,0.036,us-east-1,us-east-1b,x86_64
m5.large,,,2,8,,0.107,0.040,us-west-2,us-west-2a,x86_64
CSV
cat >"$CAT/gcp/vms.csv" <<'CSV'
InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice
n1-standard-2,2,7.5,,,,us-central1,us-central1-a,0.120,0.050
CSV
export SKYC_CATALOG_DIR="$CAT"
export SKYC_SIM_CONFIG="$T_TMP/sim.yaml"
cat >"$T_TMP/task.yaml" <<'YAML'
name: hello
resources:
  cpus: 2
run: echo "hello from node $SKYC_NODE_RANK"
YAML
nodes_left() { ls "$XDG_STATE_HOME/skyc/sim/nodes" 2>/dev/null | wc -l; }

# 1. capacity in the cheapest zone: the next zone of the same region
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - zone: us-east-1a
    error: capacity
YAML
t_run "capacity: launch" 0 skyc launch --provider sim -c cap "$T_TMP/task.yaml"
t_contains "capacity: job ran" "$OUT" "hello from node 0"
t_run "capacity: history" 0 skyc failover-history cap
t_contains "capacity: first" "$OUT" "sim:aws/us-east-1/us-east-1a"
t_contains "capacity: blocked" "$OUT" "zone sim:aws/us-east-1/us-east-1a"
t_contains "capacity: why" "$OUT" "injected capacity shortage in aws/us-east-1/us-east-1a m5.large (sim.yaml:2)"
t_eq "capacity: up in 1b" "$(echo "$OUT" | awk '$NF == "-" && /UP/ {print $2}')" "sim:aws/us-east-1/us-east-1b"
t_run "capacity: json" 0 skyc failover-history --json cap
t_eq "capacity: attempts" "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(a["result"] for a in d[0]["attempts"]))')" "CAPACITY,OK"
t_run "capacity: sim nodes" 0 skyc sim nodes --json
t_eq "capacity: one instance in 1b" "$(echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d), d[0]["zone"], d[0]["state"])')" "1 us-east-1b RUNNING"
t_run "capacity: status" 0 skyc status
t_contains "capacity: status resources" "$OUT" "sim:aws(m5.large, us-east-1"
t_run "capacity: down" 0 skyc down cap

# 2. auth: the whole cloud is blocked at once, gcp takes over
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - cloud: aws
    error: auth
YAML
t_run "auth: launch" 0 skyc launch --provider sim -c auth "$T_TMP/task.yaml"
t_run "auth: history" 0 skyc failover-history auth
t_contains "auth: blocked cloud" "$OUT" "cloud sim:aws"
t_contains "auth: gcp" "$OUT" "sim:gcp/us-central1/us-central1-a"
t_eq "auth: two attempts" "$(skyc failover-history --json auth | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["attempts"]))')" "2"
t_run "auth: down" 0 skyc down auth

# 3. everything short of capacity: exit 8, a clear message, nothing left
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - error: capacity
YAML
t_run "blocked: launch" 8 skyc launch --provider sim -c none "$T_TMP/task.yaml"
t_contains "blocked: message" "$ERR" "could not provision 'none' after 4 attempts"
t_contains "blocked: hint" "$ERR" "--retry-until-up"
t_run "blocked: status" 0 skyc status
t_not_contains "blocked: no cluster" "$OUT" "none"
t_eq "blocked: no sim nodes" "$(nodes_left)" "0"
t_run "blocked: history kept" 0 skyc failover-history none
t_eq "blocked: 4 rows" "$(echo "$OUT" | grep -c CAPACITY)" "4"

# 4. a bad fault config: file:line:col and how to fix it
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - zone: us-east-1a
    error: capcity
YAML
t_run "bad config" 3 skyc launch --provider sim -c bad "$T_TMP/task.yaml"
t_contains "bad config: where" "$ERR" "sim.yaml:3:12: error: unknown error class 'capcity' (known: capacity, quota, auth, other)"

t_run "sim check: bad" 3 skyc sim check
t_contains "sim check: where" "$ERR" "sim.yaml:3:12: error: unknown error class"
printf 'time_scale: 2880\nfaults:\n  - cloud: gcp\n    error: quota\n    times: 2\n' >"$T_TMP/ok.yaml"
t_run "sim check: good" 0 skyc sim check "$T_TMP/ok.yaml"
t_contains "sim check: scale" "$OUT" "48h of sim time in 1m"
t_contains "sim check: fault" "$OUT" "fault (line 3): gcp -> QUOTA, the first 2 times"

# 5. --retry-until-up: aws only, the first round all fails, round 2 works
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - error: capacity
    times: 3
YAML
cat >"$T_TMP/aws.yaml" <<'YAML'
resources:
  cloud: aws
  cpus: 2
run: echo up at last
YAML
t_run "retry: without" 8 skyc launch --provider sim -c r0 "$T_TMP/aws.yaml"
rm -rf "$XDG_STATE_HOME/skyc/sim/faults"
t_run "retry: launch" 0 timeout 60 "$SKYC_BIN" launch --provider sim --retry-until-up -c r1 "$T_TMP/aws.yaml"
t_contains "retry: ran" "$OUT" "up at last"
t_eq "retry: attempts" "$(skyc failover-history --json r1 | python3 -c 'import json,sys; print(",".join(a["result"] for a in json.load(sys.stdin)[0]["attempts"]))')" "CAPACITY,CAPACITY,CAPACITY,OK"
t_run "retry: down" 0 skyc down r1

# 6. a spot node preempted one sim minute in (time_scale 60 = 1 s): the
#    job's processes are killed
cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 60
preemptions:
  - after: 1m
YAML
cat >"$T_TMP/spot.yaml" <<'YAML'
resources:
  cpus: 2
  use_spot: true
run: echo started; sleep 30; echo not preempted
YAML
start=$(date +%s)
t_run "spot: preempted" 137 timeout 60 "$SKYC_BIN" launch --provider sim -c sp "$T_TMP/spot.yaml"
t_contains "spot: started" "$OUT" "started"
t_not_contains "spot: killed" "$OUT" "not preempted"
[ $(( $(date +%s) - start )) -lt 15 ] && t_pass || t_fail "spot: preemption took too long"
t_run "spot: clock" 0 skyc sim clock
t_contains "spot: clock scale" "$OUT" "at 60x"
t_run "spot: down" 0 skyc down sp
t_eq "spot: no sim nodes" "$(nodes_left)" "0"

# 7. the example (built-in catalog, its own fault file)
unset SKYC_CATALOG_DIR SKYC_SIM_CONFIG
t_run "example" 0 bash "$SKYC_SOURCE_DIR/examples/sim-failover.sh" "$SKYC_BIN"
t_contains "example: ran" "$OUT" "running on node 0 of 1"
t_contains "example: capacity" "$OUT" "CAPACITY  zone sim:aws/us-east-1/us-east-1a"
t_contains "example: up" "$OUT" "UP"

t_done
