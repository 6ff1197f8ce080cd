/*
 * cmd_transfer.c - `skyc transfer plan SRC DST`: the Skyplane-style overlay
 * plan (gateways per region, relays, per-edge Gbps and connections) next to
 * the direct path, or the cost/throughput Pareto curve.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "transfer/grid.h"
#include "transfer/plan.h"

/* Skyplane's default gateway price ($/h, an m5.8xlarge on demand). */
#define DEFAULT_VM_PRICE 1.54

struct plan_opts {
    double tput, max_cost, vm_price, min_tput, max_tput;
    bool pareto, json, reference;
    long max_vms, points;
    const char *grid, *prices, *catalog;
    double time_limit;
};

static void print_gateways(const struct transfer_grid *g,
                           const struct transfer_plan *p,
                           const bool *from_catalog)
{
    struct table t;
    table_init(&t);
    table_add_col(&t, "REGION", TABLE_LEFT);
    table_add_col(&t, "ROLE", TABLE_LEFT);
    table_add_col(&t, "VMS", TABLE_RIGHT);
    table_add_col(&t, "INSTANCE", TABLE_LEFT);
    table_add_col(&t, "$/HR/VM", TABLE_RIGHT);
    table_add_col(&t, "PRICE FROM", TABLE_LEFT);
    for (size_t k = 0; k < p->ngateways; k++) {
        const struct transfer_gateway *gw = &p->gateways[k];
        table_add_row(&t);
        table_cell(&t, g->regions[gw->region]);
        table_cell(&t, gw->relay ? "relay" : k == 0 ? "source" : "destination");
        table_cellf(&t, "%d", gw->vms);
        table_cell(&t, transfer_gateway_instance(g->cloud[gw->region]));
        table_cellf(&t, "%.4f", gw->vm_price_h);
        table_cell(&t, from_catalog[gw->region] ? "catalog" : "--vm-price");
    }
    table_print(&t, stdout);
    table_release(&t);
}

static void print_edges(const struct transfer_grid *g,
                        const struct transfer_plan *p)
{
    struct table t;
    table_init(&t);
    table_add_col(&t, "FROM", TABLE_LEFT);
    table_add_col(&t, "TO", TABLE_LEFT);
    table_add_col(&t, "GBPS", TABLE_RIGHT);
    table_add_col(&t, "CONNS", TABLE_RIGHT);
    table_add_col(&t, "GRID GBPS@64", TABLE_RIGHT);
    table_add_col(&t, "EGRESS $/GB", TABLE_RIGHT);
    for (size_t k = 0; k < p->nedges; k++) {
        const struct transfer_edge *e = &p->edges[k];
        table_add_row(&t);
        table_cell(&t, g->regions[e->from]);
        table_cell(&t, g->regions[e->to]);
        table_cellf(&t, "%.3f", e->gbps);
        table_cellf(&t, "%d", e->conns);
        table_cellf(&t, "%.3f", e->grid_gbps);
        table_cellf(&t, "%.4f", e->price_per_gb);
    }
    table_print(&t, stdout);
    table_release(&t);
}

static json_t *plan_json(const struct transfer_grid *g,
                         const struct transfer_plan *p,
                         const bool *from_catalog)
{
    json_t *gws = json_array(), *edges = json_array(), *relays = json_array();
    for (size_t k = 0; k < p->ngateways; k++) {
        const struct transfer_gateway *gw = &p->gateways[k];
        json_array_append_new(
            gws, json_pack("{s:s, s:s, s:i, s:s, s:f, s:s}", "region",
                           g->regions[gw->region], "role",
                           gw->relay  ? "relay"
                           : k == 0   ? "source"
                                      : "destination",
                           "vms", gw->vms, "instance",
                           transfer_gateway_instance(g->cloud[gw->region]),
                           "vm_price_per_hour", gw->vm_price_h, "price_from",
                           from_catalog[gw->region] ? "catalog"
                                                    : "--vm-price"));
        if (gw->relay)
            json_array_append_new(relays,
                                  json_string(g->regions[gw->region]));
    }
    for (size_t k = 0; k < p->nedges; k++) {
        const struct transfer_edge *e = &p->edges[k];
        json_array_append_new(
            edges, json_pack("{s:s, s:s, s:f, s:i, s:f, s:f}", "from",
                             g->regions[e->from], "to", g->regions[e->to],
                             "gbps", e->gbps, "connections", e->conns,
                             "grid_gbps", e->grid_gbps, "egress_per_gb",
                             e->price_per_gb));
    }
    return json_pack("{s:f, s:f, s:f, s:f, s:f, s:i, s:o, s:o, s:o, s:f, "
                     "s:b, s:f, s:f, s:I, s:i}",
                     "throughput_gbps", p->tput_gbps, "cost_per_gb",
                     p->cost_per_gb, "egress_per_gb", p->egress_per_gb,
                     "vm_per_gb", p->vm_per_gb, "vm_cost_per_hour",
                     p->vm_cost_per_h, "vms", p->vms, "gateways", gws,
                     "relays", relays, "edges", edges,
                     "fractional_cost_per_gb", p->fractional_cost_per_gb,
                     "proven_optimal",
                     p->proven_optimal, "gap", p->gap, "solve_seconds",
                     p->solve_s, "nodes",
                     (json_int_t)p->nodes, "solves", p->solves);
}

static json_t *grid_json(const struct transfer_grid *g)
{
    return json_pack("{s:s, s:s, s:I, s:I, s:I}", "throughput",
                     g->throughput_source, "prices", g->price_source,
                     "regions", (json_int_t)g->n, "throughput_rows",
                     (json_int_t)g->throughput_rows, "price_rows",
                     (json_int_t)g->price_rows);
}

static size_t count_relays(const struct transfer_plan *p)
{
    size_t n = 0;
    for (size_t k = 0; k < p->ngateways; k++)
        n += p->gateways[k].relay;
    return n;
}

static void print_compare(const struct transfer_plan *p,
                          const struct transfer_plan *d, bool have_direct,
                          const char *direct_note)
{
    struct table t;
    table_init(&t);
    table_add_col(&t, "", TABLE_LEFT);
    table_add_col(&t, "PLAN", TABLE_RIGHT);
    table_add_col(&t, "DIRECT", TABLE_RIGHT);
#define ROW(label, fmt, a, b)                                                  \
    do {                                                                       \
        table_add_row(&t);                                                     \
        table_cell(&t, label);                                                 \
        table_cellf(&t, fmt, a);                                               \
        if (have_direct)                                                       \
            table_cellf(&t, fmt, b);                                           \
        else                                                                   \
            table_cell(&t, "-");                                               \
    } while (0)
    ROW("throughput (Gbps)", "%.3f", p->tput_gbps, d->tput_gbps);
    ROW("egress $/GB", "%.5f", p->egress_per_gb, d->egress_per_gb);
    ROW("VM $/GB", "%.5f", p->vm_per_gb, d->vm_per_gb);
    ROW("total $/GB", "%.5f", p->cost_per_gb, d->cost_per_gb);
    ROW("gateway VMs", "%d", p->vms, d->vms);
    ROW("relays", "%zu", count_relays(p), count_relays(d));
#undef ROW
    table_print(&t, stdout);
    table_release(&t);
    if (direct_note)
        printf("direct: %s\n", direct_note);
}

static void relay_list(const struct transfer_grid *g,
                       const struct transfer_plan *p, char *buf, size_t size)
{
    size_t len = 0;
    snprintf(buf, size, "-");
    for (size_t i = 0; i < p->ngateways; i++)
        if (p->gateways[i].relay && len + 2 < size)
            len += (size_t)snprintf(buf + len, size - len, "%s%s",
                                    len ? "," : "",
                                    g->regions[p->gateways[i].region]);
}

static enum skyc_err run_pareto(const struct transfer_grid *g,
                                const struct transfer_request *req,
                                const struct plan_opts *o,
                                const bool *from_catalog,
                                struct skyc_error *err)
{
    struct transfer_front f;
    double lo = isnan(o->min_tput) ? 0 : o->min_tput;
    double hi = isnan(o->max_tput) ? 0 : o->max_tput;
    enum skyc_err rc = transfer_pareto(g, req, lo, hi, &f, err);
    if (rc)
        return rc;
    if (o->json) {
        json_t *arr = json_array(), *arcs = json_array();
        for (size_t k = 0; k < f.npoints; k++) {
            json_t *pj = plan_json(g, &f.points[k], from_catalog);
            json_object_set_new(pj, "curve_cost_per_gb",
                                json_real(f.curve_cost[k]));
            json_array_append_new(arr, pj);
        }
        for (size_t k = 0; k < f.narcs; k++) {
            const struct transfer_arc *a = &f.arcs[k];
            json_array_append_new(
                arcs, json_pack("{s:f, s:f, s:b, s:f, s:f}", "from_gbps",
                                a->from_gbps, "to_gbps", a->to_gbps,
                                "to_included", a->to_included,
                                "cost_per_gb_a", a->a, "cost_per_gb_b",
                                a->b));
        }
        output_json(json_pack(
            "{s:s, s:s, s:s, s:i, s:o, s:o, s:o, s:b, s:[f, f], s:i, s:i, "
            "s:b, s:f}",
            "src", g->regions[req->src], "dst", g->regions[req->dst], "mode",
            "pareto", "max_vms", req->max_vms, "grid", grid_json(g),
            "pareto", arr, "arcs", arcs, "exact", 1, "range_gbps", f.lo,
            f.hi, "milps", f.milps, "configurations", f.configs,
            "proven_optimal", f.proven, "solve_seconds", f.solve_s));
    } else {
        printf("Pareto curve %s -> %s (max %d VM%s per region; Gbps = "
               "bit/s / 2^30), exact over %.3f..%.3f Gbps\n",
               g->regions[req->src], g->regions[req->dst], req->max_vms,
               req->max_vms == 1 ? "" : "s", f.lo, f.hi);
        struct table t;
        table_init(&t);
        table_add_col(&t, "GBPS", TABLE_RIGHT);
        table_add_col(&t, "$/GB", TABLE_RIGHT);
        table_add_col(&t, "EGRESS $/GB", TABLE_RIGHT);
        table_add_col(&t, "VM $/GB", TABLE_RIGHT);
        table_add_col(&t, "VMS", TABLE_RIGHT);
        table_add_col(&t, "RELAYS", TABLE_LEFT);
        size_t ka = 0;
        for (size_t k = 0; k < f.npoints; k++) {
            const struct transfer_plan *p = &f.points[k];
            table_add_row(&t);
            table_cellf(&t, "%.3f", p->tput_gbps);
            table_cellf(&t, "%.5f", p->cost_per_gb);
            table_cellf(&t, "%.5f", p->egress_per_gb);
            table_cellf(&t, "%.5f", p->vm_per_gb);
            table_cellf(&t, "%d", p->vms);
            char buf[512];
            relay_list(g, p, buf, sizeof(buf));
            table_cell(&t, buf);
            for (; ka < f.narcs &&
                   f.arcs[ka].from_gbps <= p->tput_gbps * (1 + 1e-9);
                 ka++) {
                const struct transfer_arc *a = &f.arcs[ka];
                table_add_row(&t);
                table_cellf(&t, "arc to %.3f%s", a->to_gbps,
                            a->to_included ? "" : " (open)");
                table_cellf(&t, "%.5f%+.5f/T", a->a, a->b);
                for (int c = 0; c < 4; c++)
                    table_cell(&t, "");
            }
        }
        table_print(&t, stdout);
        table_release(&t);
        printf("%zu points, %zu arcs ($/GB = a + b/T, T in Gbps); %d MILPs "
               "over %d configurations, %.3f s, %s\n",
               f.npoints, f.narcs, f.milps, f.configs, f.solve_s,
               f.proven ? "every one proven optimal"
                        : "NOT every MILP proven (raise --time-limit)");
    }
    transfer_front_release(&f);
    return SKYC_OK;
}

static enum skyc_err transfer_plan_cmd(int argc, const char **argv,
                                       struct skyc_error *err)
{
    struct plan_opts o = {.tput = NAN, .max_cost = NAN, .min_tput = NAN,
                          .max_tput = NAN,
                          .vm_price = DEFAULT_VM_PRICE, .max_vms = 1,
                          .points = 10, .time_limit = 60};
    const char *const usage[] = {
        "skyc transfer plan SRC DST [--tput GBPS | --max-cost USD_PER_GB | "
        "--pareto [--min-tput GBPS] [--max-tput GBPS]] [--max-vms N] "
        "[--grid CSV] [--prices CSV] [--vm-price USD_PER_H] [--reference] "
        "[--json]",
        NULL};
    const struct option opts[] = {
        OPT_GROUP("SRC, DST: grid regions (aws:us-east-1, gcp:us-west1-a, "
                  "azure:eastus)\n\ngoal (one of; none: the fastest plan, at "
                  "its lowest cost)"),
        OPT_DOUBLE(0, "tput", &o.tput, "GBPS",
                   "cheapest plan that moves GBPS (Skyplane Gbps, bit/s/2^30)"),
        OPT_DOUBLE(0, "max-cost", &o.max_cost, "USD_PER_GB",
                   "fastest plan costing at most USD_PER_GB (egress + VMs)"),
        OPT_FLAG(0, "pareto", &o.pareto,
                 "the exact cost/throughput Pareto front (points and arcs)"),
        OPT_GROUP("model"),
        OPT_INT(0, "max-vms", &o.max_vms, "N",
                "gateway VMs per region at most (default 1)"),
        OPT_STRING(0, "grid", &o.grid, "CSV",
                   "throughput grid (default: Skyplane's 2022-11 grid)"),
        OPT_STRING(0, "prices", &o.prices, "CSV",
                   "egress cost grid (default: Skyplane's 2022-11 grid)"),
        OPT_DOUBLE(0, "vm-price", &o.vm_price, "USD_PER_H",
                   "gateway $/hour where the catalog lacks its type (1.54)"),
        OPT_STRING(0, "catalog", &o.catalog, "DIR",
                   "read VM prices from catalogs in DIR"),
        OPT_DOUBLE(0, "min-tput", &o.min_tput, "GBPS",
                   "--pareto: from this throughput (default: all of it)"),
        OPT_DOUBLE(0, "max-tput", &o.max_tput, "GBPS",
                   "--pareto: up to this throughput (default: the fastest)"),
        OPT_INT(0, "points", &o.points, "N",
                "ignored (the curve is exact; kept for old scripts)"),
        OPT_DOUBLE(0, "time-limit", &o.time_limit, "SECONDS",
                   "CBC time limit per solve (default 60)"),
        OPT_FLAG(0, "reference", &o.reference,
                 "solve Skyplane's MILP whole with CBC's defaults (slow; "
                 "the benchmark's reference)"),
        OPT_FLAG(0, "json", &o.json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n < 2)
        return skyc_fail(err, SKYC_E_USAGE,
                         "transfer plan needs SRC and DST regions (e.g. "
                         "aws:us-east-1 gcp:us-west1-a)");
    if (n > 2)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[2]);
    int goals = !isnan(o.tput) + !isnan(o.max_cost) + o.pareto;
    if (goals > 1)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--tput, --max-cost and --pareto exclude each other");
    if (!isnan(o.tput) && !(o.tput > 0))
        return skyc_fail(err, SKYC_E_USAGE,
                         "--tput '%g' must be a positive Gbps figure", o.tput);
    if (!isnan(o.max_cost) && o.max_cost < 0)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--max-cost '%g' must not be negative", o.max_cost);
    if (o.vm_price < 0)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--vm-price '%g' must not be negative", o.vm_price);
    if (o.max_vms < 1 || o.max_vms > 1000)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--max-vms '%ld' is out of range (1..1000)",
                         o.max_vms);
    if ((!isnan(o.min_tput) || !isnan(o.max_tput)) && !o.pareto)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--min-tput and --max-tput go with --pareto");
    if ((!isnan(o.min_tput) && !(o.min_tput >= 0)) ||
        (!isnan(o.max_tput) && !(o.max_tput > 0)))
        return skyc_fail(err, SKYC_E_USAGE,
                         "--min-tput must be >= 0 and --max-tput > 0 Gbps");
    if (!isnan(o.min_tput) && !isnan(o.max_tput) && o.min_tput >= o.max_tput)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--min-tput '%g' must be below --max-tput '%g'",
                         o.min_tput, o.max_tput);
    if (o.points < 1 || o.points > 200)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--points '%ld' is out of range (1..200)", o.points);
    if (o.time_limit < 0)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--time-limit '%g' must not be negative",
                         o.time_limit);

    struct transfer_grid g;
    struct catalog cat;
    bool have_cat = false;
    double *price = NULL;
    bool *from_catalog = NULL;
    struct transfer_plan plan, direct;
    transfer_plan_init(&plan);
    transfer_plan_init(&direct);
    enum skyc_err rc = transfer_grid_load(&g, o.grid, o.prices, err);
    if (rc)
        goto out;
    int src = transfer_grid_find(&g, argv[0]), dst = transfer_grid_find(&g, argv[1]);
    for (int k = 0; k < 2; k++)
        if ((k ? dst : src) < 0) {
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "region '%s' is not in the throughput grid '%s' "
                           "(write cloud:region as the grid does, e.g. "
                           "aws:us-east-1, gcp:us-west1-a, azure:eastus)",
                           argv[k], g.throughput_source);
            goto out;
        }
    if (src == dst) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "source and destination are the same region '%s'",
                       g.regions[src]);
        goto out;
    }
    if ((rc = cli_load_catalog(o.catalog, &cat, err)))
        goto out;
    have_cat = true;
    price = xcalloc(g.n, sizeof(*price));
    from_catalog = xcalloc(g.n, sizeof(*from_catalog));
    transfer_vm_prices(&g, &cat, o.vm_price, price, from_catalog);

    struct transfer_request req = {
        .src = (uint32_t)src, .dst = (uint32_t)dst,
        .goal = !isnan(o.tput)       ? TRANSFER_GOAL_TPUT
                : !isnan(o.max_cost) ? TRANSFER_GOAL_BUDGET
                                     : TRANSFER_GOAL_MAX,
        .tput_gbps = o.tput, .max_cost_per_gb = o.max_cost,
        .max_vms = (int)o.max_vms, .vm_price_h = price,
        .time_limit_s = o.time_limit, .reference = o.reference};
    if (o.pareto) {
        rc = run_pareto(&g, &req, &o, from_catalog, err);
        goto out;
    }
    if ((rc = transfer_plan_solve(&g, &req, &plan, err)))
        goto out;
    /* the direct path beside it: same goal when it can meet it, else its best */
    struct transfer_request dreq = req;
    dreq.direct_only = true;
    char note[256] = "";
    bool have_direct = true;
    if (req.goal == TRANSFER_GOAL_BUDGET) {
        dreq.goal = TRANSFER_GOAL_BUDGET;
    } else {
        dreq.goal = TRANSFER_GOAL_TPUT;
        dreq.tput_gbps = plan.tput_gbps;
    }
    if (transfer_plan_solve(&g, &dreq, &direct, NULL) != SKYC_OK) {
        dreq.goal = TRANSFER_GOAL_MAX;
        transfer_plan_release(&direct);
        if (transfer_plan_solve(&g, &dreq, &direct, NULL) == SKYC_OK)
            snprintf(note, sizeof(note),
                     "cannot meet the goal; at most %.3f Gbps with %d VM%s "
                     "per side",
                     direct.tput_gbps, req.max_vms,
                     req.max_vms == 1 ? "" : "s");
        else {
            have_direct = false;
            snprintf(note, sizeof(note),
                     "the grid has no measured and priced direct link");
        }
    }
    if (o.json) {
        const char *mode = req.goal == TRANSFER_GOAL_TPUT     ? "tput"
                           : req.goal == TRANSFER_GOAL_BUDGET ? "max-cost"
                                                              : "max-tput";
        json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:o, s:o}", "src",
                              g.regions[src], "dst", g.regions[dst], "mode",
                              mode, "max_vms", req.max_vms, "plan",
                              plan_json(&g, &plan, from_catalog), "direct",
                              have_direct ? plan_json(&g, &direct, from_catalog)
                                          : json_null());
        json_object_set_new(j, "grid", grid_json(&g));
        if (req.goal == TRANSFER_GOAL_TPUT)
            json_object_set_new(j, "goal_gbps", json_real(o.tput));
        if (req.goal == TRANSFER_GOAL_BUDGET)
            json_object_set_new(j, "max_cost_per_gb", json_real(o.max_cost));
        if (have_direct)
            json_object_set_new(json_object_get(j, "direct"), "meets_goal",
                                json_boolean(!note[0]));
        output_json(j);
    } else {
        if (req.goal == TRANSFER_GOAL_TPUT)
            printf("Transfer plan %s -> %s: cheapest at %.3f Gbps", g.regions[src],
                   g.regions[dst], o.tput);
        else if (req.goal == TRANSFER_GOAL_BUDGET)
            printf("Transfer plan %s -> %s: fastest at <= $%.4f/GB",
                   g.regions[src], g.regions[dst], o.max_cost);
        else
            printf("Transfer plan %s -> %s: fastest, then cheapest",
                   g.regions[src], g.regions[dst]);
        printf(" (max %d VM%s per region; Gbps = bit/s / 2^30)\n\n",
               req.max_vms, req.max_vms == 1 ? "" : "s");
        print_gateways(&g, &plan, from_catalog);
        printf("\n");
        print_edges(&g, &plan);
        printf("\n");
        print_compare(&plan, &direct, have_direct, note[0] ? note : NULL);
        printf("Skyplane's model (fractional connections) at %.3f Gbps: "
               "$%.5f/GB\n",
               plan.tput_gbps, plan.fractional_cost_per_gb);
        printf("\nsolved by CBC in %.3f s (%d solve%s, %ld node%s), ",
               plan.solve_s, plan.solves, plan.solves == 1 ? "" : "s",
               plan.nodes, plan.nodes == 1 ? "" : "s");
        if (plan.proven_optimal)
            printf("proven optimal\n");
        else
            printf("NOT proven optimal (within %.3g%% of the bound; raise "
                   "--time-limit)\n",
                   100 * plan.gap);
    }
out:
    transfer_plan_release(&plan);
    transfer_plan_release(&direct);
    free(price);
    free(from_catalog);
    if (have_cat)
        catalog_release(&cat);
    transfer_grid_release(&g);
    return rc;
}

static const struct cli_command transfer_commands[] = {
    {"plan", transfer_plan_cmd,
     "Plan gateways, relays and connections for a transfer"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_transfer(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc transfer", transfer_commands, argc - 1, argv + 1,
                        err);
}
