#!/usr/bin/env bash
# Spot plane speed: the Can't-Be-Late simulator's 9,600 runs (2 trace sets x
# 4 settings x 4 policies x 300 windows; the paper's Python simulator needed
# 244 s for them on this kind of machine, quoted from the issue) and the
# exact optimum of one 92-hour window (the paper solved it as an ILP with
# CBC, minutes per window). Also the whole `skyc spot paper` command.
#
# usage: bench/spot.sh [path/to/skyc]
set -euo pipefail
SKYC=$(realpath "${1:-build/skyc}")
BUILD=$(dirname "$SKYC")
DATA=${SKYC_SHARED_DATA:-$(dirname "$0")/../../shared/data}
WIN="$DATA/spot-traces/adrs-cant-be-late-windows/windows_48h_task"
[ -d "$WIN" ] || { echo "bench: no spot windows under $DATA" >&2; exit 1; }
"$BUILD/spot_bench" "$WIN"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
s=$(date +%s.%N)
SKYC_SHARED_DATA=$DATA "$SKYC" spot paper >"$W/paper.txt"
e=$(date +%s.%N)
printf '%-52s %9.1f s  (Table 3 + per-set + 6-cell grid incl. ours)\n' \
    "skyc spot paper, whole process" "$(python3 -c "print($e - $s)")"
