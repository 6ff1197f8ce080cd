"""aws-chunked uploads against skyc store serve, built by hand (clients
only send them over TLS): signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)
and unsigned chunks with a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
Its own small SigV4 implementation, independent of the server's.

Usage: chunked.py ENDPOINT ACCESS_KEY SECRET_KEY
"""
import sys, hashlib, hmac, datetime, http.client, urllib.parse, zlib, base64

ep, ak, sk = sys.argv[1:4]
host = urllib.parse.urlparse(ep).netloc
fails = 0

def check(name, cond, detail=''):
    global fails
    print(('ok ' if cond else 'FAIL ') + name, '' if cond else detail)
    fails += 0 if cond else 1

def key(d8):
    k = ('AWS4' + sk).encode()
    for m in (d8, 'us-east-1', 's3', 'aws4_request'):
        k = hmac.new(k, m.encode(), hashlib.sha256).digest()
    return k

def send(method, path, headers, body=b''):
    c = http.client.HTTPConnection(host, timeout=20)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

def signed_headers(method, path, extra, payload):
    now = datetime.datetime.now(datetime.timezone.utc)
    d = now.strftime('%Y%m%dT%H%M%SZ')
    h = dict(extra)
    h.update({'host': host, 'x-amz-date': d, 'x-amz-content-sha256': payload})
    names = sorted(h)
    creq = '\n'.join([method, path, ''] + ['%s:%s' % (n, h[n]) for n in names] +
                     ['', ';'.join(names), payload])
    scope = '%s/us-east-1/s3/aws4_request' % d[:8]
    sts = '\n'.join(['AWS4-HMAC-SHA256', d, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = key(d[:8])
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    h['Authorization'] = ('AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s'
                          % (ak, scope, ';'.join(names), sig))
    return h, k, d, scope, sig

def plain(method, path, body=b''):
    h, *_ = signed_headers(method, path, {}, hashlib.sha256(body).hexdigest())
    return send(method, path, h, body)

plain('PUT', '/chunked-bkt')
data = bytes(range(256)) * 300  # 76800 bytes: chunks of 65536 and 11264
chunks = [data[:65536], data[65536:]]

def signed_body(tamper=False):
    path = '/chunked-bkt/signed'
    extra = {'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': str(len(data))}
    h, k, d, scope, prev = signed_headers('PUT', path, extra, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD')
    out = b''
    for c in chunks + [b'']:
        sts = '\n'.join(['AWS4-HMAC-SHA256-PAYLOAD', d, scope, prev,
                         hashlib.sha256(b'').hexdigest(), hashlib.sha256(c).hexdigest()])
        prev = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        if tamper and c:
            c = b'X' + c[1:]
        out += b'%x;chunk-signature=%s\r\n' % (len(c), prev.encode()) + c + b'\r\n'
    return path, h, out

path, h, body = signed_body()
st, rh, resp = send('PUT', path, h, body)
check('signed chunks accepted', st == 200, (st, resp))
st, rh, got = plain('GET', path)
check('signed chunks stored decoded', got == data and rh.get('etag') == '"%s"' % hashlib.md5(data).hexdigest())
path, h, body = signed_body(tamper=True)
st, rh, resp = send('PUT', '/chunked-bkt/signed', h, body)
check('tampered chunk refused', st == 403 and b'SignatureDoesNotMatch' in resp, (st, resp))
st, rh, got = plain('GET', '/chunked-bkt/signed')
check('old version kept after refused chunk', got == data)

def trailer_body(crc):
    out = b''
    for c in chunks:
        out += b'%x\r\n' % len(c) + c + b'\r\n'
    return out + b'0\r\nx-amz-checksum-crc32:' + crc.encode() + b'\r\n\r\n'

good = base64.b64encode(zlib.crc32(data).to_bytes(4, 'big')).decode()
extra = {'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': str(len(data)),
         'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'CRC32'}
h, *_ = signed_headers('PUT', '/chunked-bkt/trailer', extra, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
st, rh, resp = send('PUT', '/chunked-bkt/trailer', h, trailer_body(good))
check('crc32 trailer accepted', st == 200 and rh.get('x-amz-checksum-crc32') == good, (st, rh, resp))
st, rh, got = plain('GET', '/chunked-bkt/trailer')
check('trailer upload stored decoded', got == data)
h, *_ = signed_headers('PUT', '/chunked-bkt/bad', extra, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
st, rh, resp = send('PUT', '/chunked-bkt/bad', h, trailer_body('AAAAAA=='))
check('wrong crc32 trailer refused', st == 400 and b'BadDigest' in resp, (st, resp))
h, *_ = signed_headers('PUT', '/chunked-bkt/short', extra, 'STREAMING-UNSIGNED-PAYLOAD-TRAILER')
st, rh, resp = send('PUT', '/chunked-bkt/short', h, trailer_body(good)[:70000])
check('truncated aws-chunked body refused', st == 400 and b'IncompleteBody' in resp, (st, resp))
st, rh, resp = plain('GET', '/chunked-bkt/bad')
check('refused uploads not stored', st == 404, st)
print('%d failed' % fails)
sys.exit(1 if fails else 0)
