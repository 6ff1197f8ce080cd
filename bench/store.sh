#!/usr/bin/env bash
# S3 server speed: skyc store serve vs s3rver (npm, the peer) on this
# machine under the same client load (bench/store_load, libcurl + our SigV4
# signer, keep-alive connections):
#   4 KiB PUT and GET ops/s, 16 connections   target: >= 5x the peer
#   64 MiB PUT and GET GB/s                   target: >= 1 GB/s on loopback
#     PUT two ways: (a) one single PUT on one connection; (b) the way the aws
#     CLI and boto3's upload_file send a 64 MiB file: a multipart upload of
#     8 MiB parts, MPU_CONC (8) parts at once, then complete
# A single PUT's ETag is the MD5 of its body and MD5 does not parallelise,
# so (a) cannot beat one core's MD5 speed: the run prints `openssl speed
# md5` next to it. The parts of (b) hash in parallel on every core.
# s3rver is installed with npm into a temporary directory (never the repo).
# skyc runs as configured by default (fsync on) and once with --no-fsync, so
# the cost of durability shows next to the figures.
#
# usage: bench/store.sh [path/to/skyc]   (store_load is found next to skyc)
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
LOAD=$(dirname "$SKYC")/store_load
[ -x "$LOAD" ] || { echo "bench: $LOAD not built" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/skyc-bench-store.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
SMALL_N=${SMALL_N:-4000}
BIG_N=${BIG_N:-6}
CONC=${CONC:-16}
MPU_CONC=${MPU_CONC:-8}
PART=$((8 << 20))

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "bench: port $1 never opened" >&2; exit 1; }

mkbucket() { # URL AK SK BUCKET
    python3 - "$@" <<'PY'
import sys, hashlib, hmac, datetime, urllib.request
url, ak, sk, b = sys.argv[1:5]
t = datetime.datetime.utcnow(); d = t.strftime('%Y%m%dT%H%M%SZ'); d8 = d[:8]
host = url.split('://')[1]
creq = f"PUT\n/{b}\n\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{d}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD"
scope = f"{d8}/us-east-1/s3/aws4_request"
sts = f"AWS4-HMAC-SHA256\n{d}\n{scope}\n" + hashlib.sha256(creq.encode()).hexdigest()
k = ("AWS4" + sk).encode()
for m in (d8, "us-east-1", "s3", "aws4_request"):
    k = hmac.new(k, m.encode(), hashlib.sha256).digest()
sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
req = urllib.request.Request(f"{url}/{b}", method="PUT", data=b"", headers={
    "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "x-amz-date": d,
    "Authorization": f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"})
urllib.request.urlopen(req).read()
PY
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# "TID TICKS" of each thread of PID named NAME (skyc's connection threads
# are MHD-connection; its MD5 helpers, skyc-hash, end with their body)
thread_ticks() {
    for f in /proc/"$1"/task/*/stat; do
        awk -v n="($2)" '$2 == n {print $1, $14 + $15}' "$f" 2>/dev/null || true
    done
}
# ticks the threads sampled in AFTER (the last sample of each thread, which
# may have ended since) used since BEFORE (threads new since count whole)
ticks_since() { awk 'FILENAME == ARGV[1] {b[$1] = $2; next} {last[$1] = $2} END {for (i in last) t += last[i] - (i in b ? b[i] : 0); print t + 0}' "$1" "$2"; }
# sample PID's threads named NAME into FILE every 50 ms until FLAG is gone
sample_threads() { while [ -e "$4" ]; do thread_ticks "$1" "$2" >>"$3"; sleep 0.05; done; }

# run_suite PID URL AK SK ->
#   "put4k get4k put64 mpu64 get64 cpuput cpumpu cpuget cpuput4k"
# (ops/s ops/s GB/s GB/s GB/s, the server's CPU seconds per GB of 64 MiB
# single PUT / multipart upload / GET, and CPU ms per 4 KiB PUT: on a
# shared machine wall-clock figures also measure the neighbours, CPU time
# per byte measures the server)
run_suite() {
    local pid=$1 url=$2 ak=$3 sk=$4 b=bench c0 c1 c2 hz
    hz=$(getconf CLK_TCK)
    mkbucket "$url" "$ak" "$sk" "$b"
    local p4 g4 p64 m64 g64 c3 c4 c5
    "$LOAD" "$url" "$ak" "$sk" "$b" put 4096 "$SMALL_N" "$CONC" >/dev/null # warm up
    c4=$(cpu_ticks "$pid")
    p4=$("$LOAD" "$url" "$ak" "$sk" "$b" put 4096 "$SMALL_N" "$CONC" | cut -d' ' -f1)
    c5=$(cpu_ticks "$pid")
    g4=$("$LOAD" "$url" "$ak" "$sk" "$b" get 4096 "$SMALL_N" "$CONC" | cut -d' ' -f1)
    c0=$(cpu_ticks "$pid")
    thread_ticks "$pid" MHD-connection >"$W/threads0"
    : >"$W/threads1"; : >"$W/sampling"
    sample_threads "$pid" MHD-connection "$W/threads1" "$W/sampling" &
    local sampler=$!
    p64=$("$LOAD" "$url" "$ak" "$sk" "$b" put 67108864 "$BIG_N" 1 | cut -d' ' -f2)
    c1=$(cpu_ticks "$pid")
    rm -f "$W/sampling"; wait "$sampler" || true
    local conn
    conn=$(ticks_since "$W/threads0" "$W/threads1")
    m64=$("$LOAD" "$url" "$ak" "$sk" "$b" mpu 67108864 "$BIG_N" "$MPU_CONC" "$PART" | cut -d' ' -f2)
    c2=$(cpu_ticks "$pid")
    g64=$("$LOAD" "$url" "$ak" "$sk" "$b" get 67108864 "$BIG_N" 1 | cut -d' ' -f2)
    c3=$(cpu_ticks "$pid")
    echo "$p4 $g4 $(awk "BEGIN{gb = $BIG_N * 67108864 / 1e9; printf \"%.2f %.2f %.2f %.2f %.2f %.2f %.3f %.2f\", $p64/1000, $m64/1000, $g64/1000, ($c1-$c0)/$hz/gb, ($c2-$c1)/$hz/gb, ($c3-$c2)/$hz/gb, ($c5-$c4)/$hz*1000/$SMALL_N, $conn/$hz/gb}")"
}

# --- the peer: s3rver from npm, in a temp dir ---
PEER="n/a n/a n/a n/a n/a n/a n/a n/a n/a n/a"
if command -v npm >/dev/null; then
    echo "bench: installing s3rver from npm into $W/npm" >&2
    mkdir -p "$W/npm"
    if (cd "$W/npm" && timeout 300 npm install --silent --no-audit --no-fund s3rver@3 >/dev/null 2>&1); then
        PP=$(free_port)
        mkdir -p "$W/s3rver"
        node "$W/npm/node_modules/.bin/s3rver" -d "$W/s3rver" -a 127.0.0.1 -p "$PP" --silent >"$W/s3rver.log" 2>&1 &
        PIDS+=($!)
        wait_port "$PP"
        PEER=$(run_suite "${PIDS[-1]}" "http://127.0.0.1:$PP" S3RVER S3RVER)
        kill "${PIDS[-1]}"
    else
        echo "bench: npm install s3rver failed; peer figures are n/a" >&2
    fi
fi

# --- skyc store serve ---
skyc_suite() {
    local port data=$W/skyc-$1; shift
    port=$(free_port)
    "$SKYC" store serve --data "$data" --listen "127.0.0.1:$port" \
        --access-key benchkey --secret-key benchsecret "$@" >/dev/null 2>"$W/skyc.log" &
    PIDS+=($!)
    wait_port "$port"
    run_suite "${PIDS[-1]}" "http://127.0.0.1:$port" benchkey benchsecret
    kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
}
SKY=$(skyc_suite fsync)
SKYNF=$(skyc_suite nofsync --no-fsync)

# one core's MD5 speed, the ceiling of a single PUT's ETag
MD5=$(openssl speed -seconds 2 -bytes 1048576 md5 2>/dev/null | awk '/^md5/ {sub("k", "", $2); printf "%.2f", $2 * 1000 / 1e9}')
read -r pp4 pg4 pp64 pm64 pg64 pcp pcm pcg pc4 _ <<<"$PEER"
read -r sp4 sg4 sp64 sm64 sg64 scp scm scg sc4 sct <<<"$SKY"
read -r np4 ng4 np64 nm64 ng64 ncp ncm ncg nc4 nct <<<"$SKYNF"
ratio() { awk "BEGIN{ if (\"$2\" == \"n/a\" || $2 == 0) print \"n/a\"; else printf \"%.1fx\", $1/$2 }"; }
inv() { awk "BEGIN{ if (\"$2\" == \"n/a\" || $1 == 0) print \"n/a\"; else printf \"%.1fx\", $2/$1 }"; }
printf "%-22s %14s %14s %14s %10s %s\n" "figure" "skyc (fsync)" "skyc no-fsync" "s3rver (peer)" "ratio" "target"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT 4 KiB ops/s" "$sp4" "$np4" "$pp4" "$(ratio "$sp4" "$pp4")" ">= 5x peer"
printf "%-22s %14s %14s %14s %10s %s\n" "GET 4 KiB ops/s" "$sg4" "$ng4" "$pg4" "$(ratio "$sg4" "$pg4")" ">= 5x peer"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT 4 KiB CPU ms/op" "$sc4" "$nc4" "$pc4" "$(inv "$sc4" "$pc4")" "(server CPU; lower is better)"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT 64 MiB GB/s (a)" "$sp64" "$np64" "$pp64" "$(ratio "$sp64" "$pp64")" ">= 1 GB/s; one PUT is MD5-bound: one core's MD5 = $MD5 GB/s"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT 64 MiB GB/s (b)" "$sm64" "$nm64" "$pm64" "$(ratio "$sm64" "$pm64")" ">= 1 GB/s (multipart, 8 MiB parts, $MPU_CONC at once)"
printf "%-22s %14s %14s %14s %10s %s\n" "GET 64 MiB GB/s" "$sg64" "$ng64" "$pg64" "$(ratio "$sg64" "$pg64")" ">= 1 GB/s"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT (a) CPU s/GB" "$scp" "$ncp" "$pcp" "$(inv "$scp" "$pcp")" "(server CPU; lower is better)"
# (a)'s two threads: the connection (receive, copy, write) and the MD5
# helper (the rest of the process's CPU in that phase); with a free core
# each, one PUT runs at 1 / the larger of the two
split() { awk "BEGIN{ if (\"$2\" == \"n/a\") print \"n/a\"; else printf \"%.2f+%.2f\", $2, $1 - $2 }"; }
bound() { awk "BEGIN{ c = $2; h = $1 - $2; m = c > h ? c : h; if (m <= 0) print \"n/a\"; else printf \"%.2f GB/s\", 1 / m }"; }
printf "%-22s %14s %14s %14s %10s %s\n" "PUT (a) CPU conn+MD5" "$(split "$scp" "$sct")" "$(split "$ncp" "$nct")" "n/a" "" "s/GB per thread: with a free core each, one PUT runs at 1/max = $(bound "$scp" "$sct") (fsync)"
printf "%-22s %14s %14s %14s %10s %s\n" "PUT (b) CPU s/GB" "$scm" "$ncm" "$pcm" "$(inv "$scm" "$pcm")" "(server CPU; lower is better)"
printf "%-22s %14s %14s %14s %10s %s\n" "GET 64 MiB CPU s/GB" "$scg" "$ncg" "$pcg" "$(inv "$scg" "$pcg")" "(server CPU; lower is better)"
echo "(load average $(cut -d' ' -f1 /proc/loadavg) during the run)"
echo "(${SMALL_N} x 4 KiB over ${CONC} connections; ${BIG_N} x 64 MiB: (a) over one connection, (b) as 8 MiB parts over ${MPU_CONC}; $(nproc) cores shared)"
