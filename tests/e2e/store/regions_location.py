#!/usr/bin/env python3
"""GetBucketLocation / HeadBucket's x-amz-bucket-region on a three-region
`skyc store serve` (boto3, one client per region endpoint, each signing for
its own region as a client there would): a bucket's home is the region of
the endpoint that created it, or its LocationConstraint (S3 name or
cloud:region); every endpoint answers the same home; a single-region bucket
keeps its writes at that home; an unknown constraint is
InvalidLocationConstraint.

usage: regions_location.py AK SK META_DIR NAME=URL=DIR ...
"""
import os

from regions_common import check, client, done, holders, names

A, B, C = names[:3]
s3n = {n: n.split(":", 1)[1] for n in names}
cl = {n: client(n, s3n[n]) for n in names}


def location(region, bucket):
    lc = cl[region].get_bucket_location(Bucket=bucket)["LocationConstraint"]
    return lc or "us-east-1"  # S3 answers us-east-1 as an empty constraint


def head_region(region, bucket):
    h = cl[region].head_bucket(Bucket=bucket)
    return h["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region")


cl[A].create_bucket(Bucket="loc-a")
cl[B].create_bucket(Bucket="loc-b")
cl[A].create_bucket(Bucket="loc-c",
                    CreateBucketConfiguration={"LocationConstraint": s3n[C]})
cl[C].create_bucket(Bucket="loc-full",
                    CreateBucketConfiguration={"LocationConstraint": B})
for bucket, home in [("loc-a", A), ("loc-b", B), ("loc-c", C),
                     ("loc-full", B)]:
    for at in names:
        check(f"location of {bucket} at {at}", location(at, bucket), s3n[home])
    check(f"head {bucket}: x-amz-bucket-region", head_region(C, bucket),
          s3n[home])
check("us-east-1 home is the empty constraint",
      cl[B].get_bucket_location(Bucket="loc-a")["LocationConstraint"], None)
try:
    cl[A].create_bucket(Bucket="loc-bad",
                        CreateBucketConfiguration={"LocationConstraint":
                                                   "mars-1"})
    check("unknown location constraint", "created", "InvalidLocationConstraint")
except cl[A].exceptions.ClientError as e:
    check("unknown location constraint", e.response["Error"]["Code"],
          "InvalidLocationConstraint")
try:
    cl[A].get_bucket_location(Bucket="loc-none")
    check("location of a missing bucket", "found", "NoSuchBucket")
except cl[A].exceptions.ClientError as e:
    check("location of a missing bucket", e.response["Error"]["Code"],
          "NoSuchBucket")

# sr-* buckets are single-region (config): the home keeps every write
cl[C].create_bucket(Bucket="sr-home")
d = os.urandom(70_000)
cl[A].put_object(Bucket="sr-home", Key="k", Body=d)
check("single-region write at A lands at the home C", holders(d), {C})
check("single-region bucket location is its home", location(A, "sr-home"),
      s3n[C])
done()
