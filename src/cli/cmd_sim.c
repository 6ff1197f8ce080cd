/*
 * cmd_sim.c - `skyc sim`: look inside the emulated cloud. `sim nodes` lists
 * its instances (what a console would show), `sim check` validates a fault
 * config, `sim clock` shows the sim clock and where each spot trace is.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/units.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/rt_format.h"
#include "provision/sim.h"
#include "provision/sim_spawn.h"

static enum skyc_err no_args(int n, const char **argv, struct skyc_error *err)
{
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    return SKYC_OK;
}

static enum skyc_err sim_nodes(int argc, const char **argv,
                               struct skyc_error *err)
{
    const char *const usage[] = {"skyc sim nodes [--json]", NULL};
    bool json = false;
    const struct option opts[] = {
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    enum skyc_err rc = no_args(n, argv, err);
    if (rc)
        return rc;
    struct provider p;
    if ((rc = provider_sim_open(&p, err)))
        return rc;
    struct sim_node_info *v = NULL;
    size_t nv = 0;
    if ((rc = sim_provider_nodes(&p, &v, &nv, err)))
        goto out;
    double now = clock_wall();
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nv; i++)
            json_array_append_new(
                arr,
                json_pack("{s:s, s:s, s:s, s:o, s:s, s:b, s:o, s:s, s:i, "
                          "s:f, s:o}",
                          "id", v[i].id, "cloud", v[i].cloud, "region",
                          v[i].region, "zone",
                          v[i].zone ? json_string(v[i].zone) : json_null(),
                          "instance_type", v[i].instance_type, "spot",
                          v[i].spot, "hourly_price",
                          json_number_or_null(v[i].hourly_price), "state",
                          provider_node_state_name(v[i].state), "processes",
                          (int)v[i].procs, "created", v[i].created,
                          "preempt_at",
                          v[i].preempt_at < 0 ? json_null()
                                              : json_real(v[i].preempt_at)));
        output_json(arr);
        goto out;
    }
    if (!nv) {
        fprintf(stderr, "No sim instances. Launch one: skyc launch "
                        "--provider sim TASK.yaml\n");
        goto out;
    }
    struct table t;
    table_init(&t);
    table_add_col(&t, "ID", TABLE_LEFT);
    table_add_col(&t, "INFRA", TABLE_LEFT);
    table_add_col(&t, "INSTANCE", TABLE_LEFT);
    table_add_col(&t, "SPOT", TABLE_LEFT);
    table_add_col(&t, "$/HR", TABLE_RIGHT);
    table_add_col(&t, "STATE", TABLE_LEFT);
    table_add_col(&t, "PROCS", TABLE_RIGHT);
    table_add_col(&t, "STARTED", TABLE_LEFT);
    table_add_col(&t, "PREEMPTED IN", TABLE_LEFT);
    for (size_t i = 0; i < nv; i++) {
        char buf[64];
        table_add_row(&t);
        table_cell(&t, v[i].id);
        table_cellf(&t, "%s/%s%s%s", v[i].cloud, v[i].region,
                    v[i].zone ? "/" : "", v[i].zone ? v[i].zone : "");
        table_cell(&t, v[i].instance_type);
        table_cell(&t, v[i].spot ? "yes" : "no");
        table_cellf(&t, "%.4f", v[i].hourly_price);
        table_cell(&t, provider_node_state_name(v[i].state));
        table_cellf(&t, "%zu", v[i].procs);
        table_cell(&t, fmt_ago(buf, sizeof(buf), v[i].created, now));
        if (v[i].state != NODE_RUNNING || v[i].preempt_at < 0)
            table_cell(&t, "-");
        else
            table_cell(&t, fmt_secs(buf, sizeof(buf), v[i].preempt_at - now));
    }
    table_print(&t, stdout);
    table_release(&t);
out:
    sim_node_infos_free(v, nv);
    provider_close(&p);
    return rc;
}

static void match_text(char *buf, size_t size, const struct sim_match *m)
{
    snprintf(buf, size, "%s%s%s%s%s%s%s%s%s",
             m->cloud >= 0 ? cloud_name((enum cloud)m->cloud) : "*",
             m->region ? "/" : "", m->region ? m->region : "",
             m->zone ? " zone " : "", m->zone ? m->zone : "",
             m->instance_type ? " " : "",
             m->instance_type ? m->instance_type : "",
             m->spot == 1 ? " spot" : m->spot == 0 ? " on-demand" : "", "");
}

static void print_config(const struct sim_config *cfg)
{
    char h[64], buf[512];
    printf("config: %s\n", cfg->path ? cfg->path : "(none: no faults)");
    format_hours(h, sizeof(h), 48.0 / cfg->time_scale);
    printf("time_scale: %g sim seconds per wall second (48h of sim time in "
           "%s)\n",
           cfg->time_scale, h);
    printf("clouds:");
    for (int c = 0; c < CLOUD_COUNT; c++)
        if (cfg->clouds[c])
            printf(" %s", cloud_name((enum cloud)c));
    printf("\n");
    for (size_t i = 0; i < cfg->nfaults; i++) {
        const struct sim_fault *f = &cfg->faults[i];
        match_text(buf, sizeof(buf), &f->m);
        printf("fault (line %u): %s -> %s", f->line, buf,
               f->code == SKYC_E_FAILED ? "OTHER" : skyc_err_name(f->code));
        if (f->has_max_nodes)
            printf(", beyond %ld live node%s", f->max_nodes,
                   f->max_nodes == 1 ? "" : "s");
        if (f->times)
            printf(", the first %ld time%s", f->times,
                   f->times == 1 ? "" : "s");
        printf("\n");
    }
    for (size_t i = 0; i < cfg->npreempts; i++) {
        match_text(buf, sizeof(buf), &cfg->preempts[i].m);
        format_hours(h, sizeof(h), cfg->preempts[i].after_s / 3600);
        const struct sim_preempt *pr = &cfg->preempts[i];
        printf("preemption: %s spot nodes after %s of sim time", buf, h);
        if (pr->rank >= 0)
            printf(", node rank %ld only", pr->rank);
        if (pr->times)
            printf(", the first %ld node%s", pr->times,
                   pr->times == 1 ? "" : "s");
        printf("\n");
    }
    for (size_t i = 0; i < cfg->ntraces; i++) {
        const struct sim_trace_rule *r = &cfg->traces[i];
        size_t avail = 0;
        for (size_t k = 0; k < r->trace.n; k++)
            avail += r->trace.avail[k] > 0;
        match_text(buf, sizeof(buf), &r->m);
        format_hours(h, sizeof(h), r->trace.n * r->trace.gap_s / 3600);
        printf("spot trace: %s <- %s (%zu ticks x %g s = %s, spot "
               "available %.1f%% of ticks, from tick %ld)\n",
               buf, r->trace.path, r->trace.n, r->trace.gap_s, h,
               100.0 * (double)avail / (double)r->trace.n, r->start_tick);
    }
}

static enum skyc_err sim_check(int argc, const char **argv,
                               struct skyc_error *err)
{
    const char *const usage[] = {"skyc sim check [CONFIG.yaml]", NULL};
    const struct option opts[] = {OPT_END()};
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 1)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[1]);
    enum skyc_err rc;
    if (n == 1) {
        struct sim_config cfg;
        if ((rc = sim_config_load(argv[0], &cfg, err)))
            return rc;
        print_config(&cfg);
        sim_config_release(&cfg);
        return SKYC_OK;
    }
    struct provider p;
    if ((rc = provider_sim_open(&p, err)))
        return rc;
    print_config(sim_provider_config(&p));
    provider_close(&p);
    return SKYC_OK;
}

static enum skyc_err sim_clock(int argc, const char **argv,
                               struct skyc_error *err)
{
    const char *const usage[] = {"skyc sim clock", NULL};
    const struct option opts[] = {OPT_END()};
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    enum skyc_err rc = no_args(n, argv, err);
    struct provider p;
    if (rc || (rc = provider_sim_open(&p, err)))
        return rc;
    const struct sim_config *cfg = sim_provider_config(&p);
    double now = sim_provider_now(&p);
    char h[64], buf[512];
    format_hours(h, sizeof(h), now / 3600);
    printf("sim time: %s (%.0f s) at %gx\n", h, now, cfg->time_scale);
    for (size_t i = 0; i < cfg->ntraces; i++) {
        const struct sim_trace_rule *r = &cfg->traces[i];
        long tick = r->start_tick + (long)floor(now / r->trace.gap_s);
        match_text(buf, sizeof(buf), &r->m);
        printf("%s: tick %ld of %zu, %d spot instance%s available\n", buf,
               tick, r->trace.n, sim_trace_at(&r->trace, tick),
               sim_trace_at(&r->trace, tick) == 1 ? "" : "s");
    }
    provider_close(&p);
    return SKYC_OK;
}

static const struct cli_command sim_commands[] = {
    {"nodes", sim_nodes, "List the emulated instances"},
    {"check", sim_check, "Validate a fault config and say what it injects"},
    {"clock", sim_clock, "Show the sim clock and each spot trace's tick"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_sim(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc sim", sim_commands, argc - 1, argv + 1, err);
}
