#!/usr/bin/env bash
# Transfer planner speed and cost on Skyplane's 2022-11 grid (71 regions):
# a fixed list of region pairs and goals (min cost at a throughput, max
# throughput under a $/GB budget, max throughput), each planned by one
# `skyc transfer plan --json` process, and again by the reference in the
# same run: `--reference`, Skyplane's MILP as written (one model over every
# region, handed whole to CBC with its default settings through
# src/solver) with the connections declared integer.
#
# Per plan: wall and CPU seconds of the whole process (grid + catalog load
# + every solve), Gbps and $/GB (integer connections) of skyc and of the
# reference side by side, the optimum of Skyplane's own model (fractional
# connections), whether optimality was proven, and "ok" or MISMATCH: the
# $/GB must agree (and in the budget and max-throughput modes the Gbps too)
# to 1e-6 relative.
# Target: <= 0.5 s per plan at the reference's optimum. Peer (quoted from
# the issue; Skyplane cannot be installed here): Skyplane's MILP with CBC
# takes 0.4-20 s per plan on this kind of machine, plus ~5 s to build the
# model; the reference column is that MILP (integer connections) in C.
#
# usage: bench/transfer_plan.sh [path/to/skyc]
#        BENCH_NO_REFERENCE=1 skips the reference (for quick iterations)
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
DATA=${SKYC_SHARED_DATA:-$(dirname "$0")/../../shared/data}
[ -f "$DATA/skyplane/throughput_grid_2022-11.csv" ] ||
    { echo "bench: no Skyplane grid under $DATA/skyplane" >&2; exit 1; }
export SKYC_SHARED_DATA=$(realpath "$DATA")
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME="$W/cache"
"$SKYC" transfer plan aws:us-east-1 gcp:us-west1-a --tput 1 >/dev/null  # warm the page cache

python3 - "$SKYC" "${BENCH_NO_REFERENCE:-}" <<'PY'
import json, os, resource, subprocess, sys, time

skyc, noref = sys.argv[1], bool(sys.argv[2])
PLANS = [
    "aws:us-east-1 gcp:us-west1-a --tput 4",
    "aws:us-east-1 gcp:us-west1-a --tput 8 --max-vms 2",
    "aws:us-west-2 azure:westeurope --tput 5 --max-vms 2",
    "azure:eastus aws:ap-northeast-1 --tput 12 --max-vms 2",
    "gcp:asia-east1-a azure:westeurope --tput 10 --max-vms 4",
    "aws:ap-northeast-1 gcp:europe-west4-a --tput 6 --max-vms 2",
    "aws:sa-east-1 gcp:asia-south1-a --tput 3 --max-vms 2",
    "gcp:us-central1-a aws:eu-central-1 --tput 20 --max-vms 4",
    "aws:eu-west-1 azure:westus2 --max-cost 0.12 --max-vms 2",
    "azure:uksouth gcp:asia-northeast3-a --max-cost 0.10 --max-vms 2",
    "aws:us-east-1 gcp:us-west1-a --max-vms 1",
    "aws:af-south-1 azure:australiaeast --max-vms 2",
]

def run(args):
    """Run skyc; wall and CPU (user + sys) seconds, the JSON or the error."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run([skyc, "transfer", "plan"] + args + ["--json"],
                       capture_output=True, text=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if p.returncode:
        return wall, cpu, None, "exit %d: %s" % (p.returncode, p.stderr.strip()[:100])
    return wall, cpu, json.loads(p.stdout), None

def same(a, b):
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))

hdr = ("%-58s %6s %6s %8s %8s %8s %9s %9s %9s %6s %s"
       % ("plan (Skyplane Gbps = bit/s / 2^30)", "wall s", "cpu s", "ref s",
          "Gbps", "ref Gbps", "$/GB", 'ref $/GB', "Skyplane$", "relays",
          "check"))
print(hdr)
walls, cpus, refs, over, bad = [], [], [], 0, 0
for line in PLANS:
    args = line.split()
    wall, cpu, d, e = run(args)
    walls.append(wall); cpus.append(cpu)
    over += wall > 0.5
    if e:
        print("%-58s %6.3f %6.3f  %s" % (line, wall, cpu, e)); bad += 1
        continue
    p = d["plan"]
    ref = "-"; rg = rc = None; check = "no reference"
    if not noref:
        rw, _, rd, re = run(args + ["--reference"])
        refs.append(rw); ref = "%.3f" % rw
        if re:
            check = "reference failed: " + re
        else:
            rp = rd["plan"]; rg, rc = rp["throughput_gbps"], rp["cost_per_gb"]
            ok = same(p["cost_per_gb"], rc)
            if "--tput" not in args:
                ok = ok and same(p["throughput_gbps"], rg)
            proven = p["proven_optimal"] and rp["proven_optimal"]
            check = ("ok" if ok else "MISMATCH") + ("" if proven else " (not proven)")
            bad += not ok
    print("%-58s %6.3f %6.3f %8s %8.3f %8s %9.5f %9s %9.5f %6d %s"
          % (line, wall, cpu, ref, p["throughput_gbps"],
             "-" if rg is None else "%.3f" % rg, p["cost_per_gb"],
             "-" if rc is None else "%.5f" % rc,
             p["fractional_cost_per_gb"], len(p["relays"]), check))
n = len(PLANS)
print()
print("%-40s %10s %12s %14s %26s" % ("figure (%d plans)" % n, "skyc", "target",
                                      "reference", "Skyplane (issue)"))
print("%-40s %8.3f s %12s %12s %26s" % (
    "mean wall time per plan", sum(walls) / n, "<= 0.5 s",
    "%.3f s" % (sum(refs) / len(refs)) if refs else "-", "0.4-20 s + ~5 s build"))
print("%-40s %8.3f s %12s %12s" % ("worst plan (wall)", max(walls), "<= 0.5 s",
                                   "%.3f s" % max(refs) if refs else "-"))
print("%-40s %8.3f s" % ("mean CPU time per plan", sum(cpus) / n))
print("%-40s %8.3f s" % ("worst plan (CPU)", max(cpus)))
print("%-40s %10d %12s" % ("plans over 0.5 s (wall)", over, "0"))
print("%-40s %10d %12s" % ("mismatches with the reference", bad, "0"))
print("load average while measuring: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
PY
