/*
 * server_ext.c - skyc's own extensions to the S3 API, signed like any S3
 * request (SigV4) and answered in JSON:
 *
 *   GET /BUCKET?skyc-policy   {"bucket": B, "policy": P, "source": S}
 *   PUT /BUCKET?skyc-policy   body {"policy": "ttl:1h"}: the bucket's
 *                             placement policy from now on (kept in the
 *                             metadata, so it outlives a restart); answers
 *                             like GET. S = "runtime", "config", "default".
 *   GET /?skyc-stats          {"regions": [{"name", "bytes_read",
 *                             "bytes_written"}], "copies_pending": N}: bytes
 *                             read from / written to each region's backend
 *                             since start (bench/store_regions.sh)
 *
 * Policies are a multi-region server's; a single-region server answers
 * NotImplemented. Errors are S3's XML errors.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "store/server_internal.h"

#include <jansson.h>

static enum MHD_Result respond_json(struct req *r, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return respond_error(r, S3E_InternalError, NULL);
    size_t n = strlen(text);
    char *body = xmalloc(n + 2);
    memcpy(body, text, n);
    body[n] = '\n';
    free(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(n + 1, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    return respond(r, 200, resp);
}

static enum MHD_Result policy_answer(struct req *r, const char *spec,
                                     const char *source)
{
    return respond_json(r, json_pack("{s:s, s:s, s:s}", "bucket", r->bucket,
                                     "policy", spec, "source", source));
}

static enum MHD_Result h_policy(struct req *r)
{
    struct store_server *s = r->srv;
    struct skyc_error err = {0};
    struct strbuf spec = STRBUF_INIT;
    const char *source = "runtime";
    enum MHD_Result ret;
    enum skyc_err rc;
    if (!s->multi)
        return respond_error(r, S3E_NotImplemented,
                             "Placement policies need a multi-region server "
                             "(\"regions\" in the config).");
    bool get = !strcmp(r->method, "GET"), put = !strcmp(r->method, "PUT");
    if (!get && !put)
        return respond_error(r, S3E_MethodNotAllowed, NULL);
    rc = meta_bucket_get(&s->meta, r->bucket, NULL, NULL, &err);
    if (rc == SKYC_E_NOT_FOUND)
        return respond_error(r, S3E_NoSuchBucket, NULL);
    if (rc)
        goto internal;
    if (get) {
        if ((rc = mr_policy_get(s, r->bucket, &spec, &source, &err)))
            goto internal;
        ret = policy_answer(r, spec.buf, source);
        strbuf_release(&spec);
        return ret;
    }
    json_error_t je;
    json_t *body = json_loadb(r->buf.buf ? r->buf.buf : "", r->buf.len, 0, &je);
    const char *want = json_string_value(json_object_get(body, "policy"));
    if (!want || json_object_size(body) != 1) {
        char msg[512];
        if (!body)
            snprintf(msg, sizeof(msg),
                     "The body must be JSON {\"policy\": \"POLICY\"}: %s at "
                     "line %d column %d.",
                     je.text, je.line, je.column);
        else
            snprintf(msg, sizeof(msg),
                     "The body must be exactly {\"policy\": \"POLICY\"}, e.g. "
                     "{\"policy\": \"ttl:1h\"}.");
        json_decref(body);
        return respond_error(r, S3E_InvalidArgument, msg);
    }
    rc = mr_policy_set(s, r->bucket, want, &spec, &err);
    json_decref(body);
    if (rc == SKYC_E_USAGE || rc == SKYC_E_INPUT) {
        ret = respond_error(r, S3E_InvalidArgument, err.msg);
    } else if (rc == SKYC_E_NOT_FOUND) {
        ret = respond_error(r, S3E_NoSuchBucket, NULL);
    } else if (rc) {
        strbuf_release(&spec);
        goto internal;
    } else {
        ret = policy_answer(r, spec.buf, "runtime");
    }
    strbuf_release(&spec);
    return ret;
internal:
    log_warning("store: %s %s: %s", r->method, r->path, err.msg);
    return respond_error(r, S3E_InternalError, NULL);
}

static enum MHD_Result h_stats(struct req *r)
{
    struct store_server *s = r->srv;
    json_t *regs = json_array();
    for (size_t i = 0; i < s->nregions; i++) {
        struct backend *be = &s->regions[i].be;
        json_array_append_new(
            regs,
            json_pack("{s:s, s:s, s:I, s:I}", "name", s->regions[i].name,
                      "backend", be->kind, "bytes_read",
                      (json_int_t)__atomic_load_n(&be->bytes_read,
                                                  __ATOMIC_RELAXED),
                      "bytes_written",
                      (json_int_t)__atomic_load_n(&be->bytes_written,
                                                  __ATOMIC_RELAXED)));
    }
    return respond_json(r, json_pack("{s:o, s:I}", "regions", regs,
                                     "copies_pending",
                                     (json_int_t)mr_copies_pending(s)));
}

enum MHD_Result h_skyc(struct req *r)
{
    if (req_has_arg(r, "skyc-policy") && r->bucket)
        return h_policy(r);
    return h_stats(r);
}
