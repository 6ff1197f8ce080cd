#!/usr/bin/env python3
"""A multi-region `skyc store serve` whose second region's backend is a
remote S3-compatible bucket (another `skyc store serve` on loopback plays
the remote cloud): objects placed in that region really live in the remote
bucket (listed there directly with the remote's own credentials), reads,
copy-on-read replication, replicate-all, TTL eviction, deletes and a large
(multipart-to-remote) object all go through it.

usage: regions_remote.py AK SK META_DIR NAME=URL=DIR NAME=URL=-
           REMOTE_URL REMOTE_AK REMOTE_SK REMOTE_BUCKET REMOTE_PREFIX
"""
import os
import sys
import time

import boto3
from botocore.config import Config

rargs = sys.argv[-5:]
del sys.argv[-5:]
from regions_common import check, clients, done, holders, names  # noqa: E402

A, R = names[:2]  # A: a local directory, R: the remote bucket
rurl, rak, rsk, rbucket, rprefix = rargs
remote = boto3.client("s3", endpoint_url=rurl, aws_access_key_id=rak,
                      aws_secret_access_key=rsk, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))


def remote_holds(data):
    """Is there an object with exactly data under the remote prefix?"""
    lst = remote.list_objects_v2(Bucket=rbucket, Prefix=rprefix + "/")
    for o in lst.get("Contents", []):
        if o["Size"] == len(data):
            try:
                got = remote.get_object(Bucket=rbucket,
                                        Key=o["Key"])["Body"].read()
            except remote.exceptions.NoSuchKey:
                continue  # evicted between the listing and the read
            if got == data:
                return True
    return False


def remote_count():
    lst = remote.list_objects_v2(Bucket=rbucket, Prefix=rprefix + "/")
    return len(lst.get("Contents", []))


def wait_for(pred, secs=10):
    deadline = time.time() + secs
    while time.time() < deadline and not pred():
        time.sleep(0.1)
    return pred()


def get(region, bucket, key, **kw):
    r = clients[region].get_object(Bucket=bucket, Key=key, **kw)
    return r["Body"].read(), r["ResponseMetadata"]["HTTPHeaders"].get(
        "x-skyc-read-region")


for b in ["p-wl", "p-cor", "p-ra", "p-ttl"]:
    clients[A].create_bucket(Bucket=b)
check("remote prefix starts empty", remote_count(), 0)

# write-local at R: the bytes live in the remote bucket, nowhere local
d = b"wl" + os.urandom(200_000)
clients[R].put_object(Bucket="p-wl", Key="k", Body=d)
check("put at R lands in the remote bucket", remote_holds(d), True)
check("put at R leaves no local copy", holders(d), set())
body, src = get(R, "p-wl", "k")
check("get at R reads the remote", (body == d, src), (True, R))
body, src = get(A, "p-wl", "k")
check("get at A is served from the remote", (body == d, src), (True, R))
body, _ = get(R, "p-wl", "k", Range="bytes=1000-1999")
check("ranged get at R", body, d[1000:2000])
h = clients[A].head_object(Bucket="p-wl", Key="k")
check("head of a remote object has its length", h["ContentLength"], len(d))
clients[A].delete_object(Bucket="p-wl", Key="k")
check("delete at A removes it from the remote", remote_holds(d), False)

# a large object: spooled, then a multipart upload to the remote
big = os.urandom(20 << 20)
clients[R].put_object(Bucket="p-wl", Key="big", Body=big)
check("20 MiB object lives in the remote", remote_holds(big), True)
check("20 MiB get at A through the remote", get(A, "p-wl", "big")[0] == big,
      True)
clients[R].delete_object(Bucket="p-wl", Key="big")

# copy-on-read: a get at R of an object held in A keeps a replica remotely
d = b"cor" + os.urandom(300_000)
clients[A].put_object(Bucket="p-cor", Key="k", Body=d)
check("copy-on-read source is local", (holders(d), remote_holds(d)),
      ({A}, False))
body, src = get(R, "p-cor", "k")
check("first get at R served from A", (body == d, src), (True, A))
check("replica written to the remote", wait_for(lambda: remote_holds(d)), True)
body, src = wait_for(lambda: get(R, "p-cor", "k")[1] == R) and get(R, "p-cor", "k")
check("next get at R reads the remote replica", (body == d, src), (True, R))
clients[R].delete_object(Bucket="p-cor", Key="k")
check("delete removes the remote replica", remote_holds(d), False)
check("delete removes the local primary", holders(d), set())

# replicate-all: the remote gets its copy
d = b"ra" + os.urandom(100_000)
clients[A].put_object(Bucket="p-ra", Key="k", Body=d)
check("replicate-all copies to the remote", wait_for(lambda: remote_holds(d)),
      True)
clients[A].delete_object(Bucket="p-ra", Key="k")

# fixed TTL: the remote replica is evicted on the timer
d = b"ttl" + os.urandom(100_000)
clients[A].put_object(Bucket="p-ttl", Key="k", Body=d)
get(R, "p-ttl", "k")
check("ttl replica appears in the remote", wait_for(lambda: remote_holds(d)),
      True)
check("ttl replica evicted from the remote",
      wait_for(lambda: not remote_holds(d), 15), True)
check("ttl primary kept in A", holders(d), {A})
body, src = get(R, "p-ttl", "k")
check("after eviction get at R is served from A", (body == d, src), (True, A))
clients[A].delete_object(Bucket="p-ttl", Key="k")
if not wait_for(lambda: remote_count() == 0, 30):
    left = remote.list_objects_v2(Bucket=rbucket, Prefix=rprefix + "/")
    print("left in the remote:", [(o["Key"], o["Size"])
                                  for o in left.get("Contents", [])],
          file=sys.stderr)
check("remote prefix ends empty", remote_count() == 0, True)
done()
