"""boto3 against skyc store serve: every check prints 'ok NAME' or raises.

Usage: boto3_checks.py ENDPOINT ACCESS_KEY SECRET_KEY
"""
import os, sys, time, hashlib, io, urllib.request, urllib.error, datetime
import boto3, botocore
from botocore.config import Config

ep, ak, sk = sys.argv[1:4]
def client(secret=sk, **cfg):
    return boto3.client('s3', endpoint_url=ep, aws_access_key_id=ak,
                        aws_secret_access_key=secret, region_name='us-east-1',
                        config=Config(signature_version='s3v4',
                                      retries={'max_attempts': 1}, **cfg))
s3 = client()
fails = 0
def check(name, cond, detail=''):
    global fails
    if cond:
        print('ok', name)
    else:
        fails += 1
        print('FAIL', name, detail)

def err(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response
    return None

B = 'boto-bucket-%d' % os.getpid()
s3.create_bucket(Bucket=B)
check('head bucket', s3.head_bucket(Bucket=B)['ResponseMetadata']['HTTPStatusCode'] == 200)
check('list buckets', B in [b['Name'] for b in s3.list_buckets()['Buckets']])

# put/get with metadata and content headers
s3.put_object(Bucket=B, Key='m/obj.txt', Body=b'0123456789', ContentType='text/x-test',
              CacheControl='max-age=60', Metadata={'Color': 'blue', 'n': '1'})
r = s3.get_object(Bucket=B, Key='m/obj.txt')
check('get body', r['Body'].read() == b'0123456789')
check('metadata', r['Metadata'] == {'color': 'blue', 'n': '1'}, r['Metadata'])
check('content type', r['ContentType'] == 'text/x-test', r['ContentType'])
check('cache control', r.get('CacheControl') == 'max-age=60')
check('etag md5', r['ETag'] == '"%s"' % hashlib.md5(b'0123456789').hexdigest())
etag = r['ETag']
rid = r['ResponseMetadata']['HTTPHeaders'].get('x-amz-request-id')
check('request id header', rid and len(rid) == 16)

# an empty object, and HEAD sizes of inline (small) and file-backed objects
s3.put_object(Bucket=B, Key='m/empty', Body=b'')
check('empty object', s3.get_object(Bucket=B, Key='m/empty')['Body'].read() == b'')
check('head inline size', s3.head_object(Bucket=B, Key='m/obj.txt')['ContentLength'] == 10)
s3.put_object(Bucket=B, Key='m/file-backed', Body=b'z' * (200 * 1024))
check('head file size', s3.head_object(Bucket=B, Key='m/file-backed')['ContentLength'] == 200 * 1024)
check('file-backed range', s3.get_object(Bucket=B, Key='m/file-backed', Range='bytes=204799-')['Body'].read() == b'z')

# ranges
check('range a-b', s3.get_object(Bucket=B, Key='m/obj.txt', Range='bytes=2-4')['Body'].read() == b'234')
check('range suffix', s3.get_object(Bucket=B, Key='m/obj.txt', Range='bytes=-3')['Body'].read() == b'789')
check('range open', s3.get_object(Bucket=B, Key='m/obj.txt', Range='bytes=7-')['Body'].read() == b'789')
e = err(s3.get_object, Bucket=B, Key='m/obj.txt', Range='bytes=50-60')
check('range unsatisfiable', e and e['Error']['Code'] == 'InvalidRange', e)

# conditionals
e = err(s3.get_object, Bucket=B, Key='m/obj.txt', IfNoneMatch=etag)
check('if-none-match 304', e and e['ResponseMetadata']['HTTPStatusCode'] == 304, e)
e = err(s3.get_object, Bucket=B, Key='m/obj.txt', IfMatch='"nope"')
check('if-match 412', e and e['Error']['Code'] == 'PreconditionFailed', e)
check('if-match ok', s3.get_object(Bucket=B, Key='m/obj.txt', IfMatch=etag)['Body'].read() == b'0123456789')
future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
e = err(s3.get_object, Bucket=B, Key='m/obj.txt', IfModifiedSince=future)
check('if-modified-since 304', e and e['ResponseMetadata']['HTTPStatusCode'] == 304, e)
e = err(s3.get_object, Bucket=B, Key='m/obj.txt', IfUnmodifiedSince=past)
check('if-unmodified-since 412', e and e['Error']['Code'] == 'PreconditionFailed', e)
def add_inm(request, **kw):
    request.headers['If-None-Match'] = '*'
s3.meta.events.register('before-sign.s3.PutObject', add_inm)
e = err(s3.put_object, Bucket=B, Key='m/obj.txt', Body=b'x')
check('put if-none-match * 412', e and e['Error']['Code'] == 'PreconditionFailed', e)
s3.put_object(Bucket=B, Key='m/new-inm', Body=b'x')
s3.meta.events.unregister('before-sign.s3.PutObject', add_inm)
check('put if-none-match * new key', s3.get_object(Bucket=B, Key='m/new-inm')['Body'].read() == b'x')

# errors carry the request id of the header
e = err(s3.get_object, Bucket=B, Key='missing')
check('NoSuchKey', e and e['Error']['Code'] == 'NoSuchKey', e)
check('RequestId matches header', e and e['ResponseMetadata']['RequestId'] ==
      e['ResponseMetadata']['HTTPHeaders']['x-amz-request-id'], e and e['ResponseMetadata'])
e = err(s3.get_object, Bucket='no-such-bucket', Key='k')
check('NoSuchBucket', e and e['Error']['Code'] == 'NoSuchBucket', e)
e = err(client(secret='wrong').get_object, Bucket=B, Key='m/obj.txt')
check('SignatureDoesNotMatch', e and e['Error']['Code'] == 'SignatureDoesNotMatch', e)
e = err(boto3.client('s3', endpoint_url=ep, aws_access_key_id='nobody', aws_secret_access_key='x',
                     region_name='us-east-1').list_buckets)
check('InvalidAccessKeyId', e and e['Error']['Code'] == 'InvalidAccessKeyId', e)

# checksums: explicit algorithms are verified and echoed
for algo in ('CRC32', 'CRC32C', 'SHA1', 'SHA256'):
    try:
        r = s3.put_object(Bucket=B, Key='ck/' + algo, Body=b'checksum me' * 1000, ChecksumAlgorithm=algo)
    except botocore.exceptions.MissingDependencyException:
        print('skip checksum', algo, '(this botocore needs awscrt for it)')
        continue
    check('checksum ' + algo, r.get('Checksum' + algo), r)
    g = s3.get_object(Bucket=B, Key='ck/' + algo, ChecksumMode='ENABLED')
    check('checksum get ' + algo, g['Body'].read() == b'checksum me' * 1000 and
          g.get('Checksum' + algo) == r.get('Checksum' + algo), g.get('Checksum' + algo))
e = err(s3.put_object, Bucket=B, Key='ck/bad', Body=b'abc', ChecksumCRC32='AAAAAA==')
check('bad checksum BadDigest', e and e['Error']['Code'] in ('BadDigest', 'InvalidRequest'), e)
check('bad checksum not stored', err(s3.head_object, Bucket=B, Key='ck/bad') is not None)
e = err(s3.put_object, Bucket=B, Key='md5/bad', Body=b'abc', ContentMD5='1B2M2Y8AsgTpgAmY7PhCfg==')
check('bad Content-MD5', e and e['Error']['Code'] == 'BadDigest', e)

# listings: v2 pagination with delimiter, v1 markers, url encoding, versions
for k in ['l/a', 'l/b', 'l/c/1', 'l/c/2', 'l/d', 'l/e e', 'l/f+f']:
    s3.put_object(Bucket=B, Key=k, Body=k.encode())
seen, prefixes, token, pages = [], [], None, 0
while True:
    kw = dict(Bucket=B, Prefix='l/', Delimiter='/', MaxKeys=2)
    if token:
        kw['ContinuationToken'] = token
    r = s3.list_objects_v2(**kw)
    pages += 1
    seen += [o['Key'] for o in r.get('Contents', [])]
    prefixes += [p['Prefix'] for p in r.get('CommonPrefixes', [])]
    if not r['IsTruncated']:
        break
    token = r['NextContinuationToken']
check('v2 paged keys', seen == ['l/a', 'l/b', 'l/d', 'l/e e', 'l/f+f'], seen)
check('v2 paged prefixes', prefixes == ['l/c/'], prefixes)
check('v2 pages', pages == 3, pages)
r = s3.list_objects_v2(Bucket=B, Prefix='l/', StartAfter='l/c/1')
check('start-after', [o['Key'] for o in r['Contents']] == ['l/c/2', 'l/d', 'l/e e', 'l/f+f'])
r = s3.list_objects(Bucket=B, Prefix='l/', MaxKeys=3)
check('v1 truncated', r['IsTruncated'] and [o['Key'] for o in r['Contents']] == ['l/a', 'l/b', 'l/c/1'])
r = s3.list_objects(Bucket=B, Prefix='l/', Marker='l/c/1')
check('v1 marker', [o['Key'] for o in r['Contents']] == ['l/c/2', 'l/d', 'l/e e', 'l/f+f'])
r = s3.list_objects(Bucket=B, Prefix='l/', Delimiter='/', MaxKeys=3)
check('v1 next marker', r['IsTruncated'] and r.get('NextMarker') == 'l/c/', r.get('NextMarker'))
r = s3.list_objects(Bucket=B, Prefix='l/', Delimiter='/', Marker='l/c/')
check('v1 marker past prefix', [o['Key'] for o in r['Contents']] == ['l/d', 'l/e e', 'l/f+f'] and 'CommonPrefixes' not in r, r.get('CommonPrefixes'))
r = s3.list_objects_v2(Bucket=B, Prefix='l/e', EncodingType='url')
# botocore leaves keys encoded when the caller asked for the encoding itself
check('encoding-type url', [o['Key'] for o in r['Contents']] == ['l/e%20e'], r['Contents'])
r = s3.list_object_versions(Bucket=B, Prefix='l/')
check('versions null', len(r['Versions']) == 7 and all(v['VersionId'] == 'null' and v['IsLatest'] for v in r['Versions']))
check('versioning', 'Status' not in s3.get_bucket_versioning(Bucket=B))
check('location', s3.get_bucket_location(Bucket=B)['LocationConstraint'] in (None, ''))

# copy: COPY keeps metadata, REPLACE replaces it
s3.copy_object(Bucket=B, Key='m/copy.txt', CopySource={'Bucket': B, 'Key': 'm/obj.txt'})
h = s3.head_object(Bucket=B, Key='m/copy.txt')
check('copy keeps meta', h['Metadata'] == {'color': 'blue', 'n': '1'} and h['ETag'] == etag, h['Metadata'])
s3.copy_object(Bucket=B, Key='m/copy.txt', CopySource={'Bucket': B, 'Key': 'm/obj.txt'},
               MetadataDirective='REPLACE', Metadata={'x': 'y'}, ContentType='text/plain')
h = s3.head_object(Bucket=B, Key='m/copy.txt')
check('copy replace meta', h['Metadata'] == {'x': 'y'} and h['ContentType'] == 'text/plain', h)
e = err(s3.copy_object, Bucket=B, Key='m/obj.txt', CopySource={'Bucket': B, 'Key': 'm/obj.txt'})
check('copy onto itself', e and e['Error']['Code'] == 'InvalidRequest', e)
e = err(s3.copy_object, Bucket=B, Key='m/c2', CopySource={'Bucket': B, 'Key': 'm/obj.txt'}, CopySourceIfMatch='"zz"')
check('copy condition', e and e['Error']['Code'] == 'PreconditionFailed', e)

# multipart: create, parts, list, part copy, complete (order checks), abort, list uploads
MB = 1024 * 1024
p1, p3, p4 = b'a' * (5 * MB), b'b' * MB, b'c' * 10
src = bytes(range(256)) * (5 * 4096)
s3.put_object(Bucket=B, Key='mp/src', Body=src)
u = s3.create_multipart_upload(Bucket=B, Key='mp/obj', ContentType='application/x-mp', Metadata={'k': 'v'})
uid = u['UploadId']
e1 = s3.upload_part(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=1, Body=p1)['ETag']
e2 = s3.upload_part_copy(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=2,
                         CopySource={'Bucket': B, 'Key': 'mp/src'},
                         CopySourceRange='bytes=0-%d' % (len(src) - 1))['CopyPartResult']['ETag']
e3 = s3.upload_part(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=3, Body=p3)['ETag']
e4 = s3.upload_part(Bucket=B, Key='mp/obj', UploadId=uid, PartNumber=4, Body=p4)['ETag']
check('part copy etag', e2 == '"%s"' % hashlib.md5(src).hexdigest(), e2)
parts = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid)['Parts']
check('list parts', [p['PartNumber'] for p in parts] == [1, 2, 3, 4] and parts[3]['Size'] == 10, parts)
r = s3.list_parts(Bucket=B, Key='mp/obj', UploadId=uid, MaxParts=2)
check('list parts paged', r['IsTruncated'] and r['NextPartNumberMarker'] == 2, r.get('NextPartNumberMarker'))
ups = s3.list_multipart_uploads(Bucket=B)['Uploads']
check('list uploads', [x['UploadId'] for x in ups] == [uid], ups)
e = err(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 3, 'ETag': e3}, {'PartNumber': 1, 'ETag': e1}]})
check('InvalidPartOrder', e and e['Error']['Code'] == 'InvalidPartOrder', e)
e = err(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': '"00"'}]})
check('InvalidPart', e and e['Error']['Code'] == 'InvalidPart', e)
e = err(s3.complete_multipart_upload, Bucket=B, Key='mp/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 3, 'ETag': e3}, {'PartNumber': 4, 'ETag': e4}]})
check('EntityTooSmall', e and e['Error']['Code'] == 'EntityTooSmall', e)
r = s3.complete_multipart_upload(Bucket=B, Key='mp/obj', UploadId=uid,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 2, 'ETag': e2}, {'PartNumber': 4, 'ETag': e4}]})
want = hashlib.md5(b''.join(bytes.fromhex(x.strip('"')) for x in (e1, e2, e4))).hexdigest() + '-3'
check('multipart etag', r['ETag'] == '"%s"' % want, r['ETag'])
g = s3.get_object(Bucket=B, Key='mp/obj')
check('multipart body', g['Body'].read() == p1 + src + p4)
check('multipart meta', g['Metadata'] == {'k': 'v'} and g['ContentType'] == 'application/x-mp')
e = err(s3.list_parts, Bucket=B, Key='mp/obj', UploadId=uid)
check('completed upload gone', e and e['Error']['Code'] == 'NoSuchUpload', e)
u2 = s3.create_multipart_upload(Bucket=B, Key='mp/aborted')['UploadId']
s3.upload_part(Bucket=B, Key='mp/aborted', UploadId=u2, PartNumber=1, Body=b'zzz')
s3.abort_multipart_upload(Bucket=B, Key='mp/aborted', UploadId=u2)
check('abort', s3.list_multipart_uploads(Bucket=B).get('Uploads', []) == [])
check('aborted not visible', err(s3.head_object, Bucket=B, Key='mp/aborted') is not None)

# the managed transfer (multipart via upload_fileobj) and download
data = bytes(range(256)) * (40 * 4096)  # 40 MiB
s3.upload_fileobj(io.BytesIO(data), B, 'mp/managed',
                  Config=boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MB, multipart_chunksize=8 * MB))
out = io.BytesIO()
s3.download_fileobj(B, 'mp/managed', out)
check('managed transfer round trip', out.getvalue() == data)

# presigned v4 GET, expiry enforced, presigned PUT
url = s3.generate_presigned_url('get_object', Params={'Bucket': B, 'Key': 'l/e e'}, ExpiresIn=60)
check('presigned get', urllib.request.urlopen(url).read() == b'l/e e')
url = s3.generate_presigned_url('get_object', Params={'Bucket': B, 'Key': 'l/a'}, ExpiresIn=1)
time.sleep(2.1)
try:
    urllib.request.urlopen(url)
    check('presigned expiry', False)
except urllib.error.HTTPError as x:
    body = x.read().decode()
    check('presigned expiry', x.code == 403 and 'AccessDenied' in body and 'expired' in body, body)
url = s3.generate_presigned_url('put_object', Params={'Bucket': B, 'Key': 'pre/put'}, ExpiresIn=60)
req = urllib.request.Request(url, data=b'via presigned put', method='PUT')
urllib.request.urlopen(req).read()
check('presigned put', s3.get_object(Bucket=B, Key='pre/put')['Body'].read() == b'via presigned put')

# DeleteObjects (quiet and verbose), then delete the rest
r = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': 'l/a'}, {'Key': 'l/b'}, {'Key': 'never'}]})
check('delete objects', sorted(d['Key'] for d in r['Deleted']) == ['l/a', 'l/b', 'never'], r)
r = s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': 'l/d'}], 'Quiet': True})
check('delete quiet', 'Deleted' not in r and 'Errors' not in r, r)
check('deleted', err(s3.head_object, Bucket=B, Key='l/a') is not None)
keys = [o['Key'] for o in s3.list_objects_v2(Bucket=B)['Contents']]
s3.delete_objects(Bucket=B, Delete={'Objects': [{'Key': k} for k in keys]})
s3.delete_bucket(Bucket=B)
e = err(s3.head_bucket, Bucket=B)
check('bucket deleted', e and e['ResponseMetadata']['HTTPStatusCode'] == 404, e)
print('%d failed' % fails)
sys.exit(1 if fails else 0)
