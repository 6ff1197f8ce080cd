#!/usr/bin/env bash
# Data-plane throughput, each figure printed next to its target and its
# baseline measured in the same run:
#   1. unshaped loopback: skyc cp (1 GiB, tmpfs to tmpfs: the destination is
#      page cache, written and renamed like any file) vs iperf3 -P 8 (which
#      writes nothing), same stream count, alternated five times, medians;
#      also CPU seconds per GiB of each (skyc: sender + its forked gateway;
#      iperf3: client + server), the figure that load on the machine skews
#      least
#   2. 1 Gbit/s + 50 ms RTT (two namespaces, tundelay + tc tbf, MTU 9000):
#      skyc cp of 1 GiB vs iperf3 -P 8 on the same link, vs rsync -a over
#      ssh of the same 1 GiB file on the same link (defaults, one stream);
#      10,000 small files (4-64 KiB) vs the large-file rate
#   3. a relay plan: direct A-C shaped to 300 Mbit/s, A-B and B-C 1 Gbit/s:
#      skyc cp direct vs through relay B, and B's bytes-relayed counter
# Needs root (namespaces), iperf3, rsync, sshd. Uses 10.200.80.0/20.
# usage: bench/transfer.sh [path/to/skyc]
# Knobs for quick runs while iterating (the defaults are the real figures):
#   BENCH_MB=1024 (large file size), BENCH_SECTIONS="1 2 3", BENCH_RUNS=5,
#   BENCH_STREAMS=8
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${SKYC_SHARED_TOOLS:-$ROOT/../shared/tools}
MB=${BENCH_MB:-1024}
SECTIONS=${BENCH_SECTIONS:-"1 2 3"}
RUNS=${BENCH_RUNS:-5}
N=${BENCH_STREAMS:-8}
[ "$(id -u)" -eq 0 ] || { echo "bench/transfer.sh: needs root for network namespaces" >&2; exit 1; }
for t in iperf3 rsync ssh /usr/sbin/sshd ip tc cc; do
    command -v "$t" >/dev/null || { echo "bench/transfer.sh: missing $t (scripts/install-deps)" >&2; exit 1; }
done
[ -f "$TOOLS/tundelay.c" ] || { echo "bench/transfer.sh: no $TOOLS/tundelay.c" >&2; exit 1; }

P="skb$$"
W=$(mktemp -d /dev/shm/skyc-bench.XXXXXX)   # tmpfs: measure the network, not the disk
PIDS=()
cleanup() {
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for n in a b c wa wb; do ip netns del "$P-$n" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
export HOME="$W/home" XDG_STATE_HOME="$W/state"
mkdir -p "$HOME"

gbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", b * 8 / s / 1e9 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", (b > 0 ? 100 * a / b : 0) }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }'; }
has() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }
# cp_rate ARGS...: run skyc cp --json, print its Gbit/s; CPU seconds (user +
# sys of cp and the gateway it forks and waits for) go to $W/cpu
cp_rate() {
    local TIMEFORMAT='%3U %3S'
    { time "$@" --json -q >"$W/cp.json"; } 2>"$W/cp.time"
    awk '{ print $1 + $2 }' "$W/cp.time" >"$W/cpu"
    python3 -c 'import json,sys; print("%.2f" % json.load(open(sys.argv[1]))["gbps"])' "$W/cp.json"
}
# iperf_rate NS_CLIENT NS_SERVER SERVER_IP: Gbit/s of iperf3 -P $N; CPU
# seconds per GiB received (client + server) go to $W/cpu
iperf_rate() {
    local cns=$1 sns=$2 ip=$3 TIMEFORMAT='%3U %3S'
    ( time ${sns:+ip netns exec $sns} iperf3 -s -1 -p 5399 >/dev/null 2>&1 ) 2>"$W/is.time" &
    sleep 0.5
    { time ${cns:+ip netns exec $cns} iperf3 -c "$ip" -p 5399 -P "$N" \
        -t "${IPERF_SECS:-6}" -J >"$W/iperf.json"; } 2>"$W/ic.time"
    wait
    python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
e = json.load(open(w + "/iperf.json"))["end"]["sum_received"]
cpu = sum(float(x) for f in ("is.time", "ic.time") for x in open(w + "/" + f).read().split())
open(w + "/cpu", "w").write("%.3f\n" % (cpu / (e["bytes"] / 2**30)))
print("%.2f" % (e["bits_per_second"] / 1e9))
PY
}
start_gw() { # NS ADDR [LOG]
    local out="$W/gw.$RANDOM"
    ${1:+ip netns exec $1} "$SKYC" gateway --listen "$2" >"$out" 2>"${3:-/dev/null}" &
    PIDS+=($!)
    GW_PID=$!
    for _ in $(seq 1 100); do grep -q '^listening' "$out" 2>/dev/null && return; sleep 0.05; done
    echo "gateway did not start in ${1:-host}" >&2; exit 1
}
row() { printf '%-46s %10s %12s %12s %8s\n' "$@"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "== data set (load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"
mkdir -p "$W/large" "$W/small"
head -c $((MB << 20)) /dev/urandom >"$W/large/big.bin"
if has 2; then
python3 - "$W/small" <<'PY'
import os, random, sys
random.seed(1)
d = sys.argv[1]
for i in range(10000):
    sub = os.path.join(d, "d%02d" % (i % 50))
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%05d" % i), "wb") as f:
        f.write(os.urandom(random.randint(4096, 65536)))
PY
fi
SMALL_BYTES=$(du -sb "$W/small" | awk '{print $1}')
echo "$MB MiB file; 10,000 small files, $((SMALL_BYTES >> 20)) MiB; $N streams/connections"
echo "skyc cp flags: loopback -n $N --chunk-size 16M; links -n $N --chunk-size 4M (relay: 16M)"
row "" "skyc Gbps" "baseline" "ratio" "target"

if has 1; then
echo "== 1. loopback, unshaped (skyc: tmpfs to tmpfs; iperf3: memory to memory)"
# the machine is shared: alternate the two, $RUNS runs each, report medians
I_ALL="" L_ALL="" IC_ALL="" SC_ALL=""
for _ in $(seq 1 "$RUNS"); do
    I_ALL="$I_ALL $(IPERF_SECS=3 iperf_rate "" "" 127.0.0.1)"
    IC_ALL="$IC_ALL $(cat "$W/cpu")"
    rm -rf "$W/out"
    L_ALL="$L_ALL $(cp_rate "$SKYC" cp -r "$W/large" "$W/out" -n "$N" --chunk-size 16M)"
    SC_ALL="$SC_ALL $(awk -v c="$(cat "$W/cpu")" -v mb="$MB" 'BEGIN { printf "%.3f", c * 1024 / mb }')"
done
cmp -s "$W/large/big.bin" "$W/out/big.bin" || { echo "loopback copy differs" >&2; exit 1; }
echo "runs (Gbit/s): iperf3$I_ALL; skyc$L_ALL"
echo "runs (CPU-s/GiB): iperf3$IC_ALL; skyc$SC_ALL"
IPERF_LO=$(echo "$I_ALL" | median)
LO=$(echo "$L_ALL" | median)
row "skyc cp $MB MiB vs iperf3 -P $N (medians)" "$LO" "$IPERF_LO" "$(ratio "$LO" "$IPERF_LO")" ">=90%"
IC=$(echo "$IC_ALL" | median)
SC=$(echo "$SC_ALL" | median)
row "CPU-s/GiB, skyc vs iperf3 (medians)" "$SC" "$IC" "$(times "$SC" "$IC")" ""
fi

if has 2 || has 3; then
cc -O2 -pthread -o "$W/tundelay" "$TOOLS/tundelay.c"
fi
if has 2; then
echo "== 2. 1 Gbit/s + 50 ms RTT (tundelay 25 ms each way, tbf 1gbit, MTU 9000)"
ip netns add "$P-wa"; ip netns add "$P-wb"
"$W/tundelay" "$P-wa" "$P-wb" 25 >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
ip -n "$P-wa" addr add 10.200.80.1 peer 10.200.80.2 dev tdA
ip -n "$P-wa" link set tdA mtu 9000 up
ip -n "$P-wb" addr add 10.200.80.2 peer 10.200.80.1 dev tdB
ip -n "$P-wb" link set tdB mtu 9000 up
ip -n "$P-wa" link set lo up; ip -n "$P-wb" link set lo up
tc -n "$P-wa" qdisc add dev tdA root tbf rate 1gbit burst 1mb latency 100ms
tc -n "$P-wb" qdisc add dev tdB root tbf rate 1gbit burst 1mb latency 100ms
IPERF_WAN=$(iperf_rate "$P-wa" "$P-wb" 10.200.80.2)
start_gw "$P-wb" 10.200.80.2:7700
rm -rf "$W/out"
# 4 MiB chunks: with 64 MiB ones the last chunks of the 1 GiB file trail
# on single connections (about 0.8 Gbit/s on this link)
WAN=$(cp_rate ip netns exec "$P-wa" "$SKYC" cp -r "$W/large" "$W/out" \
    --to 10.200.80.2:7700 -n "$N" --chunk-size 4M)
row "skyc cp $MB MiB vs iperf3 -P $N (same link)" "$WAN" "$IPERF_WAN" "$(ratio "$WAN" "$IPERF_WAN")" ">=0.9Gbps"
# rsync -a over ssh (defaults), the same file over the same link, to an
# empty destination like skyc's; the time includes ssh's handshake as
# skyc's includes its connections and HELLOs
mkdir -p "$W/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/host" >/dev/null
ssh-keygen -q -t ed25519 -N '' -f "$W/ssh/user" >/dev/null
cp "$W/ssh/user.pub" "$W/ssh/authorized_keys"
chmod 700 "$W/ssh"; chmod 600 "$W/ssh/authorized_keys"
mkdir -p /run/sshd
ip netns exec "$P-wb" /usr/sbin/sshd -D -p 2222 -h "$W/ssh/host" \
    -o AuthorizedKeysFile="$W/ssh/authorized_keys" -o StrictModes=no \
    -o PasswordAuthentication=no -o ListenAddress=10.200.80.2 &
PIDS+=($!)
sleep 1
SSH="ssh -p 2222 -i $W/ssh/user -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
t0=$(date +%s.%N)
ip netns exec "$P-wa" rsync -a -e "$SSH" "$W/large/" "root@10.200.80.2:$W/rs-out/"
t1=$(date +%s.%N)
cmp -s "$W/large/big.bin" "$W/rs-out/big.bin" || { echo "rsync copy differs" >&2; exit 1; }
rm -rf "$W/rs-out"
RSYNC=$(gbps $((MB << 20)) "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")
row "skyc cp vs rsync -a over ssh ($MB MiB, same link)" "$WAN" "$RSYNC" "$(times "$WAN" "$RSYNC")" ">=5x"
rm -rf "$W/out"
SMALL=$(cp_rate ip netns exec "$P-wa" "$SKYC" cp -r "$W/small" "$W/out" \
    --to 10.200.80.2:7700 -n "$N" --chunk-size 4M)
row "10,000 small files vs the $MB MiB file rate" "$SMALL" "$WAN" "$(ratio "$SMALL" "$WAN")" ">=50%"
rm -rf "$W/out"
fi

if has 3; then
echo "== 3. relay A-B-C (1 Gbit/s legs) vs direct A-C shaped to 300 Mbit/s"
for n in a b c; do ip netns add "$P-$n"; ip -n "$P-$n" link set lo up; done
link() { # NAME NS1 IP1 NS2 IP2 RATE
    ip link add "$1-x" netns "$P-$2" type veth peer name "$1-y" netns "$P-$4"
    ip -n "$P-$2" addr add "$3/30" dev "$1-x"; ip -n "$P-$4" addr add "$5/30" dev "$1-y"
    ip -n "$P-$2" link set "$1-x" up; ip -n "$P-$4" link set "$1-y" up
    tc -n "$P-$2" qdisc add dev "$1-x" root tbf rate "$6" burst 1mb latency 50ms
    tc -n "$P-$4" qdisc add dev "$1-y" root tbf rate "$6" burst 1mb latency 50ms
}
link rab a 10.200.81.1 b 10.200.81.2 1gbit
link rbc b 10.200.81.5 c 10.200.81.6 1gbit
link rac a 10.200.81.9 c 10.200.81.10 300mbit
start_gw "$P-b" 0.0.0.0:7700 "$W/relay-b.log"
RELAY_PID=$GW_PID
start_gw "$P-c" 0.0.0.0:7700
R=$((MB < 512 ? MB : 512))
head -c $((R << 20)) "$W/large/big.bin" >"$W/r.bin"
rm -rf "$W/out"
DIRECT=$(cp_rate ip netns exec "$P-a" "$SKYC" cp "$W/r.bin" "$W/out/d.bin" \
    --to 10.200.81.10:7700 -n "$N" --chunk-size 16M)
RELAY=$(cp_rate ip netns exec "$P-a" "$SKYC" cp "$W/r.bin" "$W/out/r.bin" \
    --to 10.200.81.6:7700 --via 10.200.81.2:7700 -n "$N" --chunk-size 16M)
WIRE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["wire_bytes"])' "$W/cp.json")
row "$R MiB via relay B vs direct (300 Mbit/s)" "$RELAY" "$DIRECT" "$(times "$RELAY" "$DIRECT")" ">1x"
cmp -s "$W/r.bin" "$W/out/r.bin" || { echo "relay copy differs" >&2; exit 1; }
kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null || true
echo "relay B: $(sed -n 's/.*gateway done: //p' "$W/relay-b.log"); sender wire bytes $WIRE"
fi
