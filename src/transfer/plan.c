/*
 * plan.c - Skyplane's transfer MILP, solved exactly with CBC (see plan.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "catalog/catalog.h"
#include "solver/lp.h"
#include "solver/milp.h"
#include "transfer/plan.h"

#include <time.h>

/* $ per VM-hour -> $ per GB at 1 Gbps: 8 Gbit per GB, 3600 s per hour. */
#define VM_COST_SCALE (8.0 / 3600.0)
/* A vanishing cost per Gbps of flow so that no zero-price cycle survives. */
#define FLOW_EPS 1e-8
#define ZERO 1e-7

void transfer_plan_init(struct transfer_plan *p)
{
    memset(p, 0, sizeof(*p));
}

void transfer_plan_release(struct transfer_plan *p)
{
    free(p->gateways);
    free(p->edges);
    transfer_plan_init(p);
}

struct model {
    struct milp m;
    size_t ne;
    uint32_t *ea, *eb; /* edge endpoints */
    int *fvar, *cvar;  /* per edge */
    int *nvar;         /* per region, -1 when not in the model */
    int tvar;          /* throughput variable, -1 when fixed */
};

static void model_release(struct model *md)
{
    milp_release(&md->m);
    free(md->ea);
    free(md->eb);
    free(md->fvar);
    free(md->cvar);
    free(md->nvar);
    memset(md, 0, sizeof(*md));
}

static int conns_per_vm(const struct transfer_request *req)
{
    return req->conns_per_vm > 0 ? req->conns_per_vm : 64;
}

static bool edge_usable(const struct transfer_grid *g,
                        const struct transfer_request *req, size_t i,
                        size_t j)
{
    if (i == j || i == req->dst || j == req->src)
        return false;
    if (req->direct_only && (i != req->src || j != req->dst))
        return false;
    double gb = g->gbps[i * g->n + j], pr = g->price[i * g->n + j];
    return !isnan(gb) && gb > 0 && !isnan(pr);
}

/*
 * What to build. tput > 0: fixed throughput, minimise cost. tput <= 0:
 * throughput is a variable, maximised; budget >= 0 adds cost <= budget * T.
 * int_conns: integer connections per edge (else c = C f / g, continuous);
 * int_near: integer connections on the edges between two regions of
 * int_near[], out of the source and into the destination.
 * only: regions in the model (NULL = all).
 */
struct build {
    double tput, budget;
    bool int_conns;
    const bool *int_near;
    const bool *only;
    /*
     * outside: regions whose VM counts are continuous, with a row saying
     * they hold one VM or more in all (NULL = none, no row).
     */
    const bool *outside;
    bool outside_int; /* outside VM counts stay integer */
    /*
     * sweep (tput <= 0 only): T in [tlo, thi], objective cost - slope * T
     * (egress at the grid's prices, no FLOW_EPS, plus VMs): the Pareto
     * curve's verification problem.
     */
    bool sweep;
    double tlo, thi, slope;
};

static void model_build(struct model *md, const struct transfer_grid *g,
                        const struct transfer_request *req,
                        const struct build *bo)
{
    double tput = bo->tput, budget = bo->budget;
    bool int_conns = bo->int_conns;
    size_t n = g->n;
    int C = conns_per_vm(req);
    memset(md, 0, sizeof(*md));
    milp_init(&md->m);
    md->nvar = xcalloc(n, sizeof(*md->nvar));
    md->ea = xcalloc(n * n, sizeof(*md->ea));
    md->eb = xcalloc(n * n, sizeof(*md->eb));
    md->fvar = xcalloc(n * n, sizeof(*md->fvar));
    md->cvar = xcalloc(n * n, sizeof(*md->cvar));
    bool fixed = tput > 0;
    for (size_t i = 0; i < n; i++) {
        bool in = (!req->direct_only && (!bo->only || bo->only[i])) ||
                  i == req->src || i == req->dst;
        bool out = in && bo->outside && bo->outside[i];
        md->nvar[i] =
            in ? milp_add_var(&md->m, 0, req->max_vms,
                              fixed || bo->sweep
                                  ? VM_COST_SCALE * req->vm_price_h[i]
                                  : 0,
                              !out || bo->outside_int)
               : -1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (!edge_usable(g, req, i, j) || md->nvar[i] < 0 ||
                md->nvar[j] < 0)
                continue;
            size_t e = md->ne++;
            md->ea[e] = (uint32_t)i;
            md->eb[e] = (uint32_t)j;
            double pr = g->price[i * n + j];
            md->fvar[e] = milp_add_var(&md->m, 0, INFINITY,
                                       fixed       ? pr + FLOW_EPS
                                       : bo->sweep ? pr
                                                   : 0,
                                       false);
            md->cvar[e] = -1;
            if (!int_conns &&
                !(bo->int_near &&
                  ((bo->int_near[i] && bo->int_near[j]) ||
                   i == req->src || j == req->dst)))
                continue;
            md->cvar[e] = milp_add_var(&md->m, 0, (double)C * req->max_vms,
                                       0, true);
            int cols[2] = {md->fvar[e], md->cvar[e]};
            double v[2] = {1, -g->gbps[i * n + j] / C};
            milp_add_row(&md->m, 2, cols, v, -INFINITY, 0);
        }
    md->tvar = fixed       ? -1
               : bo->sweep ? milp_add_var(&md->m, bo->tlo, bo->thi,
                                          -bo->slope, false)
                           : milp_add_var(&md->m, 0, INFINITY, -1, false);

    /* per-region rows: connection, NIC and conservation */
    size_t cap = md->ne + n + 2;
    int *cols = xcalloc(cap, sizeof(*cols));
    double *vals = xcalloc(cap, sizeof(*vals));
    for (size_t i = 0; i < n; i++) {
        if (md->nvar[i] < 0)
            continue;
        for (int pass = 0; pass < 4; pass++) {
            /* 0: out conns, 1: in conns, 2: out flow, 3: in flow */
            size_t k = 0;
            bool out = pass == 0 || pass == 2, conn = pass < 2;
            for (size_t e = 0; e < md->ne; e++)
                if ((out ? md->ea[e] : md->eb[e]) == i) {
                    /* relaxed: c = C f / g, continuous */
                    bool relaxed = conn && md->cvar[e] < 0;
                    cols[k] = conn && !relaxed ? md->cvar[e] : md->fvar[e];
                    vals[k++] = relaxed ? C / g->gbps[(size_t)md->ea[e] * n +
                                                      md->eb[e]]
                                        : 1;
                }
            if (!k)
                continue;
            enum transfer_cloud c = g->cloud[i];
            cols[k] = md->nvar[i];
            vals[k++] = conn ? -(double)C
                        : out ? -transfer_egress_cap(c)
                              : -transfer_ingress_cap(c);
            milp_add_row(&md->m, k, cols, vals, -INFINITY, 0);
        }
        /* conservation: in - out = -T at src, +T at dst, 0 elsewhere */
        size_t k = 0;
        for (size_t e = 0; e < md->ne; e++) {
            if (md->eb[e] == i) {
                cols[k] = md->fvar[e];
                vals[k++] = 1;
            } else if (md->ea[e] == i) {
                cols[k] = md->fvar[e];
                vals[k++] = -1;
            }
        }
        double rhs = 0;
        bool ends = i == req->src || i == req->dst;
        double sign = i == req->src ? 1 : -1; /* in - out + sign*T = 0 */
        if (ends && !fixed) {
            cols[k] = md->tvar;
            vals[k++] = sign;
        } else if (ends) {
            rhs = -sign * tput;
        }
        if (k)
            milp_add_row(&md->m, k, cols, vals, rhs, rhs);
        else if (ends && fixed)
            milp_add_row(&md->m, 1, &md->nvar[i], (double[]){0}, rhs, rhs);
    }
    if (bo->outside) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (md->nvar[i] >= 0 && bo->outside[i]) {
                cols[k] = md->nvar[i];
                vals[k++] = 1;
            }
        if (k)
            milp_add_row(&md->m, k, cols, vals, 1, INFINITY);
    }
    if (!fixed && budget >= 0) {
        /* sum price f + k sum p n - B T <= 0 */
        size_t k = 0;
        int *bc = xcalloc(md->ne + n + 1, sizeof(*bc));
        double *bv = xcalloc(md->ne + n + 1, sizeof(*bv));
        for (size_t e = 0; e < md->ne; e++) {
            bc[k] = md->fvar[e];
            bv[k++] = g->price[(size_t)md->ea[e] * n + md->eb[e]];
        }
        for (size_t i = 0; i < n; i++)
            if (md->nvar[i] >= 0) {
                bc[k] = md->nvar[i];
                bv[k++] = VM_COST_SCALE * req->vm_price_h[i];
            }
        bc[k] = md->tvar;
        bv[k++] = -budget;
        milp_add_row(&md->m, k, bc, bv, -INFINITY, 0);
        free(bc);
        free(bv);
    }
    free(cols);
    free(vals);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Solve a model, accounting time and nodes in plan; solutions no better
 * than cutoff (when finite) are not looked for. */
static enum skyc_err model_solve_cut(struct model *md,
                                     const struct transfer_request *req,
                                     struct transfer_plan *plan,
                                     struct milp_result *res, double cutoff,
                                     struct skyc_error *err)
{
    /*
     * These models are a few thousand flow columns over a few hundred rows
     * with few integers: CBC's presolve, preprocessing, cuts, heuristics and
     * idiot crash cost 4-5x the solve itself here (measured).
     */
    static const char *const fast[] = {
        "presolve", "off", "preprocess", "off", "cuts", "off",
        "heuristicsOnOff", "off", "idiot", "0", NULL};
    const char *opts[16];
    size_t no = 0;
    for (; fast[no]; no++)
        opts[no] = fast[no];
    char cut[64];
    if (isfinite(cutoff)) {
        snprintf(cut, sizeof(cut), "%.17g", cutoff);
        opts[no++] = "cutoff";
        opts[no++] = cut;
    }
    opts[no] = NULL;
    struct milp_params p = {.time_limit_s = req->time_limit_s,
                            .rel_gap = 1e-9, .abs_gap = 1e-10,
                            .cbc_options = req->reference ? NULL : opts};
    double t0 = clock_mono_s(), c0 = cpu_s();
    enum skyc_err rc = milp_solve(&md->m, &p, res, err);
    plan->solve_s += clock_mono_s() - t0;
    if (getenv("SKYC_TRANSFER_DEBUG"))
        fprintf(stderr,
                "transfer: milp %zu vars %zu rows: status %d objective %.9g "
                "bound %.9g, %.3f s (CPU %.3f s), %ld nodes\n",
                md->m.nvars, md->m.nrows, (int)res->status, res->objective,
                res->best_bound, clock_mono_s() - t0, cpu_s() - c0, res->nodes);
    plan->nodes += res->nodes;
    plan->solves++;
    return rc;
}

static enum skyc_err model_solve(struct model *md,
                                 const struct transfer_request *req,
                                 struct transfer_plan *plan,
                                 struct milp_result *res,
                                 struct skyc_error *err)
{
    return model_solve_cut(md, req, plan, res, INFINITY, err);
}

/*
 * Turn a solution into the plan: edges with flow, the fewest integer
 * connections that carry it, the fewest VMs that carry those, and costs
 * recomputed from the grid.
 */
static void extract(const struct model *md, const struct transfer_grid *g,
                    const struct transfer_request *req, const double *x,
                    struct transfer_plan *plan)
{
    size_t n = g->n;
    int C = conns_per_vm(req);
    double *fout = xcalloc(n, sizeof(*fout)), *fin = xcalloc(n, sizeof(*fin));
    long *cout_ = xcalloc(n, sizeof(*cout_)), *cin = xcalloc(n, sizeof(*cin));
    free(plan->edges);
    free(plan->gateways);
    plan->edges = xcalloc(md->ne + 1, sizeof(*plan->edges));
    plan->nedges = 0;
    double egress = 0;
    for (size_t e = 0; e < md->ne; e++) {
        double f = x[md->fvar[e]];
        if (f <= ZERO)
            continue;
        uint32_t a = md->ea[e], b = md->eb[e];
        double gb = g->gbps[(size_t)a * n + b];
        int c = (int)ceil(C * f / gb - 1e-6);
        if (c < 1)
            c = 1;
        if (md->cvar[e] >= 0) {
            int solver_c = (int)llround(x[md->cvar[e]]);
            if (c > solver_c && solver_c >= 1)
                c = solver_c;
        }
        struct transfer_edge *te = &plan->edges[plan->nedges++];
        te->from = a;
        te->to = b;
        te->gbps = f;
        te->conns = c;
        te->grid_gbps = gb;
        te->price_per_gb = g->price[(size_t)a * n + b];
        egress += f * te->price_per_gb;
        fout[a] += f;
        fin[b] += f;
        cout_[a] += c;
        cin[b] += c;
    }
    plan->gateways = xcalloc(n + 1, sizeof(*plan->gateways));
    plan->ngateways = 0;
    plan->vms = 0;
    plan->vm_cost_per_h = 0;
    for (size_t i = 0; i < n; i++) {
        bool end = i == req->src || i == req->dst;
        if (!end && fout[i] <= ZERO && fin[i] <= ZERO)
            continue;
        enum transfer_cloud c = g->cloud[i];
        double need = SKYC_MAX(fout[i] / transfer_egress_cap(c),
                               fin[i] / transfer_ingress_cap(c));
        need = SKYC_MAX(need, (double)SKYC_MAX(cout_[i], cin[i]) / C);
        int vms = (int)ceil(need - 1e-6);
        int solver_n = md->nvar[i] >= 0 ? (int)llround(x[md->nvar[i]]) : 0;
        if (vms > solver_n)
            vms = solver_n; /* never above what the solver proved feasible */
        if (vms < 1)
            vms = 1;
        struct transfer_gateway *gw = &plan->gateways[plan->ngateways++];
        gw->region = (uint32_t)i;
        gw->vms = vms;
        gw->vm_price_h = req->vm_price_h[i];
        gw->relay = !end;
        plan->vms += vms;
        plan->vm_cost_per_h += vms * req->vm_price_h[i];
    }
    /* source first, then relays in grid order, destination last */
    struct transfer_gateway *gw = plan->gateways;
    for (size_t k = 0; k < plan->ngateways; k++)
        if (gw[k].region == req->src && k) {
            struct transfer_gateway t = gw[k];
            memmove(gw + 1, gw, k * sizeof(*gw));
            gw[0] = t;
        }
    for (size_t k = 0; k + 1 < plan->ngateways; k++)
        if (gw[k].region == req->dst) {
            struct transfer_gateway t = gw[k];
            memmove(gw + k, gw + k + 1,
                    (plan->ngateways - k - 1) * sizeof(*gw));
            gw[plan->ngateways - 1] = t;
            break;
        }
    double t = fin[req->dst];
    plan->tput_gbps = t;
    plan->egress_per_gb = t > 0 ? egress / t : 0;
    plan->vm_per_gb = t > 0 ? VM_COST_SCALE * plan->vm_cost_per_h / t : 0;
    plan->cost_per_gb = plan->egress_per_gb + plan->vm_per_gb;
    free(fout);
    free(fin);
    free(cout_);
    free(cin);
}

/*
 * Whether a solution of the model with continuous connections stays
 * feasible when every edge gets the integer ceil(C f / g) connections: then
 * it is optimal for the integer model too (whose feasible set is smaller).
 */
static bool conns_fit(const struct model *md, const struct transfer_grid *g,
                      const struct transfer_request *req, const double *x)
{
    size_t n = g->n;
    int C = conns_per_vm(req);
    long *out = xcalloc(n, sizeof(*out)), *in = xcalloc(n, sizeof(*in));
    bool ok = true;
    for (size_t e = 0; e < md->ne; e++) {
        double f = x[md->fvar[e]];
        if (f <= ZERO)
            continue;
        long c = (long)ceil(C * f / g->gbps[(size_t)md->ea[e] * n +
                                            md->eb[e]] - 1e-6);
        out[md->ea[e]] += c < 1 ? 1 : c;
        in[md->eb[e]] += c < 1 ? 1 : c;
    }
    for (size_t i = 0; i < n && ok; i++) {
        long cap = md->nvar[i] >= 0 ? C * llround(x[md->nvar[i]]) : 0;
        ok = out[i] <= cap && in[i] <= cap;
    }
    free(out);
    free(in);
    return ok;
}

/* Regions with a flow in solution x of md, into mask (VMs without flow
 * are free to be anywhere when the goal is throughput). */
static size_t mark_support(const struct model *md, const struct transfer_grid *g,
                           const double *x, bool *mask)
{
    size_t added = 0;
    for (size_t e = 0; e < md->ne; e++)
        if (x[md->fvar[e]] > ZERO)
            for (int end = 0; end < 2; end++) {
                uint32_t r = end ? md->eb[e] : md->ea[e];
                if (!mask[r]) {
                    mask[r] = true;
                    added++;
                }
            }
    return added;
}

/*
 * Add the k relays with the fastest two-hop path src -> r -> dst (the
 * slower hop), cheaper egress first on ties: where integer connections
 * usually find their best use. Only a starting set; exactness does not
 * depend on it.
 */
static void add_fast_relays(const struct transfer_grid *g,
                            const struct transfer_request *req, bool *mask,
                            int k)
{
    size_t n = g->n;
    for (int round = 0; round < k; round++) {
        int best = -1;
        double bg = 0, bp = 0;
        for (size_t r = 0; r < n; r++) {
            if (mask[r] || !edge_usable(g, req, req->src, r) ||
                !edge_usable(g, req, r, req->dst))
                continue;
            double gr = SKYC_MIN(g->gbps[req->src * n + r],
                                 g->gbps[r * n + req->dst]);
            double pr = g->price[req->src * n + r] + g->price[r * n + req->dst];
            if (best < 0 || gr > bg + 1e-9 || (fabs(gr - bg) <= 1e-9 && pr < bp)) {
                best = (int)r;
                bg = gr;
                bp = pr;
            }
        }
        if (best < 0)
            return;
        mask[best] = true;
    }
}

static bool has_solution(const struct milp_result *res)
{
    return res->x &&
           (res->status == MILP_OPTIMAL || res->status == MILP_FEASIBLE);
}

/* Start model to from solution x of model from (same grid). */
static void set_start(struct model *to, const struct model *from,
                      const double *x, size_t n)
{
    int *at = xcalloc(n * n, sizeof(*at));
    for (size_t e = 0; e < from->ne; e++)
        at[(size_t)from->ea[e] * n + from->eb[e]] = (int)e + 1;
    double *start = xcalloc(to->m.nvars, sizeof(*start));
    for (size_t i = 0; i < n; i++)
        if (to->nvar[i] >= 0 && from->nvar[i] >= 0)
            start[to->nvar[i]] = x[from->nvar[i]];
    for (size_t e = 0; e < to->ne; e++) {
        int k = at[(size_t)to->ea[e] * n + to->eb[e]] - 1;
        if (k < 0)
            continue;
        start[to->fvar[e]] = x[from->fvar[k]];
        if (to->cvar[e] >= 0 && from->cvar[k] >= 0)
            start[to->cvar[e]] = x[from->cvar[k]];
    }
    if (to->tvar >= 0 && from->tvar >= 0)
        start[to->tvar] = x[from->tvar];
    milp_set_start(&to->m, start);
    free(start);
    free(at);
}

static void take(struct model *md, struct milp_result *res, struct model *m2,
                 struct milp_result *r2)
{
    milp_result_release(res);
    model_release(md);
    *md = *m2;
    *res = *r2;
    memset(m2, 0, sizeof(*m2));
    memset(r2, 0, sizeof(*r2));
}

static bool meets(double obj, double bound)
{
    return obj <= bound + 1e-9 * SKYC_MAX(1, fabs(bound));
}

/*
 * Solve exactly, fast. Both goals are minimisations (cost, or -T).
 *  1. The whole model with continuous connections (Skyplane's model): a
 *     lower bound Z_R, and the answer when the integer rounding of its
 *     connections fits.
 *  2. Else a region set S (the relaxed solution's regions and the fastest
 *     two-hop relays) and, until settled:
 *     a. the integer model on S: a plan, Z_S; settled when Z_S meets Z_R;
 *     b. the whole model with integer connections on the edges within S,
 *        out of the source and into the destination, and continuous ones
 *        elsewhere: a relaxation of the integer model,
 *        Z_L <= optimum. Settled when Z_L meets Z_S (S's plan is optimal),
 *        or when Z_L's own connections round to integers that fit (its plan
 *        is feasible, hence optimal). Else S grows by Z_L's regions.
 *  3. After 8 rounds, the whole integer model started from the best plan.
 * On return md and res hold the model and solution to read the plan from.
 */
static enum skyc_err solve_rounds(struct model *md,
                                  const struct transfer_grid *g,
                                  const struct transfer_request *req,
                                  double tput, double budget,
                                  struct transfer_plan *plan,
                                  struct milp_result *res, double *relaxed,
                                  struct skyc_error *err)
{
    size_t n = g->n;
    struct build bo = {.tput = tput, .budget = budget};
    model_build(md, g, req, &bo);
    enum skyc_err rc = model_solve(md, req, plan, res, err);
    *relaxed = !rc && has_solution(res) ? res->objective : NAN;
    if (rc || !has_solution(res) || conns_fit(md, g, req, res->x))
        return rc;
    bool proven = res->status == MILP_OPTIMAL;
    double bound = proven ? res->objective : res->best_bound;
    bool *mask = xcalloc(n, sizeof(*mask));
    mask[req->src] = mask[req->dst] = true;
    mark_support(md, g, res->x, mask);
    add_fast_relays(g, req, mask, 6);
    milp_result_release(res);
    model_release(md);
    struct model m2;
    struct milp_result r2 = {0};
    memset(&m2, 0, sizeof(m2));
    for (int round = 0; round < 8; round++) {
        struct build in = {.tput = tput, .budget = budget, .int_conns = true,
                           .only = mask};
        model_build(md, g, req, &in);
        if ((rc = model_solve(md, req, plan, res, err)))
            goto out;
        if (has_solution(res) && res->status == MILP_OPTIMAL &&
            meets(res->objective, bound))
            goto out; /* meets the lower bound of the whole model */
        struct build lb = {.tput = tput, .budget = budget, .int_near = mask};
        model_build(&m2, g, req, &lb);
        if (has_solution(res))
            set_start(&m2, md, res->x, n);
        if ((rc = model_solve(&m2, req, plan, &r2, err)))
            goto out;
        bool lb_proven = r2.status == MILP_OPTIMAL ||
                         r2.status == MILP_INFEASIBLE;
        if (!has_solution(&r2)) {
            /* the relaxation is infeasible: so is every integer plan */
            if (r2.status == MILP_INFEASIBLE)
                res->status = MILP_INFEASIBLE;
            goto out;
        }
        double lb_value = r2.status == MILP_OPTIMAL ? r2.objective
                                                    : r2.best_bound;
        if (has_solution(res) && meets(res->objective, lb_value)) {
            if (!(proven && lb_proven && res->status == MILP_OPTIMAL))
                res->status = MILP_FEASIBLE;
            res->best_bound = lb_value;
            goto out;
        }
        if (conns_fit(&m2, g, req, r2.x)) {
            if (!(proven && lb_proven))
                r2.status = MILP_FEASIBLE;
            take(md, res, &m2, &r2);
            goto out;
        }
        mark_support(&m2, g, r2.x, mask);
        milp_result_release(&r2);
        model_release(&m2);
        milp_result_release(res);
        model_release(md);
    }
    /* did not settle: the whole integer model */
    bo.int_conns = true;
    model_build(md, g, req, &bo);
    rc = model_solve(md, req, plan, res, err);
out:
    milp_result_release(&r2);
    model_release(&m2);
    free(mask);
    return rc;
}


/*
 * The reference: Skyplane's MILP as written -- one model over every region,
 * handed whole to CBC with its default settings -- with the connections
 * declared integer (the problem this planner solves). Skyplane's own model
 * (continuous connections) beside it in fixed-throughput mode.
 */
static enum skyc_err solve_reference(struct model *md,
                                     const struct transfer_grid *g,
                                     const struct transfer_request *req,
                                     double tput, double budget,
                                     struct transfer_plan *plan,
                                     struct milp_result *res, double *relaxed,
                                     struct skyc_error *err)
{
    struct model m2;
    struct milp_result r2 = {0};
    memset(&m2, 0, sizeof(m2));
    *relaxed = NAN;
    struct build bo = {.tput = tput, .budget = budget, .int_conns = true};
    model_build(md, g, req, &bo);
    enum skyc_err rc = model_solve(md, req, plan, res, err);
    if (rc || tput <= 0)
        goto out;
    struct build bz = {.tput = tput, .budget = budget};
    model_build(&m2, g, req, &bz);
    if ((rc = model_solve(&m2, req, plan, &r2, err)))
        goto out;
    if (has_solution(&r2))
        *relaxed = r2.status == MILP_OPTIMAL ? r2.objective : r2.best_bound;
out:
    milp_result_release(&r2);
    model_release(&m2);
    return rc;
}

/*
 * The fewest VMs any plan needs at the source and the destination: they
 * send and receive all tput, at most a NIC cap per VM, and at least one each
 * for a plan that moves anything. Valid for every plan at throughput >=
 * tput, so adding them as lower bounds cuts no plan off. 0 when even
 * max_vms cannot carry tput.
 */
static int end_vms(const struct transfer_grid *g,
                   const struct transfer_request *req, uint32_t r,
                   double tput)
{
    double cap = r == req->src ? transfer_egress_cap(g->cloud[r])
                               : transfer_ingress_cap(g->cloud[r]);
    double need = ceil(tput / cap - 1e-9);
    if (need < 1)
        need = 1;
    return need > req->max_vms ? 0 : (int)need;
}

static bool set_end_bounds(struct model *md, const struct transfer_grid *g,
                           const struct transfer_request *req, double tput)
{
    for (int k = 0; k < 2; k++) {
        uint32_t r = k ? req->dst : req->src;
        int need = end_vms(g, req, r, tput);
        if (!need)
            return false;
        md->m.lb[md->nvar[r]] = need;
    }
    return true;
}

/*
 * Exact pruning of relay regions. M is the whole integer model (integer
 * connections on every edge, integer VMs), Z* its optimum; the objective is
 * any of the planner's (cost at a fixed throughput, or -T with or without
 * the budget row).
 *
 *  1. L, M's LP relaxation (connections and VMs continuous, with the valid
 *     end bounds of end_vms()), solved by Clp: z_L <= Z*. Connections cost
 *     nothing and only fill capacity rows, so c = C f / g is as good as any
 *     continuous value and L is built with them substituted out (a third
 *     of the rows and half the columns). A region set S:
 *     source, destination, every region L's optimum sends flow through, and
 *     the 3 fastest two-hop relays.
 *  2. M restricted to S, solved by CBC: a plan of objective U >= Z*.
 *     Settled when U meets z_L.
 *  3. The leave-S bound. Every integer plan is either inside S (then it is
 *     no better than U, by step 2) or has a VM in some region outside S
 *     (flow on an edge is at most its grid rate times the VMs at either
 *     end, so any flow through a region needs one there). Let G be M with
 *       - the row  sum_{r outside S} n_r >= 1,
 *       - integer connections kept only on edges within S, out of the
 *         source and into the destination (continuous elsewhere),
 *       - the same end bounds, VMs integer everywhere.
 *     Every plan of the second kind is feasible for G with the same
 *     objective, so it is no better than z_G. CBC solves G with cutoff
 *     U - tol (tol = 1e-9 relative, CBC's own optimality gap here): when it
 *     finds nothing below the cutoff, no plan beats U by more than tol, and
 *     U is M's optimum (proved as far as CBC proved step 2; ties -- another
 *     relay as good as S's -- are fine). Else S grows by the regions G's
 *     plan uses and steps 2-3 repeat (4 rounds, then the caller's general
 *     path). Nothing here needs prices: pure maximum throughput works too.
 * Skyplane's own model (fractional connections), reported beside the plan
 * at a fixed throughput, gets the same treatment with its own continuous
 * connections: solved on S, then its leave-S bound, then (if that does not
 * settle it) whole.
 */
static enum skyc_err solve_pruned(struct model *md,
                                  const struct transfer_grid *g,
                                  const struct transfer_request *req,
                                  const struct build *proto,
                                  struct transfer_plan *plan,
                                  struct milp_result *res, double *relaxed,
                                  bool *done, struct skyc_error *err)
{
    size_t n = g->n;
    struct model full, m2;
    struct milp_result r2 = {0};
    struct lp *lp = NULL;
    bool *mask = xcalloc(n, sizeof(*mask));
    bool *gift = xcalloc(n, sizeof(*gift));
    enum skyc_err rc = SKYC_OK;
    double tput = proto->tput;
    double zl = 0, t0 = clock_mono_s();
    double tend = tput > 0 ? tput : proto->sweep ? proto->tlo : 0;
    int rounds = 0;
    *done = false;
    *relaxed = NAN;
    memset(md, 0, sizeof(*md));
    memset(&m2, 0, sizeof(m2));
    memset(res, 0, sizeof(*res));
    struct build bf = *proto; /* continuous connections: c = C f / g */
    bf.int_conns = false;
    model_build(&full, g, req, &bf);
    if (!set_end_bounds(&full, g, req, tend)) {
        res->status = MILP_INFEASIBLE;
        *done = true;
        goto out;
    }
    double tl = clock_mono_s(), cl = cpu_s();
    /*
     * Maximum throughput leaves the LP highly degenerate (flows cost
     * nothing, any of many vertices is optimal): it is solved with egress
     * at a millionth of its price, so that its flows, hence S, take cheap
     * paths. That LP's optimum is no bound on -T; the bound used instead is
     * the NIC caps at the ends, T <= min(egress cap at src, ingress cap at
     * dst) * max_vms, valid for every plan (the budget only lowers T).
     */
    bool flat = tput <= 0 && !proto->sweep;
    double *obj = NULL;
    if (flat) {
        obj = xcalloc(full.m.nvars, sizeof(*obj));
        memcpy(obj, full.m.obj, full.m.nvars * sizeof(*obj));
        for (size_t e = 0; e < full.ne; e++)
            full.m.obj[full.fvar[e]] +=
                1e-6 * (g->price[(size_t)full.ea[e] * n + full.eb[e]] +
                        FLOW_EPS);
    }
    lp = lp_load(&full.m);
    enum milp_status st = lp_solve(lp, &zl);
    if (flat) {
        memcpy(full.m.obj, obj, full.m.nvars * sizeof(*obj));
        free(obj);
        if (st == MILP_OPTIMAL)
            mark_support(&full, g, lp_x(lp), mask);
        zl = -req->max_vms *
             SKYC_MIN(transfer_egress_cap(g->cloud[req->src]),
                      transfer_ingress_cap(g->cloud[req->dst]));
    }
    plan->solves++;
    plan->solve_s += clock_mono_s() - tl;
    if (getenv("SKYC_TRANSFER_DEBUG"))
        fprintf(stderr,
                "transfer: lp %zu vars %zu rows: status %d objective %.9g, "
                "%.3f s (CPU %.3f s)\n",
                full.m.nvars, full.m.nrows, (int)st, zl, clock_mono_s() - tl,
                cpu_s() - cl);
    if (st == MILP_INFEASIBLE) {
        res->status = MILP_INFEASIBLE; /* a relaxation: so is M */
        *done = true;
        goto out;
    }
    if (st != MILP_OPTIMAL)
        goto out;
    mask[req->src] = mask[req->dst] = true;
    if (!flat)
        mark_support(&full, g, lp_x(lp), mask);
    add_fast_relays(g, req, mask, 3);

    struct build bs = *proto;
    bs.int_conns = true;
    bs.only = mask;
    model_build(md, g, req, &bs);
    set_end_bounds(md, g, req, tend);
    if ((rc = model_solve(md, req, plan, res, err)))
        goto out;
    if (!has_solution(res))
        goto out;
    bool settled = res->status == MILP_OPTIMAL && meets(res->objective, zl);
    for (; !settled && rounds < 4; rounds++) {
        double ub = res->objective;
        bool any = false;
        for (size_t r = 0; r < n; r++) {
            gift[r] = !mask[r] && full.nvar[r] >= 0;
            any = any || gift[r];
        }
        if (!any) { /* S is every region: M itself */
            settled = true;
            break;
        }
        /* CBC's gap, plus FLOW_EPS's tie-breaking (<= 2 eps per Gbps) */
        double tol = 1e-9 * SKYC_MAX(1, fabs(ub)) + 2 * FLOW_EPS * tend;
        struct build bg = *proto;
        bg.int_near = mask;
        bg.outside = gift;
        bg.outside_int = true;
        model_build(&m2, g, req, &bg);
        set_end_bounds(&m2, g, req, tend);
        if ((rc = model_solve_cut(&m2, req, plan, &r2, ub - tol, err)))
            goto out;
        double zg = r2.status == MILP_OPTIMAL ? r2.objective
                    : r2.status == MILP_INFEASIBLE ? INFINITY
                                                   : r2.best_bound;
        if (r2.status == MILP_FAILED)
            zg = -INFINITY;
        if (zg >= ub - tol) {
            settled = true;
            break;
        }
        if (!has_solution(&r2) || !mark_support(&m2, g, r2.x, mask))
            goto out; /* nothing to add: the general path */
        milp_result_release(&r2);
        model_release(&m2);
        struct build bk = *proto;
        bk.int_conns = true;
        bk.only = mask;
        model_build(&m2, g, req, &bk);
        set_end_bounds(&m2, g, req, tend);
        set_start(&m2, md, res->x, n);
        if ((rc = model_solve(&m2, req, plan, &r2, err)))
            goto out;
        if (!has_solution(&r2))
            goto out;
        take(md, res, &m2, &r2);
    }
    if (!settled)
        goto out;
    milp_result_release(&r2);
    model_release(&m2);
    if (tput > 0) {
        /*
         * Skyplane's model (continuous connections) on S, then the same
         * leave-S bound with its own continuous connections; the whole
         * model only when that bound does not settle it.
         */
        struct build bz = {.tput = tput, .only = mask};
        model_build(&m2, g, req, &bz);
        set_end_bounds(&m2, g, req, tput);
        if ((rc = model_solve(&m2, req, plan, &r2, err)))
            goto out;
        double zs = has_solution(&r2) && r2.status == MILP_OPTIMAL
                        ? r2.objective
                        : NAN;
        milp_result_release(&r2);
        model_release(&m2);
        bool any = false;
        for (size_t r = 0; r < n; r++) {
            gift[r] = !mask[r] && full.nvar[r] >= 0;
            any = any || gift[r];
        }
        if (!isnan(zs) && any) {
            struct build bg = {.tput = tput, .outside = gift,
                               .outside_int = true};
            model_build(&m2, g, req, &bg);
            set_end_bounds(&m2, g, req, tput);
            /* a reported figure: 1e-7 relative, above FLOW_EPS's noise */
            double tol = 1e-7 * SKYC_MAX(1, fabs(zs));
            if ((rc = model_solve_cut(&m2, req, plan, &r2, zs - tol, err)))
                goto out;
            if (!(r2.status == MILP_INFEASIBLE ||
                  (has_solution(&r2) && r2.objective >= zs - tol)))
                zs = NAN;
            milp_result_release(&r2);
            model_release(&m2);
        }
        if (isnan(zs)) {
            struct build bw = {.tput = tput};
            model_build(&m2, g, req, &bw);
            set_end_bounds(&m2, g, req, tput);
            if ((rc = model_solve(&m2, req, plan, &r2, err)))
                goto out;
            if (has_solution(&r2))
                zs = r2.status == MILP_OPTIMAL ? r2.objective
                                               : r2.best_bound;
        }
        *relaxed = zs;
    }
    *done = true;
    if (getenv("SKYC_TRANSFER_DEBUG")) {
        size_t ns = 0;
        for (size_t r = 0; r < n; r++)
            ns += mask[r];
        fprintf(stderr,
                "transfer: pruned: LP %.9g, plan %.9g, %d gift rounds, %zu "
                "regions, %.3f s\n",
                zl, res->objective, rounds, ns, clock_mono_s() - t0);
    }
out:
    if (!*done) {
        milp_result_release(res);
        model_release(md);
    } else if (!md->m.nvars) {
        /* infeasible before any restricted model: hand back the whole one */
        *md = full;
        memset(&full, 0, sizeof(full));
    }
    lp_free(lp);
    milp_result_release(&r2);
    model_release(&m2);
    model_release(&full);
    free(mask);
    free(gift);
    return rc;
}

static enum skyc_err solve_built(struct model *md,
                                 const struct transfer_grid *g,
                                 const struct transfer_request *req,
                                 const struct build *proto,
                                 struct transfer_plan *plan,
                                 struct milp_result *res, double *relaxed,
                                 struct skyc_error *err)
{
    bool done = false;
    enum skyc_err rc = SKYC_OK;
    /* SKYC_TRANSFER_NO_PRUNE: the older rounds only (for comparisons) */
    if (!req->reference && !getenv("SKYC_TRANSFER_NO_PRUNE")) {
        rc = solve_pruned(md, g, req, proto, plan, res, relaxed, &done, err);
        if (rc || done)
            return rc;
    }
    if (proto->sweep) { /* the whole integer model */
        struct build bw = *proto;
        bw.int_conns = true;
        *relaxed = NAN;
        model_build(md, g, req, &bw);
        return model_solve(md, req, plan, res, err);
    }
    if (req->reference)
        return solve_reference(md, g, req, proto->tput, proto->budget, plan,
                               res, relaxed, err);
    return solve_rounds(md, g, req, proto->tput, proto->budget, plan, res,
                        relaxed, err);
}

static enum skyc_err solve_model(struct model *md,
                                 const struct transfer_grid *g,
                                 const struct transfer_request *req,
                                 double tput, double budget,
                                 struct transfer_plan *plan,
                                 struct milp_result *res, double *relaxed,
                                 struct skyc_error *err)
{
    struct build proto = {.tput = tput, .budget = budget};
    return solve_built(md, g, req, &proto, plan, res, relaxed, err);
}

/* How far a solution may be from the optimum, relative. */
static double rel_gap(const struct milp_result *res)
{
    double d = res->objective - res->best_bound;
    return d > 0 ? d / SKYC_MAX(1e-12, fabs(res->objective)) : 0;
}

/* Min cost at throughput t. SKYC_E_INFEASIBLE when t cannot be reached. */
static enum skyc_err solve_min_cost(const struct transfer_grid *g,
                                    const struct transfer_request *req,
                                    double t, struct transfer_plan *plan,
                                    struct skyc_error *err)
{
    struct model md;
    struct milp_result res = {0};
    double relaxed;
    enum skyc_err rc =
        solve_model(&md, g, req, t, -1, plan, &res, &relaxed, err);
    if (rc)
        goto out;
    if (res.status == MILP_INFEASIBLE || res.status == MILP_FAILED) {
        rc = SKYC_E_INFEASIBLE;
        goto out;
    }
    extract(&md, g, req, res.x, plan);
    plan->fractional_cost_per_gb = relaxed / t;
    plan->proven_optimal = res.status == MILP_OPTIMAL;
    if (!plan->proven_optimal)
        plan->gap = SKYC_MAX(plan->gap, rel_gap(&res));
out:
    milp_result_release(&res);
    model_release(&md);
    return rc;
}

/*
 * A $/GB budget no loop-free plan without idle VMs can exceed once its
 * throughput is at least the direct path's: every GB crosses at most n-1
 * edges and pays at most the dearest VM in every region. Some plan of
 * maximum throughput is such a plan, so the row "cost <= budget * T" leaves
 * the maximum unchanged -- and CBC solves the model several times faster
 * with it (measured). -1 when the direct path carries nothing.
 */
static double slack_budget(const struct transfer_grid *g,
                           const struct transfer_request *req)
{
    size_t n = g->n;
    if (!edge_usable(g, req, req->src, req->dst))
        return -1;
    double t = g->gbps[req->src * n + req->dst];
    t = SKYC_MIN(t, transfer_egress_cap(g->cloud[req->src]));
    t = SKYC_MIN(t, transfer_ingress_cap(g->cloud[req->dst]));
    if (!(t > 0))
        return -1;
    double pmax = 0, vmax = 0;
    for (size_t i = 0; i < n * n; i++)
        if (!isnan(g->price[i]))
            pmax = SKYC_MAX(pmax, g->price[i]);
    for (size_t i = 0; i < n; i++)
        vmax = SKYC_MAX(vmax, req->vm_price_h[i]);
    return 1 + pmax * (double)n +
           VM_COST_SCALE * vmax * req->max_vms * (double)n / t;
}

/* Max throughput, optionally under a $/GB budget (budget < 0: none). */
static enum skyc_err solve_max_tput(const struct transfer_grid *g,
                                    const struct transfer_request *req,
                                    double budget, double *tmax,
                                    bool *proven, struct transfer_plan *plan,
                                    struct skyc_error *err)
{
    struct model md;
    struct milp_result res = {0};
    *tmax = 0;
    if (budget < 0)
        budget = slack_budget(g, req);
    double relaxed;
    enum skyc_err rc =
        solve_model(&md, g, req, 0, budget, plan, &res, &relaxed, err);
    if (!rc && (res.status == MILP_OPTIMAL || res.status == MILP_FEASIBLE)) {
        *tmax = res.x[md.tvar];
        *proven = res.status == MILP_OPTIMAL;
        if (!*proven)
            plan->gap = SKYC_MAX(plan->gap, rel_gap(&res));
    }
    milp_result_release(&res);
    model_release(&md);
    return rc;
}

/* The cheapest egress $/GB of any path src -> dst (a lower bound). */
static double cheapest_path(const struct transfer_grid *g,
                            const struct transfer_request *req)
{
    size_t n = g->n;
    double *d = xcalloc(n, sizeof(*d));
    for (size_t i = 0; i < n; i++)
        d[i] = INFINITY;
    d[req->src] = 0;
    for (size_t it = 0; it < n; it++) {
        bool changed = false;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                if (edge_usable(g, req, i, j) &&
                    d[i] + g->price[i * n + j] < d[j] - 1e-15) {
                    d[j] = d[i] + g->price[i * n + j];
                    changed = true;
                }
        if (!changed)
            break;
    }
    double r = d[req->dst];
    free(d);
    return r;
}

static enum skyc_err check_request(const struct transfer_grid *g,
                                   const struct transfer_request *req,
                                   struct skyc_error *err)
{
    if (req->src >= g->n || req->dst >= g->n || req->src == req->dst)
        return skyc_fail(err, SKYC_E_USAGE,
                         "source and destination must be two different "
                         "regions of the grid");
    if (req->max_vms < 1 || req->max_vms > 1000)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--max-vms %d is out of range (1..1000)",
                         req->max_vms);
    if (!req->vm_price_h)
        return skyc_fail(err, SKYC_E_INTERNAL, "no VM prices");
    if (req->goal == TRANSFER_GOAL_TPUT &&
        !(req->tput_gbps > 0 && isfinite(req->tput_gbps)))
        return skyc_fail(err, SKYC_E_USAGE,
                         "throughput goal %g Gbps must be positive",
                         req->tput_gbps);
    if (req->goal == TRANSFER_GOAL_BUDGET &&
        !(req->max_cost_per_gb >= 0 && isfinite(req->max_cost_per_gb)))
        return skyc_fail(err, SKYC_E_USAGE,
                         "budget %g $/GB must be zero or positive",
                         req->max_cost_per_gb);
    return SKYC_OK;
}

enum skyc_err transfer_plan_solve(const struct transfer_grid *g,
                                  const struct transfer_request *req,
                                  struct transfer_plan *plan,
                                  struct skyc_error *err)
{
    enum skyc_err rc;
    transfer_plan_init(plan);
    if ((rc = check_request(g, req, err)))
        return rc;
    const char *src = g->regions[req->src], *dst = g->regions[req->dst];
    if (req->goal == TRANSFER_GOAL_TPUT) {
        rc = solve_min_cost(g, req, req->tput_gbps, plan, err);
        if (rc == SKYC_E_INFEASIBLE) {
            double tmax = 0;
            bool proven = false;
            struct transfer_plan scratch;
            transfer_plan_init(&scratch);
            solve_max_tput(g, req, -1, &tmax, &proven, &scratch, NULL);
            transfer_plan_release(&scratch);
            rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                           "no plan moves %.3f Gbps from '%s' to '%s' with "
                           "at most %d VM%s per region%s; the most is %.3f "
                           "Gbps (lower --tput or raise --max-vms)",
                           req->tput_gbps, src, dst, req->max_vms,
                           req->max_vms == 1 ? "" : "s",
                           req->direct_only ? " on the direct path" : "",
                           tmax);
        }
        goto out;
    }
    double budget = req->goal == TRANSFER_GOAL_BUDGET ? req->max_cost_per_gb
                                                      : -1;
    double tmax = 0;
    bool proven = false;
    if ((rc = solve_max_tput(g, req, budget, &tmax, &proven, plan, err)))
        goto out;
    if (tmax <= 1e-6) {
        if (budget >= 0)
            rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                           "no plan from '%s' to '%s' costs at most $%.4f/GB; "
                           "egress alone costs at least $%.4f/GB on the "
                           "cheapest path (raise --max-cost)",
                           src, dst, budget, cheapest_path(g, req));
        else
            rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                           "the grid has no path from '%s' to '%s'", src,
                           dst);
        goto out;
    }
    /* cheapest plan at (just under) the best throughput */
    rc = solve_min_cost(g, req, tmax * (1 - 1e-7), plan, err);
    if (rc == SKYC_E_INFEASIBLE)
        rc = skyc_fail(err, SKYC_E_SOLVER,
                       "CBC found %.6f Gbps but no plan at that throughput",
                       tmax);
    plan->proven_optimal = plan->proven_optimal && proven;
out:
    if (rc) {
        double s = plan->solve_s;
        long nodes = plan->nodes;
        transfer_plan_release(plan);
        plan->solve_s = s;
        plan->nodes = nodes;
    }
    return rc;
}

/* ---------------------------------------------------------------------
 * The exact Pareto curve.
 *
 * C(T), the least cost rate ($/GB x Gbps: egress plus VMs) of an integer
 * plan at throughput T, is the lower envelope of finitely many functions
 * C_K, one per configuration K (integer VMs per region and connections per
 * edge): with K fixed what remains is a min-cost flow with edge and node
 * capacities, whose cost is convex piecewise linear in T up to K's maximum
 * flow (computed exactly by successive shortest paths), plus K's VM cost.
 * The curve is built by verification:
 *   U = min over the configurations found so far (initially the fastest
 *   plan's): piecewise linear, U >= C. For each linear piece
 *   U = u T + w on [a, b] one MILP, min cost - u T with T in [a, b] (the
 *   planner's exact solve, solve_built() with .sweep): when its optimum is
 *   >= w, C >= U on [a, b], so C = U there; else its plan is a
 *   configuration below U (a new one: the known ones are >= U), which
 *   joins U. Configurations are finite, so this ends, with C = U on the
 *   whole range. Where U jumps up right of a (a configuration's capacity
 *   ends at a) the piece is checked on [a + 1e-9 a, b].
 * The $/GB is F(T) = C(T) / T = u + w / T on a piece: decreasing in T when
 * w > 0 (only the right end can be nondominated), increasing when w < 0
 * (every T of the piece up to where F reaches the best $/GB at higher
 * throughput is nondominated: an arc). Sweeping from the fastest plan down
 * gives the points and arcs of the front exactly.
 */

struct config {
    double vm;        /* VM cost rate */
    double *len, *slope;
    size_t nseg;
    double tmax;
};

static void config_release(struct config *c)
{
    free(c->len);
    free(c->slope);
    memset(c, 0, sizeof(*c));
}

struct arc_ {
    int to, rev;
    double cap, cost;
};

struct flownet {
    struct arc_ *arcs;
    size_t narcs, alloc;
    int *head_next; /* per arc: next arc of the same tail */
    int *head;      /* per node: first arc */
    int *tail;
    size_t nodes;
};

static void net_add1(struct flownet *fn, int from, int to, double cap,
                     double cost)
{
    if (fn->narcs == fn->alloc) {
        fn->alloc = fn->alloc ? 2 * fn->alloc : 64;
        fn->arcs = xreallocarray(fn->arcs, fn->alloc, sizeof(*fn->arcs));
        fn->head_next = xreallocarray(fn->head_next, fn->alloc,
                                      sizeof(*fn->head_next));
        fn->tail = xreallocarray(fn->tail, fn->alloc, sizeof(*fn->tail));
    }
    size_t k = fn->narcs++;
    fn->arcs[k] = (struct arc_){.to = to, .cap = cap, .cost = cost};
    fn->tail[k] = from;
    fn->head_next[k] = fn->head[from];
    fn->head[from] = (int)k;
}

static void net_add(struct flownet *fn, int from, int to, double cap,
                    double cost)
{
    int k = (int)fn->narcs;
    net_add1(fn, from, to, cap, cost);
    net_add1(fn, to, from, 0, -cost);
    fn->arcs[k].rev = k + 1;
    fn->arcs[k + 1].rev = k;
}

/*
 * The configuration of solution x of model md (VMs and connections
 * rounded to the integers CBC found) and its cost curve by successive
 * shortest paths: each augmenting path is a segment of slope = its $/GB.
 */
static void config_of(const struct model *md, const struct transfer_grid *g,
                      const struct transfer_request *req, const double *x,
                      struct config *cf)
{
    size_t n = g->n;
    int C = conns_per_vm(req);
    memset(cf, 0, sizeof(*cf));
    long *vms = xcalloc(n, sizeof(*vms));
    for (size_t i = 0; i < n; i++)
        if (md->nvar[i] >= 0) {
            vms[i] = llround(x[md->nvar[i]]);
            cf->vm += VM_COST_SCALE * req->vm_price_h[i] * (double)vms[i];
        }
    struct flownet fn = {0};
    fn.nodes = 2 * n + 2;
    fn.head = xcalloc(fn.nodes, sizeof(*fn.head));
    for (size_t v = 0; v < fn.nodes; v++)
        fn.head[v] = -1;
    int S = (int)(2 * n), Z = S + 1;
#define IN(i) ((int)(2 * (i)))
#define OUT(i) ((int)(2 * (i) + 1))
    for (size_t i = 0; i < n; i++) {
        if (vms[i] <= 0)
            continue;
        enum transfer_cloud c = g->cloud[i];
        double ecap = transfer_egress_cap(c) * (double)vms[i];
        double icap = transfer_ingress_cap(c) * (double)vms[i];
        if (i == req->src)
            net_add(&fn, S, OUT(i), ecap, 0);
        else if (i == req->dst)
            net_add(&fn, IN(i), Z, icap, 0);
        else
            net_add(&fn, IN(i), OUT(i), SKYC_MIN(ecap, icap), 0);
    }
    /*
     * The solution's connections, then each region's spare ones (C per VM
     * less those used) on its used edges, cheapest first: more capacity at
     * the same cost, so one configuration covers a whole range of
     * throughputs instead of one per connection count (any configuration
     * is a valid upper bound; the verification keeps the curve exact).
     */
    long *conns = xcalloc(md->ne + 1, sizeof(*conns));
    long *sout = xcalloc(n, sizeof(*sout)), *sin = xcalloc(n, sizeof(*sin));
    size_t *order = xcalloc(md->ne + 1, sizeof(*order));
    size_t nused = 0;
    for (size_t i = 0; i < n; i++)
        sout[i] = sin[i] = C * vms[i];
    for (size_t e = 0; e < md->ne; e++) {
        uint32_t a = md->ea[e], b = md->eb[e];
        if (vms[a] <= 0 || vms[b] <= 0)
            continue;
        double gb = g->gbps[(size_t)a * n + b];
        long c = md->cvar[e] >= 0
                     ? llround(x[md->cvar[e]])
                     : (long)ceil(C * x[md->fvar[e]] / gb - 1e-9);
        if (c <= 0)
            continue;
        conns[e] = c;
        sout[a] -= c;
        sin[b] -= c;
        order[nused++] = e;
    }
    for (size_t i = 1; i < nused; i++) /* insertion sort by price */
        for (size_t j = i; j > 0; j--) {
            size_t e1 = order[j - 1], e2 = order[j];
            double p1 = g->price[(size_t)md->ea[e1] * n + md->eb[e1]];
            double p2 = g->price[(size_t)md->ea[e2] * n + md->eb[e2]];
            if (p1 <= p2)
                break;
            order[j - 1] = e2;
            order[j] = e1;
        }
    for (size_t k = 0; k < nused; k++) {
        size_t e = order[k];
        uint32_t a = md->ea[e], b = md->eb[e];
        long add = SKYC_MIN(sout[a], sin[b]);
        if (add > 0) {
            conns[e] += add;
            sout[a] -= add;
            sin[b] -= add;
        }
        net_add(&fn, OUT(a), IN(b),
                g->gbps[(size_t)a * n + b] * (double)conns[e] / C,
                g->price[(size_t)a * n + b]);
    }
    free(conns);
    free(sout);
    free(sin);
    free(order);
#undef IN
#undef OUT
    double *dist = xcalloc(fn.nodes, sizeof(*dist));
    int *via = xcalloc(fn.nodes, sizeof(*via));
    size_t alloc = 0;
    for (int iter = 0; iter < 10000; iter++) {
        for (size_t v = 0; v < fn.nodes; v++) {
            dist[v] = INFINITY;
            via[v] = -1;
        }
        dist[S] = 0;
        for (size_t round = 0; round < fn.nodes; round++) {
            bool changed = false;
            for (size_t k = 0; k < fn.narcs; k++) {
                const struct arc_ *ar = &fn.arcs[k];
                int u = fn.tail[k];
                if (ar->cap > 1e-12 &&
                    dist[u] + ar->cost < dist[ar->to] - 1e-15) {
                    dist[ar->to] = dist[u] + ar->cost;
                    via[ar->to] = (int)k;
                    changed = true;
                }
            }
            if (!changed)
                break;
        }
        if (!isfinite(dist[Z]))
            break;
        double push = INFINITY;
        for (int v = Z; v != S; v = fn.tail[via[v]])
            push = SKYC_MIN(push, fn.arcs[via[v]].cap);
        if (!(push > 1e-12))
            break;
        for (int v = Z; v != S; v = fn.tail[via[v]]) {
            fn.arcs[via[v]].cap -= push;
            fn.arcs[fn.arcs[via[v]].rev].cap += push;
        }
        if (cf->nseg && fabs(cf->slope[cf->nseg - 1] - dist[Z]) <= 1e-12) {
            cf->len[cf->nseg - 1] += push;
        } else {
            if (cf->nseg == alloc) {
                alloc = alloc ? 2 * alloc : 8;
                cf->len = xreallocarray(cf->len, alloc, sizeof(*cf->len));
                cf->slope = xreallocarray(cf->slope, alloc,
                                          sizeof(*cf->slope));
            }
            cf->len[cf->nseg] = push;
            cf->slope[cf->nseg++] = dist[Z];
        }
        cf->tmax += push;
    }
    free(dist);
    free(via);
    free(fn.arcs);
    free(fn.head_next);
    free(fn.head);
    free(fn.tail);
    free(vms);
}

/* C_K(T); INFINITY beyond K's maximum flow. */
static double config_value(const struct config *cf, double t)
{
    if (t > cf->tmax * (1 + 1e-12) + 1e-12)
        return INFINITY;
    double v = cf->vm, rem = t;
    for (size_t k = 0; k < cf->nseg && rem > 0; k++) {
        double take = SKYC_MIN(rem, cf->len[k]);
        v += take * cf->slope[k];
        rem -= take;
    }
    return v;
}

struct piece {
    double a, b, u, w; /* U = u T + w on [a, b] */
    int cfg;           /* -1: no configuration reaches this far */
};

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static void push_t(double **ts, size_t *nt, size_t *alloc, double t)
{
    if (*nt == *alloc) {
        *alloc = *alloc ? 2 * *alloc : 64;
        *ts = xreallocarray(*ts, *alloc, sizeof(**ts));
    }
    (*ts)[(*nt)++] = t;
}

static size_t sort_unique(double *ts, size_t nt)
{
    qsort(ts, nt, sizeof(*ts), cmp_double);
    size_t m = 0;
    for (size_t k = 0; k < nt; k++)
        if (!m || ts[k] > ts[m - 1] * (1 + 1e-12) + 1e-12)
            ts[m++] = ts[k];
    return m;
}

static bool covers(const struct config *cf, double t)
{
    return t <= cf->tmax * (1 + 1e-12) + 1e-12;
}

/* The lower envelope of cfgs over [lo, hi] as linear pieces. */
static struct piece *envelope(const struct config *cfgs, size_t ncfg,
                              double lo, double hi, size_t *npieces)
{
    double *ts = NULL;
    size_t nt = 0, alloc = 0;
    push_t(&ts, &nt, &alloc, lo);
    push_t(&ts, &nt, &alloc, hi);
    for (size_t c = 0; c < ncfg; c++) {
        double at = 0;
        for (size_t k = 0; k < cfgs[c].nseg; k++) {
            at += cfgs[c].len[k];
            if (at > lo && at < hi)
                push_t(&ts, &nt, &alloc, at);
        }
    }
    nt = sort_unique(ts, nt);
    /* crossings of two configurations inside an elementary interval */
    size_t base = nt;
    for (size_t k = 0; k + 1 < base; k++) {
        double a = ts[k], b = ts[k + 1];
        for (size_t c1 = 0; c1 < ncfg; c1++) {
            if (!covers(&cfgs[c1], b))
                continue;
            double a1 = config_value(&cfgs[c1], a);
            double b1 = config_value(&cfgs[c1], b);
            for (size_t c2 = c1 + 1; c2 < ncfg; c2++) {
                if (!covers(&cfgs[c2], b))
                    continue;
                double a2 = config_value(&cfgs[c2], a),
                       b2 = config_value(&cfgs[c2], b);
                double da = a1 - a2, db = b1 - b2;
                if ((da < 0 && db > 0) || (da > 0 && db < 0)) {
                    double t = a + (b - a) * da / (da - db);
                    if (t > a && t < b)
                        push_t(&ts, &nt, &alloc, t);
                }
            }
        }
    }
    nt = sort_unique(ts, nt);
    struct piece *pc = xcalloc(nt + 1, sizeof(*pc));
    size_t np = 0;
    for (size_t k = 0; k + 1 < nt; k++) {
        double a = ts[k], b = ts[k + 1], mid = (a + b) / 2;
        int best = -1;
        double bv = INFINITY;
        for (size_t c = 0; c < ncfg; c++) {
            if (!covers(&cfgs[c], b))
                continue;
            double v = config_value(&cfgs[c], mid);
            if (v < bv) {
                bv = v;
                best = (int)c;
            }
        }
        struct piece p = {.a = a, .b = b, .cfg = best, .u = 0, .w = INFINITY};
        if (best >= 0) {
            double va = config_value(&cfgs[best], a),
                   vb = config_value(&cfgs[best], b);
            p.u = (vb - va) / (b - a);
            p.w = va - p.u * a;
        }
        if (np && pc[np - 1].cfg == p.cfg && p.cfg >= 0 &&
            fabs(pc[np - 1].u - p.u) <= 1e-9 * SKYC_MAX(1, fabs(p.u)) &&
            fabs(pc[np - 1].w - p.w) <= 1e-9 * SKYC_MAX(1, fabs(p.w)))
            pc[np - 1].b = b;
        else
            pc[np++] = p;
    }
    free(ts);
    *npieces = np;
    return pc;
}

/* U(t) as a point: the least configuration defined at t. */
static double env_value(const struct config *cfgs, size_t ncfg, double t)
{
    double v = INFINITY;
    for (size_t c = 0; c < ncfg; c++)
        v = SKYC_MIN(v, config_value(&cfgs[c], t));
    return v;
}

void transfer_front_init(struct transfer_front *f)
{
    memset(f, 0, sizeof(*f));
}

void transfer_front_release(struct transfer_front *f)
{
    for (size_t k = 0; k < f->npoints; k++)
        transfer_plan_release(&f->points[k]);
    free(f->points);
    free(f->curve_cost);
    free(f->arcs);
    transfer_front_init(f);
}

struct span {
    double a, b;
};

static bool verified(const struct span *v, size_t nv, double a, double b)
{
    for (size_t k = 0; k < nv; k++)
        if (v[k].a <= a * (1 + 1e-12) && v[k].b >= b * (1 - 1e-12))
            return true;
    return false;
}

/* A front point at t: the single-goal plan, checked against the curve. */
static enum skyc_err front_point(const struct transfer_grid *g,
                                 const struct transfer_request *req,
                                 double t, double curve,
                                 struct transfer_front *f,
                                 struct skyc_error *err)
{
    struct transfer_request r = *req;
    r.goal = TRANSFER_GOAL_TPUT;
    r.tput_gbps = t;
    f->points = xreallocarray(f->points, f->npoints + 1, sizeof(*f->points));
    f->curve_cost = xreallocarray(f->curve_cost, f->npoints + 1,
                                  sizeof(*f->curve_cost));
    enum skyc_err rc = transfer_plan_solve(g, &r, &f->points[f->npoints], err);
    if (rc)
        return rc;
    f->curve_cost[f->npoints] = curve;
    f->solve_s += f->points[f->npoints].solve_s;
    f->proven = f->proven && f->points[f->npoints].proven_optimal;
    f->npoints++;
    return SKYC_OK;
}

enum skyc_err transfer_pareto(const struct transfer_grid *g,
                              const struct transfer_request *req, double lo,
                              double hi, struct transfer_front *f,
                              struct skyc_error *err)
{
    transfer_front_init(f);
    f->proven = true;
    struct transfer_request r = *req;
    r.goal = TRANSFER_GOAL_MAX;
    struct transfer_plan top;
    struct config *cfgs = NULL;
    size_t ncfg = 0;
    struct span *ver = NULL;
    size_t nver = 0;
    struct piece *pc = NULL;
    size_t np = 0;
    struct model md;
    struct milp_result res = {0};
    memset(&md, 0, sizeof(md));
    enum skyc_err rc = transfer_plan_solve(g, &r, &top, err);
    if (rc)
        return rc;
    double tmax = top.tput_gbps;
    f->solve_s += top.solve_s;
    transfer_plan_release(&top);
    if (!(hi > 0) || hi > tmax)
        hi = tmax;
    if (!(lo > 0))
        lo = 1e-6 * hi;
    if (lo >= hi) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "no plan reaches %.3f Gbps; the most is %.3f Gbps "
                       "(lower --min-tput)",
                       lo, tmax);
        goto out;
    }
    f->lo = lo;
    f->hi = hi;
    /* the first configuration: the fastest plan's, from one sweep at hi */
    for (int iter = 0;; iter++) {
        /* a safety net: every MILP verifies a piece or adds a configuration */
        if (iter > 100000) {
            rc = skyc_fail(err, SKYC_E_SOLVER,
                           "the Pareto curve did not settle after %d MILPs",
                           iter);
            goto out;
        }
        free(pc);
        pc = ncfg ? envelope(cfgs, ncfg, lo, hi, &np) : NULL;
        double a = hi, b = hi, u = 0, w = INFINITY;
        size_t k = 0;
        if (ncfg) {
            for (; k < np; k++)
                if (!verified(ver, nver, pc[k].a, pc[k].b))
                    break;
            if (k == np)
                break; /* C = U everywhere */
            a = pc[k].a;
            b = pc[k].b;
            u = pc[k].cfg >= 0 ? pc[k].u : 0;
            w = pc[k].cfg >= 0 ? pc[k].w : INFINITY;
        }
        double from = a;
        if (ncfg && isfinite(w) &&
            env_value(cfgs, ncfg, a) < u * a + w -
                                           1e-9 * SKYC_MAX(1, fabs(u * a + w)))
            from = a + 1e-6 * SKYC_MAX(1, a); /* U jumps up right of a */
        struct build sw = {.sweep = true, .tlo = from, .thi = b, .slope = u,
                           .budget = -1};
        struct transfer_plan acc;
        transfer_plan_init(&acc);
        double relaxed;
        rc = solve_built(&md, g, req, &sw, &acc, &res, &relaxed, err);
        f->solve_s += acc.solve_s;
        f->milps++;
        if (rc)
            goto out;
        double tol = 1e-7 * SKYC_MAX(1, fabs(u * b + (isfinite(w) ? w : 0)));
        if (getenv("SKYC_TRANSFER_DEBUG"))
            fprintf(stderr,
                    "pareto: piece [%.9g, %.9g] u %.9g w %.9g: status %d "
                    "objective %.9g (T %.9g)\n",
                    from, b, u, w, (int)res.status, res.objective,
                    has_solution(&res) ? res.x[md.tvar] : NAN);
        bool have = has_solution(&res);
        double bound = res.status == MILP_OPTIMAL ? res.objective
                       : res.status == MILP_INFEASIBLE ? INFINITY
                                                       : res.best_bound;
        if (res.status != MILP_OPTIMAL && res.status != MILP_INFEASIBLE)
            f->proven = false;
        if (bound >= w - tol) {
            ver = xreallocarray(ver, nver + 1, sizeof(*ver));
            ver[nver++] = (struct span){a, b};
        } else if (have) {
            cfgs = xreallocarray(cfgs, ncfg + 1, sizeof(*cfgs));
            config_of(&md, g, req, res.x, &cfgs[ncfg]);
            double t = res.x[md.tvar];
            double v = config_value(&cfgs[ncfg], t);
            double old = ncfg ? env_value(cfgs, ncfg, t) : INFINITY;
            ncfg++;
            if (!(v < old - tol / 2)) {
                if (getenv("SKYC_TRANSFER_DEBUG"))
                    fprintf(stderr, "pareto: no gain at T %.9g: %.9g vs %.9g\n",
                            t, v, old);
                /* CBC's plan is not below U in exact flow terms: numerics */
                ver = xreallocarray(ver, nver + 1, sizeof(*ver));
                ver[nver++] = (struct span){a, b};
                f->proven = false;
            }
        } else {
            ver = xreallocarray(ver, nver + 1, sizeof(*ver));
            ver[nver++] = (struct span){a, b};
            f->proven = false;
        }
        milp_result_release(&res);
        model_release(&md);
    }
    /*
     * The front, from the fastest plan down, over the breakpoints (points,
     * where U takes its least configuration's value: U is continuous from
     * the left) and the open pieces between them. best: the least $/GB
     * above the current throughput; attained: whether some plan has it
     * (after an arc it is the arc's left limit, which no plan above has).
     */
    double best = INFINITY;
    bool attained = true;
    struct transfer_arc *arcs = NULL;
    size_t narcs = 0;
    double *pt = xcalloc(np + 2, sizeof(*pt));
    double *pf = xcalloc(np + 2, sizeof(*pf));
    size_t npt = 0;
    pt[npt] = hi;
    pf[npt++] = best = env_value(cfgs, ncfg, hi) / hi;
    for (size_t k = np; k-- > 0;) {
        const struct piece *p = &pc[k];
        if (p->cfg >= 0 && p->w < 0) {
            double fa = p->u + p->w / p->a, fb = p->u + p->w / p->b;
            if (fa < best * (1 - 1e-12)) {
                bool whole = fb < best * (1 - 1e-12) ||
                             (fb <= best * (1 + 1e-12) && npt &&
                              pt[npt - 1] == p->b);
                double to = fb < best * (1 - 1e-12) || whole
                                ? p->b
                                : p->w / (best - p->u);
                arcs = xreallocarray(arcs, narcs + 1, sizeof(*arcs));
                arcs[narcs++] = (struct transfer_arc){
                    .from_gbps = p->a, .to_gbps = to,
                    .to_included = npt && pt[npt - 1] == to,
                    .a = p->u, .b = p->w};
                best = fa;
                attained = false;
            }
        }
        /* the left end of piece k */
        double ft = env_value(cfgs, ncfg, p->a) / p->a;
        if (ft < best * (1 - 1e-12) ||
            (!attained && ft <= best * (1 + 1e-12))) {
            pt[npt] = p->a;
            pf[npt++] = ft;
            best = SKYC_MIN(best, ft);
            attained = true;
        }
    }
    /* ascending throughput; a point pushed twice (arc start = piece end)
     * once */
    for (size_t k = npt; k-- > 0;) {
        if (f->npoints &&
            pt[k] <= f->points[f->npoints - 1].tput_gbps * (1 + 1e-12))
            continue;
        if ((rc = front_point(g, req, pt[k], pf[k], f, err)))
            break;
    }
    for (size_t k = narcs; k-- > 0;) {
        f->arcs = xreallocarray(f->arcs, f->narcs + 1, sizeof(*f->arcs));
        f->arcs[f->narcs++] = arcs[k];
    }
    free(arcs);
    free(pt);
    free(pf);
    f->configs = (int)ncfg;
out:
    milp_result_release(&res);
    model_release(&md);
    for (size_t c = 0; c < ncfg; c++)
        config_release(&cfgs[c]);
    free(cfgs);
    free(ver);
    free(pc);
    if (rc)
        transfer_front_release(f);
    return rc;
}

void transfer_vm_prices(const struct transfer_grid *g,
                        const struct catalog *cat, double fallback,
                        double *price_h, bool *from_catalog)
{
    for (size_t i = 0; i < g->n; i++) {
        price_h[i] = fallback;
        if (from_catalog)
            from_catalog[i] = false;
    }
    if (!cat)
        return;
    uint32_t inst[3];
    for (int c = 0; c < 3; c++) {
        inst[c] = CATALOG_NONE;
        const char *want = transfer_gateway_instance((enum transfer_cloud)c);
        for (size_t k = 0; k < cat->nnames; k++)
            if (!strcmp(cat->names[k], want))
                inst[c] = (uint32_t)k;
    }
    double *zone_price = xcalloc(g->n, sizeof(*zone_price));
    double *region_price = xcalloc(g->n, sizeof(*region_price));
    for (size_t i = 0; i < g->n; i++)
        zone_price[i] = region_price[i] = INFINITY;
    for (size_t k = 0; k < cat->noffers; k++) {
        const struct catalog_offering *o = &cat->offers[k];
        int c = o->cloud == CLOUD_AWS ? 0 : o->cloud == CLOUD_GCP ? 1
                : o->cloud == CLOUD_AZURE ? 2 : -1;
        if (c < 0 || o->instance != inst[c] || !(o->price > 0))
            continue;
        const char *region = cat->regions[o->region].name;
        for (size_t i = 0; i < g->n; i++) {
            if (g->cloud[i] != (enum transfer_cloud)c)
                continue;
            const char *r = strchr(g->regions[i], ':') + 1;
            if (o->zone != CATALOG_NONE &&
                !strcmp(r, cat->zones[o->zone].name))
                zone_price[i] = SKYC_MIN(zone_price[i], o->price);
            size_t len = strlen(region);
            bool same = !strcmp(r, region) ||
                        (c == 1 && !strncmp(r, region, len) &&
                         r[len] == '-' && r[len + 1] && !r[len + 2]);
            if (same)
                region_price[i] = SKYC_MIN(region_price[i], o->price);
        }
    }
    for (size_t i = 0; i < g->n; i++) {
        double p = isfinite(zone_price[i]) ? zone_price[i] : region_price[i];
        if (isfinite(p)) {
            price_h[i] = p;
            if (from_catalog)
                from_catalog[i] = true;
        }
    }
    free(zone_price);
    free(region_price);
}
