/*
 * lp.h - the linear relaxation of a struct milp, on COIN-OR Clp's C API, kept
 * loaded so that bound changes re-solve warm (dual simplex from the last
 * basis). Planners use it for bounds: the LP optimum is a lower bound on the
 * MILP's, and so is the LP optimum with one variable's bounds tightened,
 * which is what reduced-cost fixing and probing need.
 *
 * Ownership: lp_load() copies the model (integrality is dropped); lp_free()
 * frees the handle. Arrays returned by lp_x() and lp_reduced_costs() belong
 * to the handle and are valid until the next solve. The objective is
 * minimised, as in milp.h.
 */
#ifndef SKYC_SOLVER_LP_H
#define SKYC_SOLVER_LP_H

#include "core/common.h"
#include "core/error.h"
#include "solver/milp.h"

struct lp;

/* Load m's LP relaxation. Never fails short of memory. */
struct lp *lp_load(const struct milp *m);
void lp_free(struct lp *lp);

/*
 * Solve (the first call from scratch, later ones warm). Returns
 * MILP_OPTIMAL with the optimum in *obj, MILP_INFEASIBLE when proven
 * infeasible, MILP_FAILED otherwise (unbounded, numerical trouble).
 */
enum milp_status lp_solve(struct lp *lp, double *obj);
/* Replace the objective, ncols coefficients (takes effect at the next
 * lp_solve(), which starts from the last basis). */
void lp_set_objective(struct lp *lp, const double *obj);
/* Change one column's bounds (takes effect at the next lp_solve()). */
void lp_set_bounds(struct lp *lp, int col, double lo, double hi);
const double *lp_x(const struct lp *lp);
const double *lp_reduced_costs(const struct lp *lp);

#endif
