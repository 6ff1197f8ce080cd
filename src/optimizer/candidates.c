/*
 * candidates.c - which catalog offerings can run a task.
 *
 * An offering fits a resource alternative when cloud/region/zone/instance
 * type match the pins, the accelerator (case-insensitive, canonical) and its
 * count match exactly, vCPUs and memory satisfy "N" (exactly), "N+" (at
 * least) or "Nx" (memory at least N GB per vCPU), spot is sold when use_spot
 * is asked (on-demand otherwise), the cluster's hourly price stays within
 * max_hourly_cost, and nothing in the blocked list covers it.
 *
 * With no cpus, memory, accelerator or instance type, a task gets SkyPilot's
 * default shape: 8+ vCPUs with at least 4 GB per vCPU. Without an
 * accelerator request, offerings with accelerators are left out (as SkyPilot
 * does), unless the instance type is pinned. GPU VMs with a freely picked
 * small host (CATALOG_OFFER_SMALL_HOST) need cpus or memory asked for.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "optimizer/optimizer.h"

void opt_params_init(struct opt_params *p)
{
    memset(p, 0, sizeof(*p));
    p->objective = OPT_MIN_COST;
    p->solver = OPT_SOLVER_AUTO;
    p->hours = 1;
    p->cloud = -1;
    p->runners_up = 5;
    p->time_limit_s = OPT_DEFAULT_TIME_LIMIT_S;
}

static bool amount_fits(const struct task_amount *a, double have,
                        double vcpus)
{
    switch (a->kind) {
    case TASK_AMOUNT_ANY:
        return true;
    case TASK_AMOUNT_EXACT:
        return !isnan(have) && fabs(have - a->value) < 1e-6;
    case TASK_AMOUNT_AT_LEAST:
        return !isnan(have) && have >= a->value - 1e-9;
    case TASK_AMOUNT_PER_CPU:
        return !isnan(have) && !isnan(vcpus) &&
               have >= a->value * vcpus - 1e-6;
    }
    return false;
}

static bool blocked(const struct catalog *cat, const struct catalog_offering *o,
                    bool spot, const struct opt_params *p)
{
    for (size_t i = 0; i < p->nblocked; i++) {
        const struct opt_block *b = &p->blocked[i];
        if (b->cloud >= 0 && b->cloud != o->cloud)
            continue;
        if (b->region && strcmp(b->region, cat->regions[o->region].name))
            continue;
        if (b->zone && (o->zone == CATALOG_NONE ||
                        strcmp(b->zone, cat->zones[o->zone].name)))
            continue;
        if (b->instance_type &&
            strcmp(b->instance_type, cat->names[o->instance]))
            continue;
        if (b->spot >= 0 && b->spot != (int)spot)
            continue;
        return true;
    }
    return false;
}

/*
 * Whether offering o fits alternative r; *hourly gets its per-node price.
 * Keep same_resources() below in step: it must compare every field of r
 * read here.
 */
static bool fits(const struct catalog *cat, const struct catalog_offering *o,
                 const struct task_resources *r, uint32_t want_accel,
                 long nodes, const struct opt_params *p, double *hourly)
{
    if (p->cloud >= 0 && o->cloud != p->cloud)
        return false;
    if (r->cloud && !task_resources_provider(r) &&
        strcmp(r->cloud, cloud_name((enum cloud)o->cloud)))
        return false;
    const char *region = cat->regions[o->region].name;
    if (p->region && strcmp(p->region, region))
        return false;
    if (r->region && strcmp(r->region, region))
        return false;
    if (r->zone && (o->zone == CATALOG_NONE ||
                    strcmp(r->zone, cat->zones[o->zone].name)))
        return false;
    if (r->instance_type && strcmp(r->instance_type, cat->names[o->instance]))
        return false;
    if (r->accelerator) {
        if (o->accel != want_accel ||
            fabs(o->accel_count - r->accelerator_count) > 1e-6)
            return false;
    } else if (o->accel != CATALOG_NONE && !r->instance_type) {
        return false;
    }
    bool defaults = !r->accelerator && !r->instance_type &&
                    r->cpus.kind == TASK_AMOUNT_ANY &&
                    r->memory_gb.kind == TASK_AMOUNT_ANY;
    struct task_amount cpus = r->cpus, mem = r->memory_gb;
    if (defaults) {
        cpus = (struct task_amount){TASK_AMOUNT_AT_LEAST, 8};
        mem = (struct task_amount){TASK_AMOUNT_PER_CPU, 4};
    }
    if ((o->flags & CATALOG_OFFER_SMALL_HOST) &&
        r->cpus.kind == TASK_AMOUNT_ANY && r->memory_gb.kind == TASK_AMOUNT_ANY)
        return false;
    if (!amount_fits(&cpus, o->vcpus, o->vcpus) ||
        !amount_fits(&mem, o->memory_gib, o->vcpus))
        return false;
    double price = r->use_spot ? o->spot_price : o->price;
    if (isnan(price))
        return false;
    if (r->max_hourly_cost > 0 && price * (double)nodes > r->max_hourly_cost)
        return false;
    *hourly = price;
    return true;
}

bool opt_candidate_before(const struct opt_candidate *x,
                          const struct opt_candidate *y)
{
    if (x->cost != y->cost)
        return x->cost < y->cost;
    return x->offer < y->offer;
}

/* How many hours task t runs: its estimate, else the default. */
double optimizer_task_hours(const struct task *t,
                            const struct opt_params *params);
double optimizer_task_hours(const struct task *t,
                            const struct opt_params *params)
{
    return t->estimated_hours > 0 ? t->estimated_hours
                                  : (params->hours > 0 ? params->hours : 1);
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool same_amount(const struct task_amount *a,
                        const struct task_amount *b)
{
    return a->kind == b->kind && a->value == b->value;
}

/* Every field of an alternative that fits() reads. */
static bool same_resources(const struct task_resources *a,
                           const struct task_resources *b)
{
    return same_str(a->cloud, b->cloud) && same_str(a->region, b->region) &&
           same_str(a->zone, b->zone) &&
           same_str(a->instance_type, b->instance_type) &&
           same_str(a->accelerator, b->accelerator) &&
           a->accelerator_count == b->accelerator_count &&
           same_amount(&a->cpus, &b->cpus) &&
           same_amount(&a->memory_gb, &b->memory_gb) &&
           a->use_spot == b->use_spot &&
           a->max_hourly_cost == b->max_hourly_cost;
}

bool optimizer_same_candidates(const struct task *a, const struct task *b,
                               const struct opt_params *params)
{
    long na = a->num_nodes > 0 ? a->num_nodes : 1;
    long nb = b->num_nodes > 0 ? b->num_nodes : 1;
    if (na != nb || a->nresources != b->nresources ||
        a->resources_ordered != b->resources_ordered ||
        optimizer_task_hours(a, params) != optimizer_task_hours(b, params))
        return false;
    for (size_t i = 0; i < a->nresources; i++)
        if (!same_resources(&a->resources[i], &b->resources[i]))
            return false;
    return true;
}

static int cmp_candidate(const void *a, const void *b)
{
    const struct opt_candidate *x = a, *y = b;
    if (opt_candidate_before(x, y))
        return -1;
    return opt_candidate_before(y, x);
}

void optimizer_candidates_visit(const struct catalog *cat,
                                const struct task *t,
                                const struct opt_params *params,
                                opt_candidate_fn *fn, void *ctx)
{
    double hours = optimizer_task_hours(t, params);
    long nodes = t->num_nodes > 0 ? t->num_nodes : 1;
    for (size_t alt = 0; alt < t->nresources; alt++) {
        const struct task_resources *r = &t->resources[alt];
        uint32_t want = CATALOG_NONE;
        bool any = false;
        if (r->accelerator) {
            want = catalog_accel_index(cat, r->accelerator);
            if (want == CATALOG_NONE)
                continue; /* reported by the caller when nothing fits */
        }
        for (size_t i = 0; i < cat->noffers; i++) {
            const struct catalog_offering *o = &cat->offers[i];
            double hourly;
            if (!fits(cat, o, r, want, nodes, params, &hourly))
                continue;
            if (blocked(cat, o, r->use_spot, params))
                continue;
            any = true;
            fn(ctx, &(struct opt_candidate){
                        .offer = (uint32_t)i,
                        .spot = r->use_spot,
                        .alt = alt,
                        .hourly = hourly,
                        .cost = hourly * hours * (double)nodes,
                    });
        }
        /* ordered alternatives: the first that has candidates wins */
        if (t->resources_ordered && any)
            break;
    }
}

struct collect {
    struct opt_candidate *c;
    size_t n, alloc;
};

static void collect_one(void *ctx, const struct opt_candidate *c)
{
    struct collect *col = ctx;
    ALLOC_GROW(col->c, col->n + 1, col->alloc);
    col->c[col->n++] = *c;
}

enum skyc_err optimizer_candidates(const struct catalog *cat,
                                   const struct task *t,
                                   const struct opt_params *params,
                                   struct opt_candidate **out, size_t *n,
                                   struct skyc_error *err)
{
    struct collect col = {0};
    optimizer_candidates_visit(cat, t, params, collect_one, &col);
    (void)err;
    if (col.n)
        qsort(col.c, col.n, sizeof(*col.c), cmp_candidate);
    *out = col.c;
    *n = col.n;
    return SKYC_OK;
}
