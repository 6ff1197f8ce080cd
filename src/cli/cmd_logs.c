/*
 * cmd_logs.c - `skyc logs CLUSTER [JOB]`: a job's output (setup + run, all
 * nodes); -f follows it until the job ends and exits with the job's code.
 */
#include "core/common.h"
#include "core/units.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "runtime/runtime.h"

#include <signal.h>

static volatile sig_atomic_t stop_follow;

static void on_sigint(int sig)
{
    (void)sig;
    stop_follow = 1;
}

enum skyc_err cmd_logs(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc logs [-f] CLUSTER [JOB_ID]", NULL};
    bool follow = false;
    const struct option opts[] = {
        OPT_FLAG('f', "follow", &follow, "keep printing until the job ends"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n < 1 || n > 2)
        return skyc_fail(err, SKYC_E_USAGE,
                         "expected a cluster and optionally a job id");
    long id = 0;
    if (n == 2 && !parse_long_range(argv[1], 1, LONG_MAX, &id))
        return skyc_fail(err, SKYC_E_USAGE,
                         "job id must be a positive number, got '%s'",
                         argv[1]);
    struct state st;
    struct state_cluster c = {0};
    char *status = NULL;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    if ((rc = state_cluster_get(&st, argv[0], &c, err)))
        goto out;
    if (!id) {
        if ((rc = state_job_last_id(&st, argv[0], &id, err)))
            goto out;
        if (!id) {
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "cluster '%s' has no jobs yet", argv[0]);
            goto out;
        }
    }
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    int code = -1;
    rc = rt_tail_job(&st, argv[0], id, follow, stdout, &stop_follow, &status,
                     &code, err);
    sigaction(SIGINT, &old, NULL);
    if (rc || !follow || !status)
        goto out;
    if (strcmp(status, JOB_SUCCEEDED)) {
        rc = skyc_fail(err, SKYC_E_JOB_FAILED,
                       "job %ld on cluster '%s' ended %s (exit code %d)", id,
                       argv[0], status, code);
        if (code > 0 && code < 256)
            rc = (enum skyc_err)code;
    }
out:
    free(status);
    state_cluster_release(&c);
    state_close(&st);
    return rc;
}
