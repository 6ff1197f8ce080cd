#!/usr/bin/env bash
# e2e: skyc cp / sync / gateway on loopback: byte-for-byte copies of mixed
# files (direct, relayed, compressed, encrypted), a flipped bit caught and
# resent, a gateway dying mid-transfer (retried, then resumed from the
# manifest with only the missing chunks), sync skipping what matches, and
# bad input refused with a clear message.
. "$(dirname "$0")/lib.sh"
set -e

GW_PIDS=()
t_on_exit 'for p in "${GW_PIDS[@]+"${GW_PIDS[@]}"}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null'

# start_gw VAR ARGS...: start a gateway on 127.0.0.1:0, put its address in VAR.
start_gw() {
    local var=$1; shift
    local out="$T_TMP/gw.$RANDOM.out"
    "$SKYC_BIN" gateway --listen 127.0.0.1:0 "$@" >"$out" 2>>"$T_TMP/gw.log" &
    GW_PIDS+=($!)
    GW_LAST=$!
    for _ in $(seq 1 100); do
        grep -q '^listening on ' "$out" 2>/dev/null && break
        sleep 0.05
    done
    printf -v "$var" '%s' "$(sed -n 's/^listening on //p' "$out")"
    [ -n "${!var}" ] || { echo "gateway did not start" >&2; cat "$T_TMP/gw.log"; exit 1; }
}

same() { # NAME A B
    if diff -r "$2" "$3" >/dev/null; then t_pass; else t_fail "$1: trees differ"; fi
}

SRC="$T_TMP/src"
mkdir -p "$SRC/a/b" "$SRC/small"
head -c 9000000 /dev/urandom >"$SRC/big.bin"          # spans several chunks
head -c 1048576 /dev/zero >"$SRC/a/zeros"              # compressible
: >"$SRC/a/empty"
for i in $(seq 1 150); do head -c $((i * 97)) /dev/urandom >"$SRC/small/f$i"; done
printf 'hello\n' >"$SRC/a/b/name with spaces.txt"
chmod 0750 "$SRC/a/b/name with spaces.txt"

# 1. direct copy through a gateway cp forks itself
t_run "cp direct" 0 skyc cp -r "$SRC" "$T_TMP/d1" --chunk-size 1M
same "cp direct" "$SRC" "$T_TMP/d1"
t_contains "cp summary" "$ERR" "copied 154 objects"
t_eq "mode kept" "$(stat -c %a "$T_TMP/d1/a/b/name with spaces.txt")" 750
t_eq "mtime kept" "$(stat -c %Y "$T_TMP/d1/big.bin")" "$(stat -c %Y "$SRC/big.bin")"
t_eq "no part files" "$(find "$T_TMP/d1" -name '*.skyc-part' | wc -l)" 0
t_eq "manifest removed" "$(ls "$XDG_STATE_HOME/skyc/transfers" | wc -l)" 0

# progress bar on a terminal only (script gives it a pty), never in pipes
if command -v script >/dev/null; then
    bar=$(script -qec "'$SKYC_BIN' cp -r '$SRC' '$T_TMP/d1bar' --chunk-size 1M" /dev/null | tr '\r' '\n')
    t_contains "progress bar" "$bar" "100% "
    t_contains "progress rate" "$bar" "Gbit/s  ETA"
fi
t_not_contains "no bar in a pipe" "$ERR" "ETA"

# 2. single file to a new name and into a directory
t_run "cp file" 0 skyc cp "$SRC/big.bin" "$T_TMP/one.bin" -q
cmp -s "$SRC/big.bin" "$T_TMP/one.bin" && t_pass || t_fail "cp file: differs"
mkdir "$T_TMP/into"
t_run "cp file into dir" 0 skyc cp "$SRC/a/zeros" "$T_TMP/into" -q
cmp -s "$SRC/a/zeros" "$T_TMP/into/zeros" && t_pass || t_fail "cp into dir"

# 3. relay A -> B -> C with compression and encryption, JSON summary
start_gw GW_C
start_gw GW_B
t_run "relay+zstd+gcm" 0 skyc cp -r "$SRC" "$T_TMP/d3" --to "$GW_C" \
    --via "$GW_B" --chunk-size 1M --compress --encrypt --json -q
same "relay+zstd+gcm" "$SRC" "$T_TMP/d3"
wire=$(echo "$OUT" | sed -n 's/.*"wire_bytes": \([0-9]*\).*/\1/p')
bytes=$(echo "$OUT" | sed -n 's/.*"bytes": \([0-9]*\).*/\1/p')
[ "$wire" -lt "$bytes" ] && t_pass || t_fail "zstd did not shrink: $wire >= $bytes"

# 3b. a relay counts what it forwards: the bytes relayed in its final log
#     line equal the sender's wire_bytes (CHUNK + COMMIT frames, headers
#     included; nothing failed, so nothing was sent twice)
"$SKYC_BIN" gateway --listen 127.0.0.1:0 >"$T_TMP/gwr.out" 2>"$T_TMP/gwr.log" &
GW_R_PID=$!
GW_PIDS+=($GW_R_PID)
for _ in $(seq 1 100); do grep -q '^listening on ' "$T_TMP/gwr.out" && break; sleep 0.05; done
GW_R=$(sed -n 's/^listening on //p' "$T_TMP/gwr.out")
t_run "counted relay" 0 skyc cp -r "$SRC" "$T_TMP/d3b" --to "$GW_C" \
    --via "$GW_R" --chunk-size 1M -n 2 --json -q
same "counted relay" "$SRC" "$T_TMP/d3b"
wire=$(echo "$OUT" | sed -n 's/.*"wire_bytes": \([0-9]*\).*/\1/p')
kill -TERM "$GW_R_PID"
wait "$GW_R_PID" || true
relayed=$(sed -n 's/.* \([0-9][0-9]*\) bytes relayed in .*/\1/p' "$T_TMP/gwr.log")
t_eq "bytes relayed = sender's wire bytes" "${relayed:-none}" "$wire"
[ "$wire" -gt "$(du -sb "$SRC" | awk '{printf "%d", $1 / 2}')" ] && t_pass ||
    t_fail "counted relay: only $wire wire bytes"

# 4. a relay that flips a bit: the destination's checksum catches it, resent
start_gw GW_FLIP --fault-flip-chunk 2
t_run "bit flip" 0 skyc cp -r "$SRC" "$T_TMP/d4" --to "$GW_C" --via "$GW_FLIP" \
    --chunk-size 1M -n 2
same "bit flip" "$SRC" "$T_TMP/d4"
t_contains "bit flip resent" "$ERR" "1 resent"
#    ... and with encryption the GCM tag catches it
start_gw GW_FLIP2 --fault-flip-chunk 3
t_run "bit flip gcm" 0 skyc cp -r "$SRC" "$T_TMP/d4e" --to "$GW_C" \
    --via "$GW_FLIP2" --chunk-size 1M -n 2 --encrypt
same "bit flip gcm" "$SRC" "$T_TMP/d4e"
t_contains "bit flip gcm resent" "$ERR" "1 resent"

# 5. two paths, one relay dies mid-transfer: the other path finishes the job
start_gw GW_DIE --fault-exit-chunk 3
t_run "relay dies" 0 skyc cp -r "$SRC" "$T_TMP/d5" --to "$GW_C" \
    --via "$GW_DIE" --via "$GW_B" --chunk-size 1M -n 2 --retries 2
same "relay dies" "$SRC" "$T_TMP/d5"
t_not_contains "relay dies: failures counted" "$ERR" " 0 connection failures"

# 5b. the only gateway keeps dying (every 3rd chunk) and is restarted by a
#     supervisor loop: reconnects with backoff carry the transfer through
#     (a fixed port below the kernel's ephemeral range, 32768+, so no
#     outgoing connection of a neighbouring test can hold it)
for _ in $(seq 1 50); do
    PORT=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
( for _ in $(seq 1 60); do
      [ -e "$T_TMP/stop-flapping" ] && break
      "$SKYC_BIN" gateway --listen 127.0.0.1:$PORT --fault-exit-chunk 3 \
          >/dev/null 2>>"$T_TMP/gw.log" || true
  done ) &
SUP=$!
stop_flapping() { # stop the loop first, then its current gateway
    touch "$T_TMP/stop-flapping"
    while kill -0 $SUP 2>/dev/null; do
        for k in $(pgrep -P $SUP 2>/dev/null); do kill "$k" 2>/dev/null || true; done
        sleep 0.1
    done
}
t_on_exit stop_flapping
sleep 0.3
t_run "flapping gateway" 0 skyc cp -r "$SRC" "$T_TMP/d5b" --to 127.0.0.1:$PORT --retries 30 \
    --chunk-size 1M -n 1 --json -q
same "flapping gateway" "$SRC" "$T_TMP/d5b"
fails=$(echo "$OUT" | sed -n 's/.*"connection_failures": \([0-9]*\).*/\1/p')
[ "${fails:-0}" -ge 2 ] && t_pass || t_fail "flapping gateway: $fails failures"
stop_flapping

# 6. the only gateway dies: cp fails, says how to resume; the re-run sends
#    only the missing chunks
start_gw GW_ONCE --fault-exit-chunk 4
t_run "sole gateway dies" 7 skyc cp -r "$SRC" "$T_TMP/d6" --to "$GW_ONCE" \
    --chunk-size 1M -n 1 --retries 1
t_contains "resume hint" "$ERR" "re-run the same command to resume"
t_eq "manifest kept" "$(ls "$XDG_STATE_HOME/skyc/transfers" | wc -l)" 1
t_run "resume" 0 skyc cp -r "$SRC" "$T_TMP/d6" --to "$GW_C" --chunk-size 1M \
    -n 1 --retries 1 --json
same "resume" "$SRC" "$T_TMP/d6"
skipped=$(echo "$OUT" | sed -n 's/.*"chunks_skipped": \([0-9]*\).*/\1/p')
total=$(echo "$OUT" | sed -n 's/.*"chunks": \([0-9]*\).*/\1/p')
[ "$skipped" -ge 2 ] && [ "$skipped" -lt "$total" ] && t_pass ||
    t_fail "resume: skipped $skipped of $total chunks, want 2..$((total - 1))"
t_contains "resume flag" "$OUT" '"resumed": true'
t_eq "manifest gone" "$(ls "$XDG_STATE_HOME/skyc/transfers" | wc -l)" 0

# 7. sync copies only what differs
t_run "sync noop" 0 skyc sync "$SRC" "$T_TMP/d1" --json -q
t_contains "sync noop" "$OUT" '"objects": 0'
printf 'changed' >"$SRC/small/f7"
rm "$T_TMP/d1/small/f9"
t_run "sync two" 0 skyc sync "$SRC" "$T_TMP/d1" --json -q
t_contains "sync two" "$OUT" '"objects": 2'
same "sync result" "$SRC" "$T_TMP/d1"

# 8. bad input
t_run "dir without -r" 2 skyc cp "$SRC" "$T_TMP/x"
t_contains "dir without -r" "$ERR" "use -r"
t_run "missing src" 4 skyc cp "$T_TMP/nope" "$T_TMP/x"
t_run "bad chunk size" 2 skyc cp -r "$SRC" "$T_TMP/x" --chunk-size 12Q
t_contains "bad chunk size" "$ERR" "--chunk-size '12Q'"
t_run "bad address" 2 skyc cp -r "$SRC" "$T_TMP/x" --to nowhere
t_contains "bad address" "$ERR" "HOST:PORT"
printf '{"paths": [{"hops": []}]}' >"$T_TMP/plan.json"
t_run "bad plan" 3 skyc cp -r "$SRC" "$T_TMP/x" --plan "$T_TMP/plan.json"
t_contains "bad plan" "$ERR" "paths[0].hops"
printf '{"paths": [' >"$T_TMP/plan2.json"
t_run "broken plan" 3 skyc cp -r "$SRC" "$T_TMP/x" --plan "$T_TMP/plan2.json"
t_contains "broken plan" "$ERR" "plan2.json:1:"
printf '{"paths": [{"hops": ["%s"], "connections": 3}]}' "$GW_C" >"$T_TMP/plan3.json"
t_run "plan" 0 skyc cp -r "$SRC" "$T_TMP/d8" --plan "$T_TMP/plan3.json" -q
same "plan" "$SRC" "$T_TMP/d8"
t_run "unreachable" 7 skyc cp -r "$SRC" "$T_TMP/x" --to 127.0.0.1:1 --retries 0 -q
# a gateway refuses garbage and keeps serving
printf 'GET / HTTP/1.0\r\n\r\n%64s' "" >"$T_TMP/junk"
timeout 5 bash -c "exec 3<>/dev/tcp/${GW_C%:*}/${GW_C#*:}; cat '$T_TMP/junk' >&3; cat <&3 >/dev/null" || true
# a first frame announcing 256 MiB is refused before anything is allocated
python3 -c 'import struct,sys; sys.stdout.buffer.write(b"SKY1\x01\x00\x00\x00"+struct.pack(">II",256<<20,256<<20)+bytes(48))' >"$T_TMP/bighello"
timeout 5 bash -c "exec 3<>/dev/tcp/${GW_C%:*}/${GW_C#*:}; cat '$T_TMP/bighello' >&3; cat <&3" >"$T_TMP/bighello.out" 2>/dev/null || true
t_contains "big hello refused" "$(cat -v "$T_TMP/bighello.out")" "exceeds this peer's limit"
t_run "gateway survives junk" 0 skyc cp "$SRC/big.bin" "$T_TMP/after-junk.bin" --to "$GW_C" -q
cmp -s "$SRC/big.bin" "$T_TMP/after-junk.bin" && t_pass || t_fail "after junk"

# a last hop with a 1 MiB write buffer for all connections: reading pauses
# and resumes, nothing is lost or stuck
start_gw GW_TIGHT --buffer-mib 1
t_run "tight buffer" 0 timeout 60 "$SKYC_BIN" cp -r "$SRC" "$T_TMP/d9" --to "$GW_TIGHT" \
    --chunk-size 256K -n 8 -q
same "tight buffer" "$SRC" "$T_TMP/d9"
t_run "bad buffer" 2 skyc gateway --buffer-mib 0

# a gateway with --root writes only inside it
start_gw GW_ROOT --root "$T_TMP/jail"
t_run "root refuses" 1 skyc cp -r "$SRC" "$T_TMP/outside" --to "$GW_ROOT" -q
t_contains "root refuses" "$ERR" "outside this gateway's --root"
t_run "root dotdot" 1 skyc cp -r "$SRC" "$T_TMP/jail/../outside" --to "$GW_ROOT" -q
t_run "root allows" 0 skyc cp -r "$SRC" "$T_TMP/jail/in" --to "$GW_ROOT" -q
same "root allows" "$SRC" "$T_TMP/jail/in"

t_done
