#!/usr/bin/env bash
# e2e: the data plane across network namespaces that stand in for regions.
#
#   A (skyc cp) ──veth── B (relay) ──veth── C (last hop, writes)
#     └─────veth── B2 (relay) ──veth──┘ └── direct veth A–C
# Links are shaped with tc tbf. Checks: 256 MiB of mixed files byte for byte
# over the relay path A→B→C; two parallel relay paths where B is killed
# mid-transfer (B2 finishes it); a relay flipping a bit (caught, resent); the
# last hop killed mid-transfer, the re-run sending only the missing chunks.
# Needs root (network namespaces); addresses 10.200.64.0/20.
. "$(dirname "$0")/lib.sh"
set -e

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
    echo "SKIP: needs root, ip and tc for network namespaces"
    exit 0
fi

P="skt$$"
NS_A=$P-a NS_B=$P-b NS_B2=$P-b2 NS_C=$P-c
GW_PIDS=()
cleanup_ns() {
    for p in "${GW_PIDS[@]+"${GW_PIDS[@]}"}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in $NS_A $NS_B $NS_B2 $NS_C; do ip netns del "$n" 2>/dev/null || true; done
}
t_on_exit cleanup_ns

for n in $NS_A $NS_B $NS_B2 $NS_C; do
    ip netns add "$n"
    ip -n "$n" link set lo up
done
# link NAME NS1 IP1 NS2 IP2 RATE: a /30 veth pair shaped both ways
link() {
    local name=$1 n1=$2 a1=$3 n2=$4 a2=$5 rate=$6
    ip link add "$name-x" netns "$n1" type veth peer name "$name-y" netns "$n2"
    ip -n "$n1" addr add "$a1/30" dev "$name-x"
    ip -n "$n2" addr add "$a2/30" dev "$name-y"
    ip -n "$n1" link set "$name-x" up
    ip -n "$n2" link set "$name-y" up
    if [ "$rate" != none ]; then
        tc -n "$n1" qdisc add dev "$name-x" root tbf rate "$rate" burst 256kb latency 50ms
        tc -n "$n2" qdisc add dev "$name-y" root tbf rate "$rate" burst 256kb latency 50ms
    fi
}
link ab  $NS_A 10.200.64.1  $NS_B  10.200.64.2  none
link bc  $NS_B 10.200.64.5  $NS_C  10.200.64.6  none
link ac  $NS_A 10.200.64.9  $NS_C  10.200.64.10 200mbit
link ab2 $NS_A 10.200.64.13 $NS_B2 10.200.64.14 400mbit
link b2c $NS_B2 10.200.64.17 $NS_C 10.200.64.18 400mbit

# gw NS ARGS...: start a gateway on 0.0.0.0:7700 in NS; pid in GW_LAST
gw() {
    local ns=$1; shift
    local out="$T_TMP/gw.$ns.$RANDOM"
    ip netns exec "$ns" "$SKYC_BIN" gateway --listen 0.0.0.0:7700 "$@" \
        >"$out" 2>>"$T_TMP/gw.log" &
    GW_LAST=$!
    GW_PIDS+=($!)
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$out" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "gateway in $ns did not start" >&2; cat "$T_TMP/gw.log" >&2; exit 1
}
acp() { ip netns exec "$NS_A" "$SKYC_BIN" cp "$@"; }
same() {
    if diff -r "$2" "$3" >/dev/null; then t_pass; else t_fail "$1: trees differ"; fi
}

# 256 MiB of mixed files: large ones spanning chunks, mid-sized, and many small
SRC="$T_TMP/src"
mkdir -p "$SRC/large" "$SRC/mid" "$SRC/small"
head -c $((100 << 20)) /dev/urandom >"$SRC/large/a.bin"
head -c $((60 << 20)) /dev/urandom >"$SRC/large/b.bin"
head -c $((20 << 20)) /dev/zero >"$SRC/large/zeros.bin"
for i in $(seq 1 8); do head -c $(((i * 997) << 10)) /dev/urandom >"$SRC/mid/m$i"; done
for i in $(seq 1 1500); do head -c $((4096 + (i * 7919) % 61440)) /dev/urandom >"$SRC/small/s$i"; done
: >"$SRC/small/empty"
du -sm "$SRC" | awk '{print "source MiB:", $1}'

gw $NS_C
GW_C=$GW_LAST
gw $NS_B
GW_B=$GW_LAST

# 1. relay A -> B -> C, everything byte for byte
t_run "relay A-B-C" 0 acp -r "$SRC" "$T_TMP/d1" --to 10.200.64.6:7700 \
    --via 10.200.64.2:7700 --chunk-size 8M -n 4
same "relay A-B-C" "$SRC" "$T_TMP/d1"
echo "$ERR" | tail -1

# 2. two relay paths; B is killed mid-transfer and B2 carries the rest
mkdir -p "$T_TMP/sub"
cp -r "$SRC/large" "$T_TMP/sub/"
gw $NS_B2
cat >"$T_TMP/two.json" <<EOT
{"paths": [{"hops": ["10.200.64.2:7700", "10.200.64.6:7700"], "connections": 2},
           {"hops": ["10.200.64.14:7700", "10.200.64.18:7700"], "connections": 2}]}
EOT
# throttle A->B so that the transfer lasts long enough to kill B in the middle
tc -n $NS_A qdisc add dev ab-x root tbf rate 300mbit burst 256kb latency 50ms
acp -r "$T_TMP/sub" "$T_TMP/d2" --plan "$T_TMP/two.json" --chunk-size 4M \
    --retries 3 >"$T_TMP/d2.out" 2>"$T_TMP/d2.err" &
CP=$!
sleep 1.5
kill -9 "$GW_B"
set +e; wait $CP; rc=$?; wait "$GW_B" 2>/dev/null; set -e
t_eq "relay killed: exit" "$rc" 0
same "relay killed" "$T_TMP/sub" "$T_TMP/d2"
t_not_contains "relay killed: failures" "$(cat "$T_TMP/d2.err")" " 0 connection failures"
tail -1 "$T_TMP/d2.err"
tc -n $NS_A qdisc del dev ab-x root

# 3. a relay that flips a bit in the 5th chunk: detected at C and resent
gw $NS_B --fault-flip-chunk 5
t_run "bit flip" 0 acp -r "$T_TMP/sub" "$T_TMP/d3" --to 10.200.64.6:7700 \
    --via 10.200.64.2:7700 --chunk-size 4M -n 4
same "bit flip" "$T_TMP/sub" "$T_TMP/d3"
t_contains "bit flip resent" "$ERR" "1 resent"

# 3b. encrypted through relay B: the key goes to C over the direct link
#     (key_to), never through B; B forwards only sealed chunks
cat >"$T_TMP/enc.json" <<EOT
{"paths": [{"hops": ["10.200.64.2:7700", "10.200.64.6:7700"], "connections": 4,
            "key_to": "10.200.64.10:7700"}]}
EOT
t_run "encrypted relay" 0 acp -r "$T_TMP/sub" "$T_TMP/d3e" --plan "$T_TMP/enc.json" \
    --chunk-size 4M --encrypt --compress
same "encrypted relay" "$T_TMP/sub" "$T_TMP/d3e"

# 4. the last hop dies on the direct (200 Mbit/s) link; the re-run resumes
kill -9 "$GW_C"
wait "$GW_C" 2>/dev/null || true   # its port is free only once it is gone
gw $NS_C --fault-exit-chunk 20
t_run "last hop dies" 7 acp -r "$T_TMP/sub" "$T_TMP/d4" --to 10.200.64.10:7700 \
    --chunk-size 4M -n 4 --retries 1
t_contains "last hop dies: hint" "$ERR" "resume"
wait "$GW_LAST" 2>/dev/null || true
gw $NS_C
t_run "resume" 0 acp -r "$T_TMP/sub" "$T_TMP/d4" --to 10.200.64.10:7700 \
    --chunk-size 4M -n 4 --retries 1 --json
same "resume" "$T_TMP/sub" "$T_TMP/d4"
skipped=$(echo "$OUT" | sed -n 's/.*"chunks_skipped": \([0-9]*\).*/\1/p')
total=$(echo "$OUT" | sed -n 's/.*"chunks": \([0-9]*\).*/\1/p')
sent=$(echo "$OUT" | sed -n 's/.*"bytes_sent": \([0-9]*\).*/\1/p')
bytes=$(echo "$OUT" | sed -n 's/.*"bytes": \([0-9]*\).*/\1/p')
echo "resume: skipped $skipped of $total chunks, sent $sent of $bytes bytes"
[ "$skipped" -ge 10 ] && [ "$skipped" -lt "$total" ] && [ "$sent" -lt "$bytes" ] &&
    t_pass || t_fail "resume: skipped $skipped of $total chunks"

t_done
