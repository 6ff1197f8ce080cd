#!/usr/bin/env bash
# The runtime on the local provider, through the CLI: launch, exec, queue,
# logs, cancel, stop/start, autostop, down, cost-report; multi-node env,
# failing setup, missing workdir, unknown cluster, a job killed by a signal,
# concurrent launches, a launch killed with -9 and reconciled, Ctrl-C.
set -e
. "$(dirname "$0")/lib.sh"

P="e2e$$"   # cluster name prefix, so the leak checks see only ours
# sleep lengths unique to this run, so process checks never see another
# test's (or another worktree's) sleeps
SL=$((1000000 + $$ * 10)); K1=$((SL + 1)); K2=$((SL + 2)); K3=$((SL + 3))
K4=$((SL + 4)); K5=$((SL + 5))
SB="$XDG_STATE_HOME/skyc/sandboxes"
t_on_exit 'skyc down -a >/dev/null 2>&1'

agents_of() { pgrep -f "skyc agent $1\$" || true; }
wait_status() { # CLUSTER JOB STATUS: poll the queue up to 10 s
    for _ in $(seq 200); do
        skyc queue --json "$1" 2>/dev/null | grep -A3 "\"id\": $2," | grep -q "\"status\": \"$3\"" && return 0
        sleep 0.05
    done
    return 1
}
W="$T_TMP/w"; mkdir -p "$W/wd"; echo payload > "$W/wd/data.txt"; echo mounted > "$W/m.txt"
cd "$W"

# --- launch, exec, queue, logs ---------------------------------------------
cat > one.yaml <<'Y'
name: hello
workdir: wd
file_mounts:
  ~/in/m.txt: m.txt
envs:
  GREETING: hi
setup: echo setup-ran >> ~/setup-count
run: |
  echo "$GREETING from $(cat data.txt) $(cat ~/in/m.txt)"
  echo setup-count=$(wc -l < ~/setup-count)
Y
t_run "launch" 0 skyc launch -c $P-a one.yaml
t_contains "launch streams the run" "$OUT" "hi from payload mounted"
t_contains "setup ran once" "$OUT" "setup-count=1"
t_run "launch again reuses" 0 skyc launch -c $P-a one.yaml
t_contains "setup not rerun" "$OUT" "setup-count=1"
t_run "exec" 0 skyc exec $P-a 'echo exec-ok; echo $SKYC_NUM_NODES'
t_contains "exec output" "$OUT" "exec-ok"
t_run "exec -c" 0 skyc exec -c $P-a one.yaml
t_contains "exec skips setup" "$OUT" "setup-count=1"
t_run "status" 0 skyc status
t_contains "status lists" "$OUT" "$P-a"
t_contains "status UP" "$OUT" "UP"
t_run "status json" 0 skyc status --json
t_contains "status json" "$OUT" "\"status\": \"UP\""
t_run "queue" 0 skyc queue $P-a
t_contains "queue header" "$OUT" "SUBMITTED"
t_eq "four jobs succeeded" "$(echo "$OUT" | grep -c SUCCEEDED)" 4
t_run "logs" 0 skyc logs $P-a 1
t_contains "logs of job 1" "$OUT" "hi from payload"
t_run "logs last job" 0 skyc logs -f $P-a
t_contains "logs default is last" "$OUT" "setup-count=1"
t_run "exit code passes through" 5 skyc exec $P-a 'echo before; exit 5'
t_contains "failure says which job" "$ERR" "failed with exit code 5"
t_run "killed by a signal" 137 skyc exec $P-a 'kill -9 $$'
t_contains "signal named" "$ERR" "killed by signal 9"
t_run "logs -f of a failed job" 5 skyc logs -f $P-a 5

# --- cancel: pending and running, process group killed ----------------------
t_run "exec detached" 0 skyc exec -d $P-a "sleep $K1 & sleep $K2; echo not-reached"
JOB=$(echo "$OUT" | awk '{print $2}')
wait_status $P-a "$JOB" RUNNING || t_fail "job $JOB never RUNNING"
t_run "cancel running" 0 skyc cancel $P-a "$JOB"
t_contains "cancelled" "$ERR" "CANCELLED"
sleep 0.2
t_eq "no sleep left" "$(pgrep -f "sleep ($K1|$K2)" | wc -l)" 0
t_run "cancel unknown job" 4 skyc cancel $P-a 999
t_run "cancel --all" 0 skyc cancel $P-a --all

# FIFO with CPU accounting: a job needing every CPU waits behind a running one
NCPU=$(nproc)
cat > big.yaml <<Y
resources:
  cpus: $NCPU
run: echo big-ran
Y
t_run "first job" 0 skyc exec -d $P-a 'sleep 4'
J1=$(echo "$OUT" | awk '{print $2}')
wait_status $P-a "$J1" RUNNING || t_fail "job $J1 never RUNNING"
t_run "big job queued" 0 skyc exec -d $P-a big.yaml
J2=$(echo "$OUT" | awk '{print $2}')
sleep 0.3
t_run "queue json" 0 skyc queue --json $P-a
t_contains "big job waits" "$(echo "$OUT" | grep -A3 "\"id\": $J2,")" "PENDING"
wait_status $P-a "$J2" SUCCEEDED || t_fail "big job never ran"
t_run "too big for the cluster" 5 skyc exec $P-a "$(printf 'resources:\n  cpus: 9999\nrun: echo x\n' > huge.yaml; echo huge.yaml)"

# --- bad input -------------------------------------------------------------
printf 'workdir: nope\nrun: echo x\n' > nowd.yaml
t_run "missing workdir" 4 skyc launch -c $P-nw nowd.yaml
t_contains "missing workdir says where" "$ERR" "nowd.yaml:1: workdir 'nope' does not exist"
t_run "missing workdir creates nothing" 4 skyc status $P-nw
t_run "unknown cluster exec" 4 skyc exec $P-nope 'echo x'
t_contains "unknown cluster hint" "$ERR" "launch it first"
t_run "unknown cluster logs" 4 skyc logs $P-nope
t_run "unknown cluster down" 4 skyc down $P-nope
t_run "bad cluster name" 2 skyc launch -c ../escape 'echo x'
t_contains "bad name says why" "$ERR" "invalid cluster name '../escape'"
t_run "bad yaml" 3 skyc launch -c $P-y "$(printf 'run: [\n' > bad.yaml; echo bad.yaml)"
printf 'setup: echo setup-broke; exit 3\nrun: echo never\n' > badsetup.yaml
t_run "failing setup" 3 skyc launch -c $P-s badsetup.yaml
t_contains "setup failure named" "$ERR" "setup of job 1 failed"
t_not_contains "run skipped" "$OUT" "never"
t_run "failed setup queue" 0 skyc queue $P-s
t_contains "FAILED_SETUP" "$OUT" "FAILED_SETUP"
t_run "cluster usable after failed setup" 0 skyc exec $P-s 'echo still-up'

# --- multi-node --------------------------------------------------------------
cat > multi.yaml <<'Y'
num_nodes: 3
run: |
  echo "rank=$SKYC_NODE_RANK of $SKYC_NUM_NODES sp=$SKYPILOT_NODE_RANK/$SKYPILOT_NUM_NODES ips=$(echo "$SKYC_NODE_IPS" | wc -l)"
Y
t_run "multi-node" 0 skyc launch -c $P-m multi.yaml
for r in 0 1 2; do t_contains "rank $r" "$OUT" "rank=$r of 3 sp=$r/3 ips=3"; done
t_eq "three sandboxes" "$(ls "$SB/$P-m" | wc -l)" 3
t_run "one node fails -> job fails" 4 skyc exec $P-m '[ $SKYC_NODE_RANK = 1 ] && exit 4; sleep '$K3
t_eq "other nodes killed" "$(pgrep -f "sleep $K3\$" | wc -l)" 0

# --- stop / start / autostop ------------------------------------------------
t_run "stop" 0 skyc stop $P-m
t_run "status stopped" 0 skyc status $P-m
t_contains "STOPPED" "$OUT" "STOPPED"
t_eq "no agent when stopped" "$(agents_of $P-m)" ""
t_run "exec on stopped" 12 skyc exec $P-m 'echo x'
t_run "start" 0 skyc start $P-m
t_run "exec after start" 0 skyc exec $P-m 'echo back'
t_run "autostop" 0 skyc autostop -i 0.01 $P-m
for _ in $(seq 100); do skyc status $P-m 2>/dev/null | grep -q STOPPED && break; sleep 0.1; done
t_run "autostopped" 0 skyc status $P-m
t_contains "autostop stopped it" "$OUT" "STOPPED"
t_run "start again" 0 skyc start $P-m
t_run "autostop --down" 0 skyc autostop -i 0.01 --down $P-m
for _ in $(seq 100); do skyc status $P-m >/dev/null 2>&1 || break; sleep 0.1; done
t_run "autostop --down removed it" 4 skyc status $P-m
t_eq "its sandboxes are gone" "$(ls "$SB/$P-m" 2>/dev/null | wc -l)" 0

# --- concurrency -------------------------------------------------------------
for i in 1 2; do skyc launch -c $P-c$i "echo conc-$i" >"$W/c$i.out" 2>&1 & done
for _ in 1 2 3; do skyc status >/dev/null 2>&1 || t_fail "status during launches"; done
wait
t_contains "launch 1" "$(cat "$W/c1.out")" "conc-1"
t_contains "launch 2" "$(cat "$W/c2.out")" "conc-2"
t_run "both UP" 0 skyc status --json
t_eq "two concurrent clusters UP" "$(echo "$OUT" | grep -c "\"name\": \"$P-c")" 2

# many writers at once: execs on one cluster while status and queue run
for i in 1 2 3 4 5 6; do skyc exec $P-c1 "echo par-$i" >"$W/p$i.out" 2>&1 & done
for _ in 1 2 3; do skyc status >/dev/null 2>&1 || t_fail "status under load"; skyc queue $P-c1 >/dev/null 2>&1 || t_fail "queue under load"; done
wait
for i in 1 2 3 4 5 6; do t_contains "parallel exec $i" "$(cat "$W/p$i.out")" "par-$i"; done
t_run "queue json after parallel" 0 skyc queue --json $P-c1
t_eq "job ids unique" "$(echo "$OUT" | grep '"id"' | sort | uniq -d | wc -l)" 0
t_eq "seven jobs, all succeeded" "$(echo "$OUT" | grep -c '"status": "SUCCEEDED"')" 7

# --- kill -9 in the middle of a launch ----------------------------------------
SKYC_DEBUG_LAUNCH_PAUSE_MS=10000 "$SKYC_BIN" launch -c $P-k 'echo x' >/dev/null 2>&1 &
KPID=$!
for _ in $(seq 100); do [ -d "$SB/$P-k" ] && break; sleep 0.05; done
t_run "INIT while launching" 0 skyc status $P-k
t_contains "INIT" "$OUT" "INIT"
kill -9 $KPID; wait $KPID 2>/dev/null || true
t_run "status reconciles" 0 skyc status
t_contains "reconcile note" "$ERR" "left in INIT"
t_not_contains "no INIT left" "$OUT" "$P-k"
t_eq "no leaked sandbox" "$(ls "$SB/$P-k" 2>/dev/null | wc -l)" 0
# killed inside provision(), before its nodes were recorded: the provider
# still removes what it made for the cluster
SKYC_DEBUG_LAUNCH_PAUSE_MS=10000 "$SKYC_BIN" launch -c $P-k2 'echo x' >/dev/null 2>&1 &
KPID=$!
for _ in $(seq 100); do [ -d "$SB/$P-k2" ] && break; sleep 0.05; done
kill -9 $KPID; wait $KPID 2>/dev/null || true
python3 -c "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('DELETE FROM nodes WHERE cluster=?', (sys.argv[2],)); d.commit()" \
    "$XDG_STATE_HOME/skyc/state.db" $P-k2
t_run "status reconciles unrecorded nodes" 0 skyc status
t_eq "no leaked unrecorded sandbox" "$(ls -d "$SB/$P-k2" 2>/dev/null | wc -l)" 0
t_run "cost-report shows it" 0 skyc cost-report
t_contains "failed launch in history" "$OUT" "FAILED"

# Ctrl-C while provisioning: the new cluster is torn down, nothing is left
SKYC_DEBUG_LAUNCH_PAUSE_MS=10000 "$SKYC_BIN" launch -c $P-i 'echo x' >/dev/null 2>"$W/i.err" &
KPID=$!
for _ in $(seq 100); do [ -d "$SB/$P-i" ] && break; sleep 0.05; done
kill -INT $KPID; set +e; wait $KPID; KRC=$?; set -e
t_eq "interrupted launch exit code" "$KRC" 130
t_contains "interrupted launch says so" "$(cat "$W/i.err")" "was not launched"
t_run "no cluster after interrupt" 4 skyc status $P-i
t_eq "no sandbox after interrupt" "$(ls "$SB/$P-i" 2>/dev/null | wc -l)" 0

# an agent killed with -9: its jobs fail, a new agent takes over
t_run "long job" 0 skyc exec -d $P-c1 "sleep $K4"
J=$(echo "$OUT" | awk '{print $2}')
wait_status $P-c1 "$J" RUNNING || t_fail "job never RUNNING"
kill -9 $(agents_of $P-c1)
t_run "status after agent death" 0 skyc status
t_contains "agent note" "$ERR" "agent of cluster '$P-c1' had died"
t_run "queue shows failed" 0 skyc queue $P-c1
t_contains "job failed" "$(echo "$OUT" | grep "^ *$J ")" "FAILED"
t_eq "its process is gone" "$(pgrep -f "sleep $K4\$" | wc -l)" 0
t_run "new agent runs jobs" 0 skyc exec $P-c1 'echo new-agent'
t_run "follow a job" 0 skyc exec -d $P-c1 "sleep $K5"
J=$(echo "$OUT" | awk '{print $2}')
wait_status $P-c1 "$J" RUNNING || t_fail "job never RUNNING"
( sleep 0.5; kill -9 $(agents_of $P-c1) ) &
t_run "logs -f ends when the agent dies" 13 timeout 20 "$SKYC_BIN" logs -f $P-c1 "$J"
wait

# --- Ctrl-C detaches -------------------------------------------------------------
set -m
"$SKYC_BIN" exec $P-c2 'echo started; sleep 3; echo finished' >"$W/int.out" 2>"$W/int.err" &
IPID=$!
set +m
for _ in $(seq 100); do grep -q started "$W/int.out" 2>/dev/null && break; sleep 0.05; done
kill -INT $IPID; wait $IPID; IRC=$?
t_eq "detach exit code" "$IRC" 0
t_contains "detach says how to follow" "$(cat "$W/int.err")" "skyc logs -f $P-c2"
t_run "job kept running" 0 skyc logs -f $P-c2
t_contains "job finished after detach" "$OUT" "finished"

# --- down, cost-report, nothing left -------------------------------------------
t_run "cost-report" 0 skyc cost-report --json
t_contains "cost report lists" "$OUT" "\"name\": \"$P-a\""
t_run "down" 0 skyc down $P-a $P-s
t_run "down all" 0 skyc down -a
t_run "status empty" 0 skyc status
t_eq "no sandboxes left" "$(ls "$SB" | wc -l)" 0
t_eq "no agents left" "$(pgrep -f "skyc agent $P-" | wc -l)" 0
t_run "history kept" 0 skyc cost-report
t_contains "terminated in history" "$OUT" "TERMINATED"
t_done
