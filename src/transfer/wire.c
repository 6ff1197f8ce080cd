/*
 * wire.c - frame headers, chunk bodies and HELLO of the data plane.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/hex.h"
#include "transfer/wire.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}
static uint64_t get64(const uint8_t *p)
{
    return ((uint64_t)get32(p) << 32) | get32(p + 4);
}

void wire_hdr_encode(const struct wire_hdr *h, uint8_t out[WIRE_HDR_LEN])
{
    memset(out, 0, WIRE_HDR_LEN);
    put32(out, WIRE_MAGIC);
    out[4] = h->type;
    out[5] = h->flags;
    put32(out + 8, h->payload_len);
    put32(out + 12, h->raw_len);
    put64(out + 16, h->id);
    put32(out + 24, h->crc);
    put32(out + 28, h->part_size);
    memcpy(out + 32, h->nonce, 12);
    memcpy(out + 44, h->tag, 16);
}

void wire_frame_seal(struct strbuf *sb, struct wire_hdr *h)
{
    h->payload_len = h->raw_len = (uint32_t)(sb->len - WIRE_HDR_LEN);
    wire_hdr_encode(h, (uint8_t *)sb->buf);
}

enum skyc_err wire_hdr_decode(struct wire_hdr *h, const uint8_t *in,
                              size_t len, struct skyc_error *err)
{
    memset(h, 0, sizeof(*h));
    if (len < WIRE_HDR_LEN)
        return skyc_fail(err, SKYC_E_INPUT, "frame header: %zu bytes, need %d",
                         len, WIRE_HDR_LEN);
    if (get32(in) != WIRE_MAGIC)
        return skyc_fail(err, SKYC_E_INPUT,
                         "frame header: bad magic 0x%08" PRIx32
                         " (is the peer a skyc gateway of this version?)",
                         get32(in));
    h->type = in[4];
    h->flags = in[5];
    h->payload_len = get32(in + 8);
    h->raw_len = get32(in + 12);
    h->id = get64(in + 16);
    h->crc = get32(in + 24);
    h->part_size = get32(in + 28);
    memcpy(h->nonce, in + 32, 12);
    memcpy(h->tag, in + 44, 16);
    if (h->type < WIRE_HELLO || h->type > WIRE_STATUS)
        return skyc_fail(err, SKYC_E_INPUT, "frame header: unknown type %u",
                         h->type);
    if (h->flags & ~(WIRE_F_COMPRESSED | WIRE_F_ENCRYPTED))
        return skyc_fail(err, SKYC_E_INPUT, "frame header: unknown flags 0x%x",
                         h->flags);
    if (h->payload_len > WIRE_MAX_PAYLOAD || h->raw_len > WIRE_MAX_PAYLOAD)
        return skyc_fail(err, SKYC_E_INPUT,
                         "frame header: payload of %" PRIu32
                         " bytes exceeds the limit of %u",
                         SKYC_MAX(h->payload_len, h->raw_len),
                         WIRE_MAX_PAYLOAD);
    return SKYC_OK;
}

bool wire_path_ok(const char *path, size_t len)
{
    if (len == 0 || len > WIRE_MAX_PATH || path[0] == '/')
        return false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && path[i] == '\0')
            return false;
        if (i == len || path[i] == '/') {
            size_t n = i - start;
            if (n == 0 || (n == 1 && path[start] == '.') ||
                (n == 2 && path[start] == '.' && path[start + 1] == '.'))
                return false;
            start = i + 1;
        }
    }
    return true;
}

void wire_seg_encode(struct strbuf *sb, const struct wire_seg *s)
{
    uint8_t b[34];
    size_t plen = strlen(s->path);
    put16(b, (uint16_t)plen);
    strbuf_add(sb, b, 2);
    strbuf_add(sb, s->path, plen);
    put64(b, s->file_size);
    put64(b + 8, s->offset);
    put32(b + 16, s->len);
    put64(b + 20, (uint64_t)s->mtime_ns);
    put32(b + 28, s->mode);
    strbuf_add(sb, b, 32);
}

/* Decode one segment at *pos; advances *pos. */
static enum skyc_err seg_at(struct wire_seg *s, const uint8_t *buf,
                            size_t len, size_t *pos, struct skyc_error *err)
{
    memset(s, 0, sizeof(*s));
    if (len - *pos < 2)
        return skyc_fail(err, SKYC_E_INPUT, "chunk meta: truncated at %zu",
                         *pos);
    size_t plen = get16(buf + *pos);
    *pos += 2;
    if (len - *pos < plen + 32)
        return skyc_fail(err, SKYC_E_INPUT, "chunk meta: truncated at %zu",
                         *pos);
    if (!wire_path_ok((const char *)buf + *pos, plen))
        return skyc_fail(err, SKYC_E_INPUT,
                         "chunk meta: unsafe or empty path at %zu", *pos);
    s->path = xstrndup((const char *)buf + *pos, plen);
    *pos += plen;
    const uint8_t *b = buf + *pos;
    s->file_size = get64(b);
    s->offset = get64(b + 8);
    s->len = get32(b + 16);
    s->mtime_ns = (int64_t)get64(b + 20);
    s->mode = get32(b + 28) & 07777;
    *pos += 32;
    if (s->offset > s->file_size || s->len > s->file_size - s->offset) {
        FREE_AND_NULL(s->path);
        return skyc_fail(err, SKYC_E_INPUT,
                         "chunk meta: segment [%" PRIu64 ", +%" PRIu32
                         ") outside a file of %" PRIu64 " bytes",
                         s->offset, s->len, s->file_size);
    }
    return SKYC_OK;
}

enum skyc_err wire_seg_decode(struct wire_seg *s, const uint8_t *buf,
                              size_t len, struct skyc_error *err)
{
    size_t pos = 0;
    enum skyc_err rc = seg_at(s, buf, len, &pos, err);
    if (rc == SKYC_OK && pos != len) {
        wire_seg_release(s);
        rc = skyc_fail(err, SKYC_E_INPUT, "commit: %zu trailing bytes",
                       len - pos);
    }
    return rc;
}

void wire_seg_release(struct wire_seg *s)
{
    FREE_AND_NULL(s->path);
}

void wire_meta_encode(struct strbuf *sb, const struct wire_seg *segs, size_t n)
{
    size_t start = sb->len;
    uint8_t b[4] = {0};
    strbuf_add(sb, b, 4); /* meta_len, patched below */
    put32(b, (uint32_t)n);
    strbuf_add(sb, b, 4);
    for (size_t i = 0; i < n; i++)
        wire_seg_encode(sb, &segs[i]);
    put32((uint8_t *)sb->buf + start, (uint32_t)(sb->len - start - 4));
}

enum skyc_err wire_body_decode(struct wire_body *body, const uint8_t *buf,
                               size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    memset(body, 0, sizeof(*body));
    if (len < 8) {
        skyc_fail(err, rc, "chunk body: %zu bytes, too short", len);
        goto out;
    }
    size_t meta_len = get32(buf);
    if (meta_len < 4 || meta_len > len - 4) {
        skyc_fail(err, rc, "chunk body: meta length %zu outside %zu bytes",
                  meta_len, len);
        goto out;
    }
    size_t mend = 4 + meta_len;
    size_t nseg = get32(buf + 4);
    if (nseg == 0 || nseg > meta_len / 34) {
        skyc_fail(err, rc, "chunk body: %zu segments in %zu meta bytes", nseg,
                  meta_len);
        goto out;
    }
    body->segs = xcalloc(nseg, sizeof(*body->segs));
    size_t pos = 8;
    uint64_t total = 0;
    for (size_t i = 0; i < nseg; i++) {
        if (seg_at(&body->segs[i], buf, mend, &pos, err) != SKYC_OK)
            goto out;
        body->nsegs++;
        total += body->segs[i].len;
    }
    if (pos != mend) {
        skyc_fail(err, rc, "chunk body: %zu stray meta bytes", mend - pos);
        goto out;
    }
    if (total != len - mend) {
        skyc_fail(err, rc,
                  "chunk body: segments hold %" PRIu64 " bytes, data has %zu",
                  total, len - mend);
        goto out;
    }
    body->data = buf + mend;
    body->data_len = len - mend;
    rc = SKYC_OK;
out:
    if (rc != SKYC_OK)
        wire_body_release(body);
    return rc;
}

void wire_body_release(struct wire_body *body)
{
    for (size_t i = 0; i < body->nsegs; i++)
        wire_seg_release(&body->segs[i]);
    FREE_AND_NULL(body->segs);
    body->nsegs = 0;
    body->data = NULL;
    body->data_len = 0;
}

void wire_hello_encode(struct strbuf *sb, const struct wire_hello *h)
{
    json_t *o = json_object();
    json_t *r = json_array();
    for (size_t i = 0; i < h->nroute; i++)
        json_array_append_new(r, json_string(h->route[i]));
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "transfer", json_string(h->transfer));
    json_object_set_new(o, "route", r);
    json_object_set_new(o, "dest", json_string(h->dest ? h->dest : ""));
    if (h->has_key) {
        char k[65];
        hex_encode(h->key, 32, k);
        json_object_set_new(o, "key", json_string(k));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    strbuf_addstr(sb, s);
    free(s);
    json_decref(o);
}

enum skyc_err wire_hello_decode(struct wire_hello *h, const uint8_t *buf,
                                size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    memset(h, 0, sizeof(*h));
    json_t *o = json_loadb((const char *)buf, len, 0, &je);
    if (!o || !json_is_object(o)) {
        skyc_fail(err, rc, "hello: not a JSON object (%s, col %d)",
                  o ? "wrong type" : je.text, o ? 0 : je.column);
        goto out;
    }
    json_t *v = json_object_get(o, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        skyc_fail(err, rc, "hello: unsupported protocol version");
        goto out;
    }
    const char *t = json_string_value(json_object_get(o, "transfer"));
    if (!t || strlen(t) != 64 || strspn(t, "0123456789abcdef") != 64) {
        skyc_fail(err, rc, "hello: \"transfer\" must be 64 hex digits");
        goto out;
    }
    memcpy(h->transfer, t, 65);
    json_t *r = json_object_get(o, "route");
    if (!json_is_array(r) || json_array_size(r) > 16) {
        skyc_fail(err, rc, "hello: \"route\" must be an array of <= 16 hops");
        goto out;
    }
    h->route = xcalloc(json_array_size(r) + 1, sizeof(char *));
    for (size_t i = 0; i < json_array_size(r); i++) {
        const char *hop = json_string_value(json_array_get(r, i));
        if (!hop || !*hop || strlen(hop) > 256) {
            skyc_fail(err, rc, "hello: route hop %zu is not an address", i);
            goto out;
        }
        h->route[h->nroute++] = xstrdup(hop);
    }
    const char *d = json_string_value(json_object_get(o, "dest"));
    if (!d || strlen(d) > WIRE_MAX_PATH) {
        skyc_fail(err, rc, "hello: \"dest\" missing or too long");
        goto out;
    }
    h->dest = xstrdup(d);
    const char *k = json_string_value(json_object_get(o, "key"));
    if (k) {
        if (strlen(k) != 64) {
            skyc_fail(err, rc, "hello: \"key\" must be 64 hex digits");
            goto out;
        }
        for (int i = 0; i < 32; i++) {
            int hi = hex_digit(k[2 * i]), lo = hex_digit(k[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                skyc_fail(err, rc, "hello: \"key\" must be 64 hex digits");
                goto out;
            }
            h->key[i] = (uint8_t)(hi << 4 | lo);
        }
        h->has_key = true;
    }
    rc = SKYC_OK;
out:
    json_decref(o);
    if (rc != SKYC_OK)
        wire_hello_release(h);
    return rc;
}

void wire_hello_release(struct wire_hello *h)
{
    for (size_t i = 0; i < h->nroute; i++)
        free(h->route[i]);
    FREE_AND_NULL(h->route);
    h->nroute = 0;
    FREE_AND_NULL(h->dest);
    memset(h->key, 0, sizeof(h->key));
    h->has_key = false;
}

enum skyc_err wire_parse_addr(const char *s, struct sockaddr_storage *ss,
                              struct skyc_error *err)
{
    char host[256];
    const char *colon = strrchr(s, ':');
    memset(ss, 0, sizeof(*ss));
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad address '%s' (want HOST:PORT, e.g. "
                         "127.0.0.1:7700)", s);
    size_t hl = (size_t)(colon - s);
    const char *hs = s;
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        hs = s + 1;
        hl -= 2;
    }
    memcpy(host, hs, hl);
    host[hl] = '\0';
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return skyc_fail(err, SKYC_E_USAGE, "bad port in address '%s'", s);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
    } else if (strcmp(host, "localhost") == 0) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad host in address '%s' (use an IP address)", s);
    }
    return SKYC_OK;
}

/* ---- SOURCE and STATUS ------------------------------------------------- */

void wire_source_encode(struct strbuf *sb, const struct wire_source *s)
{
    json_t *o = json_object();
    json_t *ps = json_array();
    for (size_t i = 0; i < s->npaths; i++) {
        const struct wire_source_path *p = &s->paths[i];
        json_t *hops = json_array();
        for (size_t j = 0; j < p->nhops; j++)
            json_array_append_new(hops, json_string(p->hops[j]));
        json_t *po = json_object();
        json_object_set_new(po, "hops", hops);
        json_object_set_new(po, "connections", json_integer(p->conns));
        if (p->key_to)
            json_object_set_new(po, "key_to", json_string(p->key_to));
        json_array_append_new(ps, po);
    }
    json_object_set_new(o, "v", json_integer(1));
    json_object_set_new(o, "src", json_string(s->src));
    json_object_set_new(o, "dst", json_string(s->dst));
    json_object_set_new(o, "recursive", json_boolean(s->recursive));
    json_object_set_new(o, "sync", json_boolean(s->sync));
    json_object_set_new(o, "compress", json_boolean(s->compress));
    json_object_set_new(o, "encrypt", json_boolean(s->encrypt));
    json_object_set_new(o, "chunk_size", json_integer(s->chunk_size));
    json_object_set_new(o, "retries", json_integer(s->retries));
    json_object_set_new(o, "paths", ps);
    char *t = json_dumps(o, JSON_COMPACT);
    strbuf_addstr(sb, t);
    free(t);
    json_decref(o);
}

void wire_source_release(struct wire_source *s)
{
    for (size_t i = 0; i < s->npaths; i++) {
        for (size_t j = 0; j < s->paths[i].nhops; j++)
            free(s->paths[i].hops[j]);
        free(s->paths[i].hops);
        free(s->paths[i].key_to);
    }
    free(s->paths);
    free(s->src);
    free(s->dst);
    memset(s, 0, sizeof(*s));
}

static bool addr_ok(const char *a)
{
    struct sockaddr_storage ss;
    return wire_parse_addr(a, &ss, NULL) == SKYC_OK;
}

/* A string field: non-empty, no NUL inside, at most max bytes. */
static const char *jstr(json_t *o, const char *key, size_t max)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return NULL;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    return n && n <= max && strlen(s) == n ? s : NULL;
}

static bool jint(json_t *o, const char *key, json_int_t lo, json_int_t hi,
                 json_int_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi)
        return false;
    *out = json_integer_value(v);
    return true;
}

static bool jbool(json_t *o, const char *key, bool *out)
{
    json_t *v = json_object_get(o, key);
    if (!v) {
        *out = false;
        return true;
    }
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v);
    return true;
}

enum skyc_err wire_source_decode(struct wire_source *s, const uint8_t *buf,
                                 size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    json_int_t cs = 0, retries = 0;
    memset(s, 0, sizeof(*s));
    json_t *o = json_loadb((const char *)buf, len, 0, &je);
    const char *what = NULL;
    if (!o || !json_is_object(o)) {
        skyc_fail(err, rc, "source request: not a JSON object (%s, col %d)",
                  o ? "wrong type" : je.text, o ? 0 : je.column);
        goto out;
    }
    const char *src = jstr(o, "src", WIRE_MAX_PATH);
    const char *dst = jstr(o, "dst", WIRE_MAX_PATH);
    json_t *ps = json_object_get(o, "paths");
    if (!src)
        what = "src";
    else if (!dst)
        what = "dst";
    else if (!jint(o, "chunk_size", 64 << 10, 256 << 20, &cs))
        what = "chunk_size (64K to 256M)";
    else if (!jint(o, "retries", 0, 100, &retries))
        what = "retries (0 to 100)";
    else if (!jbool(o, "recursive", &s->recursive) ||
             !jbool(o, "sync", &s->sync) ||
             !jbool(o, "compress", &s->compress) ||
             !jbool(o, "encrypt", &s->encrypt))
        what = "recursive/sync/compress/encrypt (booleans)";
    else if (!json_is_array(ps) || json_array_size(ps) == 0 ||
             json_array_size(ps) > WIRE_SOURCE_MAX_PATHS)
        what = "paths (1 to 16)";
    if (what) {
        skyc_fail(err, rc, "source request: missing or bad \"%s\"", what);
        goto out;
    }
    s->src = xstrdup(src);
    s->dst = xstrdup(dst);
    s->chunk_size = (uint32_t)cs;
    s->retries = (int)retries;
    s->paths = xcalloc(json_array_size(ps), sizeof(*s->paths));
    for (size_t i = 0; i < json_array_size(ps); i++) {
        json_t *po = json_array_get(ps, i);
        json_t *hops = json_object_get(po, "hops");
        json_int_t conns = 0;
        struct wire_source_path *p = &s->paths[s->npaths++];
        if (!json_is_object(po) || !json_is_array(hops) ||
            json_array_size(hops) == 0 ||
            json_array_size(hops) > WIRE_SOURCE_MAX_HOPS ||
            !jint(po, "connections", 1, 64, &conns)) {
            skyc_fail(err, rc, "source request: paths[%zu] needs 1 to 16 "
                      "\"hops\" and 1 to 64 \"connections\"", i);
            goto out;
        }
        p->conns = (int)conns;
        p->hops = xcalloc(json_array_size(hops), sizeof(char *));
        for (size_t j = 0; j < json_array_size(hops); j++) {
            json_t *h = json_array_get(hops, j);
            const char *a = json_string_value(h);
            if (!a || !addr_ok(a)) {
                skyc_fail(err, rc, "source request: paths[%zu].hops[%zu] is "
                          "not HOST:PORT", i, j);
                goto out;
            }
            p->hops[p->nhops++] = xstrdup(a);
        }
        if (json_object_get(po, "key_to")) {
            const char *k = jstr(po, "key_to", 300);
            if (!k || !addr_ok(k)) {
                skyc_fail(err, rc, "source request: paths[%zu].key_to is not "
                          "HOST:PORT", i);
                goto out;
            }
            p->key_to = xstrdup(k);
        }
    }
    rc = SKYC_OK;
out:
    json_decref(o);
    if (rc != SKYC_OK)
        wire_source_release(s);
    return rc;
}

#define STATUS_FIELDS(X)                                                       \
    X(objects) X(unchanged) X(total_bytes) X(done_bytes) X(skipped_bytes)      \
    X(wire_bytes) X(chunks_total) X(chunks_sent) X(chunks_skipped)             \
    X(chunks_resent) X(conn_failures)

void wire_status_encode(struct strbuf *sb, const struct wire_status *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "final", json_boolean(s->final));
    json_object_set_new(o, "code", json_integer(s->code));
    if (s->msg[0])
        json_object_set_new(o, "message", json_string(s->msg));
    json_object_set_new(o, "resumed", json_boolean(s->resumed));
    json_object_set_new(o, "seconds", json_real(s->seconds));
#define ENC(f) json_object_set_new(o, #f, json_integer((json_int_t)s->f));
    STATUS_FIELDS(ENC)
#undef ENC
    char *t = json_dumps(o, JSON_COMPACT);
    strbuf_addstr(sb, t);
    free(t);
    json_decref(o);
}

enum skyc_err wire_status_decode(struct wire_status *s, const uint8_t *buf,
                                 size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    json_int_t v = 0;
    memset(s, 0, sizeof(*s));
    json_t *o = json_loadb((const char *)buf, len, 0, &je);
    json_t *sec = o ? json_object_get(o, "seconds") : NULL;
    json_t *msg = o ? json_object_get(o, "message") : NULL;
    if (!o || !json_is_object(o) || !jbool(o, "final", &s->final) ||
        !jbool(o, "resumed", &s->resumed) ||
        !jint(o, "code", 0, 255, &v) || !json_is_number(sec) ||
        (msg && !json_is_string(msg))) {
        skyc_fail(err, rc, "status from the source gateway: not a status "
                  "object");
        goto out;
    }
    s->code = (int)v;
    s->seconds = json_number_value(sec);
    if (msg)
        snprintf(s->msg, sizeof(s->msg), "%s", json_string_value(msg));
#define DEC(f)                                                                 \
    if (!jint(o, #f, 0, INT64_MAX, &v)) {                                      \
        skyc_fail(err, rc, "status from the source gateway: bad \"" #f "\"");  \
        goto out;                                                              \
    }                                                                          \
    s->f = (uint64_t)v;
    STATUS_FIELDS(DEC)
#undef DEC
    rc = SKYC_OK;
out:
    json_decref(o);
    return rc;
}
