/*
 * placement.c - the placement engine: copies, TTL evictions and the bill.
 *
 * Storage is accounted per (bucket, region) cell as live bytes integrated
 * over time: every change of a cell's live bytes first adds
 * live_bytes * (t - last_t) to its byte-seconds. Evictions are carried out
 * in expiry order from a min-heap before any later request, so cells are
 * only ever advanced forward in time and the integral is exact.
 *
 * The heap holds (time, object, copy id) entries. A replica's TTL reset
 * only moves its expiry later and leaves its entry in place: when the entry
 * comes due, a copy that lives on is pushed back at its new expiry. A copy
 * removed by an overwrite or delete leaves a stale entry that is skipped.
 * When an expiry moves earlier (a policy change), a new entry is pushed.
 * So every TTL replica always has an entry at or before its expiry.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/units.h"
#include "store/placement.h"

#include <jansson.h>

struct place_cell {
    double live_bytes;
    double last_t;
    double byte_s;
    double egress_bytes;
    double egress_usd;
    uint64_t gets, puts;
};

struct place_expiry {
    double t;
    uint32_t obj;
    uint32_t copy_id;
};

/* ---- policies --------------------------------------------------------- */

static bool is_copy_on_read(enum place_kind k)
{
    return k == PLACE_FIXED_TTL || k == PLACE_ALWAYS_STORE ||
           k == PLACE_ALWAYS_EVICT || k == PLACE_BREAK_EVEN;
}

enum skyc_err place_policy_parse(const char *spec,
                                     const struct store_cost_model *m,
                                     struct place_policy *out,
                                     struct skyc_error *err)
{
    static const struct {
        const char *name;
        enum place_kind kind;
    } plain[] = {
        {"single-region", PLACE_SINGLE_REGION},
        {"replicate-all", PLACE_REPLICATE_ALL},
        {"write-local", PLACE_WRITE_LOCAL},
        {"always-store", PLACE_ALWAYS_STORE},
        {"always-evict", PLACE_ALWAYS_EVICT},
        {"break-even", PLACE_BREAK_EVEN},
    };
    memset(out, 0, sizeof(*out));
    out->home = STORE_NO_REGION;
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
        if (!strcmp(spec, plain[i].name)) {
            out->kind = plain[i].kind;
            return SKYC_OK;
        }
    if (!strncmp(spec, "single-region:", 14)) {
        out->kind = PLACE_SINGLE_REGION;
        out->home = store_cost_region(m, spec + 14);
        if (out->home == STORE_NO_REGION)
            return skyc_fail(err, SKYC_E_USAGE,
                             "unknown region '%s' in policy '%s' (regions "
                             "are named as in the cost profile, e.g. "
                             "aws:us-east-1)",
                             spec + 14, spec);
        return SKYC_OK;
    }
    const char *ttl = NULL;
    if (!strncmp(spec, "ttl:", 4))
        ttl = spec + 4;
    else if (!strncmp(spec, "copy-on-read:", 13))
        ttl = spec + 13;
    else if (!strncmp(spec, "fixed-ttl:", 10))
        ttl = spec + 10;
    if (ttl) {
        double hours;
        if (!parse_duration_hours(ttl, &hours))
            return skyc_fail(err, SKYC_E_USAGE,
                             "bad TTL '%s' in policy '%s' (want a duration "
                             "such as 30m, 12h, 7d)",
                             ttl, spec);
        out->kind = PLACE_FIXED_TTL;
        out->ttl_s = hours * 3600.0;
        return SKYC_OK;
    }
    return skyc_fail(err, SKYC_E_USAGE,
                     "unknown policy '%s' (want single-region[:REGION], "
                     "replicate-all, write-local, ttl:DURATION, "
                     "always-store, always-evict or break-even)",
                     spec);
}

void place_policy_format(const struct place_policy *p,
                             const struct store_cost_model *m, char *buf,
                             size_t size)
{
    switch (p->kind) {
    case PLACE_SINGLE_REGION:
        if (p->home != STORE_NO_REGION)
            snprintf(buf, size, "single-region:%s",
                     store_cost_region_name(m, p->home));
        else
            snprintf(buf, size, "single-region");
        return;
    case PLACE_REPLICATE_ALL:
        snprintf(buf, size, "replicate-all");
        return;
    case PLACE_WRITE_LOCAL:
        snprintf(buf, size, "write-local");
        return;
    case PLACE_ALWAYS_STORE:
        snprintf(buf, size, "always-store");
        return;
    case PLACE_ALWAYS_EVICT:
        snprintf(buf, size, "always-evict");
        return;
    case PLACE_BREAK_EVEN:
        snprintf(buf, size, "break-even");
        return;
    case PLACE_FIXED_TTL: {
        double s = p->ttl_s;
        if (s > 0 && fmod(s, 86400) == 0)
            snprintf(buf, size, "ttl:%.0fd", s / 86400);
        else if (s > 0 && fmod(s, 3600) == 0)
            snprintf(buf, size, "ttl:%.0fh", s / 3600);
        else if (s > 0 && fmod(s, 60) == 0)
            snprintf(buf, size, "ttl:%.0fm", s / 60);
        else
            snprintf(buf, size, "ttl:%.17gs", s);
        return;
    }
    }
    snprintf(buf, size, "?");
}

/* ---- plans and cells -------------------------------------------------- */

void place_plan_init(struct place_plan *pl)
{
    memset(pl, 0, sizeof(*pl));
}

void place_plan_release(struct place_plan *pl)
{
    free(pl->a);
    place_plan_init(pl);
}

static void emit(struct place_plan *pl, enum place_act act,
                 uint16_t src, uint16_t dst, uint32_t bucket, uint32_t obj,
                 uint64_t bytes)
{
    if (!pl)
        return;
    ALLOC_GROW(pl->a, pl->n + 1, pl->alloc);
    pl->a[pl->n++] = (struct place_action){
        .act = act, .src = src, .dst = dst, .bucket = bucket, .object = obj,
        .bytes = bytes};
}

static struct place_cell *cell(struct place *p, uint32_t b,
                                   uint16_t r)
{
    return &p->buckets[b].cells[r];
}

/* Integrate live bytes up to t (cells only move forward in time). */
static void cell_touch(struct place_cell *c, double t)
{
    if (c->live_bytes > 0 && t > c->last_t)
        c->byte_s += c->live_bytes * (t - c->last_t);
    if (t > c->last_t || c->live_bytes <= 0)
        c->last_t = t;
}

static void charge_egress(struct place *p, uint32_t b, uint16_t src,
                          uint16_t dst, uint64_t bytes)
{
    if (src == dst || !bytes)
        return;
    struct place_cell *c = cell(p, b, src);
    c->egress_bytes += (double)bytes;
    c->egress_usd +=
        (double)bytes / STORE_GB * store_cost_egress(p->model, src, dst);
}

/* ---- the eviction heap ------------------------------------------------ */

static void heap_push(struct place *p, double t, uint32_t obj,
                      uint32_t id)
{
    ALLOC_GROW(p->heap, p->nheap + 1, p->heap_alloc);
    size_t i = p->nheap++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (p->heap[parent].t <= t)
            break;
        p->heap[i] = p->heap[parent];
        i = parent;
    }
    p->heap[i] = (struct place_expiry){t, obj, id};
}

static struct place_expiry heap_pop(struct place *p)
{
    struct place_expiry top = p->heap[0];
    struct place_expiry last = p->heap[--p->nheap];
    size_t i = 0, n = p->nheap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        double mt = last.t;
        if (l < n && p->heap[l].t < mt) {
            m = l;
            mt = p->heap[l].t;
        }
        if (r < n && p->heap[r].t < mt)
            m = r;
        if (m == i)
            break;
        p->heap[i] = p->heap[m];
        i = m;
    }
    if (n)
        p->heap[i] = last;
    return top;
}

double place_next_expiry(const struct place *p)
{
    return p->nheap ? p->heap[0].t : INFINITY;
}

/* ---- copies ----------------------------------------------------------- */

static struct place_copy *find_copy(struct place_object *o,
                                        uint16_t region)
{
    for (size_t i = 0; i < o->ncopies; i++)
        if (o->copies[i].region == region)
            return &o->copies[i];
    return NULL;
}

static struct place_copy *add_copy(struct place *p, uint32_t oi,
                                       uint16_t region, bool primary,
                                       double expire, double now)
{
    struct place_object *o = &p->objects[oi];
    if (o->ncopies == o->copies_alloc) {
        size_t na = o->copies_alloc ? (size_t)o->copies_alloc * 2 : 2;
        if (na > UINT16_MAX)
            na = UINT16_MAX;
        o->copies = xreallocarray(o->copies, na, sizeof(*o->copies));
        o->copies_alloc = (uint16_t)na;
    }
    struct place_copy *c = &o->copies[o->ncopies++];
    *c = (struct place_copy){.region = region, .primary = primary,
                                 .id = ++p->next_copy_id, .expire = expire};
    struct place_cell *cl = cell(p, o->bucket, region);
    cell_touch(cl, now);
    cl->live_bytes += (double)o->size;
    if (isfinite(expire))
        heap_push(p, expire, oi, c->id);
    return c;
}

static void remove_copy(struct place *p, uint32_t oi, size_t ci,
                        double t)
{
    struct place_object *o = &p->objects[oi];
    struct place_cell *cl = cell(p, o->bucket, o->copies[ci].region);
    cell_touch(cl, t);
    cl->live_bytes -= (double)o->size;
    if (cl->live_bytes < 0.5)
        cl->live_bytes = 0; /* no drift below zero */
    o->copies[ci] = o->copies[--o->ncopies];
}

void place_advance(struct place *p, double now,
                       struct place_plan *plan)
{
    if (now < p->clock)
        now = p->clock;
    p->clock = now;
    while (p->nheap && p->heap[0].t <= now) {
        struct place_expiry e = heap_pop(p);
        struct place_object *o = &p->objects[e.obj];
        size_t ci;
        for (ci = 0; ci < o->ncopies; ci++)
            if (o->copies[ci].id == e.copy_id)
                break;
        if (ci == o->ncopies)
            continue; /* overwritten, deleted or already evicted */
        struct place_copy *c = &o->copies[ci];
        if (c->primary || !isfinite(c->expire))
            continue; /* the primary is never evicted */
        if (c->expire > e.t) {
            heap_push(p, c->expire, e.obj, e.copy_id); /* read since */
            continue;
        }
        uint16_t region = c->region;
        remove_copy(p, e.obj, ci, c->expire);
        emit(plan, PLACE_ACT_DELETE, STORE_NO_REGION, region, o->bucket,
             e.obj, o->size);
    }
}

/* ---- engine ----------------------------------------------------------- */

void place_init(struct place *p, const struct store_cost_model *m)
{
    memset(p, 0, sizeof(*p));
    p->model = m;
    p->clock = -INFINITY;
    strmap_init(&p->object_index);
    strbuf_init(&p->scratch, 64);
}

void place_release(struct place *p)
{
    for (size_t i = 0; i < p->nbuckets; i++) {
        free(p->buckets[i].name);
        free(p->buckets[i].regions);
        free(p->buckets[i].cells);
    }
    free(p->buckets);
    for (size_t i = 0; i < p->nobjects; i++)
        free(p->objects[i].copies);
    free(p->objects);
    free(p->heap);
    strmap_release(&p->object_index);
    strbuf_release(&p->scratch);
    const struct store_cost_model *m = p->model;
    memset(p, 0, sizeof(*p));
    p->model = m;
}

static enum skyc_err check_policy(const struct place *p,
                                  const struct place_bucket *b,
                                  const struct place_policy *pol,
                                  struct skyc_error *err)
{
    if (pol->kind == PLACE_FIXED_TTL && !(pol->ttl_s >= 0))
        return skyc_fail(err, SKYC_E_INPUT, "a TTL must be >= 0");
    if (pol->kind == PLACE_SINGLE_REGION && pol->home != STORE_NO_REGION) {
        for (size_t i = 0; i < b->nregions; i++)
            if (b->regions[i] == pol->home)
                return SKYC_OK;
        return skyc_fail(err, SKYC_E_INPUT,
                         "region '%s' is not one of bucket '%s''s regions",
                         store_cost_region_name(p->model, pol->home),
                         b->name);
    }
    return SKYC_OK;
}

uint32_t place_bucket_find(const struct place *p, const char *name)
{
    for (size_t i = 0; i < p->nbuckets; i++)
        if (!strcmp(p->buckets[i].name, name))
            return (uint32_t)i;
    return UINT32_MAX;
}

enum skyc_err place_bucket_create(struct place *p, const char *name,
                                      const struct place_policy *policy,
                                      const uint16_t *regions, size_t n,
                                      uint32_t *bucket, struct skyc_error *err)
{
    if (!name || !*name || strchr(name, '/'))
        return skyc_fail(err, SKYC_E_INPUT, "bad bucket name '%s'",
                         name ? name : "");
    if (place_bucket_find(p, name) != UINT32_MAX)
        return skyc_fail(err, SKYC_E_INPUT, "bucket '%s' exists", name);
    if (!n)
        return skyc_fail(err, SKYC_E_INPUT, "bucket '%s' needs a region",
                         name);
    for (size_t i = 0; i < n; i++) {
        if (regions[i] >= p->model->nregions)
            return skyc_fail(err, SKYC_E_INPUT,
                             "bucket '%s': unknown region number %u", name,
                             regions[i]);
        for (size_t j = 0; j < i; j++)
            if (regions[j] == regions[i])
                return skyc_fail(err, SKYC_E_INPUT,
                                 "bucket '%s': region '%s' named twice", name,
                                 store_cost_region_name(p->model, regions[i]));
    }
    struct place_bucket b = {.name = xstrdup(name), .policy = *policy,
                                 .nregions = n};
    b.regions = xmalloc(n * sizeof(uint16_t));
    memcpy(b.regions, regions, n * sizeof(uint16_t));
    enum skyc_err rc = check_policy(p, &b, policy, err);
    if (rc) {
        free(b.name);
        free(b.regions);
        return rc;
    }
    b.cells = xcalloc(p->model->nregions, sizeof(struct place_cell));
    ALLOC_GROW(p->buckets, p->nbuckets + 1, p->buckets_alloc);
    p->buckets[p->nbuckets] = b;
    if (bucket)
        *bucket = (uint32_t)p->nbuckets;
    p->nbuckets++;
    return SKYC_OK;
}

enum skyc_err place_bucket_set_policy(struct place *p, uint32_t bucket,
                                          const struct place_policy *policy,
                                          struct skyc_error *err)
{
    if (bucket >= p->nbuckets)
        return skyc_fail(err, SKYC_E_NOT_FOUND, "no bucket number %u", bucket);
    enum skyc_err rc = check_policy(p, &p->buckets[bucket], policy, err);
    if (!rc)
        p->buckets[bucket].policy = *policy;
    return rc;
}

static uint16_t home_region(const struct place_bucket *b)
{
    return b->policy.home != STORE_NO_REGION ? b->policy.home : b->regions[0];
}

/* The copy a reader in region is served from: least egress, primary wins
 * ties, then the earlier copy. */
static size_t cheapest_copy(const struct place *p,
                            const struct place_object *o, uint16_t region)
{
    size_t best = 0;
    double best_price = INFINITY;
    for (size_t i = 0; i < o->ncopies; i++) {
        double price = store_cost_egress(p->model, o->copies[i].region, region);
        if (price < best_price ||
            (price == best_price && o->copies[i].primary &&
             !o->copies[best].primary)) {
            best = i;
            best_price = price;
        }
    }
    return best;
}

/* How long a replica in region may stay under the bucket's policy. */
static double replica_ttl(const struct place *p,
                          const struct place_bucket *b,
                          const struct place_object *o, uint16_t region)
{
    switch (b->policy.kind) {
    case PLACE_FIXED_TTL:
        return b->policy.ttl_s;
    case PLACE_ALWAYS_STORE:
        return INFINITY;
    case PLACE_BREAK_EVEN: {
        double egress = INFINITY;
        for (size_t i = 0; i < o->ncopies; i++)
            if (o->copies[i].region != region)
                egress = SKYC_MIN(egress, store_cost_egress(
                                              p->model, o->copies[i].region,
                                              region));
        double per_gb_s = p->model->storage[region] / STORE_MONTH_S;
        if (!isfinite(egress) || per_gb_s <= 0)
            return INFINITY;
        return egress / per_gb_s;
    }
    default:
        return 0;
    }
}

static enum skyc_err check_args(const struct place *p, uint32_t bucket,
                                uint16_t region, double now,
                                struct skyc_error *err)
{
    if (bucket >= p->nbuckets)
        return skyc_fail(err, SKYC_E_NOT_FOUND, "no bucket number %u",
                         bucket);
    if (region >= p->model->nregions)
        return skyc_fail(err, SKYC_E_INPUT, "unknown region number %u",
                         region);
    if (!isfinite(now))
        return skyc_fail(err, SKYC_E_INPUT, "the clock must be finite");
    return SKYC_OK;
}

static const char *object_key(struct place *p, uint32_t bucket,
                              const char *key)
{
    char num[16];
    size_t n = sizeof(num);
    num[--n] = '/';
    do {
        num[--n] = (char)('0' + bucket % 10);
        bucket /= 10;
    } while (bucket);
    strbuf_reset(&p->scratch);
    strbuf_add(&p->scratch, num + n, sizeof(num) - n);
    strbuf_addstr(&p->scratch, key);
    return p->scratch.buf;
}

static uint32_t find_object(const struct place *p, uint32_t bucket,
                            const char *key)
{
    struct place *mp = (struct place *)p; /* scratch only */
    uint32_t v;
    if (!strmap_get(&p->object_index, object_key(mp, bucket, key), &v))
        return UINT32_MAX;
    return v;
}

static uint32_t intern_object(struct place *p, uint32_t bucket,
                              const char *key)
{
    uint32_t v = (uint32_t)p->nobjects;
    const char *full = object_key(p, bucket, key);
    size_t prefix = strlen(full) - strlen(key);
    const char *stored = strmap_put(&p->object_index, full, &v);
    if (v == p->nobjects) {
        ALLOC_GROW(p->objects, p->nobjects + 1, p->objects_alloc);
        p->objects[p->nobjects++] = (struct place_object){
            .bucket = bucket, .key = stored + prefix};
    }
    return v;
}

const struct place_object *place_object(const struct place *p,
                                                uint32_t bucket,
                                                const char *key)
{
    uint32_t oi = find_object(p, bucket, key);
    if (oi == UINT32_MAX || !p->objects[oi].live)
        return NULL;
    return &p->objects[oi];
}

enum skyc_err place_put(struct place *p, uint32_t bucket,
                            const char *key, uint64_t size, uint16_t region,
                            double now, struct place_plan *plan,
                            struct skyc_error *err)
{
    if (plan)
        plan->n = 0;
    enum skyc_err rc = check_args(p, bucket, region, now, err);
    if (rc)
        return rc;
    place_advance(p, now, plan);
    now = p->clock;
    struct place_bucket *b = &p->buckets[bucket];
    uint16_t primary = b->policy.kind == PLACE_SINGLE_REGION ? home_region(b)
                                                             : region;
    /* the regions the new version goes to: primary first */
    uint16_t stack_targets[64];
    uint16_t *targets = b->nregions < ARRAY_SIZE(stack_targets)
                            ? stack_targets
                            : xmalloc((b->nregions + 1) * sizeof(uint16_t));
    size_t nt = 0;
    targets[nt++] = primary;
    if (b->policy.kind == PLACE_REPLICATE_ALL)
        for (size_t i = 0; i < b->nregions; i++)
            if (b->regions[i] != primary)
                targets[nt++] = b->regions[i];
    uint32_t oi = intern_object(p, bucket, key);
    struct place_object *o = &p->objects[oi];
    /* the old version goes; copies outside the new placement are deleted */
    while (o->ncopies) {
        uint16_t r = o->copies[0].region;
        bool kept = false;
        for (size_t i = 0; i < nt; i++)
            kept |= targets[i] == r;
        remove_copy(p, oi, 0, now);
        if (!kept)
            emit(plan, PLACE_ACT_DELETE, STORE_NO_REGION, r, bucket, oi,
                 o->size);
    }
    o->size = size;
    o->live = true;
    add_copy(p, oi, primary, true, INFINITY, now);
    emit(plan, PLACE_ACT_STORE, region, primary, bucket, oi, size);
    charge_egress(p, bucket, region, primary, size);
    cell(p, bucket, primary)->puts++;
    /* replicate-all: each further copy from the cheapest holder so far */
    for (size_t done = 1; done < nt; done++) {
        size_t best_t = done;
        uint16_t best_src = primary;
        double best_price = INFINITY;
        for (size_t ti = done; ti < nt; ti++)
            for (size_t hi = 0; hi < done; hi++) {
                double price =
                    store_cost_egress(p->model, targets[hi], targets[ti]);
                if (price < best_price) {
                    best_price = price;
                    best_t = ti;
                    best_src = targets[hi];
                }
            }
        uint16_t dst = targets[best_t];
        targets[best_t] = targets[done];
        targets[done] = dst;
        o = &p->objects[oi];
        add_copy(p, oi, dst, false, INFINITY, now);
        emit(plan, PLACE_ACT_COPY, best_src, dst, bucket, oi, size);
        charge_egress(p, bucket, best_src, dst, size);
        cell(p, bucket, best_src)->gets++;
        cell(p, bucket, dst)->puts++;
    }
    if (targets != stack_targets)
        free(targets);
    return SKYC_OK;
}

enum skyc_err place_get(struct place *p, uint32_t bucket,
                            const char *key, uint16_t region, double now,
                            struct place_plan *plan,
                            struct skyc_error *err)
{
    if (plan)
        plan->n = 0;
    enum skyc_err rc = check_args(p, bucket, region, now, err);
    if (rc)
        return rc;
    place_advance(p, now, plan);
    now = p->clock;
    uint32_t oi = find_object(p, bucket, key);
    if (oi == UINT32_MAX || !p->objects[oi].live)
        return skyc_fail(err, SKYC_E_NOT_FOUND, "no object '%s' in bucket '%s'",
                         key, p->buckets[bucket].name);
    struct place_bucket *b = &p->buckets[bucket];
    struct place_object *o = &p->objects[oi];
    struct place_copy *src = &o->copies[cheapest_copy(p, o, region)];
    uint16_t from = src->region;
    emit(plan, PLACE_ACT_READ, from, region, bucket, oi, o->size);
    cell(p, bucket, from)->gets++;
    charge_egress(p, bucket, from, region, o->size);
    if (!is_copy_on_read(b->policy.kind))
        return SKYC_OK;
    if (from == region) {
        if (!src->primary && isfinite(src->expire)) {
            double expire = now + replica_ttl(p, b, o, region);
            if (expire < src->expire)
                heap_push(p, expire, oi, src->id);
            src->expire = expire;
        }
        return SKYC_OK;
    }
    double ttl = replica_ttl(p, b, o, region);
    if (ttl > 0) {
        add_copy(p, oi, region, false, now + ttl, now);
        emit(plan, PLACE_ACT_STORE, from, region, bucket, oi, o->size);
        cell(p, bucket, region)->puts++;
    }
    return SKYC_OK;
}

enum skyc_err place_delete(struct place *p, uint32_t bucket,
                               const char *key, double now,
                               struct place_plan *plan,
                               struct skyc_error *err)
{
    if (plan)
        plan->n = 0;
    enum skyc_err rc = check_args(p, bucket, 0, now, err);
    if (rc)
        return rc;
    place_advance(p, now, plan);
    now = p->clock;
    uint32_t oi = find_object(p, bucket, key);
    if (oi == UINT32_MAX || !p->objects[oi].live)
        return skyc_fail(err, SKYC_E_NOT_FOUND, "no object '%s' in bucket '%s'",
                         key, p->buckets[bucket].name);
    struct place_object *o = &p->objects[oi];
    while (o->ncopies) {
        uint16_t r = o->copies[0].region;
        remove_copy(p, oi, 0, now);
        emit(plan, PLACE_ACT_DELETE, STORE_NO_REGION, r, bucket, oi, o->size);
    }
    o->live = false;
    return SKYC_OK;
}

/* ---- the bill --------------------------------------------------------- */

void place_bill_cell(const struct place *p, uint32_t bucket,
                         uint16_t region, double now,
                         struct place_bill *out)
{
    memset(out, 0, sizeof(*out));
    if (bucket >= p->nbuckets || region >= p->model->nregions)
        return;
    const struct place_cell *c = &p->buckets[bucket].cells[region];
    double byte_s = c->byte_s;
    if (now > c->last_t)
        byte_s += c->live_bytes * (now - c->last_t);
    out->storage_byte_s = byte_s;
    out->storage_usd = byte_s * store_cost_storage_per_byte_s(p->model, region);
    out->egress_bytes = c->egress_bytes;
    out->egress_usd = c->egress_usd;
    out->gets = c->gets;
    out->puts = c->puts;
    out->request_usd = (double)c->gets * p->model->get_req[region] +
                       (double)c->puts * p->model->put_req[region];
    out->total_usd = out->storage_usd + out->egress_usd + out->request_usd;
}

void place_bill_total(const struct place *p, double now,
                          struct place_bill *out)
{
    memset(out, 0, sizeof(*out));
    for (uint32_t b = 0; b < p->nbuckets; b++)
        for (uint16_t r = 0; r < p->model->nregions; r++) {
            struct place_bill c;
            place_bill_cell(p, b, r, now, &c);
            out->storage_byte_s += c.storage_byte_s;
            out->storage_usd += c.storage_usd;
            out->egress_bytes += c.egress_bytes;
            out->egress_usd += c.egress_usd;
            out->gets += c.gets;
            out->puts += c.puts;
            out->request_usd += c.request_usd;
            out->total_usd += c.total_usd;
        }
}

/* ---- state files ------------------------------------------------------ */

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

enum skyc_err place_save(const struct place *p, const char *path,
                             struct skyc_error *err)
{
    const struct store_cost_model *m = p->model;
    json_t *buckets = json_array(), *objects = json_array();
    char spec[128];
    for (size_t bi = 0; bi < p->nbuckets; bi++) {
        const struct place_bucket *b = &p->buckets[bi];
        json_t *regions = json_array(), *cells = json_array();
        for (size_t i = 0; i < b->nregions; i++)
            json_array_append_new(
                regions, json_string(store_cost_region_name(m, b->regions[i])));
        for (uint16_t r = 0; r < m->nregions; r++) {
            const struct place_cell *c = &b->cells[r];
            if (!c->live_bytes && !c->byte_s && !c->egress_bytes && !c->gets &&
                !c->puts)
                continue;
            json_array_append_new(
                cells,
                json_pack("{s:s, s:f, s:o, s:f, s:f, s:f, s:I, s:I}", "region",
                          store_cost_region_name(m, r), "live_bytes",
                          c->live_bytes, "last_t", num_or_null(c->last_t),
                          "byte_s", c->byte_s, "egress_bytes",
                          c->egress_bytes, "egress_usd", c->egress_usd, "gets",
                          (json_int_t)c->gets, "puts", (json_int_t)c->puts));
        }
        place_policy_format(&b->policy, m, spec, sizeof(spec));
        json_array_append_new(buckets,
                              json_pack("{s:s, s:s, s:o, s:o}", "name", b->name,
                                        "policy", spec, "regions", regions,
                                        "cells", cells));
    }
    for (size_t oi = 0; oi < p->nobjects; oi++) {
        const struct place_object *o = &p->objects[oi];
        if (!o->live)
            continue;
        json_t *copies = json_array();
        for (size_t i = 0; i < o->ncopies; i++)
            json_array_append_new(
                copies,
                json_pack("{s:s, s:b, s:o}", "region",
                          store_cost_region_name(m, o->copies[i].region),
                          "primary", o->copies[i].primary, "expire",
                          num_or_null(o->copies[i].expire)));
        json_array_append_new(
            objects, json_pack("{s:I, s:s, s:I, s:o}", "bucket",
                               (json_int_t)o->bucket, "key", o->key, "size",
                               (json_int_t)o->size, "copies", copies));
    }
    json_t *root = json_pack("{s:i, s:I, s:o, s:o, s:o}", "skyc_store_state",
                             1, "journal", (json_int_t)p->journal_gen,
                             "clock", num_or_null(p->clock), "buckets",
                             buckets, "objects", objects);
    enum skyc_err rc = SKYC_OK;
    if (json_dump_file(root, path, JSON_COMPACT))
        rc = skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", path,
                       strerror(errno));
    json_decref(root);
    return rc;
}

static double get_num(json_t *obj, const char *name, double dflt)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_number(v))
        return json_number_value(v);
    return dflt;
}

enum skyc_err place_load(struct place *p, const char *path,
                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    const struct store_cost_model *m = p->model;
    json_error_t jerr;
    place_release(p);
    place_init(p, m);
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (jerr.line < 0)
            return skyc_fail(err, SKYC_E_NOT_FOUND, "cannot read '%s': %s",
                             path, jerr.text);
        return skyc_fail(err, SKYC_E_INPUT, "%s:%d:%d: %s", path, jerr.line,
                         jerr.column, jerr.text);
    }
    json_t *buckets = json_object_get(root, "buckets"),
           *objects = json_object_get(root, "objects");
    if (get_num(root, "skyc_store_state", 0) != 1 || !json_is_array(buckets) ||
        !json_is_array(objects)) {
        skyc_fail(err, rc,
                  "%s: not a skyc store state file (want "
                  "skyc_store_state: 1, buckets, objects)",
                  path);
        goto out;
    }
    p->clock = get_num(root, "clock", -INFINITY);
    double gen = get_num(root, "journal", 0);
    p->journal_gen = gen >= 0 && gen < 1e18 ? (uint64_t)gen : 0;
    size_t i;
    json_t *jb;
    json_array_foreach(buckets, i, jb) {
        const char *name = json_string_value(json_object_get(jb, "name"));
        const char *spec = json_string_value(json_object_get(jb, "policy"));
        json_t *regions = json_object_get(jb, "regions");
        if (!name || !spec || !json_is_array(regions)) {
            skyc_fail(err, rc, "%s: bucket %zu needs name, policy, regions",
                      path, i);
            goto out;
        }
        struct place_policy pol;
        struct skyc_error sub = {0};
        if (place_policy_parse(spec, m, &pol, &sub)) {
            skyc_fail(err, rc, "%s: bucket '%s': %s", path, name, sub.msg);
            goto out;
        }
        size_t nr = json_array_size(regions);
        uint16_t *rs = xcalloc(nr ? nr : 1, sizeof(uint16_t));
        for (size_t j = 0; j < nr; j++) {
            const char *rn = json_string_value(json_array_get(regions, j));
            rs[j] = rn ? store_cost_region(m, rn) : STORE_NO_REGION;
            if (rs[j] == STORE_NO_REGION) {
                free(rs);
                skyc_fail(err, rc, "%s: bucket '%s': unknown region '%s'",
                          path, name, rn ? rn : "(not a string)");
                goto out;
            }
        }
        uint32_t bi;
        rc = place_bucket_create(p, name, &pol, rs, nr, &bi, &sub);
        free(rs);
        if (rc) {
            rc = SKYC_E_INPUT;
            skyc_fail(err, rc, "%s: %s", path, sub.msg);
            goto out;
        }
        rc = SKYC_E_INPUT;
        size_t j;
        json_t *jc;
        json_array_foreach(json_object_get(jb, "cells"), j, jc) {
            const char *rn = json_string_value(json_object_get(jc, "region"));
            uint16_t r = rn ? store_cost_region(m, rn) : STORE_NO_REGION;
            if (r == STORE_NO_REGION) {
                skyc_fail(err, rc, "%s: bucket '%s': unknown region '%s'",
                          path, name, rn ? rn : "(not a string)");
                goto out;
            }
            struct place_cell *c = cell(p, bi, r);
            c->live_bytes = get_num(jc, "live_bytes", 0);
            c->last_t = get_num(jc, "last_t", 0);
            c->byte_s = get_num(jc, "byte_s", 0);
            c->egress_bytes = get_num(jc, "egress_bytes", 0);
            c->egress_usd = get_num(jc, "egress_usd", 0);
            c->gets = (uint64_t)get_num(jc, "gets", 0);
            c->puts = (uint64_t)get_num(jc, "puts", 0);
        }
    }
    json_t *jo;
    json_array_foreach(objects, i, jo) {
        double bd = get_num(jo, "bucket", -1), size = get_num(jo, "size", -1);
        const char *key = json_string_value(json_object_get(jo, "key"));
        json_t *copies = json_object_get(jo, "copies");
        if (!key || !(bd >= 0 && bd < (double)p->nbuckets) || !(size >= 0) ||
            !json_is_array(copies) || !json_array_size(copies)) {
            skyc_fail(err, rc,
                      "%s: object %zu needs bucket, key, size and copies",
                      path, i);
            goto out;
        }
        uint32_t bi = (uint32_t)bd;
        uint32_t oi = intern_object(p, bi, key);
        struct place_object *o = &p->objects[oi];
        o->size = (uint64_t)size;
        o->live = true;
        size_t j;
        json_t *jc;
        json_array_foreach(copies, j, jc) {
            const char *rn = json_string_value(json_object_get(jc, "region"));
            uint16_t r = rn ? store_cost_region(m, rn) : STORE_NO_REGION;
            if (r == STORE_NO_REGION || find_copy(&p->objects[oi], r)) {
                skyc_fail(err, rc, "%s: object '%s': bad or repeated region",
                          path, key);
                goto out;
            }
            bool primary = json_is_true(json_object_get(jc, "primary"));
            double expire = get_num(jc, "expire", INFINITY);
            /* add without touching the restored cells */
            struct place_cell saved = *cell(p, bi, r);
            add_copy(p, oi, r, primary, primary ? INFINITY : expire, p->clock);
            *cell(p, bi, r) = saved;
        }
    }
    rc = SKYC_OK;
out:
    json_decref(root);
    if (rc) {
        place_release(p);
        place_init(p, m);
    }
    return rc;
}

/* ---- journal: the engine's calls, one line each (see placement.h) ---- */

/* A key as one field: bytes <= ' ', '%' and >= 0x7f as %XX. */
static void journal_key(struct strbuf *out, const char *key)
{
    static const char hx[] = "0123456789ABCDEF";
    for (const unsigned char *k = (const unsigned char *)key; *k; k++)
        if (*k <= ' ' || *k == '%' || *k >= 0x7f) {
            strbuf_addch(out, '%');
            strbuf_addch(out, hx[*k >> 4]);
            strbuf_addch(out, hx[*k & 15]);
        } else {
            strbuf_addch(out, (char)*k);
        }
}

static int hexdig(int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                  : -1;
}

static bool unjournal_key(const char *s, struct strbuf *out)
{
    for (; *s; s++) {
        if (*s != '%') {
            strbuf_addch(out, *s);
            continue;
        }
        int a = hexdig(s[1]), b = a < 0 ? -1 : hexdig(s[2]);
        if (b < 0)
            return false;
        strbuf_addch(out, (char)(a * 16 + b));
        s += 2;
    }
    return true;
}

void place_journal_bucket(struct strbuf *out, const struct place *p,
                          uint32_t bucket, double now)
{
    const struct place_bucket *b = &p->buckets[bucket];
    char pol[128];
    place_policy_format(&b->policy, p->model, pol, sizeof(pol));
    strbuf_addf(out, "b\t%.17g\t%s\t%s\t", now, b->name, pol);
    for (size_t i = 0; i < b->nregions; i++)
        strbuf_addf(out, "%s%s", i ? "," : "",
                    store_cost_region_name(p->model, b->regions[i]));
    strbuf_addch(out, '\n');
}

void place_journal_policy(struct strbuf *out, const struct place *p,
                          uint32_t bucket, double now)
{
    char pol[128];
    place_policy_format(&p->buckets[bucket].policy, p->model, pol,
                        sizeof(pol));
    strbuf_addf(out, "p\t%.17g\t%s\t%s\n", now, p->buckets[bucket].name, pol);
}

void place_journal_put(struct strbuf *out, const struct place *p,
                       uint32_t bucket, const char *key, uint64_t size,
                       uint16_t region, double now)
{
    strbuf_addf(out, "w\t%.17g\t%s\t%s\t%" PRIu64 "\t", now,
                p->buckets[bucket].name,
                store_cost_region_name(p->model, region), size);
    journal_key(out, key);
    strbuf_addch(out, '\n');
}

void place_journal_get(struct strbuf *out, const struct place *p,
                       uint32_t bucket, const char *key, uint16_t region,
                       double now)
{
    strbuf_addf(out, "r\t%.17g\t%s\t%s\t", now, p->buckets[bucket].name,
                store_cost_region_name(p->model, region));
    journal_key(out, key);
    strbuf_addch(out, '\n');
}

void place_journal_delete(struct strbuf *out, const struct place *p,
                          uint32_t bucket, const char *key, double now)
{
    strbuf_addf(out, "d\t%.17g\t%s\t", now, p->buckets[bucket].name);
    journal_key(out, key);
    strbuf_addch(out, '\n');
}

void place_journal_advance(struct strbuf *out, double now)
{
    strbuf_addf(out, "a\t%.17g\n", now);
}

/* The tab-separated fields of line (modified in place) into f[0..max). */
static size_t split_tabs(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno)
        return false;
    *out = v;
    return true;
}

static bool parse_time(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

enum skyc_err place_journal_replay(struct place *p, const char *text,
                                   size_t len, const char *path,
                                   size_t *applied, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct place_plan pl;
    struct strbuf key = STRBUF_INIT, line = STRBUF_INIT;
    struct skyc_error ignore = {0};
    size_t lineno = 0;
    place_plan_init(&pl);
    *applied = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) /* a crash mid-append: the unfinished line never happened */
            break;
        lineno++;
        strbuf_reset(&line);
        strbuf_add(&line, text + at, (size_t)(nl - (text + at)));
        at = (size_t)(nl - text) + 1;
        if (strlen(line.buf) != line.len) {
            rc = skyc_fail(err, SKYC_E_INPUT, "%s:%zu: NUL byte in the line",
                           path, lineno);
            goto out;
        }
        char *f[7];
        size_t n = split_tabs(line.buf, f, ARRAY_SIZE(f));
        double now;
        const char *what = NULL;
        char op = f[0][0] && !f[0][1] ? f[0][0] : '?';
        static const size_t want[128] = {['b'] = 5, ['p'] = 4, ['w'] = 6,
                                         ['r'] = 5, ['d'] = 4, ['a'] = 2};
        if (op == '?' || !want[(unsigned char)op]) {
            what = "unknown record (want b, p, w, r, d or a)";
        } else if (n != want[(unsigned char)op]) {
            what = "wrong number of fields";
        } else if (!parse_time(f[1], &now)) {
            what = "bad time";
        }
        uint32_t b = UINT32_MAX;
        if (!what && op != 'a' && op != 'b' &&
            (b = place_bucket_find(p, f[2])) == UINT32_MAX)
            what = "unknown bucket (no b record before it)";
        uint16_t region = STORE_NO_REGION;
        if (!what && (op == 'w' || op == 'r') &&
            (region = store_cost_region(p->model, f[3])) == STORE_NO_REGION)
            what = "unknown region";
        const char *kf = op == 'w' ? f[5] : op == 'r' ? f[4] : f[3];
        strbuf_reset(&key);
        if (!what && (op == 'w' || op == 'r' || op == 'd') &&
            (!*kf || !unjournal_key(kf, &key)))
            what = "bad key";
        uint64_t size = 0;
        if (!what && op == 'w' && !parse_u64(f[4], &size))
            what = "bad size";
        struct place_policy pol;
        if (!what && (op == 'b' || op == 'p') &&
            place_policy_parse(op == 'b' ? f[3] : f[3], p->model, &pol,
                               &ignore)) {
            what = "bad policy";
            skyc_error_clear(&ignore);
        }
        if (what) {
            rc = skyc_fail(err, SKYC_E_INPUT, "%s:%zu: %s", path, lineno,
                           what);
            goto out;
        }
        pl.n = 0;
        switch (op) {
        case 'b': {
            uint16_t regs[256];
            size_t nr = 0;
            char *save = NULL;
            for (char *t = strtok_r(f[4], ",", &save); t && !what;
                 t = strtok_r(NULL, ",", &save)) {
                if (nr == ARRAY_SIZE(regs) ||
                    (regs[nr++] = store_cost_region(p->model, t)) ==
                        STORE_NO_REGION)
                    what = "unknown region";
            }
            if (!what && !nr)
                what = "no regions";
            if (!what && place_bucket_find(p, f[2]) == UINT32_MAX &&
                place_bucket_create(p, f[2], &pol, regs, nr, &b, &ignore))
                what = "bad bucket";
            skyc_error_clear(&ignore);
            break;
        }
        case 'p':
            (void)place_bucket_set_policy(p, b, &pol, &ignore);
            break;
        case 'w':
            (void)place_put(p, b, key.buf, size, region, now, &pl, &ignore);
            break;
        case 'r':
            (void)place_get(p, b, key.buf, region, now, &pl, &ignore);
            break;
        case 'd':
            (void)place_delete(p, b, key.buf, now, &pl, &ignore);
            break;
        case 'a':
            place_advance(p, now, &pl);
            break;
        }
        skyc_error_clear(&ignore);
        if (what) {
            rc = skyc_fail(err, SKYC_E_INPUT, "%s:%zu: %s", path, lineno,
                           what);
            goto out;
        }
        (*applied)++;
    }
out:
    place_plan_release(&pl);
    strbuf_release(&key);
    strbuf_release(&line);
    return rc;
}
