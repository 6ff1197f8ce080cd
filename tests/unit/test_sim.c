/*
 * Unit tests of the sim provider through provider.h: provision, run, wait,
 * kill, copy, stop/start, terminate (idempotent), injected faults, timed
 * preemptions, spot traces in both polarities, and config errors.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "provision/provider.h"
#include "provision/sim.h"
#include "provision/sim_spawn.h"

#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

static const char aws_csv[] =
    "InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,"
    "Price,SpotPrice,Region,AvailabilityZone,Arch\n"
    "m5.large,,,2,8,,0.096,0.035,us-east-1,us-east-1a,x86_64\n"
    "m5.large,,,2,8,,0.096,0.036,us-east-1,us-east-1b,x86_64\n"
    "m5.large,,,2,8,,0.107,0.040,us-west-2,us-west-2a,x86_64\n"
    "p3.2xlarge,V100,1,8,61,,3.06,0.918,us-west-2,us-west-2a,x86_64\n";

struct fix {
    char dir[256];
    struct catalog cat;
    struct provider p;
};

static void fix_open(struct fix *f, const char *config_yaml)
{
    struct skyc_error err = {0};
    snprintf(f->dir, sizeof(f->dir), "/tmp/skyc-test-sim.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    catalog_init(&f->cat);
    assert_int_equal(catalog_load_csv(&f->cat, CLOUD_AWS, "aws.csv", aws_csv,
                                      strlen(aws_csv), &err),
                     SKYC_OK);
    char *cfg = NULL;
    if (config_yaml) {
        cfg = path_join(f->dir, "sim.yaml");
        FILE *fp = fopen(cfg, "w");
        assert_non_null(fp);
        fputs(config_yaml, fp);
        fclose(fp);
    }
    char *state = path_join(f->dir, "state");
    struct sim_options o = {.config_path = cfg, .state_dir = state,
                            .cat = &f->cat};
    enum skyc_err rc = provider_sim_open_with(&f->p, &o, &err);
    if (rc)
        fail_msg("open: %s", err.msg);
    free(cfg);
    free(state);
}

static void fix_close(struct fix *f)
{
    provider_close(&f->p);
    catalog_release(&f->cat);
    assert_int_equal(remove_tree(f->dir), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = path_join(dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    free(path);
}

static char *read_file(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path) < 0) {
        strbuf_release(&sb);
        return NULL;
    }
    return strbuf_detach(&sb, NULL);
}

static enum skyc_err provision(struct fix *f, const char *zone, bool spot,
                               size_t n, struct provider_node **nodes,
                               struct skyc_error *err)
{
    struct provider_request req = {
        .cluster = "c1", .num_nodes = n, .cloud = "sim:aws",
        .zone = zone, .instance_type = "m5.large", .spot = spot};
    size_t got = 0;
    enum skyc_err rc = f->p.ops->provision(&f->p, &req, nodes, &got, err);
    if (!rc)
        assert_int_equal(got, n);
    return rc;
}

static int run_wait(struct fix *f, const struct provider_node *node,
                    const char *script, const char *log, int timeout_ms)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    const char *env[] = {"SKYC_TEST_VAR=hello", NULL};
    struct provider_proc proc;
    struct skyc_error err = {0};
    assert_int_equal(f->p.ops->run(&f->p, node, argv, env, NULL, log, &proc,
                                   &err),
                     SKYC_OK);
    bool done = false;
    int code = -1;
    assert_int_equal(
        f->p.ops->wait(&f->p, &proc, timeout_ms, &done, &code, &err),
        SKYC_OK);
    assert_true(done);
    provider_proc_release(&proc);
    return code;
}

static void test_lifecycle(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    fix_open(&f, NULL);
    assert_int_equal(provision(&f, NULL, false, 2, &nodes, &err), SKYC_OK);
    /* cheapest m5.large on demand: us-east-1 at $0.096 */
    assert_string_equal(nodes[0].region, "us-east-1");
    assert_true(fabs(nodes[0].hourly_price - 0.096) < 1e-9);
    assert_int_equal(nodes[0].state, NODE_RUNNING);
    assert_true(nodes[0].cpus == 2);
    assert_string_not_equal(nodes[0].id, nodes[1].id);

    /* run: env, cwd = workdir, log appended, exit code */
    char *log = path_join(f.dir, "run.log");
    assert_int_equal(run_wait(&f, &nodes[0],
                              "echo $SKYC_TEST_VAR; pwd; exit 3", log, 5000),
                     3);
    char *text = read_file(log);
    assert_non_null(text);
    assert_non_null(strstr(text, "hello\n"));
    assert_non_null(strstr(text, nodes[0].workdir));
    free(text);

    /* copy_to a directory, then back from the node */
    char *src = path_join(f.dir, "src");
    assert_int_equal(path_mkdir_p(src, 0755), 0);
    write_file(src, "a.txt", "payload\n");
    assert_int_equal(f.p.ops->copy_to(&f.p, &nodes[1], src, "wd", &err),
                     SKYC_OK);
    assert_int_equal(run_wait(&f, &nodes[1], "grep -q payload wd/a.txt", log,
                              5000),
                     0);
    char *back = path_join(f.dir, "back.txt");
    assert_int_equal(
        f.p.ops->copy_from(&f.p, &nodes[1], "wd/a.txt", back, &err), SKYC_OK);
    text = read_file(back);
    assert_string_equal(text, "payload\n");
    free(text);
    assert_int_equal(f.p.ops->copy_to(&f.p, &nodes[1], "/nonexistent/x", "y",
                                      &err),
                     SKYC_E_NOT_FOUND);
    skyc_error_clear(&err);

    /* kill: a long sleep killed by SIGTERM ends with 128+15 */
    const char *argv[] = {"/bin/sh", "-c", "sleep 30", NULL};
    struct provider_proc proc;
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log,
                                  &proc, &err),
                     SKYC_OK);
    bool done = true;
    int code;
    assert_int_equal(f.p.ops->wait(&f.p, &proc, 0, &done, &code, &err),
                     SKYC_OK);
    assert_false(done);
    assert_int_equal(f.p.ops->kill(&f.p, &proc, SIGTERM, &err), SKYC_OK);
    assert_int_equal(f.p.ops->wait(&f.p, &proc, 5000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    assert_int_equal(code, 128 + 15);
    provider_proc_release(&proc);

    /* a command that does not exist, a cwd that does not: 127, said why */
    const char *nope[] = {"/nonexistent/skyc-cmd", NULL};
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], nope, NULL, NULL, log,
                                  &proc, &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->wait(&f.p, &proc, 5000, &done, &code, &err),
                     SKYC_OK);
    assert_int_equal(code, 127);
    provider_proc_release(&proc);
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, "no/such/dir",
                                  log, &proc, &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->wait(&f.p, &proc, 5000, &done, &code, &err),
                     SKYC_OK);
    assert_int_equal(code, 127);
    provider_proc_release(&proc);
    text = read_file(log);
    assert_non_null(strstr(text, "cannot run '/nonexistent/skyc-cmd'"));
    assert_non_null(strstr(text, "cannot enter directory"));
    free(text);

    /* stop kills, start resumes; status follows */
    assert_int_equal(f.p.ops->stop(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(f.p.ops->status(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_STOPPED);
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log,
                                  &proc, &err),
                     SKYC_E_FAILED);
    skyc_error_clear(&err);
    assert_int_equal(f.p.ops->start(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(run_wait(&f, &nodes[0], "true", log, 5000), 0);

    /* terminate twice: the second is a no-op success */
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(f.p.ops->terminate(&f.p, &nodes[i], &err),
                             SKYC_OK);
            assert_int_equal(nodes[i].state, NODE_TERMINATED);
        }
    assert_int_equal(f.p.ops->status(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_TERMINATED);
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log,
                                  &proc, &err),
                     SKYC_E_NOT_FOUND);
    provider_nodes_free(nodes, 2);
    free(log);
    free(src);
    free(back);
    fix_close(&f);
}

static void test_faults(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    fix_open(&f, "faults:\n"
                 "  - zone: us-east-1a\n"
                 "    error: capacity\n"
                 "    times: 1\n"
                 "  - region: us-west-2\n"
                 "    error: quota\n");
    /* the first attempt in us-east-1a is short of capacity, then it works */
    assert_int_equal(provision(&f, "us-east-1a", false, 1, &nodes, &err),
                     SKYC_E_CAPACITY);
    assert_non_null(strstr(err.msg, "capacity shortage in "
                                    "aws/us-east-1/us-east-1a"));
    assert_non_null(strstr(err.msg, "sim.yaml:2"));
    assert_null(nodes);
    skyc_error_clear(&err);
    assert_int_equal(provision(&f, "us-east-1a", false, 1, &nodes, &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->terminate(&f.p, &nodes[0], &err), SKYC_OK);
    provider_nodes_free(nodes, 1);
    nodes = NULL;
    /* always a quota error in us-west-2 */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(provision(&f, "us-west-2a", false, 1, &nodes, &err),
                         SKYC_E_QUOTA);
        skyc_error_clear(&err);
    }
    /* not in the catalog: infeasible, and a foreign cloud too */
    assert_int_equal(provision(&f, "eu-west-9a", false, 1, &nodes, &err),
                     SKYC_E_INFEASIBLE);
    skyc_error_clear(&err);
    struct provider_request req = {.cluster = "c", .num_nodes = 1,
                                   .cloud = "gcp"};
    size_t n;
    assert_int_equal(f.p.ops->provision(&f.p, &req, &nodes, &n, &err),
                     SKYC_E_INFEASIBLE);
    skyc_error_clear(&err);
    req.cloud = "sim:nope";
    assert_int_equal(f.p.ops->provision(&f.p, &req, &nodes, &n, &err),
                     SKYC_E_INFEASIBLE);
    fix_close(&f);
}

/* A capacity pool: at most 3 live m5.large in us-east-1b. */
static void test_capacity_pool(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *a = NULL, *b = NULL, *c = NULL;
    fix_open(&f, "faults:\n  - zone: us-east-1b\n    error: capacity\n"
                 "    max_nodes: 3\n");
    assert_int_equal(provision(&f, "us-east-1b", false, 2, &a, &err),
                     SKYC_OK);
    assert_int_equal(provision(&f, "us-east-1b", false, 2, &b, &err),
                     SKYC_E_CAPACITY);
    skyc_error_clear(&err);
    assert_int_equal(provision(&f, "us-east-1b", true, 1, &b, &err), SKYC_OK);
    assert_int_equal(provision(&f, "us-east-1b", false, 1, &c, &err),
                     SKYC_E_CAPACITY);
    skyc_error_clear(&err);
    /* other zones are not in the pool; freeing nodes makes room */
    assert_int_equal(provision(&f, "us-east-1a", false, 2, &c, &err),
                     SKYC_OK);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(f.p.ops->terminate(&f.p, &c[i], &err), SKYC_OK);
    provider_nodes_free(c, 2);
    assert_int_equal(f.p.ops->terminate(&f.p, &a[0], &err), SKYC_OK);
    assert_int_equal(provision(&f, "us-east-1b", false, 1, &c, &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->terminate(&f.p, &a[1], &err), SKYC_OK);
    assert_int_equal(f.p.ops->terminate(&f.p, &b[0], &err), SKYC_OK);
    assert_int_equal(f.p.ops->terminate(&f.p, &c[0], &err), SKYC_OK);
    provider_nodes_free(a, 2);
    provider_nodes_free(b, 1);
    provider_nodes_free(c, 1);
    fix_close(&f);
}

static void test_auth_fault_and_accelerator(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    size_t n;
    fix_open(&f, "faults:\n  - cloud: aws\n    error: auth\n");
    struct provider_request req = {.cluster = "g", .num_nodes = 1,
                                   .cloud = "sim", .accelerator = "V100",
                                   .gpus = 1};
    assert_int_equal(f.p.ops->provision(&f.p, &req, &nodes, &n, &err),
                     SKYC_E_AUTH);
    assert_non_null(strstr(err.msg, "p3.2xlarge"));
    fix_close(&f);
}

static void test_timed_preemption(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    /* 1 sim hour after start at 3600x = 1 wall second */
    fix_open(&f, "time_scale: 3600\n"
                 "preemptions:\n  - zone: us-east-1b\n    after: 1h\n");
    assert_int_equal(provision(&f, "us-east-1b", true, 1, &nodes, &err),
                     SKYC_OK);
    assert_true(nodes[0].spot);
    assert_true(fabs(nodes[0].hourly_price - 0.036) < 1e-9);
    char *log = path_join(f.dir, "p.log");
    double t0 = clock_wall();
    int code = run_wait(&f, &nodes[0], "sleep 20", log, 10000);
    double took = clock_wall() - t0;
    assert_int_equal(code, 128 + 9);
    assert_true(took > 0.5 && took < 5);
    assert_int_equal(f.p.ops->status(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_PREEMPTED);
    const char *argv[] = {"true", NULL};
    struct provider_proc proc;
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log,
                                  &proc, &err),
                     SKYC_E_FAILED);
    assert_non_null(strstr(err.msg, "PREEMPTED"));
    skyc_error_clear(&err);
    assert_int_equal(f.p.ops->terminate(&f.p, &nodes[0], &err), SKYC_OK);
    /* on-demand nodes in the same zone are never preempted */
    provider_nodes_free(nodes, 1);
    assert_int_equal(provision(&f, "us-east-1b", false, 1, &nodes, &err),
                     SKYC_OK);
    assert_int_equal(run_wait(&f, &nodes[0], "sleep 1.5", log, 10000), 0);
    assert_int_equal(f.p.ops->terminate(&f.p, &nodes[0], &err), SKYC_OK);
    provider_nodes_free(nodes, 1);
    free(log);
    fix_close(&f);
}

static void test_trace(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    /*
     * Ticks of 60 sim seconds at 120x = 0.5 wall s. Availability format:
     * tick 0 has no spot; from start_tick 1 there is spot until tick 4.
     * The windows format (1 = unavailable) says the same thing inverted.
     */
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "/tmp/skyc-test-trace.XXXXXX");
    assert_non_null(mkdtemp(tmp));
    write_file(tmp, "avail.json",
               "{\"metadata\": {\"gap_seconds\": 60}, "
               "\"data\": [0, 1, 1, 1, 0, 1]}");
    write_file(tmp, "window.json",
               "{\"metadata\": {\"gap_seconds\": 60, \"start_time\": 5, "
               "\"end_time\": 11}, \"data\": [1, 0, 0, 0, 1, 0]}");
    for (int variant = 0; variant < 2; variant++) {
        const char *file = variant ? "window.json" : "avail.json";
        for (int start = 0; start < 2; start++) {
            char cfg[1024];
            snprintf(cfg, sizeof(cfg),
                     "time_scale: 120\n"
                     "spot_traces:\n  - zone: us-east-1a\n    file: %s/%s\n"
                     "    start_tick: %d\n",
                     tmp, file, start);
            fix_open(&f, cfg);
            enum skyc_err rc = provision(&f, "us-east-1a", true, 1, &nodes,
                                         &err);
            if (!start) {
                assert_int_equal(rc, SKYC_E_CAPACITY);
                assert_non_null(strstr(err.msg, "no spot capacity"));
                skyc_error_clear(&err);
                fix_close(&f);
                continue;
            }
            assert_int_equal(rc, SKYC_OK);
            /* preempted at tick 4 = 3 ticks later = 1.5 wall s */
            char *log = path_join(f.dir, "t.log");
            double t0 = clock_wall();
            int code = run_wait(&f, &nodes[0], "sleep 20", log, 10000);
            double took = clock_wall() - t0;
            assert_int_equal(code, 137);
            if (took < 1.0 || took > 4.0)
                fail_msg("preempted after %.2f s, want about 1.5", took);
            /* on-demand in the same zone ignores spot traces */
            struct provider_node *od = NULL;
            assert_int_equal(provision(&f, "us-east-1a", false, 1, &od, &err),
                             SKYC_OK);
            assert_int_equal(f.p.ops->terminate(&f.p, &od[0], &err), SKYC_OK);
            provider_nodes_free(od, 1);
            assert_int_equal(f.p.ops->terminate(&f.p, &nodes[0], &err),
                             SKYC_OK);
            provider_nodes_free(nodes, 1);
            nodes = NULL;
            free(log);
            fix_close(&f);
        }
    }
    assert_int_equal(remove_tree(tmp), 0);
}

static void test_real_traces(void **state)
{
    (void)state;
    char *shared = path_shared_data();
    if (!shared)
        fail_msg("shared data not found (set SKYC_SHARED_DATA)");
    static const struct {
        const char *rel;
        int polarity;
        double mean_lo, mean_hi;
    } cases[] = {
        /* SOURCE.md: mean(data) = 0.893 available, vs 0.049 unavailable */
        {"spot-traces/skypilot-org-spot-traces/availability/1-node/"
         "aws-10-26-2022/us-west-2a_k80_1.json",
         -1, 0.85, 0.95},
        {"spot-traces/adrs-cant-be-late-windows/windows_48h_task/"
         "us-west-2a_k80_1/traces/random_start/0.json",
         -1, 0.5, 1.0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *path = path_join(shared, cases[i].rel);
        char *text = read_file(path);
        if (!text)
            fail_msg("missing shared trace %s", path);
        struct sim_trace tr;
        struct skyc_error err = {0};
        assert_int_equal(sim_trace_parse(path, text, strlen(text),
                                         cases[i].polarity, &tr, &err),
                         SKYC_OK);
        double sum = 0;
        for (size_t k = 0; k < tr.n; k++)
            sum += tr.avail[k] > 0;
        double mean = sum / (double)tr.n;
        if (mean < cases[i].mean_lo || mean > cases[i].mean_hi)
            fail_msg("%s: availability %.3f", cases[i].rel, mean);
        sim_trace_release(&tr);
        free(text);
        free(path);
    }
    free(shared);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"time_scale: 0\n", "c.yaml:1:13: time_scale: expected a number > 0"},
        {"time_scael: 2\n", "c.yaml:1:1: sim config: unknown key 'time_scael' "
                            "(did you mean 'time_scale'?)"},
        {"faults:\n  - zone: a\n    error: capcity\n",
         "c.yaml:3:12: error: unknown error class 'capcity'"},
        {"faults:\n  - zone: a\n    tims: 2\n",
         "c.yaml:3:5: faults: unknown key 'tims' (did you mean 'times'?)"},
        {"faults: 3\n", "c.yaml:1:9: faults: expected a list"},
        {"faults:\n  - cloud: aws2\n", "c.yaml:2:12: cloud: unknown cloud"},
        {"preemptions:\n  - zone: a\n", "c.yaml:2:5: preemptions: each entry "
                                        "needs 'after'"},
        {"preemptions:\n  - after: soon\n", "c.yaml:2:12: after: expected a "
                                            "duration"},
        {"preemptions:\n  - after: 1h\n    rank: -1\n",
         "c.yaml:3:11: rank: expected a node rank 0..1023, got '-1'"},
        {"preemptions:\n  - after: 1h\n    times: 0\n",
         "c.yaml:3:12: times: expected a whole number >= 1"},
        {"spot_traces:\n  - file: /nonexistent/t.json\n",
         "c.yaml:2:11: file: spot trace '/nonexistent/t.json' is not a "
         "readable file"},
        {"clouds: [aws, mars]\n", "c.yaml:1:15: clouds: unknown cloud 'mars'"},
        {"faults: [\n", "c.yaml:2:1: bad YAML"},
        {"- a\n", "c.yaml:1:1: the sim config must be a mapping"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct sim_config cfg;
        struct skyc_error err = {0};
        enum skyc_err rc = sim_config_parse("c.yaml", cases[i].yaml,
                                            strlen(cases[i].yaml), &cfg, &err);
        if (rc != SKYC_E_INPUT || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: rc %d, got '%s', want '%s'", i, rc, err.msg,
                     cases[i].msg);
    }
    static const struct {
        const char *json, *msg;
    } bad_traces[] = {
        {"{", "t.json:1:1: bad spot trace JSON"},
        {"{\"data\": [1]}", "t.json: not a spot trace"},
        {"{\"metadata\": {\"gap_seconds\": 0}, \"data\": [1]}",
         "gap_seconds must be > 0"},
        {"{\"metadata\": {\"gap_seconds\": 5}, \"data\": []}", "no data"},
        {"{\"metadata\": {\"gap_seconds\": 5}, \"data\": [1, -1]}",
         "data[1] must be a whole number"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad_traces); i++) {
        struct sim_trace tr;
        struct skyc_error err = {0};
        enum skyc_err rc = sim_trace_parse("t.json", bad_traces[i].json,
                                           strlen(bad_traces[i].json), -1, &tr,
                                           &err);
        if (rc != SKYC_E_INPUT || !strstr(err.msg, bad_traces[i].msg))
            fail_msg("trace %zu: got '%s'", i, err.msg);
    }
}

/*
 * A real Can't-Be-Late window (1 = no spot; 600 s ticks) replayed at 7200x:
 * tick 12 is the first without spot, so a spot node started at tick 0 is
 * preempted 12 x 600 / 7200 = 1 wall second in; during ticks 16-23 there
 * is no spot to provision.
 */
static void test_real_trace_replay(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    char *shared = path_shared_data();
    if (!shared)
        fail_msg("shared data not found (set SKYC_SHARED_DATA)");
    char cfg[2048];
    snprintf(cfg, sizeof(cfg),
             "time_scale: 7200\n"
             "spot_traces:\n  - zone: us-east-1a\n    file: %s/spot-traces/"
             "adrs-cant-be-late-windows/windows_48h_task/us-west-2a_v100_1/"
             "traces/random_start/0.json\n",
             shared);
    free(shared);
    fix_open(&f, cfg);
    assert_true(sim_provider_now(&f.p) < 600); /* still tick 0 */
    assert_int_equal(provision(&f, "us-east-1a", true, 1, &nodes, &err),
                     SKYC_OK);
    char *log = path_join(f.dir, "r.log");
    int code = run_wait(&f, &nodes[0], "sleep 20", log, 10000);
    assert_int_equal(code, 137);
    double at = sim_provider_now(&f.p);
    if (at < 12 * 600 || at > 15 * 600)
        fail_msg("preempted at sim %.0f s, want tick 12 (7200 s)", at);
    assert_int_equal(f.p.ops->terminate(&f.p, &nodes[0], &err), SKYC_OK);
    provider_nodes_free(nodes, 1);
    nodes = NULL;
    /* wait for tick 18..21 (inside the 16..23 outage), then ask for spot */
    while (sim_provider_now(&f.p) < 18 * 600)
        usleep(10000);
    assert_true(sim_provider_now(&f.p) < 22 * 600);
    assert_int_equal(provision(&f, "us-east-1a", true, 1, &nodes, &err),
                     SKYC_E_CAPACITY);
    assert_non_null(strstr(err.msg, "0 available, 1 asked"));
    free(log);
    fix_close(&f);
}

/* A 2-node spot cluster on a count trace: the higher rank goes first. */
static void test_trace_ranks(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "/tmp/skyc-test-ranks.XXXXXX");
    assert_non_null(mkdtemp(tmp));
    write_file(tmp, "count.json",
               "{\"metadata\": {\"gap_seconds\": 60}, "
               "\"data\": [2, 2, 1, 1, 0, 0]}");
    char cfg[512];
    snprintf(cfg, sizeof(cfg),
             "time_scale: 120\nspot_traces:\n  - cloud: aws\n"
             "    file: %s/count.json\n    format: availability\n",
             tmp);
    fix_open(&f, cfg);
    assert_int_equal(provision(&f, "us-east-1a", true, 2, &nodes, &err),
                     SKYC_OK);
    const char *argv[] = {"sleep", "20", NULL};
    struct provider_proc p0, p1;
    char *log = path_join(f.dir, "k.log");
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log, &p0,
                                  &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->run(&f.p, &nodes[1], argv, NULL, NULL, log, &p1,
                                  &err),
                     SKYC_OK);
    bool done;
    int code;
    /* rank 1 at tick 2 (1 s), rank 0 at tick 4 (2 s) */
    assert_int_equal(f.p.ops->wait(&f.p, &p1, 10000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    double t1 = sim_provider_now(&f.p);
    assert_int_equal(f.p.ops->wait(&f.p, &p0, 0, &done, &code, &err),
                     SKYC_OK);
    assert_false(done);
    assert_int_equal(f.p.ops->wait(&f.p, &p0, 10000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    double t0 = sim_provider_now(&f.p);
    if (t1 < 120 || t1 > 180 || t0 < 240 || t0 > 300)
        fail_msg("rank 1 at sim %.0f s (want 120), rank 0 at %.0f (240)", t1,
                 t0);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(f.p.ops->terminate(&f.p, &nodes[i], &err), SKYC_OK);
    provider_proc_release(&p0);
    provider_proc_release(&p1);
    provider_nodes_free(nodes, 2);
    free(log);
    fix_close(&f);
    assert_int_equal(remove_tree(tmp), 0);
}

/*
 * One node of a cluster preempted alone (preemptions: rank + times), then
 * add_node: a new node for that rank in exactly the zone asked, with a new
 * id, the other node untouched; a trace without room refuses it as
 * CAPACITY; a provision-time fault applies to it too.
 */
static void test_rank_preemption_and_add_node(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    /* rank 1 of the first matching node only, 1 wall second after start */
    fix_open(&f, "time_scale: 3600\npreemptions:\n"
                 "  - zone: us-east-1a\n    rank: 1\n    times: 1\n"
                 "    after: 1h\n"
                 "faults:\n  - zone: us-east-1b\n    spot: true\n"
                 "    error: capacity\n");
    assert_int_equal(provision(&f, "us-east-1a", true, 2, &nodes, &err),
                     SKYC_OK);
    char *log = path_join(f.dir, "a.log");
    const char *argv[] = {"sleep", "20", NULL};
    struct provider_proc p0, p1;
    assert_int_equal(f.p.ops->run(&f.p, &nodes[0], argv, NULL, NULL, log, &p0,
                                  &err),
                     SKYC_OK);
    assert_int_equal(f.p.ops->run(&f.p, &nodes[1], argv, NULL, NULL, log, &p1,
                                  &err),
                     SKYC_OK);
    bool done;
    int code;
    assert_int_equal(f.p.ops->wait(&f.p, &p1, 10000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    assert_int_equal(code, 128 + 9);
    assert_int_equal(f.p.ops->status(&f.p, &nodes[1], &err), SKYC_OK);
    assert_int_equal(nodes[1].state, NODE_PREEMPTED);
    assert_int_equal(f.p.ops->wait(&f.p, &p0, 0, &done, &code, &err),
                     SKYC_OK);
    assert_false(done); /* rank 0 runs on */
    assert_int_equal(f.p.ops->status(&f.p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_RUNNING);

    struct provider_request req = {.cluster = "c1", .num_nodes = 1,
                                   .cloud = "sim:aws", .region = "us-east-1",
                                   .zone = "us-east-1a",
                                   .instance_type = "m5.large", .spot = true};
    struct provider_node nn;
    assert_non_null(f.p.ops->add_node);
    assert_int_equal(f.p.ops->add_node(&f.p, &req, 1, &nn, &err), SKYC_OK);
    assert_string_not_equal(nn.id, nodes[1].id);
    assert_string_equal(nn.zone, "us-east-1a");
    assert_true(nn.spot);
    assert_true(fabs(nn.hourly_price - 0.035) < 1e-9);
    assert_int_equal(run_wait(&f, &nn, "sleep 1.5; echo ok", log, 10000), 0);
    assert_int_equal(f.p.ops->status(&f.p, &nn, &err), SKYC_OK);
    assert_int_equal(nn.state, NODE_RUNNING); /* times: 1 was used up */
    /* terminate_cluster knows the new node's name */
    struct provider_node copy = {.id = nn.id};
    /* never widened: a zone without room is CAPACITY, not another zone */
    req.zone = "us-east-1b";
    struct provider_node nb;
    assert_int_equal(f.p.ops->add_node(&f.p, &req, 1, &nb, &err),
                     SKYC_E_CAPACITY);
    assert_non_null(strstr(err.msg, "us-east-1b"));
    skyc_error_clear(&err);
    assert_int_equal(f.p.ops->add_node(&f.p, &req, -1, &nb, &err),
                     SKYC_E_INPUT);
    skyc_error_clear(&err);
    assert_int_equal(f.p.ops->terminate_cluster(&f.p, "c1", &err), SKYC_OK);
    assert_int_equal(f.p.ops->status(&f.p, &copy, &err), SKYC_OK);
    assert_int_equal(copy.state, NODE_TERMINATED);
    provider_proc_release(&p0);
    provider_proc_release(&p1);
    provider_node_release(&nn);
    provider_nodes_free(nodes, 2);
    free(log);
    fix_close(&f);
}

/* A spot trace with room for one instance: a rank-1 node cannot be added
 * (it would be preempted at once), a rank-0 node can. */
static void test_add_node_trace(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "/tmp/skyc-test-addn.XXXXXX");
    assert_non_null(mkdtemp(tmp));
    write_file(tmp, "one.json",
               "{\"metadata\": {\"gap_seconds\": 3600}, \"data\": [1]}");
    char cfg[512];
    snprintf(cfg, sizeof(cfg),
             "spot_traces:\n  - zone: us-east-1a\n    file: %s/one.json\n"
             "    format: availability\n",
             tmp);
    fix_open(&f, cfg);
    struct provider_request req = {.cluster = "c2", .num_nodes = 1,
                                   .cloud = "sim:aws", .zone = "us-east-1a",
                                   .instance_type = "m5.large", .spot = true};
    struct provider_node n0, n1;
    assert_int_equal(f.p.ops->add_node(&f.p, &req, 1, &n1, &err),
                     SKYC_E_CAPACITY);
    assert_non_null(strstr(err.msg, "1 available, 2 needed"));
    skyc_error_clear(&err);
    assert_int_equal(f.p.ops->add_node(&f.p, &req, 0, &n0, &err), SKYC_OK);
    assert_int_equal(f.p.ops->terminate(&f.p, &n0, &err), SKYC_OK);
    provider_node_release(&n0);
    fix_close(&f);
    assert_int_equal(remove_tree(tmp), 0);
}

static void test_terminate_cluster(void **state)
{
    (void)state;
    struct fix f;
    struct skyc_error err = {0};
    struct provider_node *a = NULL, *b = NULL;
    size_t na, nb;
    fix_open(&f, NULL);
    struct provider_request req = {.cluster = "c1", .num_nodes = 2,
                                   .cloud = "sim", .instance_type = "m5.large"};
    assert_int_equal(f.p.ops->provision(&f.p, &req, &a, &na, &err), SKYC_OK);
    req.cluster = "c1-0"; /* a name that c1's node ids start with */
    req.num_nodes = 1;
    assert_int_equal(f.p.ops->provision(&f.p, &req, &b, &nb, &err), SKYC_OK);
    /* forget c1's handles, as a skyc killed inside provision() would */
    assert_int_equal(f.p.ops->terminate_cluster(&f.p, "c1", &err), SKYC_OK);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(f.p.ops->status(&f.p, &a[i], &err), SKYC_OK);
        assert_int_equal(a[i].state, NODE_TERMINATED);
    }
    assert_int_equal(f.p.ops->status(&f.p, &b[0], &err), SKYC_OK);
    assert_int_equal(b[0].state, NODE_RUNNING);
    assert_int_equal(f.p.ops->terminate_cluster(&f.p, "c1", &err), SKYC_OK);
    assert_int_equal(f.p.ops->terminate_cluster(&f.p, "c1-0", &err), SKYC_OK);
    assert_int_equal(f.p.ops->status(&f.p, &b[0], &err), SKYC_OK);
    assert_int_equal(b[0].state, NODE_TERMINATED);
    provider_nodes_free(a, na);
    provider_nodes_free(b, nb);
    fix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_real_traces),
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_capacity_pool),
        cmocka_unit_test(test_auth_fault_and_accelerator),
        cmocka_unit_test(test_timed_preemption),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_terminate_cluster),
        cmocka_unit_test(test_real_trace_replay),
        cmocka_unit_test(test_trace_ranks),
        cmocka_unit_test(test_rank_preemption_and_add_node),
        cmocka_unit_test(test_add_node_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
