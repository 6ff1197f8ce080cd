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
t_done
