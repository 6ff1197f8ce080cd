/*
 * Property test of the exact placement solvers: on many small random DAGs,
 * the forest DP (where it applies) and the MILP must reach exactly the
 * brute-force optimum. Plus hand-computed cases.
 */
#include "core/common.h"
#include "optimizer/placement.h"

#include <setjmp.h>
#include <cmocka.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double rnd(double max)
{
    return (double)(rng() % 100000) / 100000.0 * max;
}

/* A random DAG on n tasks: edges only from lower to higher index. */
static void random_problem(struct placement *p, size_t n, bool forest)
{
    size_t nl[8];
    for (size_t v = 0; v < n; v++)
        nl[v] = 1 + rng() % 4;
    placement_init(p, n, nl);
    for (size_t v = 0; v < n; v++)
        for (size_t a = 0; a < nl[v]; a++)
            p->unary[v][a] = rnd(10);
    for (size_t w = 1; w < n; w++) {
        size_t parents = forest ? 1 : 1 + rng() % 2;
        for (size_t k = 0; k < parents; k++) {
            size_t v = rng() % w;
            bool dup = false;
            for (size_t i = 0; i < p->nedges; i++)
                dup |= p->edges[i].from == v && p->edges[i].to == w;
            if (dup)
                continue;
            struct placement_edge *e = placement_add_edge(p, v, w);
            double gb = rnd(50);
            for (size_t a = 0; a < nl[v]; a++)
                for (size_t b = 0; b < nl[w]; b++)
                    e->pair[a * nl[w] + b] = a == b ? 0 : gb * rnd(0.2);
        }
    }
}

static void test_random_dags(void **state)
{
    (void)state;
    int dp_checked = 0, milp_checked = 0;
    for (int iter = 0; iter < 300; iter++) {
        struct placement p;
        size_t n = 1 + rng() % 7;
        random_problem(&p, n, iter % 3 == 0);
        size_t lb[8], ld[8], lm[8];
        double ob, od, om;
        struct skyc_error err = {0};
        assert_int_equal(placement_solve_brute(&p, lb, &ob, &err), SKYC_OK);
        if (placement_is_forest(&p)) {
            assert_int_equal(placement_solve_dp(&p, ld, &od, &err), SKYC_OK);
            if (fabs(od - ob) > 1e-6)
                fail_msg("iter %d: dp %.9f != brute %.9f", iter, od, ob);
            assert_true(fabs(placement_cost(&p, ld) - od) < 1e-6);
            dp_checked++;
        }
        struct placement_stats st;
        assert_int_equal(placement_solve_milp(&p, lm, &om, &st, &err),
                         SKYC_OK);
        if (fabs(om - ob) > 1e-6)
            fail_msg("iter %d: milp %.9f != brute %.9f", iter, om, ob);
        assert_true(st.proven_optimal);
        milp_checked++;
        placement_release(&p);
    }
    assert_true(dp_checked > 50);
    assert_true(milp_checked == 300);
}

/*
 * Hand-computed: two tasks, two regions. Task 0 costs 1 in A, 2 in B;
 * task 1 costs 5 in A, 1 in B; moving 0's output A->B costs 10. Alone each
 * would pick (A, B) = 1 + 1 + 10 = 12; together (A, A) = 6 and (B, B) = 3:
 * the optimum is (B, B) = 3.
 */
static void test_hand_computed(void **state)
{
    (void)state;
    struct placement p;
    size_t nl[] = {2, 2};
    placement_init(&p, 2, nl);
    p.unary[0][0] = 1;
    p.unary[0][1] = 2;
    p.unary[1][0] = 5;
    p.unary[1][1] = 1;
    struct placement_edge *e = placement_add_edge(&p, 0, 1);
    e->pair[0 * 2 + 1] = 10;
    e->pair[1 * 2 + 0] = 10;
    size_t lab[2];
    double obj;
    struct skyc_error err = {0};
    assert_int_equal(placement_solve_dp(&p, lab, &obj, &err), SKYC_OK);
    assert_true(fabs(obj - 3) < 1e-9);
    assert_int_equal(lab[0], 1);
    assert_int_equal(lab[1], 1);
    assert_int_equal(placement_solve_milp(&p, lab, &obj, NULL, &err), SKYC_OK);
    assert_true(fabs(obj - 3) < 1e-9);
    placement_release(&p);
}

static void test_diamond_is_not_forest(void **state)
{
    (void)state;
    struct placement p;
    size_t nl[] = {1, 1, 1, 1};
    placement_init(&p, 4, nl);
    placement_add_edge(&p, 0, 1);
    placement_add_edge(&p, 0, 2);
    placement_add_edge(&p, 1, 3);
    assert_true(placement_is_forest(&p));
    placement_add_edge(&p, 2, 3);
    assert_false(placement_is_forest(&p));
    size_t lab[4];
    double obj;
    struct skyc_error err = {0};
    assert_int_equal(placement_solve_dp(&p, lab, &obj, &err),
                     SKYC_E_INTERNAL);
    placement_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_dags),
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_diamond_is_not_forest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
