"""Declarative S3 protocol cases for skyc store serve (after curl's
tests/data): each case is a request in, an exact response out.

Usage: cases.py ENDPOINT ACCESS_KEY SECRET_KEY CASE_FILE...

A case file holds cases separated by lines '=== NAME'. Each case:
  sign: v4 | none | bad-secret | unknown-key | skewed | presign-expired | v4-then-change-body
  request:
  METHOD /path?query
  Header: value            (any number)
  <blank line>
  body...                  (optional, up to 'response:')
  response:
  status: NNN
  header: Name: value      (must be present with exactly this value)
  body:
  exact body; {id} stands for the response's x-amz-request-id
Requests are signed by botocore (an independent SigV4 implementation).
The fixture bucket 'cases' holds 'hello.txt' = 'hello' and is created here.
"""
import sys, time, http.client, urllib.parse, datetime
import botocore.auth, botocore.credentials, botocore.awsrequest

ep, ak, sk = sys.argv[1:4]
host = urllib.parse.urlparse(ep).netloc

def parse(path):
    cases, cur, mode = [], None, None
    for line in open(path, encoding='utf-8').read().split('\n'):
        if line.startswith('=== '):
            cur = {'name': line[4:].strip(), 'sign': 'v4', 'req': [], 'body': [],
                   'status': None, 'headers': [], 'rbody': [], 'file': path}
            cases.append(cur)
            mode = None
            continue
        if cur is None or (mode is None and (line.startswith('#') or not line.strip())):
            continue
        if mode is None and line.startswith('sign:'):
            cur['sign'] = line.split(':', 1)[1].strip()
        elif line == 'request:':
            mode = 'req'
        elif line == 'response:':
            mode = 'resp'
        elif mode == 'req':
            if not line and cur['req'] and 'blank' not in cur:
                cur['blank'] = True
            elif 'blank' in cur:
                cur['body'].append(line)
            else:
                cur['req'].append(line)
        elif mode == 'resp':
            if line.startswith('status:'):
                cur['status'] = int(line.split(':', 1)[1])
            elif line.startswith('header:'):
                n, v = line.split(':', 1)[1].strip().split(':', 1)
                cur['headers'].append((n.strip(), v.strip()))
            elif line == 'body:':
                mode = 'rbody'
        elif mode == 'rbody':
            cur['rbody'].append(line)
    return cases

def send(method, target, headers, body):
    c = http.client.HTTPConnection(host, timeout=20)
    c.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
    for n, v in headers:
        c.putheader(n, v)
    c.endheaders(body if body else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheaders(), data

def signed(case, method, target, headers, body):
    secret = 'not-the-secret' if case['sign'] == 'bad-secret' else sk
    key = 'AKNOBODY' if case['sign'] == 'unknown-key' else ak
    creds = botocore.credentials.Credentials(key, secret)
    req = botocore.awsrequest.AWSRequest(method=method, url=ep + target, data=body,
                                         headers=dict(headers))
    if case['sign'] == 'presign-expired':
        auth = botocore.auth.S3SigV4QueryAuth(creds, 's3', 'us-east-1', expires=1)
        auth.add_auth(req)
        time.sleep(2.2)
        p = req.prepare()
        return p.url[len(ep):], [(n, v) for n, v in headers], body
    auth = botocore.auth.S3SigV4Auth(creds, 's3', 'us-east-1')
    if case['sign'] == 'skewed':
        import unittest.mock
        old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
        with unittest.mock.patch('botocore.auth.datetime') as dt:
            dt.datetime.utcnow.return_value = old
            dt.datetime.strptime = datetime.datetime.strptime
            auth.add_auth(req)
    else:
        auth.add_auth(req)
    p = req.prepare()
    out = [(n, v) for n, v in p.headers.items()]
    if case['sign'] == 'v4-then-change-body':
        body = body[:-1] + (b'?' if body[-1:] == b'!' else b'!')
    return target, out, body

def run(case):
    first = case['req'][0].split(' ', 1)
    method, target = first[0], first[1]
    headers = [('Host', host)]
    for h in case['req'][1:]:
        n, v = h.split(':', 1)
        if n.strip().lower() == 'host':  # virtual-host cases name their own
            headers = [x for x in headers if x[0].lower() != 'host']
        headers.append((n.strip(), v.strip()))
    body = '\n'.join(case['body']).rstrip('\n').encode() if case['body'] else b''
    if body and not any(n.lower() == 'content-length' for n, _ in headers):
        headers.append(('Content-Length', str(len(body))))
    if case['sign'] != 'none':
        target, headers, body = signed(case, method, target, headers, body)
    return send(method, target, headers, body)

def fixture():
    for c in ("=== fixture\nrequest:\nPUT /cases\n\nresponse:\nstatus: 200\n",
              "=== fixture\nrequest:\nPUT /cases/hello.txt\n\nhello\nresponse:\nstatus: 200\n",
              "=== fixture\nrequest:\nPUT /cases/dir/inner\n\nx\nresponse:\nstatus: 200\n"):
        tmp = parse_text(c)[0]
        st, _, data = run(tmp)
        if st != 200:
            sys.exit('fixture failed: %s %s' % (st, data))

def parse_text(text):
    import tempfile, os
    fd, p = tempfile.mkstemp()
    os.write(fd, text.encode())
    os.close(fd)
    try:
        return parse(p)
    finally:
        os.unlink(p)

fixture()
fails = n = 0
for f in sys.argv[4:]:
    for case in parse(f):
        n += 1
        st, hdrs, data = run(case)
        hd = {k.lower(): v for k, v in hdrs}
        rid = hd.get('x-amz-request-id', '')
        problems = []
        if st != case['status']:
            problems.append('status %s, want %s' % (st, case['status']))
        for name, val in case['headers']:
            if hd.get(name.lower()) != val.replace('{id}', rid):
                problems.append('header %s: %r, want %r' % (name, hd.get(name.lower()), val))
        if case['rbody']:
            want = '\n'.join(case['rbody']).rstrip('\n').replace('{id}', rid)
            if data.decode('utf-8', 'replace') != want:
                problems.append('body:\n  got:  %s\n  want: %s' % (data.decode('utf-8', 'replace'), want))
        if problems:
            fails += 1
            print('FAIL %s: %s\n  %s' % (f.split('/')[-1], case['name'], '\n  '.join(problems)))
        else:
            print('ok', case['name'])
print('%d cases, %d failed' % (n, fails))
sys.exit(1 if fails or not n else 0)
