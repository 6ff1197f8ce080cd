/*
 * placement.h - the optimizer's core problem, free of catalogs and YAML.
 *
 * n tasks; task v may be placed at one of nlabels[v] labels (a label is a
 * region with the best offering for v there). Placing v at label a costs
 * unary[v][a]. Each edge e = (from, to) costs pair[e][a * nlabels[to] + b]
 * when from is at a and to is at b. Minimise the sum. All costs are finite
 * and non-negative.
 *
 * Four exact solvers share this contract:
 * - placement_solve_dp(): when the undirected graph is a forest (single
 *   tasks, chains, trees): dynamic programming, O(sum of |A||B| per edge).
 * - placement_solve_trws(): any graph (the default for DAGs that are not
 *   forests). Sequential tree-reweighted message passing (TRW-S, Kolmogorov
 *   2006) reparametrises the problem; every reparametrisation gives a lower
 *   bound LB = sum_v min_a u'_v(a) + sum_e min_ab pair'_e(a, b) on every
 *   labelling, and a labelling read off the messages (then polished by
 *   coordinate descent) gives an upper bound UB. When UB - LB <= 1e-9 x
 *   max(1, |UB|) the labelling is optimal, proven by the bound (stats
 *   method "trws"). Otherwise every label and label pair whose reduced
 *   cost pushes the bound above UB is removed (no labelling through it can
 *   beat UB) and the MILP below solves what remains, seeded with UB's
 *   labelling (method "trws+milp"); optimality is then proven by CBC.
 * - placement_solve_milp(): any graph, through CBC (solver/milp.h) on the
 *   local-polytope formulation, after removing labels that provably cannot
 *   be optimal (dead-end elimination). Optimality is proven by CBC. It has
 *   |A| x |B| columns per edge: fine for small models, far too big for 100
 *   tasks over every region (use trws there).
 * - placement_solve_brute(): enumeration, for tests on tiny instances.
 * Each writes the chosen label of every task into labels[] (caller-owned, n
 * long) and the objective into *objective. stats->proven_optimal is true
 * only with a certificate (bound gap, or CBC's proof).
 */
#ifndef SKYC_OPTIMIZER_PLACEMENT_H
#define SKYC_OPTIMIZER_PLACEMENT_H

#include "core/common.h"
#include "core/error.h"

struct placement_edge {
    size_t from, to;
    double *pair; /* nlabels[from] * nlabels[to], row-major, owned */
};

struct placement {
    size_t n;
    size_t *nlabels;
    double **unary; /* owned */
    struct placement_edge *edges;
    size_t nedges;
    /*
     * Wall-clock budget of trws and milp in seconds, 0 = none. A solver
     * that runs out returns its best labelling with proven_optimal false.
     */
    double time_limit_s;
};

struct placement_stats {
    const char *method; /* "trws", "trws+milp", "milp" (static string) */
    size_t labels_before, labels_after; /* total labels, before/after pruning */
    size_t milp_vars, milp_rows;        /* 0 when no MILP was needed */
    long milp_nodes;
    size_t iterations; /* TRW-S passes (forward + backward) */
    double lower_bound, upper_bound; /* TRW-S's certificate */
    bool proven_optimal;
};

/* Allocate n tasks with the given label counts; costs start at 0. */
void placement_init(struct placement *p, size_t n, const size_t *nlabels);
/* Add an edge with a zeroed pair matrix; returns it for filling. */
struct placement_edge *placement_add_edge(struct placement *p, size_t from,
                                          size_t to);
void placement_release(struct placement *p);

/* Objective of a full assignment. */
double placement_cost(const struct placement *p, const size_t *labels);

/* Whether the undirected graph has no cycle (DP applies). */
bool placement_is_forest(const struct placement *p);

enum skyc_err placement_solve_dp(const struct placement *p, size_t *labels,
                                 double *objective, struct skyc_error *err);
enum skyc_err placement_solve_milp(const struct placement *p, size_t *labels,
                                   double *objective,
                                   struct placement_stats *stats,
                                   struct skyc_error *err);
enum skyc_err placement_solve_trws(const struct placement *p, size_t *labels,
                                   double *objective,
                                   struct placement_stats *stats,
                                   struct skyc_error *err);
enum skyc_err placement_solve_brute(const struct placement *p,
                                    size_t *labels, double *objective,
                                    struct skyc_error *err);

#endif
