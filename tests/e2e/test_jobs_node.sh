#!/usr/bin/env bash
# Multi-node managed jobs on the sim: one node of a 2-node spot cluster is
# preempted mid-run -> only that node is replaced (same zone, the surviving
# node keeps its instance id, setup runs on the new node alone), the job
# restarts on both ranks from its checkpoint and SUCCEEDS on the same
# cluster; the bill covers only what ran. The same in the deadline mode
# (the policy says spot in the same zone) and on the local provider (a
# node whose sandbox vanished is replaced by a new sandbox).
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/jobs_lib.sh"

# time_scale 60: node rank 1 of the first cluster in us-east-1a is taken
# back 5 s after it starts (mid-run, setup long done); its replacement is
# not (times: 1)
cat >"$SKYC_SIM_CONFIG" <<'YAML'
time_scale: 60
preemptions:
  - zone: us-east-1a
    rank: 1
    times: 1
    after: 5m
  - zone: us-east-1b
    rank: 1
    times: 1
    after: 5m
YAML
t_run "sim check shows the rule" 0 skyc sim check "$SKYC_SIM_CONFIG"
t_contains "sim check: rank" "$OUT" "node rank 1 only, the first 1 node"

cat >"$T_TMP/multi.yaml" <<'YAML'
name: multi
num_nodes: 2
resources:
  cpus: 2
  use_spot: true
setup: |
  echo "setup on rank $SKYC_NODE_RANK"
  touch ~/setup_done
  echo x >> $SKYC_CHECKPOINT_DIR/setups.$SKYC_NODE_RANK
run: |
  [ -f ~/setup_done ] || { echo "no setup on rank $SKYC_NODE_RANK"; exit 9; }
  echo "rank $SKYC_NODE_RANK of $SKYC_NUM_NODES up"
  if [ "$SKYC_NODE_RANK" = 0 ]; then
    step=$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)
    echo "resuming at step $step"
    while [ $step -lt 20 ]; do sleep 0.5; step=$((step+1)); echo $step > $SKYC_CHECKPOINT_DIR/step; done
    echo "trained to step $step"
  else
    while [ "$(cat $SKYC_CHECKPOINT_DIR/step 2>/dev/null || echo 0)" -lt 20 ]; do sleep 0.2; done
  fi
YAML
# running sim nodes of cluster $1 as "rank=id" lines
sim_running() {
    skyc sim nodes --json | python3 -c '
import json, sys
for n in json.load(sys.stdin):
    if n["state"] == "RUNNING" and n["id"].startswith(sys.argv[1] + "-"):
        print(n["id"].rsplit("-", 1)[1] + "=" + n["id"])' "$1" | sort
}

# the same in the deadline mode, in us-east-1b: the policy is asked and
# says spot in the same zone, so the node is replaced there too
sed 's/^  use_spot: true$/  use_spot: true\n  zone: us-east-1b/' "$T_TMP/multi.yaml" >"$T_TMP/dl.yaml"
# and on the local provider, where a node is lost when its sandbox goes
sed 's/^  use_spot: true$/  cpus: 1/; /^  cpus: 2$/d' "$T_TMP/multi.yaml" >"$T_TMP/local.yaml"
jlaunch J "$T_TMP/multi.yaml"
jlaunch JD --deadline 10h --work 10m --policy up "$T_TMP/dl.yaml"
jlaunch JL --provider local "$T_TMP/local.yaml"
jwait "$JL" 30 RUNNING || t_fail "local job did not start"
sleep 1
rm -rf "$XDG_STATE_HOME/skyc/sandboxes/mj$JL-1/node-1" # node 1 is gone
jwait "$J" 30 RUNNING || t_fail "job did not start"
for _ in $(seq 1 50); do [ "$(sim_running "mj$J-1" | wc -l)" = 2 ] && break; sleep 0.1; done
BEFORE=$(sim_running "mj$J-1")
t_eq "two nodes up" "$(echo "$BEFORE" | wc -l)" "2"
ID0=$(echo "$BEFORE" | sed -n 's/^0=//p'); ID1=$(echo "$BEFORE" | sed -n 's/^1=//p')

# wait for the replacement, then look at the nodes while the job runs on
for _ in $(seq 1 150); do
    case "$(jevents "$J")" in *REPLACED*RUNNING*) break ;; esac
    sleep 0.1
done
t_contains "history: preempted, replaced, running" "$(jevents "$J")" "RUNNING,PREEMPTED,REPLACED,RUNNING"
AFTER=$(sim_running "mj$J-1")
t_eq "rank 0 kept its instance" "$(echo "$AFTER" | sed -n 's/^0=//p')" "$ID0"
NEW1=$(echo "$AFTER" | sed -n 's/^1=//p')
[ -n "$NEW1" ] && [ "$NEW1" != "$ID1" ] && t_pass || t_fail "rank 1: want a new instance, had '$ID1', now '$NEW1'"
t_eq "still the first cluster" "$(jfield "$J" cluster)" "mj$J-1"

jwait "$J" 60 SUCCEEDED || t_fail "multi-node job did not succeed"
t_eq "one launch" "$(jfield "$J" launches)" "1"
t_eq "one preemption" "$(jfield "$J" preemptions)" "1"
t_run "queue shows the replacement" 0 skyc jobs queue "$J"
t_contains "queue: node 1 replaced" "$OUT" "node 1 replaced (preempted)"
t_contains "queue: old -> new ids" "$OUT" "$ID1 -> $NEW1"
t_contains "queue: same zone" "$OUT" "spot in us-east-1a (same zone)"
t_contains "queue: preempted row" "$OUT" "node 1 preempted"
t_run "logs" 0 skyc jobs logs "$J"
t_eq "logs: from scratch once" "$(echo "$OUT" | grep -c 'resuming at step 0$')" "1"
resumed=$(echo "$OUT" | grep 'resuming at step' | tail -1 | awk '{print $NF}')
[ "${resumed:-0}" -gt 0 ] && t_pass || t_fail "second run did not resume from the checkpoint ('$resumed')"
t_contains "logs: finished" "$OUT" "trained to step 20"
t_eq "logs: rank 1 ran twice" "$(echo "$OUT" | grep -c 'rank 1 of 2 up')" "2"
CK="$XDG_STATE_HOME/skyc/jobs/$J/checkpoint"
t_eq "setup ran once on rank 0" "$(wc -l <"$CK/setups.0")" "1"
t_eq "setup ran on both rank-1 nodes" "$(wc -l <"$CK/setups.1")" "2"
cost=$(jfield "$J" cost); od=$(jfield "$J" od_cost)
t_eq "cost: spot, below on-demand" "$(python3 -c "print(0 < $cost < $od)")" "True"
# bill only what ran: both nodes until the preemption, the surviving one
# while the node is replaced, both again from the replacement on
# (m5.large spot in us-east-1a: $0.030/h a node)
bill=$(skyc jobs queue --json "$J" | python3 -c '
import json, sys
ev = json.load(sys.stdin)["events"]
at = {}
for e in ev:
    at.setdefault(e["kind"], []).append((e["sim_at"], e["cost"]))
(tl, cl), = at["LAUNCH"]
(tp, cp), = at["PREEMPTED"]
(tr, cr), = at["REPLACED"]
(ts, cs), = at["SUCCEEDED"]
(t2, c2) = at["RUNNING"][1]
ok = [abs(cp - 0.06 * (tp - tl) / 3600) < 1e-9,
      abs(cr - cp - 0.03 * (tr - tp) / 3600) < 1e-9,
      abs(cs - c2 - 0.06 * (ts - t2) / 3600) < 1e-9,
      tp < tr <= t2 < ts]
print(" ".join(str(x) for x in ok))')
t_eq "bill: what ran, node by node" "$bill" "True True True True"
jwait "$JL" 60 SUCCEEDED || t_fail "local multi-node job did not succeed"
t_eq "local: one launch" "$(jfield "$JL" launches)" "1"
t_contains "local: history" "$(jevents "$JL")" "PREEMPTED,REPLACED,RUNNING,SUCCEEDED"
t_contains "local: node 1 replaced" "$(skyc jobs queue "$JL")" "node 1 replaced (gone): mj$JL-1/node-1 -> mj$JL-1/node-1.1, on-demand in local"
t_run "local: logs" 0 skyc jobs logs "$JL"
t_eq "local: rank 1 ran twice" "$(echo "$OUT" | grep -c 'rank 1 of 2 up')" "2"
t_contains "local: finished" "$OUT" "trained to step 20"
jwait "$JD" 60 SUCCEEDED || t_fail "deadline multi-node job did not succeed"
t_eq "deadline: one launch" "$(jfield "$JD" launches)" "1"
t_contains "deadline: history" "$(jevents "$JD")" "PREEMPTED,REPLACED,RUNNING"
t_contains "deadline: the policy chose it" "$(skyc jobs queue "$JD")" "spot in us-east-1b (policy: spot in the same zone)"
t_eq "no clusters left" "$(clusters_left)" "0"
t_eq "no sim nodes left" "$(nodes_left)" "0"
t_done
