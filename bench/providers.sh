#!/usr/bin/env bash
# Provider latency, whole process, to the job's first log line: `skyc
# launch` of a new cluster on sim (no faults, and failing over past 2
# injected faults), and on ssh (one loopback sshd host), next to the local
# provider in the same run as the baseline; `skyc exec` on the ssh cluster.
# Medians of RUNS runs (default 7; ssh 5).
#
# usage: bench/providers.sh [path/to/skyc]
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
SRC=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
export HOME="$W/home" XDG_STATE_HOME="$W/state" XDG_CACHE_HOME="$W/cache" \
       XDG_CONFIG_HOME="$W/config"
mkdir -p "$HOME"
cleanup() {
    "$SKYC" down -a >/dev/null 2>&1 || true
    bash "$SRC/tests/e2e/ssh_hosts.sh" stop "$W/hosts" >/dev/null 2>&1 || true
    rm -rf "$W"
}
trap cleanup EXIT

# median ms from process start to the first stdout line "first"
first_line_ms() { # PROVIDER RUNS [launch|exec]
    python3 - "$SKYC" "$1" "$2" "${3:-launch}" <<'PY'
import subprocess, sys, time, statistics
skyc, prov, runs, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out = []
for i in range(runs):
    name = f"b-{prov}-{i}"
    if mode == "exec":
        argv = [skyc, "exec", f"b-{prov}-keep", "echo first"]
    else:
        argv = [skyc, "launch", "--provider", prov, "-c", name, "echo first"]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    t1 = time.perf_counter()
    p.stdout.read(); p.wait()
    if line.strip() != b"first" or p.returncode:
        sys.exit(f"bench: {prov} {mode} printed {line!r}, exit {p.returncode}")
    out.append((t1 - t0) * 1000)
    if mode == "launch":
        subprocess.run([skyc, "down", name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
print("%.1f" % statistics.median(out))
PY
}

RUNS=${RUNS:-7}
local_ms=$(first_line_ms local "$RUNS")
export SKYC_SIM_CONFIG="$W/sim.yaml"
: >"$SKYC_SIM_CONFIG"
sim_ms=$(first_line_ms sim "$RUNS")
cat >"$SKYC_SIM_CONFIG" <<'YAML'
faults:
  - zone: us-east-1a
    error: capacity
  - cloud: gcp
    error: auth
YAML
sim_fo_ms=$(first_line_ms sim "$RUNS")

bash "$SRC/tests/e2e/ssh_hosts.sh" start "$W/hosts" 1 >/dev/null
export SKYC_SSH_CONFIG="$W/hosts/ssh.yaml"
ssh_ms=$(first_line_ms ssh 5)
"$SKYC" launch --provider ssh -c b-ssh-keep 'echo warm' >/dev/null 2>&1
ssh_exec_ms=$(first_line_ms ssh 5 exec)

printf '%-48s %10s  %s\n' "figure" "ms" "baseline (same run)"
printf '%-48s %10s  %s\n' "launch on local, to first log line" "$local_ms" "-"
printf '%-48s %10s  %s\n' "launch on sim, to first log line" "$sim_ms" "local $local_ms"
printf '%-48s %10s  %s\n' "launch on sim past 2 injected faults (3 tries)" "$sim_fo_ms" "sim $sim_ms"
printf '%-48s %10s  %s\n' "launch on ssh (loopback sshd), to first line" "$ssh_ms" "local $local_ms"
printf '%-48s %10s  %s\n' "exec on ssh cluster, to first log line" "$ssh_exec_ms" "-"
