"""What the multi-region e2e scripts share: argv parsing (AK SK META_DIR
NAME=URL=DIR ...), one boto3 client per region endpoint, checks, and looks
at the regions' directory backends and the SQLite metadata."""
import os
import sqlite3
import sys

import boto3
from botocore.config import Config

ak, sk, meta_dir = sys.argv[1], sys.argv[2], sys.argv[3]
regions = []
for spec in sys.argv[4:]:
    name, url, d = spec.split("=", 2)
    regions.append((name, url, d))
names = [n for n, _, _ in regions]
urls = {n: u for n, u, _ in regions}

cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})


def client(region, signing_region="us-east-1"):
    return boto3.client("s3", endpoint_url=urls[region],
                        aws_access_key_id=ak, aws_secret_access_key=sk,
                        region_name=signing_region, config=cfg)


clients = {n: client(n) for n in names}
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
        if not d or not os.path.isdir(os.path.join(d, "blobs")):
            continue
        for root, _, files in os.walk(os.path.join(d, "blobs")):
            for f in files:
                p = os.path.join(root, f)
                if os.path.getsize(p) == len(data):
                    with open(p, "rb") as fh:
                        if fh.read() == data:
                            out.add(n)
    return out


def sql(query, *args):
    db = sqlite3.connect(f"file:{meta_dir}/meta.db?mode=ro", uri=True)
    try:
        return db.execute(query, args).fetchall()
    finally:
        db.close()


def done():
    sys.exit(1 if fails else 0)
