/*
 * placement_internal.h - pieces the placement solvers share (not for use
 * outside src/optimizer).
 */
#ifndef SKYC_OPTIMIZER_PLACEMENT_INTERNAL_H
#define SKYC_OPTIMIZER_PLACEMENT_INTERNAL_H

#include "optimizer/placement.h"

/*
 * Solve the local-polytope MILP (placement_milp.c) restricted to the labels
 * with alive[v][a] and, unless pair_ok is NULL, to the label pairs with
 * pair_ok[e][a * nlabels[to] + b] on each edge e. start_lab must be a
 * labelling inside that restriction; it seeds CBC. Fills labels, *objective
 * and stats->milp_*, stats->proven_optimal (CBC proved the restricted model
 * optimal). time_limit_s > 0 caps CBC's time (then not proven). The other
 * stats fields are left alone.
 */
enum skyc_err placement_milp_over(const struct placement *p,
                                  bool *const *alive,
                                  unsigned char *const *pair_ok,
                                  const size_t *start_lab,
                                  double time_limit_s, size_t *labels,
                                  double *objective,
                                  struct placement_stats *stats,
                                  struct skyc_error *err);

#endif
