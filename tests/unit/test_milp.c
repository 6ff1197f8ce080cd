/* Unit tests of solver/milp: small models with known optima. */
#include "core/common.h"
#include "solver/milp.h"

#include <setjmp.h>
#include <cmocka.h>

/* Knapsack: max 5a + 4b + 3c s.t. 2a + 3b + c <= 5, binary → a=1,c=1? */
static void test_knapsack(void **state)
{
    (void)state;
    struct milp m;
    milp_init(&m);
    int a = milp_add_var(&m, 0, 1, -5, true);
    int b = milp_add_var(&m, 0, 1, -4, true);
    int c = milp_add_var(&m, 0, 1, -3, true);
    int cols[] = {a, b, c};
    double w[] = {2, 3, 1};
    milp_add_row(&m, 3, cols, w, -INFINITY, 5);
    struct milp_result res;
    struct skyc_error err = {0};
    assert_int_equal(milp_solve(&m, NULL, &res, &err), SKYC_OK);
    assert_int_equal(res.status, MILP_OPTIMAL);
    /* best: a+b (w=5, v=9) vs a+c (w=3, v=8) vs b+c (w=4, v=7) → a+b */
    assert_true(fabs(res.objective + 9) < 1e-6);
    assert_true(res.x[a] > 0.5 && res.x[b] > 0.5 && res.x[c] < 0.5);
    milp_result_release(&res);
    milp_release(&m);
}

static void test_infeasible(void **state)
{
    (void)state;
    struct milp m;
    milp_init(&m);
    int x = milp_add_var(&m, 0, 10, 1, true);
    double one = 1;
    milp_add_row(&m, 1, &x, &one, 2.5, 2.7); /* no integer in [2.5, 2.7] */
    struct milp_result res;
    struct skyc_error err = {0};
    assert_int_equal(milp_solve(&m, NULL, &res, &err), SKYC_OK);
    assert_int_equal(res.status, MILP_INFEASIBLE);
    milp_result_release(&res);
    milp_release(&m);
}

static void test_equality_and_start(void **state)
{
    (void)state;
    /* min x + 2y s.t. x + y = 4, x <= 3, integer → x=3, y=1, obj 5 */
    struct milp m;
    milp_init(&m);
    int x = milp_add_var(&m, 0, 3, 1, true);
    int y = milp_add_var(&m, 0, INFINITY, 2, true);
    int cols[] = {x, y};
    double ones[] = {1, 1};
    milp_add_row(&m, 2, cols, ones, 4, 4);
    double start[] = {0, 4};
    milp_set_start(&m, start);
    struct milp_result res;
    struct skyc_error err = {0};
    assert_int_equal(milp_solve(&m, NULL, &res, &err), SKYC_OK);
    assert_int_equal(res.status, MILP_OPTIMAL);
    assert_true(fabs(res.objective - 5) < 1e-6);
    milp_result_release(&res);
    milp_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_knapsack),
        cmocka_unit_test(test_infeasible),
        cmocka_unit_test(test_equality_and_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
