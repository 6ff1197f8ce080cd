/*
 * server.c - the store server's HTTP side: config, the libmicrohttpd
 * daemon, routing, SigV4 authentication, request bodies (aws-chunked,
 * hashes, checksums) and responses. See server.h.
 */
#include "core/common.h"
#include "core/hex.h"
#include "core/alloc.h"
#include <ctype.h>
#include "core/log.h"
#include "core/paths.h"
#include "core/strmap.h"
#include "core/strbuf.h"
#include "store/server_internal.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_XML_BODY (4u << 20)
#define MAX_PUT_SIZE (5ull << 30)

/* ---- config -------------------------------------------------------- */

void store_config_init(struct store_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen_host = xstrdup("127.0.0.1");
    c->port = 9000;
    c->region = xstrdup("us-east-1");
    c->fsync = true;
    c->threads = 0;
    c->max_skew = 900;
    c->tick_s = 0.25;
}

void store_config_release(struct store_config *c)
{
    free(c->data_dir);
    free(c->listen_host);
    free(c->region);
    for (size_t i = 0; i < c->nregions; i++) {
        free(c->regions[i].name);
        free(c->regions[i].dir);
        free(c->regions[i].host);
        free(c->regions[i].s3_url);
        free(c->regions[i].s3_bucket);
        free(c->regions[i].s3_prefix);
        free(c->regions[i].s3_access_key);
        free(c->regions[i].s3_secret_key);
        free(c->regions[i].s3_region);
    }
    free(c->regions);
    for (size_t i = 0; i < c->nbuckets; i++) {
        free(c->bucket_names[i]);
        free(c->bucket_policies[i]);
    }
    free(c->bucket_names);
    free(c->bucket_policies);
    free(c->policy);
    free(c->profiles);
    free(c->domain);
    for (size_t i = 0; i < c->nusers; i++) {
        free(c->users[i].access_key);
        free(c->users[i].secret_key);
    }
    free(c->users);
    memset(c, 0, sizeof(*c));
}

void store_config_add_user(struct store_config *c, const char *ak,
                           const char *sk)
{
    ALLOC_GROW(c->users, c->nusers + 1, c->alloc);
    c->users[c->nusers].access_key = xstrdup(ak);
    c->users[c->nusers].secret_key = xstrdup(sk);
    c->nusers++;
}

static void set_str(char **dst, const char *v)
{
    free(*dst);
    *dst = xstrdup(v);
}

/* A region's "s3": {"url", "bucket", "prefix", "access_key", "secret_key",
 * "region"} into rc1. */
static enum skyc_err load_region_s3(struct store_region_config *rc1,
                                    const char *path, size_t i, json_t *v,
                                    struct skyc_error *err)
{
    static const char *const keys[] = {"url", "bucket", "prefix",
                                       "access_key", "secret_key", "region"};
    char **dst[] = {&rc1->s3_url, &rc1->s3_bucket, &rc1->s3_prefix,
                    &rc1->s3_access_key, &rc1->s3_secret_key,
                    &rc1->s3_region};
    const char *k;
    json_t *e;
    if (!json_is_object(v))
        return skyc_fail(err, SKYC_E_INPUT,
                         "%s: regions[%zu].s3 must be an object {\"url\", "
                         "\"bucket\", \"access_key\", \"secret_key\"}",
                         path, i);
    json_object_foreach(v, k, e)
    {
        size_t j = 0;
        while (j < ARRAY_SIZE(keys) && strcmp(keys[j], k))
            j++;
        if (j == ARRAY_SIZE(keys))
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s: regions[%zu].s3: unknown key \"%s\" (known: "
                             "url, bucket, prefix, access_key, secret_key, "
                             "region)",
                             path, i, k);
        if (!json_is_string(e))
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s: regions[%zu].s3.%s must be a string", path,
                             i, k);
        set_str(dst[j], json_string_value(e));
    }
    for (size_t j = 0; j < ARRAY_SIZE(keys); j++)
        if (j != 2 && j != 5 && (!*dst[j] || !**dst[j]))
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s: regions[%zu].s3 needs \"%s\" (a remote "
                             "backend wants url, bucket, access_key and "
                             "secret_key)",
                             path, i, keys[j]);
    if (strncmp(rc1->s3_url, "http://", 7) && strncmp(rc1->s3_url, "https://", 8))
        return skyc_fail(err, SKYC_E_INPUT,
                         "%s: regions[%zu].s3.url '%s' must start with "
                         "http:// or https://",
                         path, i, rc1->s3_url);
    return SKYC_OK;
}

/* "regions": [{"name", "dir" | "s3", "listen"}, ...] */
static enum skyc_err load_regions(struct store_config *c, const char *path,
                                  json_t *v, struct skyc_error *err)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v) || !json_array_size(v))
        return skyc_fail(err, SKYC_E_INPUT,
                         "%s: \"regions\" must be a non-empty list of "
                         "{\"name\", \"dir\", \"listen\"}",
                         path);
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *dir = json_string_value(json_object_get(e, "dir"));
        json_t *s3 = json_object_get(e, "s3");
        const char *lis = json_string_value(json_object_get(e, "listen"));
        if (!name || (!dir == !s3) || !lis || json_object_size(e) != 3)
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s: regions[%zu] needs exactly \"name\", "
                             "\"listen\" and either \"dir\" (a directory) "
                             "or \"s3\" (a remote bucket)",
                             path, i);
        struct store_config tmp;
        store_config_init(&tmp);
        enum skyc_err rc = store_config_listen(&tmp, lis, err);
        if (rc) {
            store_config_release(&tmp);
            return rc;
        }
        c->regions = xrealloc(c->regions,
                              (c->nregions + 1) * sizeof(*c->regions));
        struct store_region_config *rc1 = &c->regions[c->nregions++];
        memset(rc1, 0, sizeof(*rc1));
        rc1->name = xstrdup(name);
        rc1->dir = dir ? xstrdup(dir) : NULL;
        rc1->host = tmp.listen_host;
        tmp.listen_host = NULL;
        rc1->port = tmp.port;
        store_config_release(&tmp);
        if (s3 && (rc = load_region_s3(rc1, path, i, s3, err)))
            return rc;
    }
    return SKYC_OK;
}

enum skyc_err store_config_load(struct store_config *c, const char *path,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    const char *k;
    json_t *v;
    if (!root) {
        if (je.line < 0)
            return skyc_fail(err, SKYC_E_IO, "cannot read config '%s': %s",
                             path, je.text);
        return skyc_fail(err, SKYC_E_INPUT, "%s:%d:%d: %s", path, je.line,
                         je.column, je.text);
    }
    if (!json_is_object(root)) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "%s: the config must be a JSON object", path);
        goto out;
    }
    json_object_foreach(root, k, v)
    {
        if (!strcmp(k, "region") || !strcmp(k, "domain") ||
            !strcmp(k, "data") || !strcmp(k, "listen")) {
            if (!json_is_string(v)) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"%s\" must be a string", path, k);
                goto out;
            }
            if (!strcmp(k, "region"))
                set_str(&c->region, json_string_value(v));
            else if (!strcmp(k, "domain"))
                set_str(&c->domain, json_string_value(v));
            else if (!strcmp(k, "data"))
                set_str(&c->data_dir, json_string_value(v));
            else if ((rc = store_config_listen(c, json_string_value(v), err)))
                goto out;
        } else if (!strcmp(k, "fsync")) {
            if (!json_is_boolean(v)) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"fsync\" must be true or false", path);
                goto out;
            }
            c->fsync = json_is_true(v);
        } else if (!strcmp(k, "threads")) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 256) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"threads\" must be an integer 0..256 "
                               "(0: a thread per connection)",
                               path);
                goto out;
            }
            c->threads = (int)json_integer_value(v);
        } else if (!strcmp(k, "regions")) {
            if ((rc = load_regions(c, path, v, err)))
                goto out;
        } else if (!strcmp(k, "policy") || !strcmp(k, "profiles")) {
            if (!json_is_string(v)) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"%s\" must be a string", path, k);
                goto out;
            }
            set_str(!strcmp(k, "policy") ? &c->policy : &c->profiles,
                    json_string_value(v));
        } else if (!strcmp(k, "buckets")) {
            const char *bk;
            json_t *bv;
            if (!json_is_object(v)) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"buckets\" must be an object of "
                               "\"bucket\": \"policy\"",
                               path);
                goto out;
            }
            json_object_foreach(v, bk, bv)
            {
                if (!json_is_string(bv)) {
                    rc = skyc_fail(err, SKYC_E_INPUT,
                                   "%s: buckets.%s must be a policy string",
                                   path, bk);
                    goto out;
                }
                c->bucket_names = xrealloc(c->bucket_names,
                                           (c->nbuckets + 1) * sizeof(char *));
                c->bucket_policies = xrealloc(
                    c->bucket_policies, (c->nbuckets + 1) * sizeof(char *));
                c->bucket_names[c->nbuckets] = xstrdup(bk);
                c->bucket_policies[c->nbuckets++] =
                    xstrdup(json_string_value(bv));
            }
        } else if (!strcmp(k, "users")) {
            size_t i;
            json_t *u;
            if (!json_is_array(v)) {
                rc = skyc_fail(err, SKYC_E_INPUT,
                               "%s: \"users\" must be a list of "
                               "{\"access_key\", \"secret_key\"}",
                               path);
                goto out;
            }
            json_array_foreach(v, i, u)
            {
                const char *ak = json_string_value(json_object_get(u, "access_key"));
                const char *sk = json_string_value(json_object_get(u, "secret_key"));
                if (!ak || !sk || !*ak || !*sk || json_object_size(u) != 2) {
                    rc = skyc_fail(err, SKYC_E_INPUT,
                                   "%s: users[%zu] needs exactly "
                                   "\"access_key\" and \"secret_key\" strings",
                                   path, i);
                    goto out;
                }
                store_config_add_user(c, ak, sk);
            }
        } else {
            rc = skyc_fail(err, SKYC_E_INPUT,
                           "%s: unknown key \"%s\" (known: region, domain, "
                           "data, listen, fsync, threads, users, regions, "
                           "policy, buckets, profiles)",
                           path, k);
            goto out;
        }
    }
    rc = SKYC_OK;
out:
    json_decref(root);
    return rc;
}

enum skyc_err store_config_listen(struct store_config *c, const char *spec,
                                  struct skyc_error *err)
{
    const char *colon = strrchr(spec, ':');
    char *end = NULL;
    if (!colon || colon == spec)
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad listen address '%s' (want HOST:PORT, e.g. "
                         "127.0.0.1:9000)",
                         spec);
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535)
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad port in listen address '%s' (want 0..65535)",
                         spec);
    free(c->listen_host);
    c->listen_host = xstrndup(spec, (size_t)(colon - spec));
    c->port = (int)port;
    return SKYC_OK;
}

/* ---- small helpers -------------------------------------------------- */

const char *req_header(struct req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *own(struct req *r, char *s)
{
    ALLOC_GROW(r->owned, r->nowned + 1, r->owned_alloc);
    r->owned[r->nowned++] = s;
    return s;
}

const char *req_arg(struct req *r, const char *name)
{
    const char *v =
        MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v)
        return req_has_arg(r, name) ? "" : NULL;
    struct strbuf d = STRBUF_INIT;
    sigv4_uri_decode(&d, v, strlen(v));
    return own(r, strbuf_detach(&d, NULL));
}

struct argfind {
    const char *name;
    bool found;
};

static enum MHD_Result find_arg(void *cls, enum MHD_ValueKind kind,
                                const char *key, const char *value)
{
    struct argfind *f = cls;
    (void)kind;
    (void)value;
    if (strcmp(key, f->name) == 0) {
        f->found = true;
        return MHD_NO;
    }
    return MHD_YES;
}

bool req_has_arg(struct req *r, const char *name)
{
    struct argfind f = {name, false};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, find_arg, &f);
    return f.found;
}

void req_fail(struct req *r, enum s3err e, const char *msg)
{
    if (r->has_pending)
        return;
    r->has_pending = true;
    r->pending = e;
    r->pending_msg = msg ? xstrdup(msg) : NULL;
}

static void add_common_headers(struct req *r, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "x-amz-request-id", r->request_id);
    MHD_add_response_header(resp, "x-amz-id-2", r->request_id);
    MHD_add_response_header(resp, "Server", "skyc");
}

enum MHD_Result respond(struct req *r, int status, struct MHD_Response *resp)
{
    add_common_headers(r, resp);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result respond_xml(struct req *r, int status, struct strbuf *xml)
{
    size_t len;
    char *body = strbuf_detach(xml, &len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/xml");
    return respond(r, status, resp);
}

enum MHD_Result respond_empty(struct req *r, int status)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    return respond(r, status, resp);
}

enum MHD_Result respond_internal(struct req *r, const struct skyc_error *err)
{
    log_warning("store: %s %s: %s", r->method, r->path, err->msg);
    return respond_error(r, S3E_InternalError, NULL);
}

enum MHD_Result respond_error(struct req *r, enum s3err e, const char *msg)
{
    struct strbuf x = STRBUF_INIT, res = STRBUF_INIT;
    strbuf_addstr(&res, r->path ? r->path : "/");
    s3_error_xml(&x, e, msg, res.buf, r->request_id);
    strbuf_release(&res);
    log_debug("store: %s %s -> %d %s", r->method, r->path ? r->path : "",
              s3err_status(e), s3err_code(e));
    return respond_xml(r, s3err_status(e), &x);
}

void iso8601(struct strbuf *out, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    strbuf_addf(out, "%s.%03dZ", buf, (int)(ms % 1000));
}

void http_date(char buf[40], int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

int64_t parse_http_date(const char *s)
{
    static const char *const fmts[] = {
        "%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",      "%Y-%m-%dT%H:%M:%S",
    };
    for (size_t i = 0; s && i < ARRAY_SIZE(fmts); i++) {
        struct tm tm = {0};
        const char *end = strptime(s, fmts[i], &tm);
        if (end && (!*end || *end == '.' || *end == 'Z'))
            return (int64_t)timegm(&tm) * 1000;
    }
    return -1;
}

void owner_xml(struct req *r, struct strbuf *x)
{
    const char *id = r->user ? r->user->access_key : "anonymous";
    strbuf_addstr(x, "<Owner><ID>");
    xml_escape(x, id, strlen(id));
    strbuf_addstr(x, "</ID><DisplayName>");
    xml_escape(x, id, strlen(id));
    strbuf_addstr(x, "</DisplayName></Owner>");
}

void remove_everywhere(struct store_server *s, const char *id)
{
    for (size_t i = 0; i < s->nregions; i++)
        backend_remove(&s->regions[i].be, id);
}

struct store_region *region_named(struct store_server *s, const char *name)
{
    for (size_t i = 0; i < s->nregions; i++)
        if (name && strcmp(s->regions[i].name, name) == 0)
            return &s->regions[i];
    return &s->regions[0];
}

bool valid_bucket_name(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-'))
            return false;
        if (c == '.' && i && (b[i - 1] == '.' || b[i - 1] == '-'))
            return false;
        if (c == '-' && i && b[i - 1] == '.')
            return false;
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return false;
    struct in_addr a;
    if (inet_pton(AF_INET, b, &a) == 1)
        return false;
    if (strncmp(b, "xn--", 4) == 0 || (n > 8 && !strcmp(b + n - 8, "-s3alias")))
        return false;
    return true;
}

/* ---- routing --------------------------------------------------------- */

static char *decode_dup(const char *s, size_t n)
{
    struct strbuf d = STRBUF_INIT;
    sigv4_uri_decode(&d, s, n);
    return strbuf_detach(&d, NULL);
}

/* Host without the port. */
static void host_only(const char *host, char *buf, size_t size)
{
    snprintf(buf, size, "%s", host ? host : "");
    char *c = strrchr(buf, ':');
    if (c && !strchr(c, ']'))
        *c = '\0';
    for (char *p = buf; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

static void route(struct req *r)
{
    const char *m = r->method;
    const char *p = r->path;
    char host[512];
    host_only(req_header(r, "Host"), host, sizeof(host));
    const char *dom = r->srv->cfg.domain;
    size_t hl = strlen(host), dl = dom ? strlen(dom) : 0;
    bool vhost = dom && hl > dl + 1 && host[hl - dl - 1] == '.' &&
                 strcmp(host + hl - dl, dom) == 0;
    if (vhost) {
        r->bucket = xstrndup(host, hl - dl - 1);
        if (p[0] == '/' && p[1])
            r->key = decode_dup(p + 1, strlen(p + 1));
    } else {
        while (*p == '/')
            p++;
        if (*p) {
            const char *slash = strchr(p, '/');
            r->bucket = decode_dup(p, slash ? (size_t)(slash - p) : strlen(p));
            if (slash && slash[1])
                r->key = decode_dup(slash + 1, strlen(slash + 1));
        }
    }
    bool get = !strcmp(m, "GET"), head = !strcmp(m, "HEAD"),
         put = !strcmp(m, "PUT"), del = !strcmp(m, "DELETE"),
         post = !strcmp(m, "POST");
    if (!r->bucket) {
        if (get && req_has_arg(r, "skyc-stats"))
            r->op = OP_SKYC;
        else if (get || head)
            r->op = OP_LIST_BUCKETS;
        else
            req_fail(r, S3E_MethodNotAllowed, NULL);
        return;
    }
    if (!r->key && req_has_arg(r, "skyc-policy")) {
        r->op = OP_SKYC;
        return;
    }
    if (!r->key) {
        static const char *const unsupported[] = {
            "acl",       "policy", "cors",    "lifecycle", "tagging",
            "website",   "logging", "notification", "replication",
            "encryption", "object-lock", "ownershipControls",
            "publicAccessBlock", "accelerate", "requestPayment",
            "analytics", "metrics", "inventory", "intelligent-tiering",
            "policyStatus",
        };
        for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
            if (req_has_arg(r, unsupported[i])) {
                req_fail(r, S3E_NotImplemented,
                         "This bucket subresource is not implemented.");
                return;
            }
        if (put && !req_has_arg(r, "versioning"))
            r->op = OP_CREATE_BUCKET;
        else if (head)
            r->op = OP_HEAD_BUCKET;
        else if (del)
            r->op = OP_DELETE_BUCKET;
        else if (post && req_has_arg(r, "delete"))
            r->op = OP_DELETE_OBJECTS;
        else if (get && req_has_arg(r, "location"))
            r->op = OP_GET_LOCATION;
        else if (get && req_has_arg(r, "versioning"))
            r->op = OP_GET_VERSIONING;
        else if (get && req_has_arg(r, "versions"))
            r->op = OP_LIST_VERSIONS;
        else if (get && req_has_arg(r, "uploads"))
            r->op = OP_LIST_UPLOADS;
        else if (get) {
            const char *lt = req_arg(r, "list-type");
            r->op = lt && !strcmp(lt, "2") ? OP_LIST_OBJECTS_V2
                                           : OP_LIST_OBJECTS;
        } else if (put)
            req_fail(r, S3E_NotImplemented,
                     "Bucket versioning cannot be changed on this server.");
        else
            req_fail(r, S3E_MethodNotAllowed, NULL);
        return;
    }
    if (strlen(r->key) > 1024) {
        req_fail(r, S3E_KeyTooLongError, NULL);
        return;
    }
    static const char *const obj_unsupported[] = {
        "acl", "tagging", "retention", "legal-hold", "torrent", "restore",
        "select", "attributes",
    };
    for (size_t i = 0; i < ARRAY_SIZE(obj_unsupported); i++)
        if (req_has_arg(r, obj_unsupported[i])) {
            req_fail(r, S3E_NotImplemented,
                     "This object subresource is not implemented.");
            return;
        }
    bool upload = req_has_arg(r, "uploadId");
    if (put && upload)
        r->op = req_header(r, "x-amz-copy-source") ? OP_UPLOAD_PART_COPY
                                                   : OP_UPLOAD_PART;
    else if (put)
        r->op = req_header(r, "x-amz-copy-source") ? OP_COPY_OBJECT
                                                   : OP_PUT_OBJECT;
    else if (get && upload)
        r->op = OP_LIST_PARTS;
    else if (get)
        r->op = OP_GET_OBJECT;
    else if (head)
        r->op = OP_HEAD_OBJECT;
    else if (del && upload)
        r->op = OP_ABORT_UPLOAD;
    else if (del)
        r->op = OP_DELETE_OBJECT;
    else if (post && req_has_arg(r, "uploads"))
        r->op = OP_CREATE_UPLOAD;
    else if (post && upload)
        r->op = OP_COMPLETE_UPLOAD;
    else
        req_fail(r, S3E_MethodNotAllowed, NULL);
}

/* ---- authentication -------------------------------------------------- */

struct hdr_collect {
    const char *signed_list;
    struct sigv4_header *h;
    size_t n, alloc;
};

static bool in_signed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

static enum MHD_Result collect_hdr(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    struct hdr_collect *c = cls;
    (void)kind;
    if (in_signed(c->signed_list, key)) {
        ALLOC_GROW(c->h, c->n + 1, c->alloc);
        c->h[c->n].name = key;
        c->h[c->n].value = value ? value : "";
        c->n++;
    }
    return MHD_YES;
}

static const struct store_user *find_user(struct store_server *s,
                                          const char *ak)
{
    for (size_t i = 0; i < s->cfg.nusers; i++)
        if (strcmp(s->cfg.users[i].access_key, ak) == 0)
            return &s->cfg.users[i];
    return NULL;
}

static bool is_hex64(const char *s)
{
    return s && strlen(s) == 64 && hex_string(s, 64);
}

static void authenticate(struct req *r)
{
    struct sigv4_claim claim;
    struct hdr_collect hc = {0};
    struct strbuf scope = STRBUF_INIT;
    bool presigned = false, malformed = false;
    const char *payload = NULL;
    const char *authz = req_header(r, "Authorization");
    time_t now = time(NULL), t;

    if (authz) {
        if (strncmp(authz, SIGV4_ALGORITHM " ", strlen(SIGV4_ALGORITHM) + 1)) {
            req_fail(r, S3E_InvalidRequest,
                     "The authorization mechanism you have provided is not "
                     "supported. Please use AWS4-HMAC-SHA256.");
            goto out;
        }
        if (!sigv4_parse_authorization(authz, &claim)) {
            req_fail(r, S3E_AuthorizationHeaderMalformed, NULL);
            goto out;
        }
        const char *d = req_header(r, "x-amz-date");
        if (!d || !sigv4_parse_amz_date(d, &t)) {
            req_fail(r, S3E_AccessDenied,
                     "AWS authentication requires a valid x-amz-date header");
            goto out;
        }
        snprintf(claim.amz_date, sizeof(claim.amz_date), "%s", d);
        payload = req_header(r, "x-amz-content-sha256");
        if (!payload) {
            req_fail(r, S3E_InvalidRequest,
                     "Missing required header for this request: "
                     "x-amz-content-sha256");
            goto out;
        }
        if (labs((long)(now - t)) > r->srv->cfg.max_skew) {
            req_fail(r, S3E_RequestTimeTooSkewed, NULL);
            goto out;
        }
    } else if (sigv4_parse_presigned(r->query.buf, &claim, &malformed)) {
        presigned = true;
        sigv4_parse_amz_date(claim.amz_date, &t);
        if (claim.expires < 1 || claim.expires > 604800) {
            req_fail(r, S3E_AuthorizationQueryParametersError,
                     "X-Amz-Expires must be between 1 and 604800 seconds");
            goto out;
        }
        if (now > t + claim.expires) {
            req_fail(r, S3E_AccessDenied, "Request has expired");
            goto out;
        }
        if (t > now + r->srv->cfg.max_skew) {
            req_fail(r, S3E_AccessDenied, "Request is not valid yet");
            goto out;
        }
        payload = SIGV4_UNSIGNED;
    } else if (req_has_arg(r, "AWSAccessKeyId")) {
        req_fail(r, S3E_AccessDenied,
                 "Signature Version 2 presigned URLs are not supported; "
                 "presign with Signature Version 4 (boto3: "
                 "Config(signature_version='s3v4'))");
        goto out;
    } else if (malformed) {
        req_fail(r, S3E_AuthorizationQueryParametersError, NULL);
        goto out;
    } else {
        req_fail(r, S3E_AccessDenied, "Anonymous access is not allowed");
        goto out;
    }
    r->user = find_user(r->srv, claim.access_key);
    if (!r->user) {
        req_fail(r, S3E_InvalidAccessKeyId, NULL);
        goto out;
    }
    if (strncmp(claim.amz_date, claim.date8, 8) != 0 ||
        !in_signed(claim.signed_headers, "host")) {
        req_fail(r, S3E_SignatureDoesNotMatch,
                 "The credential date must match x-amz-date and host must "
                 "be signed");
        goto out;
    }
    hc.signed_list = claim.signed_headers;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_hdr, &hc);
    struct strbuf dpath = STRBUF_INIT;
    sigv4_uri_decode(&dpath, r->path, strlen(r->path));
    struct sigv4_credentials cred = {r->user->access_key,
                                     r->user->secret_key, claim.region,
                                     claim.service};
    struct sigv4_request sr = {
        .method = r->method,
        .path = dpath.buf,
        .query = r->query.buf,
        .headers = hc.h,
        .nheaders = hc.n,
        .payload_hash = payload,
        .skip_param = presigned ? "X-Amz-Signature" : NULL,
    };
    char sig[65];
    sigv4_signature(&cred, &sr, claim.signed_headers, claim.amz_date, sig,
                    NULL, NULL);
    bool ok = sigv4_equal(sig, claim.signature);
    if (!ok) { /* the client's own path encoding */
        sr.path = r->path;
        sr.path_encoded = true;
        sigv4_signature(&cred, &sr, claim.signed_headers, claim.amz_date, sig,
                        NULL, NULL);
        ok = sigv4_equal(sig, claim.signature);
    }
    strbuf_release(&dpath);
    if (!ok) {
        req_fail(r, S3E_SignatureDoesNotMatch, NULL);
        goto out;
    }
    log_debug("store: %s %s signed by %s, payload %s%s", r->method, r->path,
              r->user->access_key, payload, presigned ? " (presigned)" : "");
    /* what the body must now prove */
    if (is_hex64(payload)) {
        snprintf(r->want_sha256, sizeof(r->want_sha256), "%s", payload);
        for (char *p = r->want_sha256; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    } else if (!strncmp(payload, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 34)) {
        r->chunked = true;
        r->chunk_signed = true;
        memcpy(r->prev_sig, claim.signature, 65);
        memcpy(r->amz_date, claim.amz_date, 17);
        sigv4_signing_key(r->user->secret_key, claim.date8, claim.region,
                          claim.service, r->sign_key);
        sigv4_claim_scope(&claim, &r->scope);
    } else if (!strncmp(payload, "STREAMING-", 10)) {
        r->chunked = true; /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
    } else if (strcmp(payload, SIGV4_UNSIGNED) != 0) {
        req_fail(r, S3E_InvalidArgument,
                 "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, "
                 "STREAMING-... or a SHA-256 hex digest");
    }
out:
    free(hc.h);
    strbuf_release(&scope);
}

/* ---- bodies ---------------------------------------------------------- */

/*
 * Bodies of a blob PUT or part are read once per block: MHD hands us a
 * block of its receive buffer, and every digest the request needs (MD5
 * for the ETag, the x-amz-checksum, SHA-256 when the payload hash was
 * signed) and the write to the blob read that block while it is in the
 * cache; a small body is written straight from MHD's buffer. MD5 is the
 * slowest pass (one core does ~0.7 GB/s, and S3 wants the MD5 of the
 * body as the ETag), so a big body (>= HASHER_MIN) has a helper thread
 * that runs MD5 and the checksum on another core: this thread copies
 * each block into a ring of L2-sized slots (the one extra copy, from the
 * cache), writes each full slot to the blob in one large write and goes
 * on receiving, while the helper hashes the filled slots behind it; the
 * body ends when the helper has caught up. A single PUT then costs about
 * max(MD5, receive + copy + write) per byte instead of the sum.
 * With fsync on, writeback of the blob starts every WB_STEP bytes, so
 * the fsync at commit only waits for the tail.
 */
#define HASHER_MIN (1u << 20)
#define RING_SLOT (512u << 10)
#define RING_SLOTS 16u
#define WB_STEP (2u << 20)
static _Atomic int hashers_running;

struct body_hasher {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* slots filled, slots freed, quit */
    char *ring;         /* RING_SLOTS x RING_SLOT */
    size_t fill[RING_SLOTS];
    uint64_t head, tail; /* slots filled by the connection / hashed */
    size_t cur;          /* bytes in slot head (not yet handed over) */
    bool quit;
    struct req *r;
    double cpu_s; /* the helper's CPU time, for the debug log */
};

static void hash_block(struct req *r, const char *data, size_t len)
{
    EVP_DigestUpdate(r->md5, data, len);
    if (r->ck.algo != CHECKSUM_NONE)
        checksum_update(&r->ck, data, len);
}

static void *hasher_main(void *arg)
{
    struct body_hasher *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        if (h->tail < h->head) {
            size_t i = (size_t)(h->tail % RING_SLOTS);
            pthread_mutex_unlock(&h->mu);
            hash_block(h->r, h->ring + i * RING_SLOT, h->fill[i]);
            pthread_mutex_lock(&h->mu);
            h->tail++;
            pthread_cond_broadcast(&h->cv);
        } else if (h->quit) {
            struct rusage ru;
            if (getrusage(RUSAGE_THREAD, &ru) == 0)
                h->cpu_s = (double)ru.ru_utime.tv_sec +
                           (double)ru.ru_utime.tv_usec / 1e6 +
                           (double)ru.ru_stime.tv_sec +
                           (double)ru.ru_stime.tv_usec / 1e6;
            break;
        } else {
            pthread_cond_wait(&h->cv, &h->mu);
        }
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* A helper for r's body, or none (r hashes inline) when there are already
 * as many as cores: then every core is busy hashing some body, and a
 * helper would only add its copy and its context switches. */
static void hasher_start(struct req *r)
{
    static _Atomic int max;
    if (!max) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        max = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    if (++hashers_running > max) {
        hashers_running--;
        return;
    }
    struct body_hasher *h = xcalloc(1, sizeof(*h));
    h->r = r;
    h->ring = xmalloc((size_t)RING_SLOTS * RING_SLOT);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->th, NULL, hasher_main, h)) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->cv);
        free(h->ring);
        free(h);
        hashers_running--;
        return;
    }
    pthread_setname_np(h->th, "skyc-hash");
    r->hasher = h;
}

/* Hand slot head (cur bytes) to the helper. Called with h->mu held. */
static void hasher_publish(struct body_hasher *h)
{
    h->fill[h->head % RING_SLOTS] = h->cur;
    h->head++;
    h->cur = 0;
    pthread_cond_broadcast(&h->cv);
}

/* Write a block to the blob; with fsync on, start writeback as it grows. */
static void blob_block(struct req *r, const char *data, size_t len)
{
    struct skyc_error err = {0};
    if (backend_write(&r->w, data, len, &err)) {
        log_warning("store: %s", err.msg);
        req_fail(r, S3E_InternalError, NULL);
        return;
    }
    if (r->w.be->fsync && r->w.size - r->wb_off >= WB_STEP) {
        sync_file_range(r->w.fd, (off_t)r->wb_off,
                        (off_t)(r->w.size - r->wb_off),
                        SYNC_FILE_RANGE_WRITE);
        r->wb_off = r->w.size;
    }
}

static void body_setup(struct req *r)
{
    const char *ce = req_header(r, "Content-Encoding");
    if (ce && strstr(ce, "aws-chunked"))
        r->chunked = true;
    r->decoded_len = -1;
    const char *dl = req_header(r, "x-amz-decoded-content-length");
    if (dl) {
        char *end;
        long long v = strtoll(dl, &end, 10);
        if (*end || v < 0) {
            req_fail(r, S3E_InvalidArgument,
                     "x-amz-decoded-content-length must be a number");
            return;
        }
        r->decoded_len = v;
    }
    if (r->want_sha256[0]) {
        r->sha256 = EVP_MD_CTX_new();
        EVP_DigestInit_ex(r->sha256, EVP_sha256(), NULL);
    }
    if (r->op == OP_DELETE_OBJECTS || r->op == OP_COMPLETE_UPLOAD ||
        r->op == OP_SKYC || r->op == OP_CREATE_BUCKET) {
        r->body = BODY_BUFFER;
    } else if (r->op == OP_PUT_OBJECT || r->op == OP_UPLOAD_PART) {
        const char *cl = req_header(r, "Content-Length");
        const char *te = req_header(r, "Transfer-Encoding");
        if (!cl && !te) {
            req_fail(r, S3E_MissingContentLength, NULL);
            return;
        }
        if (cl && strtoull(cl, NULL, 10) > MAX_PUT_SIZE + (1u << 20)) {
            req_fail(r, S3E_EntityTooLarge, NULL);
            return;
        }
        if (!precheck_put(r))
            return;
        r->body = BODY_BLOB;
        /* the payload length, when declared, decides inline or file */
        int64_t declared = r->chunked ? r->decoded_len
                           : cl        ? (int64_t)strtoull(cl, NULL, 10)
                                       : -1;
        struct skyc_error err = {0};
        if (r->op == OP_PUT_OBJECT && !r->srv->multi && declared >= 0 &&
            declared <= (int64_t)INLINE_MAX) {
            r->inline_data = true;
        } else if (backend_create(&region_for_write(r)->be,
                                  &r->w, &err)) {
            log_warning("store: %s", err.msg);
            req_fail(r, S3E_InternalError, NULL);
            return;
        } else {
            r->w_open = true;
        }
        r->md5 = EVP_MD_CTX_new();
        EVP_DigestInit_ex(r->md5, EVP_md5(), NULL);
        if (r->w_open && (declared < 0 || declared >= (int64_t)HASHER_MIN))
            hasher_start(r);
        const char *md5 = req_header(r, "Content-MD5");
        if (md5) {
            if (base64_decode(md5, r->want_md5, 16) != 16) {
                req_fail(r, S3E_InvalidDigest, NULL);
                return;
            }
            r->have_md5 = true;
        }
    }
    /* x-amz-checksum-*: in a header, or announced as a trailer */
    const char *algo = req_header(r, "x-amz-sdk-checksum-algorithm");
    const char *trailer = req_header(r, "x-amz-trailer");
    enum checksum_algo a = algo ? checksum_algo_parse(algo) : CHECKSUM_NONE;
    if (trailer && !strncasecmp(trailer, "x-amz-checksum-", 15)) {
        a = checksum_algo_parse(trailer + 15);
        r->ck_trailer = true;
    }
    static const enum checksum_algo all[] = {CHECKSUM_CRC32, CHECKSUM_CRC32C,
                                             CHECKSUM_SHA1, CHECKSUM_SHA256,
                                             CHECKSUM_CRC64NVME};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
        char name[40];
        snprintf(name, sizeof(name), "x-amz-checksum-%s",
                 checksum_algo_name(all[i]));
        const char *v = req_header(r, name);
        if (v) {
            a = all[i];
            r->ck_expected = xstrdup(v);
        }
    }
    if (a != CHECKSUM_NONE && r->body != BODY_NONE) {
        r->ck_algo = a;
        checksum_init(&r->ck, a);
    }
}

/* Copy a block into the ring, waiting for a free slot when it is full;
 * each full slot goes to the helper and is written to the blob in one
 * large write while it is still in the cache. */
static void hasher_feed(struct req *r, const char *data, size_t len)
{
    struct body_hasher *h = r->hasher;
    while (len && !r->has_pending) {
        if (h->cur == 0) { /* a new slot: wait until the helper freed it */
            pthread_mutex_lock(&h->mu);
            while (h->head - h->tail == RING_SLOTS)
                pthread_cond_wait(&h->cv, &h->mu);
            pthread_mutex_unlock(&h->mu);
        }
        char *slot = h->ring + (size_t)(h->head % RING_SLOTS) * RING_SLOT;
        size_t n = RING_SLOT - h->cur < len ? RING_SLOT - h->cur : len;
        memcpy(slot + h->cur, data, n);
        h->cur += n;
        data += n;
        len -= n;
        if (h->cur == RING_SLOT) {
            pthread_mutex_lock(&h->mu);
            hasher_publish(h);
            pthread_mutex_unlock(&h->mu);
            blob_block(r, slot, RING_SLOT); /* the helper only reads it */
        }
    }
}

/* The body ended: write and hand over the partial slot. */
static void hasher_flush(struct req *r)
{
    struct body_hasher *h = r->hasher;
    if (!h || !h->cur)
        return;
    char *slot = h->ring + (size_t)(h->head % RING_SLOTS) * RING_SLOT;
    size_t n = h->cur;
    pthread_mutex_lock(&h->mu);
    hasher_publish(h);
    pthread_mutex_unlock(&h->mu);
    blob_block(r, slot, n);
}

/* Hash what is left, wait for the helper to finish, and end it. */
static void hasher_stop(struct req *r)
{
    struct body_hasher *h = r->hasher;
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    if (h->cur)
        hasher_publish(h);
    h->quit = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    log_debug("store: %s %s: body hashed by a helper thread (%.3f s CPU)",
              r->method, r->path, h->cpu_s);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h->ring);
    free(h);
    r->hasher = NULL;
    hashers_running--;
}

static void feed_payload(struct req *r, const char *data, size_t len)
{
    if (r->has_pending)
        return;
    r->received += len;
    if (r->body == BODY_BUFFER) {
        if (r->buf.len + len > MAX_XML_BODY) {
            req_fail(r, S3E_MalformedXML, "The XML body is too large");
            return;
        }
        strbuf_add(&r->buf, data, len);
        if (r->ck.algo != CHECKSUM_NONE)
            checksum_update(&r->ck, data, len);
    } else if (r->body == BODY_BLOB) {
        if (r->received > MAX_PUT_SIZE) {
            req_fail(r, S3E_EntityTooLarge, NULL);
            return;
        }
        if (r->inline_data) {
            if (r->received > INLINE_MAX) {
                req_fail(r, S3E_IncompleteBody,
                         "The body is longer than its declared length");
                return;
            }
            strbuf_add(&r->buf, data, len);
            hash_block(r, data, len);
        } else if (r->hasher) {
            hasher_feed(r, data, len);
        } else {
            hash_block(r, data, len);
            blob_block(r, data, len);
        }
    } else if (r->ck.algo != CHECKSUM_NONE) {
        checksum_update(&r->ck, data, len);
    }
}

static bool chunk_verify(struct req *r)
{
    if (!r->chunk_signed)
        return true;
    uint8_t md[32];
    unsigned int n = 0;
    char hex[65], sig[65];
    EVP_DigestFinal_ex(r->chunk_sha, md, &n);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = hx[md[i] >> 4];
        hex[2 * i + 1] = hx[md[i] & 15];
    }
    hex[64] = '\0';
    sigv4_chunk_signature(r->sign_key, r->amz_date, r->scope.buf, r->prev_sig,
                          hex, sig);
    if (!sigv4_equal(sig, r->chunk_sig)) {
        req_fail(r, S3E_SignatureDoesNotMatch,
                 "The chunk signature does not match");
        return false;
    }
    memcpy(r->prev_sig, sig, 65);
    return true;
}

/* Parse "HEX[;chunk-signature=SIG]" in r->line. */
static bool chunk_header(struct req *r)
{
    char *p = r->line.buf;
    char *end;
    if (r->line.len && p[r->line.len - 1] == '\r')
        strbuf_setlen(&r->line, r->line.len - 1);
    errno = 0;
    unsigned long long n = strtoull(p, &end, 16);
    if (end == p || errno || n > MAX_PUT_SIZE) {
        req_fail(r, S3E_IncompleteBody, "Bad aws-chunked chunk header");
        return false;
    }
    r->chunk_left = n;
    if (r->chunk_signed) {
        const char *s = strstr(end, ";chunk-signature=");
        if (!s || !is_hex64(s + 17)) {
            req_fail(r, S3E_SignatureDoesNotMatch,
                     "A chunk signature is missing");
            return false;
        }
        memcpy(r->chunk_sig, s + 17, 64);
        r->chunk_sig[64] = '\0';
        if (!r->chunk_sha)
            r->chunk_sha = EVP_MD_CTX_new();
        EVP_DigestInit_ex(r->chunk_sha, EVP_sha256(), NULL);
    }
    return true;
}

static void trailer_line(struct req *r)
{
    char *p = r->line.buf;
    if (r->line.len && p[r->line.len - 1] == '\r')
        p[--r->line.len] = '\0';
    char *colon = strchr(p, ':');
    if (!colon)
        return;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ')
        v++;
    if (!strncasecmp(p, "x-amz-checksum-", 15) &&
        checksum_algo_parse(p + 15) == r->ck_algo) {
        free(r->ck_expected);
        r->ck_expected = xstrdup(v);
    }
}

static void feed_chunked(struct req *r, const char *data, size_t len)
{
    while (len && !r->has_pending) {
        switch (r->cs) {
        case CH_SIZE:
        case CH_DATA_CR:
        case CH_TRAILER: {
            const char *nl = memchr(data, '\n', len);
            size_t n = nl ? (size_t)(nl - data) : len;
            if (r->line.len + n > 4096) {
                req_fail(r, S3E_IncompleteBody, "aws-chunked line too long");
                return;
            }
            strbuf_add(&r->line, data, n);
            data += n + (nl ? 1 : 0);
            len -= n + (nl ? 1 : 0);
            if (!nl)
                return;
            if (r->cs == CH_SIZE) {
                if (!chunk_header(r))
                    return;
                if (r->chunk_left == 0) {
                    if (!chunk_verify(r))
                        return;
                    r->cs = CH_TRAILER;
                } else {
                    r->cs = CH_DATA;
                }
            } else if (r->cs == CH_DATA_CR) {
                if (r->line.len > 1 || (r->line.len == 1 && r->line.buf[0] != '\r')) {
                    req_fail(r, S3E_IncompleteBody,
                             "aws-chunked data is longer than its chunk size");
                    return;
                }
                r->cs = CH_SIZE;
            } else { /* trailer */
                if (r->line.len == 0 ||
                    (r->line.len == 1 && r->line.buf[0] == '\r'))
                    r->cs = CH_DONE;
                else
                    trailer_line(r);
            }
            strbuf_reset(&r->line);
            break;
        }
        case CH_DATA: {
            size_t n = len < r->chunk_left ? len : (size_t)r->chunk_left;
            feed_payload(r, data, n);
            if (r->chunk_signed)
                EVP_DigestUpdate(r->chunk_sha, data, n);
            data += n;
            len -= n;
            r->chunk_left -= n;
            if (!r->chunk_left) {
                if (!chunk_verify(r))
                    return;
                r->cs = CH_DATA_CR;
            }
            break;
        }
        case CH_DONE:
            return; /* trailing bytes after the final CRLF: ignored */
        }
    }
}

static void feed_raw(struct req *r, const char *data, size_t len)
{
    if (r->has_pending)
        return;
    if (r->sha256)
        EVP_DigestUpdate(r->sha256, data, len);
    if (r->chunked)
        feed_chunked(r, data, len);
    else
        feed_payload(r, data, len);
}

/* After the whole body: check it proves what the headers claimed. */
static void body_finish(struct req *r)
{
    if (!r->has_pending)
        hasher_flush(r);
    hasher_stop(r);
    if (r->has_pending)
        return;
    if (r->chunked && r->cs != CH_DONE &&
        !(r->cs == CH_TRAILER && r->line.len == 0)) {
        req_fail(r, S3E_IncompleteBody, "The aws-chunked body ended early");
        return;
    }
    if (r->decoded_len >= 0 && (uint64_t)r->decoded_len != r->received) {
        req_fail(r, S3E_IncompleteBody, NULL);
        return;
    }
    if (r->sha256) {
        uint8_t md[32];
        unsigned int n = 0;
        char hex[65];
        EVP_DigestFinal_ex(r->sha256, md, &n);
        static const char hx[] = "0123456789abcdef";
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = hx[md[i] >> 4];
            hex[2 * i + 1] = hx[md[i] & 15];
        }
        hex[64] = '\0';
        if (strcmp(hex, r->want_sha256) != 0) {
            req_fail(r, S3E_XAmzContentSHA256Mismatch, NULL);
            return;
        }
    }
    if (r->md5) {
        unsigned int n = 0;
        EVP_DigestFinal_ex(r->md5, r->md5_out, &n);
        if (r->have_md5 && memcmp(r->md5_out, r->want_md5, 16) != 0) {
            req_fail(r, S3E_BadDigest, NULL);
            return;
        }
    }
    if (r->ck.algo != CHECKSUM_NONE) {
        struct strbuf got = STRBUF_INIT;
        checksum_final(&r->ck, &got);
        if (r->ck_expected && strcmp(got.buf, r->ck_expected) != 0) {
            char msg[128];
            snprintf(msg, sizeof(msg),
                     "The %s you specified did not match the calculated "
                     "checksum.",
                     checksum_algo_name(r->ck_algo));
            req_fail(r, S3E_BadDigest, msg);
        } else if (!r->ck_expected && r->ck_trailer) {
            req_fail(r, S3E_InvalidRequest,
                     "The announced x-amz-checksum trailer is missing");
        } else {
            /* keep the verified value for GET ?checksum-mode */
            free(r->ck_expected);
            struct strbuf v = STRBUF_INIT;
            strbuf_addf(&v, "%s:%s", checksum_algo_name(r->ck_algo), got.buf);
            r->ck_expected = strbuf_detach(&v, NULL);
        }
        strbuf_release(&got);
    } else {
        FREE_AND_NULL(r->ck_expected);
    }
}

/* ---- the MHD callbacks ----------------------------------------------- */

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    struct strbuf *q = cls;
    (void)kind;
    if (q->len)
        strbuf_addch(q, '&');
    strbuf_addstr(q, key);
    if (value) {
        strbuf_addch(q, '=');
        strbuf_addstr(q, value);
    }
    return MHD_YES;
}

static void new_request_id(char id[17])
{
    static _Atomic uint64_t counter;
    static const char hx[] = "0123456789ABCDEF";
    uint64_t v = ((uint64_t)time(NULL) << 24) ^ (uint64_t)getpid() << 40 ^
                 ++counter;
    for (int i = 15; i >= 0; i--) {
        id[i] = hx[v & 15];
        v >>= 4;
    }
    id[16] = '\0';
}

static void req_free(struct req *r)
{
    hasher_stop(r);
    if (r->w_open)
        backend_abort(&r->w);
    free(r->path);
    strbuf_release(&r->query);
    free(r->bucket);
    free(r->key);
    free(r->pending_msg);
    strbuf_release(&r->buf);
    if (r->md5)
        EVP_MD_CTX_free(r->md5);
    if (r->sha256)
        EVP_MD_CTX_free(r->sha256);
    if (r->chunk_sha)
        EVP_MD_CTX_free(r->chunk_sha);
    checksum_release(&r->ck);
    free(r->ck_expected);
    strbuf_release(&r->line);
    strbuf_release(&r->scope);
    for (size_t i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    free(r->owned);
    OPENSSL_cleanse(r->sign_key, sizeof(r->sign_key));
    free(r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    if (*con_cls)
        req_free(*con_cls);
    *con_cls = NULL;
}

static enum MHD_Result dispatch(struct req *r)
{
    switch (r->op) {
    case OP_LIST_BUCKETS:
        return h_list_buckets(r);
    case OP_CREATE_BUCKET:
        return h_create_bucket(r);
    case OP_HEAD_BUCKET:
        return h_head_bucket(r);
    case OP_DELETE_BUCKET:
        return h_delete_bucket(r);
    case OP_LIST_OBJECTS:
        return h_list_objects(r, 1);
    case OP_LIST_OBJECTS_V2:
        return h_list_objects(r, 2);
    case OP_LIST_VERSIONS:
        return h_list_objects(r, 0);
    case OP_LIST_UPLOADS:
        return h_list_uploads(r);
    case OP_GET_LOCATION:
        return h_get_location(r);
    case OP_GET_VERSIONING:
        return h_get_versioning(r);
    case OP_DELETE_OBJECTS:
        return h_delete_objects(r);
    case OP_PUT_OBJECT:
        return h_put_object(r);
    case OP_COPY_OBJECT:
        return h_copy_object(r, false);
    case OP_UPLOAD_PART_COPY:
        return h_copy_object(r, true);
    case OP_GET_OBJECT:
        return h_get_object(r, false);
    case OP_HEAD_OBJECT:
        return h_get_object(r, true);
    case OP_DELETE_OBJECT:
        return h_delete_object(r);
    case OP_CREATE_UPLOAD:
        return h_create_upload(r);
    case OP_UPLOAD_PART:
        return h_upload_part(r);
    case OP_COMPLETE_UPLOAD:
        return h_complete_upload(r);
    case OP_ABORT_UPLOAD:
        return h_abort_upload(r);
    case OP_LIST_PARTS:
        return h_list_parts(r);
    case OP_SKYC:
        return h_skyc(r);
    case OP_NONE:
        break;
    }
    return respond_error(r, S3E_InternalError, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls)
{
    struct req *r = *con_cls;
    (void)version;
    if (!r) {
        r = xcalloc(1, sizeof(*r));
        *con_cls = r;
        struct store_endpoint *ep = cls;
        r->srv = ep->srv;
        r->at = ep->region;
        r->conn = conn;
        r->method = method;
        r->path = xstrdup(url);
        r->w.fd = -1;
        strbuf_init(&r->query, 0);
        new_request_id(r->request_id);
        MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query,
                                  &r->query);
        route(r);
        if (!r->has_pending)
            authenticate(r);
        if (!r->has_pending)
            body_setup(r);
        if (r->has_pending) /* answer now; MHD discards any body */
            return respond_error(r, r->pending, r->pending_msg);
        return MHD_YES;
    }
    if (*data_size) {
        feed_raw(r, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    body_finish(r);
    if (r->has_pending)
        return respond_error(r, r->pending, r->pending_msg);
    return dispatch(r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) SKYC_PRINTF(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char buf[512];
    (void)cls;
    vsnprintf(buf, sizeof(buf), fmt, ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    log_debug("store: http: %s", buf);
}

static void note_blob(void *ctx, const char *blob)
{
    uint32_t v = 1;
    strmap_put(ctx, blob, &v);
}

static bool keep_blob(void *ctx, const char *id)
{
    uint32_t v;
    return strmap_get(ctx, id, &v);
}

/* Before serving: drop blobs no row names (a crash's leftovers). */
static enum skyc_err sweep_orphans(struct store_server *s,
                                   struct skyc_error *err)
{
    struct strmap live;
    strmap_init(&live);
    enum skyc_err rc = meta_blob_list(&s->meta, note_blob, &live, err);
    if (!rc) {
        size_t n = 0;
        for (size_t i = 0; i < s->nregions; i++)
            n += backend_sweep(&s->regions[i].be, keep_blob, &live);
        if (n)
            log_notice("removed %zu unreferenced blob%s left by a crash", n,
                       n == 1 ? "" : "s");
    }
    strmap_release(&live);
    return rc;
}

enum skyc_err store_server_start(const struct store_config *c,
                                 struct store_server **out,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct store_server *s = xcalloc(1, sizeof(*s));
    struct strbuf p = STRBUF_INIT;
    *out = NULL;
    s->cfg = *c; /* shallow: the caller keeps c alive while serving */
    if (!c->data_dir || !c->nusers) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "store serve needs --data DIR and at least one user "
                       "(--access-key/--secret-key or users in --config)");
        goto fail;
    }
    s->multi = c->nregions > 0;
    s->nregions = s->multi ? c->nregions : 1;
    s->regions = xcalloc(s->nregions, sizeof(*s->regions));
    s->eps = xcalloc(s->nregions, sizeof(*s->eps));
    for (size_t i = 0; i < s->nregions; i++) {
        const char *dir = s->multi ? c->regions[i].dir : c->data_dir;
        s->regions[i].name = xstrdup(s->multi ? c->regions[i].name : "local");
        if (!dir) { /* a remote bucket, writes spooled under DATA */
            const struct store_region_config *rg = &c->regions[i];
            struct backend_s3_config s3 = {
                rg->s3_url, rg->s3_bucket, rg->s3_prefix, rg->s3_access_key,
                rg->s3_secret_key, rg->s3_region};
            char *spool = xasprintf("%s/spool-%zu", c->data_dir, i);
            rc = path_mkdir_p(c->data_dir, 0755)
                     ? skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s",
                                 c->data_dir, strerror(errno))
                     : backend_open_s3(&s->regions[i].be, spool, &s3,
                                       c->fsync, err);
            free(spool);
        } else {
            rc = backend_open(&s->regions[i].be, dir, c->fsync, err);
        }
        if (rc)
            goto fail;
    }
    if (s->multi && path_mkdir_p(c->data_dir, 0755)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", c->data_dir,
                       strerror(errno));
        goto fail;
    }
    strbuf_addf(&p, "%s/meta.db", c->data_dir);
    if ((rc = meta_open(&s->meta, p.buf, c->fsync, err)))
        goto fail;
    if ((rc = sweep_orphans(s, err)))
        goto fail;
    if ((rc = mr_start(s, err)))
        goto fail;

    for (size_t i = 0; i < s->nregions; i++) {
        struct store_endpoint *ep = &s->eps[i];
        const char *host = s->multi ? c->regions[i].host : c->listen_host;
        int port = s->multi ? c->regions[i].port : c->port;
        ep->srv = s;
        ep->region = i;
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "listen host '%s' is not an IPv4 address", host);
            goto fail;
        }
        /* A thread per connection by default: a handler that blocks (a
         * PUT waiting for its group commit, a big body being hashed)
         * holds up only its own connection, concurrent requests run on
         * every core, and the waiting PUTs share one fdatasync. A pool
         * (--threads N) multiplexes connections over N epoll threads.
         * 64 KiB of connection memory: MHD clears it between the requests
         * of a keep-alive connection (a 256 KiB pool cost a 4 KiB GET a
         * third of its CPU), and big bodies stream in blocks anyway. */
        bool per_conn = c->threads == 0;
        ep->mhd = MHD_start_daemon(
            (per_conn ? MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL
                      : MHD_USE_EPOLL) |
                MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
                MHD_USE_TURBO,
            0, NULL, NULL, on_request, ep, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
            s, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_THREAD_POOL_SIZE,
            (unsigned)c->threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT,
            (size_t)(64u << 10), MHD_OPTION_CONNECTION_TIMEOUT, 120u,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, s,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
        if (!ep->mhd) {
            rc = skyc_fail(err, SKYC_E_NETWORK,
                           "cannot listen on %s:%d (port in use?)", host,
                           port);
            goto fail;
        }
        const union MHD_DaemonInfo *info =
            MHD_get_daemon_info(ep->mhd, MHD_DAEMON_INFO_BIND_PORT);
        ep->port = info ? info->port : port;
    }
    strbuf_release(&p);
    *out = s;
    return SKYC_OK;
fail:
    strbuf_release(&p);
    store_server_stop(s);
    return rc;
}

int store_server_port(const struct store_server *s)
{
    return s->eps[0].port;
}

int store_server_region_port(const struct store_server *s, size_t i)
{
    return i < s->nregions ? s->eps[i].port : -1;
}

void store_server_stop(struct store_server *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->eps && i < s->nregions; i++)
        if (s->eps[i].mhd)
            MHD_stop_daemon(s->eps[i].mhd);
    mr_stop(s);
    if (s->meta.db)
        meta_close(&s->meta);
    for (size_t i = 0; i < s->nregions; i++) {
        free(s->regions[i].name);
        backend_release(&s->regions[i].be);
    }
    free(s->regions);
    free(s->eps);
    free(s);
}
