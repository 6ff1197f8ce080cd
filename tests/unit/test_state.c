/* Unit tests of state/: clusters, nodes, jobs, history, attempts, schema. */
#include "core/common.h"
#include "core/alloc.h"
#include "state/state.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <unistd.h>

static char *tmp_db(void)
{
    char tmpl[] = "/tmp/skyc-state-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    close(fd);
    unlink(tmpl);
    return xstrdup(tmpl);
}

static void drop_db(char *path)
{
    char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
    unlink(path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
    free(path);
}

static struct state_cluster cluster(const char *name)
{
    struct state_cluster c = {
        .name = (char *)name,
        .provider = "local",
        .status = CLUSTER_INIT,
        .num_nodes = 2,
        .hourly_price = NAN,
        .cpus = 4,
        .launched_at = 100,
        .updated_at = 100,
        .owner_pid = 42,
        .autostop_minutes = -1,
    };
    return c;
}

static void test_clusters(void **state)
{
    (void)state;
    char *path = tmp_db();
    struct state st;
    struct skyc_error err = {0};
    assert_int_equal(state_open_path(&st, path, &err), SKYC_OK);
    struct state_cluster c = cluster("a"), got;
    assert_int_equal(state_cluster_insert(&st, &c, &err), SKYC_OK);
    assert_int_equal(state_cluster_insert(&st, &c, &err), SKYC_E_STATE);
    assert_non_null(strstr(err.msg, "'a' already exists"));
    skyc_error_clear(&err);
    assert_int_equal(state_cluster_get(&st, "b", &got, &err),
                     SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no cluster named 'b'"));
    assert_int_equal(state_cluster_get(&st, "a", &got, NULL), SKYC_OK);
    assert_string_equal(got.status, CLUSTER_INIT);
    assert_true(isnan(got.hourly_price)); /* NaN round-trips as NULL */
    assert_null(got.region);
    assert_int_equal(got.owner_pid, 42);
    free(got.status);
    got.status = xstrdup(CLUSTER_UP);
    got.region = xstrdup("local");
    assert_int_equal(state_cluster_update(&st, &got, NULL), SKYC_OK);
    state_cluster_release(&got);
    struct state_cluster *cs;
    size_t n;
    struct state_cluster b = cluster("b");
    b.launched_at = 200;
    assert_int_equal(state_cluster_insert(&st, &b, NULL), SKYC_OK);
    assert_int_equal(state_cluster_list(&st, &cs, &n, NULL), SKYC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(cs[0].name, "a");
    assert_string_equal(cs[0].status, CLUSTER_UP);
    assert_string_equal(cs[0].region, "local");
    state_cluster_list_free(cs, n);

    struct state_node nodes[2] = {
        {.rank = 0, .id = "a/node-0", .ip = "127.0.0.1", .cpus = 4},
        {.rank = 1, .id = "a/node-1", .ip = "127.0.0.1", .cpus = 4},
    };
    struct state_node *gn;
    assert_int_equal(state_nodes_set(&st, "a", nodes, 2, NULL), SKYC_OK);
    assert_int_equal(state_nodes_set(&st, "a", nodes, 2, NULL), SKYC_OK);
    assert_int_equal(state_nodes_get(&st, "a", &gn, &n, NULL), SKYC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(gn[1].id, "a/node-1");
    state_nodes_free(gn, n);
    assert_int_equal(state_cluster_delete(&st, "a", NULL), SKYC_OK);
    assert_int_equal(state_nodes_get(&st, "a", &gn, &n, NULL), SKYC_OK);
    assert_int_equal(n, 0);
    free(gn);
    state_close(&st);
    drop_db(path);
}

static void test_jobs(void **state)
{
    (void)state;
    char *path = tmp_db();
    struct state st, st2;
    assert_int_equal(state_open_path(&st, path, NULL), SKYC_OK);
    assert_int_equal(state_open_path(&st2, path, NULL), SKYC_OK);
    /* two handles (as two processes) allocate distinct ids */
    for (int i = 0; i < 6; i++) {
        struct state_job j = {.cluster = "c", .status = JOB_PENDING,
                              .exit_code = -1, .cpus = 1, .num_nodes = 1,
                              .started_at = NAN, .ended_at = NAN,
                              .run = "echo hi", .log_path = "/x.log"};
        assert_int_equal(state_job_add(i % 2 ? &st2 : &st, &j, NULL), SKYC_OK);
        assert_int_equal(j.id, i + 1);
    }
    long last;
    assert_int_equal(state_job_last_id(&st, "c", &last, NULL), SKYC_OK);
    assert_int_equal(last, 6);
    assert_int_equal(state_job_last_id(&st, "none", &last, NULL), SKYC_OK);
    assert_int_equal(last, 0);
    bool moved;
    assert_int_equal(state_job_transition(&st, "c", 1, JOB_PENDING,
                                          JOB_RUNNING, &moved, NULL),
                     SKYC_OK);
    assert_true(moved);
    /* a cancel racing the agent: only one side wins */
    assert_int_equal(state_job_transition(&st2, "c", 1, JOB_PENDING,
                                          JOB_CANCELLED, &moved, NULL),
                     SKYC_OK);
    assert_false(moved);
    assert_int_equal(state_job_request_cancel(&st2, "c", 1, NULL), SKYC_OK);
    struct state_job j;
    assert_int_equal(state_job_get(&st, "c", 1, &j, NULL), SKYC_OK);
    assert_string_equal(j.status, JOB_RUNNING);
    assert_true(j.cancel_requested);
    assert_false(isnan(j.started_at));
    assert_true(isnan(j.ended_at));
    assert_string_equal(j.envs, "{}");
    state_job_release(&j);
    struct state_job *jobs;
    size_t n;
    assert_int_equal(state_job_transition(&st, "c", 2, JOB_PENDING,
                                          JOB_CANCELLED, &moved, NULL),
                     SKYC_OK);
    assert_int_equal(state_job_list(&st, "c", true, &jobs, &n, NULL), SKYC_OK);
    assert_int_equal(n, 5); /* job 2 is done */
    assert_int_equal(jobs[1].id, 3);
    state_job_list_free(jobs, n);
    struct skyc_error err = {0};
    assert_int_equal(state_job_get(&st, "c", 99, &j, &err), SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "no job 99"));
    assert_true(job_status_terminal(JOB_FAILED_SETUP));
    assert_false(job_status_terminal(JOB_SETTING_UP));
    state_close(&st2);
    state_close(&st);
    drop_db(path);
}

static void test_history(void **state)
{
    (void)state;
    char *path = tmp_db();
    struct state st;
    assert_int_equal(state_open_path(&st, path, NULL), SKYC_OK);
    struct state_history h = {.cluster = "a", .provider = "sim",
                              .cloud = "sim:gcp", .num_nodes = 2,
                              .hourly_price = 3.0, .launched_at = 1000,
                              .ended_at = NAN, .billed_seconds = 600,
                              .running_since = 2000, .status = "UP"};
    assert_int_equal(state_history_add(&st, &h, NULL), SKYC_OK);
    assert_true(h.id > 0);
    /* billed 600 s + 400 s of the current stretch */
    assert_true(fabs(state_history_seconds(&h, 2400) - 1000) < 1e-9);
    h.running_since = NAN;
    assert_true(fabs(state_history_seconds(&h, 9999) - 600) < 1e-9);
    struct state_attempt a1 = {.history_id = h.id, .cloud = "sim:gcp",
                               .region = "us-central1", .result = "CAPACITY",
                               .message = "no capacity"};
    struct state_attempt a2 = {.history_id = h.id, .cloud = "sim:aws"};
    assert_int_equal(state_attempt_add(&st, &a1, NULL), SKYC_OK);
    assert_int_equal(state_attempt_add(&st, &a2, NULL), SKYC_OK);
    struct state_attempt *as;
    size_t n;
    assert_int_equal(state_attempt_list(&st, h.id, &as, &n, NULL), SKYC_OK);
    assert_int_equal(n, 2);
    assert_int_equal(as[1].seq, 2);
    assert_string_equal(as[0].result, "CAPACITY");
    assert_string_equal(as[1].result, "OK");
    assert_null(as[1].message);
    state_attempt_list_free(as, n);
    struct state_history g;
    assert_int_equal(state_history_get(&st, h.id, &g, NULL), SKYC_OK);
    assert_true(isnan(g.ended_at));
    assert_true(fabs(g.hourly_price - 3.0) < 1e-12);
    state_history_release(&g);
    state_close(&st);

    /* a database from a newer skyc is refused with a clear message */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL);
    sqlite3_close(db);
    struct skyc_error err = {0};
    assert_int_equal(state_open_path(&st, path, &err), SKYC_E_STATE);
    assert_non_null(strstr(err.msg, "newer than this skyc"));
    drop_db(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clusters),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
