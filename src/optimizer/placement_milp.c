/*
 * placement_milp.c - exact placement on any DAG through CBC.
 *
 * 1. Dead-end elimination (Goldstein's criterion): label a of task v can
 *    never be optimal if some other label a' of v satisfies
 *        unary[v][a] - unary[v][a'] > sum over edges e at v of
 *                                     max over b of (pair_e(a',b) - pair_e(a,b))
 *    because moving v from a to a' then lowers the objective whatever the
 *    neighbours do. We try as a' the few cheapest labels of v and repeat
 *    until nothing more is removed. The optimum is unchanged.
 * 2. The local-polytope MILP on what remains:
 *        x[v][a] in {0,1},  sum_a x[v][a] = 1
 *        y[e][a][b] >= 0,   sum_b y[e][a][b] = x[from][a],
 *                           sum_a y[e][a][b] = x[to][b]
 *        minimise sum unary * x + sum pair * y
 *    With x integral the marginals force y to the product, so the MILP is
 *    exact; its LP relaxation is the tight "marginal polytope" relaxation,
 *    which keeps CBC's tree small.
 * 3. A start solution from coordinate descent seeds CBC.
 * Step 2 alone (placement_milp_over) also finishes TRW-S when its bound
 * leaves a gap, on the labels and pairs the bound could not rule out.
 *
 * Why not a smaller "step" form (per edge and source label, one column per
 * distinct egress price level, z >= x[from][a] - sum of x[to][b] priced
 * below that level)? It is exact for integral x, but its LP lets one unit of
 * the destination's mass serve several source labels at once, so its bound
 * is weaker than the local polytope's, and it still needs |A| x levels
 * columns and |A| x |B| nonzeros per edge: on 100 tasks over every region
 * CBC was no faster with it. TRW-S reaches the local-polytope bound without
 * building any LP.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "optimizer/placement.h"
#include "optimizer/placement_internal.h"
#include "solver/milp.h"

#define DEE_DOMINATORS 6
#define DEE_ROUNDS 4

static double pair_at(const struct placement *p, const struct placement_edge *e,
                      size_t from_label, size_t to_label)
{
    return e->pair[from_label * p->nlabels[e->to] + to_label];
}

/* One DEE round; returns how many labels it removed. */
static size_t dee_round(const struct placement *p, bool **alive)
{
    size_t removed = 0;
    for (size_t v = 0; v < p->n; v++) {
        size_t nv = p->nlabels[v];
        /* the cheapest alive labels by unary cost, as dominators */
        size_t dom[DEE_DOMINATORS], ndom = 0;
        for (size_t a = 0; a < nv; a++) {
            if (!alive[v][a])
                continue;
            size_t pos = ndom < DEE_DOMINATORS ? ndom++ : DEE_DOMINATORS;
            while (pos > 0 && p->unary[v][dom[pos - 1]] > p->unary[v][a]) {
                if (pos < DEE_DOMINATORS)
                    dom[pos] = dom[pos - 1];
                pos--;
            }
            if (pos < DEE_DOMINATORS)
                dom[pos] = a;
        }
        for (size_t a = 0; a < nv; a++) {
            if (!alive[v][a])
                continue;
            for (size_t k = 0; k < ndom && alive[v][a]; k++) {
                size_t d = dom[k];
                if (d == a || !alive[v][d])
                    continue;
                double gain = p->unary[v][a] - p->unary[v][d];
                if (gain <= 0)
                    continue;
                double worst = 0;
                for (size_t i = 0; i < p->nedges && worst < gain; i++) {
                    const struct placement_edge *e = &p->edges[i];
                    if (e->from != v && e->to != v)
                        continue;
                    bool out = e->from == v;
                    size_t w = out ? e->to : e->from;
                    double m = -INFINITY;
                    for (size_t b = 0; b < p->nlabels[w]; b++) {
                        if (!alive[w][b])
                            continue;
                        double diff = out ? pair_at(p, e, d, b) -
                                                pair_at(p, e, a, b)
                                          : pair_at(p, e, b, d) -
                                                pair_at(p, e, b, a);
                        if (diff > m)
                            m = diff;
                    }
                    worst += m;
                }
                if (gain > worst + 1e-12) {
                    alive[v][a] = false;
                    removed++;
                }
            }
        }
    }
    return removed;
}

/* Iterated conditional modes from the unary argmins: a good start. */
static void icm_start(const struct placement *p, bool **alive, size_t *lab)
{
    for (size_t v = 0; v < p->n; v++) {
        size_t best = SIZE_MAX;
        for (size_t a = 0; a < p->nlabels[v]; a++)
            if (alive[v][a] &&
                (best == SIZE_MAX || p->unary[v][a] < p->unary[v][best]))
                best = a;
        lab[v] = best;
    }
    for (int round = 0; round < 10; round++) {
        bool changed = false;
        for (size_t v = 0; v < p->n; v++) {
            double best_cost = INFINITY;
            size_t best = lab[v];
            for (size_t a = 0; a < p->nlabels[v]; a++) {
                if (!alive[v][a])
                    continue;
                double c = p->unary[v][a];
                for (size_t i = 0; i < p->nedges; i++) {
                    const struct placement_edge *e = &p->edges[i];
                    if (e->from == v)
                        c += pair_at(p, e, a, lab[e->to]);
                    else if (e->to == v)
                        c += pair_at(p, e, lab[e->from], a);
                }
                if (c < best_cost - 1e-12) {
                    best_cost = c;
                    best = a;
                }
            }
            if (best != lab[v]) {
                lab[v] = best;
                changed = true;
            }
        }
        if (!changed)
            break;
    }
}

/*
 * The local-polytope MILP over the alive labels and, when pair_ok is not
 * NULL, only the label pairs it allows on each edge (pair_ok[e][a * nb + b]);
 * start is a feasible labelling over alive labels and pairs.
 */
enum skyc_err placement_milp_over(const struct placement *p,
                                  bool *const *alive,
                                  unsigned char *const *pair_ok,
                                  const size_t *start_lab,
                                  double time_limit_s, size_t *labels,
                                  double *objective,
                                  struct placement_stats *stats,
                                  struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    int **xvar = xcalloc(p->n ? p->n : 1, sizeof(*xvar));
    struct milp m;
    milp_init(&m);
    int *cols = NULL;
    double *coefs = NULL;
    size_t cap = 0;
    for (size_t v = 0; v < p->n; v++) {
        size_t k = 0;
        xvar[v] = xcalloc(p->nlabels[v] + 1, sizeof(int));
        ALLOC_GROW(cols, p->nlabels[v] + 1, cap);
        coefs = xreallocarray(coefs, cap, sizeof(*coefs));
        for (size_t a = 0; a < p->nlabels[v]; a++) {
            xvar[v][a] = -1;
            if (!alive[v][a])
                continue;
            xvar[v][a] = milp_add_var(&m, 0, 1, p->unary[v][a], true);
            cols[k] = xvar[v][a];
            coefs[k++] = 1;
        }
        milp_add_row(&m, k, cols, coefs, 1, 1);
    }
    for (size_t i = 0; i < p->nedges; i++) {
        const struct placement_edge *e = &p->edges[i];
        size_t na = p->nlabels[e->from], nb = p->nlabels[e->to];
        int *y = xcalloc(na * nb + 1, sizeof(*y));
        for (size_t a = 0; a < na; a++)
            for (size_t b = 0; b < nb; b++)
                y[a * nb + b] =
                    alive[e->from][a] && alive[e->to][b] &&
                            (!pair_ok || pair_ok[i][a * nb + b])
                        ? milp_add_var(&m, 0, INFINITY, e->pair[a * nb + b],
                                       false)
                        : -1;
        ALLOC_GROW(cols, SKYC_MAX(na, nb) + 2, cap);
        coefs = xreallocarray(coefs, cap, sizeof(*coefs));
        for (size_t a = 0; a < na; a++) { /* sum_b y[a][b] - x[from][a] = 0 */
            if (!alive[e->from][a])
                continue;
            size_t k = 0;
            for (size_t b = 0; b < nb; b++)
                if (y[a * nb + b] >= 0) {
                    cols[k] = y[a * nb + b];
                    coefs[k++] = 1;
                }
            cols[k] = xvar[e->from][a];
            coefs[k++] = -1;
            milp_add_row(&m, k, cols, coefs, 0, 0);
        }
        for (size_t b = 0; b < nb; b++) { /* sum_a y[a][b] - x[to][b] = 0 */
            if (!alive[e->to][b])
                continue;
            size_t k = 0;
            for (size_t a = 0; a < na; a++)
                if (y[a * nb + b] >= 0) {
                    cols[k] = y[a * nb + b];
                    coefs[k++] = 1;
                }
            cols[k] = xvar[e->to][b];
            coefs[k++] = -1;
            milp_add_row(&m, k, cols, coefs, 0, 0);
        }
        free(y);
    }
    free(cols);
    free(coefs);
    stats->milp_vars = m.nvars;
    stats->milp_rows = m.nrows;

    double *x0 = xcalloc(m.nvars ? m.nvars : 1, sizeof(*x0));
    for (size_t v = 0; v < p->n; v++)
        x0[xvar[v][start_lab[v]]] = 1;
    milp_set_start(&m, x0);
    free(x0);

    log_debug("placement milp: %zu tasks, %zu edges, %zu vars, %zu rows, "
              "%zu nonzeros",
              p->n, p->nedges, m.nvars, m.nrows, m.nnz);
    struct milp_params mp = {.verbose = getenv("SKYC_MILP_VERBOSE") != NULL,
                             .time_limit_s = time_limit_s};
    struct milp_result res;
    rc = milp_solve(&m, &mp, &res, err);
    if (!rc && res.status != MILP_OPTIMAL && res.status != MILP_FEASIBLE)
        rc = skyc_fail(err, SKYC_E_SOLVER,
                       "CBC found no placement (status %d)", (int)res.status);
    if (!rc) {
        stats->proven_optimal = res.status == MILP_OPTIMAL;
        stats->milp_nodes = res.nodes;
        for (size_t v = 0; v < p->n; v++) {
            size_t best = start_lab[v];
            double bx = -1;
            for (size_t a = 0; a < p->nlabels[v]; a++)
                if (xvar[v][a] >= 0 && res.x[xvar[v][a]] > bx) {
                    bx = res.x[xvar[v][a]];
                    best = a;
                }
            labels[v] = best;
        }
        *objective = placement_cost(p, labels);
    }
    milp_result_release(&res);
    milp_release(&m);
    for (size_t v = 0; v < p->n; v++)
        free(xvar[v]);
    free(xvar);
    return rc;
}

enum skyc_err placement_solve_milp(const struct placement *p, size_t *labels,
                                   double *objective,
                                   struct placement_stats *stats,
                                   struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct placement_stats local = {0};
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    stats->method = "milp";
    bool **alive = xcalloc(p->n ? p->n : 1, sizeof(*alive));
    size_t *start_lab = xcalloc(p->n ? p->n : 1, sizeof(*start_lab));
    for (size_t v = 0; v < p->n; v++) {
        if (!p->nlabels[v]) {
            rc = skyc_fail(err, SKYC_E_INFEASIBLE, "task %zu has no labels",
                           v);
            goto out;
        }
        alive[v] = xcalloc(p->nlabels[v], sizeof(bool));
        for (size_t a = 0; a < p->nlabels[v]; a++)
            alive[v][a] = true;
        stats->labels_before += p->nlabels[v];
    }
    for (int r = 0; r < DEE_ROUNDS && dee_round(p, alive); r++)
        ;
    for (size_t v = 0; v < p->n; v++)
        for (size_t a = 0; a < p->nlabels[v]; a++)
            stats->labels_after += alive[v][a];
    log_debug("placement milp: labels %zu -> %zu after DEE",
              stats->labels_before, stats->labels_after);
    icm_start(p, alive, start_lab);
    rc = placement_milp_over(p, alive, NULL, start_lab, p->time_limit_s,
                             labels, objective, stats, err);
out:
    for (size_t v = 0; v < p->n; v++)
        free(alive[v]);
    free(alive);
    free(start_lab);
    return rc;
}
