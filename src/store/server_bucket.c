/*
 * server_bucket.c - bucket operations of the store server: ListBuckets,
 * Create/Head/DeleteBucket, ListObjects v1/v2, ListObjectVersions,
 * ListMultipartUploads, GetBucketLocation/Versioning, DeleteObjects.
 */
#include "core/common.h"
#include "core/alloc.h"
#include <ctype.h>
#include "core/log.h"
#include "core/strbuf.h"
#include "s3/xmlbody.h"
#include "store/server_internal.h"
#include "transfer/s3xml.h"

/* 0 ok, or the response already queued (returned through *ret). */
static bool bucket_exists(struct req *r, enum MHD_Result *ret)
{
    struct skyc_error err = {0};
    enum skyc_err rc =
        meta_bucket_get(&r->srv->meta, r->bucket, NULL, NULL, &err);
    if (rc == SKYC_OK)
        return true;
    *ret = rc == SKYC_E_NOT_FOUND ? respond_error(r, S3E_NoSuchBucket, NULL)
                                  : respond_internal(r, &err);
    return false;
}

struct bucket_list {
    struct strbuf *x;
};

static bool bucket_xml(void *ctx, const char *name, int64_t created)
{
    struct bucket_list *b = ctx;
    strbuf_addstr(b->x, "<Bucket><Name>");
    xml_escape(b->x, name, strlen(name));
    strbuf_addstr(b->x, "</Name><CreationDate>");
    iso8601(b->x, created);
    strbuf_addstr(b->x, "</CreationDate></Bucket>");
    return true;
}

enum MHD_Result h_list_buckets(struct req *r)
{
    struct skyc_error err = {0};
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<ListAllMyBucketsResult xmlns=\"" XMLNS "\">");
    owner_xml(r, &x);
    strbuf_addstr(&x, "<Buckets>");
    struct bucket_list b = {&x};
    if (meta_bucket_list(&r->srv->meta, bucket_xml, &b, &err)) {
        strbuf_release(&x);
        return respond_internal(r, &err);
    }
    strbuf_addstr(&x, "</Buckets></ListAllMyBucketsResult>");
    return respond_xml(r, 200, &x);
}

static void lc_text(void *arg, const char *name, const char *text, int d)
{
    (void)d;
    if (!strcmp(name, "LocationConstraint"))
        snprintf(arg, 128, "%s", text);
}

enum MHD_Result h_create_bucket(struct req *r)
{
    struct skyc_error err = {0};
    char lc[128] = "";
    if (!valid_bucket_name(r->bucket))
        return respond_error(r, S3E_InvalidBucketName, NULL);
    /* <CreateBucketConfiguration><LocationConstraint>: the home region */
    if (r->buf.len) {
        struct s3x_handler h = {NULL, lc_text, lc};
        if (s3x_parse(r->buf.buf, r->buf.len, &h, &err))
            return respond_error(r, S3E_MalformedXML, NULL);
    }
    struct store_region *home = mr_home_for_create(r, lc);
    if (!home)
        return respond_error(r, S3E_InvalidLocationConstraint, NULL);
    enum skyc_err rc =
        meta_bucket_create(&r->srv->meta, r->bucket, home->name, &err);
    if (rc == SKYC_E_FAILED)
        return respond_error(r, S3E_BucketAlreadyOwnedByYou, NULL);
    if (rc)
        return respond_internal(r, &err);
    mr_bucket_created(r->srv, r->bucket);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    char loc[80];
    snprintf(loc, sizeof(loc), "/%s", r->bucket);
    MHD_add_response_header(resp, "Location", loc);
    return respond(r, 200, resp);
}

/* The S3 region name of the bucket's home ("us-east-1", "europe-west1"):
 * the configured region on a single-region server. */
static bool bucket_home(struct req *r, char out[128], enum MHD_Result *ret)
{
    struct skyc_error err = {0};
    char *stored = NULL;
    enum skyc_err rc =
        meta_bucket_get(&r->srv->meta, r->bucket, NULL, &stored, &err);
    if (rc) {
        *ret = rc == SKYC_E_NOT_FOUND
                   ? respond_error(r, S3E_NoSuchBucket, NULL)
                   : respond_internal(r, &err);
        return false;
    }
    if (r->srv->multi)
        mr_bucket_home(r->srv, r->bucket, stored, out);
    else
        snprintf(out, 128, "%s", r->srv->cfg.region);
    free(stored);
    return true;
}

enum MHD_Result h_head_bucket(struct req *r)
{
    enum MHD_Result ret;
    char home[128];
    if (!bucket_home(r, home, &ret))
        return ret;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "x-amz-bucket-region", home);
    return respond(r, 200, resp);
}

enum MHD_Result h_delete_bucket(struct req *r)
{
    struct skyc_error err = {0};
    enum skyc_err rc = meta_bucket_delete(&r->srv->meta, r->bucket, &err);
    if (rc == SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchBucket, NULL);
    if (rc == SKYC_E_FAILED)
        return respond_error(r, S3E_BucketNotEmpty, NULL);
    if (rc)
        return respond_internal(r, &err);
    return respond_empty(r, 204);
}

enum MHD_Result h_get_location(struct req *r)
{
    enum MHD_Result ret;
    char reg[128];
    if (!bucket_home(r, reg, &ret))
        return ret;
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<LocationConstraint xmlns=\"" XMLNS "\">");
    if (strcmp(reg, "us-east-1") != 0)
        xml_escape(&x, reg, strlen(reg));
    strbuf_addstr(&x, "</LocationConstraint>");
    return respond_xml(r, 200, &x);
}

enum MHD_Result h_get_versioning(struct req *r)
{
    enum MHD_Result ret;
    if (!bucket_exists(r, &ret))
        return ret;
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<VersioningConfiguration xmlns=\"" XMLNS
                               "\"/>");
    return respond_xml(r, 200, &x);
}

/* ---- listings -------------------------------------------------------- */

struct lister {
    struct req *r;
    int version; /* 0: versions, 1: v1, 2: v2 */
    const char *prefix, *delim;
    size_t plen, dlen;
    long max;
    long count;
    bool truncated;
    bool url;
    bool owner;
    char *last_cp;   /* the last common prefix emitted (or the marker) */
    char *last;      /* the last key or prefix returned */
    struct strbuf contents, prefixes;
};

static void add_enc(struct lister *l, struct strbuf *x, const char *s)
{
    if (l->url) {
        struct strbuf e = STRBUF_INIT;
        sigv4_uri_encode(&e, s, strlen(s), true);
        xml_escape(x, e.buf, e.len);
        strbuf_release(&e);
    } else {
        xml_escape(x, s, strlen(s));
    }
}

static bool list_cb(void *ctx, const struct meta_object *o)
{
    struct lister *l = ctx;
    const char *key = o->key;
    if (l->dlen) {
        const char *d = strstr(key + l->plen, l->delim);
        if (d) {
            size_t n = (size_t)(d - key) + l->dlen;
            if (l->last_cp && strlen(l->last_cp) == n &&
                !memcmp(l->last_cp, key, n))
                return true; /* rolled up in a prefix already returned */
            if (l->count == l->max) {
                l->truncated = true;
                return false;
            }
            free(l->last_cp);
            l->last_cp = xstrndup(key, n);
            free(l->last);
            l->last = xstrndup(key, n);
            strbuf_addstr(&l->prefixes, "<CommonPrefixes><Prefix>");
            add_enc(l, &l->prefixes, l->last_cp);
            strbuf_addstr(&l->prefixes, "</Prefix></CommonPrefixes>");
            l->count++;
            return true;
        }
    }
    if (l->count == l->max) {
        l->truncated = true;
        return false;
    }
    struct strbuf *x = &l->contents;
    strbuf_addstr(x, l->version ? "<Contents><Key>" : "<Version><Key>");
    add_enc(l, x, key);
    strbuf_addstr(x, "</Key>");
    if (!l->version)
        strbuf_addstr(x, "<VersionId>null</VersionId><IsLatest>true</IsLatest>");
    strbuf_addstr(x, "<LastModified>");
    iso8601(x, o->mtime_ms);
    strbuf_addstr(x, "</LastModified><ETag>");
    xml_escape(x, o->etag, strlen(o->etag));
    strbuf_addf(x, "</ETag><Size>%" PRIu64 "</Size>", o->size);
    if (l->owner)
        owner_xml(l->r, x);
    strbuf_addstr(x, "<StorageClass>STANDARD</StorageClass>");
    strbuf_addstr(x, l->version ? "</Contents>" : "</Version>");
    free(l->last);
    l->last = xstrdup(key);
    l->count++;
    return true;
}

static void tag(struct lister *l, struct strbuf *x, const char *name,
                const char *v, bool enc)
{
    strbuf_addf(x, "<%s>", name);
    if (v) {
        if (enc)
            add_enc(l, x, v);
        else
            xml_escape(x, v, strlen(v));
    }
    strbuf_addf(x, "</%s>", name);
}

static char *hex_encode(const char *s)
{
    struct strbuf b = STRBUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        strbuf_addf(&b, "%02x", *p);
    return strbuf_detach(&b, NULL);
}

static char *hex_decode(const char *s)
{
    size_t n = strlen(s);
    if (n % 2)
        return NULL;
    struct strbuf b = STRBUF_INIT;
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        char two[3] = {s[i], s[i + 1], 0};
        char *end;
        v = (unsigned)strtoul(two, &end, 16);
        if (*end || !isxdigit((unsigned char)s[i]) || !v) {
            strbuf_release(&b);
            return NULL;
        }
        strbuf_addch(&b, (int)v);
    }
    return strbuf_detach(&b, NULL);
}

enum MHD_Result h_list_objects(struct req *r, int version)
{
    struct skyc_error err = {0};
    enum MHD_Result ret;
    if (!bucket_exists(r, &ret))
        return ret;
    struct lister l = {.r = r, .version = version};
    l.prefix = req_arg(r, "prefix");
    l.delim = req_arg(r, "delimiter");
    if (l.delim && !*l.delim)
        l.delim = NULL;
    l.plen = l.prefix ? strlen(l.prefix) : 0;
    l.dlen = l.delim ? strlen(l.delim) : 0;
    const char *mk = req_arg(r, "max-keys");
    l.max = 1000;
    if (mk) {
        char *end;
        l.max = strtol(mk, &end, 10);
        if (!*mk || *end || l.max < 0)
            return respond_error(r, S3E_InvalidArgument,
                                 "max-keys must be a non-negative integer");
        if (l.max > 1000)
            l.max = 1000;
    }
    const char *enc = req_arg(r, "encoding-type");
    if (enc && strcmp(enc, "url") != 0)
        return respond_error(r, S3E_InvalidArgument,
                             "Invalid Encoding Method specified in Request");
    l.url = enc != NULL;
    l.owner = version != 2 || (req_arg(r, "fetch-owner") &&
                               !strcmp(req_arg(r, "fetch-owner"), "true"));
    const char *marker = NULL, *token = NULL, *start_after = NULL;
    char *after = NULL;
    if (version == 1) {
        marker = req_arg(r, "marker");
        after = marker && *marker ? xstrdup(marker) : NULL;
    } else if (version == 0) {
        marker = req_arg(r, "key-marker");
        after = marker && *marker ? xstrdup(marker) : NULL;
    } else {
        token = req_arg(r, "continuation-token");
        start_after = req_arg(r, "start-after");
        if (token) {
            after = hex_decode(token);
            if (!after)
                return respond_error(r, S3E_InvalidArgument,
                                     "The continuation token provided is "
                                     "incorrect");
        } else if (start_after && *start_after) {
            after = xstrdup(start_after);
        }
    }
    /* a marker that is a common prefix skips everything under it */
    if (after && l.dlen && strlen(after) >= l.plen &&
        strncmp(after, l.prefix ? l.prefix : "", l.plen) == 0) {
        const char *d = strstr(after + l.plen, l.delim);
        if (d && d[l.dlen] == '\0')
            l.last_cp = xstrdup(after);
    }
    strbuf_init(&l.contents, 0);
    strbuf_init(&l.prefixes, 0);
    enum skyc_err rc = SKYC_OK;
    if (l.max > 0)
        rc = meta_object_list(&r->srv->meta, r->bucket, l.prefix, after,
                              list_cb, &l, &err);
    if (rc) {
        ret = respond_internal(r, &err);
        goto out;
    }
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD);
    strbuf_addstr(&x, version ? "<ListBucketResult xmlns=\"" XMLNS "\">"
                              : "<ListVersionsResult xmlns=\"" XMLNS "\">");
    tag(&l, &x, "Name", r->bucket, false);
    tag(&l, &x, "Prefix", l.prefix ? l.prefix : "", true);
    if (version == 1)
        tag(&l, &x, "Marker", marker ? marker : "", true);
    if (version == 0) {
        tag(&l, &x, "KeyMarker", marker ? marker : "", true);
        tag(&l, &x, "VersionIdMarker", "", false);
    }
    if (version == 2) {
        if (token)
            tag(&l, &x, "ContinuationToken", token, false);
        if (start_after)
            tag(&l, &x, "StartAfter", start_after, true);
        strbuf_addf(&x, "<KeyCount>%ld</KeyCount>", l.count);
    }
    strbuf_addf(&x, "<MaxKeys>%ld</MaxKeys>", l.max);
    if (l.delim)
        tag(&l, &x, "Delimiter", l.delim, true);
    if (l.url)
        tag(&l, &x, "EncodingType", "url", false);
    strbuf_addf(&x, "<IsTruncated>%s</IsTruncated>",
                l.truncated ? "true" : "false");
    if (l.truncated && l.last) {
        if (version == 1 && l.delim)
            tag(&l, &x, "NextMarker", l.last, true);
        else if (version == 0) {
            tag(&l, &x, "NextKeyMarker", l.last, true);
            tag(&l, &x, "NextVersionIdMarker", "null", false);
        } else if (version == 2) {
            char *t = hex_encode(l.last);
            tag(&l, &x, "NextContinuationToken", t, false);
            free(t);
        }
    }
    strbuf_add(&x, l.contents.buf, l.contents.len);
    strbuf_add(&x, l.prefixes.buf, l.prefixes.len);
    strbuf_addstr(&x, version ? "</ListBucketResult>" : "</ListVersionsResult>");
    ret = respond_xml(r, 200, &x);
out:
    free(after);
    free(l.last);
    free(l.last_cp);
    strbuf_release(&l.contents);
    strbuf_release(&l.prefixes);
    return ret;
}

struct uploads_out {
    struct req *r;
    struct strbuf *x;
    long max, count;
    bool truncated;
    char *last_key, *last_id;
};

static bool upload_xml(void *ctx, const struct meta_upload *u)
{
    struct uploads_out *o = ctx;
    if (o->count == o->max) {
        o->truncated = true;
        return false;
    }
    strbuf_addstr(o->x, "<Upload><Key>");
    xml_escape(o->x, u->key, strlen(u->key));
    strbuf_addf(o->x, "</Key><UploadId>%s</UploadId><Initiator><ID>", u->id);
    const char *id = o->r->user ? o->r->user->access_key : "";
    xml_escape(o->x, id, strlen(id));
    strbuf_addstr(o->x, "</ID></Initiator>");
    owner_xml(o->r, o->x);
    strbuf_addstr(o->x, "<StorageClass>STANDARD</StorageClass><Initiated>");
    iso8601(o->x, u->initiated_ms);
    strbuf_addstr(o->x, "</Initiated></Upload>");
    free(o->last_key);
    free(o->last_id);
    o->last_key = xstrdup(u->key);
    o->last_id = xstrdup(u->id);
    o->count++;
    return true;
}

enum MHD_Result h_list_uploads(struct req *r)
{
    struct skyc_error err = {0};
    enum MHD_Result ret;
    if (!bucket_exists(r, &ret))
        return ret;
    const char *prefix = req_arg(r, "prefix");
    const char *km = req_arg(r, "key-marker");
    const char *um = req_arg(r, "upload-id-marker");
    const char *mu = req_arg(r, "max-uploads");
    long max = mu ? strtol(mu, NULL, 10) : 1000;
    if (max < 0 || max > 1000)
        max = 1000;
    struct strbuf body = STRBUF_INIT, x = STRBUF_INIT;
    struct uploads_out o = {r, &body, max, 0, false, NULL, NULL};
    /* without an upload-id-marker, key-marker skips that whole key */
    const char *after_id = km && !um ? "\x7f" : um;
    enum skyc_err rc =
        max ? meta_upload_list(&r->srv->meta, r->bucket, prefix, km, after_id,
                               upload_xml, &o, &err)
            : SKYC_OK;
    if (rc) {
        strbuf_release(&body);
        return respond_internal(r, &err);
    }
    strbuf_addstr(&x, XML_HEAD "<ListMultipartUploadsResult xmlns=\"" XMLNS
                               "\"><Bucket>");
    xml_escape(&x, r->bucket, strlen(r->bucket));
    strbuf_addstr(&x, "</Bucket><KeyMarker>");
    if (km)
        xml_escape(&x, km, strlen(km));
    strbuf_addstr(&x, "</KeyMarker><UploadIdMarker>");
    if (um)
        xml_escape(&x, um, strlen(um));
    strbuf_addstr(&x, "</UploadIdMarker>");
    if (o.truncated) {
        strbuf_addstr(&x, "<NextKeyMarker>");
        xml_escape(&x, o.last_key, strlen(o.last_key));
        strbuf_addf(&x, "</NextKeyMarker><NextUploadIdMarker>%s"
                        "</NextUploadIdMarker>",
                    o.last_id);
    }
    if (prefix) {
        strbuf_addstr(&x, "<Prefix>");
        xml_escape(&x, prefix, strlen(prefix));
        strbuf_addstr(&x, "</Prefix>");
    }
    strbuf_addf(&x, "<MaxUploads>%ld</MaxUploads><IsTruncated>%s"
                    "</IsTruncated>",
                max, o.truncated ? "true" : "false");
    strbuf_add(&x, body.buf, body.len);
    strbuf_addstr(&x, "</ListMultipartUploadsResult>");
    strbuf_release(&body);
    free(o.last_key);
    free(o.last_id);
    return respond_xml(r, 200, &x);
}

enum MHD_Result h_delete_objects(struct req *r)
{
    struct skyc_error err = {0};
    enum MHD_Result ret;
    struct s3_delete d;
    char msg[256];
    if (!bucket_exists(r, &ret))
        return ret;
    if (!s3_parse_delete(r->buf.buf, r->buf.len, &d, msg))
        return respond_error(r, S3E_MalformedXML, NULL);
    struct strbuf x = STRBUF_INIT;
    strbuf_addstr(&x, XML_HEAD "<DeleteResult xmlns=\"" XMLNS "\">");
    for (size_t i = 0; i < d.nkeys; i++) {
        char *old = NULL;
        const char *key = d.keys[i].key;
        const char *vid = d.keys[i].version_id;
        enum skyc_err rc = SKYC_E_NOT_FOUND;
        if (!vid || !strcmp(vid, "null"))
            rc = meta_object_delete(&r->srv->meta, r->bucket, key, &old, &err);
        if (rc && rc != SKYC_E_NOT_FOUND) {
            strbuf_addstr(&x, "<Error><Key>");
            xml_escape(&x, key, strlen(key));
            strbuf_addstr(&x, "</Key><Code>InternalError</Code><Message>"
                              "We encountered an internal error. Please try "
                              "again.</Message></Error>");
            log_warning("store: delete %s/%s: %s", r->bucket, key, err.msg);
            skyc_error_clear(&err);
            continue;
        }
        if (!rc)
            mr_delete(r, key);
        if (old)
            remove_everywhere(r->srv, old);
        free(old);
        if (!d.quiet) {
            strbuf_addstr(&x, "<Deleted><Key>");
            xml_escape(&x, key, strlen(key));
            strbuf_addstr(&x, "</Key>");
            if (vid) {
                strbuf_addstr(&x, "<VersionId>");
                xml_escape(&x, vid, strlen(vid));
                strbuf_addstr(&x, "</VersionId>");
            }
            strbuf_addstr(&x, "</Deleted>");
        }
    }
    strbuf_addstr(&x, "</DeleteResult>");
    s3_delete_release(&d);
    return respond_xml(r, 200, &x);
}
