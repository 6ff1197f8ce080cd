#!/usr/bin/env bash
# The CLI's frame: help, version, exit codes, unknown commands and options.
set -e
. "$(dirname "$0")/lib.sh"

t_run "version" 0 skyc --version
t_contains "version" "$OUT" "skyc "
t_run "version cmd" 0 skyc version
t_run "help" 0 skyc --help
t_contains "help lists commands" "$OUT" "version"
t_run "no args" 2 skyc
t_run "unknown command" 2 skyc verison
t_contains "suggests" "$ERR" "did you mean 'version'?"
t_contains "error prefix" "$ERR" "skyc: error: "
t_run "exit codes" 0 skyc help exit-codes
t_contains "exit codes" "$OUT" "INPUT"
t_run "help for a command" 0 skyc help version
# every command with subcommands takes --help, help and help SUB alike
for c in catalog jobs sim spot store task transfer; do
    t_run "$c --help" 0 skyc $c --help
    t_contains "$c --help lists" "$OUT" "usage: skyc $c <command>"
    t_run "$c help" 0 skyc $c help
    t_contains "$c help lists" "$OUT" "usage: skyc $c <command>"
done
t_run "help SUB" 0 skyc store help serve
t_contains "help SUB is SUB --help" "$OUT" "usage: skyc store serve"
t_run "help unknown SUB" 2 skyc store help nope
t_contains "help unknown SUB names it" "$ERR" "'nope' is not a skyc store command"
t_done
