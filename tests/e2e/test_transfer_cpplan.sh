#!/usr/bin/env bash
# e2e: `skyc transfer plan ... --json > p.json` then `skyc cp --plan p.json
# --gateway REGION=HOST:PORT ...` on loopback. A tiny grid forces a relay
# (aws:a -> aws:b -> gcp:c beside the direct aws:a -> gcp:c); one gateway per
# region; the copy is byte-equal, the connections follow the plan's integer
# counts (21 direct, 43 relayed), and the relay carried bytes. Missing and
# unknown regions, Pareto output and bad flags are refused clearly.
. "$(dirname "$0")/lib.sh"
set -e

GW_PIDS=()
t_on_exit 'for p in "${GW_PIDS[@]+"${GW_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'

# start_gw NAME: a gateway on 127.0.0.1:0; address in GW_<NAME>, pid in
# PID_<NAME>, its log (SKYC_LOG=notice) in $T_TMP/gw_<NAME>.log.
start_gw() {
    local out="$T_TMP/gw_$1.out"
    SKYC_LOG=notice "$SKYC_BIN" gateway --listen 127.0.0.1:0 >"$out" 2>"$T_TMP/gw_$1.log" &
    GW_PIDS+=($!)
    printf -v "PID_$1" '%s' $!
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$out" 2>/dev/null && break
        sleep 0.05
    done
    printf -v "GW_$1" '%s' "$(sed -n 's/^listening on //p' "$out")"
    local v="GW_$1"
    [ -n "${!v}" ] || { echo "gateway $1 did not start" >&2; cat "$T_TMP/gw_$1.log"; exit 1; }
}
# stop_gw NAME: SIGTERM, wait, so its "gateway done" line is in its log.
stop_gw() {
    local v="PID_$1"
    kill "${!v}" 2>/dev/null || true
    wait "${!v}" 2>/dev/null || true
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# bytes a process passed to read(2) (its socket reads, for a relay)
rchar() { sed -n 's/^rchar: //p' "/proc/$1/io"; }

cat >"$T_TMP/t.csv" <<'CSV'
src_region,dst_region,throughput_sent
aws:a,gcp:c,2147483648
aws:a,aws:b,5368709120
aws:b,gcp:c,5368709120
gcp:c,aws:a,2147483648
CSV
cat >"$T_TMP/c.csv" <<'CSV'
src,dest,cost
aws:a,gcp:c,0.09
aws:a,aws:b,0.02
aws:b,gcp:c,0.09
gcp:c,aws:a,0.12
CSV
tiny=(--grid "$T_TMP/t.csv" --prices "$T_TMP/c.csv" --vm-price 1)
P="$T_TMP/p.json"

# 1. the plan: a relay via aws:b, 21 + 43 connections out of aws:a
t_run "plan" 0 skyc transfer plan aws:a gcp:c --tput 4 "${tiny[@]}" --json
printf '%s\n' "$OUT" >"$P"
t_eq "plan relays" "$(json 'd["plan"]["relays"]' <"$P")" "['aws:b']"
t_eq "plan conns" "$(json 'sorted(e["connections"] for e in d["plan"]["edges"] if e["from"]=="aws:a")' <"$P")" "[21, 43]"

SRC="$T_TMP/src"
mkdir -p "$SRC/small"
head -c 24000000 /dev/urandom >"$SRC/big.bin"
for i in $(seq 1 40); do head -c $((i * 1013)) /dev/urandom >"$SRC/small/f$i"; done
total=$(find "$SRC" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")

# 2. all three regions have a gateway: cp -> aws:a -> {gcp:c, aws:b -> gcp:c}
start_gw A
start_gw B
start_gw C
t_run "cp --plan" 0 skyc cp -r "$SRC" "$T_TMP/d1" --plan "$P" --chunk-size 256K \
    --gateway "aws:a=$GW_A" --gateway "aws:b=$GW_B" --gateway "gcp:c=$GW_C" --json -q
if diff -r "$SRC" "$T_TMP/d1" >/dev/null; then t_pass; else t_fail "cp --plan: trees differ"; fi
t_eq "all bytes sent" "$(echo "$OUT" | json 'd["bytes_sent"]')" "$total"
relayed=$(rchar "$PID_B")
[ "$relayed" -ge $((total / 4)) ] && t_pass ||
    t_fail "relay aws:b read only $relayed of $total bytes"
[ "$relayed" -le $((total * 2)) ] && t_pass ||
    t_fail "relay aws:b read $relayed bytes, more than twice the $total moved"
stop_gw A
stop_gw B
stop_gw C
# the plan's connections: 64 into aws:a, 43 of them relayed by aws:b, and
# all 64 arrive at gcp:c (21 from aws:a, 43 from aws:b)
t_contains "src gw conns" "$(cat "$T_TMP/gw_A.log")" "gateway done: 64 connections"
t_contains "relay conns" "$(cat "$T_TMP/gw_B.log")" "gateway done: 43 connections, 0 frames written"
t_contains "dst gw conns" "$(cat "$T_TMP/gw_C.log")" "gateway done: 64 connections"

# 3. no source gateway: this client is aws:a's; -n caps the total (8 = 3+5)
start_gw B2
start_gw C2
t_run "cp --plan, client as source" 0 skyc cp -r "$SRC" "$T_TMP/d2" --plan "$P" \
    --chunk-size 256K -n 8 --gateway "aws:b=$GW_B2" --gateway "gcp:c=$GW_C2" -q
if diff -r "$SRC" "$T_TMP/d2" >/dev/null; then t_pass; else t_fail "client as source: trees differ"; fi
relayed=$(rchar "$PID_B2")
[ "$relayed" -ge $((total / 8)) ] && t_pass ||
    t_fail "relay aws:b (client as source) read only $relayed of $total bytes"
stop_gw B2
stop_gw C2
t_contains "capped relay conns" "$(cat "$T_TMP/gw_B2.log")" "gateway done: 5 connections"
t_contains "capped dst conns" "$(cat "$T_TMP/gw_C2.log")" "gateway done: 8 connections"

# 4. bad input: a region with no gateway, one not in the plan, a bad
#    address, --gateway without --plan or with a hand-written plan, Pareto
t_run "missing relay" 2 skyc cp -r "$SRC" "$T_TMP/x" --plan "$P" --gateway "gcp:c=127.0.0.1:9"
t_contains "missing relay says which" "$ERR" "no gateway address for aws:b (a relay on the path aws:a -> aws:b -> gcp:c); add --gateway aws:b=HOST:PORT"
t_run "missing dst" 2 skyc cp -r "$SRC" "$T_TMP/x" --plan "$P" --gateway "aws:b=127.0.0.1:9"
t_contains "missing dst says which" "$ERR" "no gateway address for gcp:c (the destination"
t_run "unknown region" 2 skyc cp -r "$SRC" "$T_TMP/x" --plan "$P" --gateway "aws:zz=127.0.0.1:9"
t_contains "unknown region lists regions" "$ERR" "the plan has no region 'aws:zz' (its regions: aws:a, gcp:c, aws:b)"
t_run "bad address" 2 skyc cp -r "$SRC" "$T_TMP/x" --plan "$P" --gateway "aws:b=nowhere"
t_contains "bad address" "$ERR" "'nowhere' is not HOST:PORT"
t_run "gateway without plan" 2 skyc cp -r "$SRC" "$T_TMP/x" --gateway "aws:b=127.0.0.1:9"
t_contains "gateway without plan" "$ERR" "--gateway needs --plan"
printf '{"paths": [{"hops": ["127.0.0.1:9"]}]}' >"$T_TMP/hand.json"
t_run "gateway with hand plan" 2 skyc cp -r "$SRC" "$T_TMP/x" --plan "$T_TMP/hand.json" --gateway "aws:b=127.0.0.1:9"
t_contains "gateway with hand plan" "$ERR" "this plan lists its hops itself"
skyc transfer plan aws:a gcp:c --pareto "${tiny[@]}" --json >"$T_TMP/pareto.json"
t_run "pareto plan" 3 skyc cp -r "$SRC" "$T_TMP/x" --plan "$T_TMP/pareto.json" --gateway "aws:b=127.0.0.1:9"
t_contains "pareto plan" "$ERR" "a Pareto curve, not one plan"
t_run "no plan file" 4 skyc cp -r "$SRC" "$T_TMP/x" --plan "$T_TMP/none.json"
t_contains "no plan file" "$ERR" "cannot read plan"
t_eq "nothing written" "$(ls "$T_TMP/x" 2>/dev/null | wc -l)" 0

t_done
