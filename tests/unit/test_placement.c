/*
 * Property test of the exact placement solvers: on many small random DAGs,
 * the forest DP (where it applies), TRW-S (bound proof or bound-pruned MILP)
 * and the MILP must reach exactly the brute-force optimum, with random
 * pair costs, with egress priced in tiers like the real grids (same region
 * free, same cloud cheap, other cloud by source cloud, one cloud free out),
 * and with frustrated costs whose LP bound has a gap. Plus hand-computed
 * cases.
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

/*
 * Regions in clouds, egress priced like the real grids: 0 within a region,
 * a per-source intra-cloud price (0.01, 0.02 or 0.08), a per-source-cloud
 * internet price to other clouds (cloud 3 charges nothing, like Lambda);
 * each task is offered in a random subset of regions at prices with ties,
 * and each edge carries its source's GB.
 */
#define TIER_REGIONS 9
static void tiered_problem(struct placement *p, size_t n, size_t max_parents)
{
    static const int cloud_of[TIER_REGIONS] = {0, 0, 0, 1, 1, 2, 2, 3, 3};
    static const double out_price[4] = {0.09, 0.12, 0.0875, 0};
    static const double intra[3] = {0.01, 0.02, 0.08};
    double price[TIER_REGIONS][TIER_REGIONS];
    for (size_t a = 0; a < TIER_REGIONS; a++) {
        double in_cloud = cloud_of[a] == 3 ? 0 : intra[rng() % 3];
        for (size_t b = 0; b < TIER_REGIONS; b++)
            price[a][b] = a == b                      ? 0
                          : cloud_of[a] == cloud_of[b] ? in_cloud
                                                       : out_price[cloud_of[a]];
    }
    size_t nl[8], region[8][TIER_REGIONS];
    for (size_t v = 0; v < n; v++) {
        nl[v] = 0;
        for (size_t r = 0; r < TIER_REGIONS; r++)
            if (rng() % 2)
                region[v][nl[v]++] = r;
        if (!nl[v])
            region[v][nl[v]++] = rng() % TIER_REGIONS;
    }
    placement_init(p, n, nl);
    for (size_t v = 0; v < n; v++) {
        double base = rnd(30);
        for (size_t a = 0; a < nl[v]; a++) /* ties: a few price levels */
            p->unary[v][a] = base * (1 + 0.05 * (double)(rng() % 4));
    }
    for (size_t w = 1; w < n; w++) {
        size_t parents = 1 + rng() % max_parents;
        for (size_t k = 0; k < parents; k++) {
            size_t v = rng() % w;
            bool dup = false;
            for (size_t i = 0; i < p->nedges; i++)
                dup |= p->edges[i].from == v && p->edges[i].to == w;
            if (dup)
                continue;
            struct placement_edge *e = placement_add_edge(p, v, w);
            double gb = 1 + (double)(rng() % 200);
            for (size_t a = 0; a < nl[v]; a++)
                for (size_t b = 0; b < nl[w]; b++)
                    e->pair[a * nl[w] + b] =
                        gb * price[region[v][a]][region[w][b]];
        }
    }
}

/*
 * Frustrated: two or three labels, pair costs that reward disagreeing
 * (anti-Potts) plus noise, on graphs with odd cycles. The local-polytope
 * bound has a gap here, so TRW-S must hand over to the MILP.
 */
static void frustrated_problem(struct placement *p, size_t n)
{
    size_t nl[8];
    for (size_t v = 0; v < n; v++)
        nl[v] = 2 + rng() % 2;
    placement_init(p, n, nl);
    for (size_t v = 0; v < n; v++)
        for (size_t a = 0; a < nl[v]; a++)
            p->unary[v][a] = rnd(0.5);
    for (size_t w = 1; w < n; w++)
        for (size_t v = 0; v < w; v++) {
            if (rng() % 3 == 0)
                continue;
            struct placement_edge *e = placement_add_edge(p, v, w);
            for (size_t a = 0; a < nl[v]; a++)
                for (size_t b = 0; b < nl[w]; b++)
                    e->pair[a * nl[w] + b] = (a == b ? 5 : 0) + rnd(1);
        }
}

/* Every exact solver against brute force on one instance. */
static void check_all(struct placement *p, const char *kind, int iter,
                      bool plain_milp, int *dp_checked, int *trws_proofs,
                      int *trws_milps)
{
    size_t lb[8], ld[8], lm[8], lt[8];
    double ob, od, om, ot;
    struct skyc_error err = {0};
    assert_int_equal(placement_solve_brute(p, lb, &ob, &err), SKYC_OK);
    if (placement_is_forest(p)) {
        assert_int_equal(placement_solve_dp(p, ld, &od, &err), SKYC_OK);
        if (fabs(od - ob) > 1e-6)
            fail_msg("%s %d: dp %.9f != brute %.9f", kind, iter, od, ob);
        assert_true(fabs(placement_cost(p, ld) - od) < 1e-6);
        (*dp_checked)++;
    }
    struct placement_stats st;
    if (plain_milp) {
        assert_int_equal(placement_solve_milp(p, lm, &om, &st, &err),
                         SKYC_OK);
        if (fabs(om - ob) > 1e-6)
            fail_msg("%s %d: milp %.9f != brute %.9f", kind, iter, om, ob);
        assert_true(st.proven_optimal);
        assert_string_equal(st.method, "milp");
    }

    assert_int_equal(placement_solve_trws(p, lt, &ot, &st, &err), SKYC_OK);
    if (fabs(ot - ob) > 1e-6)
        fail_msg("%s %d: trws (%s) %.9f != brute %.9f", kind, iter,
                 st.method, ot, ob);
    assert_true(fabs(placement_cost(p, lt) - ot) < 1e-9);
    assert_true(st.proven_optimal);
    /* the bound is a bound: never above the optimum */
    assert_true(st.lower_bound <= ob + 1e-6);
    if (!strcmp(st.method, "trws")) {
        assert_true(st.upper_bound - st.lower_bound <=
                    1e-9 * SKYC_MAX(1, fabs(st.upper_bound)));
        (*trws_proofs)++;
    } else {
        assert_string_equal(st.method, "trws+milp");
        (*trws_milps)++;
    }
}

static void test_random_dags(void **state)
{
    (void)state;
    int dp_checked = 0, proofs = 0, milps = 0;
    for (int iter = 0; iter < 300; iter++) {
        struct placement p;
        size_t n = 1 + rng() % 7;
        random_problem(&p, n, iter % 3 == 0);
        check_all(&p, "random", iter, true, &dp_checked, &proofs, &milps);
        placement_release(&p);
    }
    assert_true(dp_checked > 50);
    assert_true(proofs + milps == 300);
    assert_true(proofs > 100);
}

static void test_tiered_egress_dags(void **state)
{
    (void)state;
    int dp_checked = 0, proofs = 0, milps = 0;
    for (int iter = 0; iter < 250; iter++) {
        struct placement p;
        size_t n = 2 + rng() % 5;
        tiered_problem(&p, n, iter % 4 == 0 ? 1 : 3);
        check_all(&p, "tiered", iter, iter % 2 == 0, &dp_checked, &proofs,
                  &milps);
        placement_release(&p);
    }
    assert_true(dp_checked > 30);
    assert_true(proofs > 175); /* the bound closes on grid-like prices */
}

static void test_frustrated_dags(void **state)
{
    (void)state;
    int dp_checked = 0, proofs = 0, milps = 0;
    for (int iter = 0; iter < 60; iter++) {
        struct placement p;
        frustrated_problem(&p, 3 + rng() % 4);
        /* CBC alone is slow on these (cuts); the fallback uses it anyway */
        check_all(&p, "frustrated", iter, iter % 6 == 0, &dp_checked,
                  &proofs, &milps);
        placement_release(&p);
    }
    assert_true(milps > 15); /* the MILP hand-over is exercised */
}

/*
 * Hand-computed gap: a triangle, two labels, cost 1 on an edge whose ends
 * agree. Some edge must agree (optimum 1), yet the LP puts every task half
 * on each label at cost 0: the bound cannot prove it, the MILP must.
 */
static void test_frustrated_triangle(void **state)
{
    (void)state;
    struct placement p;
    size_t nl[] = {2, 2, 2};
    placement_init(&p, 3, nl);
    size_t ends[3][2] = {{0, 1}, {1, 2}, {0, 2}};
    for (size_t i = 0; i < 3; i++) {
        struct placement_edge *e = placement_add_edge(&p, ends[i][0], ends[i][1]);
        e->pair[0] = e->pair[3] = 1;
    }
    size_t lab[3];
    double obj;
    struct placement_stats st;
    struct skyc_error err = {0};
    assert_int_equal(placement_solve_trws(&p, lab, &obj, &st, &err), SKYC_OK);
    assert_true(fabs(obj - 1) < 1e-9);
    assert_string_equal(st.method, "trws+milp");
    assert_true(st.proven_optimal);
    assert_true(st.lower_bound < 1 - 1e-3);

    /*
     * No time for the MILP: the plan may well be optimal, but nothing
     * proves it, so it must not claim so. With time, it is proven again.
     */
    p.time_limit_s = 1e-9;
    assert_int_equal(placement_solve_trws(&p, lab, &obj, &st, &err), SKYC_OK);
    assert_false(st.proven_optimal);
    assert_true(obj >= 1 - 1e-9);
    assert_true(fabs(placement_cost(&p, lab) - obj) < 1e-9);
    p.time_limit_s = 60;
    assert_int_equal(placement_solve_trws(&p, lab, &obj, &st, &err), SKYC_OK);
    assert_true(st.proven_optimal);
    assert_true(fabs(obj - 1) < 1e-9);
    placement_release(&p);
}

/*
 * Too big for brute force: 40 tasks over grid-like tiers, up to three
 * parents each. TRW-S and the plain MILP are both exact: they must agree.
 */
static void test_trws_matches_milp_on_larger(void **state)
{
    (void)state;
    for (int iter = 0; iter < 3; iter++) {
        struct placement p;
        size_t nl[40];
        size_t n = 40;
        for (size_t v = 0; v < n; v++)
            nl[v] = 3 + rng() % 10;
        placement_init(&p, n, nl);
        for (size_t v = 0; v < n; v++)
            for (size_t a = 0; a < nl[v]; a++)
                p.unary[v][a] = 1 + (double)(rng() % 8) * 0.25;
        for (size_t w = 1; w < n; w++)
            for (size_t k = 0; k < 1 + rng() % 3; k++) {
                size_t v = rng() % w;
                struct placement_edge *e = placement_add_edge(&p, v, w);
                double gb = (double)(1 + rng() % 50);
                for (size_t a = 0; a < nl[v]; a++)
                    for (size_t b = 0; b < nl[w]; b++)
                        e->pair[a * nl[w] + b] =
                            a == b ? 0 : gb * (a / 4 == b / 4 ? 0.02 : 0.09);
            }
        size_t lt[40], lm[40];
        double ot, om;
        struct placement_stats st;
        struct skyc_error err = {0};
        assert_int_equal(placement_solve_trws(&p, lt, &ot, &st, &err),
                         SKYC_OK);
        assert_true(st.proven_optimal);
        assert_int_equal(placement_solve_milp(&p, lm, &om, NULL, &err),
                         SKYC_OK);
        if (fabs(ot - om) > 1e-6)
            fail_msg("iter %d: trws (%s) %.9f != milp %.9f", iter, st.method,
                     ot, om);
        placement_release(&p);
    }
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
    assert_int_equal(placement_solve_trws(&p, lab, &obj, NULL, &err), SKYC_OK);
    assert_true(fabs(obj - 3) < 1e-9);
    assert_int_equal(lab[0], 1);
    assert_int_equal(lab[1], 1);
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
        cmocka_unit_test(test_tiered_egress_dags),
        cmocka_unit_test(test_frustrated_dags),
        cmocka_unit_test(test_frustrated_triangle),
        cmocka_unit_test(test_trws_matches_milp_on_larger),
        cmocka_unit_test(test_hand_computed),
        cmocka_unit_test(test_diamond_is_not_forest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
