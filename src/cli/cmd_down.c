/*
 * cmd_down.c - `skyc down`, `skyc stop` and `skyc start` on named clusters
 * (down and stop also take --all).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "runtime/runtime.h"

enum lifecycle { DO_DOWN, DO_STOP, DO_START };

static enum skyc_err run(enum lifecycle what, int argc, const char **argv,
                         struct skyc_error *err)
{
    static const char *const names[] = {"down", "stop", "start"};
    char u1[64];
    snprintf(u1, sizeof(u1), "skyc %s [-y] %sCLUSTER...", names[what],
             what == DO_START ? "" : "[--all] ");
    const char *const usage[] = {u1, NULL};
    bool all = false, yes = false;
    const struct option opts[] = {
        OPT_FLAG('a', "all", &all, "every cluster"),
        OPT_FLAG('y', "yes", &yes, "do not ask (skyc never asks)"),
        OPT_END(),
    };
    const struct option start_opts[] = {opts[1], OPT_END()};
    int n = parse_options(argc, argv, what == DO_START ? start_opts : opts,
                          usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (!n && !all)
        return skyc_fail(err, SKYC_E_USAGE, "expected a cluster name%s",
                         what == DO_START ? "" : " (or --all)");
    struct state st;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    struct state_cluster *cs = NULL;
    size_t nc = 0;
    const char **list = NULL;
    size_t nl = 0;
    if (all) {
        if ((rc = rt_reconcile(&st, stderr, err)) ||
            (rc = state_cluster_list(&st, &cs, &nc, err)))
            goto out;
        list = xcalloc(nc + 1, sizeof(*list));
        for (size_t i = 0; i < nc; i++)
            list[nl++] = cs[i].name;
    } else {
        list = xcalloc((size_t)n + 1, sizeof(*list));
        for (int i = 0; i < n; i++)
            list[nl++] = argv[i];
    }
    for (size_t i = 0; i < nl; i++) {
        struct rt_cluster rc_;
        if ((rc = rt_cluster_load(&st, list[i], false, &rc_, err)))
            goto out;
        if (what == DO_START && !strcmp(rc_.c.status, CLUSTER_INIT)) {
            rc = skyc_fail(err, SKYC_E_STATE,
                           "cluster '%s' is still being launched", list[i]);
            rt_cluster_release(&rc_);
            goto out;
        }
        if (what != DO_DOWN && !strcmp(rc_.c.status, CLUSTER_PREEMPTED)) {
            rt_cluster_release(&rc_);
            if (all) {
                fprintf(stderr, "Skipping preempted cluster '%s'.\n",
                        list[i]);
                continue;
            }
            rc = skyc_fail(err, SKYC_E_STATE,
                           "cluster '%s' was preempted and cannot be %s; "
                           "'skyc down %s' removes it, then launch it again",
                           list[i], what == DO_STOP ? "stopped" : "started",
                           list[i]);
            goto out;
        }
        fprintf(stderr, "%s cluster '%s'...\n",
                what == DO_DOWN   ? "Tearing down"
                : what == DO_STOP ? "Stopping"
                                  : "Starting",
                list[i]);
        rc = what == DO_DOWN   ? rt_cluster_down(&st, &rc_, err)
             : what == DO_STOP ? rt_cluster_stop(&st, &rc_, err)
                               : rt_cluster_start(&st, &rc_, err);
        rt_cluster_release(&rc_);
        if (rc)
            goto out;
        fprintf(stderr, "Cluster '%s' %s.\n", list[i],
                what == DO_DOWN   ? "terminated"
                : what == DO_STOP ? "stopped"
                                  : "is UP");
    }
out:
    free(list);
    state_cluster_list_free(cs, nc);
    state_close(&st);
    return rc;
}

enum skyc_err cmd_down(int argc, const char **argv, struct skyc_error *err)
{
    return run(DO_DOWN, argc, argv, err);
}

enum skyc_err cmd_stop(int argc, const char **argv, struct skyc_error *err)
{
    return run(DO_STOP, argc, argv, err);
}

enum skyc_err cmd_start(int argc, const char **argv, struct skyc_error *err)
{
    return run(DO_START, argc, argv, err);
}
