/*
 * cmd_store_policy.c - `skyc store policy get|set BUCKET [POLICY]
 * --endpoint URL`: read or change a bucket's placement policy on a running
 * multi-region `skyc store serve`, at run time. Sends the server's signed
 * extension (GET|PUT /BUCKET?skyc-policy, store/server_ext.c) through the
 * transfer plane's one S3 client (transfer/endpoint.h), with credentials
 * from --access-key/--secret-key or $AWS_ACCESS_KEY_ID /
 * $AWS_SECRET_ACCESS_KEY. Prints BUCKET, POLICY and SOURCE (runtime,
 * config or default), or the server's JSON with --json.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "transfer/endpoint.h"
#include "transfer/s3xml.h"

#include <jansson.h>

static const char *const usage[] = {
    "skyc store policy get BUCKET --endpoint URL [--json]",
    "skyc store policy set BUCKET POLICY --endpoint URL [--json]",
    "",
    "POLICY is one of `skyc store sim`'s: single-region[:REGION],",
    "replicate-all, write-local, ttl:DURATION (copy-on-read:DURATION),",
    "always-store, always-evict, break-even. The change applies to later",
    "requests and outlives a restart of the server.",
    NULL};

enum skyc_err cmd_store_policy(int argc, const char **argv,
                               struct skyc_error *err)
{
    const char *url = NULL, *ak = NULL, *sk = NULL, *region = NULL;
    bool json = false;
    const struct option opts[] = {
        OPT_STRING(0, "endpoint", &url, "URL",
                   "the server's endpoint (any region's), e.g. "
                   "http://127.0.0.1:9001"),
        OPT_STRING(0, "access-key", &ak, "KEY",
                   "access key (default $AWS_ACCESS_KEY_ID)"),
        OPT_STRING(0, "secret-key", &sk, "SECRET",
                   "secret key (default $AWS_SECRET_ACCESS_KEY)"),
        OPT_STRING(0, "region", &region, "REGION",
                   "signing region (default $AWS_REGION or us-east-1)"),
        OPT_FLAG(0, "json", &json, "print the server's JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    bool set = n >= 1 && !strcmp(argv[0], "set");
    if (n < 1 || (strcmp(argv[0], "get") && !set))
        return skyc_fail(err, SKYC_E_USAGE,
                         "want get or set (usage: %s | %s)", usage[0],
                         usage[1]);
    if (n != (set ? 3 : 2))
        return skyc_fail(err, SKYC_E_USAGE, "store policy %s takes %s (usage: %s)",
                         argv[0], set ? "BUCKET POLICY" : "BUCKET",
                         usage[set ? 1 : 0]);
    if (!url)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--endpoint URL is required (a region endpoint of "
                         "`skyc store serve`, e.g. http://127.0.0.1:9001)");
    const char *bucket = argv[1];
    if (!*bucket || strchr(bucket, '/'))
        return skyc_fail(err, SKYC_E_USAGE, "bad bucket name '%s'", bucket);
    struct endpoint_s3_opts o = {
        url, ak ? ak : getenv("AWS_ACCESS_KEY_ID"),
        sk ? sk : getenv("AWS_SECRET_ACCESS_KEY"),
        region ? region : getenv("AWS_REGION")};
    struct endpoint *ep = NULL;
    struct strbuf spec = STRBUF_INIT, body = STRBUF_INIT, resp = STRBUF_INIT;
    json_t *j = NULL;
    long status = 0;
    enum skyc_err rc;
    strbuf_addf(&spec, "s3://%s", bucket);
    if ((rc = endpoint_s3_open_with(spec.buf, &o, &ep, err)))
        goto out;
    if (set) {
        json_t *b = json_pack("{s:s}", "policy", argv[2]);
        char *t = json_dumps(b, JSON_COMPACT);
        strbuf_addstr(&body, t);
        free(t);
        json_decref(b);
    }
    if ((rc = endpoint_s3_request(ep, set ? "PUT" : "GET", NULL, "skyc-policy=",
                                  set ? body.buf : NULL, body.len, &status,
                                  &resp, err)))
        goto out;
    if (status != 200) {
        struct s3x_error e;
        s3x_parse_error(resp.buf, resp.len, &e);
        rc = skyc_fail(err,
                       status == 403   ? SKYC_E_AUTH
                       : status == 404 ? SKYC_E_NOT_FOUND
                       : status == 400 || status == 501 ? SKYC_E_USAGE
                                       : SKYC_E_NETWORK,
                       "store policy %s %s: HTTP %ld%s%s%s%s", argv[0], bucket,
                       status, e.code[0] ? " " : "", e.code,
                       e.msg[0] ? ": " : "", e.msg);
        goto out;
    }
    json_error_t je;
    j = json_loadb(resp.buf ? resp.buf : "", resp.len, 0, &je);
    const char *pol = json_string_value(json_object_get(j, "policy"));
    const char *src = json_string_value(json_object_get(j, "source"));
    if (!pol || !src) {
        rc = skyc_fail(err, SKYC_E_NETWORK,
                       "%s did not answer a skyc policy (is it `skyc store "
                       "serve`?)",
                       url);
        goto out;
    }
    if (json) {
        output_json(j); /* drops the reference */
        j = NULL;
    } else {
        struct table tb;
        table_init(&tb);
        table_add_col(&tb, "BUCKET", TABLE_LEFT);
        table_add_col(&tb, "POLICY", TABLE_LEFT);
        table_add_col(&tb, "SOURCE", TABLE_LEFT);
        table_add_row(&tb);
        table_cell(&tb, bucket);
        table_cell(&tb, pol);
        table_cell(&tb, src);
        table_print(&tb, stdout);
        table_release(&tb);
    }
    rc = SKYC_OK;
out:
    json_decref(j);
    if (ep)
        endpoint_free(ep);
    strbuf_release(&spec);
    strbuf_release(&body);
    strbuf_release(&resp);
    return rc;
}
