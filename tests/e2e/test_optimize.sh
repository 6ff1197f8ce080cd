#!/usr/bin/env bash
# The optimizer through the CLI, on a tiny hand-made catalog with
# hand-computed answers; show-gpus; catalog info and fetch.
set -e
. "$(dirname "$0")/lib.sh"
t_need_shared skyplane   # egress prices come from Skyplane's cost grid

CAT="$T_TMP/catalog"
mkdir -p "$CAT/aws" "$CAT/gcp"
cat >"$CAT/aws/vms.csv" <<'CSV'
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
c7,,,7,28,,0.50,0.20,us-east-1,us-east-1a,x86_64
c7,,,7,28,,0.90,,us-west-2,us-west-2a,x86_64
g1,P100,1,8,61,,3.00,1.00,us-east-1,us-east-1a,x86_64
g1,P100,1,8,61,,2.50,,us-west-2,us-west-2a,x86_64
CSV
cat >"$CAT/gcp/vms.csv" <<'CSV'
InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice
n1-highmem-8,8.0,52.0,,,,us-central1,us-central1-a,0.50,0.20
,,,P100,1,,us-central1,us-central1-a,2.20,0.70
CSV
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. one task: on-demand 2.50 (aws us-west-2) beats 2.70 (gcp 0.50 + 2.20)
cat >"$T_TMP/one.yaml" <<'YAML'
resources:
  accelerators: p100:1
YAML
t_run "single task" 0 skyc optimize --catalog "$CAT" --json "$T_TMP/one.yaml"
t_eq "single: cost" "$(echo "$OUT" | json 'd["total_cost"]')" "2.5"
t_eq "single: region" "$(echo "$OUT" | json 'd["tasks"][0]["chosen"]["region"]')" "us-west-2"
t_eq "single: method" "$(echo "$OUT" | json 'd["method"]')" "single"
# spot: gcp 0.20 + 0.70 = 0.90 beats aws 1.00
sed -i 's/p100:1/p100:1\n  use_spot: true/' "$T_TMP/one.yaml"
t_run "spot" 0 skyc optimize --catalog "$CAT" --json "$T_TMP/one.yaml"
t_eq "spot: cloud" "$(echo "$OUT" | json 'd["tasks"][0]["chosen"]["cloud"]')" "gcp"
t_eq "spot: cost" "$(echo "$OUT" | json 'round(d["total_cost"], 6)')" "0.9"
# the human table marks the chosen row and shows runners-up
t_run "table" 0 skyc launch --dryrun --catalog "$CAT" "$T_TMP/one.yaml"
t_contains "table header" "$OUT" "INFRA"
t_contains "table chosen" "$OUT" "gcp/us-central1/us-central1-a"
t_contains "table runner-up" "$OUT" "aws/us-east-1/us-east-1a"
t_contains "table summary" "$OUT" "proven optimal"

# 2. a chain where the cheapest first step is in the wrong place:
#    A east 0.50 + B east 6.00 = 6.50; A east + B west 0.50 + 5.00 + 100 GB
#    x 0.02 = 7.50; A west + B west = 0.90 + 5.00 = 5.90 (optimal)
cat >"$T_TMP/chain.yaml" <<'YAML'
name: a
resources: {cpus: 7}
outputs: {s3://x/out: 100}
---
name: b
resources: {accelerators: P100}
estimated_hours: 2h
YAML
t_run "chain" 0 skyc optimize --catalog "$CAT" --json "$T_TMP/chain.yaml"
t_eq "chain: cost" "$(echo "$OUT" | json 'round(d["total_cost"], 6)')" "5.9"
t_eq "chain: a region" "$(echo "$OUT" | json 'd["tasks"][0]["chosen"]["region"]')" "us-west-2"
t_eq "chain: method" "$(echo "$OUT" | json 'd["method"]')" "dp"
t_run "chain milp" 0 skyc optimize --catalog "$CAT" --json --solver milp "$T_TMP/chain.yaml"
t_eq "chain: milp agrees" "$(echo "$OUT" | json 'round(d["total_cost"], 6)')" "5.9"

# 3. a diamond (not a tree): MILP. D pinned to us-west-2; B and C stay east
#    (0.50 + 10 GB x 0.02) rather than west (0.90): 0.5*3 + 0.9 + 0.2*2 = 2.8
cat >"$T_TMP/diamond.yaml" <<'YAML'
name: a
resources: {cpus: 7}
outputs: {s3://x/a: 10}
---
name: b
depends_on: [a]
resources: {cpus: 7}
outputs: {s3://x/b: 10}
---
name: c
depends_on: [a]
resources: {cpus: 7}
outputs: {s3://x/c: 10}
---
name: d
depends_on: [b, c]
resources: {cpus: 7, infra: aws/us-west-2}
YAML
t_run "diamond" 0 skyc optimize --catalog "$CAT" --json "$T_TMP/diamond.yaml"
t_eq "diamond: cost" "$(echo "$OUT" | json 'round(d["total_cost"], 6)')" "2.8"
t_eq "diamond: method" "$(echo "$OUT" | json 'd["method"]')" "milp"
t_eq "diamond: proven" "$(echo "$OUT" | json 'd["proven_optimal"]')" "True"
t_run "diamond dp refused" 2 skyc optimize --catalog "$CAT" --solver dp "$T_TMP/diamond.yaml"
t_contains "dp refused" "$ERR" "use --solver milp"
# blocking us-west-2 forces d elsewhere: nothing else fits its pin
t_run "blocked" 5 skyc optimize --catalog "$CAT" --block aws/us-west-2 "$T_TMP/diamond.yaml"
t_contains "blocked msg" "$ERR" "task 'd'"
# time objective: same placement, reported as time
t_run "time" 0 skyc optimize --catalog "$CAT" --json --minimize time "$T_TMP/chain.yaml"
t_eq "time: objective" "$(echo "$OUT" | json 'd["objective"]')" "time"

# 4. bad input: unknown GPU, bad YAML, missing file, bad flags
printf 'resources:\n  accelerators: P1000:1\n' >"$T_TMP/typo.yaml"
t_run "unknown gpu" 5 skyc optimize --catalog "$CAT" "$T_TMP/typo.yaml"
t_contains "gpu suggestion" "$ERR" "did you mean 'P100'?"
printf 'resources:\n  cpus: [\n' >"$T_TMP/bad.yaml"
t_run "bad yaml" 3 skyc optimize --catalog "$CAT" "$T_TMP/bad.yaml"
t_contains "bad yaml where" "$ERR" "bad.yaml:"
t_run "missing file" 4 skyc optimize --catalog "$CAT" "$T_TMP/nope.yaml"
t_run "bad minimize" 2 skyc optimize --minimize money "$T_TMP/one.yaml"
t_run "bad hours" 2 skyc optimize --hours soon "$T_TMP/one.yaml"
t_run "unknown flag" 2 skyc optimize --dry-run "$T_TMP/one.yaml"
t_contains "flag suggestion" "$ERR" "did you mean '--dryrun'?"
t_run "launch of a GPU task on local" 8 skyc launch "$T_TMP/one.yaml"
t_contains "local has no GPUs" "$ERR" "this machine has no"
t_run "missing catalog dir" 4 skyc optimize --catalog "$T_TMP/none" "$T_TMP/one.yaml"
printf 'InstanceType,vCPUs,MemoryGiB,Price,Region\nx,2,4,cheap,r\n' >"$T_TMP/badcat.csv"
mkdir -p "$T_TMP/badcat/aws" && cp "$T_TMP/badcat.csv" "$T_TMP/badcat/aws/vms.csv"
t_run "bad catalog" 3 skyc optimize --catalog "$T_TMP/badcat" "$T_TMP/one.yaml"
t_contains "bad catalog where" "$ERR" "aws/vms.csv:2: Price 'cheap'"

# 5. show-gpus
t_run "show-gpus" 0 skyc show-gpus --catalog "$CAT"
t_contains "show-gpus lists" "$OUT" "P100"
t_run "show-gpus name" 0 skyc show-gpus --catalog "$CAT" --json p100:1
t_eq "show-gpus rows" "$(echo "$OUT" | json 'len(d)')" "2"
t_run "show-gpus all regions" 0 skyc show-gpus --catalog "$CAT" --json --all-regions P100
t_eq "show-gpus all rows" "$(echo "$OUT" | json 'len(d)')" "3"
t_run "show-gpus unknown" 4 skyc show-gpus --catalog "$CAT" P1000
t_contains "show-gpus suggestion" "$ERR" "did you mean 'P100'?"

# 6. catalog info and fetch (file:// and a loopback HTTP server)
t_run "info" 0 skyc catalog info --catalog "$CAT" --json
t_eq "info aws rows" "$(echo "$OUT" | json '[c["rows"] for c in d["clouds"] if c["cloud"]=="aws"][0]')" "4"
t_run "fetch file" 0 skyc catalog fetch --url "file://$CAT" --dest "$T_TMP/fetched"
cmp -s "$CAT/aws/vms.csv" "$T_TMP/fetched/aws/vms.csv" && t_pass || t_fail "fetched copy differs"
echo "# my edit" >>"$T_TMP/fetched/aws/vms.csv"
t_run "fetch keeps edit" 0 skyc catalog fetch --url "file://$CAT" --dest "$T_TMP/fetched" --json
t_contains "kept" "$OUT" "kept your edit"
tail -1 "$T_TMP/fetched/aws/vms.csv" | grep -q "my edit" && t_pass || t_fail "edit lost"
[ -f "$T_TMP/fetched/aws/vms.csv.new" ] && t_pass || t_fail "no .new copy"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$CAT" >"$T_TMP/http.log" 2>&1 &
HTTP_PID=$!
t_on_exit "kill $HTTP_PID"
for _ in $(seq 50); do
    PORT=$(grep -o 'port [0-9]*' "$T_TMP/http.log" | head -1 | cut -d' ' -f2)
    [ -n "$PORT" ] && break
    sleep 0.1
done
t_run "fetch http" 0 skyc catalog fetch --url "http://127.0.0.1:$PORT" --dest "$T_TMP/http"
cmp -s "$CAT/gcp/vms.csv" "$T_TMP/http/gcp/vms.csv" && t_pass || t_fail "http copy differs"
t_contains "404 is reported" "$ERR" "not on the server"
t_run "fetch bad url" 7 skyc catalog fetch --url "http://127.0.0.1:1" --dest "$T_TMP/x"
t_done
