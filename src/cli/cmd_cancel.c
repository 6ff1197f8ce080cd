/*
 * cmd_cancel.c - `skyc cancel CLUSTER JOB_ID... | --all`: a pending job is
 * cancelled at once; a running one is killed (its process group on every
 * node) by the cluster's agent, and cancel waits until it has ended.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/units.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "runtime/runtime.h"

#include <unistd.h>

static enum skyc_err cancel_one(struct state *st, const struct state_cluster *c,
                                long id, bool *waiting,
                                struct skyc_error *err)
{
    struct state_job j;
    enum skyc_err rc = state_job_get(st, c->name, id, &j, err);
    if (rc)
        return rc;
    bool moved = false;
    if (!strcmp(j.status, JOB_PENDING) &&
        (rc = state_job_transition(st, c->name, id, JOB_PENDING,
                                   JOB_CANCELLED, &moved, err)))
        goto out;
    if (moved) {
        fprintf(stderr, "Job %ld cancelled (it had not started).\n", id);
        goto out;
    }
    state_job_release(&j);
    if ((rc = state_job_get(st, c->name, id, &j, err)))
        return rc;
    if (job_status_terminal(j.status)) {
        fprintf(stderr, "Job %ld already %s.\n", id, j.status);
        goto out;
    }
    if ((rc = state_job_request_cancel(st, c->name, id, err)))
        goto out;
    *waiting = true;
out:
    state_job_release(&j);
    return rc;
}

enum skyc_err cmd_cancel(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc cancel CLUSTER JOB_ID...",
                                 "skyc cancel CLUSTER --all", NULL};
    bool all = false;
    const struct option opts[] = {
        OPT_FLAG('a', "all", &all, "cancel every unfinished job"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n < 1 || (n == 1 && !all))
        return skyc_fail(err, SKYC_E_USAGE,
                         "expected a cluster and job ids (or --all)");
    long *ids = xcalloc((size_t)n, sizeof(*ids));
    size_t nids = 0;
    struct state st = {0};
    struct state_cluster c = {0};
    struct state_job *jobs = NULL;
    size_t nj = 0;
    enum skyc_err rc;
    for (int i = 1; i < n; i++)
        if (!parse_long_range(argv[i], 1, LONG_MAX, &ids[nids++])) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "job id must be a positive number, got '%s'",
                           argv[i]);
            goto out;
        }
    if ((rc = state_open(&st, err)) ||
        (rc = state_cluster_get(&st, argv[0], &c, err)))
        goto out;
    if (all) {
        if ((rc = state_job_list(&st, argv[0], true, &jobs, &nj, err)))
            goto out;
        free(ids);
        ids = xcalloc(nj + 1, sizeof(*ids));
        nids = 0;
        for (size_t i = 0; i < nj; i++)
            ids[nids++] = jobs[i].id;
        if (!nids)
            fprintf(stderr, "No unfinished jobs on cluster '%s'.\n", argv[0]);
    }
    bool waiting = false;
    for (size_t i = 0; i < nids; i++)
        if ((rc = cancel_one(&st, &c, ids[i], &waiting, err)))
            goto out;
    if (!waiting)
        goto out;
    if (!rt_agent_alive(c.agent_pid, c.name)) {
        rt_reconcile_cluster(&st, &c, stderr);
    } else
        rt_agent_wake(&c);
    /* wait for the agent to kill them (it gives 3 s grace, then SIGKILL) */
    for (int tries = 0; tries < 2000; tries++) {
        bool left = false;
        for (size_t i = 0; i < nids && !left; i++) {
            struct state_job j;
            if (state_job_get(&st, c.name, ids[i], &j, NULL))
                continue;
            left = !job_status_terminal(j.status);
            state_job_release(&j);
        }
        if (!left)
            break;
        usleep(5000);
    }
    for (size_t i = 0; i < nids; i++) {
        struct state_job j;
        if (state_job_get(&st, c.name, ids[i], &j, NULL))
            continue;
        if (!job_status_terminal(j.status))
            rc = skyc_fail(err, SKYC_E_FAILED,
                           "job %ld on cluster '%s' is still %s after 10 s",
                           ids[i], c.name, j.status);
        else
            fprintf(stderr, "Job %ld: %s.\n", ids[i], j.status);
        state_job_release(&j);
    }
out:
    state_job_list_free(jobs, nj);
    free(ids);
    state_cluster_release(&c);
    if (st.db)
        state_close(&st);
    return rc;
}
