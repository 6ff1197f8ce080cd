/*
 * Unit tests of the failover loop on the sim provider with injected faults:
 * capacity -> zone blocked -> next zone; auth -> whole cloud blocked; all
 * blocked -> a clear CAPACITY error; --retry-until-up rounds with backoff;
 * providers without a catalog; interruption; the history table and JSON.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/paths.h"
#include "optimizer/optimizer.h"
#include "provision/failover.h"
#include "provision/sim.h"
#include "provision/sim_spawn.h"
#include "task/task.h"

#include <setjmp.h>
#include <cmocka.h>

static const char aws_csv[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n"
    "m5.large,,,2,8,,0.090,0.030,us-east-1,us-east-1a,x86_64\n"
    "m5.large,,,2,8,,0.096,0.036,us-east-1,us-east-1b,x86_64\n"
    "m5.large,,,2,8,,0.107,0.040,us-west-2,us-west-2a,x86_64\n";
static const char gcp_csv[] =
    "InstanceType,vCPUs,MemoryGiB,AcceleratorName,AcceleratorCount,GpuInfo,"
    "Region,AvailabilityZone,Price,SpotPrice\n"
    "n1-standard-2,2,7.5,,,,us-central1,us-central1-a,0.120,0.050\n";

static const char task_yaml[] = "name: t\nresources:\n  cloud: sim\n  cpus: 2\n"
                                "run: echo hi\n";

struct fix {
    char dir[256];
    struct catalog cat;
    struct task_dag dag;
    struct provider p;
    struct opt_params params;
    struct failover_request req;
    struct failover_result res;
    int callbacks;
};

static void on_attempt(const struct failover_attempt *a, void *arg)
{
    struct fix *f = arg;
    assert_non_null(a->cloud);
    f->callbacks++;
}

static void fix_open(struct fix *f, const char *config_yaml)
{
    struct skyc_error err = {0};
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/skyc-test-failover.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    catalog_init(&f->cat);
    assert_int_equal(catalog_load_csv(&f->cat, CLOUD_AWS, "aws.csv", aws_csv,
                                      strlen(aws_csv), &err),
                     SKYC_OK);
    assert_int_equal(catalog_load_csv(&f->cat, CLOUD_GCP, "gcp.csv", gcp_csv,
                                      strlen(gcp_csv), &err),
                     SKYC_OK);
    assert_int_equal(task_dag_load_string(&f->dag, task_yaml,
                                          strlen(task_yaml), "t.yaml", &err),
                     SKYC_OK);
    char *cfg = path_join(f->dir, "sim.yaml");
    FILE *fp = fopen(cfg, "w");
    assert_non_null(fp);
    fputs(config_yaml, fp);
    fclose(fp);
    char *state = path_join(f->dir, "state");
    struct sim_options o = {.config_path = cfg, .state_dir = state,
                            .cat = &f->cat};
    if (provider_sim_open_with(&f->p, &o, &err))
        fail_msg("open: %s", err.msg);
    free(cfg);
    free(state);
    opt_params_init(&f->params);
    f->req.first = (struct provider_request){
        .cluster = "fo", .num_nodes = 1, .cloud = "sim:aws",
        .region = "us-east-1", .zone = "us-east-1a",
        .instance_type = "m5.large", .cpus = 2};
    f->req.cat = &f->cat;
    f->req.dag = &f->dag;
    f->req.task = 0;
    f->req.params = &f->params;
    f->req.backoff_initial_s = 0.01;
    f->req.backoff_max_s = 0.02;
    f->req.on_attempt = on_attempt;
    f->req.on_attempt_arg = f;
}

static void fix_close(struct fix *f)
{
    struct skyc_error err = {0};
    for (size_t i = 0; i < f->res.nnodes; i++)
        assert_int_equal(f->p.ops->terminate(&f->p, &f->res.nodes[i], &err),
                         SKYC_OK);
    failover_result_release(&f->res);
    provider_close(&f->p);
    task_dag_release(&f->dag);
    catalog_release(&f->cat);
    assert_int_equal(remove_tree(f->dir), 0);
}

static void want_attempt(const struct fix *f, size_t i, const char *zone,
                         enum skyc_err code, const char *blocked)
{
    assert_true(i < f->res.nattempts);
    const struct failover_attempt *a = &f->res.attempts[i];
    if (!a->zone || strcmp(a->zone, zone))
        fail_msg("attempt %zu: zone %s, want %s", i, a->zone ? a->zone : "-",
                 zone);
    if (a->code != code)
        fail_msg("attempt %zu: %s, want %s (%s)", i, skyc_err_name(a->code),
                 skyc_err_name(code), a->message ? a->message : "");
    if (blocked && (!a->blocked || strcmp(a->blocked, blocked)))
        fail_msg("attempt %zu: blocked '%s', want '%s'", i,
                 a->blocked ? a->blocked : "-", blocked);
}

static void test_capacity_blocks_zone(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    fix_open(&f, "faults:\n  - zone: us-east-1a\n    error: capacity\n");
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_OK);
    assert_int_equal(f.res.nattempts, 2);
    want_attempt(&f, 0, "us-east-1a", SKYC_E_CAPACITY,
                 "zone sim:aws/us-east-1/us-east-1a");
    want_attempt(&f, 1, "us-east-1b", SKYC_OK, NULL);
    assert_int_equal(f.res.nnodes, 1);
    assert_string_equal(f.res.nodes[0].zone, "us-east-1b");
    assert_string_equal(f.res.chosen.zone, "us-east-1b");
    assert_true(fabs(f.res.attempts[1].hourly - 0.096) < 1e-9);
    assert_true(fabs(f.res.attempts[0].hourly - 0.090) < 1e-9);
    assert_int_equal(f.callbacks, 2);

    /* the history, as the CLI shows it */
    struct table t;
    table_init(&t);
    failover_history_table(&f.res, &t);
    assert_int_equal(t.nrows, 2);
    assert_int_equal(t.ncols, 7);
    assert_string_equal(t.cells[5], "CAPACITY");
    assert_string_equal(t.cells[7 + 5], "UP");
    table_release(&t);
    json_t *j = failover_history_json(&f.res);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(j, 0), "blocked")),
        "zone sim:aws/us-east-1/us-east-1a");
    json_decref(j);
    fix_close(&f);
}

static void test_quota_blocks_region(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    fix_open(&f, "faults:\n  - region: us-east-1\n    error: quota\n");
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_OK);
    /* us-east-1b is skipped with its region */
    assert_int_equal(f.res.nattempts, 2);
    want_attempt(&f, 0, "us-east-1a", SKYC_E_QUOTA, "region sim:aws/us-east-1");
    want_attempt(&f, 1, "us-west-2a", SKYC_OK, NULL);
    fix_close(&f);
}

static void test_auth_blocks_cloud(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    fix_open(&f, "faults:\n  - cloud: aws\n    error: auth\n");
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_OK);
    /* one auth failure blocks every aws zone: straight to gcp */
    assert_int_equal(f.res.nattempts, 2);
    want_attempt(&f, 0, "us-east-1a", SKYC_E_AUTH, "cloud sim:aws");
    want_attempt(&f, 1, "us-central1-a", SKYC_OK, NULL);
    assert_string_equal(f.res.chosen.cloud, "sim:gcp");
    fix_close(&f);
}

static void test_all_blocked(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    fix_open(&f, "faults:\n  - cloud: aws\n    error: capacity\n"
                 "  - cloud: gcp\n    error: capacity\n");
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_CAPACITY);
    /* every zone once, cheapest first, then a clear error */
    assert_int_equal(f.res.nattempts, 4);
    want_attempt(&f, 0, "us-east-1a", SKYC_E_CAPACITY, NULL);
    want_attempt(&f, 1, "us-east-1b", SKYC_E_CAPACITY, NULL);
    want_attempt(&f, 2, "us-west-2a", SKYC_E_CAPACITY, NULL);
    want_attempt(&f, 3, "us-central1-a", SKYC_E_CAPACITY,
                 "zone sim:gcp/us-central1/us-central1-a");
    assert_null(f.res.nodes);
    if (!strstr(err.msg, "could not provision 'fo' after 4 attempts") ||
        !strstr(err.msg, "zone sim:aws/us-east-1/us-east-1a") ||
        !strstr(err.msg, "--retry-until-up"))
        fail_msg("message: %s", err.msg);
    fix_close(&f);

    /* a cloud the optimizer may not use: nothing else to try */
    fix_open(&f, "faults:\n  - cloud: aws\n    error: capacity\n");
    f.params.cloud = CLOUD_AWS;
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_CAPACITY);
    assert_int_equal(f.res.nattempts, 3);
    fix_close(&f);
}

static void test_retry_until_up(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    /* aws only; its first 4 attempts fail: a whole round (3 zones) and the
     * first zone of the next, then us-east-1b comes up in round 2 */
    fix_open(&f, "faults:\n  - cloud: aws\n    error: capacity\n"
                 "    times: 4\n");
    f.params.cloud = CLOUD_AWS;
    f.req.retry_until_up = true;
    double t0 = clock_wall();
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_OK);
    assert_true(clock_wall() - t0 < 5);
    assert_int_equal(f.res.nattempts, 5);
    want_attempt(&f, 3, "us-east-1a", SKYC_E_CAPACITY, NULL);
    want_attempt(&f, 4, "us-east-1b", SKYC_OK, NULL);
    assert_int_equal(f.res.attempts[2].round, 1);
    assert_int_equal(f.res.attempts[3].round, 2);
    fix_close(&f);

    /* max_rounds bounds it */
    fix_open(&f, "faults:\n  - cloud: aws\n    error: capacity\n");
    f.params.cloud = CLOUD_AWS;
    f.req.retry_until_up = true;
    f.req.max_rounds = 3;
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_CAPACITY);
    assert_int_equal(f.res.nattempts, 9);
    assert_non_null(strstr(err.msg, "in 3 rounds"));
    fix_close(&f);

    /* auth never comes back by waiting */
    fix_open(&f, "faults:\n  - error: auth\n");
    f.req.retry_until_up = true;
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_AUTH);
    assert_int_equal(f.res.nattempts, 2);
    fix_close(&f);
}

static void test_without_catalog_and_interrupt(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    /* a provider without a catalog (local, ssh): one attempt, its error */
    fix_open(&f, "faults:\n  - zone: us-east-1a\n    error: capacity\n"
                 "    times: 2\n");
    f.req.cat = NULL;
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_CAPACITY);
    assert_int_equal(f.res.nattempts, 1);
    failover_result_release(&f.res);
    /* ... and with --retry-until-up the same request until it comes up */
    f.req.retry_until_up = true;
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_OK);
    assert_int_equal(f.res.nattempts, 2);
    want_attempt(&f, 1, "us-east-1a", SKYC_OK, NULL);
    fix_close(&f);

    /* interrupted: no attempt at all */
    fix_open(&f, "{}\n");
    volatile sig_atomic_t stop = 1;
    f.req.interrupted = &stop;
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_INTERRUPTED);
    assert_int_equal(f.res.nattempts, 0);
    fix_close(&f);

    /* a fatal error (bad cluster name) stops at once */
    fix_open(&f, "{}\n");
    f.req.first.cluster = "bad name!";
    skyc_error_clear(&err);
    assert_int_equal(provision_with_failover(&f.p, &f.req, &f.res, &err),
                     SKYC_E_INPUT);
    assert_int_equal(f.res.nattempts, 1);
    fix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_blocks_zone),
        cmocka_unit_test(test_quota_blocks_region),
        cmocka_unit_test(test_auth_blocks_cloud),
        cmocka_unit_test(test_all_blocked),
        cmocka_unit_test(test_retry_until_up),
        cmocka_unit_test(test_without_catalog_and_interrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
