/*
 * server_multipart.c - multipart uploads of the store server: create,
 * upload part, complete (with part checks), abort, list parts. UploadPartCopy
 * is h_copy_object(r, true) in server_object.c.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/clock.h"
#include "core/hex.h"
#include "s3/xmlbody.h"
#include "store/server_internal.h"

#include <sys/random.h>
#include <unistd.h>

#define MIN_PART_SIZE (5u << 20)

static enum MHD_Result no_bucket(struct req *r, enum skyc_err rc,
                                 struct skyc_error *err)
{
    if (rc == SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchBucket, NULL);
    return respond_internal(r, err);
}

/* ---- multipart ------------------------------------------------------- */

enum MHD_Result h_create_upload(struct req *r)
{
    struct skyc_error err = {0};
    uint8_t rnd[16];
    char id[33];
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        return respond_error(r, S3E_InternalError, NULL);
    hex_encode(rnd, 16, id);
    char *headers = collect_object_headers(r);
    struct meta_upload u = {id, r->bucket, r->key, headers, clock_wall_ms()};
    enum skyc_err rc = meta_upload_create(&r->srv->meta, &u, &err);
    free(headers);
    if (rc)
        return no_bucket(r, rc, &err);
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<InitiateMultipartUploadResult xmlns=\"" XMLNS
                               "\"><Bucket>");
    xml_escape(&x, r->bucket, strlen(r->bucket));
    strbuf_addstr(&x, "</Bucket><Key>");
    xml_escape(&x, r->key, strlen(r->key));
    strbuf_addf(&x, "</Key><UploadId>%s</UploadId>"
                    "</InitiateMultipartUploadResult>",
                id);
    return respond_xml(r, 200, &x);
}

enum MHD_Result h_upload_part(struct req *r)
{
    struct skyc_error err = {0};
    struct meta_upload u;
    const char *pn = req_arg(r, "partNumber");
    char *end = NULL;
    long n = pn ? strtol(pn, &end, 10) : 0;
    if (!pn || *end || n < 1 || n > 10000)
        return respond_error(r, S3E_InvalidArgument,
                             "Part number must be an integer between 1 and "
                             "10000, inclusive");
    enum skyc_err rc =
        meta_upload_get(&r->srv->meta, req_arg(r, "uploadId"), &u, &err);
    if (rc == SKYC_E_NOT_FOUND || (!rc && (strcmp(u.bucket, r->bucket) ||
                                           strcmp(u.key, r->key)))) {
        meta_upload_release(&u);
        return respond_error(r, S3E_NoSuchUpload, NULL);
    }
    if (rc)
        return respond_internal(r, &err);
    char etag[40];
    etag[0] = '"';
    hex_encode(r->md5_out, 16, etag + 1);
    etag[33] = '"';
    etag[34] = '\0';
    enum MHD_Result ret = finish_put(r, etag, NULL, true, n, u.id);
    meta_upload_release(&u);
    return ret;
}

struct part_vec {
    struct meta_part *p;
    size_t n, alloc;
};

static bool collect_part(void *ctx, const struct meta_part *p)
{
    struct part_vec *v = ctx;
    ALLOC_GROW(v->p, v->n + 1, v->alloc);
    v->p[v->n] = *p;
    v->p[v->n].etag = xstrdup(p->etag);
    v->p[v->n].blob = xstrdup(p->blob);
    v->p[v->n].region = p->region ? xstrdup(p->region) : NULL;
    v->n++;
    return true;
}

static void part_vec_release(struct part_vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->p[i].etag);
        free(v->p[i].blob);
        free(v->p[i].region);
    }
    free(v->p);
}

static struct meta_part *find_part(struct part_vec *v, long n)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v->p[mid].number == n)
            return &v->p[mid];
        if (v->p[mid].number < n)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

enum MHD_Result h_complete_upload(struct req *r)
{
    struct skyc_error err = {0};
    struct meta_upload u = {0};
    struct s3_complete c = {0};
    struct part_vec pv = {0};
    struct blob_writer w = {.fd = -1};
    char msg[256];
    char **blobs = NULL;
    size_t nblobs = 0;
    enum MHD_Result ret;
    EVP_MD_CTX *ctx = NULL;
    enum skyc_err rc =
        meta_upload_get(&r->srv->meta, req_arg(r, "uploadId"), &u, &err);
    if (rc == SKYC_E_NOT_FOUND ||
        (!rc && (strcmp(u.bucket, r->bucket) || strcmp(u.key, r->key)))) {
        ret = respond_error(r, S3E_NoSuchUpload, NULL);
        goto out;
    }
    if (rc) {
        ret = respond_internal(r, &err);
        goto out;
    }
    if (!s3_parse_complete(r->buf.buf, r->buf.len, &c, msg)) {
        ret = respond_error(r, S3E_MalformedXML, NULL);
        goto out;
    }
    if ((rc = meta_part_list(&r->srv->meta, u.id, 0, collect_part, &pv,
                             &err))) {
        ret = respond_internal(r, &err);
        goto out;
    }
    ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    uint64_t total = 0;
    for (size_t i = 0; i < c.nparts; i++) {
        if (i && c.parts[i].number <= c.parts[i - 1].number) {
            ret = respond_error(r, S3E_InvalidPartOrder, NULL);
            goto out;
        }
        struct meta_part *p = find_part(&pv, c.parts[i].number);
        if (!p || !etag_eq(c.parts[i].etag, p->etag)) {
            ret = respond_error(r, S3E_InvalidPart, NULL);
            goto out;
        }
        uint8_t bin[16];
        const char *e = p->etag + 1;
        for (int k = 0; k < 16; k++)
            bin[k] = (uint8_t)(hexval(e[2 * k]) * 16 + hexval(e[2 * k + 1]));
        EVP_DigestUpdate(ctx, bin, 16);
        total += p->size;
    }
    for (size_t i = 0; i + 1 < c.nparts; i++)
        if (find_part(&pv, c.parts[i].number)->size < MIN_PART_SIZE) {
            ret = respond_error(r, S3E_EntityTooSmall, NULL);
            goto out;
        }
    struct store_region *reg = region_for_write(r);
    if ((rc = backend_create(&reg->be, &w, &err))) {
        ret = respond_internal(r, &err);
        goto out;
    }
    /* parts may sit in different regions (each was written where its
     * endpoint is): the object is assembled in the completing write region,
     * parts from elsewhere copied over */
    for (size_t i = 0; i < c.nparts; i++) {
        struct meta_part *p = find_part(&pv, c.parts[i].number);
        struct store_region *from = p->region ? region_named(r->srv, p->region)
                                              : reg;
        if ((rc = backend_append_from(&w, &from->be, p->blob, 0, p->size,
                                      &err))) {
            ret = respond_internal(r, &err);
            goto out;
        }
    }
    uint8_t md[16];
    unsigned int mdlen = 0;
    char etag[48];
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    etag[0] = '"';
    hex_encode(md, 16, etag + 1);
    snprintf(etag + 33, sizeof(etag) - 33, "-%zu\"", c.nparts);
    char id[BLOB_ID_LEN + 1];
    memcpy(id, w.id, sizeof(id));
    if ((rc = backend_commit(&w, &err))) {
        ret = respond_internal(r, &err);
        goto out;
    }
    struct meta_object o = {
        .bucket = r->bucket,
        .key = r->key,
        .size = total,
        .etag = etag,
        .mtime_ms = clock_wall_ms(),
        .blob = id,
        .region = reg->name,
        .headers = u.headers,
    };
    rc = meta_upload_finish(&r->srv->meta, u.id, &o, &blobs, &nblobs, &err);
    if (rc) {
        backend_remove(&reg->be, id);
        ret = rc == SKYC_E_NOT_FOUND ? respond_error(r, S3E_NoSuchUpload, NULL)
                                     : respond_internal(r, &err);
        goto out;
    }
    mr_after_put(r, id, total, reg);
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<CompleteMultipartUploadResult xmlns=\"" XMLNS
                               "\"><Location>");
    const char *host = req_header(r, "Host");
    struct strbuf loc = STRBUF_INIT;
    strbuf_addf(&loc, "http://%s/%s/", host ? host : "localhost", r->bucket);
    sigv4_uri_encode(&loc, r->key, strlen(r->key), true);
    xml_escape(&x, loc.buf, loc.len);
    strbuf_release(&loc);
    strbuf_addstr(&x, "</Location><Bucket>");
    xml_escape(&x, r->bucket, strlen(r->bucket));
    strbuf_addstr(&x, "</Bucket><Key>");
    xml_escape(&x, r->key, strlen(r->key));
    strbuf_addstr(&x, "</Key><ETag>");
    xml_escape(&x, etag, strlen(etag));
    strbuf_addstr(&x, "</ETag></CompleteMultipartUploadResult>");
    ret = respond_xml(r, 200, &x);
out:
    backend_abort(&w);
    for (size_t i = 0; i < nblobs; i++) {
        remove_everywhere(r->srv, blobs[i]);
        free(blobs[i]);
    }
    free(blobs);
    if (ctx)
        EVP_MD_CTX_free(ctx);
    part_vec_release(&pv);
    s3_complete_release(&c);
    meta_upload_release(&u);
    return ret;
}

enum MHD_Result h_abort_upload(struct req *r)
{
    struct skyc_error err = {0};
    struct meta_upload u;
    char **blobs = NULL;
    size_t nblobs = 0;
    enum skyc_err rc =
        meta_upload_get(&r->srv->meta, req_arg(r, "uploadId"), &u, &err);
    if (rc == SKYC_E_NOT_FOUND ||
        (!rc && (strcmp(u.bucket, r->bucket) || strcmp(u.key, r->key)))) {
        meta_upload_release(&u);
        return respond_error(r, S3E_NoSuchUpload, NULL);
    }
    if (rc)
        return respond_internal(r, &err);
    rc = meta_upload_finish(&r->srv->meta, u.id, NULL, &blobs, &nblobs, &err);
    meta_upload_release(&u);
    for (size_t i = 0; i < nblobs; i++) {
        remove_everywhere(r->srv, blobs[i]);
        free(blobs[i]);
    }
    free(blobs);
    if (rc == SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchUpload, NULL);
    if (rc)
        return respond_internal(r, &err);
    return respond_empty(r, 204);
}

struct parts_out {
    struct strbuf *x;
    long max, count, last;
    bool truncated;
};

static bool part_xml(void *ctx, const struct meta_part *p)
{
    struct parts_out *o = ctx;
    if (o->count == o->max) {
        o->truncated = true;
        return false;
    }
    strbuf_addf(o->x, "<Part><PartNumber>%ld</PartNumber><LastModified>",
                p->number);
    iso8601(o->x, p->mtime_ms);
    strbuf_addstr(o->x, "</LastModified><ETag>");
    xml_escape(o->x, p->etag, strlen(p->etag));
    strbuf_addf(o->x, "</ETag><Size>%" PRIu64 "</Size></Part>", p->size);
    o->count++;
    o->last = p->number;
    return true;
}

enum MHD_Result h_list_parts(struct req *r)
{
    struct skyc_error err = {0};
    struct meta_upload u;
    enum skyc_err rc =
        meta_upload_get(&r->srv->meta, req_arg(r, "uploadId"), &u, &err);
    if (rc == SKYC_E_NOT_FOUND ||
        (!rc && (strcmp(u.bucket, r->bucket) || strcmp(u.key, r->key)))) {
        meta_upload_release(&u);
        return respond_error(r, S3E_NoSuchUpload, NULL);
    }
    if (rc)
        return respond_internal(r, &err);
    const char *mp = req_arg(r, "max-parts");
    const char *pm = req_arg(r, "part-number-marker");
    long max = mp ? strtol(mp, NULL, 10) : 1000;
    long marker = pm ? strtol(pm, NULL, 10) : 0;
    if (max < 0 || max > 1000)
        max = 1000;
    struct strbuf body = STRBUF_INIT, x = STRBUF_INIT;
    struct parts_out o = {&body, max, 0, marker, false};
    rc = meta_part_list(&r->srv->meta, u.id, marker, part_xml, &o, &err);
    if (rc) {
        meta_upload_release(&u);
        strbuf_release(&body);
        return respond_internal(r, &err);
    }
    strbuf_addstr(&x, XML_HEAD "<ListPartsResult xmlns=\"" XMLNS "\"><Bucket>");
    xml_escape(&x, r->bucket, strlen(r->bucket));
    strbuf_addstr(&x, "</Bucket><Key>");
    xml_escape(&x, r->key, strlen(r->key));
    strbuf_addf(&x,
                "</Key><UploadId>%s</UploadId><PartNumberMarker>%ld"
                "</PartNumberMarker><NextPartNumberMarker>%ld"
                "</NextPartNumberMarker><MaxParts>%ld</MaxParts>"
                "<IsTruncated>%s</IsTruncated>",
                u.id, marker, o.last, max, o.truncated ? "true" : "false");
    strbuf_addstr(&x, "<StorageClass>STANDARD</StorageClass>");
    strbuf_add(&x, body.buf, body.len);
    strbuf_addstr(&x, "</ListPartsResult>");
    strbuf_release(&body);
    meta_upload_release(&u);
    return respond_xml(r, 200, &x);
}
