/*
 * Unit tests of spot/: trace formats and their errors, the simulator's tick
 * semantics on hand-made traces, each rule of the policies through
 * spot_decide(), the optimum against brute force, windows, and core/plot.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/plot.h"
#include "spot/markov.h"
#include "spot/policy.h"
#include "spot/sim.h"
#include "spot/trace.h"

#include <setjmp.h>
#include <cmocka.h>

#define H 3600.0

/* ---- traces ---- */

static void test_trace_polarity(void **state)
{
    (void)state;
    struct spot_trace t;
    struct skyc_error err = {0};
    const char *win = "{\"generator\": \"random_start_time\", \"metadata\": "
                      "{\"gap_seconds\": 600, \"start_time\": 3}, "
                      "\"data\": [0, 1, 1, 0]}";
    assert_int_equal(spot_trace_parse(&t, win, strlen(win), "w.json", NULL,
                                      &err),
                     SKYC_OK);
    assert_int_equal(t.format, TRACE_WINDOW);
    assert_int_equal(t.n, 4);
    assert_true(t.gap == 600);
    /* 1 = preempted in window traces */
    assert_int_equal(t.avail[0], 1);
    assert_int_equal(t.avail[1], 0);
    assert_int_equal(t.avail[2], 0);
    assert_int_equal(t.avail[3], 1);
    spot_trace_release(&t);

    const char *cnt = "{\"metadata\": {\"gap_seconds\": 300}, "
                      "\"data\": [0, 1, 4, 16, 3]}";
    assert_int_equal(spot_trace_parse(&t, cnt, strlen(cnt), "c.json", NULL,
                                      &err),
                     SKYC_OK);
    assert_int_equal(t.format, TRACE_COUNT);
    /* value = instances available */
    uint8_t want1[] = {0, 1, 1, 1, 1};
    assert_memory_equal(t.avail, want1, 5);
    spot_trace_release(&t);

    struct trace_read_opts o = {TRACE_COUNT, 4};
    assert_int_equal(spot_trace_parse(&t, cnt, strlen(cnt), "c.json", &o,
                                      &err),
                     SKYC_OK);
    uint8_t want4[] = {0, 0, 1, 1, 0};
    assert_memory_equal(t.avail, want4, 5);
    spot_trace_release(&t);

    /* forcing the window polarity on a 0/1 count file flips it */
    const char *bin = "{\"metadata\": {\"gap_seconds\": 60}, \"data\": [1, 0]}";
    o = (struct trace_read_opts){TRACE_WINDOW, 1};
    assert_int_equal(spot_trace_parse(&t, bin, strlen(bin), "b.json", &o,
                                      &err),
                     SKYC_OK);
    assert_int_equal(t.avail[0], 0);
    assert_int_equal(t.avail[1], 1);
    spot_trace_release(&t);
}

static void test_trace_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *want; /* substring of the message */
    } cases[] = {
        {"{\"metadata\": {\"gap_seconds\": 600},\n \"data\": [0, 1,, 0]}",
         "bad.json:2:"},
        {"[1, 2]", "bad.json: the trace is not a JSON object"},
        {"{\"data\": [0]}", "bad.json: no \"metadata\" object"},
        {"{\"metadata\": {}, \"data\": [0]}",
         "bad.json: metadata.gap_seconds must be"},
        {"{\"metadata\": {\"gap_seconds\": -5}, \"data\": [0]}",
         "metadata.gap_seconds must be"},
        {"{\"metadata\": {\"gap_seconds\": 600}}", "no non-empty \"data\""},
        {"{\"metadata\": {\"gap_seconds\": 600}, \"data\": []}",
         "no non-empty \"data\""},
        {"{\"metadata\": {\"gap_seconds\": 600}, \"data\": [0, \"x\"]}",
         "bad.json: data[1] is not a whole number"},
        {"{\"metadata\": {\"gap_seconds\": 600}, \"data\": [0, 0.5]}",
         "data[1] is not a whole number"},
        {"{\"metadata\": {\"gap_seconds\": 600}, \"data\": [0, 0, -1]}",
         "data[2] is -1, a negative instance count"},
        {"{\"generator\": \"g\", \"metadata\": {\"gap_seconds\": 600}, "
         "\"data\": [0, 2]}",
         "data[1] is 2, but a window trace holds 0 (available) or 1"},
        {"{\"metadata\": {\"gap_seconds\": 1, \"gap_seconds\": 2}, "
         "\"data\": [0]}",
         "bad.json:1:"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct spot_trace t;
        struct skyc_error err = {0};
        enum skyc_err rc = spot_trace_parse(&t, cases[i].text,
                                            strlen(cases[i].text), "bad.json",
                                            NULL, &err);
        if (rc != SKYC_E_INPUT || !strstr(err.msg, cases[i].want))
            fail_msg("case %zu: rc %d, message '%s', want '%s'", i, rc,
                     err.msg, cases[i].want);
        assert_null(t.avail);
    }
}

/* ---- simulator tick semantics ---- */

static struct spot_window window1(const uint8_t *a, size_t n, double gap)
{
    struct spot_window w = {.nzones = 1, .gap = gap, .n = n};
    w.avail[0] = a;
    return w;
}

static void test_sim_overhead_and_billing(void **state)
{
    (void)state;
    /* all spot, d = 720 s > one 600 s tick: 0, 480, 600, 600, 120 */
    static const uint8_t a[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    struct spot_window w = window1(a, 16, 600);
    struct spot_job job = {1800, 6000, 720, 3.0, 1.0};
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_GREEDY);
    struct spot_run r;
    struct spot_tick tl[16];
    size_t n = 0;
    spot_simulate(&p, &job, &w, &r, tl, 16, &n);
    assert_int_equal(n, 5);
    float want[] = {0, 480, 1080, 1680, 1800};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(tl[i].kind, SPOT_SPOT);
        assert_true(tl[i].done == want[i]);
    }
    assert_true(r.finish == 3000);
    assert_true(fabs(r.cost - 5 * 600 / H * 1.0) < 1e-9); /* whole ticks */
    assert_true(r.spot_work == 1800 && r.od_work == 0);
    assert_int_equal(r.changeovers, 1);
    assert_false(r.missed);

    /* on-demand only: one start, ceil((C + d) / tick) ticks at k */
    spot_policy_init(&p, SPOT_POL_OD);
    spot_simulate(&p, &job, &w, &r, NULL, 0, NULL);
    assert_true(fabs(r.cost - 5 * 600 / H * 3.0) < 1e-9);
    assert_true(fabs(r.cost - spot_od_cost(&job, 600)) < 1e-9);
    assert_true(r.od_work == 1800);
}

static void test_sim_preemption(void **state)
{
    (void)state;
    /* spot at ticks 0-2, gone at 3: the interval [2,3) still ran (the
     * preemption is seen at boundary 3), then greedy waits, restarts at 5
     * with a fresh overhead (d = 300 s) */
    static const uint8_t a[] = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    struct spot_window w = window1(a, ARRAY_SIZE(a), 600);
    struct spot_job job = {2400, 12 * 600, 300, 3.0, 1.0};
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_GREEDY);
    struct spot_run r;
    struct spot_tick tl[16];
    size_t n;
    spot_simulate(&p, &job, &w, &r, tl, 16, &n);
    assert_int_equal(tl[0].kind, SPOT_SPOT);
    assert_true(tl[0].done == 300);
    assert_true(tl[2].done == 1500);
    assert_int_equal(tl[3].kind, SPOT_NONE);
    assert_int_equal(tl[4].kind, SPOT_NONE);
    assert_int_equal(tl[5].kind, SPOT_SPOT);
    assert_true(tl[5].done == 1800); /* 1500 + 600 - 300 */
    assert_int_equal(r.preemptions, 1);
    assert_int_equal(r.changeovers, 2);
    assert_true(r.finish == 7 * 600);
}

static void test_sim_new_restart_replaces_pending(void **state)
{
    (void)state;
    /* d = 1500 s = 2.5 ticks. Spot at 0, preempted at 1 with 900 s still
     * pending; on-demand starts at 1 and pays a fresh 1500 s, not 2400 s. */
    static const uint8_t a[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct spot_window w = window1(a, ARRAY_SIZE(a), 600);
    /* a deadline tight enough that the safety net fires at once */
    struct spot_job job = {600, 5 * 600, 1500, 3.0, 1.0};
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_GREEDY);
    struct spot_run r;
    struct spot_tick tl[10];
    size_t n;
    spot_simulate(&p, &job, &w, &r, tl, 10, &n);
    assert_int_equal(tl[0].kind, SPOT_SPOT);
    assert_int_equal(tl[1].kind, SPOT_OD);
    /* od from boundary 1: 0, 0, 300 (pending 1500), then 600 -> 900 > 600 */
    assert_true(tl[1].done == 0 && tl[2].done == 0);
    assert_true(tl[3].done == 300);
    assert_true(tl[4].done == 600);
    assert_true(r.finish == 5 * 600);
    assert_false(r.missed);
}

/* ---- the rules, one by one, through spot_decide() ---- */

static struct spot_state st_make(double t, double done, enum spot_kind cur,
                                 const bool *avail)
{
    /* C = 48 h, D = 60 h, d = 0.2 h, 10-minute ticks */
    return (struct spot_state){.elapsed = t * H,
                               .deadline = 60 * H,
                               .work_total = 48 * H,
                               .work_done = done * H,
                               .overhead = 0.2 * H,
                               .gap = 600,
                               .current = cur,
                               .nzones = 1,
                               .avail = avail,
                               .price_ratio = 3};
}

static enum spot_kind decide(enum spot_policy_id id, struct spot_state s)
{
    struct spot_policy p;
    spot_policy_init(&p, id);
    return spot_decide(&p, &s).kind;
}

static void test_up_rules(void **state)
{
    (void)state;
    static const bool yes[1] = {true}, no[1] = {false};
    /* line at t = 10 h is 8 h */
    /* uniform progress: idle and behind the line, no spot -> on-demand */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 7.5, SPOT_NONE, no)),
                     SPOT_OD);
    /* ... ahead of it -> wait */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 8.5, SPOT_NONE, no)),
                     SPOT_NONE);
    /* taking risks: spot whenever available, even behind */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 7.5, SPOT_NONE, yes)),
                     SPOT_SPOT);
    /* exploitation: stay on a running spot instance */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 7.5, SPOT_SPOT, yes)),
                     SPOT_SPOT);
    /* hysteresis: on on-demand, ahead of the line at t but not at t + 2d
     * (8.32 h at t = 10.4 h... line(10 + 0.4) = 8.32 h) -> stay */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 8.2, SPOT_OD, yes)),
                     SPOT_OD);
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 8.2, SPOT_OD, no)),
                     SPOT_OD);
    /* ... ahead of the line at t + 2d: leave for spot */
    assert_int_equal(decide(SPOT_POL_UP, st_make(10, 8.4, SPOT_OD, yes)),
                     SPOT_SPOT);
    /* safety net: idle with R < C + 2d -> on-demand, even with spot. At
     * t = 20 h, R = 40 h and 39.5 h of work: 39.5 + 0.4 rounds up to 40 h
     * (fires) while 39.5 + 0.2 does not (the end-game guard stays quiet) */
    assert_int_equal(decide(SPOT_POL_UP, st_make(20, 8.5, SPOT_NONE, yes)),
                     SPOT_OD);
    assert_int_equal(decide(SPOT_POL_UP, st_make(20, 8.5, SPOT_SPOT, yes)),
                     SPOT_SPOT); /* a running spot instance rides on */
    assert_int_equal(decide(SPOT_POL_UP, st_make(20, 20.3, SPOT_NONE, no)),
                     SPOT_NONE); /* ahead of the 16 h line, plenty of time */
    /* thrifty: idle once done */
    assert_int_equal(decide(SPOT_POL_UP, st_make(50, 48, SPOT_OD, yes)),
                     SPOT_NONE);

    /* switching rules off */
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_UP);
    p.up.uniform = false;
    struct spot_state s = st_make(10, 7.5, SPOT_NONE, no);
    assert_int_equal(spot_decide(&p, &s).kind, SPOT_NONE);
    spot_policy_init(&p, SPOT_POL_UP);
    p.up.risks = false;
    s = st_make(10, 7.5, SPOT_NONE, yes);
    assert_int_equal(spot_decide(&p, &s).kind, SPOT_OD);
    spot_policy_init(&p, SPOT_POL_UP);
    p.up.safety = false;
    s = st_make(20, 8.5, SPOT_NONE, yes);
    assert_int_equal(spot_decide(&p, &s).kind, SPOT_SPOT);
    spot_policy_init(&p, SPOT_POL_UP);
    p.up.hysteresis = false;
    s = st_make(10, 8.2, SPOT_OD, yes);
    assert_int_equal(spot_decide(&p, &s).kind, SPOT_SPOT);
}

static void test_safety_net_boundary(void **state)
{
    (void)state;
    static const bool yes[1] = {true};
    /* R = 60 - t, remaining work 48 - done; UP's net is R < C + 2d with
     * whole ticks: at t = 11 h, done = 0.5 h: R = 49 h, need 47.5 + 0.4
     * = 47.9 h -> not yet; at done = 0 h: 48.4 h ceil -> 48.5 < 49 no;
     * at t = 11.7 h, done 0: R = 48.3 h, need 48.4 h -> on-demand */
    assert_int_equal(decide(SPOT_POL_UP, st_make(11, 0.5, SPOT_NONE, yes)),
                     SPOT_SPOT);
    assert_int_equal(decide(SPOT_POL_UP, st_make(11.7, 0, SPOT_NONE, yes)),
                     SPOT_OD);
    /* a running spot instance past the net rides on (end-game guard) */
    assert_int_equal(decide(SPOT_POL_UP, st_make(11.7, 0, SPOT_SPOT, yes)),
                     SPOT_SPOT);
}

static void test_greedy_rules(void **state)
{
    (void)state;
    static const bool yes[1] = {true}, no[1] = {false};
    /* spot when available, else wait, however far behind */
    assert_int_equal(decide(SPOT_POL_GREEDY, st_make(10, 0, SPOT_NONE, yes)),
                     SPOT_SPOT);
    assert_int_equal(decide(SPOT_POL_GREEDY, st_make(10, 0, SPOT_NONE, no)),
                     SPOT_NONE);
    /* safety net: R <= C + d -> on-demand, and it stays there */
    assert_int_equal(decide(SPOT_POL_GREEDY, st_make(11.9, 0.05, SPOT_NONE, no)),
                     SPOT_OD);
    assert_int_equal(decide(SPOT_POL_GREEDY, st_make(30, 10, SPOT_OD, yes)),
                     SPOT_OD);
    /* on-demand baseline */
    assert_int_equal(decide(SPOT_POL_OD, st_make(1, 0, SPOT_NONE, yes)),
                     SPOT_OD);
}

static void test_sliced_rules(void **state)
{
    (void)state;
    static const bool yes[1] = {true}, no[1] = {false};
    /* 6 h slices: slice 1 ends at 12 h with a 9.6 h target */
    assert_int_equal(decide(SPOT_POL_SLICED, st_make(7, 9.7, SPOT_NONE, no)),
                     SPOT_NONE);
    /* 2 h to go, 5 h behind the slice target -> on-demand */
    assert_int_equal(decide(SPOT_POL_SLICED, st_make(10, 4.6, SPOT_NONE, no)),
                     SPOT_OD);
    assert_int_equal(decide(SPOT_POL_SLICED, st_make(10, 4.6, SPOT_NONE, yes)),
                     SPOT_SPOT);
}

static void test_multizone(void **state)
{
    (void)state;
    /* zone 0 dies at tick 2, zone 1 has spot: mz-up moves, up waits */
    static const uint8_t z0[] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t z1[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                                 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    struct spot_window w = {.nzones = 2, .gap = 600, .n = ARRAY_SIZE(z0)};
    w.avail[0] = z0;
    w.avail[1] = z1;
    struct spot_job job = {3000, 24 * 600, 300, 3.0, 1.0};
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_MZ_UP);
    struct spot_run r;
    struct spot_tick tl[32];
    size_t n;
    spot_simulate(&p, &job, &w, &r, tl, 32, &n);
    assert_int_equal(tl[1].zone, 0);
    assert_int_equal(tl[2].kind, SPOT_SPOT);
    assert_int_equal(tl[2].zone, 1); /* switched with a new changeover */
    assert_int_equal(r.changeovers, 2);
    assert_true(r.od_work == 0);
    assert_false(r.missed);

    struct spot_run r1;
    spot_policy_init(&p, SPOT_POL_UP);
    spot_simulate(&p, &job, &w, &r1, NULL, 0, NULL);
    assert_true(r1.od_work > 0);
    assert_true(r.cost < r1.cost);
}

/* ---- the optimum against brute force over every schedule ---- */

/* Cost of a fixed schedule under the simulator's semantics; INFINITY when
 * it is invalid (spot where there is none) or misses the deadline. */
static double schedule_cost(const uint8_t *sched, size_t T, const uint8_t *a,
                            const struct spot_job *job, double gap)
{
    double done = 0, pend = 0, cost = 0;
    int last = SPOT_NONE;
    for (size_t t = 0; t < T; t++) {
        int k = sched[t];
        if (k == SPOT_SPOT && !a[t])
            return INFINITY;
        int cur = last == SPOT_SPOT && !a[t] ? SPOT_NONE : last;
        if (k != SPOT_NONE && k != cur)
            pend = job->overhead;
        cost += (k == SPOT_SPOT ? job->spot_price
                 : k == SPOT_OD ? job->od_price
                                : 0) *
                gap / H;
        if (k != SPOT_NONE) {
            double pr = SKYC_MAX(gap - pend, 0);
            pend = SKYC_MAX(pend - gap, 0);
            done = SKYC_MIN(done + pr, job->duration);
        }
        last = k;
        if (done >= job->duration)
            return (double)(t + 1) * gap <= job->deadline ? cost : INFINITY;
    }
    return INFINITY;
}

static double brute(const uint8_t *a, size_t T, const struct spot_job *job,
                    double gap)
{
    uint8_t s[12];
    double best = INFINITY;
    size_t total = 1;
    for (size_t i = 0; i < T; i++)
        total *= 3;
    for (size_t code = 0; code < total; code++) {
        size_t c = code;
        for (size_t i = 0; i < T; i++) {
            s[i] = (uint8_t)(c % 3);
            c /= 3;
        }
        best = SKYC_MIN(best, schedule_cost(s, T, a, job, gap));
    }
    return best;
}

static void test_optimum_brute_force(void **state)
{
    (void)state;
    uint64_t x = 12345;
    const double gap = 600;
    static const double overheads[] = {0, 300, 600, 900, 1500};
    for (int trial = 0; trial < 150; trial++) {
        uint8_t a[8];
        for (size_t i = 0; i < 8; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            a[i] = (uint8_t)((x >> 33) % 3 != 0);
        }
        struct spot_job job = {
            .duration = 600.0 * (1 + trial % 4) + (trial % 3) * 300,
            .deadline = 8 * gap,
            .overhead = overheads[trial % ARRAY_SIZE(overheads)],
            .od_price = 3.06,
            .spot_price = 0.9731,
        };
        struct spot_window w = window1(a, 8, gap);
        struct spot_run r;
        struct spot_tick tl[8];
        size_t n = 0;
        struct skyc_error err = {0};
        double want = brute(a, 8, &job, gap);
        enum skyc_err rc = spot_optimum(&job, &w, &r, tl, 8, &n, &err);
        if (want == INFINITY) {
            assert_int_equal(rc, SKYC_E_DEADLINE);
            continue;
        }
        if (rc != SKYC_OK || fabs(r.cost - want) > 1e-9)
            fail_msg("trial %d: optimum %g (rc %d: %s), brute force %g", trial,
                     r.cost, rc, err.msg, want);
        /* the reconstructed schedule is valid and costs the optimum */
        uint8_t sched[8] = {0};
        for (size_t i = 0; i < n; i++)
            sched[i] = tl[i].kind;
        assert_true(fabs(schedule_cost(sched, n, a, &job, gap) - want) < 1e-9);
        assert_true(fabs(r.spot_work + r.od_work - job.duration) < 1e-6);
        /* and no online policy beats it */
        static const enum spot_policy_id ids[] = {
            SPOT_POL_OD, SPOT_POL_GREEDY, SPOT_POL_UP, SPOT_POL_ADAPTIVE,
            SPOT_POL_SLICED};
        for (size_t k = 0; k < ARRAY_SIZE(ids); k++) {
            struct spot_policy p;
            spot_policy_init(&p, ids[k]);
            struct spot_run o;
            spot_simulate(&p, &job, &w, &o, NULL, 0, NULL);
            if (!o.missed)
                assert_true(o.cost >= r.cost - 1e-9);
        }
    }
}

/* ---- ours: the markov table ---- */

static void test_markov(void **state)
{
    (void)state;
    uint64_t x = 777;
    /* fit on random traces, then decide on others: never a miss, never
     * below the optimum, and a lookup for every state the simulator makes */
    uint8_t tr[40][48];
    struct spot_window w[40];
    for (size_t i = 0; i < 40; i++) {
        int a = 1;
        for (size_t t = 0; t < 48; t++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            if ((x >> 33) % 4 == 0)
                a = !a; /* runs and outages of random length */
            tr[i][t] = (uint8_t)a;
        }
        w[i] = window1(tr[i], 48, 600);
    }
    struct spot_markov_model mm;
    spot_markov_fit(w, 20, &mm);
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++)
            assert_true(mm.hazard[a][g] > 0.1 && mm.hazard[a][g] < 0.5);
    static const double overheads[] = {0, 300, 900};
    for (size_t k = 0; k < ARRAY_SIZE(overheads); k++) {
        struct spot_job job = {12 * 600, 30 * 600, overheads[k], 3.06, 0.9731};
        struct spot_markov m;
        struct skyc_error err = {0};
        assert_int_equal(spot_markov_build(&m, &job, 600, &mm, &err), SKYC_OK);
        assert_true(m.expected > 0 && m.expected < spot_od_cost(&job, 600));
        struct spot_policy p;
        spot_policy_init(&p, SPOT_POL_MARKOV);
        p.markov = &m;
        double mk = 0, up = 0;
        for (size_t i = 20; i < 40; i++) {
            struct spot_run r, o, u;
            spot_simulate(&p, &job, &w[i], &r, NULL, 0, NULL);
            assert_false(r.missed);
            assert_int_equal(spot_optimum(&job, &w[i], &o, NULL, 0, NULL, &err),
                             SKYC_OK);
            assert_true(r.cost >= o.cost - 1e-9);
            struct spot_policy pu;
            spot_policy_init(&pu, SPOT_POL_UP);
            spot_simulate(&pu, &job, &w[i], &u, NULL, 0, NULL);
            mk += r.cost;
            up += u.cost;
        }
        assert_true(mk <= up); /* on its own model's traces it is no worse */
        /* a state off the table's grid falls back (-1) */
        static const bool yes[1] = {true};
        struct spot_state s = {.elapsed = 150, .deadline = job.deadline,
                               .work_total = job.duration, .overhead =
                               job.overhead, .gap = 600, .nzones = 1,
                               .avail = yes};
        assert_int_equal(spot_markov_lookup(&m, &s), -1);
        s.elapsed = 600;
        assert_true(spot_markov_lookup(&m, &s) >= 0);
        spot_markov_release(&m);
    }
    /* the cross-fitted evaluation fills every run */
    struct spot_run runs[40];
    memset(runs, 0xff, sizeof(runs));
    struct spot_job job = {12 * 600, 30 * 600, 300, 3.06, 0.9731};
    struct skyc_error err = {0};
    assert_int_equal(spot_eval_markov(&job, w, 40, false, runs, &err), SKYC_OK);
    for (size_t i = 0; i < 40; i++) {
        assert_false(runs[i].missed);
        assert_true(fabs(runs[i].spot_work + runs[i].od_work - job.duration) <
                    1e-6);
    }
}

/* ---- windows over long traces ---- */

static void test_windows_cut(void **state)
{
    (void)state;
    struct trace_set sets[2];
    struct spot_trace tr[2];
    uint8_t *d0 = xcalloc(1000, 1), *d1 = xcalloc(1000, 1);
    for (size_t i = 0; i < 1000; i++) {
        d0[i] = (uint8_t)(i % 2);
        d1[i] = (uint8_t)(i % 3 == 0);
    }
    tr[0] = (struct spot_trace){xstrdup("a"), TRACE_COUNT, 600, 1000, d0};
    tr[1] = (struct spot_trace){xstrdup("b"), TRACE_COUNT, 600, 1000, d1};
    sets[0] = (struct trace_set){xstrdup("a"), &tr[0], 1, 1};
    sets[1] = (struct trace_set){xstrdup("b"), &tr[1], 1, 1};
    const struct trace_set *zs[2] = {&sets[0], &sets[1]};
    struct spot_window *w = NULL, *w2 = NULL;
    size_t n = 0, n2 = 0;
    struct skyc_error err = {0};
    assert_int_equal(spot_windows_make(zs, 2, 50, 100 * 600, 7, &w, &n, &err),
                     SKYC_OK);
    assert_int_equal(n, 50);
    assert_int_equal(spot_windows_make(zs, 2, 50, 100 * 600, 7, &w2, &n2, &err),
                     SKYC_OK);
    for (size_t i = 0; i < n; i++) {
        size_t start = (size_t)(w[i].avail[0] - d0);
        assert_true(start + 100 <= 1000);
        assert_ptr_equal(w[i].avail[1], d1 + start); /* aligned zones */
        assert_ptr_equal(w[i].avail[0], w2[i].avail[0]); /* deterministic */
        assert_int_equal(w[i].n, 1000 - start);
    }
    free(w);
    free(w2);
    /* too short */
    assert_int_equal(spot_windows_make(zs, 1, 5, 2000 * 600, 7, &w, &n, &err),
                     SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "too short"));
    for (int k = 0; k < 2; k++) {
        spot_trace_release(&tr[k]);
        free(sets[k].name);
    }
}

/* ---- plot ---- */

static void test_plot_svg(void **state)
{
    (void)state;
    struct plot p;
    plot_init(&p, "a <title> & more", "x", "y");
    size_t s = plot_add_series(&p, "up");
    plot_add_point(&p, s, 0, 1);
    plot_add_point(&p, s, 1, 0.5);
    plot_add_point(&p, s, 2, NAN); /* dropped */
    size_t b = plot_add_band(&p, "band");
    plot_band_span(&p, b, 0, 1, PLOT_SPAN_A);
    plot_band_span(&p, b, 1, 2, PLOT_SPAN_A); /* merged */
    plot_band_span(&p, b, 2, 3, PLOT_SPAN_B);
    plot_span_legend(&p, PLOT_SPAN_A, "spot");
    plot_set_vline(&p, 2.5, "deadline");
    assert_int_equal(p.series[0].n, 2);
    assert_int_equal(p.bands[0].n, 2);
    char *svg = plot_svg_string(&p);
    assert_non_null(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_non_null(strstr(svg, "a &lt;title&gt; &amp; more"));
    assert_non_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, ">deadline<"));
    assert_non_null(strstr(svg, ">spot<"));
    assert_non_null(strstr(svg, "</svg>\n"));
    free(svg);
    struct skyc_error err = {0};
    assert_int_equal(plot_write_svg(&p, "/nonexistent-dir/x.svg", &err),
                     SKYC_E_IO);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.svg"));
    plot_release(&p);
}

static void test_policy_names(void **state)
{
    (void)state;
    enum spot_policy_id id;
    for (int i = 0; i < SPOT_POL_COUNT; i++) {
        assert_true(spot_policy_by_name(
            spot_policy_name((enum spot_policy_id)i), &id));
        assert_int_equal(id, i);
    }
    assert_false(spot_policy_by_name("uniform", &id));
    struct spot_policy p;
    spot_policy_init(&p, SPOT_POL_ADAPTIVE);
    assert_true(spot_policy_set(&p, "streak", 3));
    assert_true(p.streak == 3);
    assert_false(spot_policy_set(&p, "streak", -1));
    assert_false(spot_policy_set(&p, "nope", 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_polarity),
        cmocka_unit_test(test_trace_errors),
        cmocka_unit_test(test_sim_overhead_and_billing),
        cmocka_unit_test(test_sim_preemption),
        cmocka_unit_test(test_sim_new_restart_replaces_pending),
        cmocka_unit_test(test_up_rules),
        cmocka_unit_test(test_safety_net_boundary),
        cmocka_unit_test(test_greedy_rules),
        cmocka_unit_test(test_sliced_rules),
        cmocka_unit_test(test_multizone),
        cmocka_unit_test(test_optimum_brute_force),
        cmocka_unit_test(test_markov),
        cmocka_unit_test(test_windows_cut),
        cmocka_unit_test(test_plot_svg),
        cmocka_unit_test(test_policy_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
