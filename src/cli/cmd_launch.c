/*
 * cmd_launch.c - `skyc launch` (without --dryrun), `skyc exec`, and the
 * internal `skyc agent NAME` that launch starts once per cluster.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "runtime/runtime.h"

static enum skyc_err to_exit(enum skyc_err rc, int job_exit)
{
    if (rc == SKYC_E_JOB_FAILED && job_exit > 0)
        return (enum skyc_err)job_exit;
    return rc;
}

static const char **env_array(const struct opt_list *l)
{
    const char **env = xcalloc(l->n + 1, sizeof(*env));
    for (size_t i = 0; i < l->n; i++)
        env[i] = l->items[i];
    return env;
}

static enum skyc_err check_env(const struct opt_list *l, struct skyc_error *err)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *eq = strchr(l->items[i], '=');
        if (!eq || eq == l->items[i])
            return skyc_fail(err, SKYC_E_USAGE,
                             "--env expects NAME=VALUE, got '%s'",
                             l->items[i]);
    }
    return SKYC_OK;
}

enum skyc_err cmd_launch_run(int argc, const char **argv,
                             struct skyc_error *err)
{
    const char *const usage[] = {
        "skyc launch [-c NAME] [options] TASK.yaml|'COMMAND'",
        "skyc launch --dryrun [options] TASK.yaml   (the plan only; see "
        "'skyc optimize --help')",
        NULL};
    struct rt_launch_opts o = {.idle_minutes = -1};
    struct opt_list env = {0};
    bool yes = false;
    const struct option opts[] = {
        OPT_STRING('c', "cluster", &o.cluster, "NAME",
                   "cluster to create or reuse (default: a new name)"),
        OPT_STRING(0, "provider", &o.provider, "local|ssh|sim",
                   "where a new cluster runs (default local)"),
        OPT_FLAG('d', "detach", &o.detach,
                 "submit the job and return without streaming its logs"),
        OPT_DOUBLE('i', "idle-minutes-to-autostop", &o.idle_minutes, "MIN",
                   "stop the cluster after MIN idle minutes"),
        OPT_FLAG(0, "down", &o.autostop_down,
                 "with -i: tear the cluster down instead of stopping it"),
        OPT_FLAG(0, "retry-until-up", &o.retry_until_up,
                 "keep retrying provisioning with backoff"),
        OPT_LIST(0, "env", &env, "NAME=VALUE",
                 "set an environment variable for the job (repeatable)"),
        OPT_STRING(0, "catalog", &o.catalog, "DIR",
                   "read catalogs from DIR (sim)"),
        OPT_FLAG('y', "yes", &yes, "do not ask (skyc never asks)"),
        OPT_END(),
    };
    enum skyc_err rc;
    const char **envv = NULL;
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n != 1) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       n ? "expected one task file or command, got %d"
                         : "expected a task file (e.g. examples/minimal.yaml) "
                           "or a command",
                       n);
        goto out;
    }
    if (o.autostop_down && o.idle_minutes < 0)
        o.idle_minutes = 5; /* SkyPilot's default with --down */
    if ((rc = check_env(&env, err)))
        goto out;
    envv = env_array(&env);
    o.env = envv;
    o.task = argv[0];
    int job_exit = 0;
    rc = rt_launch(&o, &job_exit, err);
    rc = to_exit(rc, job_exit);
out:
    free(envv);
    opt_list_release(&env);
    return rc;
}

enum skyc_err cmd_exec(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {
        "skyc exec [options] CLUSTER TASK.yaml|'COMMAND'",
        "skyc exec -c CLUSTER [options] TASK.yaml|'COMMAND'", NULL};
    struct rt_launch_opts o = {.idle_minutes = -1, .exec = true};
    struct opt_list env = {0};
    const struct option opts[] = {
        OPT_STRING('c', "cluster", &o.cluster, "NAME", "the cluster"),
        OPT_FLAG('d', "detach", &o.detach,
                 "submit the job and return without streaming its logs"),
        OPT_LIST(0, "env", &env, "NAME=VALUE",
                 "set an environment variable for the job (repeatable)"),
        OPT_END(),
    };
    enum skyc_err rc;
    const char **envv = NULL;
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    int want = o.cluster ? 1 : 2;
    if (n != want) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "expected %s, got %d argument%s",
                       o.cluster ? "a task file or command"
                                 : "a cluster and a task file or command",
                       n, n == 1 ? "" : "s");
        goto out;
    }
    if (!o.cluster)
        o.cluster = argv[0];
    o.task = argv[n - 1];
    if ((rc = check_env(&env, err)))
        goto out;
    envv = env_array(&env);
    o.env = envv;
    int job_exit = 0;
    rc = rt_launch(&o, &job_exit, err);
    rc = to_exit(rc, job_exit);
out:
    free(envv);
    opt_list_release(&env);
    return rc;
}

enum skyc_err cmd_agent(int argc, const char **argv, struct skyc_error *err)
{
    if (argc != 2)
        return skyc_fail(err, SKYC_E_USAGE,
                         "usage: skyc agent CLUSTER (started by skyc launch; "
                         "not for direct use)");
    return (enum skyc_err)rt_agent_main(argv[1]);
}
