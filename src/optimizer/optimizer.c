/*
 * optimizer.c - from a task DAG and a catalog to a plan.
 *
 * Each task's feasible candidates are grouped by region: egress depends on
 * regions only, so within a region only the task's best candidate can be
 * optimal. That turns the DAG into a placement problem (placement.h) whose
 * labels are regions; its exact solution (DP on forests, TRW-S with a bound
 * certificate or a bound-pruned MILP otherwise; see optimizer.h) is read
 * back into candidates.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "optimizer/optimizer.h"
#include "optimizer/placement.h"

/* $1 of cost is worth this many hours under the time objective. */
#define TIME_COST_TIEBREAK 1e-6

double optimizer_task_hours(const struct task *t,
                            const struct opt_params *params);

struct task_labels {
    size_t ncands; /* feasible candidates seen */
    size_t nlabels;
    uint32_t *region;          /* label -> catalog region */
    struct opt_candidate *best; /* label -> the region's best candidate */
    double *input_cost; /* label -> $ to read the task's inputs there */
    double *input_hours;
    uint32_t *label_of; /* region -> label or CATALOG_NONE, while building */
    size_t alloc;
    struct catalog *cat;
};

/* The cloud a bucket URL lives in, or -1 for local paths and unknowns. */
static int input_cloud(const char *path)
{
    if (!strncmp(path, "s3://", 5))
        return CLOUD_AWS;
    if (!strncmp(path, "gs://", 5))
        return CLOUD_GCP;
    if (!strncmp(path, "az://", 5) || strstr(path, ".blob.core.windows.net"))
        return CLOUD_AZURE;
    return -1;
}

/*
 * Reading inputs from a bucket on another cloud pays that cloud's internet
 * egress; on the same cloud we assume the bucket's region is reachable at no
 * charge (as SkyPilot does), since bucket URLs name no region.
 */
static void input_costs(struct catalog *cat, const struct task *t,
                        uint32_t region, double *cost, double *hours)
{
    *cost = *hours = 0;
    enum cloud here = cat->regions[region].cloud;
    for (size_t i = 0; i < t->ninputs; i++) {
        int from = input_cloud(t->inputs[i].path);
        if (from < 0 || from == (int)here)
            continue;
        /* any region of the source cloud other than ours: its tier price */
        uint32_t src = CATALOG_NONE;
        for (size_t r = 0; r < cat->nregions && src == CATALOG_NONE; r++)
            if (cat->regions[r].cloud == from)
                src = (uint32_t)r;
        double price = src != CATALOG_NONE
                           ? catalog_egress_price(cat, src, region)
                           : 0.09;
        double gbps = src != CATALOG_NONE
                          ? catalog_bandwidth_gbps(cat, src, region)
                          : 1;
        *cost += t->inputs[i].gb * price;
        *hours += t->inputs[i].gb * 8 / gbps / 3600;
    }
}

static void describe_task(const struct task_dag *dag, size_t i,
                          struct strbuf *sb)
{
    char name[64];
    const struct task *t = &dag->tasks[i];
    strbuf_addf(sb, "task '%s'", task_display_name(dag, i, name, sizeof(name)));
    if (!t->nresources)
        return;
    const struct task_resources *r = &t->resources[0];
    strbuf_addstr(sb, " (");
    size_t start = sb->len;
    static const char *const amount_suffix[] = {"", "", "+", "x"};
    if (r->accelerator)
        strbuf_addf(sb, "%s:%g ", r->accelerator, r->accelerator_count);
    if (r->cpus.kind != TASK_AMOUNT_ANY)
        strbuf_addf(sb, "cpus %g%s ", r->cpus.value,
                    amount_suffix[r->cpus.kind]);
    if (r->memory_gb.kind != TASK_AMOUNT_ANY)
        strbuf_addf(sb, "memory %g%s ", r->memory_gb.value,
                    amount_suffix[r->memory_gb.kind]);
    if (r->instance_type)
        strbuf_addf(sb, "%s ", r->instance_type);
    if (r->cloud)
        strbuf_addf(sb, "on %s ", r->cloud);
    if (r->region)
        strbuf_addf(sb, "in %s ", r->region);
    if (r->use_spot)
        strbuf_addstr(sb, "spot ");
    if (sb->len == start)
        strbuf_addstr(sb, "default shape ");
    strbuf_setlen(sb, sb->len - 1);
    if (t->nresources > 1)
        strbuf_addf(sb, ", or %zu other alternative%s", t->nresources - 1,
                    t->nresources == 2 ? "" : "s");
    strbuf_addch(sb, ')');
}

static enum skyc_err no_candidates(const struct catalog *cat,
                                   const struct task_dag *dag, size_t i,
                                   struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    const struct task *t = &dag->tasks[i];
    describe_task(dag, i, &sb);
    for (size_t a = 0; a < t->nresources; a++) {
        const char *acc = t->resources[a].accelerator;
        if (acc && catalog_accel_index(cat, acc) == CATALOG_NONE) {
            const char **names = xcalloc(cat->naccels + 1, sizeof(*names));
            for (size_t k = 0; k < cat->naccels; k++)
                names[k] = cat->accels[k];
            const char *near = suggest_nearest(acc, names);
            enum skyc_err rc = skyc_fail(
                err, SKYC_E_INFEASIBLE,
                "%s: no cloud in the catalog offers accelerator '%s'%s%s%s",
                sb.buf, acc, near ? " (did you mean '" : "",
                near ? near : "", near ? "'?)" : "");
            free(names);
            strbuf_release(&sb);
            return rc;
        }
    }
    enum skyc_err rc = skyc_fail(
        err, SKYC_E_INFEASIBLE,
        "%s: no offering in the catalog satisfies it (relax cpus/memory, "
        "drop the cloud/region pin, or see 'skyc show-gpus')",
        sb.buf);
    strbuf_release(&sb);
    return rc;
}

static double unary_value(const struct opt_params *p, double cost,
                          double hours)
{
    return p->objective == OPT_MIN_TIME ? hours + TIME_COST_TIEBREAK * cost
                                        : cost;
}

static void labels_release(struct task_labels *l, size_t n)
{
    for (size_t v = 0; v < n; v++) {
        free(l[v].label_of);
        free(l[v].region);
        free(l[v].best);
        free(l[v].input_cost);
        free(l[v].input_hours);
    }
    free(l);
}

/* Keep the region's best candidate (the first in candidate order). */
static void label_candidate(void *ctx, const struct opt_candidate *c)
{
    struct task_labels *l = ctx;
    uint32_t reg = l->cat->offers[c->offer].region;
    uint32_t k = l->label_of[reg];
    l->ncands++;
    if (k == CATALOG_NONE) {
        k = (uint32_t)l->nlabels;
        if (l->nlabels == l->alloc) {
            l->alloc = l->alloc ? 2 * l->alloc : 16;
            l->region = xreallocarray(l->region, l->alloc, sizeof(*l->region));
            l->best = xreallocarray(l->best, l->alloc, sizeof(*l->best));
        }
        l->nlabels++;
        l->label_of[reg] = k;
        l->region[k] = reg;
        l->best[k] = *c;
    } else if (opt_candidate_before(c, &l->best[k])) {
        l->best[k] = *c;
    }
}

/* Group a task's candidates by region: one label per region. */
static void build_labels(struct catalog *cat, const struct task *t,
                         const struct opt_params *p, struct task_labels *l)
{
    l->cat = cat;
    l->label_of = xcalloc(cat->nregions + 1, sizeof(*l->label_of));
    for (size_t r = 0; r < cat->nregions; r++)
        l->label_of[r] = CATALOG_NONE;
    optimizer_candidates_visit(cat, t, p, label_candidate, l);
    l->input_cost = xcalloc(l->nlabels + 1, sizeof(*l->input_cost));
    l->input_hours = xcalloc(l->nlabels + 1, sizeof(*l->input_hours));
    for (size_t k = 0; k < l->nlabels; k++)
        input_costs(cat, t, l->region[k], &l->input_cost[k],
                    &l->input_hours[k]);
    free(l->label_of);
    l->label_of = NULL;
}

/* A task with the same candidates as an earlier one: copy, except inputs. */
static void copy_labels(struct catalog *cat, const struct task *t,
                        const struct task_labels *from, struct task_labels *l)
{
    l->cat = cat;
    l->ncands = from->ncands;
    l->nlabels = l->alloc = from->nlabels;
    l->region = xcalloc(l->nlabels + 1, sizeof(*l->region));
    l->best = xcalloc(l->nlabels + 1, sizeof(*l->best));
    memcpy(l->region, from->region, l->nlabels * sizeof(*l->region));
    memcpy(l->best, from->best, l->nlabels * sizeof(*l->best));
    l->input_cost = xcalloc(l->nlabels + 1, sizeof(*l->input_cost));
    l->input_hours = xcalloc(l->nlabels + 1, sizeof(*l->input_hours));
    for (size_t k = 0; k < l->nlabels; k++)
        input_costs(cat, t, l->region[k], &l->input_cost[k],
                    &l->input_hours[k]);
}

static int cmp_label_best(const void *a, const void *b)
{
    const struct opt_candidate *x = a, *y = b;
    if (opt_candidate_before(x, y))
        return -1;
    return opt_candidate_before(y, x);
}

static void fill_task_plan(const struct catalog *cat, const struct task *t,
                           const struct opt_params *p,
                           const struct task_labels *l, size_t label,
                           struct opt_task_plan *tp)
{
    tp->chosen = l->best[label];
    tp->hours = optimizer_task_hours(t, p);
    tp->input_egress_cost = l->input_cost[label];
    tp->ncandidates = l->ncands;
    /*
     * runners-up: the best candidate of every other cloud, cheapest first;
     * a cloud's best is the best of its regions' bests
     */
    struct opt_candidate per_cloud[CLOUD_COUNT];
    bool have[CLOUD_COUNT] = {false};
    uint8_t chosen_cloud = cat->offers[tp->chosen.offer].cloud;
    for (size_t k = 0; k < l->nlabels; k++) {
        uint8_t cloud = cat->offers[l->best[k].offer].cloud;
        if (cloud == chosen_cloud)
            continue;
        if (!have[cloud] || opt_candidate_before(&l->best[k], &per_cloud[cloud]))
            per_cloud[cloud] = l->best[k];
        have[cloud] = true;
    }
    tp->runners_up = xcalloc(CLOUD_COUNT + 1, sizeof(*tp->runners_up));
    size_t nr = 0;
    for (size_t c = 0; c < CLOUD_COUNT; c++)
        if (have[c])
            tp->runners_up[nr++] = per_cloud[c];
    qsort(tp->runners_up, nr, sizeof(*tp->runners_up), cmp_label_best);
    tp->nrunners_up = SKYC_MIN(nr, p->runners_up);
}

enum skyc_err optimizer_plan(struct catalog *cat, const struct task_dag *dag,
                             const struct opt_params *params,
                             struct opt_plan *plan, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    size_t n = dag->ntasks;
    memset(plan, 0, sizeof(*plan));
    plan->objective = params->objective;
    if (!n)
        return skyc_fail(err, SKYC_E_INPUT, "%s: no tasks to plan",
                         dag->path ? dag->path : "task file");

    struct task_labels *l = xcalloc(n, sizeof(*l));
    struct placement pl = {0};
    size_t *nl = xcalloc(n, sizeof(*nl));
    size_t *lab = xcalloc(n, sizeof(*lab));
    for (size_t v = 0; v < n; v++) {
        size_t twin = v;
        for (size_t u = 0; u < v && twin == v; u++)
            if (optimizer_same_candidates(&dag->tasks[u], &dag->tasks[v],
                                          params))
                twin = u;
        if (twin < v)
            copy_labels(cat, &dag->tasks[v], &l[twin], &l[v]);
        else
            build_labels(cat, &dag->tasks[v], params, &l[v]);
        if (!l[v].ncands) {
            rc = no_candidates(cat, dag, v, err);
            goto out;
        }
        nl[v] = l[v].nlabels;
    }

    placement_init(&pl, n, nl);
    pl.time_limit_s = params->time_limit_s;
    for (size_t v = 0; v < n; v++) {
        double hours = optimizer_task_hours(&dag->tasks[v], params);
        for (size_t a = 0; a < nl[v]; a++) {
            const struct opt_candidate *c = &l[v].best[a];
            pl.unary[v][a] =
                unary_value(params, c->cost + l[v].input_cost[a],
                            hours + l[v].input_hours[a]);
        }
    }
    for (size_t i = 0; i < dag->nedges; i++) {
        size_t from = dag->edges[i].from, to = dag->edges[i].to;
        double gb = task_output_gb(&dag->tasks[from]);
        struct placement_edge *e = placement_add_edge(&pl, from, to);
        for (size_t a = 0; a < nl[from]; a++)
            for (size_t b = 0; b < nl[to]; b++) {
                uint32_t ra = l[from].region[a], rb = l[to].region[b];
                double cost = gb * catalog_egress_price(cat, ra, rb);
                double hours = 0;
                if (params->objective == OPT_MIN_TIME && gb > 0 && ra != rb)
                    hours = gb * 8 / catalog_bandwidth_gbps(cat, ra, rb) /
                            3600;
                e->pair[a * nl[to] + b] = unary_value(params, cost, hours);
            }
    }

    double objective = 0;
    enum opt_solver solver = params->solver;
    bool forest = placement_is_forest(&pl);
    if (solver == OPT_SOLVER_DP && !forest) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "the DP solver needs a chain or tree, and this DAG "
                       "has a task with two paths to it (use --solver trws "
                       "or milp)");
        goto out;
    }
    if (solver == OPT_SOLVER_MILP || solver == OPT_SOLVER_TRWS ||
        (solver == OPT_SOLVER_AUTO && !forest)) {
        struct placement_stats st;
        rc = solver == OPT_SOLVER_MILP
                 ? placement_solve_milp(&pl, lab, &objective, &st, err)
                 : placement_solve_trws(&pl, lab, &objective, &st, err);
        plan->method = st.method;
        plan->proven_optimal = st.proven_optimal;
        plan->labels_before = st.labels_before;
        plan->labels_after = st.labels_after;
    } else {
        rc = placement_solve_dp(&pl, lab, &objective, err);
        plan->method = n == 1 ? "single" : "dp";
        plan->proven_optimal = true;
        for (size_t v = 0; v < n; v++)
            plan->labels_before += nl[v];
        plan->labels_after = plan->labels_before;
    }
    if (rc)
        goto out;

    plan->ntasks = n;
    plan->tasks = xcalloc(n, sizeof(*plan->tasks));
    for (size_t v = 0; v < n; v++) {
        struct opt_task_plan *tp = &plan->tasks[v];
        fill_task_plan(cat, &dag->tasks[v], params, &l[v], lab[v], tp);
        plan->compute_cost += tp->chosen.cost;
        plan->egress_cost += tp->input_egress_cost;
        plan->total_hours += tp->hours + l[v].input_hours[lab[v]];
    }
    plan->nedges = dag->nedges;
    plan->edges = xcalloc(dag->nedges + 1, sizeof(*plan->edges));
    for (size_t i = 0; i < dag->nedges; i++) {
        struct opt_edge_plan *ep = &plan->edges[i];
        ep->from = dag->edges[i].from;
        ep->to = dag->edges[i].to;
        ep->gb = task_output_gb(&dag->tasks[ep->from]);
        uint32_t ra = l[ep->from].region[lab[ep->from]];
        uint32_t rb = l[ep->to].region[lab[ep->to]];
        ep->price_per_gb = catalog_egress_price(cat, ra, rb);
        ep->cost = ep->gb * ep->price_per_gb;
        ep->hours = ra == rb || ep->gb <= 0
                        ? 0
                        : ep->gb * 8 / catalog_bandwidth_gbps(cat, ra, rb) /
                              3600;
        plan->egress_cost += ep->cost;
        plan->total_hours += ep->hours;
    }
    plan->total_cost = plan->compute_cost + plan->egress_cost;
out:
    placement_release(&pl);
    labels_release(l, n);
    free(nl);
    free(lab);
    if (rc)
        opt_plan_release(plan);
    return rc;
}

void opt_plan_release(struct opt_plan *plan)
{
    for (size_t v = 0; v < plan->ntasks; v++)
        free(plan->tasks[v].runners_up);
    free(plan->tasks);
    free(plan->edges);
    memset(plan, 0, sizeof(*plan));
}
