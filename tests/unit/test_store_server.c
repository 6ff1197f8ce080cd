/*
 * Unit tests of the storage plane's pieces below the HTTP server: the S3 XML
 * body parsers, the checksum algorithms (published check values), S3 error
 * bodies, the blob backend (commit/abort/crash leftovers) and the SQLite
 * metadata (buckets, replace returns the old blob, ordered prefix listing,
 * multipart finish in one transaction).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/checksum.h"
#include "s3/s3err.h"
#include "s3/xmlbody.h"
#include "store/backend.h"
#include "store/meta.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>
#include <zlib.h>

static void test_xml_complete(void **state)
{
    (void)state;
    struct s3_complete c;
    char msg[256];
    const char *ok =
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/"
        "2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag>"
        "</Part><Part><ETag>b</ETag><PartNumber>2</PartNumber></Part>"
        "</CompleteMultipartUpload>";
    assert_true(s3_parse_complete(ok, strlen(ok), &c, msg));
    assert_int_equal(c.nparts, 2);
    assert_int_equal(c.parts[0].number, 1);
    assert_string_equal(c.parts[0].etag, "\"a\"");
    assert_string_equal(c.parts[1].etag, "b");
    s3_complete_release(&c);
    static const char *const bad[] = {
        "",
        "<CompleteMultipartUpload>",
        "<Other/>",
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
        "</CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x"
        "</ETag></Part></CompleteMultipartUpload>",
        "<CompleteMultipartUpload><Part><PartNumber>1x</PartNumber><ETag>x"
        "</ETag></Part></CompleteMultipartUpload>",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_false(s3_parse_complete(bad[i], strlen(bad[i]), &c, msg));
        assert_true(msg[0] != '\0');
    }
}

static void test_xml_delete(void **state)
{
    (void)state;
    struct s3_delete d;
    char msg[256];
    const char *ok = "<?xml version=\"1.0\"?><Delete><Quiet>true</Quiet>"
                     "<Object><Key>a &amp; b</Key><VersionId>null</VersionId>"
                     "</Object><Object><Key>c/d</Key></Object></Delete>";
    assert_true(s3_parse_delete(ok, strlen(ok), &d, msg));
    assert_true(d.quiet);
    assert_int_equal(d.nkeys, 2);
    assert_string_equal(d.keys[0].key, "a & b");
    assert_string_equal(d.keys[0].version_id, "null");
    assert_null(d.keys[1].version_id);
    s3_delete_release(&d);
    const char *nokey = "<Delete><Object><VersionId>1</VersionId></Object>"
                        "</Delete>";
    assert_false(s3_parse_delete(nokey, strlen(nokey), &d, msg));
    assert_non_null(strstr(msg, "Key"));
    const char *broken = "<Delete><Object><Key>a</Object></Delete>";
    assert_false(s3_parse_delete(broken, strlen(broken), &d, msg));
    assert_non_null(strstr(msg, "line 1"));
}

static void test_checksums(void **state)
{
    (void)state;
    /* the standard check value input "123456789" */
    static const struct {
        enum checksum_algo a;
        const char *b64;
    } cases[] = {
        {CHECKSUM_CRC32, "y/Q5Jg=="},  /* 0xCBF43926 */
        {CHECKSUM_CRC32C, "4waSgw=="}, /* 0xE3069283 */
        {CHECKSUM_SHA1, "98O8HYCOBHMq32eZZczDTKeuNEE="},
        {CHECKSUM_SHA256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU="},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct checksum c;
        struct strbuf out = STRBUF_INIT;
        assert_true(checksum_init(&c, cases[i].a));
        checksum_update(&c, "1234", 4); /* in two pieces */
        checksum_update(&c, "56789", 5);
        checksum_final(&c, &out);
        assert_string_equal(out.buf, cases[i].b64);
        strbuf_release(&out);
    }
    assert_int_equal(crc32c_update(0, "123456789012345678", 18),
                     crc32c_update(crc32c_update(0, "1234567", 7),
                                   "89012345678", 11));
    /* CRC-64/NVME check value 0xae8b14860a799888 */
    assert_true(crc64nvme_update(0, "123456789", 9) == 0xae8b14860a799888ull);
    assert_true(crc64nvme_update(crc64nvme_update(0, "1234", 4), "56789", 5) ==
                0xae8b14860a799888ull);
    struct checksum c;
    /* the SSE4.2 path against the table code: every alignment and tail */
    static uint8_t cbuf[4096 + 64];
    for (size_t i = 0; i < sizeof(cbuf); i++)
        cbuf[i] = (uint8_t)(i * 131 + (i >> 7));
    for (size_t off = 0; off < 9; off++)
        for (size_t len = 0; len < 70; len++)
            assert_int_equal(crc32c_update(0x1234u, cbuf + off, len),
                             crc32c_update_table(0x1234u, cbuf + off, len));
    for (size_t off = 0; off < 9; off++) /* isa-l's CRC32 against zlib's */
        for (size_t len = 0; len < 300; len += 7) {
            struct checksum k;
            struct strbuf got = STRBUF_INIT, want = STRBUF_INIT;
            checksum_init(&k, CHECKSUM_CRC32);
            checksum_update(&k, cbuf + off, len / 3);
            checksum_update(&k, cbuf + off + len / 3, len - len / 3);
            checksum_final(&k, &got);
            uint32_t z = (uint32_t)crc32(0, cbuf + off, (uInt)len);
            uint8_t be[4] = {(uint8_t)(z >> 24), (uint8_t)(z >> 16),
                             (uint8_t)(z >> 8), (uint8_t)z};
            base64_encode(&want, be, 4);
            assert_string_equal(got.buf, want.buf);
            strbuf_release(&got);
            strbuf_release(&want);
        }
    assert_int_equal(crc32c_update(0, cbuf, sizeof(cbuf)),
                     crc32c_update_table(0, cbuf, sizeof(cbuf)));
    assert_false(checksum_init(&c, CHECKSUM_NONE));
    assert_int_equal(checksum_algo_parse("CRC32C"), CHECKSUM_CRC32C);
    assert_int_equal(checksum_algo_parse("md4"), CHECKSUM_NONE);
    uint8_t buf[16];
    assert_int_equal(base64_decode("1B2M2Y8AsgTpgAmY7PhCfg==", buf, 16), 16);
    assert_int_equal(buf[0], 0xd4);
    assert_int_equal(base64_decode("a*==", buf, 16), -1);
}

static void test_error_xml(void **state)
{
    (void)state;
    struct strbuf x = STRBUF_INIT;
    s3_error_xml(&x, S3E_NoSuchKey, NULL, "/b/<k>", "ID1");
    assert_string_equal(x.buf,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<Error><Code>NoSuchKey</Code><Message>The specified "
                        "key does not exist.</Message><Resource>/b/&lt;k&gt;"
                        "</Resource><RequestId>ID1</RequestId></Error>");
    assert_int_equal(s3err_status(S3E_NoSuchKey), 404);
    assert_int_equal(s3err_status(S3E_InvalidRange), 416);
    assert_string_equal(s3err_code(S3E_SignatureDoesNotMatch),
                        "SignatureDoesNotMatch");
    strbuf_release(&x);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/skyc-test-store.XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    return xstrdup(tmpl);
}

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static bool keep_none(void *ctx, const char *id)
{
    (void)ctx;
    (void)id;
    return false;
}

static void test_backend(void **state)
{
    (void)state;
    char *dir = tmpdir();
    struct backend be;
    struct skyc_error err = {0};
    assert_int_equal(backend_open(&be, dir, true, &err), SKYC_OK);
    struct blob_writer w;
    assert_int_equal(backend_create(&be, &w, &err), SKYC_OK);
    assert_int_equal(backend_write(&w, "hello ", 6, &err), SKYC_OK);
    char id[BLOB_ID_LEN + 1];
    memcpy(id, w.id, sizeof(id));
    /* not visible before commit */
    int fd;
    uint64_t size;
    assert_int_equal(backend_open_read(&be, id, &fd, &size, &err),
                     SKYC_E_NOT_FOUND);
    skyc_error_clear(&err);
    assert_int_equal(backend_commit(&w, &err), SKYC_OK);
    assert_int_equal(backend_open_read(&be, id, &fd, &size, &err), SKYC_OK);
    assert_int_equal(size, 6);
    close(fd);
    /* server-side concatenation */
    struct blob_writer w2;
    assert_int_equal(backend_create(&be, &w2, &err), SKYC_OK);
    assert_int_equal(backend_append_blob(&w2, id, 0, 6, &err), SKYC_OK);
    assert_int_equal(backend_append_blob(&w2, id, 0, 5, &err), SKYC_OK);
    assert_int_equal(backend_append_blob(&w2, id, 4, 9, &err),
                     SKYC_E_INTERNAL);
    skyc_error_clear(&err);
    char id2[BLOB_ID_LEN + 1];
    memcpy(id2, w2.id, sizeof(id2));
    assert_int_equal(backend_commit(&w2, &err), SKYC_OK);
    assert_int_equal(backend_open_read(&be, id2, &fd, &size, &err), SKYC_OK);
    char buf[32] = {0};
    assert_int_equal(read(fd, buf, sizeof(buf)), 11);
    assert_string_equal(buf, "hello hello");
    close(fd);
    /* an aborted blob leaves nothing; a crash leftover is cleared at open */
    struct blob_writer w3;
    assert_int_equal(backend_create(&be, &w3, &err), SKYC_OK);
    backend_write(&w3, "x", 1, &err);
    backend_abort(&w3);
    struct blob_writer w4;
    assert_int_equal(backend_create(&be, &w4, &err), SKYC_OK);
    char leftover[512];
    snprintf(leftover, sizeof(leftover), "%s", w4.tmp_path);
    close(w4.fd); /* "crash": never committed nor aborted */
    free(w4.tmp_path);
    struct stat st;
    assert_int_equal(stat(leftover, &st), 0);
    backend_release(&be);
    assert_int_equal(backend_open(&be, dir, false, &err), SKYC_OK);
    assert_int_equal(stat(leftover, &st), -1);
    backend_remove(&be, id);
    assert_int_equal(backend_open_read(&be, id, &fd, &size, &err),
                     SKYC_E_NOT_FOUND);
    /* the sweep keeps what keep() names and removes the rest */
    assert_int_equal(backend_sweep(&be, keep_none, NULL), 1); /* id2 */
    assert_int_equal(backend_open_read(&be, id2, &fd, &size, &err),
                     SKYC_E_NOT_FOUND);
    backend_release(&be);
    rm_rf(dir);
    free(dir);
}

static bool collect_keys(void *ctx, const struct meta_object *o)
{
    struct strbuf *sb = ctx;
    strbuf_addf(sb, "%s,", o->key);
    return true;
}

static void note(void *ctx, const char *blob)
{
    strbuf_addf(ctx, "%s,", blob);
}

static void test_meta(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/meta.db", dir);
    struct meta m;
    struct skyc_error err = {0};
    assert_int_equal(meta_open(&m, path, false, &err), SKYC_OK);
    assert_int_equal(meta_bucket_create(&m, "b1", "local", &err), SKYC_OK);
    assert_int_equal(meta_bucket_create(&m, "b1", "local", &err),
                     SKYC_E_FAILED);
    char *old = NULL;
    struct meta_object o = {.bucket = "b1", .key = "a/x", .size = 3,
                            .etag = "\"e1\"", .mtime_ms = 1000,
                            .blob = "blob1", .region = "local"};
    assert_int_equal(meta_object_put(&m, &o, &old, &err), SKYC_OK);
    assert_null(old);
    o.blob = "blob2";
    assert_int_equal(meta_object_put(&m, &o, &old, &err), SKYC_OK);
    assert_string_equal(old, "blob1"); /* the caller removes the old bytes */
    free(old);
    const char *keys[] = {"a/y", "b", "a/", "ab", "a/z/1"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        o.key = (char *)keys[i];
        assert_int_equal(meta_object_put(&m, &o, &old, &err), SKYC_OK);
    }
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(meta_object_list(&m, "b1", "a/", NULL, collect_keys, &sb,
                                      &err),
                     SKYC_OK);
    assert_string_equal(sb.buf, "a/,a/x,a/y,a/z/1,");
    strbuf_reset(&sb);
    assert_int_equal(meta_object_list(&m, "b1", NULL, "a/y", collect_keys,
                                      &sb, &err),
                     SKYC_OK);
    assert_string_equal(sb.buf, "a/z/1,ab,b,");
    strbuf_release(&sb);
    struct meta_object got;
    assert_int_equal(meta_object_get(&m, "b1", "a/x", &got, &err), SKYC_OK);
    assert_string_equal(got.blob, "blob2");
    assert_string_equal(got.headers, "[]");
    meta_object_release(&got);
    /* a small object inline in its row, and an empty one */
    struct meta_object in = {.bucket = "b1", .key = "inline", .size = 5,
                             .etag = "\"e\"", .blob = "", .region = "local",
                             .has_data = true, .data = "hello", .data_len = 5};
    assert_int_equal(meta_object_put(&m, &in, &old, &err), SKYC_OK);
    in.key = "empty";
    in.data_len = 0;
    in.size = 0;
    assert_int_equal(meta_object_put(&m, &in, &old, &err), SKYC_OK);
    assert_int_equal(meta_object_get(&m, "b1", "inline", &got, &err), SKYC_OK);
    assert_true(got.has_data);
    assert_int_equal(got.data_len, 5);
    assert_memory_equal(got.data, "hello", 5);
    meta_object_release(&got);
    assert_int_equal(meta_object_get(&m, "b1", "empty", &got, &err), SKYC_OK);
    assert_true(got.has_data);
    assert_int_equal(got.data_len, 0);
    meta_object_release(&got);
    assert_int_equal(meta_object_get(&m, "b1", "a/x", &got, &err), SKYC_OK);
    assert_false(got.has_data);
    meta_object_release(&got);
    assert_int_equal(meta_bucket_delete(&m, "b1", &err), SKYC_E_FAILED);
    o.bucket = "nobucket";
    assert_int_equal(meta_object_put(&m, &o, &old, &err), SKYC_E_NOT_FOUND);

    /* multipart: parts replace, finish inserts the object atomically */
    struct meta_upload u = {"up1", "b1", "big", "[]", 5};
    assert_int_equal(meta_upload_create(&m, &u, &err), SKYC_OK);
    struct meta_part p = {1, 10, "\"p1\"", "pb1", 6, NULL};
    assert_int_equal(meta_part_put(&m, "up1", &p, &old, &err), SKYC_OK);
    p.blob = "pb1b";
    assert_int_equal(meta_part_put(&m, "up1", &p, &old, &err), SKYC_OK);
    assert_string_equal(old, "pb1");
    free(old);
    assert_int_equal(meta_part_put(&m, "nope", &p, &old, &err),
                     SKYC_E_NOT_FOUND);
    char **blobs = NULL;
    size_t nblobs = 0;
    struct meta_object big = {.bucket = "b1", .key = "big", .size = 10,
                              .etag = "\"x-1\"", .mtime_ms = 7,
                              .blob = "bigblob", .region = "local"};
    assert_int_equal(meta_upload_finish(&m, "up1", &big, &blobs, &nblobs,
                                        &err),
                     SKYC_OK);
    assert_int_equal(nblobs, 1);
    assert_string_equal(blobs[0], "pb1b");
    free(blobs[0]);
    free(blobs);
    blobs = NULL;
    nblobs = 0;
    assert_int_equal(meta_upload_finish(&m, "up1", NULL, &blobs, &nblobs,
                                        &err),
                     SKYC_E_NOT_FOUND);
    assert_int_equal(meta_object_get(&m, "b1", "big", &got, &err), SKYC_OK);
    meta_object_release(&got);
    struct strbuf blobs_seen = STRBUF_INIT;
    assert_int_equal(meta_blob_list(&m, note, &blobs_seen, &err), SKYC_OK);
    assert_non_null(strstr(blobs_seen.buf, "bigblob,"));
    assert_non_null(strstr(blobs_seen.buf, "blob2,"));
    assert_null(strstr(blobs_seen.buf, "pb1b,")); /* parts went with the upload */
    strbuf_release(&blobs_seen);
    meta_close(&m);
    rm_rf(dir);
    free(dir);
}

/* Group commit: concurrent durable writers all succeed, every row is
 * there, and they shared fdatasyncs (never more syncs than commits). */
#define GC_THREADS 8
#define GC_PUTS 25

struct gc_job {
    struct meta *m;
    int id;
    int failures;
};

static void *gc_writer(void *arg)
{
    struct gc_job *j = arg;
    for (int i = 0; i < GC_PUTS; i++) {
        char key[64];
        char *old = NULL;
        struct skyc_error err = {0};
        snprintf(key, sizeof(key), "t%d/k%d", j->id, i);
        struct meta_object o = {.bucket = "gc", .key = key, .size = 4,
                                .etag = "\"e\"", .mtime_ms = 1,
                                .blob = "", .region = "local",
                                .has_data = true, .data = "data",
                                .data_len = 4};
        if (meta_object_put(j->m, &o, &old, &err) != SKYC_OK)
            j->failures++;
        free(old);
    }
    return NULL;
}

static bool count_obj(void *ctx, const struct meta_object *o)
{
    (void)o;
    (*(int *)ctx)++;
    return true;
}

static void test_meta_group_commit(void **state)
{
    (void)state;
    char *dir = tmpdir();
    char path[512];
    snprintf(path, sizeof(path), "%s/meta.db", dir);
    struct meta m;
    struct skyc_error err = {0};
    assert_int_equal(meta_open(&m, path, true, &err), SKYC_OK);
    assert_int_equal(meta_bucket_create(&m, "gc", "local", &err), SKYC_OK);
    uint64_t before = m.syncs_started;
    assert_true(before >= 1); /* the bucket's commit was synced */
    pthread_t th[GC_THREADS];
    struct gc_job jobs[GC_THREADS];
    for (int i = 0; i < GC_THREADS; i++) {
        jobs[i] = (struct gc_job){&m, i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, gc_writer, &jobs[i]), 0);
    }
    for (int i = 0; i < GC_THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].failures, 0);
    }
    int n = 0;
    assert_int_equal(meta_object_list(&m, "gc", NULL, NULL, count_obj, &n,
                                      &err),
                     SKYC_OK);
    assert_int_equal(n, GC_THREADS * GC_PUTS);
    uint64_t syncs = m.syncs_started - before;
    assert_true(syncs >= 1 && syncs <= GC_THREADS * GC_PUTS);
    assert_int_equal(m.syncs_done, m.syncs_started);
    assert_false(m.syncing);
    meta_close(&m);
    /* and it is all there after a reopen */
    assert_int_equal(meta_open(&m, path, true, &err), SKYC_OK);
    n = 0;
    assert_int_equal(meta_object_list(&m, "gc", NULL, NULL, count_obj, &n,
                                      &err),
                     SKYC_OK);
    assert_int_equal(n, GC_THREADS * GC_PUTS);
    meta_close(&m);
    rm_rf(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xml_complete), cmocka_unit_test(test_xml_delete),
        cmocka_unit_test(test_checksums),    cmocka_unit_test(test_error_xml),
        cmocka_unit_test(test_backend),      cmocka_unit_test(test_meta),
        cmocka_unit_test(test_meta_group_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
