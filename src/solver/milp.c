#include "core/common.h"
#include "core/alloc.h"
#include "solver/milp.h"

#include <coin/Cbc_C_Interface.h>

void milp_init(struct milp *m)
{
    memset(m, 0, sizeof(*m));
}

void milp_release(struct milp *m)
{
    free(m->lb);
    free(m->ub);
    free(m->obj);
    free(m->is_int);
    free(m->row_lb);
    free(m->row_ub);
    free(m->nz_row);
    free(m->nz_col);
    free(m->nz_val);
    free(m->start);
    milp_init(m);
}

/* Grow parallel arrays together to hold n elements. */
static size_t grow_to(size_t n, size_t alloc)
{
    return n <= alloc ? alloc : SKYC_MAX(n, alloc * 2 + 16);
}

int milp_add_var(struct milp *m, double lb, double ub, double obj,
                 bool integer)
{
    size_t a = grow_to(m->nvars + 1, m->vars_alloc);
    if (a != m->vars_alloc) {
        m->lb = xreallocarray(m->lb, a, sizeof(*m->lb));
        m->ub = xreallocarray(m->ub, a, sizeof(*m->ub));
        m->obj = xreallocarray(m->obj, a, sizeof(*m->obj));
        m->is_int = xreallocarray(m->is_int, a, sizeof(*m->is_int));
        m->vars_alloc = a;
    }
    m->lb[m->nvars] = lb;
    m->ub[m->nvars] = ub;
    m->obj[m->nvars] = obj;
    m->is_int[m->nvars] = integer;
    return (int)m->nvars++;
}

void milp_add_row(struct milp *m, size_t n, const int *cols,
                  const double *coefs, double lb, double ub)
{
    size_t a = grow_to(m->nrows + 1, m->rows_alloc);
    if (a != m->rows_alloc) {
        m->row_lb = xreallocarray(m->row_lb, a, sizeof(*m->row_lb));
        m->row_ub = xreallocarray(m->row_ub, a, sizeof(*m->row_ub));
        m->rows_alloc = a;
    }
    m->row_lb[m->nrows] = lb;
    m->row_ub[m->nrows] = ub;
    size_t b = grow_to(m->nnz + n, m->nnz_alloc);
    if (b != m->nnz_alloc) {
        m->nz_row = xreallocarray(m->nz_row, b, sizeof(*m->nz_row));
        m->nz_col = xreallocarray(m->nz_col, b, sizeof(*m->nz_col));
        m->nz_val = xreallocarray(m->nz_val, b, sizeof(*m->nz_val));
        m->nnz_alloc = b;
    }
    for (size_t i = 0; i < n; i++) {
        m->nz_row[m->nnz] = (int)m->nrows;
        m->nz_col[m->nnz] = cols[i];
        m->nz_val[m->nnz] = coefs[i];
        m->nnz++;
    }
    m->nrows++;
}

void milp_set_start(struct milp *m, const double *x)
{
    free(m->start);
    m->start = xcalloc(m->nvars ? m->nvars : 1, sizeof(*m->start));
    memcpy(m->start, x, m->nvars * sizeof(*x));
}

void milp_result_release(struct milp_result *res)
{
    free(res->x);
    res->x = NULL;
}

/* CBC wants +-COIN_DBL_MAX, not IEEE infinities. */
static double cbc_bound(double v)
{
    if (v == INFINITY)
        return 1e30;
    if (v == -INFINITY)
        return -1e30;
    return v;
}

enum skyc_err milp_solve(const struct milp *m, const struct milp_params *p,
                         struct milp_result *res, struct skyc_error *err)
{
    memset(res, 0, sizeof(*res));
    if (!m->nvars)
        return skyc_fail(err, SKYC_E_INTERNAL, "milp: empty model");
    size_t nv = m->nvars, nr = m->nrows;
    CoinBigIndex *start = xcalloc(nv + 1, sizeof(*start));
    int *index = xcalloc(m->nnz + 1, sizeof(*index));
    double *value = xcalloc(m->nnz + 1, sizeof(*value));
    double *lb = xcalloc(nv, sizeof(*lb)), *ub = xcalloc(nv, sizeof(*ub));
    double *rlb = xcalloc(nr + 1, sizeof(*rlb));
    double *rub = xcalloc(nr + 1, sizeof(*rub));
    size_t *fill = xcalloc(nv, sizeof(*fill));

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
        lb[c] = cbc_bound(m->lb[c]);
        ub[c] = cbc_bound(m->ub[c]);
    }
    for (size_t r = 0; r < nr; r++) {
        rlb[r] = cbc_bound(m->row_lb[r]);
        rub[r] = cbc_bound(m->row_ub[r]);
    }

    Cbc_Model *model = Cbc_newModel();
    Cbc_loadProblem(model, (int)nv, (int)nr, start, index, value, lb, ub,
                    m->obj, rlb, rub);
    for (size_t c = 0; c < nv; c++)
        if (m->is_int[c])
            Cbc_setInteger(model, (int)c);
    Cbc_setObjSense(model, 1);
    Cbc_setLogLevel(model, p && p->verbose ? 1 : 0);
    Cbc_setAllowableGap(model, p && p->abs_gap > 0 ? p->abs_gap : 1e-9);
    Cbc_setAllowableFractionGap(model,
                                p && p->rel_gap > 0 ? p->rel_gap : 1e-9);
    if (p && p->time_limit_s > 0)
        Cbc_setMaximumSeconds(model, p->time_limit_s);
    if (m->start) {
        int *cols = xcalloc(nv, sizeof(*cols));
        double *vals = xcalloc(nv, sizeof(*vals));
        int n = 0;
        for (size_t c = 0; c < nv; c++)
            if (m->start[c] != 0) {
                cols[n] = (int)c;
                vals[n++] = m->start[c];
            }
        Cbc_setMIPStartI(model, n, cols, vals);
        free(cols);
        free(vals);
    }
    if (p && p->cbc_options)
        for (size_t i = 0; p->cbc_options[i] && p->cbc_options[i + 1]; i += 2)
            Cbc_setParameter(model, p->cbc_options[i], p->cbc_options[i + 1]);
    int status = Cbc_solve(model);
    enum skyc_err rc = SKYC_OK;
    res->nodes = Cbc_getNodeCount(model);
    if (Cbc_isProvenInfeasible(model)) {
        res->status = MILP_INFEASIBLE;
    } else if (Cbc_bestSolution(model)) {
        res->status = Cbc_isProvenOptimal(model) ? MILP_OPTIMAL
                                                 : MILP_FEASIBLE;
        res->objective = Cbc_getObjValue(model);
        res->best_bound = Cbc_getBestPossibleObjValue(model);
        res->x = xcalloc(nv, sizeof(*res->x));
        memcpy(res->x, Cbc_bestSolution(model), nv * sizeof(*res->x));
    } else if (status < 0 || Cbc_isAbandoned(model)) {
        rc = skyc_fail(err, SKYC_E_SOLVER, "CBC abandoned the problem");
        res->status = MILP_FAILED;
    } else {
        res->status = MILP_FAILED;
    }
    Cbc_deleteModel(model);
    free(start);
    free(index);
    free(value);
    free(lb);
    free(ub);
    free(rlb);
    free(rub);
    free(fill);
    return rc;
}
