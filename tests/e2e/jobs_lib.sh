# jobs_lib.sh - shared set-up of the managed-jobs e2e tests (sourced after
# lib.sh): a small two-cloud catalog, the sim config path, and helpers that
# wait on a managed job.
CAT="$T_TMP/catalog"
mkdir -p "$CAT/aws" "$CAT/gcp"
cat >"$CAT/aws/vms.csv" <<'CSV'
InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone,Arch
m5.large,,,2,8,,0.090,0.030,us-east-1,us-east-1a,x86_64
m5.large,,,2,8,,0.096,0.036,us-east-1,us-east-1b,x86_64
m5.large,,,2,8,,0.107,0.040,us-west-2,us-west-2a,x86_64
CSV
cat >"$CAT/gcp/vms.csv" <<'CSV'
InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,Region,AvailabilityZone,Price,SpotPrice
n1-standard-2,2,7.5,,,,us-central1,us-central1-a,0.120,0.050
CSV
export SKYC_CATALOG_DIR="$CAT"
export SKYC_SIM_CONFIG="$T_TMP/sim.yaml"
export SKYC_JOBS_POLL_MS=50
CTL_PID_FILE="$XDG_STATE_HOME/skyc/jobs/controller.pid"
t_on_exit 'p=$(cat "$CTL_PID_FILE" 2>/dev/null) && kill "$p" 2>/dev/null; sleep 0.2'
t_on_exit 'for c in $("$SKYC_BIN" status --json 2>/dev/null | python3 -c "import json,sys; print(\" \".join(c[\"name\"] for c in json.load(sys.stdin)))" 2>/dev/null); do "$SKYC_BIN" down "$c" >/dev/null 2>&1; done'

# jfield ID FIELD: one field of `skyc jobs queue --json ID`.
jfield() {
    "$SKYC_BIN" jobs queue --json "$1" 2>/dev/null |
        python3 -c 'import json,sys; v=json.load(sys.stdin)[sys.argv[1]]; print("" if v is None else v)' "$2"
}
# jevents ID: the event kinds of a job, comma-separated.
jevents() {
    "$SKYC_BIN" jobs queue --json "$1" 2>/dev/null |
        python3 -c 'import json,sys; print(",".join(e["kind"] for e in json.load(sys.stdin)["events"]))'
}
# jwait ID SECONDS STATUS...: wait until the job is in one of STATUS.
jwait() {
    local id=$1 secs=$2; shift 2
    local end=$((SECONDS + secs)) s
    while [ $SECONDS -lt $end ]; do
        s=$(jfield "$id" status)
        # a finished job's cluster is torn down by a controller worker
        # just after: wait for that too, so leak checks are meaningful
        for w in "$@"; do [ "$s" = "$w" ] && [ -z "$(jfield "$id" tearing_down)" ] && return 0; done
        sleep 0.2
    done
    echo "timeout waiting for job $id to be $*: it is '$s'" >&2
    "$SKYC_BIN" jobs queue "$id" >&2 || true
    tail -20 "$XDG_STATE_HOME/skyc/jobs/controller.log" >&2 || true
    return 1
}
# jlaunch OUTVAR ARGS...: submit and keep the id.
jlaunch() {
    local var=$1; shift
    local id
    id=$("$SKYC_BIN" jobs launch "$@" 2>"$T_TMP/jl.err") || {
        t_fail "jobs launch $*: $(cat "$T_TMP/jl.err")"; id=0; }
    printf -v "$var" '%s' "$id"
}
clusters_left() { "$SKYC_BIN" status --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
nodes_left() { ls "$XDG_STATE_HOME/skyc/sim/nodes" 2>/dev/null | wc -l; }
