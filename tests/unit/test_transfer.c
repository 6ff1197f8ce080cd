/* Unit tests of transfer/: CRC-32C, wire frames and bodies, HELLO, paths,
 * the codec (zstd, AES-GCM, tamper detection), chunk layout, manifest. */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "transfer/chunk.h"
#include "transfer/codec.h"
#include "s3/checksum.h"
#include "transfer/endpoint.h"
#include "transfer/frame.h"
#include "transfer/manifest.h"
#include "transfer/wire.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

static void test_crc32c(void **state)
{
    (void)state;
    /* RFC 3720 B.4 and the usual check value */
    static const struct {
        const char *in;
        size_t len;
        uint32_t want;
    } cases[] = {
        {"123456789", 9, 0xe3069283u},
        {"", 0, 0},
        {"a", 1, 0xc1d04330u},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        assert_int_equal(crc32c_update(0, cases[i].in, cases[i].len), cases[i].want);
        assert_int_equal(crc32c_update_table(0, cases[i].in, cases[i].len),
                         cases[i].want);
    }
    uint8_t zeros[32] = {0}, ones[32];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(crc32c_update(0, zeros, 32), 0x8a9136aau);
    assert_int_equal(crc32c_update(0, ones, 32), 0x62a8ab43u);
    /* hardware and table agree on odd lengths and alignments; chaining */
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 31 + 7);
    for (size_t off = 0; off < 9; off++)
        assert_int_equal(crc32c_update(0, buf + off, 991 - off),
                         crc32c_update_table(0, buf + off, 991 - off));
    assert_int_equal(crc32c_update(crc32c_update(0, buf, 300), buf + 300, 700),
                     crc32c_update(0, buf, 1000));
    /* the three-stream path (>= 24 KiB) agrees with the table too */
    size_t big = 200000;
    uint8_t *b = xmalloc(big);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    static const size_t lens[] = {24575, 24576, 24577, 49152, 73731, 199993};
    for (size_t i = 0; i < ARRAY_SIZE(lens); i++)
        for (size_t off = 0; off < 3; off++)
            assert_int_equal(crc32c_update(7, b + off, lens[i]),
                             crc32c_update_table(7, b + off, lens[i]));
    free(b);
}

static void test_paths(void **state)
{
    (void)state;
    static const struct {
        const char *p;
        bool ok;
    } cases[] = {
        {"a", true},         {"a/b/c.txt", true}, {".hidden", true},
        {"a/..b", true},     {"", false},         {"/etc/passwd", false},
        {"..", false},       {"a/../b", false},   {"a//b", false},
        {"a/", false},       {"./a", false},      {"a/.", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(wire_path_ok(cases[i].p, strlen(cases[i].p)),
                         cases[i].ok);
    assert_false(wire_path_ok("a\0b", 3));
}

static void test_header(void **state)
{
    (void)state;
    struct wire_hdr h = {0}, g;
    uint8_t b[WIRE_HDR_LEN];
    struct skyc_error err = {0};
    h.type = WIRE_CHUNK;
    h.flags = WIRE_F_COMPRESSED | WIRE_F_ENCRYPTED;
    h.payload_len = 1234;
    h.raw_len = 5678;
    h.id = 0x0102030405060708ull;
    h.crc = 0xdeadbeef;
    memset(h.nonce, 7, 12);
    memset(h.tag, 9, 16);
    wire_hdr_encode(&h, b);
    assert_memory_equal(b, "SKY1", 4);
    assert_int_equal(wire_hdr_decode(&g, b, sizeof(b), &err), SKYC_OK);
    assert_memory_equal(&g, &h, sizeof(h));
    /* bad magic, short, unknown type, flags, oversize */
    assert_int_equal(wire_hdr_decode(&g, b, 10, &err), SKYC_E_INPUT);
    uint8_t c[WIRE_HDR_LEN];
    memcpy(c, b, sizeof(c));
    c[0] = 'X';
    skyc_error_clear(&err);
    assert_int_equal(wire_hdr_decode(&g, c, sizeof(c), &err), SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "magic"));
    memcpy(c, b, sizeof(c));
    c[4] = 99;
    assert_int_equal(wire_hdr_decode(&g, c, sizeof(c), NULL), SKYC_E_INPUT);
    memcpy(c, b, sizeof(c));
    c[5] = 0x80;
    assert_int_equal(wire_hdr_decode(&g, c, sizeof(c), NULL), SKYC_E_INPUT);
    memcpy(c, b, sizeof(c));
    c[8] = 0xff;
    assert_int_equal(wire_hdr_decode(&g, c, sizeof(c), NULL), SKYC_E_INPUT);
}

static void test_body(void **state)
{
    (void)state;
    struct wire_seg segs[2] = {
        {"dir/a.txt", 10, 0, 10, 123456789, 0644},
        {"b", 100, 40, 5, 0, 0600},
    };
    struct strbuf sb = STRBUF_INIT;
    struct wire_body body;
    struct skyc_error err = {0};
    wire_meta_encode(&sb, segs, 2);
    strbuf_add(&sb, "0123456789abcde", 15);
    assert_int_equal(wire_body_decode(&body, (const uint8_t *)sb.buf, sb.len,
                                      &err),
                     SKYC_OK);
    assert_int_equal(body.nsegs, 2);
    assert_string_equal(body.segs[0].path, "dir/a.txt");
    assert_int_equal(body.segs[0].mtime_ns, 123456789);
    assert_int_equal(body.segs[1].offset, 40);
    assert_int_equal(body.segs[1].mode, 0600);
    assert_int_equal(body.data_len, 15);
    assert_memory_equal(body.data + 10, "abcde", 5);
    wire_body_release(&body);
    /* data one byte short, or one byte long: rejected */
    assert_int_equal(wire_body_decode(&body, (const uint8_t *)sb.buf,
                                      sb.len - 1, &err),
                     SKYC_E_INPUT);
    strbuf_addch(&sb, 'x');
    assert_int_equal(wire_body_decode(&body, (const uint8_t *)sb.buf, sb.len,
                                      NULL),
                     SKYC_E_INPUT);
    assert_null(body.segs);
    /* a segment past its file's end */
    struct wire_seg bad = {"x", 10, 8, 5, 0, 0};
    strbuf_reset(&sb);
    wire_meta_encode(&sb, &bad, 1);
    strbuf_add(&sb, "12345", 5);
    skyc_error_clear(&err);
    assert_int_equal(wire_body_decode(&body, (const uint8_t *)sb.buf, sb.len,
                                      &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "outside"));
    /* an escaping path */
    struct wire_seg esc = {"../x", 1, 0, 1, 0, 0};
    strbuf_reset(&sb);
    wire_meta_encode(&sb, &esc, 1);
    strbuf_addch(&sb, 'z');
    assert_int_equal(wire_body_decode(&body, (const uint8_t *)sb.buf, sb.len,
                                      NULL),
                     SKYC_E_INPUT);
    strbuf_release(&sb);
}

static void test_hello(void **state)
{
    (void)state;
    struct wire_hello h = {0}, g;
    char *route[] = {"10.0.0.1:1", "10.0.0.2:2"};
    struct strbuf sb = STRBUF_INIT;
    struct skyc_error err = {0};
    memset(h.transfer, 'a', 64);
    h.route = route;
    h.nroute = 2;
    h.dest = "/data/out";
    h.has_key = true;
    for (int i = 0; i < 32; i++)
        h.key[i] = (uint8_t)i;
    wire_hello_encode(&sb, &h);
    assert_int_equal(wire_hello_decode(&g, (const uint8_t *)sb.buf, sb.len,
                                       &err),
                     SKYC_OK);
    assert_int_equal(g.nroute, 2);
    assert_string_equal(g.route[1], "10.0.0.2:2");
    assert_string_equal(g.dest, "/data/out");
    assert_true(g.has_key);
    assert_memory_equal(g.key, h.key, 32);
    wire_hello_release(&g);
    static const char *const bad[] = {
        "", "[]", "{\"v\":2}", "{\"v\":1,\"transfer\":\"xyz\"}",
        "{\"v\":1,\"transfer\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaa\",\"route\":[1],\"dest\":\"d\"}",
        "{\"v\":1,\"transfer\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaa\",\"route\":[],\"dest\":\"d\",\"key\":\"zz\"}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        skyc_error_clear(&err);
        assert_int_equal(wire_hello_decode(&g, (const uint8_t *)bad[i],
                                           strlen(bad[i]), &err),
                         SKYC_E_INPUT);
        assert_true(strncmp(err.msg, "hello:", 6) == 0);
    }
    strbuf_release(&sb);
}

static void roundtrip(bool compress, bool encrypt)
{
    struct codec c = {compress, 1, encrypt, {0}};
    for (int i = 0; i < 32; i++)
        c.key[i] = (uint8_t)(i * 3);
    size_t n = 100000;
    uint8_t *buf = xmalloc(WIRE_HDR_LEN + n);
    for (size_t i = 0; i < n; i++)
        buf[WIRE_HDR_LEN + i] = (uint8_t)(i % 13 == 0 ? i : 'a');
    uint8_t *orig = xmalloc(n);
    memcpy(orig, buf + WIRE_HDR_LEN, n);
    struct wire_hdr h = {0}, g;
    struct skyc_error err = {0};
    size_t len = n;
    h.type = WIRE_CHUNK;
    h.id = 42;
    assert_int_equal(codec_seal(&c, &h, &buf, &len, &err), SKYC_OK);
    if (compress)
        assert_true(len < n / 2);
    assert_int_equal(wire_hdr_decode(&g, buf, WIRE_HDR_LEN, &err), SKYC_OK);
    for (int tamper = 0; tamper < 2; tamper++) {
        size_t plen = g.payload_len;
        uint8_t *p = xmalloc(plen + 1);
        memcpy(p, buf + WIRE_HDR_LEN, plen);
        if (tamper)
            p[plen / 3] ^= 1;
        skyc_error_clear(&err);
        enum skyc_err rc = codec_open(encrypt ? c.key : NULL, &g, &p, &plen,
                                      &err);
        if (!tamper) {
            assert_int_equal(rc, SKYC_OK);
            assert_int_equal(plen, n);
            assert_memory_equal(p, orig, n);
        } else {
            assert_int_equal(rc, SKYC_E_INPUT);
            assert_true(strstr(err.msg, "checksum") || strstr(err.msg, "tag") ||
                        strstr(err.msg, "zstd"));
        }
        free(p);
    }
    /* a tampered header field is caught too (crc or GCM additional data) */
    struct wire_hdr g2 = g;
    g2.id = 43;
    size_t plen = g.payload_len;
    uint8_t *p = xmalloc(plen + 1);
    memcpy(p, buf + WIRE_HDR_LEN, plen);
    enum skyc_err rc = codec_open(encrypt ? c.key : NULL, &g2, &p, &plen, NULL);
    assert_int_equal(rc, encrypt ? SKYC_E_INPUT : SKYC_OK);
    free(p);
    free(buf);
    free(orig);
}

static void test_codec(void **state)
{
    (void)state;
    roundtrip(false, false);
    roundtrip(true, false);
    roundtrip(false, true);
    roundtrip(true, true);
}

static void test_layout(void **state)
{
    (void)state;
    struct ep_object v[] = {
        {"a", 10, 0, 0}, {"b", 0, 0, 0},   {"big", 2500, 0, 0},
        {"c", 400, 0, 0}, {"d", 700, 0, 0}, {"e", 30, 0, 0},
    };
    struct ep_list l = {v, ARRAY_SIZE(v), 0};
    struct chunk_layout lay;
    chunk_layout_build(&lay, &l, 1000);
    /* [a b] [big 0..1000] [big 1000..2000] [big 2000..2500] [c] [d] ... */
    assert_int_equal(lay.total_bytes, 3640);
    assert_int_equal(lay.obj_nchunks[2], 3);
    assert_true(lay.obj_commit[2]);
    assert_false(lay.obj_commit[0]);
    assert_int_equal(lay.chunks[0].nsegs, 2);
    assert_int_equal(lay.chunks[3].bytes, 500);
    assert_int_equal(lay.segs[lay.chunks[3].first_seg].offset, 2000);
    /* d (700) is a file of its own chunk; e packs after it? no: d >= 500 */
    uint64_t sum = 0;
    for (size_t k = 0; k < lay.nchunks; k++) {
        assert_true(lay.chunks[k].bytes <= 1000);
        sum += lay.chunks[k].bytes;
    }
    assert_int_equal(sum, lay.total_bytes);
    chunk_layout_release(&lay);
}

static void test_manifest(void **state)
{
    (void)state;
    char dir[] = "/tmp/skyc-manifest-XXXXXX";
    assert_non_null(mkdtemp(dir));
    setenv("XDG_STATE_HOME", dir, 1);
    struct ep_object v[] = {{"a", 10, 5, 0}};
    struct ep_list l = {v, 1, 0};
    char id[65], id2[65];
    manifest_id(id, "/s", "/d", 1000, 0, &l);
    v[0].mtime_ns = 6;
    manifest_id(id2, "/s", "/d", 1000, 0, &l);
    assert_string_not_equal(id, id2);
    struct manifest m;
    assert_int_equal(manifest_open(&m, id, 5, 1, NULL), SKYC_OK);
    manifest_chunk_done(&m, 3);
    manifest_chunk_done(&m, 1);
    manifest_obj_done(&m, 0);
    fputs("c 4", m.log); /* a torn last line */
    manifest_release(&m);
    assert_int_equal(manifest_open(&m, id, 5, 1, NULL), SKYC_OK);
    assert_int_equal(m.loaded_chunks, 2);
    assert_true(m.chunk_done[1] && m.chunk_done[3]);
    assert_false(m.chunk_done[4]);
    assert_true(m.obj_done[0]);
    char *path = xstrdup(m.path);
    manifest_remove(&m);
    manifest_release(&m);
    assert_int_not_equal(access(path, F_OK), 0);
    free(path);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A replayed COMMIT (its first ACK lost) keeps the object; a commit with
 * nothing written is NOT_FOUND and never leaves a zero-filled file. */
static void test_local_commit_replay(void **state)
{
    (void)state;
    char dir[] = "/tmp/skyc-commit-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct endpoint *ep = NULL;
    struct ep_writer *w = NULL;
    assert_int_equal(endpoint_local_open(dir, &ep, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_open(ep, "x", 4, 0, &w, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_at(w, 4, "5678", 4, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_at(w, 0, "1234", 4, NULL), SKYC_OK);
    int64_t mt = 1700000000123456789;
    assert_int_equal(ep->ops->write_commit(w, 8, mt, 0644, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_open(ep, "x", 4, 0, &w, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_commit(w, 8, mt, 0644, NULL), SKYC_OK);
    char buf[9] = "";
    assert_int_equal(ep->ops->read(ep, "x", 0, buf, 8, NULL), SKYC_OK);
    assert_string_equal(buf, "12345678");
    struct skyc_error err = {0};
    assert_int_equal(ep->ops->write_open(ep, "y", 4, 0, &w, NULL), SKYC_OK);
    assert_int_equal(ep->ops->write_commit(w, 8, mt, 0, &err),
                     SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no part"));
    struct ep_object o;
    assert_int_equal(ep->ops->stat(ep, "y", &o, NULL), SKYC_E_NOT_FOUND);
    endpoint_free(ep);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Two puts of one key at once (a chunk resent while the first copy is still
 * being written) both succeed: they never share a part file. */
struct put_arg {
    struct endpoint *ep;
    int fails;
};

static void *put_loop(void *a)
{
    struct put_arg *pa = a;
    static char buf[256 << 10];
    for (int i = 0; i < 200; i++)
        if (pa->ep->ops->put(pa->ep, "same", buf, sizeof(buf), 0, 0644,
                             NULL) != SKYC_OK)
            pa->fails++;
    return NULL;
}

static void test_local_concurrent_put(void **state)
{
    (void)state;
    char dir[] = "/tmp/skyc-put-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct endpoint *ep = NULL;
    assert_int_equal(endpoint_local_open(dir, &ep, NULL), SKYC_OK);
    struct put_arg a = {ep, 0}, b = {ep, 0};
    pthread_t ta, tb;
    assert_int_equal(pthread_create(&ta, NULL, put_loop, &a), 0);
    assert_int_equal(pthread_create(&tb, NULL, put_loop, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    assert_int_equal(a.fails + b.fails, 0);
    struct ep_list l = {0};
    assert_int_equal(ep->ops->list(ep, &l, NULL), SKYC_OK);
    assert_int_equal(l.n, 1); /* no part files left either (see below) */
    ep_list_release(&l);
    endpoint_free(ep);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* A gateway killed mid-put leaves its private part behind; the next commit
 * of that object removes it, but never a live writer's part. */
static void touch_part(const char *dir, const char *name)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void test_local_dead_parts(void **state)
{
    (void)state;
    char dir[] = "/tmp/skyc-parts-XXXXXX";
    assert_non_null(mkdtemp(dir));
    pid_t dead = fork();
    assert_true(dead >= 0);
    if (dead == 0)
        _exit(0);
    assert_int_equal(waitpid(dead, NULL, 0), dead);
    char name[128];
    snprintf(name, sizeof(name), ".obj.%ld-7.skyc-part", (long)dead);
    touch_part(dir, name);
    char live[128];
    snprintf(live, sizeof(live), ".obj.%ld-3.skyc-part", (long)getppid());
    touch_part(dir, live);
    touch_part(dir, ".objx.1-2.skyc-part"); /* another object's: kept */
    struct endpoint *ep = NULL;
    assert_int_equal(endpoint_local_open(dir, &ep, NULL), SKYC_OK);
    assert_int_equal(ep->ops->put(ep, "obj", "abc", 3, 0, 0644, NULL),
                     SKYC_OK);
    endpoint_free(ep);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "test ! -e %s/%s && test -e %s/%s && "
             "test -e %s/.objx.1-2.skyc-part && test -e %s/obj",
             dir, name, dir, live, dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Pooled chunk buffers come back for the same size class, and free() and
 * chunkbuf_put() are interchangeable. */
static void test_chunkbuf(void **state)
{
    (void)state;
    uint8_t *a = chunkbuf_get(3u << 20);
    memset(a, 1, 3u << 20);
    chunkbuf_put(a);
    uint8_t *b = chunkbuf_get((3u << 20) - 100);
    assert_ptr_equal(a, b);
    uint8_t *c = chunkbuf_get(100); /* small: plain malloc */
    chunkbuf_put(c);
    chunkbuf_put(b);
    chunkbuf_put(NULL);
    chunkbuf_trim(); /* the pool is empty again: a fresh buffer */
    uint8_t *d = chunkbuf_get(3u << 20);
    d[0] = 1;
    free(d);
}

/* SOURCE requests and STATUS replies round-trip; bad requests are refused
 * with the field named. */
static void test_source_status(void **state)
{
    (void)state;
    char *hops[] = {"127.0.0.1:7700", "[::1]:7701"};
    struct wire_source_path sp = {hops, 2, 8, "127.0.0.1:7701"};
    struct wire_source req = {"data", "/dst", true,  false, false, true,
                              1u << 20, 5,   &sp,    1};
    struct strbuf sb = STRBUF_INIT;
    wire_source_encode(&sb, &req);
    struct wire_source got;
    assert_int_equal(wire_source_decode(&got, (uint8_t *)sb.buf, sb.len, NULL),
                     SKYC_OK);
    assert_string_equal(got.src, "data");
    assert_string_equal(got.dst, "/dst");
    assert_true(got.recursive && got.encrypt && !got.sync && !got.compress);
    assert_int_equal(got.chunk_size, 1u << 20);
    assert_int_equal(got.retries, 5);
    assert_int_equal(got.npaths, 1);
    assert_int_equal(got.paths[0].nhops, 2);
    assert_string_equal(got.paths[0].hops[1], "[::1]:7701");
    assert_int_equal(got.paths[0].conns, 8);
    assert_string_equal(got.paths[0].key_to, "127.0.0.1:7701");
    wire_source_release(&got);
    strbuf_release(&sb);
    static const struct {
        const char *json, *msg;
    } bad[] = {
        {"[]", "not a JSON object"},
        {"{\"dst\":\"/d\"}", "\"src\""},
        {"{\"src\":\"s\",\"dst\":\"/d\",\"chunk_size\":1}", "chunk_size"},
        {"{\"src\":\"s\",\"dst\":\"/d\",\"chunk_size\":1048576,"
         "\"retries\":1,\"paths\":[]}", "paths (1 to 16)"},
        {"{\"src\":\"s\",\"dst\":\"/d\",\"chunk_size\":1048576,"
         "\"retries\":1,\"paths\":[{\"hops\":[\"nowhere\"],"
         "\"connections\":1}]}", "paths[0].hops[0] is not HOST:PORT"},
        {"{\"src\":\"s\",\"dst\":\"/d\",\"chunk_size\":1048576,"
         "\"retries\":1,\"paths\":[{\"hops\":[\"1.2.3.4:5\"],"
         "\"connections\":65}]}", "1 to 64 \"connections\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct skyc_error err = {0};
        assert_int_equal(wire_source_decode(&got, (const uint8_t *)bad[i].json,
                                            strlen(bad[i].json), &err),
                         SKYC_E_INPUT);
        assert_non_null(strstr(err.msg, bad[i].msg));
    }
    struct wire_status st = {0}, st2;
    st.final = true;
    st.code = 4;
    snprintf(st.msg, sizeof(st.msg), "no such file");
    st.done_bytes = 1ull << 40;
    st.seconds = 2.5;
    wire_status_encode(&sb, &st);
    assert_int_equal(wire_status_decode(&st2, (uint8_t *)sb.buf, sb.len, NULL),
                     SKYC_OK);
    assert_true(st2.final);
    assert_int_equal(st2.code, 4);
    assert_string_equal(st2.msg, "no such file");
    assert_true(st2.done_bytes == 1ull << 40);
    assert_true(st2.seconds == 2.5);
    strbuf_release(&sb);
    assert_int_equal(wire_status_decode(&st2, (const uint8_t *)"{}", 2, NULL),
                     SKYC_E_INPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c),  cmocka_unit_test(test_paths),
        cmocka_unit_test(test_header),  cmocka_unit_test(test_body),
        cmocka_unit_test(test_hello),   cmocka_unit_test(test_codec),
        cmocka_unit_test(test_layout),  cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_local_commit_replay),
        cmocka_unit_test(test_local_dead_parts),
        cmocka_unit_test(test_local_concurrent_put),
        cmocka_unit_test(test_chunkbuf),
        cmocka_unit_test(test_source_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
