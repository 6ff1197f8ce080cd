#!/usr/bin/env python3
"""A multipart upload whose parts and complete reach different regions'
endpoints of one multi-region `skyc store serve` (boto3, one client per
region endpoint): each part lands in the backend of the region it was sent
to, the metadata says where, ListParts at any endpoint sees them all,
complete at a third endpoint assembles the object with S3's multipart ETag,
and every endpoint reads it back. Abort at another endpoint removes parts
from every region.

usage: regions_multipart.py AK SK META_DIR NAME=URL=DIR ...  (3 regions)
"""
import hashlib
import os

from regions_common import check, clients, done, holders, names, sql

A, B, C = names[:3]
MiB = 1 << 20
clients[A].create_bucket(Bucket="mpu")

parts = [(1, A, os.urandom(5 * MiB)), (2, B, os.urandom(5 * MiB)),
         (3, C, os.urandom(MiB + 17))]
up = clients[A].create_multipart_upload(Bucket="mpu", Key="big",
                                        ContentType="text/x-skyc")["UploadId"]
etags = {}
for n, reg, data in parts:
    r = clients[reg].upload_part(Bucket="mpu", Key="big", UploadId=up,
                                 PartNumber=n, Body=data)
    etags[n] = r["ETag"]
    check(f"part {n} ETag is its MD5", r["ETag"],
          '"%s"' % hashlib.md5(data).hexdigest())
for n, reg, data in parts:
    check(f"part {n} sent to {reg} lands in its backend", holders(data), {reg})
check("metadata records each part's region",
      sql("SELECT num, region FROM parts WHERE upload = ? ORDER BY num", up),
      [(n, reg) for n, reg, _ in parts])
lp = clients[B].list_parts(Bucket="mpu", Key="big", UploadId=up)
check("ListParts at B sees the parts of every region",
      [(p["PartNumber"], p["ETag"], p["Size"]) for p in lp["Parts"]],
      [(n, etags[n], len(d)) for n, _, d in parts])
ups = clients[C].list_multipart_uploads(Bucket="mpu").get("Uploads", [])
check("ListMultipartUploads at C sees the upload",
      [u["UploadId"] for u in ups], [up])

r = clients[C].complete_multipart_upload(
    Bucket="mpu", Key="big", UploadId=up,
    MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etags[n]}
                               for n, _, _ in parts]})
want = '"%s-3"' % hashlib.md5(b"".join(
    hashlib.md5(d).digest() for _, _, d in parts)).hexdigest()
check("complete at C answers S3's multipart ETag", r["ETag"], want)
whole = b"".join(d for _, _, d in parts)
for reg in names:
    g = clients[reg].get_object(Bucket="mpu", Key="big")
    check(f"get at {reg} returns the assembled bytes", g["Body"].read() == whole,
          True)
    check(f"get at {reg} has the multipart ETag", g["ETag"], want)
h = clients[B].head_object(Bucket="mpu", Key="big")
check("head at B: size and content type of the upload",
      (h["ContentLength"], h["ContentType"]), (len(whole), "text/x-skyc"))
check("object assembled in the completing region C", holders(whole), {C})
check("object row names region C",
      sql("SELECT region FROM objects WHERE bucket='mpu' AND key='big'"),
      [(C,)])
for n, _, data in parts:
    check(f"part {n} blob removed after complete", holders(data), set())
check("no part rows left", sql("SELECT count(*) FROM parts"), [(0,)])

# a wrong ETag for a part from another region is InvalidPart
up2 = clients[B].create_multipart_upload(Bucket="mpu", Key="k2")["UploadId"]
d = os.urandom(MiB)
clients[A].upload_part(Bucket="mpu", Key="k2", UploadId=up2, PartNumber=1,
                       Body=d)
try:
    clients[C].complete_multipart_upload(
        Bucket="mpu", Key="k2", UploadId=up2,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"%s"' % ("0" * 32)}]})
    check("complete with a wrong part ETag fails", "ok", "InvalidPart")
except clients[C].exceptions.ClientError as e:
    check("complete with a wrong part ETag fails",
          e.response["Error"]["Code"], "InvalidPart")
# abort at a third endpoint removes the part from the region holding it
check("part of the second upload lands in A", holders(d), {A})
clients[C].abort_multipart_upload(Bucket="mpu", Key="k2", UploadId=up2)
check("abort at C removes the part from A", holders(d), set())
done()
