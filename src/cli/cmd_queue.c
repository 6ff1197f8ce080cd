/*
 * cmd_queue.c - `skyc queue [CLUSTER...]`: the job queue of each cluster.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/rt_format.h"
#include "runtime/runtime.h"

static json_t *job_json(const struct state_job *j)
{
    return json_pack("{s:s, s:I, s:s?, s:s, s:f, s:o, s:o, s:o, s:f, s:f, "
                     "s:I, s:s}",
                     "cluster", j->cluster, "id", (json_int_t)j->id, "name",
                     j->name, "status", j->status, "submitted_at",
                     j->submitted_at, "started_at",
                     json_number_or_null(j->started_at), "ended_at",
                     json_number_or_null(j->ended_at), "exit_code",
                     j->exit_code < 0 ? json_null()
                                      : json_integer(j->exit_code),
                     "cpus", j->cpus, "gpus", j->gpus, "num_nodes",
                     (json_int_t)j->num_nodes, "log", j->log_path);
}

static void job_rows(struct table *t, const struct state_job *jobs, size_t n,
                     bool skip_finished, double now)
{
    char a[48], d[48];
    for (size_t i = 0; i < n; i++) {
        const struct state_job *j = &jobs[i];
        if (skip_finished && job_status_terminal(j->status))
            continue;
        table_add_row(t);
        table_cellf(t, "%ld", j->id);
        table_cell(t, j->name ? j->name : "-");
        table_cell(t, fmt_ago(a, sizeof(a), j->submitted_at, now));
        double end = isnan(j->ended_at) ? now : j->ended_at;
        table_cell(t, isnan(j->started_at)
                          ? "-"
                          : fmt_secs(d, sizeof(d), end - j->started_at));
        if (j->gpus > 0)
            table_cellf(t, "%ldx[CPU:%g, GPU:%g]", j->num_nodes, j->cpus,
                        j->gpus);
        else
            table_cellf(t, "%ldx[CPU:%g]", j->num_nodes, j->cpus);
        table_cell(t, j->status);
        if (j->exit_code < 0)
            table_cell(t, "-");
        else
            table_cellf(t, "%d", j->exit_code);
        table_cell(t, j->log_path);
    }
}

enum skyc_err cmd_queue(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc queue [--json] [-s] [CLUSTER...]",
                                 NULL};
    bool json = false, skip = false;
    const struct option opts[] = {
        OPT_FLAG('s', "skip-finished", &skip, "only jobs still to finish"),
        OPT_FLAG(0, "json", &json, "print JSON"),
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
    json_t *arr = json ? json_array() : NULL;
    if ((rc = state_cluster_list(&st, &cs, &nc, err)))
        goto out;
    const char **names = NULL;
    size_t nn = 0;
    if (n) {
        names = argv;
        nn = (size_t)n;
    } else {
        names = xcalloc(nc + 1, sizeof(*names));
        for (size_t k = 0; k < nc; k++)
            names[nn++] = cs[k].name;
    }
    double now = state_now();
    for (size_t k = 0; k < nn; k++) {
        struct state_cluster c;
        if ((rc = state_cluster_get(&st, names[k], &c, err)))
            break;
        rt_reconcile_cluster(&st, &c, stderr);
        state_cluster_release(&c);
        struct state_job *jobs = NULL;
        size_t nj = 0;
        if ((rc = state_job_list(&st, names[k], false, &jobs, &nj, err)))
            break;
        if (json) {
            for (size_t i = 0; i < nj; i++)
                if (!skip || !job_status_terminal(jobs[i].status))
                    json_array_append_new(arr, job_json(&jobs[i]));
        } else {
            printf("%sJob queue of cluster '%s'\n", k ? "\n" : "", names[k]);
            struct table t;
            table_init(&t);
            table_add_col(&t, "ID", TABLE_RIGHT);
            table_add_col(&t, "NAME", TABLE_LEFT);
            table_add_col(&t, "SUBMITTED", TABLE_LEFT);
            table_add_col(&t, "DURATION", TABLE_LEFT);
            table_add_col(&t, "RESOURCES", TABLE_LEFT);
            table_add_col(&t, "STATUS", TABLE_LEFT);
            table_add_col(&t, "EXIT", TABLE_RIGHT);
            table_add_col(&t, "LOG", TABLE_LEFT);
            job_rows(&t, jobs, nj, skip, now);
            table_print(&t, stdout);
            table_release(&t);
        }
        state_job_list_free(jobs, nj);
    }
    if (!n)
        free(names);
    if (!rc && json) {
        output_json(arr);
        arr = NULL;
    }
    if (!rc && !json && !nn)
        fprintf(stderr, "No clusters.\n");
out:
    json_decref(arr);
    state_cluster_list_free(cs, nc);
    state_close(&st);
    return rc;
}
