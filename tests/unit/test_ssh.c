/*
 * Tests of the ssh provider through provider.h against real sshd hosts on
 * loopback (tests/e2e/ssh_hosts.sh starts 2 with a generated key and stops
 * them): provision by labels, run/wait/kill with the remote process group,
 * copy both ways, capacity when the pool is used up, a host that refuses
 * SSH, terminate (idempotent), and config errors.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "provision/provider.h"
#include "provision/sim_spawn.h"
#include "provision/ssh.h"

#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <unistd.h>

static char g_dir[256];
static bool g_started;

static char *hosts_cmd(const char *what)
{
    return xasprintf("bash %s/tests/e2e/ssh_hosts.sh %s %s%s", SKYC_SOURCE_DIR,
                     what, g_dir, !strcmp(what, "start") ? " 2" : "");
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/skyc-test-ssh.XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    char *hosts = path_join(g_dir, "hosts");
    free(hosts);
    char *cmd = hosts_cmd("start");
    int rc = system(cmd);
    free(cmd);
    if (rc != 0) {
        fprintf(stderr, "could not start sshd hosts\n");
        return -1;
    }
    g_started = true;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g_started) {
        char *cmd = hosts_cmd("stop");
        if (system(cmd) != 0)
            fprintf(stderr, "stopping sshd hosts failed\n");
        free(cmd);
    }
    remove_tree(g_dir);
    return 0;
}

static void open_pool(struct provider *p)
{
    struct skyc_error err = {0};
    char *cfg = path_join(g_dir, "ssh.yaml");
    char *st = path_join(g_dir, "state");
    struct ssh_options o = {.config_path = cfg, .state_dir = st};
    if (provider_ssh_open_with(p, &o, &err))
        fail_msg("open: %s", err.msg);
    free(cfg);
    free(st);
}

static int run_wait(struct provider *p, const struct provider_node *n,
                    const char *script, const char *log)
{
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    const char *env[] = {"SKYC_NODE_RANK=7", "QUOTED=it's \"x\"", NULL};
    struct provider_proc proc;
    struct skyc_error err = {0};
    if (p->ops->run(p, n, argv, env, NULL, log, &proc, &err))
        fail_msg("run: %s", err.msg);
    bool done = false;
    int code = -1;
    assert_int_equal(p->ops->wait(p, &proc, 20000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    provider_proc_release(&proc);
    return code;
}

static char *slurp(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path) < 0)
        fail_msg("cannot read %s", path);
    return strbuf_detach(&sb, NULL);
}

static void test_pool(void **state)
{
    (void)state;
    struct provider p;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    size_t n = 0;
    open_pool(&p);

    /* a GPU: only host1 has one */
    struct provider_request req = {.cluster = "g", .num_nodes = 1,
                                   .cloud = "ssh", .gpus = 1,
                                   .accelerator = "T4"};
    if (p.ops->provision(&p, &req, &nodes, &n, &err))
        fail_msg("provision: %s", err.msg);
    assert_int_equal(n, 1);
    assert_string_equal(nodes[0].instance_type, "host1");
    assert_string_equal(nodes[0].id, "g-0@host1");
    assert_true(nodes[0].gpus == 1);
    /* a second GPU cluster: none left */
    struct provider_node *more = NULL;
    size_t m = 0;
    req.cluster = "g2";
    assert_int_equal(p.ops->provision(&p, &req, &more, &m, &err),
                     SKYC_E_CAPACITY);
    assert_non_null(strstr(err.msg, "only 0 of the 1 fitting host"));
    assert_non_null(strstr(err.msg, "in use: host1 by 'g-0@host1'"));
    skyc_error_clear(&err);

    /* run: env (quoted), workdir, exit code, log */
    char *log = path_join(g_dir, "run.log");
    assert_int_equal(run_wait(&p, &nodes[0],
                              "echo rank=$SKYC_NODE_RANK; echo \"$QUOTED\"; "
                              "pwd; exit 5",
                              log),
                     5);
    char *text = slurp(log);
    assert_non_null(strstr(text, "rank=7\n"));
    assert_non_null(strstr(text, "it's \"x\"\n"));
    assert_non_null(strstr(text, nodes[0].workdir));
    free(text);

    /* copy a directory up and a file back */
    char *src = path_join(g_dir, "src");
    assert_int_equal(path_mkdir_p(src, 0755), 0);
    char *f = path_join(src, "data.txt");
    FILE *fp = fopen(f, "w");
    fputs("over ssh\n", fp);
    fclose(fp);
    if (p.ops->copy_to(&p, &nodes[0], src, "in", &err))
        fail_msg("copy_to: %s", err.msg);
    assert_int_equal(run_wait(&p, &nodes[0], "grep -q 'over ssh' in/data.txt",
                              log),
                     0);
    char *back = path_join(g_dir, "back.txt");
    if (p.ops->copy_from(&p, &nodes[0], "in/data.txt", back, &err))
        fail_msg("copy_from: %s", err.msg);
    text = slurp(back);
    assert_string_equal(text, "over ssh\n");
    free(text);

    /* kill reaches the remote process group: the child sleep dies too */
    const char *argv[] = {"/bin/sh", "-c",
                          "sleep 60.0123 & sleep 61.0456; wait", NULL};
    struct provider_proc proc;
    assert_int_equal(p.ops->run(&p, &nodes[0], argv, NULL, NULL, log, &proc,
                                &err),
                     SKYC_OK);
    bool done = true;
    int code;
    usleep(500000);
    assert_int_equal(p.ops->wait(&p, &proc, 0, &done, &code, &err), SKYC_OK);
    assert_false(done);
    if (p.ops->kill(&p, &proc, SIGTERM, &err))
        fail_msg("kill: %s", err.msg);
    assert_int_equal(p.ops->wait(&p, &proc, 10000, &done, &code, &err),
                     SKYC_OK);
    assert_true(done);
    assert_int_equal(code, 128 + SIGTERM);
    provider_proc_release(&proc);
    assert_int_equal(system("pgrep -f 'sleep 6[01][.]0[14][25]' >/dev/null"),
                     256);

    /* status, stop, start */
    assert_int_equal(p.ops->status(&p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_RUNNING);
    assert_int_equal(p.ops->stop(&p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(p.ops->status(&p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_STOPPED);
    assert_int_equal(p.ops->start(&p, &nodes[0], &err), SKYC_OK);

    /* two nodes from the lab region: host2 is free, host1 busy */
    req = (struct provider_request){.cluster = "two", .num_nodes = 2,
                                    .region = "lab"};
    assert_int_equal(p.ops->provision(&p, &req, &more, &m, &err),
                     SKYC_E_CAPACITY);
    skyc_error_clear(&err);
    /* nothing leaked from the failed attempt: host2 is still free */
    req.num_nodes = 1;
    if (p.ops->provision(&p, &req, &more, &m, &err))
        fail_msg("provision host2: %s", err.msg);
    assert_string_equal(more[0].instance_type, "host2");

    /* terminate removes the remote dir; twice is fine */
    char *rdir = xstrdup(nodes[0].workdir);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(p.ops->terminate(&p, &nodes[0], &err), SKYC_OK);
        assert_int_equal(p.ops->terminate(&p, &more[0], &err), SKYC_OK);
    }
    assert_false(path_is_dir(rdir));
    assert_int_equal(p.ops->status(&p, &nodes[0], &err), SKYC_OK);
    assert_int_equal(nodes[0].state, NODE_TERMINATED);
    free(rdir);
    provider_nodes_free(nodes, 1);
    provider_nodes_free(more, 1);

    /* terminate_cluster frees hosts whose handles were lost */
    req = (struct provider_request){.cluster = "lost", .num_nodes = 1};
    if (p.ops->provision(&p, &req, &more, &m, &err))
        fail_msg("provision lost: %s", err.msg);
    assert_int_equal(p.ops->terminate_cluster(&p, "lost", &err), SKYC_OK);
    assert_int_equal(p.ops->status(&p, &more[0], &err), SKYC_OK);
    assert_int_equal(more[0].state, NODE_TERMINATED);
    provider_nodes_free(more, 1);
    free(log);
    free(src);
    free(f);
    free(back);
    provider_close(&p);
}

static void test_refused(void **state)
{
    (void)state;
    struct provider p;
    struct skyc_error err = {0};
    struct provider_node *nodes = NULL;
    size_t n = 0;
    open_pool(&p);
    struct provider_request req = {.cluster = "r", .num_nodes = 1,
                                   .region = "down"};
    double t0 = clock_wall();
    assert_int_equal(p.ops->provision(&p, &req, &nodes, &n, &err),
                     SKYC_E_NETWORK);
    assert_true(clock_wall() - t0 < 10);
    if (!strstr(err.msg, "host 'refuses'") ||
        !strstr(err.msg, "refused the SSH connection"))
        fail_msg("message: %s", err.msg);
    assert_null(nodes);
    /* the claim was dropped: a second try fails the same way, not with
     * capacity */
    skyc_error_clear(&err);
    assert_int_equal(p.ops->provision(&p, &req, &nodes, &n, &err),
                     SKYC_E_NETWORK);
    provider_close(&p);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"", "c.yaml:1:1: no hosts"},
        {"hosts: []\n", "no hosts"},
        {"hosts:\n  - port: 22\n", "c.yaml:2:5: hosts: each entry needs "
                                   "'host'"},
        {"hosts:\n  - host: a\n    prot: 22\n",
         "c.yaml:3:5: hosts: unknown key 'prot' (did you mean 'port'?)"},
        {"hosts:\n  - host: a\n    port: 99999\n",
         "c.yaml:3:11: port: expected 1..65535"},
        {"hosts:\n  - host: a\n  - host: a\n", "two hosts named 'a'"},
        {"hosts:\n  - host: -oProxyCommand=x\n", "host: bad value"},
        {"hosts:\n  - host: a\n    labels: {gpus: many}\n",
         "gpus: expected a number"},
        {"hosts:\n  - host: a\nssh_options: [Bad]\n",
         "ssh_options: expected Name=value"},
        {"hosts:\n  - host: a\nconnect_timeout: 0\n", "connect_timeout: "},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct ssh_config cfg;
        struct skyc_error err = {0};
        enum skyc_err rc = ssh_config_parse("c.yaml", cases[i].yaml,
                                            strlen(cases[i].yaml), &cfg, &err);
        if (rc != SKYC_E_INPUT || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got '%s', want '%s'", i, err.msg,
                     cases[i].msg);
    }
    /* a missing pool file says where */
    struct provider p;
    struct skyc_error err = {0};
    struct ssh_options o = {.config_path = "/nonexistent/ssh.yaml"};
    assert_int_equal(provider_ssh_open_with(&p, &o, &err), SKYC_E_NOT_FOUND);
    assert_non_null(strstr(err.msg, "/nonexistent/ssh.yaml"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
