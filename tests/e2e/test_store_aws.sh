#!/usr/bin/env bash
# e2e: skyc store serve driven by the aws CLI: make bucket, small and 100 MiB
# (multipart) objects, listings with prefix and delimiter, sync of a tree,
# presigned GET (curl), ranged GET, delete, and remove bucket.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/store/lib_store.sh"
s3_need aws curl
s3_start "$T_TMP/data"

t_run "mb" 0 awss3 s3 mb s3://e2e-bucket
t_run "mb again" 1 awss3 s3 mb s3://e2e-bucket
t_contains "mb again says" "$ERR" "BucketAlreadyOwnedByYou"
t_run "bad bucket name" 254 awss3 s3api create-bucket --bucket Bad_Name
t_contains "bad name" "$ERR" "InvalidBucketName"

echo "hello store" >"$T_TMP/small.txt"
t_run "put small" 0 awss3 s3 cp "$T_TMP/small.txt" s3://e2e-bucket/docs/small.txt
t_run "get small" 0 awss3 s3 cp s3://e2e-bucket/docs/small.txt -
t_eq "small bytes" "$OUT" "hello store"
t_run "head small" 0 awss3 s3api head-object --bucket e2e-bucket --key docs/small.txt
t_contains "etag is md5" "$OUT" "$(md5sum "$T_TMP/small.txt" | cut -c1-32)"

head -c 100M /dev/urandom >"$T_TMP/big.bin"
t_run "put 100MiB multipart" 0 awss3 s3 cp "$T_TMP/big.bin" s3://e2e-bucket/big/big.bin
t_run "head big" 0 awss3 s3api head-object --bucket e2e-bucket --key big/big.bin
t_contains "multipart etag" "$OUT" '-13\"'
t_contains "big size" "$OUT" '"ContentLength": 104857600'
t_run "get big" 0 awss3 s3 cp s3://e2e-bucket/big/big.bin "$T_TMP/big.back"
t_run "big round trip" 0 cmp "$T_TMP/big.bin" "$T_TMP/big.back"
rm -f "$T_TMP/big.back"

t_run "ranged get" 0 awss3 s3api get-object --bucket e2e-bucket --key big/big.bin \
    --range bytes=1000-1999 "$T_TMP/range.bin"
t_contains "content-range" "$OUT" "bytes 1000-1999/104857600"
t_run "range bytes" 0 cmp "$T_TMP/range.bin" <(tail -c +1001 "$T_TMP/big.bin" | head -c 1000)

mkdir -p "$T_TMP/tree/a/b" "$T_TMP/tree/c"
for i in 1 2 3; do echo "a$i" >"$T_TMP/tree/a/f$i"; echo "b$i" >"$T_TMP/tree/a/b/g$i"; done
echo "c" >"$T_TMP/tree/c/only"
t_run "sync up" 0 awss3 s3 sync "$T_TMP/tree" s3://e2e-bucket/tree
t_run "ls delimiter" 0 awss3 s3 ls s3://e2e-bucket/tree/
t_contains "prefix a" "$OUT" "PRE a/"
t_contains "prefix c" "$OUT" "PRE c/"
t_run "ls prefix" 0 awss3 s3api list-objects-v2 --bucket e2e-bucket --prefix tree/a/ \
    --delimiter / --query '[Contents[].Key, CommonPrefixes[].Prefix]' --output text
t_contains "keys under a" "$OUT" "tree/a/f1	tree/a/f2	tree/a/f3"
t_contains "prefix a/b" "$OUT" "tree/a/b/"
t_run "ls recursive" 0 awss3 s3 ls --recursive s3://e2e-bucket/tree/
t_eq "7 keys" "$(echo "$OUT" | wc -l)" "7"
t_run "sync down" 0 awss3 s3 sync s3://e2e-bucket/tree "$T_TMP/tree2"
t_run "trees equal" 0 diff -r "$T_TMP/tree" "$T_TMP/tree2"
rm "$T_TMP/tree/a/f2"
t_run "sync --delete" 0 awss3 s3 sync --delete "$T_TMP/tree" s3://e2e-bucket/tree
t_run "ls after delete" 0 awss3 s3 ls --recursive s3://e2e-bucket/tree/
t_not_contains "f2 gone" "$OUT" "tree/a/f2"

t_run "presign" 0 awss3 s3 presign s3://e2e-bucket/docs/small.txt --expires-in 60
URL=$OUT
t_run "presigned get" 0 curl -sf "$URL"
t_eq "presigned bytes" "$OUT" "hello store"
t_run "tampered presign" 0 curl -s -o /dev/null -w '%{http_code}' "${URL/small.txt/small.txX}"
t_eq "tampered is 403" "$OUT" "403"
t_run "unsigned get" 0 curl -s "$S3_URL/e2e-bucket/docs/small.txt"
t_contains "anonymous denied" "$OUT" "<Code>AccessDenied</Code>"

t_run "rb non-empty" 254 awss3 s3api delete-bucket --bucket e2e-bucket
t_contains "not empty" "$ERR" "BucketNotEmpty"
t_run "rm small" 0 awss3 s3 rm s3://e2e-bucket/docs/small.txt
t_run "get removed" 254 awss3 s3api head-object --bucket e2e-bucket --key docs/small.txt
t_run "rm all" 0 awss3 s3 rm --recursive s3://e2e-bucket/
t_run "rb" 0 awss3 s3 rb s3://e2e-bucket
t_run "ls buckets" 0 awss3 s3 ls
t_not_contains "bucket gone" "$OUT" "e2e-bucket"
# the deleted objects' bytes are gone too
t_eq "no blobs left" "$(find "$T_TMP/data/blobs" -type f | wc -l)" "0"

s3_stop
t_done
