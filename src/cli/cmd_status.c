/*
 * cmd_status.c - `skyc status [NAME...]`: every cluster, after reconciling
 * the state with what actually exists. Node state is asked of the providers
 * whose answer is local (local, sim); of ssh hosts only with --refresh.
 * A cluster with a preempted node shows as PREEMPTED.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/rt_format.h"
#include "runtime/runtime.h"

static void resources(const struct state_cluster *c, char *buf, size_t size)
{
    if (c->instance_type && strcmp(c->instance_type, "local"))
        snprintf(buf, size, "%ldx %s(%s%s%s%s)", c->num_nodes,
                 c->cloud ? c->cloud : c->provider, c->instance_type,
                 c->region ? ", " : "", c->region ? c->region : "",
                 c->spot ? ", spot" : "");
    else
        snprintf(buf, size, "%ldx %s(cpus=%g)", c->num_nodes,
                 c->cloud ? c->cloud : c->provider, c->cpus);
}

static bool wanted(const char *name, int argc, const char **argv)
{
    if (!argc)
        return true;
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

enum skyc_err cmd_status(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc status [--json] [-r] [NAME...]",
                                 NULL};
    bool json = false, refresh = false;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_FLAG('r', "refresh", &refresh,
                 "also ask remote providers (ssh) for node state"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    struct state st;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    struct state_cluster *cs = NULL;
    size_t nc = 0;
    if ((rc = rt_reconcile_refresh(&st, stderr, refresh, err)) ||
        (rc = state_cluster_list(&st, &cs, &nc, err)))
        goto out;
    for (int i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < nc && !found; k++)
            found = !strcmp(cs[k].name, argv[i]);
        if (!found) {
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "no cluster named '%s' (see 'skyc status')",
                           argv[i]);
            goto out;
        }
    }
    double now = state_now();
    char ago[48], res[256], as[48];
    if (json) {
        json_t *arr = json_array();
        for (size_t k = 0; k < nc; k++) {
            const struct state_cluster *c = &cs[k];
            if (!wanted(c->name, n, argv))
                continue;
            resources(c, res, sizeof(res));
            json_array_append_new(
                arr,
                json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s?, s:s?, s:s?, s:b, "
                          "s:o, s:f, s:f, s:o, s:b, s:s}",
                          "name", c->name, "provider", c->provider, "status",
                          c->status, "num_nodes", (json_int_t)c->num_nodes,
                          "cloud", c->cloud, "region", c->region, "zone",
                          c->zone, "instance_type", c->instance_type, "spot",
                          c->spot, "hourly_price",
                          json_number_or_null(c->hourly_price), "launched_at",
                          c->launched_at, "cpus", c->cpus, "autostop_minutes",
                          c->autostop_minutes < 0
                              ? json_null()
                              : json_real(c->autostop_minutes),
                          "autostop_down", c->autostop_down, "resources",
                          res));
        }
        output_json(arr);
        goto out;
    }
    if (!nc) {
        fprintf(stderr, "No clusters. Launch one: skyc launch -c NAME "
                        "TASK.yaml\n");
        goto out;
    }
    struct table t;
    table_init(&t);
    table_add_col(&t, "NAME", TABLE_LEFT);
    table_add_col(&t, "LAUNCHED", TABLE_LEFT);
    table_add_col(&t, "RESOURCES", TABLE_LEFT);
    table_add_col(&t, "STATUS", TABLE_LEFT);
    table_add_col(&t, "AUTOSTOP", TABLE_LEFT);
    table_add_col(&t, "$/HR", TABLE_RIGHT);
    for (size_t k = 0; k < nc; k++) {
        const struct state_cluster *c = &cs[k];
        if (!wanted(c->name, n, argv))
            continue;
        resources(c, res, sizeof(res));
        table_add_row(&t);
        table_cell(&t, c->name);
        table_cell(&t, fmt_ago(ago, sizeof(ago), c->launched_at, now));
        table_cell(&t, res);
        table_cell(&t, c->status);
        if (c->autostop_minutes < 0)
            snprintf(as, sizeof(as), "-");
        else
            snprintf(as, sizeof(as), "%gm%s", c->autostop_minutes,
                     c->autostop_down ? " (down)" : "");
        table_cell(&t, as);
        if (isnan(c->hourly_price))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.4f", c->hourly_price);
    }
    table_print(&t, stdout);
    table_release(&t);
out:
    state_cluster_list_free(cs, nc);
    state_close(&st);
    return rc;
}
