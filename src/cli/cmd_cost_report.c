/*
 * cmd_cost_report.c - `skyc cost-report`: for every cluster ever launched,
 * its running time (stops excluded) x its hourly price at launch.
 */
#include "core/common.h"
#include "core/output.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/rt_format.h"
#include "runtime/runtime.h"

enum skyc_err cmd_cost_report(int argc, const char **argv,
                              struct skyc_error *err)
{
    const char *const usage[] = {"skyc cost-report [--json]", NULL};
    bool json = false;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    struct state st;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    struct state_history *hs = NULL;
    size_t nh = 0;
    if ((rc = rt_reconcile(&st, stderr, err)) ||
        (rc = state_history_list(&st, &hs, &nh, err)))
        goto out;
    double now = state_now(), total = 0;
    json_t *arr = json ? json_array() : NULL;
    struct table t;
    table_init(&t);
    table_add_col(&t, "NAME", TABLE_LEFT);
    table_add_col(&t, "LAUNCHED", TABLE_LEFT);
    table_add_col(&t, "DURATION", TABLE_LEFT);
    table_add_col(&t, "RESOURCES", TABLE_LEFT);
    table_add_col(&t, "$/HR", TABLE_RIGHT);
    table_add_col(&t, "COST ($)", TABLE_RIGHT);
    table_add_col(&t, "STATUS", TABLE_LEFT);
    for (size_t i = 0; i < nh; i++) {
        const struct state_history *h = &hs[i];
        double secs = state_history_seconds(h, now);
        double cost = isnan(h->hourly_price) ? NAN
                                             : secs / 3600 * h->hourly_price;
        if (!isnan(cost))
            total += cost;
        char res[256], a[48], d[48];
        snprintf(res, sizeof(res), "%ldx %s%s%s%s", h->num_nodes,
                 h->cloud ? h->cloud : h->provider,
                 h->instance_type ? "(" : "",
                 h->instance_type ? h->instance_type : "",
                 h->instance_type ? (h->spot ? ", spot)" : ")") : "");
        if (json) {
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:f, s:o, s:f, s:s, s:o, s:o, "
                               "s:s}",
                               "name", h->cluster, "provider", h->provider,
                               "launched_at", h->launched_at, "ended_at",
                               json_number_or_null(h->ended_at),
                               "running_seconds", secs, "resources", res,
                               "hourly_price",
                               json_number_or_null(h->hourly_price), "cost",
                               json_number_or_null(cost), "status",
                               h->status));
            continue;
        }
        table_add_row(&t);
        table_cell(&t, h->cluster);
        table_cell(&t, fmt_ago(a, sizeof(a), h->launched_at, now));
        table_cell(&t, fmt_secs(d, sizeof(d), secs));
        table_cell(&t, res);
        if (isnan(h->hourly_price)) {
            table_cell(&t, "-");
            table_cell(&t, "-");
        } else {
            table_cellf(&t, "%.4f", h->hourly_price);
            table_cellf(&t, "%.4f", cost);
        }
        table_cell(&t, h->status);
    }
    if (json)
        output_json(json_pack("{s:o, s:f}", "clusters", arr, "total_cost",
                              total));
    else {
        table_print(&t, stdout);
        printf("\nTotal: $%.4f over %zu launch%s\n", total, nh,
               nh == 1 ? "" : "es");
    }
    table_release(&t);
out:
    state_history_list_free(hs, nh);
    state_close(&st);
    return rc;
}
