/*
 * wire.c - frame headers, chunk bodies and HELLO of the data plane.
 */
#include "core/common.h"
#include "core/alloc.h"
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
    if (h->type < WIRE_HELLO || h->type > WIRE_BYE)
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

static void hex(char *out, const uint8_t *in, size_t n)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int unhex1(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
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
        hex(k, h->key, 32);
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
            int hi = unhex1(k[2 * i]), lo = unhex1(k[2 * i + 1]);
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
