#!/usr/bin/env bash
# Store simulator speed: replay throughput (events/s) of `skyc store sim` on
# a generated 1M-event trace (100k objects, 4 regions over three clouds, 30
# days), per policy through the placement engine, and the whole command
# (CSV parse + 8 policies) wall time. The baseline, run in the same go, is a
# plain Python replay of the same trace under write-local (a dict of objects
# and a price table; no TTLs), the kind of loop SkyStore's simulator runs.
#
# usage: bench/store_sim.sh [path/to/skyc]
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
DATA=${SKYC_SHARED_DATA:-$(dirname "$0")/../../shared/data}
[ -d "$DATA/skystore/profiles" ] || { echo "bench: no SkyStore profiles under $DATA" >&2; exit 1; }
export SKYC_SHARED_DATA=$(realpath "$DATA")
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
EVENTS=${EVENTS:-1000000}

t0=$(date +%s.%N)
"$SKYC" store sim --generate --events "$EVENTS" --objects 100000 --days 30 \
    --seed 42 --save-trace "$W/t.csv" --policy write-local >/dev/null
t1=$(date +%s.%N)
"$SKYC" store sim --trace "$W/t.csv" --json >"$W/all.json"
t2=$(date +%s.%N)

python3 - "$W/t.csv" "$SKYC_SHARED_DATA/skystore/profiles/cost.csv" >"$W/py.txt" <<'PY'
import csv, sys, time
egress = {}
with open(sys.argv[2]) as f:
    for r in csv.DictReader(f):
        egress.setdefault((r["src"], r["dest"]), float(r["cost"]))
t = time.monotonic()
home, usd, n = {}, 0.0, 0
with open(sys.argv[1]) as f:
    for r in csv.DictReader(f):
        n += 1
        if r["op"] == "write":
            home[r["obj_key"]] = (r["issue_region"], int(r["size"]))
        else:
            h, size = home[r["obj_key"]]
            if h != r["issue_region"]:
                usd += size / 1e9 * egress[(h, r["issue_region"])]
dt = time.monotonic() - t
print("%.0f %.4f" % (n / dt, usd))
PY

python3 - "$W/all.json" "$W/py.txt" "$t0" "$t1" "$t2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
py_rate, py_usd = open(sys.argv[2]).read().split()
t0, t1, t2 = map(float, sys.argv[3:6])
n = d["trace"]["events"]
print("%-46s %14s %12s" % ("figure (%d events, %d objects)" % (n, d["trace"]["objects"]), "skyc", "target"))
print("%-46s %12.2f s %12s" % ("generate + save the trace + 1 policy", t1 - t0, "-"))
print("%-46s %12.2f s %12s" % ("store sim: parse CSV + replay 8 policies", t2 - t1, "-"))
for p in d["policies"]:
    print("%-46s %10.0f ev/s %12s" % ("replay " + p["policy"], p["events_per_s"], ">= 1M ev/s"))
wl = [p for p in d["policies"] if p["policy"] == "write-local"][0]
print("%-46s %10.0f ev/s %12s" % ("baseline: Python write-local replay", float(py_rate), "-"))
print("write-local egress: skyc $%.4f, Python baseline $%.4f (must agree)" % (wl["egress_usd"], float(py_usd)))
print("cheapest: %s" % d["cheapest"])
PY
