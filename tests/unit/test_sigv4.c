/*
 * Unit tests of s3/sigv4: every case of AWS's SigV4 test suite, read in place
 * from $SKYC_SHARED_DATA/sigv4-test-suite (canonical request, string to sign
 * and Authorization header each compared exactly), plus AWS's S3 worked
 * examples (header auth with Range, presigned URL, aws-chunked seed and
 * chunk signatures) and the claim parsers.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/sigv4.h"

#include <dirent.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <cmocka.h>

static const struct sigv4_credentials suite_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1",
    "service"};

static char *read_text(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path) < 0) {
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_detach(&sb, NULL);
}

/* A parsed .req file. */
struct req {
    char *method, *path, *query;
    struct sigv4_header h[32];
    size_t nh;
    char *store[64];
    size_t nstore;
    char hash[65];
};

static char *keep(struct req *r, const char *s, size_t n)
{
    char *p = xstrndup(s, n);
    assert_true(r->nstore < ARRAY_SIZE(r->store));
    r->store[r->nstore++] = p;
    return p;
}

static void req_release(struct req *r)
{
    for (size_t i = 0; i < r->nstore; i++)
        free(r->store[i]);
}

static void parse_req(const char *text, struct req *r)
{
    memset(r, 0, sizeof(*r));
    const char *eol = strchr(text, '\n');
    size_t l0 = eol ? (size_t)(eol - text) : strlen(text);
    const char *sp = memchr(text, ' ', l0);
    assert_non_null(sp);
    r->method = keep(r, text, (size_t)(sp - text));
    /* the target may contain spaces: it ends at the last " HTTP/" */
    const char *ver = NULL;
    for (const char *p = sp; p < text + l0; p++)
        if (strncmp(p, " HTTP/", 6) == 0)
            ver = p;
    assert_non_null(ver);
    const char *target = sp + 1;
    const char *q = memchr(target, '?', (size_t)(ver - target));
    struct strbuf dec = STRBUF_INIT;
    sigv4_uri_decode(&dec, target, (size_t)((q ? q : ver) - target));
    r->path = keep(r, dec.buf, dec.len);
    strbuf_release(&dec);
    if (q)
        r->query = keep(r, q + 1, (size_t)(ver - q - 1));
    const char *p = eol ? eol + 1 : text + l0;
    const char *body = "";
    while (*p) {
        eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n == 0) {
            body = eol + 1;
            break;
        }
        if (*p == ' ' || *p == '\t') {
            /* folded line: another value of the previous header */
            assert_true(r->nh > 0);
            r->h[r->nh].name = r->h[r->nh - 1].name;
            r->h[r->nh].value = keep(r, p, n);
        } else {
            const char *colon = memchr(p, ':', n);
            assert_non_null(colon);
            r->h[r->nh].name = keep(r, p, (size_t)(colon - p));
            r->h[r->nh].value = keep(r, colon + 1, n - (size_t)(colon - p) - 1);
        }
        r->nh++;
        assert_true(r->nh < ARRAY_SIZE(r->h));
        if (!eol)
            break;
        p = eol + 1;
    }
    sigv4_sha256_hex(body, strlen(body), r->hash);
}

static int run_case(const char *dir, const char *name)
{
    char path[4096];
    struct req r;
    snprintf(path, sizeof(path), "%s/%s.req", dir, name);
    char *req = read_text(path);
    if (!req)
        return 0;
    snprintf(path, sizeof(path), "%s/%s.creq", dir, name);
    char *creq = read_text(path);
    snprintf(path, sizeof(path), "%s/%s.sts", dir, name);
    char *sts = read_text(path);
    snprintf(path, sizeof(path), "%s/%s.authz", dir, name);
    char *authz = read_text(path);
    assert_non_null(creq);
    assert_non_null(sts);
    assert_non_null(authz);

    parse_req(req, &r);
    struct sigv4_request sr = {
        .method = r.method,
        .path = r.path,
        .query = r.query,
        .headers = r.h,
        .nheaders = r.nh,
        .payload_hash = r.hash,
        .normalize_path = true,
    };
    struct strbuf c = STRBUF_INIT, s = STRBUF_INIT, a = STRBUF_INIT;
    char sig[65];
    sigv4_signature(&suite_creds, &sr, NULL, "20150830T123600Z", sig, &c, &s);
    sigv4_authorization(&suite_creds, &sr, "20150830T123600Z", &a);
    if (strcmp(c.buf, creq) || strcmp(s.buf, sts) || strcmp(a.buf, authz))
        print_error("case %s\n--- creq got:\n%s\n--- want:\n%s\n--- authz "
                    "got:\n%s\n--- want:\n%s\n",
                    name, c.buf, creq, a.buf, authz);
    assert_string_equal(c.buf, creq);
    assert_string_equal(s.buf, sts);
    assert_string_equal(a.buf, authz);

    /* and the verifier's side: parse the claim, recompute, compare */
    struct sigv4_claim claim;
    assert_true(sigv4_parse_authorization(authz, &claim));
    assert_string_equal(claim.access_key, "AKIDEXAMPLE");
    assert_string_equal(claim.region, "us-east-1");
    char again[65];
    sigv4_signature(&suite_creds, &sr, claim.signed_headers,
                    "20150830T123600Z", again, NULL, NULL);
    assert_true(sigv4_equal(again, claim.signature));

    strbuf_release(&c);
    strbuf_release(&s);
    strbuf_release(&a);
    req_release(&r);
    free(req);
    free(creq);
    free(sts);
    free(authz);
    return 1;
}

/* Walk the suite: every directory holding NAME/NAME.req is a case. */
static int walk(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char sub[4096];
    while ((e = readdir(d))) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
            n += run_case(sub, e->d_name);
            n += walk(sub);
        }
    }
    closedir(d);
    return n;
}

static void test_suite(void **state)
{
    (void)state;
    const char *data = getenv("SKYC_SHARED_DATA");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/sigv4-test-suite",
             data ? data : "../shared/data");
    struct stat st;
    if (stat(dir, &st) != 0) {
        print_error("shared data '%s' not found (set SKYC_SHARED_DATA)\n",
                    dir);
        fail();
    }
    int n = walk(dir);
    /* 31 cases; normalize-path holds 7 and post-sts-token 2 */
    assert_int_equal(n, 31);
}

/* AWS S3 API reference, "Signature calculations for the Authorization
 * header": GET Object with a Range header. */
static const struct sigv4_credentials s3_creds = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "us-east-1", "s3"};

static void test_s3_get_range(void **state)
{
    (void)state;
    struct sigv4_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
        {"x-amz-date", "20130524T000000Z"},
    };
    struct sigv4_request r = {"GET", "/test.txt", NULL, h, 4,
                              SIGV4_EMPTY_SHA256, false, NULL, false};
    struct strbuf a = STRBUF_INIT;
    sigv4_authorization(&s3_creds, &r, "20130524T000000Z", &a);
    assert_string_equal(
        a.buf, "AWS4-HMAC-SHA256 "
               "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
               "aws4_request, "
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
               "Signature="
               "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb4"
               "1");
    strbuf_release(&a);
}

/* "Authenticating Requests: Using Query Parameters": presigned GET. */
static void test_s3_presign(void **state)
{
    (void)state;
    struct strbuf q = STRBUF_INIT;
    sigv4_presign_query(&s3_creds, "GET", "/test.txt",
                        "examplebucket.s3.amazonaws.com", "20130524T000000Z",
                        86400, &q);
    assert_string_equal(
        q.buf,
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
        "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000"
        "Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
        "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");

    /* the verifier's side */
    struct sigv4_claim c;
    bool malformed = true;
    assert_true(sigv4_parse_presigned(q.buf, &c, &malformed));
    assert_false(malformed);
    assert_int_equal(c.expires, 86400);
    assert_string_equal(c.amz_date, "20130524T000000Z");
    assert_string_equal(c.signed_headers, "host");
    struct sigv4_header h = {"host", "examplebucket.s3.amazonaws.com"};
    struct sigv4_request r = {"GET", "/test.txt", q.buf, &h, 1,
                              SIGV4_UNSIGNED, false, "X-Amz-Signature", false};
    char sig[65];
    sigv4_signature(&s3_creds, &r, c.signed_headers, c.amz_date, sig, NULL,
                    NULL);
    assert_true(sigv4_equal(sig, c.signature));
    sig[0] = sig[0] == '0' ? '1' : '0';
    assert_false(sigv4_equal(sig, c.signature));
    strbuf_release(&q);

    assert_false(sigv4_parse_presigned("a=b&c", &c, &malformed));
    assert_false(malformed); /* not presigned at all */
    assert_false(sigv4_parse_presigned(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=2013", &c, &malformed));
    assert_true(malformed);
}

/* "Signature calculations ... Transferring payload in multiple chunks":
 * the seed signature and the first chunk (65536 bytes of 'a'). */
static void test_s3_chunked(void **state)
{
    (void)state;
    struct sigv4_header h[] = {
        {"Host", "s3.amazonaws.com"},
        {"x-amz-date", "20130524T000000Z"},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
        {"Content-Encoding", "aws-chunked"},
        {"x-amz-decoded-content-length", "66560"},
        {"Content-Length", "66824"},
    };
    struct sigv4_request r = {"PUT", "/examplebucket/chunkObject.txt",
                              NULL, h, ARRAY_SIZE(h),
                              "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", false, NULL,
                              false};
    char seed[65], sig[65], hash[65];
    sigv4_signature(&s3_creds, &r, NULL, "20130524T000000Z", seed, NULL, NULL);
    assert_string_equal(
        seed, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
    uint8_t key[32];
    sigv4_signing_key(s3_creds.secret_key, "20130524", "us-east-1", "s3", key);
    char *chunk = xmalloc(65536);
    memset(chunk, 'a', 65536);
    sigv4_sha256_hex(chunk, 65536, hash);
    sigv4_chunk_signature(key, "20130524T000000Z",
                          "20130524/us-east-1/s3/aws4_request", seed, hash,
                          sig);
    assert_string_equal(
        sig, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
    free(chunk);
}

static void test_claims(void **state)
{
    (void)state;
    struct sigv4_claim c;
    static const char *const bad[] = {
        "",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AK/2015083/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=" SIGV4_EMPTY_SHA256,
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws5_request, "
        "SignedHeaders=host, Signature=" SIGV4_EMPTY_SHA256,
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Bogus=1, Signature=" SIGV4_EMPTY_SHA256,
        "AWS AK:sig",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_false(sigv4_parse_authorization(bad[i], &c));
    assert_true(sigv4_parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;x-amz-date,Signature=" SIGV4_EMPTY_SHA256,
        &c));
    assert_string_equal(c.signed_headers, "host;x-amz-date");
    assert_string_equal(c.date8, "20150830");
    struct strbuf s = STRBUF_INIT;
    sigv4_claim_scope(&c, &s);
    assert_string_equal(s.buf, "20150830/us-east-1/s3/aws4_request");
    strbuf_release(&s);

    time_t t;
    char buf[17];
    assert_true(sigv4_parse_amz_date("20150830T123600Z", &t));
    sigv4_format_amz_date(t, buf);
    assert_string_equal(buf, "20150830T123600Z");
    assert_false(sigv4_parse_amz_date("20151330T123600Z", &t));
    assert_false(sigv4_parse_amz_date("20150830 123600Z", &t));

    /* S3 keeps the path as is */
    struct strbuf e = STRBUF_INIT;
    sigv4_uri_encode(&e, "a b//c~+", 8, true);
    assert_string_equal(e.buf, "a%20b//c~%2B");
    strbuf_reset(&e);
    sigv4_uri_decode(&e, "%41%zz%4", 8);
    assert_string_equal(e.buf, "A%zz%4");
    strbuf_release(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite),       cmocka_unit_test(test_s3_get_range),
        cmocka_unit_test(test_s3_presign),  cmocka_unit_test(test_s3_chunked),
        cmocka_unit_test(test_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
