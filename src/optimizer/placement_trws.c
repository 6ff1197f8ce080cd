/*
 * placement_trws.c - exact placement on any graph: a lower bound from
 * sequential tree-reweighted message passing (TRW-S), a labelling from the
 * same messages, and a proof when the two meet; otherwise bound-based
 * pruning and the MILP on what is left (see placement.h).
 *
 * Reparametrisation. Each edge e = (v, w) keeps two vectors: mf[a], added to
 * v's unary and taken from e's pair costs, and mt[b], the same for w:
 *     u'_v(a)        = u_v(a) + sum over edges e at v of m_e,v(a)
 *     pair'_e(a, b)  = pair_e(a, b) - mf[a] - mt[b]
 * For every labelling x, sum_v u'_v(x_v) + sum_e pair'_e(x_e) is exactly its
 * cost, so LB = sum_v min u'_v + sum_e min pair'_e is a lower bound on every
 * labelling, whatever the vectors hold. Finer: a labelling with v at a costs
 * at least LB + u'_v(a) - min u'_v, and one with e at (a, b) at least
 * LB + pair'_e(a, b) - min pair'_e; that is what the pruning uses.
 *
 * TRW-S (Kolmogorov, "Convergent tree-reweighted message passing", 2006) in
 * its reparametrisation form: visit tasks in index order, then in reverse. At
 * task v, with k = max(#neighbours before v, #neighbours after v), move a
 * 1/k share of u'_v into each edge towards a task still to come, then pass
 * that edge's min-marginal on to the other end. LB never decreases and
 * converges to (a point of) the local-polytope LP bound, which on
 * egress-priced placements is almost always the integer optimum.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/clock.h"
#include "optimizer/placement.h"
#include "optimizer/placement_internal.h"

#define TRWS_MAX_ITERS 300
#define TRWS_STALL_ITERS 20 /* passes between progress checks */
#define TRWS_REL_TOL 1e-9

struct trws {
    const struct placement *p;
    size_t *adj_start, *adj; /* incident edges of each task (CSR) */
    double **mf, **mt;       /* per edge: into from, into to */
    double *omega;           /* per task: share sent to each edge */
    double *th, *tmp;        /* scratch, max labels long */
};

static double gap_tol(double ub)
{
    return TRWS_REL_TOL * SKYC_MAX(1.0, fabs(ub));
}

static void trws_init(struct trws *t, const struct placement *p)
{
    size_t n = p->n, maxl = 1;
    memset(t, 0, sizeof(*t));
    t->p = p;
    t->adj_start = xcalloc(n + 2, sizeof(*t->adj_start));
    t->adj = xcalloc(2 * p->nedges + 1, sizeof(*t->adj));
    size_t *fill = xcalloc(n + 1, sizeof(*fill));
    size_t *before = xcalloc(n + 1, sizeof(*before));
    size_t *after = xcalloc(n + 1, sizeof(*after));
    for (size_t i = 0; i < p->nedges; i++) {
        const struct placement_edge *e = &p->edges[i];
        t->adj_start[e->from + 1]++;
        t->adj_start[e->to + 1]++;
        if (e->from != e->to) {
            size_t lo = SKYC_MIN(e->from, e->to), hi = SKYC_MAX(e->from, e->to);
            after[lo]++;
            before[hi]++;
        }
    }
    for (size_t v = 0; v < n; v++)
        t->adj_start[v + 1] += t->adj_start[v];
    for (size_t i = 0; i < p->nedges; i++) {
        const struct placement_edge *e = &p->edges[i];
        t->adj[t->adj_start[e->from] + fill[e->from]++] = i;
        if (e->to != e->from)
            t->adj[t->adj_start[e->to] + fill[e->to]++] = i;
    }
    t->omega = xcalloc(n + 1, sizeof(*t->omega));
    for (size_t v = 0; v < n; v++) {
        size_t k = SKYC_MAX(before[v], after[v]);
        t->omega[v] = k ? 1.0 / (double)k : 0;
        maxl = SKYC_MAX(maxl, p->nlabels[v]);
    }
    t->mf = xcalloc(p->nedges + 1, sizeof(*t->mf));
    t->mt = xcalloc(p->nedges + 1, sizeof(*t->mt));
    for (size_t i = 0; i < p->nedges; i++) {
        t->mf[i] = xcalloc(p->nlabels[p->edges[i].from] + 1, sizeof(double));
        t->mt[i] = xcalloc(p->nlabels[p->edges[i].to] + 1, sizeof(double));
    }
    t->th = xcalloc(maxl, sizeof(*t->th));
    t->tmp = xcalloc(maxl, sizeof(*t->tmp));
    free(fill);
    free(before);
    free(after);
}

static void trws_release(struct trws *t)
{
    for (size_t i = 0; i < t->p->nedges; i++) {
        free(t->mf[i]);
        free(t->mt[i]);
    }
    free(t->mf);
    free(t->mt);
    free(t->adj_start);
    free(t->adj);
    free(t->omega);
    free(t->th);
    free(t->tmp);
}

/* th = u'_v, the reparametrised unary of v. */
static void node_theta(const struct trws *t, size_t v, double *th)
{
    const struct placement *p = t->p;
    size_t nv = p->nlabels[v];
    memcpy(th, p->unary[v], nv * sizeof(*th));
    for (size_t k = t->adj_start[v]; k < t->adj_start[v + 1]; k++) {
        size_t i = t->adj[k];
        const struct placement_edge *e = &p->edges[i];
        if (e->from == v)
            for (size_t a = 0; a < nv; a++)
                th[a] += t->mf[i][a];
        if (e->to == v)
            for (size_t b = 0; b < nv; b++)
                th[b] += t->mt[i][b];
    }
}

/* One pass of TRW-S, forward (index order) or backward. */
static void trws_pass(struct trws *t, bool forward)
{
    const struct placement *p = t->p;
    for (size_t k = 0; k < p->n; k++) {
        size_t v = forward ? k : p->n - 1 - k;
        if (t->adj_start[v] == t->adj_start[v + 1])
            continue;
        double w = t->omega[v];
        node_theta(t, v, t->th);
        for (size_t j = t->adj_start[v]; j < t->adj_start[v + 1]; j++) {
            size_t i = t->adj[j];
            const struct placement_edge *e = &p->edges[i];
            size_t other = e->from == v ? e->to : e->from;
            if (other == v || (forward ? other < v : other > v))
                continue;
            size_t na = p->nlabels[e->from], nb = p->nlabels[e->to];
            double *mf = t->mf[i], *mt = t->mt[i];
            if (e->from == v) {
                for (size_t a = 0; a < na; a++)
                    mf[a] -= w * t->th[a];
                /* mt[b] = min_a pair(a, b) - mf[a]: min pair'(., b) = 0 */
                for (size_t b = 0; b < nb; b++)
                    mt[b] = INFINITY;
                for (size_t a = 0; a < na; a++) {
                    const double *row = e->pair + a * nb;
                    double f = mf[a];
                    for (size_t b = 0; b < nb; b++) {
                        double c = row[b] - f;
                        mt[b] = c < mt[b] ? c : mt[b];
                    }
                }
            } else {
                for (size_t b = 0; b < nb; b++)
                    mt[b] -= w * t->th[b];
                for (size_t a = 0; a < na; a++) {
                    const double *row = e->pair + a * nb;
                    double m = INFINITY;
                    for (size_t b = 0; b < nb; b++) {
                        double c = row[b] - mt[b];
                        m = c < m ? c : m;
                    }
                    mf[a] = m;
                }
            }
        }
    }
}

/* min over (a, b) of pair'_e(a, b) */
static double edge_min(const struct trws *t, size_t i)
{
    const struct placement_edge *e = &t->p->edges[i];
    size_t na = t->p->nlabels[e->from], nb = t->p->nlabels[e->to];
    double m = INFINITY;
    for (size_t a = 0; a < na; a++) {
        const double *row = e->pair + a * nb;
        double rm = INFINITY;
        for (size_t b = 0; b < nb; b++) {
            double c = row[b] - t->mt[i][b];
            rm = c < rm ? c : rm;
        }
        rm -= t->mf[i][a];
        m = rm < m ? rm : m;
    }
    return m;
}

/* The lower bound of the current reparametrisation. */
static double trws_bound(const struct trws *t)
{
    const struct placement *p = t->p;
    double lb = 0;
    for (size_t v = 0; v < p->n; v++) {
        node_theta(t, v, t->th);
        double m = INFINITY;
        for (size_t a = 0; a < p->nlabels[v]; a++)
            m = t->th[a] < m ? t->th[a] : m;
        lb += m;
    }
    for (size_t i = 0; i < p->nedges; i++)
        lb += edge_min(t, i);
    return lb;
}

/* pair cost of edge i with v at label a and the other end at its lab[] */
static double pair_with(const struct placement *p, size_t i, size_t v,
                        size_t a, const size_t *lab)
{
    const struct placement_edge *e = &p->edges[i];
    size_t nb = p->nlabels[e->to];
    return e->from == v ? e->pair[a * nb + lab[e->to]]
                        : e->pair[lab[e->from] * nb + a];
}

/*
 * TRW-S's labelling: in index order, v takes the label minimising its
 * unary, the true pair costs to tasks already labelled, and the messages
 * from tasks still to come (fresh after a backward pass).
 */
static void trws_labelling(const struct trws *t, size_t *lab)
{
    const struct placement *p = t->p;
    for (size_t v = 0; v < p->n; v++) {
        size_t nv = p->nlabels[v];
        double *th = t->th;
        memcpy(th, p->unary[v], nv * sizeof(*th));
        for (size_t k = t->adj_start[v]; k < t->adj_start[v + 1]; k++) {
            size_t i = t->adj[k];
            const struct placement_edge *e = &p->edges[i];
            size_t other = e->from == v ? e->to : e->from;
            if (other == v)
                continue;
            if (other < v) {
                for (size_t a = 0; a < nv; a++)
                    th[a] += pair_with(p, i, v, a, lab);
            } else {
                const double *msg = e->from == v ? t->mf[i] : t->mt[i];
                for (size_t a = 0; a < nv; a++)
                    th[a] += msg[a];
            }
        }
        size_t best = 0;
        for (size_t a = 1; a < nv; a++)
            if (th[a] < th[best])
                best = a;
        lab[v] = best;
    }
}

/* Coordinate descent: move single tasks while that lowers the cost. */
static void icm(const struct trws *t, size_t *lab)
{
    const struct placement *p = t->p;
    for (int round = 0; round < 20; round++) {
        bool changed = false;
        for (size_t v = 0; v < p->n; v++) {
            size_t nv = p->nlabels[v];
            double *th = t->th;
            memcpy(th, p->unary[v], nv * sizeof(*th));
            for (size_t k = t->adj_start[v]; k < t->adj_start[v + 1]; k++) {
                size_t i = t->adj[k];
                const struct placement_edge *e = &p->edges[i];
                if (e->from == e->to)
                    continue;
                for (size_t a = 0; a < nv; a++)
                    th[a] += pair_with(p, i, v, a, lab);
            }
            size_t best = lab[v];
            for (size_t a = 0; a < nv; a++)
                if (th[a] < th[best] - 1e-12)
                    best = a;
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
 * The gap did not close: keep the labels and pairs that a labelling of cost
 * <= ub may use, and let the MILP finish on them.
 */
static enum skyc_err finish_with_milp(struct trws *t, double lb, double ub,
                                      const size_t *incumbent,
                                      double time_limit_s, size_t *labels,
                                      double *objective,
                                      struct placement_stats *stats,
                                      struct skyc_error *err)
{
    const struct placement *p = t->p;
    double limit = ub + gap_tol(ub);
    bool **alive = xcalloc(p->n ? p->n : 1, sizeof(*alive));
    unsigned char **pair_ok = xcalloc(p->nedges + 1, sizeof(*pair_ok));
    stats->labels_after = 0;
    for (size_t v = 0; v < p->n; v++) {
        size_t nv = p->nlabels[v];
        alive[v] = xcalloc(nv, sizeof(bool));
        node_theta(t, v, t->th);
        double m = INFINITY;
        for (size_t a = 0; a < nv; a++)
            m = t->th[a] < m ? t->th[a] : m;
        for (size_t a = 0; a < nv; a++)
            alive[v][a] = lb + (t->th[a] - m) <= limit || a == incumbent[v];
        for (size_t a = 0; a < nv; a++)
            stats->labels_after += alive[v][a];
    }
    size_t pairs = 0, pairs_kept = 0;
    for (size_t i = 0; i < p->nedges; i++) {
        const struct placement_edge *e = &p->edges[i];
        size_t na = p->nlabels[e->from], nb = p->nlabels[e->to];
        double m = edge_min(t, i);
        pair_ok[i] = xcalloc(na * nb + 1, 1);
        for (size_t a = 0; a < na; a++)
            for (size_t b = 0; b < nb; b++) {
                double red = e->pair[a * nb + b] - t->mf[i][a] - t->mt[i][b];
                bool ok = lb + (red - m) <= limit ||
                          (a == incumbent[e->from] && b == incumbent[e->to]);
                pair_ok[i][a * nb + b] = ok;
                pairs++;
                pairs_kept += ok && alive[e->from][a] && alive[e->to][b];
            }
    }
    log_debug("placement trws: gap %.9g (lb %.9f ub %.9f); MILP on %zu of "
              "%zu labels, %zu of %zu pairs",
              ub - lb, lb, ub, stats->labels_after, stats->labels_before,
              pairs_kept, pairs);
    stats->method = "trws+milp";
    enum skyc_err rc = placement_milp_over(p, alive, pair_ok, incumbent,
                                           time_limit_s, labels, objective,
                                           stats, err);
    if (rc && time_limit_s > 0) {
        /* CBC ran out of time before reporting any plan: keep ours */
        log_debug("placement trws: milp gave up (%s)", err ? err->msg : "");
        skyc_error_clear(err);
        rc = SKYC_OK;
        stats->proven_optimal = false;
        *objective = INFINITY;
    }
    if (!rc && *objective > ub) { /* never worse than the incumbent */
        memcpy(labels, incumbent, p->n * sizeof(*labels));
        *objective = ub;
    }
    for (size_t v = 0; v < p->n; v++)
        free(alive[v]);
    for (size_t i = 0; i < p->nedges; i++)
        free(pair_ok[i]);
    free(alive);
    free(pair_ok);
    return rc;
}

enum skyc_err placement_solve_trws(const struct placement *p, size_t *labels,
                                   double *objective,
                                   struct placement_stats *stats,
                                   struct skyc_error *err)
{
    struct placement_stats local = {0};
    if (!stats)
        stats = &local;
    memset(stats, 0, sizeof(*stats));
    stats->method = "trws";
    for (size_t v = 0; v < p->n; v++) {
        if (!p->nlabels[v])
            return skyc_fail(err, SKYC_E_INFEASIBLE, "task %zu has no labels",
                             v);
        stats->labels_before += p->nlabels[v];
    }
    stats->labels_after = stats->labels_before;

    enum skyc_err rc = SKYC_OK;
    struct trws t;
    trws_init(&t, p);
    size_t *lab = xcalloc(p->n + 1, sizeof(*lab));
    size_t *best = xcalloc(p->n + 1, sizeof(*best));
    double ub = INFINITY, lb = -INFINITY, best_lb = -INFINITY;
    double stall_lb = -INFINITY, t0 = clock_mono_s();
    bool out_of_time = false;
    size_t it;
    for (it = 0; it < TRWS_MAX_ITERS; it++) {
        trws_pass(&t, true);
        trws_pass(&t, false);
        lb = trws_bound(&t);
        best_lb = SKYC_MAX(best_lb, lb);
        trws_labelling(&t, lab);
        icm(&t, lab);
        double c = placement_cost(p, lab);
        if (c < ub) {
            ub = c;
            memcpy(best, lab, p->n * sizeof(*lab));
        }
        if (ub - best_lb <= gap_tol(ub))
            break;
        if (p->time_limit_s > 0 && clock_mono_s() - t0 >= p->time_limit_s) {
            out_of_time = true;
            break;
        }
        /* hand over once 20 passes close less than 1% of the gap */
        if (it % TRWS_STALL_ITERS == 0) {
            if (it && best_lb - stall_lb <=
                          SKYC_MAX(gap_tol(ub), 0.01 * (ub - best_lb)))
                break;
            stall_lb = best_lb;
        }
    }
    stats->iterations = SKYC_MIN(it + 1, (size_t)TRWS_MAX_ITERS);
    stats->lower_bound = best_lb;
    stats->upper_bound = ub;
    log_debug("placement trws: %zu tasks, %zu edges, %zu labels, %zu "
              "iterations, lb %.9f ub %.9f",
              p->n, p->nedges, stats->labels_before, stats->iterations,
              best_lb, ub);
    if (ub - best_lb <= gap_tol(ub)) {
        memcpy(labels, best, p->n * sizeof(*labels));
        *objective = ub;
        stats->proven_optimal = true;
    } else if (out_of_time) { /* the best plan so far, honestly */
        memcpy(labels, best, p->n * sizeof(*labels));
        *objective = ub;
        log_debug("placement trws: time limit, gap %.9g not closed",
                  ub - best_lb);
    } else {
        /* prune with the current messages, whose bound is lb */
        double left = 0;
        if (p->time_limit_s > 0)
            left = SKYC_MAX(1e-3, p->time_limit_s - (clock_mono_s() - t0));
        rc = finish_with_milp(&t, lb, ub, best, left, labels, objective,
                              stats, err);
    }
    free(lab);
    free(best);
    trws_release(&t);
    return rc;
}
