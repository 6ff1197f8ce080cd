"""Durability checks for skyc store serve.

  durability.py ENDPOINT AK SK slow-put KEY SIZE   start a slow presigned PUT
      (rate-limited) and keep it going until killed or the server dies
  durability.py ENDPOINT AK SK mix KEY SECONDS      overwrite KEY with all-'a'
      or all-'b' bodies while readers check every GET is one or the other
"""
import sys, time, threading, http.client, urllib.parse
import boto3
from botocore.config import Config

ep, ak, sk, mode = sys.argv[1:5]
s3 = boto3.client('s3', endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,
                  region_name='us-east-1', config=Config(signature_version='s3v4'))
B = 'dur-bucket'
if mode == 'slow-put':
    key, size = sys.argv[5], int(sys.argv[6])
    url = urllib.parse.urlparse(s3.generate_presigned_url('put_object', Params={'Bucket': B, 'Key': key}, ExpiresIn=300))
    c = http.client.HTTPConnection(url.netloc, timeout=60)
    c.putrequest('PUT', url.path + '?' + url.query)
    c.putheader('Content-Length', str(size))
    c.endheaders()
    sent = 0
    try:
        while sent < size:
            c.send(b'p' * 65536)
            sent += 65536
            print('sent', sent, flush=True)
            time.sleep(0.05)
    except OSError:
        pass
elif mode == 'mix':
    key, secs = sys.argv[5], float(sys.argv[6])
    A, Bb = b'a' * (1 << 20), b'b' * (1 << 20)
    s3.put_object(Bucket=B, Key=key, Body=A)
    stop = time.time() + secs
    bad, reads, writes = [], [0], [0]
    def reader():
        c = boto3.client('s3', endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,
                         region_name='us-east-1', config=Config(signature_version='s3v4'))
        while time.time() < stop:
            d = c.get_object(Bucket=B, Key=key)['Body'].read()
            reads[0] += 1
            if d != A and d != Bb:
                bad.append(len(d))
    ts = [threading.Thread(target=reader) for _ in range(3)]
    for t in ts:
        t.start()
    i = 0
    while time.time() < stop:
        s3.put_object(Bucket=B, Key=key, Body=Bb if i % 2 == 0 else A)
        i += 1
        writes[0] += 1
    for t in ts:
        t.join()
    print('reads', reads[0], 'writes', writes[0], 'mixed', len(bad))
    sys.exit(1 if bad or not reads[0] or writes[0] < 2 else 0)
