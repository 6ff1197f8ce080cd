#!/usr/bin/env bash
# e2e: skyc store serve driven by rclone (S3 backend, provider Other):
# mkdir, sync a tree with a multipart-sized file, check, delete and re-sync,
# copy back, purge. rclone needs AWS_CA_BUNDLE unset on this machine.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need rclone
s3_start "$T_TMP/data"
cat >"$T_TMP/rclone.conf" <<CONF
[sky]
type = s3
provider = Other
access_key_id = $S3_AK
secret_access_key = $S3_SK
endpoint = $S3_URL
region = us-east-1
CONF
rc() { env -u AWS_CA_BUNDLE timeout 120 rclone --config "$T_TMP/rclone.conf" --s3-upload-cutoff 5M --s3-chunk-size 5M "$@"; }
mkdir -p "$T_TMP/tree/x/y" "$T_TMP/tree/z"
for i in 1 2 3 4; do echo "file $i" >"$T_TMP/tree/x/f$i"; echo "deep $i" >"$T_TMP/tree/x/y/d$i"; done
head -c 12M /dev/urandom >"$T_TMP/tree/z/big"
t_run "mkdir" 0 rc mkdir sky:rclone-bkt
t_run "sync up" 0 rc sync "$T_TMP/tree" sky:rclone-bkt/tree
t_run "check" 0 rc check "$T_TMP/tree" sky:rclone-bkt/tree
t_run "lsd" 0 rc lsd sky:rclone-bkt/tree
t_contains "dir x" "$OUT" " x"
t_contains "dir z" "$OUT" " z"
t_run "ls" 0 rc ls sky:rclone-bkt
t_eq "9 files" "$(echo "$OUT" | wc -l)" "9"
rm "$T_TMP/tree/x/f1"; echo changed >"$T_TMP/tree/x/f2"
t_run "sync again" 0 rc sync "$T_TMP/tree" sky:rclone-bkt/tree
t_run "check again" 0 rc check "$T_TMP/tree" sky:rclone-bkt/tree
t_run "cat" 0 rc cat sky:rclone-bkt/tree/x/f2
t_eq "changed content" "$OUT" "changed"
t_run "copy back" 0 rc copy sky:rclone-bkt/tree "$T_TMP/back"
t_run "trees equal" 0 diff -r "$T_TMP/tree" "$T_TMP/back"
t_run "purge" 0 rc purge sky:rclone-bkt
t_run "lsd root" 0 rc lsd sky:
t_not_contains "bucket gone" "$OUT" "rclone-bkt"
s3_stop
t_done
