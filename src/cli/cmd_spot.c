/*
 * cmd_spot.c - `skyc spot sim` (policies on spot traces) and `skyc spot
 * paper` (the Can't-Be-Late reproduction and our policy against it).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/paths.h"
#include "core/plot.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "spot/markov.h"
#include "spot/policy.h"
#include "spot/sim.h"
#include "spot/trace.h"

#define DEFAULT_OD_PRICE 3.06
#define DEFAULT_SPOT_PRICE 0.9731
#define PLOT_SPAN_SPOT PLOT_SPAN_A
#define PLOT_SPAN_OD PLOT_SPAN_B
#define PLOT_SPAN_IDLE PLOT_SPAN_C
#define WINDOWS_SUBDIR "spot-traces/adrs-cant-be-late-windows/windows_48h_task"

/* --traces, or the Can't-Be-Late windows in the shared data. */
static char *traces_dir(const char *given, struct skyc_error *err)
{
    if (given)
        return xstrdup(given);
    char *shared = path_shared_data();
    if (!shared) {
        skyc_fail(err, SKYC_E_NOT_FOUND,
                  "no shared data directory for the default traces (set "
                  "$SKYC_SHARED_DATA or pass --traces DIR)");
        return NULL;
    }
    char *dir = path_join(shared, WINDOWS_SUBDIR);
    free(shared);
    return dir;
}

struct spot_common {
    const char *traces, *format;
    struct opt_list sets, params;
    long windows, skip, seed, nodes;
    double od_price, spot_price;
    bool json;
    struct trace_sets ts;
};

static enum skyc_err load_sets(struct spot_common *c, struct skyc_error *err)
{
    struct trace_read_opts ro = {TRACE_AUTO, (int)c->nodes};
    if (c->format && !trace_format_by_name(c->format, &ro.format))
        return skyc_fail(err, SKYC_E_USAGE,
                         "--trace-format '%s': use auto, window or count",
                         c->format);
    if (c->nodes < 1 || c->nodes > 1024)
        return skyc_fail(err, SKYC_E_USAGE, "--nodes must be in 1..1024");
    if (!(c->od_price > 0) || !(c->spot_price > 0))
        return skyc_fail(err, SKYC_E_USAGE, "prices must be positive");
    char *dir = traces_dir(c->traces, err);
    if (!dir)
        return err->code;
    enum skyc_err rc = trace_sets_load(&c->ts, dir, &ro, err);
    free(dir);
    if (rc)
        return rc;
    if (!c->sets.n)
        return SKYC_OK;
    /* keep only the named sets, in the order given */
    struct trace_set *keep = xcalloc(c->sets.n, sizeof(*keep));
    bool *used = xcalloc(c->ts.n, sizeof(*used));
    size_t nk = 0;
    for (size_t i = 0; i < c->sets.n && !rc; i++) {
        size_t k;
        for (k = 0; k < c->ts.n; k++)
            if (!strcmp(c->ts.sets[k].name, c->sets.items[i]))
                break;
        if (k == c->ts.n || used[k]) {
            const char **names = xcalloc(c->ts.n + 1, sizeof(*names));
            for (size_t j = 0; j < c->ts.n; j++)
                names[j] = c->ts.sets[j].name;
            const char *near = suggest_nearest(c->sets.items[i], names);
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "no trace set '%s'%s%s%s%s", c->sets.items[i],
                           k < c->ts.n ? " twice" : "",
                           near ? " (did you mean '" : "", near ? near : "",
                           near ? "'?)" : "");
            free(names);
            break;
        }
        used[k] = true;
        keep[nk++] = c->ts.sets[k];
    }
    if (!rc) {
        for (size_t k = 0; k < c->ts.n; k++)
            if (!used[k]) {
                for (size_t j = 0; j < c->ts.sets[k].n; j++)
                    spot_trace_release(&c->ts.sets[k].traces[j]);
                free(c->ts.sets[k].traces);
                free(c->ts.sets[k].name);
            }
        free(c->ts.sets);
        c->ts.sets = keep;
        c->ts.n = c->ts.alloc = nk;
        keep = NULL;
    }
    free(keep);
    free(used);
    return rc;
}

/*
 * --instance TYPE [--region R]: on-demand and spot prices from the catalog,
 * the cheapest spot offering of that type (in region R when given).
 */
static enum skyc_err catalog_prices(const char *dir, const char *instance,
                                    const char *region, double *od,
                                    double *spot, struct skyc_error *err)
{
    struct catalog cat;
    enum skyc_err rc = cli_load_catalog(dir, &cat, err);
    if (rc)
        return rc;
    const struct catalog_offering *best = NULL;
    bool type_seen = false;
    for (size_t i = 0; i < cat.noffers; i++) {
        const struct catalog_offering *o = &cat.offers[i];
        if (strcmp(cat.names[o->instance], instance))
            continue;
        type_seen = true;
        if (region && strcmp(cat.regions[o->region].name, region))
            continue;
        if (isnan(o->price) || isnan(o->spot_price) || !(o->spot_price > 0))
            continue;
        if (!best || o->spot_price < best->spot_price)
            best = o;
    }
    if (!best) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no offering of '%s'%s%s with both on-demand and spot "
                       "prices in the catalog (%s)",
                       instance, region ? " in " : "", region ? region : "",
                       type_seen ? "try another --region"
                                 : "check the name with 'skyc show-gpus'");
    } else {
        *od = best->price;
        *spot = best->spot_price;
        fprintf(stderr, "skyc: prices of %s in %s: on-demand $%.4f/h, spot "
                        "$%.4f/h\n",
                instance, cat.regions[best->region].name, *od, *spot);
    }
    catalog_release(&cat);
    return rc;
}

static enum skyc_err parse_policies(const struct opt_list *l,
                                    enum spot_policy_id *ids, size_t *n,
                                    struct skyc_error *err)
{
    *n = 0;
    for (size_t i = 0; i < l->n; i++) {
        char *dup = xstrdup(l->items[i]), *save = NULL;
        for (char *tok = strtok_r(dup, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            enum spot_policy_id id;
            if (!spot_policy_by_name(tok, &id)) {
                const char *names[SPOT_POL_COUNT + 1] = {0};
                for (int k = 0; k < SPOT_POL_COUNT; k++)
                    names[k] = spot_policy_name((enum spot_policy_id)k);
                const char *near = suggest_nearest(tok, names);
                enum skyc_err rc = skyc_fail(
                    err, SKYC_E_USAGE, "unknown policy '%s' (%s%s%s)", tok,
                    near ? "did you mean '"
                         : "choose from od, greedy, sliced, up, adaptive, "
                           "markov, mz-up, mz-adaptive, mz-markov, optimal",
                    near ? near : "", near ? "'?" : "");
                free(dup);
                return rc;
            }
            bool dup_id = false;
            for (size_t k = 0; k < *n; k++)
                dup_id |= ids[k] == id;
            if (!dup_id && *n < SPOT_POL_COUNT)
                ids[(*n)++] = id;
        }
        free(dup);
    }
    return SKYC_OK;
}

static enum skyc_err check_job(const struct spot_job *job,
                               struct skyc_error *err)
{
    if (!(job->duration > 0))
        return skyc_fail(err, SKYC_E_USAGE, "--duration must be positive");
    if (!(job->deadline >= job->duration + job->overhead))
        return skyc_fail(err, SKYC_E_DEADLINE,
                         "a %.2f h deadline cannot fit %.2f h of work plus "
                         "the %.2f h changeover (raise --deadline)",
                         job->deadline / 3600, job->duration / 3600,
                         job->overhead / 3600);
    return SKYC_OK;
}

/* One table row: a policy over some windows. */
struct sim_row {
    char policy[32];
    char set[160];
    struct spot_stats st;
    double od_mean; /* mean on-demand cost over the same windows */
};

/* --param NAME=VALUE overrides of the policy's tunables. */
static enum skyc_err apply_params(const struct spot_common *c,
                                  struct spot_policy *p,
                                  struct skyc_error *err)
{
    for (size_t i = 0; i < c->params.n; i++) {
        const char *kv = c->params.items[i], *eq = strchr(kv, '=');
        char name[32];
        char *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        snprintf(name, sizeof(name), "%.*s",
                 (int)(eq ? (size_t)(eq - kv) : strlen(kv)), kv);
        if (!eq || end == eq + 1 || *end || !spot_policy_set(p, name, v))
            return skyc_fail(err, SKYC_E_USAGE,
                             "--param '%s': use slice=H, enter=F, idle=F, "
                             "leave=F, streak=N, runlen=F or uweight=F "
                             "(numbers >= 0)",
                             kv);
    }
    return SKYC_OK;
}

/* Evaluate one policy over a group of zones; appends the runs. */
static enum skyc_err eval_group(const struct spot_common *c,
                                enum spot_policy_id id,
                                const struct spot_job *job,
                                const struct trace_set *const *zones, int nz,
                                struct spot_run **runs, size_t *nruns,
                                size_t *alloc, double *gap,
                                struct skyc_error *err)
{
    struct spot_window *w = NULL;
    size_t nw = 0, skip = (size_t)c->skip;
    enum skyc_err rc = spot_windows_make(
        zones, nz, c->windows ? (size_t)(c->windows + c->skip) : 0,
        job->deadline + job->duration, (uint64_t)c->seed, &w, &nw, err);
    if (rc)
        return rc;
    if (skip >= nw) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--skip %zu leaves no windows of set '%s' (it has %zu)",
                       skip, zones[0]->name, nw);
        goto out;
    }
    struct spot_policy p;
    spot_policy_init(&p, id);
    if ((rc = apply_params(c, &p, err)))
        goto out;
    ALLOC_GROW(*runs, *nruns + nw - skip, *alloc);
    if (id == SPOT_POL_MARKOV || id == SPOT_POL_MZ_MARKOV)
        rc = spot_eval_markov(job, w + skip, nw - skip,
                              id == SPOT_POL_MZ_MARKOV, *runs + *nruns, err);
    else
        rc = spot_eval(&p, job, w + skip, nw - skip, *runs + *nruns, err);
    if (!rc)
        *nruns += nw - skip;
    *gap = w[0].gap;
out:
    free(w);
    return rc;
}

static json_t *row_json(const struct sim_row *r, double opt_mean)
{
    const struct spot_stats *s = &r->st;
    double closed = NAN;
    if (!isnan(opt_mean) && r->od_mean - opt_mean > 0)
        closed = (r->od_mean - s->mean_cost) / (r->od_mean - opt_mean);
    return json_pack(
        "{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:f, s:I, "
        "s:o}",
        "policy", r->policy, "set", r->set, "runs", (json_int_t)s->runs,
        "mean_cost", s->mean_cost, "std_cost", s->std_cost, "p90_cost",
        s->p90_cost, "cost_vs_od", s->mean_rel, "spot_hours", s->mean_spot_h,
        "od_hours", s->mean_od_h, "spot_billed_hours", s->mean_spot_billed_h,
        "od_billed_hours", s->mean_od_billed_h, "changeovers",
        json_number_or_null(s->mean_changeovers), "preemptions",
        s->mean_preemptions, "misses",
        (json_int_t)s->misses, "gap_closed", json_number_or_null(closed));
}

static void rows_print(const struct sim_row *rows, size_t n,
                       const double *opt_mean, bool show_set)
{
    struct table t;
    table_init(&t);
    if (show_set)
        table_add_col(&t, "SET", TABLE_LEFT);
    table_add_col(&t, "POLICY", TABLE_LEFT);
    table_add_col(&t, "RUNS", TABLE_RIGHT);
    table_add_col(&t, "MEAN $", TABLE_RIGHT);
    table_add_col(&t, "STD $", TABLE_RIGHT);
    table_add_col(&t, "P90 $", TABLE_RIGHT);
    table_add_col(&t, "VS OD", TABLE_RIGHT);
    table_add_col(&t, "SPOT H", TABLE_RIGHT);
    table_add_col(&t, "OD H", TABLE_RIGHT);
    table_add_col(&t, "STARTS", TABLE_RIGHT);
    table_add_col(&t, "MISSES", TABLE_RIGHT);
    table_add_col(&t, "GAP CLOSED", TABLE_RIGHT);
    for (size_t i = 0; i < n; i++) {
        const struct spot_stats *s = &rows[i].st;
        table_add_row(&t);
        if (show_set)
            table_cell(&t, rows[i].set);
        table_cell(&t, rows[i].policy);
        table_cellf(&t, "%zu", s->runs);
        table_cellf(&t, "%.2f", s->mean_cost);
        table_cellf(&t, "%.2f", s->std_cost);
        table_cellf(&t, "%.2f", s->p90_cost);
        table_cellf(&t, "%.1f%%", 100 * s->mean_rel);
        table_cellf(&t, "%.1f", s->mean_spot_h);
        table_cellf(&t, "%.1f", s->mean_od_h);
        if (isnan(s->mean_changeovers))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.1f", s->mean_changeovers);
        table_cellf(&t, "%zu", s->misses);
        double om = opt_mean[i];
        if (!isnan(om) && rows[i].od_mean - om > 0)
            table_cellf(&t, "%.0f%%", 100 * (rows[i].od_mean - s->mean_cost) /
                                          (rows[i].od_mean - om));
        else
            table_cell(&t, "-");
    }
    table_print(&t, stdout);
    table_release(&t);
}

/*
 * Evaluate policies over the loaded sets: per set (by_set), pooled over all
 * sets, or with zones: the sets are the zones of one job, single-zone
 * policies run in each zone on its own.
 */
static enum skyc_err run_matrix(const struct spot_common *c,
                                const enum spot_policy_id *ids, size_t nids,
                                const struct spot_job *job, bool by_set,
                                bool zones, struct sim_row **rows_out,
                                size_t *nrows_out, double *gap_out,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct sim_row *rows = NULL;
    size_t nrows = 0, ralloc = 0;
    struct spot_run *runs = NULL;
    size_t nruns = 0, alloc = 0;
    double gap = 600;
    const struct trace_set *zs[SPOT_MAX_ZONES];
    if (zones && (c->ts.n < 2 || c->ts.n > SPOT_MAX_ZONES)) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--zones needs 2..%d trace sets (pick them with --set), "
                       "not %zu",
                       SPOT_MAX_ZONES, c->ts.n);
        goto out;
    }
    for (size_t k = 0; k < c->ts.n && k < SPOT_MAX_ZONES; k++)
        zs[k] = &c->ts.sets[k];
    /* groups: each set alone, or (zones) all sets at once */
    size_t ngroups = by_set || zones ? c->ts.n : 1;
    for (size_t pi = 0; pi < nids; pi++) {
        bool mz = spot_policy_multizone(ids[pi]);
        if (zones && mz) {
            nruns = 0;
            rc = eval_group(c, ids[pi], job, zs, (int)c->ts.n, &runs, &nruns,
                            &alloc, &gap, err);
            if (rc)
                goto out;
            ALLOC_GROW(rows, nrows + 1, ralloc);
            struct sim_row *r = &rows[nrows++];
            memset(r, 0, sizeof(*r));
            snprintf(r->policy, sizeof(r->policy), "%s",
                     spot_policy_name(ids[pi]));
            struct strbuf sb = STRBUF_INIT;
            for (size_t k = 0; k < c->ts.n; k++)
                strbuf_addf(&sb, "%s%s", k ? "+" : "", c->ts.sets[k].name);
            snprintf(r->set, sizeof(r->set), "%s", sb.buf);
            strbuf_release(&sb);
            spot_stats_compute(runs, nruns, job, gap, &r->st);
            r->od_mean = spot_od_cost(job, gap);
            continue;
        }
        for (size_t g = 0; g < ngroups; g++) {
            size_t first = ngroups == 1 ? 0 : g;
            size_t last = ngroups == 1 ? c->ts.n : g + 1;
            nruns = 0;
            for (size_t k = first; k < last; k++) {
                const struct trace_set *one = &c->ts.sets[k];
                rc = eval_group(c, ids[pi], job, &one, 1, &runs, &nruns,
                                &alloc, &gap, err);
                if (rc)
                    goto out;
            }
            ALLOC_GROW(rows, nrows + 1, ralloc);
            struct sim_row *r = &rows[nrows++];
            memset(r, 0, sizeof(*r));
            snprintf(r->policy, sizeof(r->policy), "%s",
                     spot_policy_name(ids[pi]));
            snprintf(r->set, sizeof(r->set), "%s",
                     ngroups == 1 ? (c->ts.n == 1 ? c->ts.sets[0].name : "all")
                                  : c->ts.sets[g].name);
            spot_stats_compute(runs, nruns, job, gap, &r->st);
            r->od_mean = spot_od_cost(job, gap);
        }
    }
    *rows_out = rows;
    *nrows_out = nrows;
    *gap_out = gap;
    rows = NULL;
out:
    free(rows);
    free(runs);
    return rc;
}

/* The optimum's mean cost for the row's set, NaN when not computed. */
static void optimum_means(const struct sim_row *rows, size_t n, double *om)
{
    for (size_t i = 0; i < n; i++) {
        om[i] = NAN;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(rows[k].policy, "optimal") &&
                !strcmp(rows[k].set, rows[i].set))
                om[i] = rows[k].st.mean_cost;
    }
}

static json_t *job_json(const struct spot_job *job)
{
    return json_pack("{s:f, s:f, s:f, s:f, s:f}", "duration_hours",
                     job->duration / 3600, "deadline_hours",
                     job->deadline / 3600, "overhead_hours",
                     job->overhead / 3600, "od_price", job->od_price,
                     "spot_price", job->spot_price);
}

/* --plot: mean cost relative to on-demand against deadline slack. */
static enum skyc_err plot_slack(const struct spot_common *c,
                                const enum spot_policy_id *ids, size_t nids,
                                const struct spot_job *base, bool zones,
                                const char *file, struct skyc_error *err)
{
    static const double slacks[] = {0.05, 0.1, 0.15, 0.2, 0.25,
                                    0.3,  0.4, 0.5,  0.75, 1.0};
    struct plot pl;
    plot_init(&pl, "Cost vs deadline slack", "deadline slack (D - C) / C",
              "mean cost relative to on-demand");
    enum skyc_err rc = SKYC_OK;
    for (size_t pi = 0; pi < nids && !rc; pi++) {
        size_t si = plot_add_series(&pl, spot_policy_name(ids[pi]));
        for (size_t k = 0; k < ARRAY_SIZE(slacks) && !rc; k++) {
            struct spot_job job = *base;
            job.deadline = ceil(base->duration * (1 + slacks[k]));
            if (job.deadline < job.duration + 2 * job.overhead)
                continue;
            struct sim_row *rows = NULL;
            size_t nrows = 0;
            double gap;
            rc = run_matrix(c, &ids[pi], 1, &job, false, zones, &rows, &nrows,
                            &gap, err);
            if (rc)
                break;
            double rel = 0;
            size_t cnt = 0;
            for (size_t r = 0; r < nrows; r++) {
                rel += rows[r].st.mean_rel * (double)rows[r].st.runs;
                cnt += rows[r].st.runs;
            }
            if (cnt)
                plot_add_point(&pl, si, slacks[k], rel / (double)cnt);
            free(rows);
        }
    }
    if (!rc)
        rc = plot_write_svg(&pl, file, err);
    plot_release(&pl);
    return rc;
}

/* --timeline: one window, one band per policy, progress vs the UP line. */
static enum skyc_err plot_timeline(const struct spot_common *c,
                                   const enum spot_policy_id *ids, size_t nids,
                                   const struct spot_job *job, bool zones,
                                   long index, const char *file,
                                   struct skyc_error *err)
{
    const struct trace_set *zs[SPOT_MAX_ZONES];
    int nz = zones ? (int)SKYC_MIN(c->ts.n, SPOT_MAX_ZONES) : 1;
    for (int k = 0; k < nz; k++)
        zs[k] = &c->ts.sets[k];
    struct spot_window *w = NULL;
    size_t nw = 0;
    enum skyc_err rc =
        spot_windows_make(zs, nz, 0, job->deadline + job->duration,
                          (uint64_t)c->seed, &w, &nw, err);
    if (rc)
        return rc;
    if (index < 0 || (size_t)index >= nw) {
        free(w);
        return skyc_fail(err, SKYC_E_USAGE,
                         "--window %ld is out of range (set '%s' has %zu "
                         "windows, 0..%zu)",
                         index, c->ts.sets[0].name, nw, nw ? nw - 1 : 0);
    }
    const struct spot_window *win = &w[index];
    size_t cap = (size_t)ceil((job->deadline + job->duration) / win->gap) + 8;
    struct spot_tick *tl = xcalloc(cap, sizeof(*tl));
    struct plot pl;
    char title[256];
    snprintf(title, sizeof(title),
             "%s window %ld: C=%.0fh D=%.0fh d=%.2fh", c->ts.sets[0].name,
             index, job->duration / 3600, job->deadline / 3600,
             job->overhead / 3600);
    plot_init(&pl, title, "hours since submission", "progress (hours)");
    plot_span_legend(&pl, PLOT_SPAN_SPOT, "spot (available / running)");
    plot_span_legend(&pl, PLOT_SPAN_OD, "on-demand");
    plot_span_legend(&pl, PLOT_SPAN_IDLE, "idle / no spot");
    /* availability band per zone */
    for (int z = 0; z < nz; z++) {
        char name[200];
        snprintf(name, sizeof(name), "spot in %s", zs[z]->name);
        size_t b = plot_add_band(&pl, name);
        size_t n = SKYC_MIN(win->n, cap);
        for (size_t i = 0; i < n; i++)
            plot_band_span(&pl, b, (double)i * win->gap / 3600,
                           (double)(i + 1) * win->gap / 3600,
                           win->avail[z][i] ? PLOT_SPAN_SPOT : PLOT_SPAN_IDLE);
    }
    size_t line = plot_add_series(&pl, "uniform progress t*C/D");
    plot_add_point(&pl, line, 0, 0);
    plot_add_point(&pl, line, job->deadline / 3600, job->duration / 3600);
    plot_set_vline(&pl, job->deadline / 3600, "deadline");
    for (size_t pi = 0; pi < nids && !rc; pi++) {
        struct spot_policy p;
        spot_policy_init(&p, ids[pi]);
        struct spot_run run;
        size_t ntl = 0;
        struct spot_markov mk = {0};
        if (ids[pi] == SPOT_POL_MARKOV || ids[pi] == SPOT_POL_MZ_MARKOV) {
            /* the zone model from every other window, never this one */
            struct spot_window *others = xcalloc(nw, sizeof(*others));
            size_t no = 0;
            for (size_t i = 0; i < nw; i++)
                if (i != (size_t)index)
                    others[no++] = w[i];
            struct spot_markov_model mm;
            spot_markov_fit(others, no, &mm);
            free(others);
            rc = spot_markov_build(&mk, job, win->gap, &mm, err);
            if (rc)
                break;
            mk.any_zone = ids[pi] == SPOT_POL_MZ_MARKOV;
            p.markov = &mk;
        }
        if (ids[pi] == SPOT_POL_OPTIMAL)
            rc = spot_optimum(job, win, &run, tl, cap, &ntl, err);
        else
            spot_simulate(&p, job, win, &run, tl, cap, &ntl);
        spot_markov_release(&mk);
        if (rc)
            break;
        char name[128];
        snprintf(name, sizeof(name), "%s ($%.2f)", spot_policy_name(ids[pi]),
                 run.cost);
        size_t b = plot_add_band(&pl, name);
        size_t s = plot_add_series(&pl, name);
        plot_add_point(&pl, s, 0, 0);
        for (size_t i = 0; i < ntl; i++) {
            double x0 = (double)i * win->gap / 3600;
            double x1 = (double)(i + 1) * win->gap / 3600;
            plot_band_span(&pl, b, x0, x1,
                           tl[i].kind == SPOT_SPOT ? PLOT_SPAN_SPOT
                           : tl[i].kind == SPOT_OD ? PLOT_SPAN_OD
                                                   : PLOT_SPAN_IDLE);
            plot_add_point(&pl, s, x1, tl[i].done / 3600.0);
        }
    }
    if (!rc)
        rc = plot_write_svg(&pl, file, err);
    plot_release(&pl);
    free(tl);
    free(w);
    return rc;
}

static enum skyc_err spot_sim(int argc, const char **argv,
                              struct skyc_error *err)
{
    struct spot_common c = {.od_price = DEFAULT_OD_PRICE,
                            .spot_price = DEFAULT_SPOT_PRICE,
                            .seed = 1,
                            .nodes = 1};
    struct opt_list pols = {0};
    double duration = 48, deadline = 60, overhead = 0.2;
    bool by_set = false, zones = false;
    const char *plot = NULL, *timeline = NULL;
    const char *instance = NULL, *region = NULL, *catalog = NULL;
    long window = 0;
    const char *const usage[] = {
        "skyc spot sim [--traces DIR] [--policy LIST] [--duration H] "
        "[--deadline H] [--overhead H] [--json]",
        "skyc spot sim --zones --set A --set B --policy up,mz-up",
        "skyc spot sim --timeline FILE.svg --set NAME --window I",
        NULL};
    const struct option opts[] = {
        OPT_GROUP("traces"),
        OPT_STRING(0, "traces", &c.traces, "DIR",
                   "trace files or directory (default: the Can't-Be-Late "
                   "windows in the shared data)"),
        OPT_LIST(0, "set", &c.sets, "NAME", "use this trace set (repeatable)"),
        OPT_STRING(0, "trace-format", &c.format, "FMT",
                   "auto, window (1 = preempted) or count (instances "
                   "available)"),
        OPT_INT(0, "nodes", &c.nodes, "N",
                "count traces: spot needs N instances available (1)"),
        OPT_INT(0, "windows", &c.windows, "N",
                "first N windows per set; windows cut from long traces (300)"),
        OPT_INT(0, "skip", &c.skip, "N", "skip the first N windows of each set"),
        OPT_INT(0, "seed", &c.seed, "N", "seed of the random window starts"),
        OPT_GROUP("job"),
        OPT_LIST(0, "policy", &pols, "LIST",
                 "od, greedy, sliced, up, adaptive, markov, mz-up, "
                 "mz-adaptive, mz-markov, optimal (comma-separated; default "
                 "od,greedy,up,markov)"),
        OPT_HOURS(0, "duration", &duration, "H", "compute the job needs (48h)"),
        OPT_HOURS(0, "deadline", &deadline, "H", "deadline after submission (60h)"),
        OPT_HOURS(0, "overhead", &overhead, "H", "changeover delay d (0.2h)"),
        OPT_DOUBLE(0, "od-price", &c.od_price, "$",
                   "on-demand $/h (3.06, the paper's V100)"),
        OPT_DOUBLE(0, "spot-price", &c.spot_price, "$", "spot $/h (0.9731)"),
        OPT_STRING(0, "instance", &instance, "TYPE",
                   "take both prices from the catalog (e.g. p3.2xlarge)"),
        OPT_STRING(0, "region", &region, "R", "... in this region"),
        OPT_STRING(0, "catalog", &catalog, "DIR", "read catalogs from DIR"),
        OPT_LIST(0, "param", &c.params, "K=V",
                 "tunables: slice=H (sliced); enter, idle, leave, "
                 "streak, runlen, uweight (adaptive)"),
        OPT_GROUP("output"),
        OPT_FLAG(0, "by-set", &by_set, "one row per trace set"),
        OPT_FLAG(0, "zones", &zones,
                 "the sets are zones of one job (multi-zone policies)"),
        OPT_FLAG(0, "json", &c.json, "print JSON"),
        OPT_STRING(0, "plot", &plot, "FILE.svg",
                   "draw mean cost vs deadline slack per policy"),
        OPT_STRING(0, "timeline", &timeline, "FILE.svg",
                   "draw one window: spot/on-demand/idle bands and progress"),
        OPT_INT(0, "window", &window, "I", "the window --timeline draws (0)"),
        OPT_END(),
    };
    enum skyc_err rc = SKYC_OK;
    struct sim_row *rows = NULL;
    size_t nrows = 0;
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0) {
        rc = n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
        goto out;
    }
    if (n > 0) {
        rc = skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'", argv[0]);
        goto out;
    }
    enum spot_policy_id ids[SPOT_POL_COUNT];
    size_t nids = 0;
    if (!pols.n) {
        static const enum spot_policy_id def[] = {SPOT_POL_OD, SPOT_POL_GREEDY,
                                                  SPOT_POL_UP, SPOT_POL_MARKOV};
        memcpy(ids, def, sizeof(def));
        nids = ARRAY_SIZE(def);
        if (zones) {
            ids[nids++] = SPOT_POL_MZ_UP;
            ids[nids++] = SPOT_POL_MZ_MARKOV;
        }
    } else if ((rc = parse_policies(&pols, ids, &nids, err))) {
        goto out;
    }
    if (c.windows < 0 || c.windows > 1000000 || c.skip < 0 ||
        c.skip > 1000000) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--windows and --skip must be in 0..1000000");
        goto out;
    }
    if (region && !instance) {
        rc = skyc_fail(err, SKYC_E_USAGE, "--region needs --instance TYPE");
        goto out;
    }
    for (const char *f = plot; f; f = f == plot ? timeline : NULL) {
        size_t fl = strlen(f);
        if (fl < 4 || strcasecmp(f + fl - 4, ".svg")) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "'%s': plots are written as SVG; name the file "
                           "*.svg (convert it with any SVG tool)",
                           f);
            goto out;
        }
        if (f == timeline)
            break;
    }
    if (instance &&
        (rc = catalog_prices(catalog, instance, region, &c.od_price,
                             &c.spot_price, err)))
        goto out;
    struct spot_job job = {round(duration * 3600), round(deadline * 3600),
                           round(overhead * 3600), c.od_price, c.spot_price};
    if ((rc = check_job(&job, err)) || (rc = load_sets(&c, err)))
        goto out;
    if (timeline) {
        rc = plot_timeline(&c, ids, nids, &job, zones, window, timeline, err);
        if (rc)
            goto out;
        fprintf(stderr, "skyc: wrote %s\n", timeline);
    }
    if (plot) {
        rc = plot_slack(&c, ids, nids, &job, zones, plot, err);
        if (rc)
            goto out;
        fprintf(stderr, "skyc: wrote %s\n", plot);
    }
    double gap;
    rc = run_matrix(&c, ids, nids, &job, by_set, zones, &rows, &nrows, &gap,
                    err);
    if (rc)
        goto out;
    double *om = xcalloc(nrows + 1, sizeof(*om));
    optimum_means(rows, nrows, om);
    if (c.json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < nrows; i++)
            json_array_append_new(arr, row_json(&rows[i], om[i]));
        output_json(json_pack("{s:o, s:f, s:o}", "job", job_json(&job),
                              "tick_seconds", gap, "rows", arr));
    } else {
        rows_print(rows, nrows, om, by_set || zones);
    }
    free(om);
out:
    free(rows);
    opt_list_release(&pols);
    opt_list_release(&c.sets);
    opt_list_release(&c.params);
    trace_sets_release(&c.ts);
    return rc;
}

/* The published Table 3 (C=48h, D=60h, d=0.2h): mean hours OD / spot. */
static const struct {
    enum spot_policy_id id;
    const char *label;
    double od_h, spot_h;
} table3[] = {
    {SPOT_POL_OD, "On-demand", 48.0, 0.0},
    {SPOT_POL_GREEDY, "Greedy", 30.8, 17.2},
    {SPOT_POL_UP, "Uniform Progress", 25.1, 22.9},
    {SPOT_POL_OPTIMAL, "Omniscient", 20.7, 27.4},
    {SPOT_POL_MARKOV, "Ours (markov)", NAN, NAN},
};

static enum skyc_err spot_paper(int argc, const char **argv,
                                struct skyc_error *err)
{
    struct spot_common c = {.od_price = DEFAULT_OD_PRICE,
                            .spot_price = DEFAULT_SPOT_PRICE,
                            .seed = 1,
                            .nodes = 1};
    long opt_windows = 0;
    const char *const usage[] = {
        "skyc spot paper [--traces DIR] [--windows N] [--optimal-windows N] "
        "[--json]",
        NULL};
    const struct option opts[] = {
        OPT_STRING(0, "traces", &c.traces, "DIR",
                   "the Can't-Be-Late windows (default: the shared data)"),
        OPT_LIST(0, "set", &c.sets, "NAME", "use this trace set (repeatable)"),
        OPT_INT(0, "windows", &c.windows, "N", "first N windows per set (300)"),
        OPT_INT(0, "skip", &c.skip, "N", "skip the first N windows of each set"),
        OPT_LIST(0, "param", &c.params, "K=V",
                 "tunables of sliced and adaptive (see spot sim)"),
        OPT_INT(0, "optimal-windows", &opt_windows, "N",
                "the optimum on the first N windows per set (all)"),
        OPT_FLAG(0, "json", &c.json, "print JSON"),
        OPT_END(),
    };
    enum skyc_err rc = SKYC_OK;
    json_t *out_json = json_object();
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0) {
        rc = n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
        goto out;
    }
    if (n > 0) {
        rc = skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'", argv[0]);
        goto out;
    }
    if (c.windows < 0 || opt_windows < 0 || c.skip < 0) {
        rc = skyc_fail(err, SKYC_E_USAGE, "window counts must be >= 0");
        goto out;
    }
    if ((rc = load_sets(&c, err)))
        goto out;
    const struct spot_job t3 = {48 * 3600.0, 60 * 3600.0, 0.2 * 3600,
                                c.od_price, c.spot_price};

    /* 1. Table 3 */
    json_t *jt3 = json_array();
    json_object_set_new(out_json, "table3", jt3);
    struct table t;
    table_init(&t);
    table_add_col(&t, "POLICY", TABLE_LEFT);
    table_add_col(&t, "RUNS", TABLE_RIGHT);
    table_add_col(&t, "OD H", TABLE_RIGHT);
    table_add_col(&t, "PAPER", TABLE_RIGHT);
    table_add_col(&t, "SPOT H", TABLE_RIGHT);
    table_add_col(&t, "PAPER", TABLE_RIGHT);
    table_add_col(&t, "MEAN $", TABLE_RIGHT);
    table_add_col(&t, "VS OD", TABLE_RIGHT);
    table_add_col(&t, "MISSES", TABLE_RIGHT);
    table_add_col(&t, "GAP CLOSED", TABLE_RIGHT);
    struct spot_stats st3[ARRAY_SIZE(table3)];
    double opt_mean = NAN, od_mean = spot_od_cost(&t3, 600);
    for (size_t i = 0; i < ARRAY_SIZE(table3) && !rc; i++) {
        struct sim_row *rows = NULL;
        size_t nrows = 0;
        double gap;
        long saved = c.windows;
        if (table3[i].id == SPOT_POL_OPTIMAL && opt_windows)
            c.windows = opt_windows;
        rc = run_matrix(&c, &table3[i].id, 1, &t3, false, false, &rows,
                        &nrows, &gap, err);
        c.windows = saved;
        if (rc)
            break;
        st3[i] = rows[0].st;
        od_mean = rows[0].od_mean;
        if (table3[i].id == SPOT_POL_OPTIMAL)
            opt_mean = rows[0].st.mean_cost;
        free(rows);
    }
    for (size_t i = 0; i < ARRAY_SIZE(table3) && !rc; i++) {
        const struct spot_stats *s = &st3[i];
        double closed = od_mean - opt_mean > 0
                            ? (od_mean - s->mean_cost) / (od_mean - opt_mean)
                            : NAN;
        if (fabs(closed) < 1e-9)
            closed = 0; /* no "-0%" */
        table_add_row(&t);
        table_cell(&t, table3[i].label);
        table_cellf(&t, "%zu", s->runs);
        table_cellf(&t, "%.1f", s->mean_od_h);
        if (isnan(table3[i].od_h))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.1f", table3[i].od_h);
        table_cellf(&t, "%.1f", s->mean_spot_h);
        if (isnan(table3[i].spot_h))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.1f", table3[i].spot_h);
        table_cellf(&t, "%.2f", s->mean_cost);
        table_cellf(&t, "%.1f%%", 100 * s->mean_rel);
        table_cellf(&t, "%zu", s->misses);
        if (isnan(closed))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.0f%%", 100 * closed);
        json_array_append_new(
            jt3, json_pack("{s:s, s:s, s:I, s:f, s:o, s:f, s:o, s:f, s:f, "
                           "s:I, s:o}",
                           "policy", spot_policy_name(table3[i].id), "label",
                           table3[i].label, "runs", (json_int_t)s->runs,
                           "od_hours", s->mean_od_h, "paper_od_hours",
                           json_number_or_null(table3[i].od_h), "spot_hours",
                           s->mean_spot_h, "paper_spot_hours",
                           json_number_or_null(table3[i].spot_h), "mean_cost",
                           s->mean_cost, "cost_vs_od", s->mean_rel, "misses",
                           (json_int_t)s->misses, "gap_closed",
                           json_number_or_null(closed)));
    }
    if (!c.json && !rc) {
        printf("Table 3 (C=48h, D=60h, d=0.2h; hours of progress on each "
               "type; gap closed toward the optimum%s)\n",
               opt_windows ? ", optimum on fewer windows" : "");
        table_print(&t, stdout);
    }
    table_release(&t);
    if (rc)
        goto out;

    /* 2. per set: Uniform Progress against Greedy */
    {
        enum spot_policy_id two[2] = {SPOT_POL_GREEDY, SPOT_POL_UP};
        struct sim_row *rows = NULL;
        size_t nrows = 0;
        double gap;
        rc = run_matrix(&c, two, 2, &t3, true, false, &rows, &nrows, &gap,
                        err);
        if (rc)
            goto out;
        size_t ns = nrows / 2;
        json_t *jp = json_array();
        json_object_set_new(out_json, "per_set", jp);
        table_init(&t);
        table_add_col(&t, "SET", TABLE_LEFT);
        table_add_col(&t, "GREEDY $", TABLE_RIGHT);
        table_add_col(&t, "UP $", TABLE_RIGHT);
        table_add_col(&t, "GREEDY SPOT H", TABLE_RIGHT);
        table_add_col(&t, "UP BEATS GREEDY", TABLE_LEFT);
        for (size_t k = 0; k < ns; k++) {
            const struct spot_stats *g = &rows[k].st, *u = &rows[ns + k].st;
            bool all_spot = g->mean_od_h < 1e-9;
            table_add_row(&t);
            table_cell(&t, rows[k].set);
            table_cellf(&t, "%.2f", g->mean_cost);
            table_cellf(&t, "%.2f", u->mean_cost);
            table_cellf(&t, "%.1f", g->mean_spot_h);
            table_cell(&t, all_spot ? "(greedy all-spot)"
                           : u->mean_cost < g->mean_cost ? "yes"
                                                         : "NO");
            json_array_append_new(
                jp, json_pack("{s:s, s:f, s:f, s:b, s:I, s:I}", "set",
                              rows[k].set, "greedy_cost", g->mean_cost,
                              "up_cost", u->mean_cost, "greedy_all_spot",
                              all_spot, "greedy_misses",
                              (json_int_t)g->misses, "up_misses",
                              (json_int_t)u->misses));
        }
        if (!c.json) {
            printf("\nPer trace set (C=48h, D=60h, d=0.2h)\n");
            table_print(&t, stdout);
        }
        table_release(&t);
        free(rows);
    }

    /* 3. ours against uniform progress over the deadline x overhead grid,
     *    with the savings against on-demand (tight D=52h, loose D=70h) */
    {
        static const double Ds[] = {52, 60, 70}, ds[] = {0.05, 0.2};
        enum spot_policy_id three[3] = {SPOT_POL_GREEDY, SPOT_POL_UP,
                                        SPOT_POL_MARKOV};
        json_t *jg = json_array();
        json_object_set_new(out_json, "grid", jg);
        table_init(&t);
        table_add_col(&t, "D", TABLE_RIGHT);
        table_add_col(&t, "d", TABLE_RIGHT);
        table_add_col(&t, "GREEDY SAVES", TABLE_RIGHT);
        table_add_col(&t, "UP SAVES", TABLE_RIGHT);
        table_add_col(&t, "OURS SAVES", TABLE_RIGHT);
        table_add_col(&t, "UP $", TABLE_RIGHT);
        table_add_col(&t, "OURS $", TABLE_RIGHT);
        table_add_col(&t, "OURS VS UP", TABLE_RIGHT);
        table_add_col(&t, "MISSES", TABLE_RIGHT);
        double up_sum = 0, ours_sum = 0;
        size_t misses = 0;
        for (size_t a = 0; a < ARRAY_SIZE(Ds); a++)
            for (size_t b = 0; b < ARRAY_SIZE(ds); b++) {
                struct spot_job job = {48 * 3600.0, Ds[a] * 3600,
                                       ds[b] * 3600, c.od_price, c.spot_price};
                struct sim_row *rows = NULL;
                size_t nrows = 0;
                double gap;
                rc = run_matrix(&c, three, 3, &job, false, false, &rows,
                                &nrows, &gap, err);
                if (rc)
                    goto out;
                const struct spot_stats *g = &rows[0].st, *u = &rows[1].st,
                                        *o = &rows[2].st;
                size_t m = g->misses + u->misses + o->misses;
                misses += m;
                up_sum += u->mean_cost;
                ours_sum += o->mean_cost;
                table_add_row(&t);
                table_cellf(&t, "%.0fh", Ds[a]);
                table_cellf(&t, "%.2fh", ds[b]);
                table_cellf(&t, "%.1f%%", 100 * (1 - g->mean_rel));
                table_cellf(&t, "%.1f%%", 100 * (1 - u->mean_rel));
                table_cellf(&t, "%.1f%%", 100 * (1 - o->mean_rel));
                table_cellf(&t, "%.2f", u->mean_cost);
                table_cellf(&t, "%.2f", o->mean_cost);
                table_cellf(&t, "%+.1f%%",
                            100 * (o->mean_cost / u->mean_cost - 1));
                table_cellf(&t, "%zu", m);
                json_array_append_new(
                    jg,
                    json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I, "
                              "s:I, s:I}",
                              "deadline_hours", Ds[a], "overhead_hours", ds[b],
                              "greedy_saving", 1 - g->mean_rel, "up_saving",
                              1 - u->mean_rel, "ours_saving", 1 - o->mean_rel,
                              "greedy_cost", g->mean_cost, "up_cost",
                              u->mean_cost, "ours_cost", o->mean_cost,
                              "greedy_misses", (json_int_t)g->misses,
                              "up_misses", (json_int_t)u->misses,
                              "ours_misses", (json_int_t)o->misses));
                free(rows);
            }
        double red = 1 - ours_sum / up_sum;
        json_object_set_new(out_json, "ours_vs_up_reduction", json_real(red));
        json_object_set_new(out_json, "grid_misses",
                            json_integer((json_int_t)misses));
        if (!c.json) {
            printf("\nCost saved vs on-demand, tight (52h) to loose (70h) "
                   "deadlines, C=48h (ours = markov)\n");
            table_print(&t, stdout);
            printf("ours vs uniform progress, mean over the grid: %.1f%% "
                   "lower cost, %zu deadline misses\n",
                   100 * red, misses);
        }
        table_release(&t);
    }
    if (c.json) {
        output_json(out_json);
        out_json = NULL;
    }
out:
    json_decref(out_json);
    opt_list_release(&c.sets);
    opt_list_release(&c.params);
    trace_sets_release(&c.ts);
    return rc;
}

static const struct cli_command spot_commands[] = {
    {"sim", spot_sim, "Simulate spot policies on availability traces"},
    {"paper", spot_paper,
     "Reproduce Can't-Be-Late Table 3 and compare our policy"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_spot(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc spot", spot_commands, argc - 1, argv + 1, err);
}
