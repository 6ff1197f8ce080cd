/*
 * cmd_optimize.c - `skyc optimize TASK.yaml` and `skyc launch --dryrun`:
 * the plan for a task, pipeline or DAG, SkyPilot-style, with runners-up.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/units.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "cli/offer_format.h"
#include "cli/options.h"
#include "optimizer/optimizer.h"
#include "task/task.h"

struct optimize_opts {
    const char *catalog;
    const char *minimize;
    const char *solver;
    const char *cloud;
    const char *region;
    double hours;
    long runners_up;
    bool json;
    bool dryrun;
    struct opt_list block;
};

static void candidate_row(struct table *t, const struct catalog *cat,
                          const struct opt_candidate *c, bool chosen)
{
    const struct catalog_offering *o = &cat->offers[c->offer];
    char infra[256], gpus[64];
    table_add_row(t);
    table_cell(t, catalog_offer_infra(cat, o, infra, sizeof(infra)));
    table_cellf(t, "%s%s", cat->names[o->instance], c->spot ? " [spot]" : "");
    offer_cell_number(t, o->vcpus, -1, "");
    offer_cell_number(t, o->memory_gib, -1, "");
    table_cell(t, offer_gpus(cat, o, gpus, sizeof(gpus)));
    table_cellf(t, "%.4f", c->hourly);
    table_cellf(t, "%.2f", c->cost);
    table_cell(t, chosen ? "\xe2\x9c\x94" : "");
    if (chosen)
        table_highlight_row(t);
}

static json_t *candidate_json(const struct catalog *cat,
                              const struct opt_candidate *c)
{
    json_t *j = offer_json(cat, &cat->offers[c->offer]);
    json_object_set_new(j, "spot", json_boolean(c->spot));
    json_object_set_new(j, "hourly", json_real(c->hourly));
    json_object_set_new(j, "cost", json_real(c->cost));
    return j;
}

static void print_plan(const struct catalog *cat, const struct task_dag *dag,
                       const struct opt_plan *plan)
{
    char name[64], hrs[32];
    for (size_t v = 0; v < plan->ntasks; v++) {
        const struct opt_task_plan *tp = &plan->tasks[v];
        const struct task *t = &dag->tasks[v];
        format_hours(hrs, sizeof(hrs), tp->hours);
        printf("%sTask '%s': %ld node%s x %s, %zu candidate%s\n",
               v ? "\n" : "", task_display_name(dag, v, name, sizeof(name)),
               t->num_nodes, t->num_nodes == 1 ? "" : "s", hrs,
               tp->ncandidates, tp->ncandidates == 1 ? "" : "s");
        struct table tb;
        table_init(&tb);
        table_add_col(&tb, "INFRA", TABLE_LEFT);
        table_add_col(&tb, "INSTANCE", TABLE_LEFT);
        table_add_col(&tb, "vCPUs", TABLE_RIGHT);
        table_add_col(&tb, "Mem(GB)", TABLE_RIGHT);
        table_add_col(&tb, "GPUS", TABLE_LEFT);
        table_add_col(&tb, "$/HR", TABLE_RIGHT);
        table_add_col(&tb, "COST ($)", TABLE_RIGHT);
        table_add_col(&tb, "CHOSEN", TABLE_LEFT);
        candidate_row(&tb, cat, &tp->chosen, true);
        for (size_t i = 0; i < tp->nrunners_up; i++)
            candidate_row(&tb, cat, &tp->runners_up[i], false);
        table_print(&tb, stdout);
        table_release(&tb);
        if (tp->input_egress_cost > 0)
            printf("inputs from another cloud: $%.2f egress\n",
                   tp->input_egress_cost);
    }
    if (plan->nedges) {
        printf("\nData between tasks:\n");
        struct table tb;
        table_init(&tb);
        table_add_col(&tb, "FROM", TABLE_LEFT);
        table_add_col(&tb, "TO", TABLE_LEFT);
        table_add_col(&tb, "GB", TABLE_RIGHT);
        table_add_col(&tb, "$/GB", TABLE_RIGHT);
        table_add_col(&tb, "EGRESS ($)", TABLE_RIGHT);
        table_add_col(&tb, "TRANSFER", TABLE_RIGHT);
        for (size_t i = 0; i < plan->nedges; i++) {
            const struct opt_edge_plan *e = &plan->edges[i];
            char a[64], b[64];
            table_add_row(&tb);
            table_cell(&tb, task_display_name(dag, e->from, a, sizeof(a)));
            table_cell(&tb, task_display_name(dag, e->to, b, sizeof(b)));
            table_cellf(&tb, "%g", e->gb);
            table_cellf(&tb, "%.4f", e->price_per_gb);
            table_cellf(&tb, "%.2f", e->cost);
            format_hours(hrs, sizeof(hrs), e->hours);
            table_cell(&tb, e->hours > 0 ? hrs : "-");
        }
        table_print(&tb, stdout);
        table_release(&tb);
    }
    format_hours(hrs, sizeof(hrs), plan->total_hours);
    printf("\nPlan: $%.2f = compute $%.2f + egress $%.2f; %s of task and "
           "transfer time (minimizing %s; %s, %s)\n",
           plan->total_cost, plan->compute_cost, plan->egress_cost, hrs,
           plan->objective == OPT_MIN_TIME ? "time" : "cost", plan->method,
           plan->proven_optimal ? "proven optimal" : "NOT proven optimal");
}

static json_t *plan_json(const struct catalog *cat, const struct task_dag *dag,
                         const struct opt_plan *plan)
{
    json_t *tasks = json_array(), *edges = json_array();
    char name[64];
    for (size_t v = 0; v < plan->ntasks; v++) {
        const struct opt_task_plan *tp = &plan->tasks[v];
        json_t *ru = json_array();
        for (size_t i = 0; i < tp->nrunners_up; i++)
            json_array_append_new(ru, candidate_json(cat, &tp->runners_up[i]));
        json_array_append_new(
            tasks,
            json_pack("{s:s, s:I, s:f, s:I, s:o, s:o, s:f}", "name",
                      task_display_name(dag, v, name, sizeof(name)),
                      "num_nodes", (json_int_t)dag->tasks[v].num_nodes,
                      "hours", tp->hours, "candidates",
                      (json_int_t)tp->ncandidates, "chosen",
                      candidate_json(cat, &tp->chosen), "runners_up", ru,
                      "input_egress_cost", tp->input_egress_cost));
    }
    for (size_t i = 0; i < plan->nedges; i++) {
        const struct opt_edge_plan *e = &plan->edges[i];
        char a[64], b[64];
        json_array_append_new(
            edges,
            json_pack("{s:s, s:s, s:f, s:f, s:f, s:f}", "from",
                      task_display_name(dag, e->from, a, sizeof(a)), "to",
                      task_display_name(dag, e->to, b, sizeof(b)), "gb", e->gb,
                      "price_per_gb", e->price_per_gb, "cost", e->cost,
                      "hours", e->hours));
    }
    return json_pack("{s:s, s:s, s:b, s:f, s:f, s:f, s:f, s:I, s:I, s:o, "
                     "s:o}",
                     "objective",
                     plan->objective == OPT_MIN_TIME ? "time" : "cost",
                     "method", plan->method, "proven_optimal",
                     plan->proven_optimal, "total_cost", plan->total_cost,
                     "compute_cost", plan->compute_cost, "egress_cost",
                     plan->egress_cost, "total_hours", plan->total_hours,
                     "regions_considered", (json_int_t)plan->labels_before,
                     "regions_after_pruning", (json_int_t)plan->labels_after,
                     "tasks", tasks, "edges", edges);
}

/* "cloud[/region[/zone]]" -> a block entry (strings point into spec). */
static enum skyc_err parse_block(char *spec, struct opt_block *b,
                                 struct skyc_error *err)
{
    memset(b, 0, sizeof(*b));
    b->spot = -1;
    char *save = NULL;
    char *cloud = strtok_r(spec, "/", &save);
    b->region = strtok_r(NULL, "/", &save);
    b->zone = strtok_r(NULL, "/", &save);
    b->cloud = cloud ? cloud_parse(cloud) : -1;
    if (!cloud || b->cloud < 0)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--block expects CLOUD[/REGION[/ZONE]] with a cloud "
                         "among aws, gcp, azure, lambda, vast; got '%s'",
                         cloud ? cloud : "");
    return SKYC_OK;
}

static enum skyc_err run_optimize(int argc, const char **argv,
                                  const char *const *usage, bool is_launch,
                                  struct skyc_error *err)
{
    struct optimize_opts o = {.hours = 0, .runners_up = 5};
    const struct option opts[] = {
        OPT_FLAG(0, "dryrun", &o.dryrun, "show the plan; launch nothing"),
        OPT_STRING(0, "catalog", &o.catalog, "DIR", "read catalogs from DIR"),
        OPT_STRING(0, "minimize", &o.minimize, "cost|time",
                   "what to minimise (default cost)"),
        OPT_HOURS(0, "hours", &o.hours, "DURATION",
                  "hours per task without estimated_hours (default 1h)"),
        OPT_STRING(0, "cloud", &o.cloud, "CLOUD", "only this cloud"),
        OPT_STRING(0, "region", &o.region, "REGION", "only this region"),
        OPT_LIST(0, "block", &o.block, "CLOUD[/REGION[/ZONE]]",
                 "rule out a cloud, region or zone (repeatable)"),
        OPT_STRING(0, "solver", &o.solver, "auto|dp|milp",
                   "force a solver (default auto)"),
        OPT_INT(0, "runners-up", &o.runners_up, "N",
                "runners-up listed per task (default 5)"),
        OPT_FLAG(0, "json", &o.json, "print JSON"),
        OPT_END(),
    };
    struct task_dag dag = {0};
    struct catalog cat;
    bool cat_loaded = false;
    struct opt_plan plan = {0};
    struct opt_block *blocks = NULL;
    char **block_specs = NULL;
    enum skyc_err rc;

    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n != 1) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       n ? "expected one task file, got %d arguments"
                         : "expected a task file (e.g. examples/minimal.yaml)",
                       n);
        goto out;
    }
    if (is_launch && !o.dryrun) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "launching needs the runtime, which this build does "
                       "not have yet; add --dryrun to see the plan");
        goto out;
    }
    struct opt_params params;
    opt_params_init(&params);
    if (o.hours > 0)
        params.hours = o.hours;
    if (o.runners_up < 0 || o.runners_up > 50) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--runners-up must be between 0 and 50, got %ld",
                       o.runners_up);
        goto out;
    }
    params.runners_up = (size_t)o.runners_up;
    if (o.minimize && !strcmp(o.minimize, "time"))
        params.objective = OPT_MIN_TIME;
    else if (o.minimize && strcmp(o.minimize, "cost")) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--minimize takes 'cost' or 'time', got '%s'",
                       o.minimize);
        goto out;
    }
    if (o.solver && !strcmp(o.solver, "dp"))
        params.solver = OPT_SOLVER_DP;
    else if (o.solver && !strcmp(o.solver, "milp"))
        params.solver = OPT_SOLVER_MILP;
    else if (o.solver && strcmp(o.solver, "auto")) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--solver takes 'auto', 'dp' or 'milp', got '%s'",
                       o.solver);
        goto out;
    }
    if (o.cloud && (params.cloud = cloud_parse(o.cloud)) < 0) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "unknown cloud '%s' (choose aws, gcp, azure, lambda "
                       "or vast)",
                       o.cloud);
        goto out;
    }
    params.region = o.region;
    blocks = xcalloc(o.block.n + 1, sizeof(*blocks));
    block_specs = xcalloc(o.block.n + 1, sizeof(*block_specs));
    for (size_t i = 0; i < o.block.n; i++) {
        block_specs[i] = xstrdup(o.block.items[i]);
        if ((rc = parse_block(block_specs[i], &blocks[i], err)))
            goto out;
    }
    params.blocked = blocks;
    params.nblocked = o.block.n;

    if ((rc = task_dag_load_file(&dag, argv[0], err)))
        goto out;
    if ((rc = cli_load_catalog(o.catalog, &cat, err)))
        goto out;
    cat_loaded = true;
    if ((rc = optimizer_plan(&cat, &dag, &params, &plan, err)))
        goto out;
    if (o.json)
        output_json(plan_json(&cat, &dag, &plan));
    else
        print_plan(&cat, &dag, &plan);
out:
    opt_plan_release(&plan);
    if (cat_loaded)
        catalog_release(&cat);
    task_dag_release(&dag);
    for (size_t i = 0; block_specs && i < o.block.n; i++)
        free(block_specs[i]);
    free(block_specs);
    free(blocks);
    opt_list_release(&o.block);
    return rc;
}

enum skyc_err cmd_optimize(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc optimize [options] TASK.yaml", NULL};
    return run_optimize(argc, argv, usage, false, err);
}

enum skyc_err cmd_launch(int argc, const char **argv, struct skyc_error *err)
{
    const char *const usage[] = {"skyc launch --dryrun [options] TASK.yaml",
                                 NULL};
    bool dryrun = false;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--dryrun"))
            dryrun = true;
    if (!dryrun)
        return cmd_launch_run(argc, argv, err);
    return run_optimize(argc, argv, usage, true, err);
}
