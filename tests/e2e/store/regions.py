#!/usr/bin/env python3
"""Multi-region `skyc store serve` driven by boto3: one virtual bucket per
placement policy, one S3 endpoint per region; checks which regions' directory
backends hold a copy of each object and which region served each GET (the
x-skyc-read-region response header).

usage: regions.py AK SK META_DIR NAME=URL=DIR ...   (regions A, B, C, ...)
"""
import os
import sqlite3
import sys
import time

import boto3
from botocore.config import Config

ak, sk, meta_dir = sys.argv[1], sys.argv[2], sys.argv[3]
regions = []
for spec in sys.argv[4:]:
    name, url, d = spec.split("=", 2)
    regions.append((name, url, d))
A, B, C = regions[0][0], regions[1][0], regions[2][0]

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
clients = {
    n: boto3.client("s3", endpoint_url=u, aws_access_key_id=ak,
                    aws_secret_access_key=sk, region_name="us-east-1",
                    config=cfg)
    for n, u, _ in regions
}
fails = 0


def check(name, got, want):
    global fails
    if got == want:
        print("ok", name)
    else:
        fails += 1
        print(f"FAIL: {name}: got {got!r}, want {want!r}")


def holders(data):
    """Regions whose backend directory holds a blob with exactly data."""
    out = set()
    for n, _, d in regions:
        for root, _, files in os.walk(os.path.join(d, "blobs")):
            for f in files:
                p = os.path.join(root, f)
                if os.path.getsize(p) == len(data):
                    with open(p, "rb") as fh:
                        if fh.read() == data:
                            out.add(n)
    return out


def copies(bucket, key):
    """Regions the SQLite metadata records a replica of (bucket, key) in."""
    db = sqlite3.connect(f"file:{meta_dir}/meta.db?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT c.region FROM copies c JOIN objects o USING(bucket, key,"
            " blob) WHERE bucket = ? AND key = ?", (bucket, key)).fetchall()
    finally:
        db.close()
    return {r[0] for r in rows}


def get(region, bucket, key):
    r = clients[region].get_object(Bucket=bucket, Key=key)
    body = r["Body"].read()
    return body, r["ResponseMetadata"]["HTTPHeaders"].get("x-skyc-read-region")


def settled(data, want, secs=10):
    """holders(data) once it equals want (replicas are made
    asynchronously), or what it is after secs."""
    deadline = time.time() + secs
    while time.time() < deadline and holders(data) != want:
        time.sleep(0.05)
    return holders(data)


def blob(tag):
    return tag.encode() + os.urandom(100_000)


for b in ["p-wl", "p-cor", "p-ra", "p-ttl", "p-sr"]:
    clients[A].create_bucket(Bucket=b)

# write-local: a GET in B is served from A's copy and leaves none in B
d = blob("wl")
clients[A].put_object(Bucket="p-wl", Key="k", Body=d)
check("write-local put lands in A only", holders(d), {A})
body, src = get(B, "p-wl", "k")
check("write-local get at B returns the bytes", body == d, True)
check("write-local get at B is served from A", src, A)
check("write-local keeps no replica in B", holders(d), {A})
check("write-local metadata records no replica", copies("p-wl", "k"), set())
check("write-local second get at B still from A", get(B, "p-wl", "k")[1], A)

# always-store (copy-on-read): the first GET in B replicates, the next is local
d = blob("cor")
clients[A].put_object(Bucket="p-cor", Key="k", Body=d)
body, src = get(B, "p-cor", "k")
check("copy-on-read first get at B returns the bytes", body == d, True)
check("copy-on-read first get at B is served from A", src, A)
check("copy-on-read leaves a replica in B", settled(d, {A, B}), {A, B})
deadline = time.time() + 10
while time.time() < deadline and copies("p-cor", "k") != {B}:
    time.sleep(0.05)
check("copy-on-read metadata records the replica in B",
      copies("p-cor", "k"), {B})
body, src = get(B, "p-cor", "k")
check("copy-on-read second get at B is local", (body == d, src), (True, B))
check("copy-on-read get at A is local", get(A, "p-cor", "k")[1], A)
# an overwrite replaces the object; the old copies go everywhere
d2 = blob("cor2")
clients[A].put_object(Bucket="p-cor", Key="k", Body=d2)
check("overwrite removes every old copy", holders(d), set())
check("overwrite keeps only the new primary", holders(d2), {A})
check("overwrite drops the replica rows", copies("p-cor", "k"), set())
clients[B].delete_object(Bucket="p-cor", Key="k")
check("delete at B removes every copy", holders(d2), set())

# replicate-all: every region holds a copy right after the PUT
d = blob("ra")
clients[B].put_object(Bucket="p-ra", Key="k", Body=d)
check("replicate-all copies to every region", settled(d, {A, B, C}),
      {A, B, C})
deadline = time.time() + 10
while time.time() < deadline and copies("p-ra", "k") != {A, C}:
    time.sleep(0.05)
check("replicate-all metadata records both replicas", copies("p-ra", "k"),
      {A, C})
check("replicate-all get at C is local", get(C, "p-ra", "k")[1], C)
clients[A].delete_object(Bucket="p-ra", Key="k")
check("replicate-all delete removes every copy", holders(d), set())
try:
    clients[C].get_object(Bucket="p-ra", Key="k")
    check("get after delete is NoSuchKey", "found", "NoSuchKey")
except clients[C].exceptions.NoSuchKey:
    check("get after delete is NoSuchKey", "NoSuchKey", "NoSuchKey")

# fixed TTL: the replica expires on the timer; the primary stays
d = blob("ttl")
clients[A].put_object(Bucket="p-ttl", Key="k", Body=d)
get(B, "p-ttl", "k")
check("ttl replica appears in B", settled(d, {A, B}), {A, B})
deadline = time.time() + 10
while time.time() < deadline and holders(d) != {A}:
    time.sleep(0.2)
check("ttl replica evicted from B, primary kept in A", holders(d), {A})
check("ttl eviction drops the replica row", copies("p-ttl", "k"), set())
body, src = get(B, "p-ttl", "k")
check("after eviction get at B is served from A", (body == d, src), (True, A))

# single-region: writes anywhere go to the home region (the first)
d = blob("sr")
clients[C].put_object(Bucket="p-sr", Key="k", Body=d)
check("single-region write at C lands in A", holders(d), {A})
check("single-region get at C is served from A", get(C, "p-sr", "k")[1], A)

# every endpoint sees the one namespace
names = sorted(o["Key"] for o in
               clients[C].list_objects_v2(Bucket="p-wl").get("Contents", []))
check("listing at C sees the object written at A", names, ["k"])

sys.exit(1 if fails else 0)
