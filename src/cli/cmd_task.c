/*
 * cmd_task.c - `skyc task check FILE [--json]`: validate a task YAML and
 * print its tasks, edges and resource alternatives.
 */
#include "core/common.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "task/task.h"

static const char *amount_text(const struct task_amount *a, char *buf,
                               size_t size)
{
    switch (a->kind) {
    case TASK_AMOUNT_ANY:
        return "-";
    case TASK_AMOUNT_EXACT:
        snprintf(buf, size, "%g", a->value);
        break;
    case TASK_AMOUNT_AT_LEAST:
        snprintf(buf, size, "%g+", a->value);
        break;
    case TASK_AMOUNT_PER_CPU:
        snprintf(buf, size, "%gx", a->value);
        break;
    }
    return buf;
}

static const char *amount_kind(enum task_amount_kind k)
{
    static const char *const names[] = {"any", "exact", "at_least",
                                        "per_cpu"};
    return (size_t)k < ARRAY_SIZE(names) ? names[k] : "any";
}

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *amount_json(const struct task_amount *a)
{
    return json_pack("{s:s, s:f}", "kind", amount_kind(a->kind), "value",
                     a->value);
}

static json_t *resources_json(const struct task_resources *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "cloud", json_str_or_null(r->cloud));
    json_object_set_new(o, "region", json_str_or_null(r->region));
    json_object_set_new(o, "zone", json_str_or_null(r->zone));
    json_object_set_new(o, "instance_type", json_str_or_null(r->instance_type));
    json_object_set_new(o, "cpus", amount_json(&r->cpus));
    json_object_set_new(o, "memory_gb", amount_json(&r->memory_gb));
    json_object_set_new(o, "accelerator", json_str_or_null(r->accelerator));
    json_object_set_new(o, "accelerator_count",
                        json_real(r->accelerator_count));
    json_object_set_new(o, "use_spot", json_boolean(r->use_spot));
    json_object_set_new(o, "disk_size_gb", json_real(r->disk_size_gb));
    json_object_set_new(o, "disk_tier", json_str_or_null(r->disk_tier));
    json_t *ports = json_array();
    for (size_t i = 0; i < r->nports; i++)
        json_array_append_new(ports, json_string(r->ports[i]));
    json_object_set_new(o, "ports", ports);
    json_object_set_new(o, "image_id", json_str_or_null(r->image_id));
    json_t *labels = json_object();
    for (size_t i = 0; i < r->nlabels; i++)
        json_object_set_new(labels, r->labels[i].key,
                            json_string(r->labels[i].value));
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "max_hourly_cost", json_real(r->max_hourly_cost));
    json_object_set_new(o, "job_recovery", json_str_or_null(r->job_recovery));
    json_object_set_new(o, "line", json_integer(r->mark.line));
    return o;
}

static json_t *dag_json(const struct task_dag *dag)
{
    json_t *tasks = json_array();
    char buf[32];
    for (size_t i = 0; i < dag->ntasks; i++) {
        const struct task *t = &dag->tasks[i];
        json_t *alts = json_array();
        for (size_t j = 0; j < t->nresources; j++)
            json_array_append_new(alts, resources_json(&t->resources[j]));
        json_t *deps = json_array();
        for (size_t j = 0; j < t->ndepends_on; j++)
            json_array_append_new(deps, json_string(t->depends_on[j]));
        json_array_append_new(
            tasks,
            json_pack("{s:s, s:I, s:b, s:o, s:f, s:f, s:o}", "name",
                      task_display_name(dag, i, buf, sizeof(buf)), "num_nodes",
                      (json_int_t)t->num_nodes, "resources_ordered",
                      t->resources_ordered, "resources", alts,
                      "estimated_hours", t->estimated_hours, "output_gb",
                      task_output_gb(t), "depends_on", deps));
    }
    json_t *edges = json_array();
    for (size_t i = 0; i < dag->nedges; i++)
        json_array_append_new(
            edges, json_pack("{s:s, s:s}", "from",
                             task_display_name(dag, dag->edges[i].from, buf,
                                               sizeof(buf)),
                             "to",
                             task_display_name(dag, dag->edges[i].to,
                                               (char[32]){0}, 32)));
    return json_pack("{s:s, s:o, s:o}", "file", dag->path, "tasks", tasks,
                     "edges", edges);
}

static void print_table(const struct task_dag *dag)
{
    struct table t;
    char buf[32], a[32], b[32];
    table_init(&t);
    table_add_col(&t, "TASK", TABLE_LEFT);
    table_add_col(&t, "NODES", TABLE_RIGHT);
    table_add_col(&t, "ALT", TABLE_RIGHT);
    table_add_col(&t, "INFRA", TABLE_LEFT);
    table_add_col(&t, "CPUS", TABLE_RIGHT);
    table_add_col(&t, "MEMORY", TABLE_RIGHT);
    table_add_col(&t, "ACCELERATOR", TABLE_LEFT);
    table_add_col(&t, "SPOT", TABLE_LEFT);
    for (size_t i = 0; i < dag->ntasks; i++) {
        const struct task *tk = &dag->tasks[i];
        for (size_t j = 0; j < tk->nresources; j++) {
            const struct task_resources *r = &tk->resources[j];
            table_add_row(&t);
            table_cell(&t, j ? "" : task_display_name(dag, i, buf,
                                                      sizeof(buf)));
            if (j)
                table_cell(&t, "");
            else
                table_cellf(&t, "%ld", tk->num_nodes);
            table_cellf(&t, "%zu%s", j + 1,
                        tk->nresources < 2       ? ""
                        : tk->resources_ordered ? " ordered"
                                                : " any");
            table_cellf(&t, "%s/%s/%s", r->cloud ? r->cloud : "*",
                        r->region ? r->region : "*", r->zone ? r->zone : "*");
            table_cell(&t, amount_text(&r->cpus, a, sizeof(a)));
            table_cell(&t, amount_text(&r->memory_gb, b, sizeof(b)));
            if (r->accelerator)
                table_cellf(&t, "%s:%g", r->accelerator, r->accelerator_count);
            else
                table_cell(&t, "-");
            table_cell(&t, r->use_spot ? "yes" : "no");
        }
    }
    table_print(&t, stdout);
    table_release(&t);
    if (dag->nedges) {
        printf("\nedges:\n");
        for (size_t i = 0; i < dag->nedges; i++)
            printf("  %s -> %s\n",
                   task_display_name(dag, dag->edges[i].from, a, sizeof(a)),
                   task_display_name(dag, dag->edges[i].to, b, sizeof(b)));
    }
}

static enum skyc_err cmd_task_check(int argc, const char **argv,
                                    struct skyc_error *err)
{
    static const char *const usage[] = {"skyc task check FILE [--json]",
                                        NULL};
    bool json = false;
    struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print the parsed tasks as JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n == PARSE_OPT_HELP)
        return SKYC_OK;
    if (n < 0)
        return SKYC_E_USAGE;
    if (n != 1)
        return skyc_fail(err, SKYC_E_USAGE,
                         "task check needs exactly one FILE (usage: %s)",
                         usage[0]);
    struct task_dag dag;
    enum skyc_err rc = task_dag_load_file(&dag, argv[0], err);
    if (rc)
        return rc;
    if (json)
        output_json(dag_json(&dag));
    else
        print_table(&dag);
    task_dag_release(&dag);
    return SKYC_OK;
}

static const struct cli_command task_commands[] = {
    {"check", cmd_task_check, "Validate a task YAML and summarise it"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_task(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc task", task_commands, argc - 1, argv + 1, err);
}
