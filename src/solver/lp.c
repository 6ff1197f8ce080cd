/*
 * lp.c - a struct milp's LP relaxation on Clp, warm re-solves (see lp.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "solver/lp.h"

#include <coin/Clp_C_Interface.h>

struct lp {
    Clp_Simplex *clp;
    int ncols;
    double *lo, *hi; /* current column bounds */
    bool solved;
};

static double clp_bound(double v)
{
    if (v == INFINITY)
        return 1e30;
    if (v == -INFINITY)
        return -1e30;
    return v;
}

struct lp *lp_load(const struct milp *m)
{
    size_t nv = m->nvars, nr = m->nrows;
    struct lp *lp = xcalloc(1, sizeof(*lp));
    CoinBigIndex *start = xcalloc(nv + 1, sizeof(*start));
    int *index = xcalloc(m->nnz + 1, sizeof(*index));
    double *value = xcalloc(m->nnz + 1, sizeof(*value));
    double *rlb = xcalloc(nr + 1, sizeof(*rlb));
    double *rub = xcalloc(nr + 1, sizeof(*rub));
    size_t *fill = xcalloc(nv + 1, sizeof(*fill));
    lp->lo = xcalloc(nv + 1, sizeof(*lp->lo));
    lp->hi = xcalloc(nv + 1, sizeof(*lp->hi));
    for (size_t i = 0; i < m->nnz; i++)
        start[m->nz_col[i] + 1]++;
    for (size_t c = 0; c < nv; c++)
        start[c + 1] += start[c];
    for (size_t i = 0; i < m->nnz; i++) {
        size_t c = (size_t)m->nz_col[i];
        size_t pos = (size_t)start[c] + fill[c]++;
        index[pos] = m->nz_row[i];
        value[pos] = m->nz_val[i];
    }
    for (size_t c = 0; c < nv; c++) {
        lp->lo[c] = clp_bound(m->lb[c]);
        lp->hi[c] = clp_bound(m->ub[c]);
    }
    for (size_t r = 0; r < nr; r++) {
        rlb[r] = clp_bound(m->row_lb[r]);
        rub[r] = clp_bound(m->row_ub[r]);
    }
    lp->ncols = (int)nv;
    lp->clp = Clp_newModel();
    Clp_setLogLevel(lp->clp, 0);
    Clp_loadProblem(lp->clp, (int)nv, (int)nr, start, index, value, lp->lo,
                    lp->hi, m->obj, rlb, rub);
    free(start);
    free(index);
    free(value);
    free(rlb);
    free(rub);
    free(fill);
    return lp;
}

void lp_free(struct lp *lp)
{
    if (!lp)
        return;
    Clp_deleteModel(lp->clp);
    free(lp->lo);
    free(lp->hi);
    free(lp);
}

enum milp_status lp_solve(struct lp *lp, double *obj)
{
    if (lp->solved)
        Clp_primal(lp->clp, 0); /* bounds or costs changed: warm primal */
    else
        Clp_initialSolve(lp->clp);
    lp->solved = true;
    if (Clp_isProvenOptimal(lp->clp)) {
        *obj = Clp_objectiveValue(lp->clp);
        return MILP_OPTIMAL;
    }
    if (Clp_isProvenPrimalInfeasible(lp->clp))
        return MILP_INFEASIBLE;
    /* a warm start that went astray: once more from scratch */
    Clp_initialSolve(lp->clp);
    if (Clp_isProvenOptimal(lp->clp)) {
        *obj = Clp_objectiveValue(lp->clp);
        return MILP_OPTIMAL;
    }
    return Clp_isProvenPrimalInfeasible(lp->clp) ? MILP_INFEASIBLE
                                                 : MILP_FAILED;
}

void lp_set_objective(struct lp *lp, const double *obj)
{
    Clp_chgObjCoefficients(lp->clp, obj);
}

void lp_set_bounds(struct lp *lp, int col, double lo, double hi)
{
    lp->lo[col] = clp_bound(lo);
    lp->hi[col] = clp_bound(hi);
    Clp_chgColumnLower(lp->clp, lp->lo);
    Clp_chgColumnUpper(lp->clp, lp->hi);
}

const double *lp_x(const struct lp *lp)
{
    return Clp_getColSolution(lp->clp);
}

const double *lp_reduced_costs(const struct lp *lp)
{
    return Clp_getReducedCost(lp->clp);
}
