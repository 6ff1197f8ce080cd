#!/usr/bin/env bash
# Runtime latency on the local provider, whole process: `skyc exec` on an
# existing cluster to the job's first log line, `skyc launch` of a new
# cluster to its first log line, and `skyc status` with 1,000 clusters in
# the state. Each figure is the median of several runs, printed next to its
# target and to SkyPilot's (quoted from the issue: SkyPilot is not
# installable here, PyPI is unreachable).
#
# usage: bench/runtime.sh [path/to/skyc]
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
W=$(mktemp -d)
export HOME="$W/home" XDG_STATE_HOME="$W/state" XDG_CACHE_HOME="$W/cache" \
       XDG_CONFIG_HOME="$W/config"
mkdir -p "$HOME"
cleanup() { "$SKYC" down -a >/dev/null 2>&1 || true; rm -rf "$W"; }
trap cleanup EXIT

# ms from process start to the first line on stdout; median of RUNS
first_line_ms() { # MODE (exec|launch)
    python3 - "$SKYC" "$1" "${RUNS:-15}" <<'PY'
import subprocess, sys, time, statistics
skyc, mode, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
out = []
for i in range(runs):
    if mode == "exec":
        argv = [skyc, "exec", "bench", "echo first; echo second"]
    else:
        argv = [skyc, "launch", "-c", f"bench-new-{i}", "echo first"]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    t1 = time.perf_counter()
    p.stdout.read(); p.wait()
    if line.strip() != b"first" or p.returncode:
        sys.exit(f"bench: {mode} printed {line!r}, exit {p.returncode}")
    out.append((t1 - t0) * 1000)
    if mode == "launch":
        subprocess.run([skyc, "down", f"bench-new-{i}"], stderr=subprocess.DEVNULL, check=True)
print("%.1f" % statistics.median(out))
PY
}

"$SKYC" launch -c bench 'echo warm' >/dev/null 2>&1
exec_ms=$(first_line_ms exec)
launch_ms=$(first_line_ms launch)

# 1,000 clusters: the live one above plus 999 stopped rows written straight
# into the database with SQLite (what a long-lived user's state looks like)
python3 - "$XDG_STATE_HOME/skyc/state.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = time.time()
with db:
    for i in range(999):
        db.execute("INSERT INTO history (cluster, provider, spot, num_nodes, launched_at, billed_seconds, status) VALUES (?, 'local', 0, 1, ?, 60, 'STOPPED')", (f"old-{i}", now - i))
        hid = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        db.execute("INSERT INTO clusters VALUES (?, 'local', 'STOPPED', 1, 'local', 'local', 'local', 'local', 0, 0.0, 2.0, 0.0, ?, ?, 0, 0, NULL, -1.0, 0, ?)", (f"old-{i}", now - i, now - i, hid))
PY
n=$("$SKYC" status --json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json "$W/h.json" "$SKYC status" >/dev/null 2>&1
status_ms=$(python3 -c "import json; print('%.1f' % (json.load(open('$W/h.json'))['results'][0]['median']*1000))")
python3 - "$XDG_STATE_HOME/skyc/state.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with db:
    db.execute("DELETE FROM clusters WHERE name LIKE 'old-%'")
PY
# the floor under every figure: starting the skyc binary at all
hyperfine -N --warmup 3 --runs "${RUNS:-20}" --export-json "$W/v.json" "$SKYC version" >/dev/null 2>&1
floor_ms=$(python3 -c "import json; print('%.1f' % (json.load(open('$W/v.json'))['results'][0]['median']*1000))")

printf '%-48s %10s %12s %20s\n' "figure (local provider, $(nproc) CPUs)" "skyc" "target" "SkyPilot (issue)"
printf '%-48s %7s ms %12s %20s\n' "exec on an existing cluster -> first log line" "$exec_ms" "<= 50 ms" "seconds"
printf '%-48s %7s ms %12s %20s\n' "launch of a new cluster -> first log line" "$launch_ms" "<= 300 ms" "seconds"
printf '%-48s %7s ms %12s %20s\n' "status with $n clusters in state" "$status_ms" "<= 30 ms" "seconds"
printf '%-48s %7s ms %12s %20s\n' "(floor: skyc version, process start only)" "$floor_ms" "-" "-"
echo "medians; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
