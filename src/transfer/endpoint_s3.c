/*
 * endpoint_s3.c - an S3-compatible bucket as an endpoint: libcurl for HTTP,
 * s3/sigv4 for signing, s3xml for the listings.
 *
 * Multipart writes: the upload of a key is found (ListMultipartUploads) or
 * created on first write_open, and remembered per process; parts are
 * numbered offset / part_size + 1, so any writer in any process puts the
 * same bytes under the same number; commit lists the parts (ListParts) and
 * completes the upload. An object that is written whole is one PUT.
 */
#include "core/common.h"
#include "core/http.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/sigv4.h"
#include "transfer/endpoint.h"
#include "transfer/s3xml.h"

#include <curl/curl.h>
#include <pthread.h>

struct s3_ep {
    struct endpoint base;
    char *base_url; /* "http://127.0.0.1:9000", no trailing slash */
    char *host;     /* Host header value */
    char *bucket;
    char *prefix;   /* "" or "dir/" */
    char *ak, *sk, *region;
};

struct ep_writer {
    struct s3_ep *ep;
    char *key;
    char *upload;
    uint32_t part_size;
    int64_t mtime_ns;
};

/* uploads this process created or found: "bucket/key" -> upload id */
static pthread_mutex_t uploads_lock = PTHREAD_MUTEX_INITIALIZER;
static struct upload_ent {
    char *name;
    char *id;
} *uploads;
static size_t nuploads, uploads_alloc;

static struct s3_ep *S(struct endpoint *ep)
{
    return (struct s3_ep *)ep;
}

struct resp {
    long status;
    struct strbuf body;
    struct strbuf headers;
    size_t cap; /* body bytes kept at most */
    /* ranged GET straight into the caller's buffer */
    uint8_t *dst;
    size_t dst_len, dst_got;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t len = sz * n;
    if (r->dst) {
        size_t take = SKYC_MIN(len, r->dst_len - r->dst_got);
        memcpy(r->dst + r->dst_got, p, take);
        r->dst_got += take;
        if (take < len && r->body.len < 4096)
            strbuf_add(&r->body, p + take, SKYC_MIN(len - take, 4096));
        return len;
    }
    if (r->body.len + len <= r->cap)
        strbuf_add(&r->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    strbuf_add(&r->headers, p, sz * n);
    return sz * n;
}

/* The value of header name in r (case-insensitive), into out. */
static bool resp_header(const struct resp *r, const char *name,
                        struct strbuf *out)
{
    size_t nl = strlen(name);
    const char *line = r->headers.buf;
    while (line && *line) {
        const char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > nl && !strncasecmp(line, name, nl) && line[nl] == ':') {
            const char *v = line + nl + 1;
            const char *e = line + ll;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' '))
                e--;
            strbuf_reset(out);
            strbuf_add(out, v, (size_t)(e - v));
            return true;
        }
        line = eol ? eol + 1 : NULL;
    }
    return false;
}

static enum skyc_err status_error(const struct resp *r, const char *what,
                                  struct skyc_error *err)
{
    struct s3x_error e;
    s3x_parse_error(r->body.buf, r->body.len, &e);
    enum skyc_err code = SKYC_E_NETWORK;
    if (r->status == 404)
        code = SKYC_E_NOT_FOUND;
    else if (r->status == 401 || r->status == 403)
        code = SKYC_E_AUTH;
    return skyc_fail(err, code, "%s: HTTP %ld%s%s%s%s", what, r->status,
                     e.code[0] ? " " : "", e.code, e.msg[0] ? ": " : "",
                     e.msg);
}

struct hdr {
    const char *name;
    const char *value;
};

/*
 * One signed request. key NULL addresses the bucket. query is encoded
 * (without '?'), sorted or not. extra headers are sent and signed.
 */
static enum skyc_err s3_call(struct s3_ep *ep, const char *method,
                             const char *key, const char *query,
                             const struct hdr *extra, size_t nextra,
                             const void *body, size_t body_len,
                             struct resp *r, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_NETWORK;
    struct strbuf path = STRBUF_INIT, url = STRBUF_INIT, authz = STRBUF_INIT,
                  line = STRBUF_INIT;
    struct curl_slist *hl = NULL;
    char date[17];
    struct sigv4_header sh[8];
    size_t nsh = 0;
    CURL *c = curl_easy_init();
    if (!c) {
        skyc_fail(err, SKYC_E_INTERNAL, "curl: cannot create a handle");
        goto out;
    }
    strbuf_addf(&path, "/%s", ep->bucket);
    if (key) {
        strbuf_addch(&path, '/');
        strbuf_addstr(&path, ep->prefix);
        strbuf_addstr(&path, key);
    }
    strbuf_addstr(&url, ep->base_url);
    sigv4_uri_encode(&url, path.buf, path.len, true);
    if (query && *query)
        strbuf_addf(&url, "?%s", query);
    sigv4_format_amz_date(time(NULL), date);
    sh[nsh++] = (struct sigv4_header){"host", ep->host};
    sh[nsh++] = (struct sigv4_header){"x-amz-date", date};
    sh[nsh++] = (struct sigv4_header){"x-amz-content-sha256", SIGV4_UNSIGNED};
    for (size_t i = 0; i < nextra && nsh < ARRAY_SIZE(sh); i++)
        sh[nsh++] = (struct sigv4_header){extra[i].name, extra[i].value};
    struct sigv4_request req = {0};
    req.method = method;
    req.path = path.buf;
    req.query = query;
    req.headers = sh;
    req.nheaders = nsh;
    req.payload_hash = SIGV4_UNSIGNED;
    req.normalize_path = false;
    struct sigv4_credentials cred = {ep->ak, ep->sk, ep->region, "s3"};
    sigv4_authorization(&cred, &req, date, &authz);
    for (size_t i = 1; i < nsh; i++) {
        strbuf_reset(&line);
        strbuf_addf(&line, "%s: %s", sh[i].name, sh[i].value);
        hl = curl_slist_append(hl, line.buf);
    }
    strbuf_reset(&line);
    strbuf_addf(&line, "Authorization: %s", authz.buf);
    hl = curl_slist_append(hl, line.buf);
    hl = curl_slist_append(hl, "Expect:");
    if (body && strcmp(method, "POST") == 0)
        hl = curl_slist_append(hl, "Content-Type: application/xml");
    curl_easy_setopt(c, CURLOPT_URL, url.buf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(method, "PUT") || !strcmp(method, "POST")) {
        if (!strcmp(method, "PUT"))
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)body_len);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        skyc_fail(err, SKYC_E_NETWORK, "%s %s: %s", method, url.buf,
                  curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    rc = SKYC_OK;
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    strbuf_release(&path);
    strbuf_release(&url);
    strbuf_release(&authz);
    strbuf_release(&line);
    return rc;
}

static void resp_init(struct resp *r)
{
    memset(r, 0, sizeof(*r));
    strbuf_init(&r->body, 0);
    strbuf_init(&r->headers, 0);
    r->cap = 64 << 20;
}

static void resp_release(struct resp *r)
{
    strbuf_release(&r->body);
    strbuf_release(&r->headers);
}

static void query_arg(struct strbuf *q, const char *k, const char *v)
{
    if (q->len)
        strbuf_addch(q, '&');
    sigv4_uri_encode(q, k, strlen(k), false);
    strbuf_addch(q, '=');
    if (v)
        sigv4_uri_encode(q, v, strlen(v), false);
}

/* ---- list --------------------------------------------------------------- */

static int64_t parse_iso8601(const char *s)
{
    struct tm tm = {0};
    int ms = 0;
    if (sscanf(s, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) < 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000000000;
}

struct list_ctx {
    struct s3_ep *ep;
    struct ep_list *out;
    bool truncated;
    struct strbuf token;
    struct ep_object cur;
    bool in_contents;
};

static void list_open(void *arg, const char *name, int depth)
{
    struct list_ctx *l = arg;
    if (!strcmp(name, "Contents")) {
        memset(&l->cur, 0, sizeof(l->cur));
        l->in_contents = true;
    }
}

static void list_text(void *arg, const char *name, const char *text,
                      int depth)
{
    struct list_ctx *l = arg;
    size_t pl = strlen(l->ep->prefix);
    if (l->in_contents) {
        if (!strcmp(name, "Key")) {
            free(l->cur.key);
            l->cur.key = strncmp(text, l->ep->prefix, pl) == 0
                             ? xstrdup(text + pl)
                             : NULL;
        } else if (!strcmp(name, "Size")) {
            l->cur.size = strtoull(text, NULL, 10);
        } else if (!strcmp(name, "LastModified")) {
            l->cur.mtime_ns = parse_iso8601(text);
        } else if (!strcmp(name, "Contents")) {
            l->in_contents = false;
            if (l->cur.key && *l->cur.key &&
                l->cur.key[strlen(l->cur.key) - 1] != '/') {
                ALLOC_GROW(l->out->v, l->out->n + 1, l->out->alloc);
                l->out->v[l->out->n++] = l->cur;
            } else {
                free(l->cur.key);
            }
            l->cur.key = NULL;
        }
    } else if (!strcmp(name, "IsTruncated")) {
        l->truncated = !strcmp(text, "true");
    } else if (!strcmp(name, "NextContinuationToken")) {
        strbuf_reset(&l->token);
        strbuf_addstr(&l->token, text);
    }
}

static enum skyc_err s3_list(struct endpoint *e, struct ep_list *out,
                             struct skyc_error *err)
{
    struct s3_ep *ep = S(e);
    struct list_ctx l = {ep, out, true, STRBUF_INIT, {0}, false};
    struct s3x_handler h = {list_open, list_text, &l};
    enum skyc_err rc = SKYC_OK;
    struct strbuf q = STRBUF_INIT;
    while (rc == SKYC_OK && l.truncated) {
        struct resp r;
        resp_init(&r);
        strbuf_reset(&q);
        if (l.token.len)
            query_arg(&q, "continuation-token", l.token.buf);
        query_arg(&q, "list-type", "2");
        if (*ep->prefix)
            query_arg(&q, "prefix", ep->prefix);
        l.truncated = false;
        rc = s3_call(ep, "GET", NULL, q.buf, NULL, 0, NULL, 0, &r, err);
        if (rc == SKYC_OK && r.status != 200)
            rc = status_error(&r, "list", err);
        if (rc == SKYC_OK)
            rc = s3x_parse(r.body.buf, r.body.len, &h, err);
        if (rc == SKYC_OK && l.truncated && !l.token.len)
            rc = skyc_fail(err, SKYC_E_NETWORK,
                           "list: truncated without a continuation token");
        resp_release(&r);
    }
    free(l.cur.key);
    strbuf_release(&l.token);
    strbuf_release(&q);
    return rc;
}

static enum skyc_err s3_stat(struct endpoint *e, const char *key,
                             struct ep_object *o, struct skyc_error *err)
{
    struct resp r;
    struct strbuf v = STRBUF_INIT;
    enum skyc_err rc;
    memset(o, 0, sizeof(*o));
    resp_init(&r);
    rc = s3_call(S(e), "HEAD", key, NULL, NULL, 0, NULL, 0, &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = r.status == 404 ? skyc_fail(err, SKYC_E_NOT_FOUND,
                                         "no object '%s' in %s", key,
                                         e->spec)
                             : status_error(&r, "stat", err);
    if (rc == SKYC_OK) {
        o->key = xstrdup(key);
        if (resp_header(&r, "content-length", &v))
            o->size = strtoull(v.buf, NULL, 10);
        if (resp_header(&r, "x-amz-meta-skyc-mtime", &v))
            o->mtime_ns = strtoll(v.buf, NULL, 10);
        else if (resp_header(&r, "last-modified", &v))
            o->mtime_ns = (int64_t)curl_getdate(v.buf, NULL) * 1000000000;
    }
    strbuf_release(&v);
    resp_release(&r);
    return rc;
}

static enum skyc_err s3_read(struct endpoint *e, const char *key, uint64_t off,
                             void *buf, size_t len, struct skyc_error *err)
{
    struct resp r;
    char range[64];
    enum skyc_err rc;
    resp_init(&r);
    r.dst = buf;
    r.dst_len = len;
    snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off,
             off + len - 1);
    struct hdr h = {"range", range};
    rc = s3_call(S(e), "GET", key, NULL, &h, 1, NULL, 0, &r, err);
    if (rc == SKYC_OK && r.status != 206 && !(r.status == 200 && off == 0))
        rc = status_error(&r, "read", err);
    if (rc == SKYC_OK && r.dst_got != len)
        rc = skyc_fail(err, SKYC_E_IO,
                       "read '%s' at %" PRIu64 ": %zu of %zu bytes", key, off,
                       r.dst_got, len);
    resp_release(&r);
    return rc;
}

static enum skyc_err s3_put(struct endpoint *e, const char *key,
                            const void *buf, size_t len, int64_t mtime_ns,
                            uint32_t mode, struct skyc_error *err)
{
    struct resp r;
    char mt[32];
    enum skyc_err rc;
    snprintf(mt, sizeof(mt), "%" PRId64, mtime_ns);
    struct hdr h = {"x-amz-meta-skyc-mtime", mt};
    resp_init(&r);
    rc = s3_call(S(e), "PUT", key, NULL, &h, 1, buf ? buf : "", len, &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = status_error(&r, "put", err);
    resp_release(&r);
    return rc;
}

/* ---- multipart ---------------------------------------------------------- */

struct find_ctx {
    const char *key;
    struct strbuf cur_key, cur_id;
    char *found;
};
static void find_text(void *arg, const char *name, const char *text, int d)
{
    struct find_ctx *f = arg;
    if (!strcmp(name, "Key")) {
        strbuf_reset(&f->cur_key);
        strbuf_addstr(&f->cur_key, text);
    } else if (!strcmp(name, "UploadId")) {
        strbuf_reset(&f->cur_id);
        strbuf_addstr(&f->cur_id, text);
    } else if (!strcmp(name, "Upload") && !f->found &&
               !strcmp(f->cur_key.buf, f->key) && f->cur_id.len) {
        f->found = xstrdup(f->cur_id.buf);
    } else if (!strcmp(name, "InitiateMultipartUploadResult") && !f->found &&
               f->cur_id.len) {
        f->found = xstrdup(f->cur_id.buf);
    }
}

/* Find (create = false) or create the upload of key; *id owned by caller. */
static enum skyc_err upload_of(struct s3_ep *ep, const char *key, bool create,
                               int64_t mtime_ns, char **id,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct strbuf name = STRBUF_INIT, full = STRBUF_INIT, q = STRBUF_INIT;
    struct find_ctx f = {NULL, STRBUF_INIT, STRBUF_INIT, NULL};
    struct s3x_handler h = {NULL, find_text, &f};
    struct resp r;
    resp_init(&r);
    *id = NULL;
    strbuf_addf(&full, "%s%s", ep->prefix, key);
    strbuf_addf(&name, "%s/%s", ep->bucket, full.buf);
    f.key = full.buf;
    pthread_mutex_lock(&uploads_lock);
    for (size_t i = 0; i < nuploads; i++)
        if (!strcmp(uploads[i].name, name.buf)) {
            *id = xstrdup(uploads[i].id);
            goto out;
        }
    /* an upload left by an earlier run (or another gateway) */
    query_arg(&q, "prefix", full.buf);
    query_arg(&q, "uploads", "");
    rc = s3_call(ep, "GET", NULL, q.buf, NULL, 0, NULL, 0, &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = status_error(&r, "list uploads", err);
    if (rc == SKYC_OK)
        rc = s3x_parse(r.body.buf, r.body.len, &h, err);
    if (rc != SKYC_OK)
        goto out;
    if (!f.found && create) {
        resp_release(&r);
        resp_init(&r);
        char mt[32];
        snprintf(mt, sizeof(mt), "%" PRId64, mtime_ns);
        struct hdr mh = {"x-amz-meta-skyc-mtime", mt};
        rc = s3_call(ep, "POST", key, "uploads=", &mh, mtime_ns > 0 ? 1 : 0,
                     "", 0, &r, err);
        if (rc == SKYC_OK && r.status != 200)
            rc = status_error(&r, "create upload", err);
        if (rc == SKYC_OK)
            rc = s3x_parse(r.body.buf, r.body.len, &h, err);
        if (rc == SKYC_OK && !f.found)
            rc = skyc_fail(err, SKYC_E_NETWORK,
                           "create upload of '%s': no UploadId", key);
    }
    if (rc == SKYC_OK && !f.found)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "no upload of '%s' to commit",
                       key);
    if (rc != SKYC_OK)
        goto out;
    ALLOC_GROW(uploads, nuploads + 1, uploads_alloc);
    uploads[nuploads].name = xstrdup(name.buf);
    uploads[nuploads].id = xstrdup(f.found);
    nuploads++;
    *id = f.found;
    f.found = NULL;
out:
    pthread_mutex_unlock(&uploads_lock);
    free(f.found);
    strbuf_release(&f.cur_key);
    strbuf_release(&f.cur_id);
    strbuf_release(&name);
    strbuf_release(&full);
    strbuf_release(&q);
    resp_release(&r);
    return rc;
}

static void upload_forget(struct s3_ep *ep, const char *key)
{
    struct strbuf name = STRBUF_INIT;
    strbuf_addf(&name, "%s/%s%s", ep->bucket, ep->prefix, key);
    pthread_mutex_lock(&uploads_lock);
    for (size_t i = 0; i < nuploads; i++)
        if (!strcmp(uploads[i].name, name.buf)) {
            free(uploads[i].name);
            free(uploads[i].id);
            uploads[i] = uploads[--nuploads];
            break;
        }
    if (nuploads == 0) {
        FREE_AND_NULL(uploads);
        uploads_alloc = 0;
    }
    pthread_mutex_unlock(&uploads_lock);
    strbuf_release(&name);
}

static enum skyc_err s3_write_open(struct endpoint *e, const char *key,
                                   uint32_t part_size, int64_t mtime_ns,
                                   struct ep_writer **w,
                                   struct skyc_error *err)
{
    struct ep_writer *x = xcalloc(1, sizeof(*x));
    x->ep = S(e);
    x->key = xstrdup(key);
    x->part_size = part_size ? part_size : (64u << 20);
    x->mtime_ns = mtime_ns;
    *w = x;
    return SKYC_OK;
}

static enum skyc_err s3_write_at(struct ep_writer *w, uint64_t off,
                                 const void *buf, size_t len,
                                 struct skyc_error *err)
{
    enum skyc_err rc;
    struct strbuf q = STRBUF_INIT;
    char num[24];
    struct resp r;
    resp_init(&r);
    if (off % w->part_size) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "part of '%s' at %" PRIu64 " is not on a %" PRIu32
                       "-byte boundary", w->key, off, w->part_size);
        goto out;
    }
    if (!w->upload &&
        (rc = upload_of(w->ep, w->key, true, w->mtime_ns, &w->upload, err)) != SKYC_OK)
        goto out;
    snprintf(num, sizeof(num), "%" PRIu64, off / w->part_size + 1);
    query_arg(&q, "partNumber", num);
    query_arg(&q, "uploadId", w->upload);
    rc = s3_call(w->ep, "PUT", w->key, q.buf, NULL, 0, buf, len, &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = status_error(&r, "upload part", err);
out:
    strbuf_release(&q);
    resp_release(&r);
    return rc;
}

static void s3_write_close(struct ep_writer *w)
{
    if (!w)
        return;
    free(w->key);
    free(w->upload);
    free(w);
}

struct parts_ctx {
    struct strbuf xml;
    long num;
    struct strbuf etag;
    size_t n;
};
static void parts_text(void *arg, const char *name, const char *text, int d)
{
    struct parts_ctx *p = arg;
    if (!strcmp(name, "PartNumber")) {
        p->num = strtol(text, NULL, 10);
    } else if (!strcmp(name, "ETag")) {
        strbuf_reset(&p->etag);
        strbuf_addstr(&p->etag, text);
    } else if (!strcmp(name, "Part")) {
        strbuf_addf(&p->xml, "<Part><PartNumber>%ld</PartNumber><ETag>", p->num);
        for (const char *c = p->etag.buf; *c; c++) {
            if (*c == '&')
                strbuf_addstr(&p->xml, "&amp;");
            else if (*c == '<')
                strbuf_addstr(&p->xml, "&lt;");
            else if (*c == '"')
                strbuf_addstr(&p->xml, "&quot;");
            else
                strbuf_addch(&p->xml, *c);
        }
        strbuf_addstr(&p->xml, "</ETag></Part>");
        p->n++;
    }
}

static enum skyc_err s3_write_commit(struct ep_writer *w, uint64_t size,
                                     int64_t mtime_ns, uint32_t mode,
                                     struct skyc_error *err)
{
    enum skyc_err rc;
    struct strbuf q = STRBUF_INIT;
    struct parts_ctx p = {STRBUF_INIT, 0, STRBUF_INIT, 0};
    struct s3x_handler h = {NULL, parts_text, &p};
    struct resp r;
    resp_init(&r);
    if (!w->upload &&
        (rc = upload_of(w->ep, w->key, false, 0, &w->upload, err)) != SKYC_OK)
        goto out;
    query_arg(&q, "uploadId", w->upload);
    rc = s3_call(w->ep, "GET", w->key, q.buf, NULL, 0, NULL, 0, &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = status_error(&r, "list parts", err);
    strbuf_addstr(&p.xml, "<CompleteMultipartUpload>");
    if (rc == SKYC_OK)
        rc = s3x_parse(r.body.buf, r.body.len, &h, err);
    strbuf_addstr(&p.xml, "</CompleteMultipartUpload>");
    uint64_t want = w->part_size ? (size + w->part_size - 1) / w->part_size : 0;
    if (rc == SKYC_OK && p.n != want)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "upload of '%s' has %zu of %" PRIu64 " parts", w->key,
                       p.n, want);
    if (rc != SKYC_OK)
        goto out;
    resp_release(&r);
    resp_init(&r);
    rc = s3_call(w->ep, "POST", w->key, q.buf, NULL, 0, p.xml.buf, p.xml.len,
                 &r, err);
    if (rc == SKYC_OK && r.status != 200)
        rc = status_error(&r, "complete upload", err);
    if (rc == SKYC_OK)
        upload_forget(w->ep, w->key);
out:
    (void)mtime_ns;
    (void)mode;
    strbuf_release(&q);
    strbuf_release(&p.xml);
    strbuf_release(&p.etag);
    resp_release(&r);
    s3_write_close(w);
    return rc;
}

static enum skyc_err s3_remove(struct endpoint *e, const char *key,
                               struct skyc_error *err)
{
    struct resp r;
    enum skyc_err rc;
    resp_init(&r);
    rc = s3_call(S(e), "DELETE", key, NULL, NULL, 0, NULL, 0, &r, err);
    if (rc == SKYC_OK && r.status != 204 && r.status != 200)
        rc = status_error(&r, "delete", err);
    resp_release(&r);
    return rc;
}

enum skyc_err endpoint_s3_request(struct endpoint *e, const char *method,
                                  const char *key, const char *query,
                                  const void *body, size_t len, long *status,
                                  struct strbuf *out, struct skyc_error *err)
{
    struct resp r;
    enum skyc_err rc;
    if (strcmp(e->ops->scheme, "s3") != 0)
        return skyc_fail(err, SKYC_E_USAGE, "'%s' is not an S3 endpoint",
                         e->spec);
    resp_init(&r);
    rc = s3_call(S(e), method, key, query, NULL, 0, body, len, &r, err);
    if (rc == SKYC_OK) {
        *status = r.status;
        strbuf_add(out, r.body.buf, r.body.len);
    }
    resp_release(&r);
    return rc;
}

static void s3_free(struct endpoint *e)
{
    struct s3_ep *ep = S(e);
    free(ep->base_url);
    free(ep->host);
    free(ep->bucket);
    free(ep->prefix);
    free(ep->ak);
    free(ep->sk);
    free(ep->region);
    free(e->spec);
    free(ep);
}

static const struct endpoint_ops s3_ops = {
    .scheme = "s3",
    .list = s3_list,
    .stat = s3_stat,
    .read = s3_read,
    .put = s3_put,
    .write_open = s3_write_open,
    .write_at = s3_write_at,
    .write_commit = s3_write_commit,
    .write_close = s3_write_close,
    .remove = s3_remove,
    .free = s3_free,
};

static const char *env_or(const char *a, const char *b, const char *def)
{
    const char *v = getenv(a);
    if (v && *v)
        return v;
    v = b ? getenv(b) : NULL;
    return v && *v ? v : def;
}

enum skyc_err endpoint_s3_open(const char *spec, struct endpoint **out,
                               struct skyc_error *err)
{
    const char *region = env_or("AWS_REGION", "AWS_DEFAULT_REGION",
                                "us-east-1");
    struct strbuf def = STRBUF_INIT;
    strbuf_addf(&def, "https://s3.%s.amazonaws.com", region);
    struct endpoint_s3_opts o = {
        .url = env_or("SKYC_S3_ENDPOINT", "AWS_ENDPOINT_URL", def.buf),
        .access_key = env_or("AWS_ACCESS_KEY_ID", NULL, NULL),
        .secret_key = env_or("AWS_SECRET_ACCESS_KEY", NULL, NULL),
        .region = region,
    };
    enum skyc_err rc = endpoint_s3_open_with(spec, &o, out, err);
    strbuf_release(&def);
    return rc;
}

enum skyc_err endpoint_s3_open_with(const char *spec,
                                    const struct endpoint_s3_opts *o,
                                    struct endpoint **out,
                                    struct skyc_error *err)
{
    const char *b = spec + 5;
    size_t bl = strcspn(b, "/");
    const char *ak = o->access_key, *sk = o->secret_key;
    const char *region = o->region && *o->region ? o->region : "us-east-1";
    *out = NULL;
    if (strncmp(spec, "s3://", 5) != 0 || bl == 0 || bl > 63)
        return skyc_fail(err, SKYC_E_USAGE,
                         "'%s': want s3://BUCKET[/PREFIX]", spec);
    if (!ak || !sk || !*ak || !*sk)
        return skyc_fail(err, SKYC_E_AUTH,
                         "'%s': set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY", spec);
    if (!o->url || !*o->url)
        return skyc_fail(err, SKYC_E_USAGE, "'%s': no endpoint URL", spec);
    http_global_init();
    struct s3_ep *ep = xcalloc(1, sizeof(*ep));
    const char *url = o->url;
    size_t ul = strlen(url);
    while (ul && url[ul - 1] == '/')
        ul--;
    ep->base_url = xstrndup(url, ul);
    const char *h = strstr(ep->base_url, "://");
    h = h ? h + 3 : ep->base_url;
    ep->host = xstrndup(h, strcspn(h, "/"));
    ep->bucket = xstrndup(b, bl);
    const char *pre = b + bl;
    while (*pre == '/')
        pre++;
    size_t pl = strlen(pre);
    while (pl && pre[pl - 1] == '/')
        pl--;
    ep->prefix = pl ? xasprintf("%.*s/", (int)pl, pre) : xstrdup("");
    ep->ak = xstrdup(ak);
    ep->sk = xstrdup(sk);
    ep->region = xstrdup(region);
    ep->base.ops = &s3_ops;
    ep->base.spec = xstrdup(spec);
    *out = &ep->base;
    return SKYC_OK;
}
