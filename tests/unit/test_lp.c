/*
 * Unit tests of solver/lp: a struct milp's LP relaxation on Clp, its
 * optimum and reduced costs, warm re-solves after a bound or objective
 * change, infeasibility.
 */
#include "core/common.h"
#include "solver/lp.h"
#include "solver/milp.h"

#include <setjmp.h>
#include <cmocka.h>

#define assert_near(a, b) assert_true(fabs((a) - (b)) <= 1e-9)

/*
 * min -x - y  s.t.  x + 2y <= 4,  3x + y <= 6,  x, y in [0, 10], both
 * declared integer (dropped by the relaxation): optimum at x = 1.6,
 * y = 1.2, objective -2.8.
 */
static void build(struct milp *m)
{
    milp_init(m);
    int x = milp_add_var(m, 0, 10, -1, true);
    int y = milp_add_var(m, 0, 10, -1, true);
    milp_add_row(m, 2, (int[]){x, y}, (double[]){1, 2}, -INFINITY, 4);
    milp_add_row(m, 2, (int[]){x, y}, (double[]){3, 1}, -INFINITY, 6);
}

static void test_relaxation_and_warm_changes(void **state)
{
    (void)state;
    struct milp m;
    build(&m);
    struct lp *lp = lp_load(&m);
    double z = 0;
    assert_int_equal(lp_solve(lp, &z), MILP_OPTIMAL);
    assert_near(z, -2.8);
    assert_near(lp_x(lp)[0], 1.6);
    assert_near(lp_x(lp)[1], 1.2);
    /* both basic at the optimum: no reduced cost */
    assert_near(lp_reduced_costs(lp)[0], 0);
    /* x >= 2: y = 0 and x = 2 (3x + y <= 6), objective -2 */
    lp_set_bounds(lp, 0, 2, 10);
    assert_int_equal(lp_solve(lp, &z), MILP_OPTIMAL);
    assert_near(z, -2);
    assert_near(lp_x(lp)[0], 2);
    /* back, then a new objective: max y alone, y = 2 */
    lp_set_bounds(lp, 0, 0, 10);
    lp_set_objective(lp, (double[]){0, -1});
    assert_int_equal(lp_solve(lp, &z), MILP_OPTIMAL);
    assert_near(z, -2);
    assert_near(lp_x(lp)[1], 2);
    /* x >= 3 cannot meet 3x + y <= 6 */
    lp_set_bounds(lp, 0, 3, 10);
    assert_int_equal(lp_solve(lp, &z), MILP_INFEASIBLE);
    lp_free(lp);
    lp_free(NULL);
    milp_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relaxation_and_warm_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
