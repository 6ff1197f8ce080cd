/*
 * failover.c - provision with failover: block by error class, re-optimise,
 * next cheapest, --retry-until-up with backoff (see failover.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "core/clock.h"
#include "catalog/catalog.h"
#include "optimizer/optimizer.h"
#include "provision/failover.h"
#include "task/task.h"

#include <unistd.h>

void failover_record(struct failover_result *res,
                     const struct provider_request *r, enum skyc_err code,
                     const char *message)
{
    ALLOC_GROW(res->attempts, res->nattempts + 1, res->attempts_alloc);
    struct failover_attempt *a = &res->attempts[res->nattempts++];
    memset(a, 0, sizeof(*a));
    a->cloud = xstrdup_or_null(r->cloud);
    a->region = xstrdup_or_null(r->region);
    a->zone = xstrdup_or_null(r->zone);
    a->instance_type = xstrdup_or_null(r->instance_type);
    a->spot = r->spot;
    a->code = code;
    a->message = code == SKYC_OK ? NULL : xstrdup_or_null(message);
    a->hourly = NAN;
    a->at = clock_wall_s();
    a->round = 1;
}

static void request_release(struct provider_request *r)
{
    free((char *)r->cluster);
    free((char *)r->cloud);
    free((char *)r->region);
    free((char *)r->zone);
    free((char *)r->instance_type);
    free((char *)r->accelerator);
    memset(r, 0, sizeof(*r));
}

static void request_copy(struct provider_request *dst,
                         const struct provider_request *src)
{
    *dst = *src;
    dst->cluster = xstrdup_or_null(src->cluster);
    dst->cloud = xstrdup_or_null(src->cloud);
    dst->region = xstrdup_or_null(src->region);
    dst->zone = xstrdup_or_null(src->zone);
    dst->instance_type = xstrdup_or_null(src->instance_type);
    dst->accelerator = xstrdup_or_null(src->accelerator);
}

void failover_result_release(struct failover_result *res)
{
    provider_nodes_free(res->nodes, res->nnodes);
    for (size_t i = 0; i < res->nattempts; i++) {
        struct failover_attempt *a = &res->attempts[i];
        free(a->cloud);
        free(a->region);
        free(a->zone);
        free(a->instance_type);
        free(a->message);
        free(a->blocked);
    }
    free(res->attempts);
    request_release(&res->chosen);
    memset(res, 0, sizeof(*res));
}

/* ---- the blocked list ---------------------------------------------------- */

struct blocklist {
    struct opt_block *v;
    bool *auth; /* v[i] came from an auth failure (kept across rounds) */
    size_t n, alloc, auth_alloc;
};

static void block_free_strings(struct opt_block *b)
{
    free((char *)b->region);
    free((char *)b->zone);
    free((char *)b->instance_type);
}

static void blocklist_release(struct blocklist *bl)
{
    for (size_t i = 0; i < bl->n; i++)
        block_free_strings(&bl->v[i]);
    free(bl->v);
    free(bl->auth);
    memset(bl, 0, sizeof(*bl));
}

static void blocklist_add(struct blocklist *bl, int cloud, const char *region,
                          const char *zone, const char *type, int spot,
                          bool auth)
{
    ALLOC_GROW(bl->v, bl->n + 1, bl->alloc);
    ALLOC_GROW(bl->auth, bl->n + 1, bl->auth_alloc);
    bl->v[bl->n] = (struct opt_block){cloud, xstrdup_or_null(region),
                                      xstrdup_or_null(zone), xstrdup_or_null(type),
                                      spot};
    bl->auth[bl->n++] = auth;
}

/* Drop every block except the auth ones. */
static void blocklist_keep_auth(struct blocklist *bl)
{
    size_t k = 0;
    for (size_t i = 0; i < bl->n; i++) {
        if (bl->auth[i]) {
            bl->v[k] = bl->v[i];
            bl->auth[k++] = true;
        } else
            block_free_strings(&bl->v[i]);
    }
    bl->n = k;
}

/* The catalog cloud of a provider cloud name: "sim:aws" -> aws, "gcp". */
static int catalog_cloud(const char *name)
{
    if (!name)
        return -1;
    const char *colon = strchr(name, ':');
    return cloud_parse(colon ? colon + 1 : name);
}

static bool is_fatal(enum skyc_err code)
{
    return code == SKYC_E_INPUT || code == SKYC_E_USAGE ||
           code == SKYC_E_INTERNAL || code == SKYC_E_INTERRUPTED ||
           code == SKYC_E_STATE;
}

enum block_scope { BLOCK_NONE, BLOCK_CLOUD, BLOCK_REGION, BLOCK_ZONE,
                   BLOCK_OFFERING };

/* The one rule: what a failure of this class at r rules out. */
static enum block_scope scope_of(const struct provider_request *r,
                                 enum skyc_err code)
{
    if (is_fatal(code) || catalog_cloud(r->cloud) < 0)
        return BLOCK_NONE;
    if (code == SKYC_E_AUTH)
        return BLOCK_CLOUD;
    if (code == SKYC_E_CAPACITY || code == SKYC_E_QUOTA) {
        if (code == SKYC_E_CAPACITY && r->zone && r->region)
            return BLOCK_ZONE;
        return r->region ? BLOCK_REGION : BLOCK_CLOUD;
    }
    return r->region && r->instance_type ? BLOCK_OFFERING : BLOCK_NONE;
}

static char *scope_text(const struct provider_request *r, enum skyc_err code,
                        enum block_scope s)
{
    const char *cname = r->cloud ? r->cloud : "?";
    const char *sp = r->spot && code != SKYC_E_QUOTA ? " (spot)" : "";
    switch (s) {
    case BLOCK_NONE:
        return NULL;
    case BLOCK_CLOUD:
        return xasprintf("cloud %s%s", cname,
                         code == SKYC_E_AUTH ? "" : sp);
    case BLOCK_REGION:
        return xasprintf("region %s/%s%s", cname, r->region,
                         code == SKYC_E_QUOTA ? "" : sp);
    case BLOCK_ZONE:
        return xasprintf("zone %s/%s/%s%s", cname, r->region, r->zone, sp);
    case BLOCK_OFFERING:
        return xasprintf("offering %s/%s%s%s %s%s", cname, r->region,
                         r->zone ? "/" : "", r->zone ? r->zone : "",
                         r->instance_type, sp);
    }
    return NULL;
}

char *failover_blocked_text(const char *cloud, const char *region,
                            const char *zone, const char *instance_type,
                            bool spot, enum skyc_err code)
{
    struct provider_request r = {.cloud = cloud, .region = region,
                                 .zone = zone, .instance_type = instance_type,
                                 .spot = spot};
    return scope_text(&r, code, scope_of(&r, code));
}

/*
 * Block what the failure of r says; returns a description ("zone
 * aws/us-east-1/us-east-1a") or NULL when nothing could be blocked.
 */
static char *block_for(struct blocklist *bl, const struct provider_request *r,
                       enum skyc_err code)
{
    int cl = catalog_cloud(r->cloud);
    int spot = r->spot ? 1 : 0;
    enum block_scope s = scope_of(r, code);
    switch (s) {
    case BLOCK_NONE:
        return NULL;
    case BLOCK_CLOUD:
        blocklist_add(bl, cl, NULL, NULL, NULL,
                      code == SKYC_E_AUTH ? -1 : spot, code == SKYC_E_AUTH);
        break;
    case BLOCK_REGION:
        blocklist_add(bl, cl, r->region, NULL, NULL,
                      code == SKYC_E_QUOTA ? -1 : spot, false);
        break;
    case BLOCK_ZONE:
        blocklist_add(bl, cl, r->region, r->zone, NULL, spot, false);
        break;
    case BLOCK_OFFERING:
        break; /* added below */
    }
    /* Never try the very same offering twice in a round. */
    if (r->region && r->instance_type && code != SKYC_E_AUTH)
        blocklist_add(bl, cl, r->region, r->zone, r->instance_type, spot,
                      false);
    return scope_text(r, code, s);
}

/* ---- re-optimising ------------------------------------------------------- */

/*
 * The cheapest candidate not blocked, as a request built on base; false
 * when none is left. Strings of *out point into the catalog (borrowed).
 */
static bool next_candidate(const struct failover_request *req,
                           const struct provider *p,
                           const struct blocklist *bl,
                           struct provider_request *out, double *hourly,
                           char *cloudbuf, size_t cloudsize)
{
    const struct task *t = &req->dag->tasks[req->task];
    struct task tc = *t;
    struct task_resources *rs = xcalloc(t->nresources, sizeof(*rs));
    struct opt_params params;
    struct opt_candidate *cands = NULL;
    size_t ncands = 0;
    bool found = false;

    /* Provider names ("sim", "local") are not catalog clouds: any. */
    for (size_t i = 0; i < t->nresources; i++) {
        rs[i] = t->resources[i];
        if (rs[i].cloud && cloud_parse(rs[i].cloud) < 0)
            rs[i].cloud = NULL;
    }
    tc.resources = rs;
    if (req->params)
        params = *req->params;
    else
        opt_params_init(&params);
    /* The caller's blocks plus ours. */
    size_t nb = params.nblocked + bl->n;
    struct opt_block *all = xcalloc(nb ? nb : 1, sizeof(*all));
    for (size_t i = 0; i < params.nblocked; i++)
        all[i] = params.blocked[i];
    for (size_t i = 0; i < bl->n; i++)
        all[params.nblocked + i] = bl->v[i];
    params.blocked = all;
    params.nblocked = nb;
    if (optimizer_candidates(req->cat, &tc, &params, &cands, &ncands, NULL) ==
            SKYC_OK &&
        ncands > 0) {
        const struct catalog_offering *o = &req->cat->offers[cands[0].offer];
        const char *cname = cloud_name((enum cloud)o->cloud);
        if (p->ops && p->ops->name && !strcmp(p->ops->name, "sim"))
            snprintf(cloudbuf, cloudsize, "sim:%s", cname);
        else
            snprintf(cloudbuf, cloudsize, "%s", cname);
        *out = req->first;
        out->cloud = cloudbuf;
        out->region = req->cat->regions[o->region].name;
        out->zone = o->zone == CATALOG_NONE ? NULL
                                            : req->cat->zones[o->zone].name;
        out->instance_type = req->cat->names[o->instance];
        out->spot = cands[0].spot;
        *hourly = cands[0].hourly;
        found = true;
    }
    free(cands);
    free(all);
    free(rs);
    return found;
}

/* Catalog price of a concrete request, NaN when unknown. */
static double lookup_price(const struct catalog *cat,
                           const struct provider_request *r)
{
    int cl = catalog_cloud(r->cloud);
    if (!cat || cl < 0 || !r->region || !r->instance_type)
        return NAN;
    for (size_t i = 0; i < cat->noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        if (o->cloud != cl || strcmp(cat->regions[o->region].name, r->region) ||
            strcmp(cat->names[o->instance], r->instance_type))
            continue;
        if (r->zone && (o->zone == CATALOG_NONE ||
                        strcmp(cat->zones[o->zone].name, r->zone)))
            continue;
        return r->spot ? o->spot_price : o->price;
    }
    return NAN;
}

/* Sleep up to s seconds; false when interrupted. */
static bool backoff_sleep(double s, volatile sig_atomic_t *interrupted)
{
    double end = clock_wall_s() + s;
    while (clock_wall_s() < end) {
        if (interrupted && *interrupted)
            return false;
        double left = end - clock_wall_s();
        usleep((useconds_t)(SKYC_MIN(left, 0.05) * 1e6) + 1);
    }
    return !(interrupted && *interrupted);
}

static void describe_blocks(struct strbuf *sb, const struct failover_result *res)
{
    size_t shown = 0;
    for (size_t i = 0; i < res->nattempts; i++) {
        const char *b = res->attempts[i].blocked;
        if (!b)
            continue;
        bool dup = false;
        for (size_t j = 0; j < i; j++)
            if (res->attempts[j].blocked && !strcmp(res->attempts[j].blocked, b))
                dup = true;
        if (dup)
            continue;
        if (shown == 6) {
            strbuf_addstr(sb, ", ...");
            break;
        }
        strbuf_addf(sb, "%s%s", shown++ ? ", " : "", b);
    }
    if (!shown)
        strbuf_addstr(sb, "nothing");
}

enum skyc_err provision_with_failover(struct provider *p,
                                      const struct failover_request *req,
                                      struct failover_result *res,
                                      struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_FAILED;
    struct blocklist bl = {0};
    struct provider_request cur = req->first;
    double cur_hourly = lookup_price(req->cat, &req->first);
    char cloudbuf[64];
    double backoff = req->backoff_initial_s > 0 ? req->backoff_initial_s : 1;
    double backoff_max = req->backoff_max_s > 0 ? req->backoff_max_s : 60;
    long round = 1;
    size_t in_round = 0;
    bool can_reoptimize = req->cat && req->dag && req->task < req->dag->ntasks;
    struct strbuf msg = STRBUF_INIT;

    for (;;) {
        struct skyc_error e = {0};
        if (req->interrupted && *req->interrupted) {
            rc = skyc_fail(err, SKYC_E_INTERRUPTED,
                           "interrupted while provisioning (after %zu "
                           "attempts)",
                           res->nattempts);
            goto out;
        }
        struct provider_node *nodes = NULL;
        size_t n = 0;
        enum skyc_err arc = p->ops->provision(p, &cur, &nodes, &n, &e);
        failover_record(res, &cur, arc, e.msg);
        struct failover_attempt *a = &res->attempts[res->nattempts - 1];
        a->round = round;
        a->hourly = cur_hourly;
        in_round++;
        if (arc == SKYC_OK) {
            res->nodes = nodes;
            res->nnodes = n;
            if (n && !isnan(nodes[0].hourly_price))
                a->hourly = nodes[0].hourly_price;
            request_copy(&res->chosen, &cur);
            if (req->on_attempt)
                req->on_attempt(a, req->on_attempt_arg);
            rc = SKYC_OK;
            goto out;
        }
        if (!is_fatal(arc))
            a->blocked = block_for(&bl, &cur, arc);
        if (req->on_attempt)
            req->on_attempt(a, req->on_attempt_arg);
        if (is_fatal(arc)) {
            rc = skyc_fail(err, arc, "%s", e.msg);
            goto out;
        }
        enum skyc_err last = arc;
        if (can_reoptimize && in_round < 256 &&
            next_candidate(req, p, &bl, &cur, &cur_hourly, cloudbuf,
                           sizeof(cloudbuf)))
            continue;
        /* Nothing left this round. */
        bool only_auth = true;
        for (size_t i = 0; i < bl.n; i++)
            if (!bl.auth[i])
                only_auth = false;
        bool retry = req->retry_until_up && last != SKYC_E_AUTH &&
                     !(can_reoptimize && only_auth && bl.n) &&
                     last != SKYC_E_INFEASIBLE && last != SKYC_E_NOT_FOUND &&
                     (!req->max_rounds || round < req->max_rounds);
        if (!retry) {
            strbuf_reset(&msg);
            describe_blocks(&msg, res);
            const char *last_msg = res->attempts[res->nattempts - 1].message;
            rc = skyc_fail(
                err, last,
                "could not provision '%s' after %zu attempt%s in %ld "
                "round%s; blocked: %s; last error: %s%s",
                req->first.cluster ? req->first.cluster : "?",
                res->nattempts, res->nattempts == 1 ? "" : "s", round,
                round == 1 ? "" : "s", msg.buf, last_msg ? last_msg : "?",
                req->retry_until_up || last == SKYC_E_AUTH ||
                        last == SKYC_E_INFEASIBLE
                    ? ""
                    : " (add --retry-until-up to keep trying)");
            goto out;
        }
        if (!backoff_sleep(backoff, req->interrupted)) {
            rc = skyc_fail(err, SKYC_E_INTERRUPTED,
                           "interrupted while waiting to retry (after %zu "
                           "attempts)",
                           res->nattempts);
            goto out;
        }
        backoff = SKYC_MIN(backoff * 2, backoff_max);
        round++;
        in_round = 0;
        blocklist_keep_auth(&bl);
        cur = req->first;
        cur_hourly = lookup_price(req->cat, &req->first);
        /* The first choice's cloud may be auth-blocked for good. */
        if (can_reoptimize && bl.n &&
            !next_candidate(req, p, &bl, &cur, &cur_hourly, cloudbuf,
                            sizeof(cloudbuf))) {
            rc = skyc_fail(err, SKYC_E_AUTH,
                           "could not provision '%s': every cloud failed "
                           "authentication",
                           req->first.cluster ? req->first.cluster : "?");
            goto out;
        }
    }
out:
    blocklist_release(&bl);
    strbuf_release(&msg);
    return rc;
}

/* ---- history for the CLI ------------------------------------------------- */

static void attempt_infra(const struct failover_attempt *a, struct strbuf *sb)
{
    strbuf_addstr(sb, a->cloud ? a->cloud : "-");
    if (a->region)
        strbuf_addf(sb, "/%s", a->region);
    if (a->zone)
        strbuf_addf(sb, "/%s", a->zone);
}

void failover_history_table(const struct failover_result *res,
                            struct table *t)
{
    table_add_col(t, "#", TABLE_RIGHT);
    table_add_col(t, "INFRA", TABLE_LEFT);
    table_add_col(t, "INSTANCE", TABLE_LEFT);
    table_add_col(t, "SPOT", TABLE_LEFT);
    table_add_col(t, "$/HR", TABLE_RIGHT);
    table_add_col(t, "RESULT", TABLE_LEFT);
    table_add_col(t, "BLOCKED", TABLE_LEFT);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < res->nattempts; i++) {
        const struct failover_attempt *a = &res->attempts[i];
        table_add_row(t);
        table_cellf(t, "%zu", i + 1);
        strbuf_reset(&sb);
        attempt_infra(a, &sb);
        table_cell(t, sb.buf);
        table_cell(t, a->instance_type ? a->instance_type : "-");
        table_cell(t, a->spot ? "yes" : "no");
        if (isnan(a->hourly))
            table_cell(t, "-");
        else
            table_cellf(t, "%.3f", a->hourly);
        table_cell(t, a->code == SKYC_OK ? "UP" : skyc_err_name(a->code));
        table_cell(t, a->blocked ? a->blocked : "-");
        if (a->code == SKYC_OK)
            table_highlight_row(t);
    }
    strbuf_release(&sb);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *failover_history_json(const struct failover_result *res)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < res->nattempts; i++) {
        const struct failover_attempt *a = &res->attempts[i];
        json_t *o = json_object();
        json_object_set_new(o, "cloud", str_or_null(a->cloud));
        json_object_set_new(o, "region", str_or_null(a->region));
        json_object_set_new(o, "zone", str_or_null(a->zone));
        json_object_set_new(o, "instance_type", str_or_null(a->instance_type));
        json_object_set_new(o, "spot", json_boolean(a->spot));
        json_object_set_new(o, "hourly", json_number_or_null(a->hourly));
        json_object_set_new(o, "result",
                            json_string(a->code == SKYC_OK
                                            ? "UP"
                                            : skyc_err_name(a->code)));
        json_object_set_new(o, "message", str_or_null(a->message));
        json_object_set_new(o, "blocked", str_or_null(a->blocked));
        json_object_set_new(o, "round", json_integer(a->round));
        json_object_set_new(o, "at", json_real(a->at));
        json_array_append_new(arr, o);
    }
    return arr;
}
