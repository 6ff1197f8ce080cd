/*
 * milp.h - the one MILP wrapper of skyc, around COIN-OR CBC's C API.
 *
 * Every planner (the job optimizer, the transfer planner, ...) builds its
 * model here: variables with bounds, an objective coefficient and an
 * integrality flag; rows as sparse linear constraints. milp_solve() hands the
 * whole model to CBC at once and reads back the solution.
 *
 * Ownership: struct milp owns its arrays; milp_release() frees them. The
 * objective is minimised. Solutions are only reported as optimal when CBC
 * proves optimality (within the absolute gap given, default 1e-9).
 */
#ifndef SKYC_SOLVER_MILP_H
#define SKYC_SOLVER_MILP_H

#include "core/common.h"
#include "core/error.h"

struct milp {
    size_t nvars, vars_alloc;
    double *lb, *ub, *obj;
    char *is_int;
    /* rows as triplets, converted to CBC's column-major form on solve */
    size_t nrows, rows_alloc;
    double *row_lb, *row_ub;
    size_t nnz, nnz_alloc;
    int *nz_row, *nz_col;
    double *nz_val;
    double *start; /* optional MIP start, nvars long, or NULL */
};

struct milp_params {
    double time_limit_s; /* 0 = none */
    double abs_gap;      /* 0 = 1e-9 */
    double rel_gap;      /* 0 = 1e-9 */
    bool verbose;        /* CBC's own log on stderr */
    /*
     * NULL, or NULL-terminated name, value pairs handed to
     * Cbc_setParameter() (e.g. {"presolve", "off", NULL}): tuning only,
     * optimality is still CBC's proof.
     */
    const char *const *cbc_options;
};

enum milp_status {
    MILP_OPTIMAL,    /* proven optimal */
    MILP_FEASIBLE,   /* a solution, not proven optimal (time limit) */
    MILP_INFEASIBLE, /* proven infeasible */
    MILP_FAILED,     /* no solution */
};

struct milp_result {
    enum milp_status status;
    double objective;
    double best_bound;
    double *x; /* nvars values, owned by the result */
    long nodes;
};

void milp_init(struct milp *m);
void milp_release(struct milp *m);

/* Add a variable; returns its index. Use INFINITY for no upper bound. */
int milp_add_var(struct milp *m, double lb, double ub, double obj,
                 bool integer);
/* lb <= sum coefs[i] * x[cols[i]] <= ub; -INFINITY / INFINITY for one side */
void milp_add_row(struct milp *m, size_t n, const int *cols,
                  const double *coefs, double lb, double ub);
/* A known feasible point to start from (copied). */
void milp_set_start(struct milp *m, const double *x);

/*
 * Solve. Returns SKYC_OK with res filled (status tells optimal, feasible or
 * infeasible), or SKYC_E_SOLVER when CBC fails outright.
 * milp_result_release() frees res->x.
 */
enum skyc_err milp_solve(const struct milp *m, const struct milp_params *p,
                         struct milp_result *res, struct skyc_error *err);
void milp_result_release(struct milp_result *res);

#endif
