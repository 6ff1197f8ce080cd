#!/usr/bin/env bash
# skyc task check: good task files pass, bad ones exit 3 with file:line:col.
set -e
. "$(dirname "$0")/lib.sh"

ex="$SKYC_SOURCE_DIR/examples"
for f in minimal train-a100 pipeline dag; do
    t_run "check $f" 0 skyc task check "$ex/$f.yaml"
done

t_run "table" 0 skyc task check "$ex/pipeline.yaml"
t_contains "table header" "$OUT" "ACCELERATOR"
t_contains "table alt" "$OUT" "V100:4"
t_contains "table edges" "$OUT" "preprocess -> train"

t_run "json" 0 skyc task check --json "$ex/dag.yaml"
t_eq "json tasks" "$(echo "$OUT" | jq -r '[.tasks[].name] | join(",")')" \
    "prep-text,prep-images,train,eval-a,eval-b"
t_eq "json edges" "$(echo "$OUT" | jq -r '.edges | length')" "4"
t_eq "json cloud" "$(echo "$OUT" | jq -r '.tasks[4].resources[0].cloud')" "gcp"

t_run "json any_of" 0 skyc task check --json "$ex/train-a100.yaml"
t_eq "alternatives" "$(echo "$OUT" | jq -r '.tasks[0].resources | length')" "3"
t_eq "ordered" "$(echo "$OUT" | jq -r '.tasks[0].resources_ordered')" "false"

bad="$T_TMP/bad.yaml"
printf 'name: a\nresources:\n  acelerators: A100:8\n' >"$bad"
t_run "typo" 3 skyc task check "$bad"
t_contains "typo located" "$ERR" "skyc: error: $bad:3:3: unknown field 'acelerators' in resources (did you mean 'accelerators'?)"

printf 'name: a\n  run: x\n' >"$bad"
t_run "syntax" 3 skyc task check "$bad"
t_contains "syntax located" "$ERR" "$bad:2:6:"

printf 'name: a\ndepends_on: b\n---\nname: b\ndepends_on: a\n' >"$bad"
t_run "cycle" 3 skyc task check "$bad"
t_contains "cycle named" "$ERR" "cycle a -> b -> a"

: >"$bad"
t_run "empty" 3 skyc task check "$bad"
t_contains "empty" "$ERR" "no task in the file"

t_run "missing" 4 skyc task check "$T_TMP/nope.yaml"
t_contains "missing" "$ERR" "cannot read task file"
t_run "no file" 2 skyc task check
t_run "subcommand typo" 2 skyc task chek x
t_contains "subcommand typo" "$ERR" "did you mean 'check'"

t_done
