/* Unit tests of jobs/: the jobs database, the bill so far, the recovery
 * strategies' placement and the deadline mode's use of the policy engine. */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "jobs/jobs.h"
#include "spot/policy.h"

#include <math.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/skyc-jobs-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    setenv("XDG_STATE_HOME", tmpdir, 1);
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    path_remove_tree(tmpdir);
    return 0;
}

static struct mjob job(const char *strategy)
{
    struct mjob j = {
        .task = "/t.yaml",
        .cwd = "/",
        .provider = "sim",
        .status = MJOB_PENDING,
        .strategy = (char *)strategy,
        .hourly = NAN,
        .od_hourly = NAN,
        .ended_at = NAN,
        .sim_launched = NAN,
        .sim_running = NAN,
    };
    return j;
}

static void test_db(void **state)
{
    (void)state;
    struct jobs_db db;
    struct skyc_error err = {0};
    assert_int_equal(jobs_db_open(&db, &err), SKYC_OK);
    struct mjob a = job(MJOB_FAILOVER), b = job(MJOB_EAGER);
    a.name = "train";
    a.recover_codes = "3,42";
    assert_int_equal(jobs_db_add(&db, &a, &err), SKYC_OK);
    assert_int_equal(jobs_db_add(&db, &b, &err), SKYC_OK);
    assert_int_equal(a.id, 1);
    assert_int_equal(b.id, 2);

    struct mjob g;
    assert_int_equal(jobs_db_get(&db, 1, &g, &err), SKYC_OK);
    assert_string_equal(g.name, "train");
    assert_string_equal(g.recover_codes, "3,42");
    assert_true(isnan(g.hourly));
    assert_null(g.cluster);
    /* every field round-trips through an update */
    free(g.status);
    g.status = xstrdup(MJOB_RUNNING);
    g.cluster = xstrdup("mj1-1");
    g.hourly = 0.03;
    g.sim_launched = 100;
    g.sim_running = 160;
    g.cost = 1.5;
    g.retiring = xstrdup("mj1-0");
    assert_int_equal(jobs_db_update(&db, &g, &err), SKYC_OK);
    mjob_release(&g);
    assert_int_equal(jobs_db_get(&db, 1, &g, &err), SKYC_OK);
    assert_string_equal(g.status, MJOB_RUNNING);
    assert_string_equal(g.cluster, "mj1-1");
    assert_string_equal(g.retiring, "mj1-0");
    assert_true(fabs(g.hourly - 0.03) < 1e-12);

    /* cancel is sticky: an update by the controller never clears it */
    assert_int_equal(jobs_db_request_cancel(&db, 1, &err), SKYC_OK);
    assert_false(g.cancel_requested);
    assert_int_equal(jobs_db_update(&db, &g, &err), SKYC_OK);
    mjob_release(&g);
    assert_int_equal(jobs_db_get(&db, 1, &g, &err), SKYC_OK);
    assert_true(g.cancel_requested);
    mjob_release(&g);
    assert_int_equal(jobs_db_request_cancel(&db, 9, &err), SKYC_E_NOT_FOUND);
    assert_int_equal(jobs_db_get(&db, 9, &g, &err), SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no managed job 9"));

    /* only unfinished ones */
    b.status = MJOB_SUCCEEDED;
    assert_int_equal(jobs_db_update(&db, &b, &err), SKYC_OK);
    struct mjob *js;
    size_t n;
    assert_int_equal(jobs_db_list(&db, true, &js, &n, &err), SKYC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(js[0].id, 1);
    mjob_list_free(js, n);
    assert_int_equal(jobs_db_list(&db, false, &js, &n, &err), SKYC_OK);
    assert_int_equal(n, 2);
    mjob_list_free(js, n);

    /* events in order, numbered per job */
    assert_int_equal(jobs_db_event(&db, 1, 10, "LAUNCH", "mj1-1", 0, &err,
                                   "spot %s", "us-east-1"),
                     SKYC_OK);
    assert_int_equal(jobs_db_event(&db, 2, 11, "LAUNCH", NULL, 0, &err, "x"),
                     SKYC_OK);
    assert_int_equal(jobs_db_event(&db, 1, 12, "PREEMPTED", "mj1-1", 0.25,
                                   &err, "node 0 preempted"),
                     SKYC_OK);
    struct mjob_event *ev;
    assert_int_equal(jobs_db_events(&db, 1, &ev, &n, &err), SKYC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ev[1].seq, 2);
    assert_string_equal(ev[0].detail, "spot us-east-1");
    assert_string_equal(ev[1].kind, "PREEMPTED");
    assert_true(fabs(ev[1].cost - 0.25) < 1e-12);
    mjob_events_free(ev, n);

    /* the controller's incremental read: rows above the last id it saw
     * (unfinished, or finished with a cluster still to tear down), and
     * cancel requests at or below it */
    struct mjob c3 = job(MJOB_FAILOVER), c4 = job(MJOB_FAILOVER);
    c3.status = MJOB_SUCCEEDED;
    c3.retiring = "mj3-1";
    c3.env = "{\"SKYC_SIM_CONFIG\":\"/a.yaml\"}";
    c4.status = MJOB_CANCELLED;
    assert_int_equal(jobs_db_add(&db, &c3, &err), SKYC_OK);
    assert_int_equal(jobs_db_add(&db, &c4, &err), SKYC_OK);
    assert_int_equal(jobs_db_list_work(&db, 0, &js, &n, &err), SKYC_OK);
    assert_int_equal(n, 2); /* 1 (running) and 3 (retiring) */
    assert_int_equal(js[0].id, 1);
    assert_int_equal(js[1].id, 3);
    assert_string_equal(js[1].env, "{\"SKYC_SIM_CONFIG\":\"/a.yaml\"}");
    assert_null(js[0].env);
    mjob_list_free(js, n);
    assert_int_equal(jobs_db_list_work(&db, 3, &js, &n, &err), SKYC_OK);
    assert_int_equal(n, 1); /* job 1's cancel request */
    assert_int_equal(js[0].id, 1);
    assert_true(js[0].cancel_requested);
    mjob_list_free(js, n);
    /* a transaction rolled back leaves nothing */
    assert_int_equal(jobs_db_begin(&db, &err), SKYC_OK);
    assert_int_equal(jobs_db_add(&db, &c4, &err), SKYC_OK);
    jobs_db_rollback(&db);
    assert_int_equal(jobs_db_list(&db, false, &js, &n, &err), SKYC_OK);
    assert_int_equal(n, 4);
    mjob_list_free(js, n);
    jobs_db_close(&db);
}

/* Which variables a job keeps, and applying a snapshot. */
static void test_env(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool kept;
    } cases[] = {
        {"SKYC_SIM_CONFIG", true},  {"SKYC_CATALOG_DIR", true},
        {"SKYC_SHARED_DATA", true}, {"PATH", true},
        {"XDG_CONFIG_HOME", true},  {"XDG_CACHE_HOME", true},
        {"SKYC_JOBS_POLL_MS", false}, {"SKYC_JOBS_", false},
        {"XDG_STATE_HOME", false},  {"HOME", false},
        {"SKYC", false},            {"PATHX", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(jobs_env_kept(cases[i].name, strlen(cases[i].name)),
                         cases[i].kept);
    setenv("SKYC_TEST_A", "one", 1);
    setenv("SKYC_TEST_B", "two", 1);
    setenv("SKYC_JOBS_TEST", "ctl", 1);
    char *snap = jobs_env_snapshot();
    assert_non_null(strstr(snap, "\"SKYC_TEST_A\":\"one\""));
    assert_null(strstr(snap, "SKYC_JOBS_TEST"));
    assert_null(strstr(snap, "XDG_STATE_HOME"));
    /* another job's settings: B dropped, A changed, C added; the
     * controller's own knobs and XDG_STATE_HOME untouched */
    jobs_env_apply("{\"SKYC_TEST_A\":\"uno\",\"SKYC_TEST_C\":\"tres\","
                   "\"XDG_STATE_HOME\":\"/nope\",\"PATH\":\"/bin\"}");
    assert_string_equal(getenv("SKYC_TEST_A"), "uno");
    assert_null(getenv("SKYC_TEST_B"));
    assert_string_equal(getenv("SKYC_TEST_C"), "tres");
    assert_string_equal(getenv("SKYC_JOBS_TEST"), "ctl");
    assert_string_equal(getenv("XDG_STATE_HOME"), tmpdir);
    assert_string_equal(getenv("PATH"), "/bin");
    /* back; and junk changes nothing */
    jobs_env_apply(snap);
    jobs_env_apply("not json");
    jobs_env_apply(NULL);
    assert_string_equal(getenv("SKYC_TEST_A"), "one");
    assert_string_equal(getenv("SKYC_TEST_B"), "two");
    assert_null(getenv("SKYC_TEST_C"));
    free(snap);
}

static void test_statuses_and_bill(void **state)
{
    (void)state;
    const char *term[] = {MJOB_SUCCEEDED, MJOB_FAILED, MJOB_FAILED_SETUP,
                          MJOB_FAILED_NO_RESOURCE, MJOB_CANCELLED};
    const char *live[] = {MJOB_PENDING, MJOB_STARTING, MJOB_RUNNING,
                          MJOB_RECOVERING};
    for (size_t i = 0; i < 5; i++)
        assert_true(mjob_status_terminal(term[i]));
    for (size_t i = 0; i < 4; i++)
        assert_false(mjob_status_terminal(live[i]));

    struct mjob j = job(MJOB_FAILOVER);
    j.cost = 0.5;    /* finished clusters */
    j.run_s = 3600;  /* one hour run on them */
    j.od_hourly = 0.09;
    double od;
    /* no cluster now: the bill is what finished */
    assert_true(fabs(mjob_cost_now(&j, 1e6, &od) - 0.5) < 1e-12);
    assert_true(fabs(od - 0.09) < 1e-12);
    /* a spot cluster asked for at 1000 s, running since 1360 s */
    j.cluster = "mj1-2";
    j.hourly = 0.03;
    j.sim_launched = 1000;
    j.sim_running = 1360;
    double c = mjob_cost_now(&j, 1000 + 7200, &od);
    assert_true(fabs(c - (0.5 + 0.06)) < 1e-12);
    assert_true(fabs(mjob_run_now(&j, 8200) - (3600 + 6840)) < 1e-9);
    assert_true(fabs(od - 0.09 * (3600 + 6840) / 3600) < 1e-12);
}

static void test_recovery_plans(void **state)
{
    (void)state;
    struct mjob f = job(MJOB_FAILOVER), e = job(MJOB_EAGER);
    struct mjob_plan p;
    mjob_plan_recovery(&f, NULL, 0, &p);
    assert_null(p.region);
    assert_null(p.avoid_region);
    /* FAILOVER: the lost region first, then anywhere */
    mjob_plan_recovery(&f, "us-east-1", 0, &p);
    assert_string_equal(p.region, "us-east-1");
    assert_null(p.avoid_region);
    mjob_plan_recovery(&f, "us-east-1", 1, &p);
    assert_null(p.region);
    /* EAGER_NEXT_REGION: anywhere but the lost region, then anywhere */
    mjob_plan_recovery(&e, "us-east-1", 0, &p);
    assert_null(p.region);
    assert_string_equal(p.avoid_region, "us-east-1");
    mjob_plan_recovery(&e, "us-east-1", 1, &p);
    assert_null(p.avoid_region);
    assert_int_equal(p.spot, 0); /* the task's own choice of spot */
}

/* Table of what the controller saw -> lost node / lost cluster / user. */
static void test_loss_classes(void **state)
{
    (void)state;
#define R NODE_RUNNING
#define P NODE_PREEMPTED
#define T NODE_TERMINATED
#define S NODE_STOPPED
    static const struct {
        enum provider_node_state st[3];
        size_t n;
        bool job_failed;
        enum mjob_loss want;
        size_t lost;
    } cases[] = {
        {{R, R}, 2, false, MJOB_LOSS_NONE, 0},
        {{R, R}, 2, true, MJOB_LOSS_USER, 0},   /* exit code, healthy */
        {{R, P}, 2, false, MJOB_LOSS_NODES, 1},
        {{R, P}, 2, true, MJOB_LOSS_NODES, 1},  /* killed with its node */
        {{T, R, R}, 3, true, MJOB_LOSS_NODES, 1},
        {{P, R, P}, 3, false, MJOB_LOSS_NODES, 2},
        {{P, P}, 2, false, MJOB_LOSS_CLUSTER, 2},
        {{P, T, P}, 3, true, MJOB_LOSS_CLUSTER, 3},
        {{P}, 1, false, MJOB_LOSS_CLUSTER, 1},  /* one node = the cluster */
        {{R}, 1, true, MJOB_LOSS_USER, 0},
        {{R}, 0, false, MJOB_LOSS_CLUSTER, 0},  /* the cluster row is gone */
        {{S, R}, 2, false, MJOB_LOSS_NONE, 0},  /* stopped is not lost */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        size_t lost = 99;
        enum mjob_loss got = mjob_classify(cases[i].st, cases[i].n,
                                           cases[i].job_failed, &lost);
        if (got != cases[i].want || lost != cases[i].lost)
            fail_msg("case %zu: got %s (%zu lost), want %s (%zu)", i,
                     mjob_loss_name(got), lost, mjob_loss_name(cases[i].want),
                     cases[i].lost);
    }
}
#undef R
#undef P
#undef T
#undef S

/* Table of when a lost node is replaced in place, and how. */
static void test_node_loss_plans(void **state)
{
    (void)state;
    static const struct {
        const char *strategy;
        enum mjob_loss loss;
        size_t nnodes, nlost;
        bool can;
        int kind;
        bool same_zone;
        bool replace;
        int spot;
        const char *why;
    } cases[] = {
        {MJOB_FAILOVER, MJOB_LOSS_NODES, 2, 1, true, 0, true, true, 0,
         "same zone"},
        {MJOB_FAILOVER, MJOB_LOSS_NODES, 3, 2, true, 0, true, true, 0,
         "same zone"},
        {MJOB_FAILOVER, MJOB_LOSS_NODES, 2, 1, false, 0, true, false, 0,
         "the provider cannot replace one node"},
        {MJOB_FAILOVER, MJOB_LOSS_CLUSTER, 2, 2, true, 0, true, false, 0,
         "the whole cluster was lost"},
        {MJOB_FAILOVER, MJOB_LOSS_USER, 2, 0, true, 0, true, false, 0,
         "the whole cluster was lost"},
        {MJOB_FAILOVER, MJOB_LOSS_NODES, 1, 1, true, 0, true, false, 0,
         "the whole cluster was lost"},
        {MJOB_EAGER, MJOB_LOSS_NODES, 2, 1, true, 0, true, false, 0,
         "EAGER_NEXT_REGION moves the whole cluster"},
        {MJOB_DEADLINE, MJOB_LOSS_NODES, 2, 1, true, SPOT_SPOT, true, true, 2,
         "policy: spot in the same zone"},
        {MJOB_DEADLINE, MJOB_LOSS_NODES, 2, 1, true, SPOT_SPOT, false, false,
         0, "policy: spot in another zone"},
        {MJOB_DEADLINE, MJOB_LOSS_NODES, 2, 1, true, SPOT_OD, true, false, 0,
         "policy: on-demand"},
        {MJOB_DEADLINE, MJOB_LOSS_NODES, 2, 1, true, SPOT_NONE, true, false,
         0, "policy: wait for spot"},
        {MJOB_DEADLINE, MJOB_LOSS_NODES, 2, 1, false, SPOT_SPOT, true, false,
         0, "the provider cannot replace one node"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct mjob j = job(cases[i].strategy);
        struct mjob_node_plan p;
        mjob_plan_node_loss(&j, cases[i].loss, cases[i].nnodes,
                            cases[i].nlost, cases[i].can, cases[i].kind,
                            cases[i].same_zone, &p);
        if (p.replace != cases[i].replace || p.spot != cases[i].spot ||
            strcmp(p.why, cases[i].why))
            fail_msg("case %zu: got replace=%d spot=%d '%s', want %d %d '%s'",
                     i, p.replace, p.spot, p.why, cases[i].replace,
                     cases[i].spot, cases[i].why);
    }
}

static void test_deadline_decisions(void **state)
{
    (void)state;
    struct mjob j = job(MJOB_DEADLINE);
    j.policy = "up";
    j.work_s = 10 * 3600;
    j.deadline_s = 20 * 3600;
    struct mjob_zone z[2] = {
        {.region = "r", .zone = "a", .spot_price = 1, .od_price = 3,
         .avail = true, .streak = 5},
        {.region = "r", .zone = "b", .spot_price = 1.2, .od_price = 3,
         .avail = true, .streak = 5},
    };
    int zone;
    double gap = 600, d = 600;
    /* plenty of slack and spot: take spot */
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 0, 0, gap, d, 0, 1,
                                 &zone),
                     SPOT_SPOT);
    assert_int_equal(zone, 0);
    /* no spot and ahead of the uniform-progress line: wait */
    z[0].avail = false;
    z[0].streak = 0;
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 2 * 3600, 5 * 3600,
                                 gap, d, 0, 12, &zone),
                     SPOT_NONE);
    /* no spot and behind it: on-demand */
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 8 * 3600, 2 * 3600,
                                 gap, d, 0, 48, &zone),
                     SPOT_OD);
    /* deadline pressure: even with spot, a fresh start could not finish on
     * anything but on-demand */
    z[0].avail = true;
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 15 * 3600,
                                 5.2 * 3600, gap, d, 0, 90, &zone),
                     SPOT_OD);
    /* single-zone up cannot move zone; multi-zone up moves to b */
    z[0].avail = false;
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 1 * 3600, 0.9 * 3600,
                                 gap, d, 0, 6, &zone),
                     SPOT_NONE);
    j.policy = "mz-up";
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 1 * 3600, 0.9 * 3600,
                                 gap, d, 0, 6, &zone),
                     SPOT_SPOT);
    assert_int_equal(zone, 1);
    /* done: nothing more to run */
    assert_int_equal(mjob_decide(&j, z, 2, SPOT_NONE, 0, 1, 10 * 3600, gap, d,
                                 0, 6, &zone),
                     SPOT_NONE);
    /* no zone known: never spot */
    j.policy = "greedy";
    assert_int_not_equal(mjob_decide(&j, z, 0, SPOT_NONE, 0, 0, 0, gap, d, 0,
                                     1, &zone),
                         SPOT_SPOT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_db, setup, teardown_dir),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown_dir),
        cmocka_unit_test(test_statuses_and_bill),
        cmocka_unit_test(test_recovery_plans),
        cmocka_unit_test(test_loss_classes),
        cmocka_unit_test(test_node_loss_plans),
        cmocka_unit_test(test_deadline_decisions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
