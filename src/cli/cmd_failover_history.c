/*
 * cmd_failover_history.c - `skyc failover-history [CLUSTER]`: every
 * provisioning attempt of a launch (where, what, the classified result and
 * what the failover loop blocked), from the launch history in state/.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/rt_format.h"
#include "provision/failover.h"
#include "state/state.h"

static enum skyc_err code_of_name(const char *name)
{
    size_t n;
    const struct skyc_err_info *t = skyc_err_table(&n);
    for (size_t i = 0; name && i < n; i++)
        if (!strcmp(t[i].name, name))
            return t[i].code;
    return name && !strcmp(name, "OK") ? SKYC_OK : SKYC_E_FAILED;
}

static void infra(char *buf, size_t size, const struct state_attempt *a)
{
    snprintf(buf, size, "%s%s%s%s%s", a->cloud ? a->cloud : "-",
             a->region ? "/" : "", a->region ? a->region : "",
             a->zone ? "/" : "", a->zone ? a->zone : "");
}

enum skyc_err cmd_failover_history(int argc, const char **argv,
                                   struct skyc_error *err)
{
    const char *const usage[] = {
        "skyc failover-history [--all] [--json] [CLUSTER]", NULL};
    bool json = false, all = false;
    const struct option opts[] = {
        OPT_FLAG(0, "all", &all,
                 "every launch, not only each cluster's latest"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 1)
        return skyc_fail(err, SKYC_E_USAGE, "expected at most one cluster, "
                                            "got %d arguments",
                         n);
    const char *want = n ? argv[0] : NULL;
    struct state st;
    enum skyc_err rc = state_open(&st, err);
    if (rc)
        return rc;
    struct state_history *hs = NULL;
    size_t nh = 0, shown = 0;
    struct strbuf notes = STRBUF_INIT;
    json_t *arr = json ? json_array() : NULL;
    struct table t;
    table_init(&t);
    table_add_col(&t, "CLUSTER", TABLE_LEFT);
    table_add_col(&t, "LAUNCHED", TABLE_LEFT);
    table_add_col(&t, "#", TABLE_RIGHT);
    table_add_col(&t, "INFRA", TABLE_LEFT);
    table_add_col(&t, "INSTANCE", TABLE_LEFT);
    table_add_col(&t, "SPOT", TABLE_LEFT);
    table_add_col(&t, "RESULT", TABLE_LEFT);
    table_add_col(&t, "BLOCKED", TABLE_LEFT);
    if ((rc = state_history_list(&st, &hs, &nh, err)))
        goto out;
    double now = state_now();
    for (size_t i = 0; i < nh; i++) {
        const struct state_history *h = &hs[i];
        if (want && strcmp(h->cluster, want))
            continue;
        bool later = false; /* a newer launch of the same name */
        for (size_t j = 0; !all && j < nh; j++)
            if (j != i && !strcmp(hs[j].cluster, h->cluster) &&
                (hs[j].launched_at > h->launched_at ||
                 (hs[j].launched_at == h->launched_at && hs[j].id > h->id)))
                later = true;
        if (later)
            continue;
        struct state_attempt *as = NULL;
        size_t na = 0;
        if ((rc = state_attempt_list(&st, h->id, &as, &na, err)))
            goto out;
        json_t *jatt = json ? json_array() : NULL;
        for (size_t k = 0; k < na; k++) {
            const struct state_attempt *a = &as[k];
            enum skyc_err code = code_of_name(a->result);
            char *blocked = code == SKYC_OK
                                ? NULL
                                : failover_blocked_text(a->cloud, a->region,
                                                        a->zone,
                                                        a->instance_type,
                                                        a->spot, code);
            if (json) {
                json_t *o = json_object();
                json_object_set_new(o, "cloud", a->cloud ? json_string(a->cloud)
                                                         : json_null());
                json_object_set_new(o, "region", a->region
                                                     ? json_string(a->region)
                                                     : json_null());
                json_object_set_new(o, "zone", a->zone ? json_string(a->zone)
                                                       : json_null());
                json_object_set_new(o, "instance_type",
                                    a->instance_type
                                        ? json_string(a->instance_type)
                                        : json_null());
                json_object_set_new(o, "spot", json_boolean(a->spot));
                json_object_set_new(o, "result",
                                    json_string(a->result ? a->result : "?"));
                json_object_set_new(o, "message",
                                    a->message ? json_string(a->message)
                                               : json_null());
                json_object_set_new(o, "blocked", blocked ? json_string(blocked)
                                                          : json_null());
                json_array_append_new(jatt, o);
            } else {
                char ib[512], ago[48];
                infra(ib, sizeof(ib), a);
                table_add_row(&t);
                table_cell(&t, k ? "" : h->cluster);
                table_cell(&t, k ? "" : fmt_ago(ago, sizeof(ago),
                                                h->launched_at, now));
                table_cellf(&t, "%zu", k + 1);
                table_cell(&t, ib);
                table_cell(&t, a->instance_type ? a->instance_type : "-");
                table_cell(&t, a->spot ? "yes" : "no");
                table_cell(&t, code == SKYC_OK ? "UP" : a->result);
                table_cell(&t, blocked ? blocked : "-");
                if (code == SKYC_OK)
                    table_highlight_row(&t);
                if (a->message)
                    strbuf_addf(&notes, "  %s #%zu: %s\n", h->cluster, k + 1,
                                a->message);
            }
            free(blocked);
        }
        if (json)
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:f, s:s, s:o}", "cluster",
                               h->cluster, "provider", h->provider,
                               "launched_at", h->launched_at, "status",
                               h->status, "attempts", jatt));
        if (na)
            shown++;
        state_attempt_list_free(as, na);
    }
    if (json) {
        output_json(arr);
        arr = NULL;
    } else if (!shown) {
        if (want)
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "no launch of cluster '%s' in the history (see "
                           "'skyc cost-report')",
                           want);
        else
            fprintf(stderr, "No launches yet.\n");
    } else {
        table_print(&t, stdout);
        if (notes.len)
            printf("\nWhy attempts failed:\n%s", notes.buf);
    }
out:
    strbuf_release(&notes);
    json_decref(arr);
    table_release(&t);
    state_history_list_free(hs, nh);
    state_close(&st);
    return rc;
}
