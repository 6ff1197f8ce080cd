/*
 * server_object.c - object operations of the store server: Put/Get/Head/
 * Delete/CopyObject, conditional requests, ranges (multipart uploads are in
 * server_multipart.c).
 */
#include "core/common.h"
#include "core/alloc.h"
#include <ctype.h>
#include "core/log.h"
#include "core/strbuf.h"
#include "core/clock.h"
#include "core/hex.h"
#include "s3/xmlbody.h"
#include "store/server_internal.h"

#include <jansson.h>
#include <sys/random.h>
#include <unistd.h>

/* Compare an ETag from a header with a stored one, quotes optional. */
bool etag_eq(const char *a, const char *stored)
{
    size_t an = strlen(a), sn = strlen(stored);
    if (an >= 2 && a[0] == '"' && a[an - 1] == '"')
        a++, an -= 2;
    if (sn >= 2 && stored[0] == '"' && stored[sn - 1] == '"')
        stored++, sn -= 2;
    return an == sn && memcmp(a, stored, an) == 0;
}

/* Does any entry of a comma-separated If-Match list match? */
static bool etag_list_match(const char *list, const char *stored)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ')
            t[--n] = '\0';
        if (!strcmp(t, "*") || etag_eq(t, stored))
            return true;
    }
    return false;
}

/*
 * Evaluate If-Match / If-None-Match / If-(Un)Modified-Since (names given so
 * copy-source variants reuse it). Returns 0 (go on), 304 or 412.
 */
static int conditions(struct req *r, const struct meta_object *o,
                      const char *h_match, const char *h_none,
                      const char *h_mod, const char *h_unmod, bool get)
{
    const char *im = req_header(r, h_match);
    const char *inm = req_header(r, h_none);
    const char *ims = req_header(r, h_mod);
    const char *ius = req_header(r, h_unmod);
    int64_t mt = o->mtime_ms / 1000 * 1000;
    if (im) {
        if (!etag_list_match(im, o->etag))
            return 412;
    } else if (ius) {
        int64_t t = parse_http_date(ius);
        if (t >= 0 && mt > t)
            return 412;
    }
    if (inm) {
        if (etag_list_match(inm, o->etag))
            return get ? 304 : 412;
    } else if (ims) {
        int64_t t = parse_http_date(ims);
        if (t >= 0 && mt <= t && get)
            return 304;
        if (t >= 0 && mt <= t && !get)
            return 412;
    }
    return 0;
}

static const char *const stored_headers[] = {
    "Content-Type",     "Cache-Control",    "Expires",
    "Content-Disposition", "Content-Language", "x-amz-website-redirect-location",
    "x-amz-storage-class", "x-amz-tagging",
};

struct meta_collect {
    json_t *arr;
};

static enum MHD_Result collect_meta(void *cls, enum MHD_ValueKind kind,
                                    const char *key, const char *value)
{
    struct meta_collect *c = cls;
    (void)kind;
    if (!strncasecmp(key, "x-amz-meta-", 11)) {
        char name[256];
        snprintf(name, sizeof(name), "%s", key);
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        json_array_append_new(c->arr, json_pack("[ss]", name, value ? value : ""));
    }
    return MHD_YES;
}

char *collect_object_headers(struct req *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < ARRAY_SIZE(stored_headers); i++) {
        const char *v = req_header(r, stored_headers[i]);
        if (v && strcmp(stored_headers[i], "x-amz-storage-class") &&
            strcmp(stored_headers[i], "x-amz-tagging"))
            json_array_append_new(arr, json_pack("[ss]", stored_headers[i], v));
    }
    const char *ce = req_header(r, "Content-Encoding");
    if (ce) { /* aws-chunked is transport, not content */
        struct strbuf v = STRBUF_INIT;
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", ce);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ')
                t++;
            if (!strcmp(t, "aws-chunked") || !*t)
                continue;
            if (v.len)
                strbuf_addch(&v, ',');
            strbuf_addstr(&v, t);
        }
        if (v.len)
            json_array_append_new(arr,
                                  json_pack("[ss]", "Content-Encoding", v.buf));
        strbuf_release(&v);
    }
    struct meta_collect c = {arr};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_meta, &c);
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return s ? s : xstrdup("[]");
}

void add_object_headers(struct MHD_Response *resp, const char *js)
{
    json_t *arr = json_loads(js ? js : "[]", 0, NULL);
    size_t i;
    json_t *pair;
    bool have_ct = false;
    json_array_foreach(arr, i, pair)
    {
        const char *n = json_string_value(json_array_get(pair, 0));
        const char *v = json_string_value(json_array_get(pair, 1));
        if (n && v) {
            MHD_add_response_header(resp, n, v);
            have_ct |= !strcasecmp(n, "Content-Type");
        }
    }
    if (!have_ct)
        MHD_add_response_header(resp, "Content-Type", "binary/octet-stream");
    json_decref(arr);
}

static enum MHD_Result no_bucket(struct req *r, enum skyc_err rc,
                                 struct skyc_error *err)
{
    if (rc == SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchBucket, NULL);
    return respond_internal(r, err);
}

bool precheck_put(struct req *r)
{
    struct skyc_error err = {0};
    enum skyc_err rc = meta_bucket_get(&r->srv->meta, r->bucket, NULL, NULL,
                                       &err);
    if (rc == SKYC_E_NOT_FOUND) {
        req_fail(r, S3E_NoSuchBucket, NULL);
        return false;
    }
    if (r->op != OP_PUT_OBJECT)
        return true;
    const char *inm = req_header(r, "If-None-Match");
    const char *im = req_header(r, "If-Match");
    if (!inm && !im)
        return true;
    struct meta_object o;
    rc = meta_object_get(&r->srv->meta, r->bucket, r->key, &o, &err);
    if (rc == SKYC_E_NOT_FOUND) {
        if (im) {
            req_fail(r, S3E_NoSuchKey, NULL);
            return false;
        }
        return true;
    }
    if (rc == SKYC_OK) {
        int c = conditions(r, &o, "If-Match", "If-None-Match",
                           "If-Modified-Since", "If-Unmodified-Since", false);
        meta_object_release(&o);
        if (c) {
            req_fail(r, S3E_PreconditionFailed, NULL);
            return false;
        }
    }
    return true;
}

/* Commit the PUT's blob and its row; remove the blob it replaced. */
enum MHD_Result finish_put(struct req *r, const char *etag,
                                  char *headers, bool part, long part_no,
                                  const char *upload_id)
{
    struct skyc_error err = {0};
    struct store_region *reg = region_for_write(r);
    char *old = NULL;
    enum skyc_err rc;
    uint64_t size = r->inline_data ? r->buf.len : r->w.size;
    char id[BLOB_ID_LEN + 1] = "";
    if (!r->inline_data) {
        memcpy(id, r->w.id, sizeof(id));
        r->w_open = false;
        if ((rc = backend_commit(&r->w, &err))) {
            free(headers);
            return respond_internal(r, &err);
        }
    }
    if (part) {
        struct meta_part p = {part_no, size, (char *)etag, id, clock_wall_ms(),
                              reg->name};
        rc = meta_part_put(&r->srv->meta, upload_id, &p, &old, &err);
    } else {
        struct meta_object o = {
            .bucket = r->bucket,
            .key = r->key,
            .size = size,
            .etag = (char *)etag,
            .mtime_ms = clock_wall_ms(),
            .blob = id,
            .region = reg->name,
            .headers = headers,
            .checksum = r->ck_expected,
            .has_data = r->inline_data,
            .data = r->buf.buf,
            .data_len = r->buf.len,
        };
        rc = meta_object_put(&r->srv->meta, &o, &old, &err);
    }
    free(headers);
    if (rc) {
        backend_remove(&reg->be, id);
        if (rc == SKYC_E_NOT_FOUND)
            return respond_error(r, part ? S3E_NoSuchUpload : S3E_NoSuchBucket,
                                 NULL);
        return respond_internal(r, &err);
    }
    if (old)
        remove_everywhere(r->srv, old);
    free(old);
    if (!part)
        mr_after_put(r, id, size, reg);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "ETag", etag);
    if (r->ck_expected) {
        const char *colon = strchr(r->ck_expected, ':');
        char name[48];
        snprintf(name, sizeof(name), "x-amz-checksum-%.*s",
                 (int)(colon - r->ck_expected), r->ck_expected);
        MHD_add_response_header(resp, name, colon + 1);
    }
    return respond(r, 200, resp);
}

enum MHD_Result h_put_object(struct req *r)
{
    char etag[40];
    etag[0] = '"';
    hex_encode(r->md5_out, 16, etag + 1);
    etag[33] = '"';
    etag[34] = '\0';
    return finish_put(r, etag, collect_object_headers(r), false, 0, NULL);
}

/* Parse "bytes=a-b" against size; 0 ok, 1 no/ignored range, -1 unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *off,
                       uint64_t *len)
{
    if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
        return 1;
    const char *p = h + 6;
    char *end;
    if (*p == '-') {
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (end == p + 1 || *end)
            return 1;
        if (n == 0)
            return -1;
        if (n > size)
            n = size;
        *off = size - n;
        *len = n;
        return size ? 0 : -1;
    }
    unsigned long long a = strtoull(p, &end, 10);
    if (end == p || *end != '-')
        return 1;
    p = end + 1;
    unsigned long long b = size ? size - 1 : 0;
    if (*p) {
        b = strtoull(p, &end, 10);
        if (*end)
            return 1;
        if (b < a)
            return 1;
        if (b >= size)
            b = size ? size - 1 : 0;
    }
    if (a >= size)
        return -1;
    *off = a;
    *len = b - a + 1;
    return 0;
}

enum MHD_Result h_get_object(struct req *r, bool head)
{
    struct skyc_error err = {0};
    struct meta_object o;
    enum skyc_err rc = meta_object_get(&r->srv->meta, r->bucket, r->key, &o,
                                       &err);
    enum MHD_Result ret;
    if (rc == SKYC_E_NOT_FOUND) {
        if (meta_bucket_get(&r->srv->meta, r->bucket, NULL, NULL, &err) ==
            SKYC_E_NOT_FOUND)
            return respond_error(r, S3E_NoSuchBucket, NULL);
        return respond_error(r, S3E_NoSuchKey, NULL);
    }
    if (rc)
        return respond_internal(r, &err);
    const char *vid = req_arg(r, "versionId");
    if (vid && strcmp(vid, "null") != 0) {
        meta_object_release(&o);
        return respond_error(r, S3E_NoSuchKey,
                             "The specified version does not exist.");
    }
    char date[40];
    http_date(date, o.mtime_ms);
    int c = conditions(r, &o, "If-Match", "If-None-Match", "If-Modified-Since",
                       "If-Unmodified-Since", true);
    if (c == 412) {
        meta_object_release(&o);
        return respond_error(r, S3E_PreconditionFailed, NULL);
    }
    if (c == 304) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(
            0, (void *)"", MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "ETag", o.etag);
        MHD_add_response_header(resp, "Last-Modified", date);
        meta_object_release(&o);
        return respond(r, 304, resp);
    }
    int fd = -1;
    uint64_t bsize = 0;
    struct mr_tee *tee = NULL; /* a replica to write from the bytes served */
    struct store_region *reg =
        head ? region_named(r->srv, o.region) : mr_for_read(r, &o, &tee);
    if (o.has_data && tee) { /* bytes in the row: a copier's job */
        mr_tee_later(r->srv, tee);
        tee = NULL;
    }
    bool stream = !o.has_data && (reg->be.remote || tee); /* mr_body_response */
    if (!o.has_data && !stream &&
        (rc = backend_open_read(&reg->be, o.blob, &fd, &bsize, &err))) {
        meta_object_release(&o);
        return respond_internal(r, &err);
    }
    uint64_t off = 0, len = o.size;
    int status = 200;
    const char *range = req_header(r, "Range");
    int pr = parse_range(range, o.size, &off, &len);
    if (pr < 0) {
        if (fd >= 0)
            close(fd);
        mr_tee_later(r->srv, tee);
        struct strbuf x = STRBUF_INIT;
        s3_error_xml(&x, S3E_InvalidRange, NULL, r->path, r->request_id);
        size_t n;
        char *body = strbuf_detach(&x, &n);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
        char cr[64];
        snprintf(cr, sizeof(cr), "bytes */%" PRIu64, o.size);
        MHD_add_response_header(resp, "Content-Range", cr);
        MHD_add_response_header(resp, "Content-Type", "application/xml");
        meta_object_release(&o);
        return respond(r, 416, resp);
    }
    if (pr == 0)
        status = 206;
    struct MHD_Response *resp;
    if (o.has_data) {
        resp = MHD_create_response_from_buffer(
            len, (char *)o.data + off, MHD_RESPMEM_MUST_COPY);
    } else if (stream) {
        resp = mr_body_response(r, &o, reg, off, len, tee);
    } else if (len == 0) {
        if (fd >= 0)
            close(fd);
        resp = MHD_create_response_from_buffer(0, (void *)"",
                                               MHD_RESPMEM_PERSISTENT);
    } else {
        backend_count_read(&reg->be, head ? 0 : len);
        resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
    }
    if (!resp) {
        meta_object_release(&o);
        return respond_error(r, S3E_InternalError, NULL);
    }
    add_object_headers(resp, o.headers);
    if (r->srv->multi && !head) /* the region the bytes came from */
        MHD_add_response_header(resp, "x-skyc-read-region", reg->name);
    MHD_add_response_header(resp, "ETag", o.etag);
    MHD_add_response_header(resp, "Last-Modified", date);
    MHD_add_response_header(resp, "Accept-Ranges", "bytes");
    if (status == 206) {
        char cr[96];
        snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, off,
                 off + len - 1, o.size);
        MHD_add_response_header(resp, "Content-Range", cr);
    }
    const char *cm = req_header(r, "x-amz-checksum-mode");
    if (cm && !strcasecmp(cm, "ENABLED") && o.checksum && status == 200) {
        const char *colon = strchr(o.checksum, ':');
        if (colon) {
            char name[48];
            snprintf(name, sizeof(name), "x-amz-checksum-%.*s",
                     (int)(colon - o.checksum), o.checksum);
            MHD_add_response_header(resp, name, colon + 1);
        }
    }
    static const char *const overrides[][2] = {
        {"response-content-type", "Content-Type"},
        {"response-content-language", "Content-Language"},
        {"response-expires", "Expires"},
        {"response-cache-control", "Cache-Control"},
        {"response-content-disposition", "Content-Disposition"},
        {"response-content-encoding", "Content-Encoding"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(overrides); i++) {
        const char *v = req_arg(r, overrides[i][0]);
        if (v) {
            MHD_del_response_header(resp, overrides[i][1],
                                    MHD_get_response_header(resp,
                                                            overrides[i][1]));
            MHD_add_response_header(resp, overrides[i][1], v);
        }
    }
    (void)head; /* MHD sends no body for HEAD */
    meta_object_release(&o);
    ret = respond(r, status, resp);
    return ret;
}

enum MHD_Result h_delete_object(struct req *r)
{
    struct skyc_error err = {0};
    char *old = NULL;
    enum skyc_err rc =
        meta_object_delete(&r->srv->meta, r->bucket, r->key, &old, &err);
    if (rc == SKYC_E_NOT_FOUND &&
        meta_bucket_get(&r->srv->meta, r->bucket, NULL, NULL, &err) ==
            SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchBucket, NULL);
    if (rc && rc != SKYC_E_NOT_FOUND)
        return respond_internal(r, &err);
    if (!rc)
        mr_delete(r, r->key);
    if (old)
        remove_everywhere(r->srv, old);
    free(old);
    return respond_empty(r, 204);
}

/* "/bucket/key" or "bucket/key[?versionId=..]", URL-encoded. */
static bool parse_copy_source(const char *src, char **bucket, char **key)
{
    struct strbuf d = STRBUF_INIT;
    const char *q = strchr(src, '?');
    sigv4_uri_decode(&d, src, q ? (size_t)(q - src) : strlen(src));
    const char *p = d.buf;
    while (*p == '/')
        p++;
    const char *slash = strchr(p, '/');
    bool ok = slash && slash > p && slash[1];
    if (ok) {
        *bucket = xstrndup(p, (size_t)(slash - p));
        *key = xstrdup(slash + 1);
    }
    strbuf_release(&d);
    return ok;
}

/* Copy [off, off+len) of blob src into a new blob, hashing MD5. */
static enum skyc_err copy_blob(struct store_region *src_reg, const char *src,
                               const struct meta_object *so, uint64_t off,
                               uint64_t len, struct store_region *dst_reg,
                               struct blob_writer *w, uint8_t md5[16],
                               struct skyc_error *err)
{
    enum skyc_err rc;
    struct blob_reader rd = {.fd = -1};
    char *buf = NULL;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    if ((rc = backend_create(&dst_reg->be, w, err)))
        goto out;
    if (so->has_data) { /* an inline source: bytes from its row */
        EVP_DigestUpdate(ctx, (const char *)so->data + off, (size_t)len);
        if ((rc = backend_write(w, (const char *)so->data + off, (size_t)len,
                                err)))
            goto out;
        len = 0;
    } else if ((rc = backend_reader_open(&src_reg->be, src, &rd, err))) {
        goto out;
    }
    buf = xmalloc(1u << 20);
    while (len) {
        size_t n = len > (1u << 20) ? (1u << 20) : (size_t)len;
        if ((rc = backend_reader_read(&rd, off, buf, n, err)))
            goto out;
        backend_count_read(&src_reg->be, n);
        size_t got = n;
        EVP_DigestUpdate(ctx, buf, got);
        if ((rc = backend_write(w, buf, (size_t)got, err)))
            goto out;
        off += (uint64_t)got;
        len -= (uint64_t)got;
    }
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md5, &mdlen);
    rc = SKYC_OK;
out:
    if (rc)
        backend_abort(w);
    backend_reader_close(&rd);
    free(buf);
    EVP_MD_CTX_free(ctx);
    return rc;
}

enum MHD_Result h_copy_object(struct req *r, bool part)
{
    struct skyc_error err = {0};
    char *sb = NULL, *sk = NULL;
    struct meta_object o = {0};
    struct meta_upload u = {0};
    enum MHD_Result ret;
    enum skyc_err rc;
    long part_no = 0;
    if (!parse_copy_source(req_header(r, "x-amz-copy-source"), &sb, &sk)) {
        ret = respond_error(r, S3E_InvalidArgument,
                            "Copy Source must mention the source bucket and "
                            "key: sourcebucket/sourcekey");
        goto out;
    }
    if (part) {
        const char *pn = req_arg(r, "partNumber");
        char *end = NULL;
        part_no = pn ? strtol(pn, &end, 10) : 0;
        if (!pn || *end || part_no < 1 || part_no > 10000) {
            ret = respond_error(r, S3E_InvalidArgument,
                                "Part number must be an integer between 1 "
                                "and 10000, inclusive");
            goto out;
        }
        rc = meta_upload_get(&r->srv->meta, req_arg(r, "uploadId"), &u, &err);
        if (rc || strcmp(u.bucket, r->bucket) || strcmp(u.key, r->key)) {
            ret = rc && rc != SKYC_E_NOT_FOUND
                      ? respond_internal(r, &err)
                      : respond_error(r, S3E_NoSuchUpload, NULL);
            goto out;
        }
    } else if ((rc = meta_bucket_get(&r->srv->meta, r->bucket, NULL, NULL,
                                     &err))) {
        ret = no_bucket(r, rc, &err);
        goto out;
    }
    rc = meta_object_get(&r->srv->meta, sb, sk, &o, &err);
    if (rc == SKYC_E_NOT_FOUND) {
        ret = respond_error(r,
                            meta_bucket_get(&r->srv->meta, sb, NULL, NULL,
                                            &err) == SKYC_E_NOT_FOUND
                                ? S3E_NoSuchBucket
                                : S3E_NoSuchKey,
                            NULL);
        goto out;
    }
    if (rc) {
        ret = respond_internal(r, &err);
        goto out;
    }
    if (conditions(r, &o, "x-amz-copy-source-if-match",
                   "x-amz-copy-source-if-none-match",
                   "x-amz-copy-source-if-modified-since",
                   "x-amz-copy-source-if-unmodified-since", false)) {
        ret = respond_error(r, S3E_PreconditionFailed, NULL);
        goto out;
    }
    uint64_t off = 0, len = o.size;
    if (part) {
        const char *cr = req_header(r, "x-amz-copy-source-range");
        if (cr && parse_range(cr, o.size, &off, &len) != 0) {
            ret = respond_error(r, S3E_InvalidArgument,
                                "The x-amz-copy-source-range value must be of "
                                "the form bytes=first-last within the source");
            goto out;
        }
    }
    const char *directive = req_header(r, "x-amz-metadata-directive");
    bool replace = directive && !strcasecmp(directive, "REPLACE");
    if (directive && !replace && strcasecmp(directive, "COPY")) {
        ret = respond_error(r, S3E_InvalidArgument,
                            "Unknown metadata directive.");
        goto out;
    }
    if (!part && !replace && !strcmp(sb, r->bucket) && !strcmp(sk, r->key)) {
        ret = respond_error(r, S3E_InvalidRequest,
                            "This copy request is illegal because it is "
                            "trying to copy an object to itself without "
                            "changing the object's metadata, storage class, "
                            "website redirect location or encryption "
                            "attributes.");
        goto out;
    }
    struct blob_writer w;
    uint8_t md5[16];
    struct store_region *dst = region_for_write(r);
    if ((rc = copy_blob(region_named(r->srv, o.region), o.blob, &o, off, len,
                        dst, &w, md5, &err))) {
        ret = respond_internal(r, &err);
        goto out;
    }
    char etag[40];
    etag[0] = '"';
    hex_encode(md5, 16, etag + 1);
    etag[33] = '"';
    etag[34] = '\0';
    /* a copy of a multipart object keeps its ETag, as S3's does */
    const char *new_etag = !part && strchr(o.etag, '-') ? o.etag : etag;
    char id[BLOB_ID_LEN + 1];
    memcpy(id, w.id, sizeof(id));
    if ((rc = backend_commit(&w, &err))) {
        ret = respond_internal(r, &err);
        goto out;
    }
    char *old = NULL;
    int64_t mt = clock_wall_ms();
    if (part) {
        struct meta_part p = {part_no, len, etag, id, mt, dst->name};
        rc = meta_part_put(&r->srv->meta, u.id, &p, &old, &err);
    } else {
        char *headers = replace ? collect_object_headers(r) : NULL;
        struct meta_object n = {
            .bucket = r->bucket,
            .key = r->key,
            .size = len,
            .etag = (char *)new_etag,
            .mtime_ms = mt,
            .blob = id,
            .region = dst->name,
            .headers = replace ? headers : o.headers,
            .checksum = o.checksum,
        };
        rc = meta_object_put(&r->srv->meta, &n, &old, &err);
        free(headers);
    }
    if (rc) {
        backend_remove(&dst->be, id);
        ret = rc == SKYC_E_NOT_FOUND
                  ? respond_error(r, part ? S3E_NoSuchUpload : S3E_NoSuchBucket,
                                  NULL)
                  : respond_internal(r, &err);
        goto out;
    }
    if (old)
        remove_everywhere(r->srv, old);
    free(old);
    if (!part)
        mr_after_put(r, id, len, dst);
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD);
    strbuf_addstr(&x, part ? "<CopyPartResult xmlns=\"" XMLNS "\">"
                           : "<CopyObjectResult xmlns=\"" XMLNS "\">");
    strbuf_addstr(&x, "<LastModified>");
    iso8601(&x, mt);
    strbuf_addstr(&x, "</LastModified><ETag>");
    xml_escape(&x, new_etag, strlen(new_etag));
    strbuf_addstr(&x, "</ETag>");
    strbuf_addstr(&x, part ? "</CopyPartResult>" : "</CopyObjectResult>");
    ret = respond_xml(r, 200, &x);
out:
    free(sb);
    free(sk);
    meta_object_release(&o);
    meta_upload_release(&u);
    return ret;
}
