/*
 * cmd_autostop.c - `skyc autostop CLUSTER -i MIN [--down] | --cancel`: the
 * cluster's agent stops (or tears down) the cluster after MIN minutes with
 * no job pending or running. Setting it restarts the idle clock.
 */
#include "core/common.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "runtime/runtime.h"

enum skyc_err cmd_autostop(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc autostop -i MIN [--down] CLUSTER...",
                                 "skyc autostop --cancel CLUSTER...", NULL};
    double minutes = -1;
    bool down = false, cancel = false;
    const struct option opts[] = {
        OPT_DOUBLE('i', "idle-minutes", &minutes, "MIN",
                   "idle minutes before stopping (fractions allowed)"),
        OPT_FLAG(0, "down", &down, "tear down instead of stopping"),
        OPT_FLAG(0, "cancel", &cancel, "turn autostop off"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n < 1)
        return skyc_fail(err, SKYC_E_USAGE, "expected a cluster name");
    if (cancel == (minutes >= 0))
        return skyc_fail(err, SKYC_E_USAGE,
                         "give either -i MIN (minutes >= 0) or --cancel");
    struct state st;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    for (int i = 0; i < n && !rc; i++) {
        struct state_cluster c;
        if ((rc = state_cluster_get(&st, argv[i], &c, err)))
            break;
        c.autostop_minutes = cancel ? -1 : minutes;
        c.autostop_down = !cancel && down;
        c.updated_at = state_now();
        rc = state_cluster_update(&st, &c, err);
        if (!rc) {
            rt_agent_wake(&c);
            if (cancel)
                fprintf(stderr, "Autostop of cluster '%s' is off.\n", c.name);
            else
                fprintf(stderr,
                        "Cluster '%s' will %s after %g idle minutes.\n",
                        c.name, down ? "be torn down" : "stop", minutes);
        }
        state_cluster_release(&c);
    }
    state_close(&st);
    return rc;
}
