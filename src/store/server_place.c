/*
 * server_place.c - the placement engine (store/placement.h) wired into the
 * S3 server: a bucket spanning several regions, one endpoint per region.
 *
 * Physical layout: every copy of an object is a blob with the SAME id in
 * its region's local backend (store/backend.h); the object's metadata row
 * (store/meta.h) names the blob id and the primary's region, and one copies
 * row per replica names its region (recorded after the bytes are durable,
 * removed before they go). A GET reads a replica only when its copies row
 * exists; otherwise the primary. The engine's view (policies, TTLs, the
 * bill) is saved to DATA/placement.json (place_save) by the timer and at
 * stop, loaded at start. A replica file the metadata never recorded (a
 * crash mid-copy) is removed with its object by remove_everywhere().
 *
 * Each request runs its engine call and carries out the plan under
 * place_mu: STORE/COPY copy the blob between region directories before the
 * client gets its answer, READ picks the region the bytes are served from,
 * DELETE removes a replica (never the primary: the engine never evicts it,
 * and the code checks against the row anyway).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "store/server_internal.h"

#include <errno.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server region holding model region m, or NULL. */
static struct store_region *region_of_model(struct store_server *s,
                                            uint16_t m)
{
    for (size_t i = 0; i < s->nregions; i++)
        if (s->regions[i].model == m)
            return &s->regions[i];
    return NULL;
}

/* The configured policy of bucket (its own, else the default). */
static const char *config_policy(const struct store_server *s,
                                 const char *bucket, const char **source)
{
    for (size_t i = 0; i < s->cfg.nbuckets; i++)
        if (!strcmp(s->cfg.bucket_names[i], bucket)) {
            *source = "config";
            return s->cfg.bucket_policies[i];
        }
    *source = "default";
    return s->cfg.policy ? s->cfg.policy : "write-local";
}

/* bucket's policy spec (caller frees): one set at run time (kept in the
 * metadata) wins over the config's; *source says which. */
static char *policy_spec(struct store_server *s, const char *bucket,
                         const char **source)
{
    struct skyc_error err = {0};
    char *spec = NULL;
    if (meta_policy_get(&s->meta, bucket, &spec, &err) == SKYC_OK) {
        *source = "runtime";
        return spec;
    }
    skyc_error_clear(&err);
    return xstrdup(config_policy(s, bucket, source));
}

/* With place_mu held: the engine's bucket, created on first use. */
static uint32_t bucket_locked(struct store_server *s, const char *bucket)
{
    uint32_t b = place_bucket_find(&s->place, bucket);
    if (b != UINT32_MAX)
        return b;
    struct skyc_error err = {0};
    struct place_policy pol;
    uint16_t *regs = xcalloc(s->nregions, sizeof(*regs));
    const char *source;
    char *spec = policy_spec(s, bucket, &source);
    char *home = NULL;
    size_t nr = 0;
    /* the home region (where the bucket was created) first: a
     * single-region policy without a region keeps the bucket there */
    if (meta_bucket_get(&s->meta, bucket, NULL, &home, &err) == SKYC_OK) {
        struct store_region *h = region_named(s, home);
        regs[nr++] = h->model;
    }
    skyc_error_clear(&err);
    free(home);
    for (size_t i = 0; i < s->nregions; i++)
        if (!nr || s->regions[i].model != regs[0])
            regs[nr++] = s->regions[i].model;
    if (place_policy_parse(spec, &s->model, &pol, &err) ||
        place_bucket_create(&s->place, bucket, &pol, regs, s->nregions, &b,
                            &err)) {
        log_warning("store: placement of bucket %s: %s", bucket, err.msg);
        b = UINT32_MAX;
    }
    free(spec);
    free(regs);
    s->dirty = true;
    return b;
}

/* Copy blob id from region src to region dst (same id), durably. */
static enum skyc_err copy_between(struct store_region *src,
                                  struct store_region *dst, const char *id,
                                  struct skyc_error *err)
{
    struct blob_writer w = {.fd = -1};
    struct blob_reader rd = {.fd = -1};
    enum skyc_err rc;
    if ((rc = backend_reader_open(&src->be, id, &rd, err)) ||
        (rc = backend_create_id(&dst->be, &w, id, err)))
        goto out;
    if ((rc = backend_append_from(&w, &src->be, id, 0, rd.size, err)))
        goto out;
    rc = backend_commit(&w, err);
out:
    if (rc)
        backend_abort(&w);
    backend_reader_close(&rd);
    return rc;
}

/*
 * With place_mu held: carry out plan for blob (the object the request is
 * about, held in region `have`; NULL when none). Returns the region a READ
 * names, or NULL.
 */
static struct store_region *exec_plan(struct store_server *s,
                                      const struct place_plan *pl,
                                      const char *blob,
                                      struct store_region *have)
{
    struct store_region *read_from = NULL;
    struct skyc_error err = {0};
    for (size_t i = 0; i < pl->n; i++) {
        const struct place_action *a = &pl->a[i];
        struct store_region *dst = region_of_model(s, a->dst);
        struct store_region *src =
            a->src == STORE_NO_REGION ? NULL : region_of_model(s, a->src);
        switch (a->act) {
        case PLACE_ACT_READ:
            read_from = src;
            break;
        case PLACE_ACT_STORE:
        case PLACE_ACT_COPY: {
            struct store_region *from = a->act == PLACE_ACT_COPY ? src
                                        : read_from          ? read_from
                                                             : have;
            if (!blob || !dst || !from || from == dst)
                break;
            const char *bname = s->place.buckets[a->bucket].name;
            const char *key = s->place.objects[a->object].key;
            if (copy_between(from, dst, blob, &err)) {
                log_warning("store: replicating to %s: %s", dst->name,
                            err.msg);
                skyc_error_clear(&err);
            } else if (meta_copy_add(&s->meta, bname, key, dst->name, blob,
                                     &err)) {
                /* overwritten meanwhile (or the metadata failed): the
                 * copy is not recorded, so it must not stay */
                log_info("store: copy of %s/%s to %s not recorded: %s",
                         bname, key, dst->name, err.msg[0] ? err.msg : "");
                skyc_error_clear(&err);
                backend_remove(&dst->be, blob);
            } else {
                log_info("store: copied %s/%s from %s to %s", bname, key,
                         from->name, dst->name);
            }
            break;
        }
        case PLACE_ACT_DELETE: {
            const struct place_object *o = &s->place.objects[a->object];
            struct meta_object row;
            if (!dst || a->bucket >= s->place.nbuckets)
                break;
            if (meta_object_get(&s->meta, s->place.buckets[a->bucket].name,
                                o->key, &row, &err)) {
                skyc_error_clear(&err);
                break;
            }
            if (row.region && strcmp(row.region, dst->name) != 0 &&
                row.blob && *row.blob) {
                if (meta_copy_remove(&s->meta, row.bucket, row.key,
                                     dst->name, &err)) {
                    log_warning("store: %s", err.msg);
                    skyc_error_clear(&err);
                }
                backend_remove(&dst->be, row.blob);
                log_info("store: evicted %s/%s from %s", row.bucket, row.key,
                         dst->name);
            }
            meta_object_release(&row);
            break;
        }
        }
    }
    return read_from;
}

struct store_region *region_for_write(struct req *r)
{
    struct store_server *s = r->srv;
    struct store_region *reg = &s->regions[r->at];
    if (!s->multi || !r->bucket)
        return reg;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, r->bucket);
    if (b != UINT32_MAX &&
        s->place.buckets[b].policy.kind == PLACE_SINGLE_REGION) {
        const struct place_bucket *pb = &s->place.buckets[b];
        uint16_t home = pb->policy.home == STORE_NO_REGION ? pb->regions[0]
                                                           : pb->policy.home;
        struct store_region *h = region_of_model(s, home);
        if (h)
            reg = h;
    }
    pthread_mutex_unlock(&s->place_mu);
    return reg;
}

void mr_bucket_created(struct store_server *s, const char *bucket)
{
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    bucket_locked(s, bucket);
    pthread_mutex_unlock(&s->place_mu);
}

void mr_after_put(struct req *r, const char *blob, uint64_t size,
                  struct store_region *primary)
{
    struct store_server *s = r->srv;
    struct skyc_error err = {0};
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan pl;
    place_plan_init(&pl);
    uint32_t b = bucket_locked(s, r->bucket);
    if (b == UINT32_MAX)
        goto out;
    if (place_put(&s->place, b, r->key, size, s->regions[r->at].model,
                  wall_now(), &pl, &err)) {
        log_warning("store: placement of %s/%s: %s", r->bucket, r->key,
                    err.msg);
        goto out;
    }
    exec_plan(s, &pl, blob, primary);
    s->dirty = true;
out:
    place_plan_release(&pl);
    pthread_mutex_unlock(&s->place_mu);
}

struct store_region *mr_for_read(struct req *r, const struct meta_object *o)
{
    struct store_server *s = r->srv;
    struct store_region *primary = region_named(s, o->region);
    struct skyc_error err = {0};
    if (!s->multi)
        return primary;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan pl;
    place_plan_init(&pl);
    struct store_region *from = NULL;
    uint32_t b = bucket_locked(s, r->bucket);
    if (b == UINT32_MAX)
        goto out;
    if (place_get(&s->place, b, r->key, s->regions[r->at].model, wall_now(),
                  &pl, &err)) {
        log_warning("store: placement of %s/%s: %s; reading the primary",
                    r->bucket, r->key, err.msg);
        goto out;
    }
    from = exec_plan(s, &pl, o->blob, primary);
    s->dirty = true;
    /* the metadata is the authority on copies: read a replica only when
     * its row says the region holds the current blob */
    if (from && from != primary &&
        meta_copy_has(&s->meta, r->bucket, r->key, from->name, &err)) {
        log_warning("store: %s/%s: no recorded copy in %s; reading the "
                    "primary in %s",
                    r->bucket, r->key, from->name, primary->name);
        skyc_error_clear(&err);
        from = primary;
    }
out:
    place_plan_release(&pl);
    pthread_mutex_unlock(&s->place_mu);
    return from ? from : primary;
}

void mr_delete(struct req *r, const char *key)
{
    struct store_server *s = r->srv;
    struct skyc_error err = {0};
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan pl;
    place_plan_init(&pl);
    uint32_t b = bucket_locked(s, r->bucket);
    if (b != UINT32_MAX &&
        !place_delete(&s->place, b, key, wall_now(), &pl, &err)) {
        exec_plan(s, &pl, NULL, NULL);
        s->dirty = true;
    }
    skyc_error_clear(&err);
    place_plan_release(&pl);
    pthread_mutex_unlock(&s->place_mu);
}

static void save_locked(struct store_server *s)
{
    struct skyc_error err = {0};
    if (place_save(&s->place, s->state_path, &err)) {
        log_warning("store: %s", err.msg);
        skyc_error_clear(&err);
        return;
    }
    s->dirty = false;
}

/* The timer: TTL evictions when due, the engine saved once a second. */
static void *timer_main(void *arg)
{
    struct store_server *s = arg;
    double last_save = wall_now();
    struct place_plan pl;
    place_plan_init(&pl);
    pthread_mutex_lock(&s->place_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double until = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 +
                       s->cfg.tick_s;
        ts.tv_sec = (time_t)until;
        ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&s->place_cv, &s->place_mu, &ts);
        if (s->stopping)
            break;
        double now = wall_now();
        if (place_next_expiry(&s->place) <= now) {
            pl.n = 0;
            place_advance(&s->place, now, &pl);
            exec_plan(s, &pl, NULL, NULL);
            s->dirty = true;
        }
        if (s->dirty && now - last_save >= 1.0) {
            save_locked(s);
            last_save = now;
        }
    }
    pthread_mutex_unlock(&s->place_mu);
    place_plan_release(&pl);
    return NULL;
}

static bool note_bucket(void *ctx, const char *name, int64_t created_ms)
{
    (void)created_ms;
    struct store_server *s = ctx;
    bucket_locked(s, name);
    return true;
}

enum skyc_err mr_start(struct store_server *s, struct skyc_error *err)
{
    enum skyc_err rc;
    if (!s->multi)
        return SKYC_OK;
    pthread_mutex_init(&s->place_mu, NULL);
    pthread_cond_init(&s->place_cv, NULL);
    store_cost_init(&s->model);
    place_init(&s->place, &s->model);
    s->place_ready = true;
    if ((rc = store_cost_load(&s->model, s->cfg.profiles, err)))
        return rc;
    for (size_t i = 0; i < s->nregions; i++) {
        uint16_t m = store_cost_region(&s->model, s->regions[i].name);
        if (m == STORE_NO_REGION)
            return skyc_fail(err, SKYC_E_INPUT,
                             "region '%s' is not in the cost model (%s); use "
                             "cloud:region as in its cost.csv, e.g. "
                             "aws:us-east-1",
                             s->regions[i].name, s->model.source);
        for (size_t j = 0; j < i; j++)
            if (s->regions[j].model == m)
                return skyc_fail(err, SKYC_E_INPUT,
                                 "region '%s' is listed twice",
                                 s->regions[i].name);
        s->regions[i].model = m;
    }
    struct place_policy pol;
    if (s->cfg.policy &&
        (rc = place_policy_parse(s->cfg.policy, &s->model, &pol, err)))
        return rc;
    for (size_t i = 0; i < s->cfg.nbuckets; i++)
        if ((rc = place_policy_parse(s->cfg.bucket_policies[i], &s->model,
                                     &pol, err))) {
            char *msg = xstrdup(err->msg);
            skyc_error_clear(err);
            rc = skyc_fail(err, rc, "bucket %s: %s", s->cfg.bucket_names[i],
                           msg);
            free(msg);
            return rc;
        }
    s->state_path = xasprintf("%s/placement.json", s->cfg.data_dir);
    if (access(s->state_path, F_OK) == 0 &&
        (rc = place_load(&s->place, s->state_path, err)))
        return rc;
    /* a bucket whose policy was set at run time, or that the config now
     * names differently: apply it (the saved state has the old one) */
    for (size_t b = 0; b < s->place.nbuckets; b++) {
        const char *source;
        char *spec = policy_spec(s, s->place.buckets[b].name, &source);
        rc = place_policy_parse(spec, &s->model, &pol, err);
        if (rc == SKYC_OK)
            rc = place_bucket_set_policy(&s->place, (uint32_t)b, &pol, err);
        free(spec);
        if (rc)
            return rc;
    }
    pthread_mutex_lock(&s->place_mu);
    rc = meta_bucket_list(&s->meta, note_bucket, s, err);
    pthread_mutex_unlock(&s->place_mu);
    if (rc)
        return rc;
    if (pthread_create(&s->timer, NULL, timer_main, s))
        return skyc_fail(err, SKYC_E_STATE, "cannot start the timer: %s",
                         strerror(errno));
    s->timer_on = true;
    return SKYC_OK;
}

void mr_stop(struct store_server *s)
{
    if (!s->place_ready)
        return;
    if (s->timer_on) {
        pthread_mutex_lock(&s->place_mu);
        s->stopping = true;
        pthread_cond_signal(&s->place_cv);
        pthread_mutex_unlock(&s->place_mu);
        pthread_join(s->timer, NULL);
        save_locked(s);
    }
    place_release(&s->place);
    store_cost_release(&s->model);
    pthread_cond_destroy(&s->place_cv);
    pthread_mutex_destroy(&s->place_mu);
    free(s->state_path);
    s->place_ready = false;
}

/* ---- response bodies read through a blob_reader (remote backends) ---- */

#define BODY_CHUNK (4u << 20)

struct body {
    struct blob_reader rd;
    struct store_region *from;
    uint64_t off, len; /* the range served */
    char *buf;         /* read-ahead: [buf_off, buf_off + buf_len) */
    uint64_t buf_off;
    size_t buf_len;
};

static ssize_t body_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct body *b = cls;
    struct skyc_error err = {0};
    if (pos >= b->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t at = b->off + pos;
    if (!b->buf_len || at < b->buf_off || at >= b->buf_off + b->buf_len) {
        uint64_t left = b->off + b->len - at;
        size_t n = left < BODY_CHUNK ? (size_t)left : BODY_CHUNK;
        if (backend_reader_read(&b->rd, at, b->buf, n, &err)) {
            log_warning("store: reading %s in %s: %s", b->rd.id,
                        b->from->name, err.msg);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        backend_count_read(&b->from->be, n);
        b->buf_off = at;
        b->buf_len = n;
    }
    size_t take = (size_t)(b->buf_off + b->buf_len - at);
    if (take > max)
        take = max;
    memcpy(out, b->buf + (at - b->buf_off), take);
    return (ssize_t)take;
}

static void body_free(void *cls)
{
    struct body *b = cls;
    backend_reader_close(&b->rd);
    free(b->buf);
    free(b);
}

struct MHD_Response *mr_body_response(struct req *r,
                                      const struct meta_object *o,
                                      struct store_region *from, uint64_t off,
                                      uint64_t len)
{
    struct skyc_error err = {0};
    struct body *b = xcalloc(1, sizeof(*b));
    b->from = from;
    b->off = off;
    b->len = len;
    if (backend_reader_open(&from->be, o->blob, &b->rd, &err)) {
        log_warning("store: %s %s: %s", r->method, r->path, err.msg);
        body_free(b);
        return NULL;
    }
    b->buf = xmalloc(len < BODY_CHUNK ? (size_t)len + 1 : BODY_CHUNK);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        len, 256u << 10, body_read, b, body_free);
    if (!resp)
        body_free(b);
    return resp;
}

/* ---- the placement policy of a bucket, read and set over HTTP ------ */

enum skyc_err mr_policy_get(struct store_server *s, const char *bucket,
                            struct strbuf *spec, const char **source,
                            struct skyc_error *err)
{
    char *sp = policy_spec(s, bucket, source);
    struct place_policy pol;
    char buf[128];
    enum skyc_err rc = place_policy_parse(sp, &s->model, &pol, err);
    if (!rc) {
        place_policy_format(&pol, &s->model, buf, sizeof(buf));
        strbuf_addstr(spec, buf);
    }
    free(sp);
    return rc;
}

enum skyc_err mr_policy_set(struct store_server *s, const char *bucket,
                            const char *spec, struct strbuf *canon,
                            struct skyc_error *err)
{
    struct place_policy pol;
    char buf[128];
    enum skyc_err rc = place_policy_parse(spec, &s->model, &pol, err);
    if (rc)
        return rc;
    place_policy_format(&pol, &s->model, buf, sizeof(buf));
    /* durable first: the engine follows the metadata at the next start */
    if ((rc = meta_policy_set(&s->meta, bucket, buf, err)))
        return rc;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, bucket);
    if (b == UINT32_MAX)
        rc = skyc_fail(err, SKYC_E_INTERNAL, "bucket %s has no placement",
                       bucket);
    else
        rc = place_bucket_set_policy(&s->place, b, &pol, err);
    s->dirty = true;
    pthread_mutex_unlock(&s->place_mu);
    if (!rc) {
        strbuf_addstr(canon, buf);
        log_notice("store: bucket %s: placement policy now %s", bucket, buf);
    }
    return rc;
}

size_t mr_copies_pending(struct store_server *s)
{
    (void)s;
    return 0;
}

/* ---- home regions (CreateBucket's LocationConstraint, GetBucketLocation) */

static const char *s3_name(const char *region)
{
    const char *c = strchr(region, ':');
    return c ? c + 1 : region;
}

struct store_region *mr_home_for_create(struct req *r, const char *lc)
{
    struct store_server *s = r->srv;
    if (!s->multi)
        return &s->regions[0];
    if (!lc || !*lc)
        return &s->regions[r->at];
    for (size_t i = 0; i < s->nregions; i++)
        if (!strcmp(s->regions[i].name, lc) ||
            !strcmp(s3_name(s->regions[i].name), lc))
            return &s->regions[i];
    return NULL;
}

void mr_bucket_home(struct store_server *s, const char *bucket,
                    const char *stored, char out[128])
{
    const char *name = stored ? stored : s->regions[0].name;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, bucket);
    if (b != UINT32_MAX &&
        s->place.buckets[b].policy.kind == PLACE_SINGLE_REGION &&
        s->place.buckets[b].policy.home != STORE_NO_REGION) {
        struct store_region *h =
            region_of_model(s, s->place.buckets[b].policy.home);
        if (h)
            name = h->name;
    }
    snprintf(out, 128, "%s", s3_name(name));
    pthread_mutex_unlock(&s->place_mu);
}
