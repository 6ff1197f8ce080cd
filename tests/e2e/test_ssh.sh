#!/usr/bin/env bash
# The ssh provider through the CLI against 2 real sshd hosts on loopback
# (ssh_hosts.sh: generated key, removed at exit): a 2-node launch with
# workdir sync and setup, exec, a GPU label, the pool used up, a host that
# refuses SSH, and down cleaning the hosts.
set -e
. "$(dirname "$0")/lib.sh"

H="$T_TMP/hosts"
t_on_exit "bash '$SKYC_SOURCE_DIR/tests/e2e/ssh_hosts.sh' stop '$H'"
timeout 30 bash "$SKYC_SOURCE_DIR/tests/e2e/ssh_hosts.sh" start "$H" 2
export SKYC_SSH_CONFIG="$H/ssh.yaml"

mkdir -p "$T_TMP/wd"
echo "synced file" >"$T_TMP/wd/data.txt"
cat >"$T_TMP/two.yaml" <<YAML
workdir: $T_TMP/wd
num_nodes: 2
setup: echo "setup on \$SKYC_NODE_RANK"
run: |
  echo "rank \$SKYC_NODE_RANK of \$SKYC_NUM_NODES"
  cat data.txt
YAML

# 1. two nodes = both hosts; workdir synced; setup then run on each
t_run "launch" 0 timeout 120 "$SKYC_BIN" launch --provider ssh -c pool "$T_TMP/two.yaml"
t_contains "launch: rank 0" "$OUT" "rank 0 of 2"
t_contains "launch: rank 1" "$OUT" "rank 1 of 2"
t_contains "launch: setup" "$OUT" "setup on 1"
t_eq "launch: workdir on both" "$(echo "$OUT" | grep -c 'synced file')" "2"
[ -f "$H/remote1/pool-0/work/data.txt" ] && [ -f "$H/remote2/pool-1/work/data.txt" ] \
    && t_pass || t_fail "launch: files not on the hosts"
t_run "status" 0 skyc status
t_contains "status: ssh" "$OUT" "2x ssh(host1"
t_run "status -r" 0 timeout 60 "$SKYC_BIN" status -r --json
t_eq "status -r: asked the hosts, still UP" "$(echo "$OUT" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["status"])')" "UP"
t_run "exec" 0 timeout 60 "$SKYC_BIN" exec pool 'echo exec on $SKYC_NODE_RANK; exit 0'
t_contains "exec: ran" "$OUT" "exec on 1"
t_run "exec: exit code" 3 timeout 60 "$SKYC_BIN" exec pool 'exit 3'

# 2. the pool is used up: the only free host refuses SSH, so that is the
#    error (exit 7), and nothing is half-made
t_run "full" 7 timeout 60 "$SKYC_BIN" launch --provider ssh -c more 'echo hi'
t_contains "full: message" "$ERR" "host 'refuses'"
t_contains "full: found" "$ERR" "(0 of 1 node found)"
t_run "down" 0 timeout 60 "$SKYC_BIN" down pool
[ ! -e "$H/remote1/pool-0" ] && [ ! -e "$H/remote2/pool-1" ] \
    && t_pass || t_fail "down: node dirs left on the hosts"

# 3. labels: a T4 job goes to host1, the one with a GPU
cat >"$T_TMP/gpu.yaml" <<'YAML'
resources:
  accelerators: T4:1
run: echo gpu job
YAML
t_run "gpu" 0 timeout 60 "$SKYC_BIN" launch --provider ssh -c gpu "$T_TMP/gpu.yaml"
t_run "gpu: status" 0 skyc status
t_contains "gpu: on host1" "$OUT" "ssh(host1"
t_run "gpu: down" 0 timeout 60 "$SKYC_BIN" down gpu

# 4. a host that refuses SSH: exit 7 naming it, state left clean
awk '/name: refuses/{p=1} p' "$H/ssh.yaml" | sed '1s/^  - /hosts:\n  - /' >"$T_TMP/refuses.yaml"
SKYC_SSH_CONFIG="$T_TMP/refuses.yaml" t_run "refused" 7 timeout 60 "$SKYC_BIN" launch --provider ssh -c r 'echo hi'
t_contains "refused: which host" "$ERR" "host 'refuses' (127.0.0.1:"
t_contains "refused: why" "$ERR" "refused the SSH connection"
t_run "refused: status" 0 skyc status
t_not_contains "refused: no cluster" "$OUT" " r "

# 5. a bad pool file: where and what
printf 'hosts:\n  - host: 127.0.0.1\n    prot: 22\n' >"$T_TMP/bad.yaml"
SKYC_SSH_CONFIG="$T_TMP/bad.yaml" t_run "bad pool" 3 skyc launch --provider ssh -c b 'echo hi'
t_contains "bad pool: where" "$ERR" "bad.yaml:3:5: hosts: unknown key 'prot' (did you mean 'port'?)"

t_done
