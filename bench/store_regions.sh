#!/usr/bin/env bash
# Replicated reads across regions: bytes read from and written to the
# backends per byte served, and server CPU per byte, for
#   plain       a GET on a single-region `skyc store serve` (the baseline)
#   local       a GET at region A of an object held in A (two-region server)
#   cor-remote  a GET at region B of an object held only in A, under
#               copy-on-read (always-store): the response streams the bytes
#               from A and writes B's replica from the same read (one pass)
# Target (issue 5): "a replicated read from a second region's endpoint adds
# no more than one extra copy of the bytes": (read + written) per byte served
# minus the plain GET's, <= 1. Counters come from the server's own
# GET /?skyc-stats (bytes read/written per region backend); the replica is
# waited for (copies_pending = 0) before reading them. CPU = utime + stime
# of the server from /proc/PID/stat. Loopback only; every server is killed.
#
# usage: bench/store_regions.sh [path/to/skyc]   (SIZE_MB=64 REPS=3)
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
DATA=${SKYC_SHARED_DATA:-$(dirname "$0")/../../shared/data}
[ -d "$DATA/skystore/profiles" ] || { echo "bench: no SkyStore profiles under $DATA" >&2; exit 1; }
export SKYC_SHARED_DATA=$(realpath "$DATA")
SIZE_MB=${SIZE_MB:-64}
REPS=${REPS:-3}
AK=bench-key SK=bench-secret
W=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
S3() { curl -sf --max-time 120 --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AK:$SK" \
           -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"; }
wait_listen() { # OUTFILE COUNT
    for _ in $(seq 1 200); do
        [ "$(grep -c '^listening on ' "$1" 2>/dev/null)" = "$2" ] && return 0
        sleep 0.05
    done
    echo "bench: a server did not start" >&2; cat "$W"/*.err >&2; exit 1
}
url_of() { sed -n "${2}s/^listening on \(http:[^ ]*\).*/\1/p" "$1"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
head -c $((SIZE_MB << 20)) /dev/urandom >"$W/obj"

# the baseline: a single-region server
"$SKYC" store serve --data "$W/plain" --listen 127.0.0.1:0 --access-key "$AK" \
    --secret-key "$SK" --no-fsync >"$W/plain.out" 2>"$W/plain.err" &
PIDS+=($!); PLAIN_PID=$!
# two regions, copy-on-read
cat >"$W/regions.json" <<JSON
{"data": "$W/meta", "fsync": false,
 "users": [{"access_key": "$AK", "secret_key": "$SK"}],
 "regions": [
   {"name": "aws:us-east-1", "dir": "$W/r-a", "listen": "127.0.0.1:0"},
   {"name": "gcp:europe-west1", "dir": "$W/r-b", "listen": "127.0.0.1:0"}],
 "policy": "always-store"}
JSON
"$SKYC" store serve --config "$W/regions.json" >"$W/multi.out" 2>"$W/multi.err" &
PIDS+=($!); MULTI_PID=$!
wait_listen "$W/plain.out" 1
wait_listen "$W/multi.out" 2
P=$(url_of "$W/plain.out" 1) A=$(url_of "$W/multi.out" 1) B=$(url_of "$W/multi.out" 2)
S3 -X PUT "$P/bench" >/dev/null
S3 -X PUT "$A/bench" >/dev/null

# one measurement: PID STATS_URL GET_URL -> "read written served cpu_s
# wall_s" (wall: the client's GET; cpu: until the replica is recorded)
measure() {
    local pid=$1 stats=$2 get=$3 before after t0 t1 c0 c1
    before=$(S3 "$stats/?skyc-stats=")
    c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
    S3 -o "$W/got" "$get"
    t1=$(date +%s.%N)
    for _ in $(seq 1 600); do
        [ "$(S3 "$stats/?skyc-stats=" | python3 -c 'import json,sys; print(json.load(sys.stdin)["copies_pending"])')" = 0 ] && break
        sleep 0.02
    done
    c1=$(cpu_ticks "$pid")
    after=$(S3 "$stats/?skyc-stats=")
    cmp -s "$W/obj" "$W/got" || { echo "bench: GET returned other bytes" >&2; exit 1; }
    python3 - "$before" "$after" "$(stat -c %s "$W/got")" "$c0" "$c1" "$t0" "$t1" <<'PY'
import json, os, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rd = sum(x["bytes_read"] for x in a["regions"]) - sum(x["bytes_read"] for x in b["regions"])
wr = sum(x["bytes_written"] for x in a["regions"]) - sum(x["bytes_written"] for x in b["regions"])
hz = os.sysconf("SC_CLK_TCK")
print(rd, wr, sys.argv[3], (int(sys.argv[5]) - int(sys.argv[4])) / hz,
      float(sys.argv[7]) - float(sys.argv[6]))
PY
}

: >"$W/plain.txt"; : >"$W/local.txt"; : >"$W/cor.txt"
for i in $(seq 1 "$REPS"); do
    S3 -T "$W/obj" "$P/bench/o$i" >/dev/null
    S3 -T "$W/obj" "$A/bench/o$i" >/dev/null
    measure "$PLAIN_PID" "$P" "$P/bench/o$i" >>"$W/plain.txt"
    measure "$MULTI_PID" "$A" "$A/bench/o$i" >>"$W/local.txt"
    # a second object, held only in A, read at B
    S3 -T "$W/obj" "$A/bench/r$i" >/dev/null
    measure "$MULTI_PID" "$A" "$B/bench/r$i" >>"$W/cor.txt"
done
hdr=$(S3 -D - -o /dev/null "$B/bench/r1" | tr -d '\r' | sed -n 's/^x-skyc-read-region: //p')
[ "$hdr" = gcp:europe-west1 ] || { echo "bench: the replica in B is not read (got '$hdr')" >&2; exit 1; }

python3 - "$W" "$SIZE_MB" "$REPS" <<'PY'
import sys
w, size, reps = sys.argv[1], sys.argv[2], sys.argv[3]
def load(name):
    rows = [list(map(float, l.split())) for l in open(f"{w}/{name}.txt")]
    n = len(rows)
    rd, wr, served, cpu, wall = (sum(r[i] for r in rows) for i in range(5))
    return rd / served, wr / served, cpu / served * 2**30, served / wall / 2**20
plain, local, cor = load("plain"), load("local"), load("cor")
print(f"GET of a {size} MiB object, {reps} runs each; per byte served:")
print("%-44s %8s %8s %8s %12s %10s" % ("case", "read", "written", "total", "cpu s/GiB", "GET MiB/s"))
for name, r in [("plain: single-region server", plain),
                ("local: region A, object in A", local),
                ("cor-remote: region B, object only in A", cor)]:
    print("%-44s %8.3f %8.3f %8.3f %12.3f %10.0f" % (name, r[0], r[1], r[0] + r[1], r[2], r[3]))
extra = (cor[0] + cor[1]) - (plain[0] + plain[1])
print("%-44s %8.3f copies %14s" % ("replicated read: extra copies of the bytes", extra, "target <= 1"))
print("%-44s %8s" % ("verdict", "met" if extra <= 1.0 + 1e-9 else "NOT met"))
PY
