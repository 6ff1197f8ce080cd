#!/usr/bin/env bash
# e2e: a remote gateway as the SOURCE of `skyc cp --remote-src`: the source
# region's gateway reads SRC from its own endpoint and sends it along the
# plan's paths while cp only follows its STATUS frames. SRC is a relative
# path that exists only in the source gateway's working directory, so cp
# cannot be the one reading it. A planner plan (aws:a -> {gcp:c, aws:b ->
# gcp:c}) and a hand-made path (with --encrypt); errors from the source
# (missing SRC, outside --root) and a plan without a source gateway.
. "$(dirname "$0")/lib.sh"
set -e

GW_PIDS=()
t_on_exit 'for p in "${GW_PIDS[@]+"${GW_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'

# start_gw NAME [ARGS]: a gateway on 127.0.0.1:0 started in $T_TMP/host_NAME;
# address in GW_NAME, pid in PID_NAME, log in $T_TMP/gw_NAME.log
start_gw() {
    local name=$1 out="$T_TMP/gw_$1.out"
    shift
    mkdir -p "$T_TMP/host_$name"
    (cd "$T_TMP/host_$name" && exec "$SKYC_BIN" gateway --listen 127.0.0.1:0 "$@" \
        >"$out" 2>"$T_TMP/gw_$name.log") &
    GW_PIDS+=($!)
    printf -v "PID_$name" '%s' $!
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$out" 2>/dev/null && break
        sleep 0.05
    done
    printf -v "GW_$name" '%s' "$(sed -n 's/^listening on //p' "$out")"
    local v="GW_$name"
    [ -n "${!v}" ] || { echo "gateway $name did not start" >&2; cat "$T_TMP/gw_$name.log"; exit 1; }
}
stop_gw() {
    local v="PID_$1"
    kill "${!v}" 2>/dev/null || true
    wait "${!v}" 2>/dev/null || true
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
same() { # NAME A B
    if diff -r "$2" "$3" >/dev/null; then t_pass; else t_fail "$1: trees differ"; fi
}

cat >"$T_TMP/t.csv" <<'CSV'
src_region,dst_region,throughput_sent
aws:a,gcp:c,2147483648
aws:a,aws:b,5368709120
aws:b,gcp:c,5368709120
CSV
cat >"$T_TMP/c.csv" <<'CSV'
src,dest,cost
aws:a,gcp:c,0.09
aws:a,aws:b,0.02
aws:b,gcp:c,0.09
CSV
P="$T_TMP/p.json"
skyc transfer plan aws:a gcp:c --tput 4 --grid "$T_TMP/t.csv" --prices "$T_TMP/c.csv" \
    --vm-price 1 --json >"$P"

start_gw A
start_gw B
start_gw C
# the data lives on the source gateway's host only
DATA="$T_TMP/host_A/data"
mkdir -p "$DATA/small"
head -c 6000000 /dev/urandom >"$DATA/big.bin"
for i in $(seq 1 30); do head -c $((i * 777)) /dev/urandom >"$DATA/small/f$i"; done
total=$(find "$DATA" -type f -printf "%s\n" | awk '{s += $1} END {print s}')
mkdir -p "$T_TMP/client"
cd "$T_TMP/client"   # where cp runs: no ./data here

# 1. the planner plan, aws:a's gateway as the source
t_run "remote source, plan" 0 skyc cp -r data "$T_TMP/d1" --plan "$P" --remote-src \
    --gateway "aws:a=$GW_A" --gateway "aws:b=$GW_B" --gateway "gcp:c=$GW_C" \
    --chunk-size 256K -n 8 --json
same "remote source, plan" "$DATA" "$T_TMP/d1"
t_eq "remote source: bytes" "$(echo "$OUT" | json 'd["bytes_sent"]')" "$total"
t_eq "remote source: objects" "$(echo "$OUT" | json 'd["objects"]')" 31
t_contains "remote source: summary" "$ERR" "copied 31 objects"
stop_gw B
t_contains "source gateway ran it" "$(cat "$T_TMP/gw_A.log")" "source copy (pid"
t_contains "source copy ended well" "$(cat "$T_TMP/gw_A.log")" "ended: exit 0"
relayed=$(sed -n 's/.* \([0-9][0-9]*\) bytes relayed in .*/\1/p' "$T_TMP/gw_B.log")
[ "${relayed:-0}" -gt 0 ] && t_pass || t_fail "relay aws:b relayed nothing (${relayed:-none})"

# 2. a hand-made path A -> C, encrypted end to end (A hands C the key)
t_run "remote source, encrypted" 0 skyc cp -r data "$T_TMP/d2" --to "$GW_C" \
    --via "$GW_A" --remote-src --encrypt --chunk-size 1M -q
same "remote source, encrypted" "$DATA" "$T_TMP/d2"

# 3. errors come back from the source: a missing SRC, SRC outside --root
t_run "remote source missing" 4 skyc cp -r nope "$T_TMP/d3" --to "$GW_C" --via "$GW_A" \
    --remote-src -q
t_contains "remote source missing" "$ERR" "source gateway '$GW_A'"
t_contains "remote source missing says what" "$ERR" "'nope'"
start_gw R --root "$T_TMP/host_R/allowed"
t_run "remote source outside root" 1 skyc cp -r "$DATA" "$T_TMP/d4" --to "$GW_C" \
    --via "$GW_R" --remote-src -q
t_contains "remote source outside root" "$ERR" "outside this gateway's --root"

# 4. a plan without a source gateway (cp would be the source)
start_gw B2
t_run "remote source needs a gateway" 2 skyc cp -r data "$T_TMP/d5" --plan "$P" \
    --remote-src --gateway "aws:b=$GW_B2" --gateway "gcp:c=$GW_C"
t_contains "remote source needs a gateway" "$ERR" "must start at the source gateway"
t_eq "nothing written" "$(ls "$T_TMP/d3" "$T_TMP/d4" "$T_TMP/d5" 2>/dev/null | wc -l)" 0

t_done
