#!/usr/bin/env bash
# `skyc status` reconciles with the providers: a sim spot node preempted
# under a running job makes its cluster PREEMPTED (agent gone, unfinished
# jobs FAILED, start/exec refused with a hint), `down` still removes it,
# and clusters on other providers are left as they are.
set -e
. "$(dirname "$0")/lib.sh"

CAT="$T_TMP/catalog"
mkdir -p "$CAT/aws"
cat >"$CAT/aws/vms.csv" <<'CSV'
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
m5.large,,,2,8,,0.090,0.030,us-east-1,us-east-1a,x86_64
CSV
export SKYC_CATALOG_DIR="$CAT" SKYC_SIM_CONFIG="$T_TMP/sim.yaml"
# time_scale 60: the preemption lands 4 s after the node starts
printf 'time_scale: 60\npreemptions:\n  - after: 4m\n' >"$SKYC_SIM_CONFIG"
printf 'resources:\n  cpus: 2\n  use_spot: true\nrun: echo started; sleep 60\n' \
    >"$T_TMP/spot.yaml"
C="pre-$$"
t_on_exit "'$SKYC_BIN' down -a >/dev/null 2>&1"
agents() { ps -eo args | grep -c "^skyc agent $C\$" || true; }
sim_state() {
    skyc sim nodes --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(n["state"] for n in d) or "none")'
}

t_run "local: launch" 0 skyc launch -d -c "loc-$$" 'sleep 30'
t_run "spot: launch" 0 skyc launch -d --provider sim -c "$C" "$T_TMP/spot.yaml"
t_run "spot: second job queues" 0 skyc exec -d -c "$C" "$T_TMP/spot.yaml"
t_run "before: status" 0 skyc status --json
t_eq "before: UP" "$(echo "$OUT" | python3 -c "import json,sys; print([c['status'] for c in json.load(sys.stdin) if c['name']=='$C'][0])")" "UP"
[ "$(agents)" -ge 1 ] && t_pass || t_fail "before: no agent runs"

for _ in $(seq 1 150); do
    [ "$(sim_state)" = "PREEMPTED" ] && break
    sleep 0.2
done
t_eq "sim: node preempted" "$(sim_state)" "PREEMPTED"

# the first command to look (queue, one cluster) reconciles it; status
# (every cluster) then shows it without a second note
t_run "after: queue" 0 skyc queue "$C"
t_contains "after: note" "$ERR" "node 0 of cluster '$C' was preempted"
t_contains "after: hint" "$ERR" "skyc down $C"
t_eq "after: jobs FAILED" "$(echo "$OUT" | grep -c FAILED)" "2"
t_not_contains "after: nothing running" "$OUT" "RUNNING"
t_not_contains "after: nothing pending" "$OUT" "PENDING"
t_eq "after: agent gone" "$(agents)" "0"
t_run "after: status" 0 skyc status
t_eq "after: PREEMPTED" "$(echo "$OUT" | awk -v c="$C" '$1 == c {print $(NF-2)}')" "PREEMPTED"
t_not_contains "after: noted once" "$ERR" "was preempted"
t_eq "after: local still UP" "$(skyc status --json | python3 -c "import json,sys; print([c['status'] for c in json.load(sys.stdin) if c['name']=='loc-$$'][0])")" "UP"
t_run "after: logs" 137 timeout 30 "$SKYC_BIN" logs -f "$C" 1
t_contains "after: logs kept" "$OUT" "started"
t_run "after: start refused" 12 skyc start "$C"
t_contains "after: start says why" "$ERR" "was preempted and cannot be started"
t_run "after: exec refused" 12 skyc exec -c "$C" 'echo hi'
t_contains "after: exec says why" "$ERR" "'skyc down $C' removes it"
t_run "after: cost-report" 0 skyc cost-report
t_contains "after: cost-report lists it" "$OUT" "$C"

t_run "down" 0 skyc down "$C"
t_eq "down: no sim nodes" "$(sim_state)" "none"
t_run "down: status" 0 skyc status
t_not_contains "down: gone" "$OUT" "$C "
t_run "down: local" 0 skyc down "loc-$$"
t_done
