#!/usr/bin/env bash
# Optimizer speed, whole process including catalog load, over all shared
# catalogs: one A100:8 task, a 50-task chain with egress, a 100-task general
# DAG solved to proven optimality. Prints each figure next to its target and
# next to SkyPilot's optimizer as measured on this kind of machine (quoted
# from the issue: SkyPilot cannot be installed here, PyPI is unreachable).
#
# usage: bench/optimizer.sh [path/to/skyc]
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
DATA=${SKYC_SHARED_DATA:-$(dirname "$0")/../../shared/data}
[ -d "$DATA/catalog" ] || { echo "bench: no catalogs under $DATA" >&2; exit 1; }
export SKYC_CATALOG_DIR=$(realpath "$DATA/catalog") SKYC_SHARED_DATA=$(realpath "$DATA")
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
export XDG_CACHE_HOME="$W/cache"

python3 - "$W" <<'PY'
import random, sys
w = sys.argv[1]
random.seed(7)
open(f"{w}/one.yaml", "w").write("resources:\n  accelerators: A100:8\n")
kinds = ["accelerators: A100:8", "accelerators: H100:8", "accelerators: V100:1",
         "accelerators: T4:1", "accelerators: L4:1", "cpus: 8+", "cpus: 16+",
         "cpus: 32+\n  memory: 4x", "accelerators: A100:1"]
def task(name, kind, gb, deps=None):
    s = f"name: {name}\nresources:\n  {kind}\n"
    if gb: s += f"outputs:\n  s3://bench/{name}: {gb}\n"
    if deps is not None: s += "depends_on: [" + ", ".join(deps) + "]\n"
    return s + "run: echo " + name + "\n"
docs = [task(f"t{i}", random.choice(kinds), random.randint(1, 200)) for i in range(50)]
open(f"{w}/chain50.yaml", "w").write("---\n".join(docs))
docs = []
for i in range(100):
    deps = sorted({f"t{random.randrange(i)}" for _ in range(random.randint(1, 3))}) if i else []
    docs.append(task(f"t{i}", random.choice(kinds), random.randint(1, 200), deps))
open(f"{w}/dag100.yaml", "w").write("---\n".join(docs))
PY

mean_ms() { # hyperfine mean in ms of one command
    hyperfine -N --warmup 2 --runs "${RUNS:-10}" --export-json "$W/h.json" "$@" >/dev/null 2>&1
    python3 -c "import json; print('%.1f' % (json.load(open('$W/h.json'))['results'][0]['mean']*1000))"
}
peak_mb() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }

"$SKYC" catalog info >/dev/null   # build the binary cache
for f in chain50 dag100; do
    "$SKYC" optimize --json "$W/$f.yaml" >"$W/$f.json"
done
plan() { python3 -c "import json; d=json.load(open('$W/$1.json')); print(d['method'], 'proven' if d['proven_optimal'] else 'NOT-proven', '%d->%d regions' % (d['regions_considered'], d['regions_after_pruning']), '\$%.2f' % d['total_cost'])"; }

cold=$(SKYC_CATALOG_CACHE=0 mean_ms "env SKYC_CATALOG_CACHE=0 $SKYC catalog info")
warm=$(mean_ms "$SKYC catalog info")
one=$(mean_ms "$SKYC optimize $W/one.yaml")
chain=$(mean_ms "$SKYC optimize $W/chain50.yaml")
dag=$(RUNS=3 mean_ms "$SKYC optimize $W/dag100.yaml")
mem_one=$(peak_mb "$SKYC" optimize "$W/one.yaml")
mem_dag=$(peak_mb "$SKYC" optimize "$W/dag100.yaml")
offers=$("$SKYC" catalog info --json | python3 -c "import json,sys; print(sum(c['offers'] for c in json.load(sys.stdin)['clouds']))")

printf '%-44s %12s %12s %22s\n' "figure ($offers offerings, all clouds)" "skyc" "target" "SkyPilot (issue)"
printf '%-44s %10s ms %12s %22s\n' "catalog load, CSV parse (no cache)" "$cold" "-" "7 s import"
printf '%-44s %10s ms %12s %22s\n' "catalog load, binary cache" "$warm" "-" "-"
printf '%-44s %10s ms %12s %22s\n' "one task A100:8" "$one" "<= 20 ms" "1.45 s warm"
printf '%-44s %10s ms %12s %22s\n' "50-task chain with egress" "$chain" "<= 100 ms" "52-56 s"
printf '%-44s %10s ms %12s %22s\n' "100-task general DAG, proven optimal" "$dag" "<= 2000 ms" "6-task DAG > 300 s"
printf '%-44s %10s MB\n' "peak memory, one task" "$mem_one"
printf '%-44s %10s MB\n' "peak memory, 100-task DAG" "$mem_dag"
echo "chain50: $(plan chain50)"
echo "dag100:  $(plan dag100)"
