"""Small objects (<= 64 KiB) live inline in their metadata row: checks.

  inline.py ENDPOINT AK SK DATA checks      round trip, ranges, overwrite
      small -> big -> small (the blob file comes and goes), copy, delete,
      list, conditionals, the 64 KiB edge, readers during small overwrites
  inline.py ENDPOINT AK SK DATA burst N     N concurrent 4 KiB PUTs (the
      group commit batches them); prints 'acked N' once all got 200
  inline.py ENDPOINT AK SK DATA verify N    every key of a burst reads back
  inline.py ENDPOINT AK SK DATA slow KEY    a slow presigned PUT of a 60000
      byte body, kept going until killed or the server dies
"""
import hashlib, http.client, os, sys, threading, time, urllib.parse
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ep, ak, sk, data, mode = sys.argv[1:6]
B = 'inline-bucket'


def client():
    return boto3.client('s3', endpoint_url=ep, aws_access_key_id=ak, aws_secret_access_key=sk,
                        region_name='us-east-1', config=Config(signature_version='s3v4'))


s3 = client()
fails = []


def check(name, ok):
    print(('ok   ' if ok else 'FAIL ') + name, flush=True)
    if not ok:
        fails.append(name)


def blobs():
    n = 0
    for _, _, files in os.walk(os.path.join(data, 'blobs')):
        n += len(files)
    return n


def body(i, size=4096):
    return (b'%08d' % i) * (size // 8)


def get(key, **kw):
    return s3.get_object(Bucket=B, Key=key, **kw)['Body'].read()


def status(fn):
    try:
        fn()
        return 200
    except ClientError as e:
        return int(e.response['ResponseMetadata']['HTTPStatusCode'])


if mode == 'checks':
    s3.create_bucket(Bucket=B)
    small = bytes(range(256)) * 16  # 4 KiB
    r = s3.put_object(Bucket=B, Key='in/small', Body=small, ContentType='text/x-small',
                      Metadata={'colour': 'blue'})
    check('etag is the md5', r['ETag'] == '"%s"' % hashlib.md5(small).hexdigest())
    check('no blob file for a small object', blobs() == 0)
    check('round trip', get('in/small') == small)
    h = s3.head_object(Bucket=B, Key='in/small')
    check('head size', h['ContentLength'] == 4096)
    check('head type and metadata', h['ContentType'] == 'text/x-small' and h['Metadata'] == {'colour': 'blue'})
    check('range a-b', get('in/small', Range='bytes=10-19') == small[10:20])
    check('range suffix', get('in/small', Range='bytes=-5') == small[-5:])
    check('range open end', get('in/small', Range='bytes=4090-') == small[4090:])
    check('range past the end is 416', status(lambda: get('in/small', Range='bytes=5000-')) == 416)
    check('if-none-match is 304', status(lambda: s3.get_object(Bucket=B, Key='in/small', IfNoneMatch=r['ETag'])) == 304)
    check('if-match other is 412', status(lambda: s3.get_object(Bucket=B, Key='in/small', IfMatch='"nope"')) == 412)

    # overwrite small -> big -> small: the blob file comes and goes
    big = os.urandom(300 << 10)
    s3.put_object(Bucket=B, Key='in/flip', Body=b'tiny')
    check('flip small', get('in/flip') == b'tiny' and blobs() == 0)
    s3.put_object(Bucket=B, Key='in/flip', Body=big)
    check('flip big (one blob file)', get('in/flip') == big and blobs() == 1)
    check('range of the big one', get('in/flip', Range='bytes=100-199') == big[100:200])
    s3.put_object(Bucket=B, Key='in/flip', Body=b'tiny again')
    check('flip small again (blob gone)', get('in/flip') == b'tiny again' and blobs() == 0)

    # the edge: 64 KiB is inline, one byte more is a file
    edge = os.urandom(64 << 10)
    s3.put_object(Bucket=B, Key='in/edge', Body=edge)
    check('64 KiB inline', get('in/edge') == edge and blobs() == 0)
    s3.put_object(Bucket=B, Key='in/edge1', Body=edge + b'x')
    check('64 KiB + 1 in a file', get('in/edge1') == edge + b'x' and blobs() == 1)
    s3.delete_object(Bucket=B, Key='in/edge1')
    check('delete removes the file', blobs() == 0)
    s3.put_object(Bucket=B, Key='in/empty', Body=b'')
    check('empty object', get('in/empty') == b'' and s3.head_object(Bucket=B, Key='in/empty')['ContentLength'] == 0)

    # copy of an inline object, metadata copied or replaced
    c = s3.copy_object(Bucket=B, Key='in/copy', CopySource={'Bucket': B, 'Key': 'in/small'})
    check('copy etag', c['CopyObjectResult']['ETag'] == r['ETag'])
    check('copy bytes', get('in/copy') == small)
    check('copy metadata', s3.head_object(Bucket=B, Key='in/copy')['Metadata'] == {'colour': 'blue'})
    s3.copy_object(Bucket=B, Key='in/copy2', CopySource={'Bucket': B, 'Key': 'in/small'},
                   MetadataDirective='REPLACE', Metadata={'colour': 'red'})
    check('copy replace metadata', s3.head_object(Bucket=B, Key='in/copy2')['Metadata'] == {'colour': 'red'})
    check('copy range of the source unchanged', get('in/copy2', Range='bytes=0-3') == small[:4])

    # list: sizes and etags from the rows
    ls = s3.list_objects_v2(Bucket=B, Prefix='in/')
    got = {o['Key']: (o['Size'], o['ETag']) for o in ls.get('Contents', [])}
    check('list keys', sorted(got) == ['in/copy', 'in/copy2', 'in/edge', 'in/empty', 'in/flip', 'in/small'])
    check('list size and etag', got.get('in/small') == (4096, r['ETag']) and got.get('in/flip')[0] == 10)
    ls = s3.list_objects_v2(Bucket=B, Prefix='in/', Delimiter='/', StartAfter='in/edge')
    check('list start-after', [o['Key'] for o in ls.get('Contents', [])] == ['in/empty', 'in/flip', 'in/small'])

    # delete
    for k in ('in/copy', 'in/copy2', 'in/small'):
        s3.delete_object(Bucket=B, Key=k)
    check('deleted is 404', status(lambda: s3.head_object(Bucket=B, Key='in/small')) == 404)
    d = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': 'in/edge'}, {'Key': 'in/empty'}]})
    check('delete objects', len(d.get('Deleted', [])) == 2)
    ls = s3.list_objects_v2(Bucket=B, Prefix='in/')
    check('list after deletes', [o['Key'] for o in ls.get('Contents', [])] == ['in/flip'])

    # readers of a small object being overwritten see old or new, never a mix
    A, Bb = b'a' * 4096, b'b' * 4096
    s3.put_object(Bucket=B, Key='in/mix', Body=A)
    stop = time.time() + 2
    bad, reads = [], [0]

    def reader():
        c = client()
        while time.time() < stop:
            d = c.get_object(Bucket=B, Key='in/mix')['Body'].read()
            reads[0] += 1
            if d != A and d != Bb:
                bad.append(len(d))
    ts = [threading.Thread(target=reader) for _ in range(3)]
    for t in ts:
        t.start()
    i = 0
    while time.time() < stop:
        s3.put_object(Bucket=B, Key='in/mix', Body=Bb if i % 2 == 0 else A)
        i += 1
    for t in ts:
        t.join()
    check('readers during small overwrites: %d reads, %d writes' % (reads[0], i),
          not bad and reads[0] > 0 and i > 1)
    sys.exit(1 if fails else 0)
elif mode == 'burst':
    n = int(sys.argv[6])
    if status(lambda: s3.head_bucket(Bucket=B)) == 404:
        s3.create_bucket(Bucket=B)
    errs, lock = [], threading.Lock()
    nxt = [0]

    def worker():
        c = client()
        while True:
            with lock:
                i = nxt[0]
                nxt[0] += 1
            if i >= n:
                return
            try:
                c.put_object(Bucket=B, Key='burst/%d' % i, Body=body(i))
            except Exception as e:  # noqa: BLE001 - report any failure
                errs.append(str(e))
    ts = [threading.Thread(target=worker) for _ in range(16)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        print('errors:', errs[:3])
        sys.exit(1)
    print('acked', n, flush=True)
elif mode == 'verify':
    n = int(sys.argv[6])
    bad = [i for i in range(n) if get('burst/%d' % i) != body(i)]
    print('verified', n - len(bad), 'of', n)
    sys.exit(1 if bad else 0)
elif mode == 'slow':
    key = sys.argv[6]
    url = urllib.parse.urlparse(s3.generate_presigned_url('put_object', Params={'Bucket': B, 'Key': key}, ExpiresIn=300))
    c = http.client.HTTPConnection(url.netloc, timeout=60)
    c.putrequest('PUT', url.path + '?' + url.query)
    c.putheader('Content-Length', '60000')
    c.endheaders()
    try:
        for sent in range(1000, 60000, 1000):
            c.send(b's' * 1000)
            print('sent', sent, flush=True)
            time.sleep(0.05)
        time.sleep(60)
    except OSError:
        pass
