/*
 * cmd_store_sim.c - `skyc store sim` (replay a trace through the placement
 * engine under several policies, bills side by side) and `skyc store cost`
 * (the bill per bucket and region of a saved placement state).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/units.h"
#include "store/cost.h"
#include "store/placement.h"
#include "store/trace.h"
#include "cli/cli.h"
#include "cli/options.h"

#include <time.h>

static const char *const all_policies[] = {
    "single-region", "replicate-all", "write-local", "always-evict",
    "ttl:1h",        "ttl:1d",        "always-store", "break-even",
};

/* Split "a,b,c" into a new array of new strings; *n gets the count. */
static char **split_list(const char *s, size_t *n)
{
    char **out = NULL;
    size_t alloc = 0;
    *n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            ALLOC_GROW(out, *n + 1, alloc);
            out[(*n)++] = xstrndup(p, len);
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return out;
}

static void free_list(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

static double monotonic_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sim_result {
    char name[128];
    struct place_bill bill;
    uint64_t misses, replicas, evictions;
    double replay_s;
};

/*
 * Replay the trace under one policy. regions maps trace regions to model
 * regions. The bucket spans the trace's regions, in order of first use.
 */
static enum skyc_err replay(const struct store_cost_model *m,
                            const struct store_trace *t,
                            const uint16_t *regions,
                            const struct place_policy *pol,
                            double horizon_s, const char *state_path,
                            struct sim_result *res, struct skyc_error *err)
{
    struct place p;
    struct place_plan plan;
    enum skyc_err rc;
    /* the bucket's regions in order of first use: the first write's
     * region is single-region's default home */
    uint16_t *bucket_regions = xmalloc((t->nregions + 1) * sizeof(uint16_t));
    bool *seen = xcalloc(t->nregions, sizeof(bool));
    size_t nb = 0;
    for (size_t i = 0; i < t->n && nb < t->nregions; i++)
        if (t->ev[i].op == STORE_OP_WRITE && !seen[t->ev[i].region]) {
            seen[t->ev[i].region] = true;
            bucket_regions[nb++] = regions[t->ev[i].region];
            break;
        }
    for (size_t i = 0; i < t->n && nb < t->nregions; i++)
        if (!seen[t->ev[i].region]) {
            seen[t->ev[i].region] = true;
            bucket_regions[nb++] = regions[t->ev[i].region];
        }
    for (size_t i = 0; i < t->nregions; i++) /* named but never used */
        if (!seen[i])
            bucket_regions[nb++] = regions[i];
    free(seen);
    if (pol->kind == PLACE_SINGLE_REGION && pol->home != STORE_NO_REGION) {
        bool in = false;
        for (size_t i = 0; i < nb; i++)
            in |= bucket_regions[i] == pol->home;
        if (!in)
            bucket_regions[nb++] = pol->home;
    }
    place_init(&p, m);
    place_plan_init(&plan);
    uint32_t b;
    rc = place_bucket_create(&p, "sim", pol, bucket_regions, nb, &b, err);
    if (rc)
        goto out;
    double start = monotonic_s();
    for (size_t i = 0; i < t->n; i++) {
        const struct store_event *e = &t->ev[i];
        const char *key = t->keys[e->key];
        uint16_t r = regions[e->region];
        struct skyc_error sub = {0};
        plan.n = 0;
        place_advance(&p, e->t, &plan); /* put/get would, too */
        res->evictions += plan.n;
        switch (e->op) {
        case STORE_OP_WRITE:
            rc = place_put(&p, b, key, e->size, r, e->t, &plan, &sub);
            break;
        case STORE_OP_READ:
            rc = place_get(&p, b, key, r, e->t, &plan, &sub);
            break;
        default:
            rc = place_delete(&p, b, key, e->t, &plan, &sub);
            break;
        }
        if (rc == SKYC_E_NOT_FOUND) {
            res->misses++;
            continue;
        }
        if (rc) {
            skyc_fail(err, rc, "%s: event %zu: %s", t->name, i + 1, sub.msg);
            goto out;
        }
        for (size_t a = 0; a < plan.n; a++)
            if (plan.a[a].act == PLACE_ACT_COPY ||
                (plan.a[a].act == PLACE_ACT_STORE && e->op == STORE_OP_READ))
                res->replicas++;
    }
    double end = (t->n ? t->ev[t->n - 1].t : 0) + horizon_s;
    plan.n = 0;
    place_advance(&p, end, &plan);
    res->evictions += plan.n;
    res->replay_s = monotonic_s() - start;
    place_bill_total(&p, end, &res->bill);
    place_policy_format(pol, m, res->name, sizeof(res->name));
    rc = SKYC_OK;
    if (state_path)
        rc = place_save(&p, state_path, err);
out:
    free(bucket_regions);
    place_plan_release(&plan);
    place_release(&p);
    return rc;
}

static const char *const sim_usage[] = {
    "skyc store sim --trace FILE [--policy P[,P...]] [options]",
    "skyc store sim --generate [--events N] [--seed N] [...] [--policy ...]",
    "",
    "Policies: single-region[:REGION], replicate-all, write-local,",
    "ttl:DURATION, always-store, always-evict, break-even; 'all' (default)",
    "runs single-region, replicate-all, write-local, always-evict, ttl:1h,",
    "ttl:1d, always-store and break-even. The simulated bucket spans the",
    "trace's regions; single-region's home is the first write's region.",
    NULL};

enum skyc_err cmd_store_sim(int argc, const char **argv,
                            struct skyc_error *err)
{
    const char *trace_path = NULL, *policy_arg = "all", *profiles = NULL,
               *save_trace = NULL, *state = NULL, *regions_arg = NULL;
    bool generate = false, json = false;
    long events = -1, objects = -1, seed = 1;
    double days = NAN, zipf = NAN, locality = NAN, write_ratio = NAN,
           raw = NAN, diurnal = NAN, min_mb = NAN, max_mb = NAN,
           horizon_h = 0;
    const struct option opts[] = {
        OPT_GROUP("input"),
        OPT_STRING(0, "trace", &trace_path, "FILE",
                   "replay this trace (timestamp,op,issue_region,obj_key,size)"),
        OPT_FLAG(0, "generate", &generate, "generate a trace instead"),
        OPT_STRING(0, "profiles", &profiles, "DIR",
                   "SkyStore price profiles (default: shared skystore/profiles)"),
        OPT_GROUP("the generator"),
        OPT_INT(0, "events", &events, "N", "requests (100000)"),
        OPT_INT(0, "objects", &objects, "N", "distinct objects (10000)"),
        OPT_INT(0, "seed", &seed, "N", "random seed (1)"),
        OPT_STRING(0, "regions", &regions_arg, "LIST",
                   "comma-separated regions (aws:us-east-1,aws:eu-west-1,"
                   "gcp:europe-west1-b,azure:eastus)"),
        OPT_DOUBLE(0, "days", &days, "D", "span in days (7)"),
        OPT_DOUBLE(0, "zipf", &zipf, "S", "popularity skew (1.1)"),
        OPT_DOUBLE(0, "locality", &locality, "P",
                   "share of reads of objects homed in the reader's region "
                   "(0.7)"),
        OPT_DOUBLE(0, "write-ratio", &write_ratio, "P", "share of writes (0.1)"),
        OPT_DOUBLE(0, "raw", &raw, "P", "share of reads-after-write (0.2)"),
        OPT_DOUBLE(0, "diurnal", &diurnal, "A",
                   "day/night rate amplitude, 0 to <1 (0.5)"),
        OPT_DOUBLE(0, "min-mb", &min_mb, "MB", "smallest object (1)"),
        OPT_DOUBLE(0, "max-mb", &max_mb, "MB", "largest object (256)"),
        OPT_STRING(0, "save-trace", &save_trace, "FILE",
                   "write the generated trace here"),
        OPT_GROUP("replay"),
        OPT_STRING(0, "policy", &policy_arg, "P[,P...]",
                   "placement policies to compare (all)"),
        OPT_HOURS(0, "horizon", &horizon_h, "DURATION",
                  "keep billing storage this long after the last request"),
        OPT_STRING(0, "state", &state, "FILE",
                   "save the final placement state (one policy only) for "
                   "`skyc store cost`"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, sim_usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    if (!!trace_path == generate)
        return skyc_fail(err, SKYC_E_USAGE,
                         "give exactly one of --trace FILE and --generate");
    if (!generate && (events >= 0 || objects >= 0 || regions_arg ||
                      save_trace || !isnan(days) || !isnan(zipf) ||
                      !isnan(locality) || !isnan(write_ratio) ||
                      !isnan(raw) || !isnan(diurnal) || !isnan(min_mb) ||
                      !isnan(max_mb)))
        return skyc_fail(err, SKYC_E_USAGE,
                         "generator options need --generate");

    enum skyc_err rc;
    struct store_cost_model m;
    struct store_trace t;
    char **pol_names = NULL, **region_names = NULL;
    size_t npol = 0, nregion_names = 0;
    struct place_policy *pols = NULL;
    struct sim_result *res = NULL;
    uint16_t *map = NULL;
    store_cost_init(&m);
    store_trace_init(&t);

    rc = store_cost_load(&m, profiles, err);
    if (rc)
        goto out;
    if (!strcmp(policy_arg, "all")) {
        npol = ARRAY_SIZE(all_policies);
        pol_names = xcalloc(npol, sizeof(char *));
        for (size_t i = 0; i < npol; i++)
            pol_names[i] = xstrdup(all_policies[i]);
    } else {
        pol_names = split_list(policy_arg, &npol);
    }
    if (!npol) {
        rc = skyc_fail(err, SKYC_E_USAGE, "--policy names no policy");
        goto out;
    }
    if (state && npol != 1) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--state saves one policy's state: give one --policy");
        goto out;
    }
    pols = xcalloc(npol, sizeof(*pols));
    for (size_t i = 0; i < npol; i++) {
        rc = place_policy_parse(pol_names[i], &m, &pols[i], err);
        if (rc)
            goto out;
    }

    if (generate) {
        struct store_gen_params gp;
        store_gen_defaults(&gp);
        gp.seed = (uint64_t)seed;
        if (events >= 0)
            gp.events = (size_t)events;
        if (objects >= 0)
            gp.objects = (size_t)objects;
        if (regions_arg) {
            region_names = split_list(regions_arg, &nregion_names);
            gp.regions = (const char *const *)region_names;
            gp.nregions = nregion_names;
        }
        if (!isnan(days))
            gp.days = days;
        if (!isnan(zipf))
            gp.zipf = zipf;
        if (!isnan(locality))
            gp.locality = locality;
        if (!isnan(write_ratio))
            gp.write_ratio = write_ratio;
        if (!isnan(raw))
            gp.raw = raw;
        if (!isnan(diurnal))
            gp.diurnal = diurnal;
        if (!isnan(min_mb))
            gp.min_size = min_mb * 1e6;
        if (!isnan(max_mb))
            gp.max_size = max_mb * 1e6;
        rc = store_trace_generate(&t, &gp, err);
        if (rc)
            goto out;
        if (save_trace) {
            rc = store_trace_write(&t, save_trace, err);
            if (rc)
                goto out;
        }
    } else {
        rc = store_trace_load(&t, trace_path, err);
        if (rc)
            goto out;
    }

    map = xcalloc(t.nregions ? t.nregions : 1, sizeof(uint16_t));
    for (size_t i = 0; i < t.nregions; i++) {
        map[i] = store_cost_region(&m, t.regions[i]);
        if (map[i] != STORE_NO_REGION)
            continue;
        if (t.region_line[i])
            rc = skyc_fail(err, SKYC_E_INPUT,
                           "%s:%u: unknown region '%s' (not in the cost "
                           "profile %s; e.g. aws:us-east-1, azure:eastus, "
                           "gcp:europe-west1)",
                           t.name, t.region_line[i], t.regions[i], m.source);
        else
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "unknown region '%s' in --regions (not in the cost "
                           "profile %s; e.g. aws:us-east-1, azure:eastus, "
                           "gcp:europe-west1)",
                           t.regions[i], m.source);
        goto out;
    }
    if (!t.n) {
        rc = skyc_fail(err, SKYC_E_INPUT, "%s: the trace has no requests",
                       t.name);
        goto out;
    }

    res = xcalloc(npol, sizeof(*res));
    double horizon_s = horizon_h * 3600.0;
    for (size_t i = 0; i < npol; i++) {
        rc = replay(&m, &t, map, &pols[i], horizon_s, state, &res[i], err);
        if (rc)
            goto out;
    }

    size_t best = 0;
    for (size_t i = 1; i < npol; i++)
        if (res[i].bill.total_usd < res[best].bill.total_usd)
            best = i;
    double span = t.ev[t.n - 1].t - t.ev[0].t;
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < npol; i++) {
            const struct place_bill *b = &res[i].bill;
            json_array_append_new(
                arr,
                json_pack("{s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:I, s:I, "
                          "s:I, s:I, s:I, s:f, s:f}",
                          "policy", res[i].name, "total_usd", b->total_usd,
                          "storage_usd", b->storage_usd, "egress_usd",
                          b->egress_usd, "request_usd", b->request_usd,
                          "storage_gb_months",
                          b->storage_byte_s / STORE_GB / STORE_MONTH_S,
                          "egress_gb", b->egress_bytes / STORE_GB, "gets",
                          (json_int_t)b->gets, "puts", (json_int_t)b->puts,
                          "replicas", (json_int_t)res[i].replicas,
                          "evictions", (json_int_t)res[i].evictions, "misses",
                          (json_int_t)res[i].misses, "replay_s",
                          res[i].replay_s, "events_per_s",
                          res[i].replay_s > 0 ? (double)t.n / res[i].replay_s
                                              : 0.0));
        }
        json_t *regions = json_array();
        for (size_t i = 0; i < t.nregions; i++)
            json_array_append_new(regions,
                                  json_string(m.names[map[i]]));
        output_json(json_pack(
            "{s:{s:s, s:I, s:I, s:o, s:f}, s:f, s:s, s:s, s:o}", "trace",
            "name", t.name, "events", (json_int_t)t.n, "objects",
            (json_int_t)t.nkeys, "regions", regions, "span_s", span,
            "horizon_s", horizon_s, "profiles", m.source, "cheapest",
            res[best].name, "policies", arr));
    } else {
        char spanbuf[64];
        format_hours(spanbuf, sizeof(spanbuf), span / 3600.0);
        printf("trace %s: %zu requests, %zu objects, %zu regions, over %s\n\n",
               t.name, t.n, t.nkeys, t.nregions, spanbuf);
        struct table tb;
        table_init(&tb);
        table_add_col(&tb, "POLICY", TABLE_LEFT);
        table_add_col(&tb, "STORAGE $", TABLE_RIGHT);
        table_add_col(&tb, "EGRESS $", TABLE_RIGHT);
        table_add_col(&tb, "REQUESTS $", TABLE_RIGHT);
        table_add_col(&tb, "TOTAL $", TABLE_RIGHT);
        table_add_col(&tb, "EGRESS GB", TABLE_RIGHT);
        table_add_col(&tb, "REPLICAS", TABLE_RIGHT);
        table_add_col(&tb, "EVICTIONS", TABLE_RIGHT);
        table_add_col(&tb, "VS BEST", TABLE_RIGHT);
        for (size_t i = 0; i < npol; i++) {
            const struct place_bill *b = &res[i].bill;
            table_add_row(&tb);
            table_cell(&tb, res[i].name);
            table_cellf(&tb, "%.6f", b->storage_usd);
            table_cellf(&tb, "%.6f", b->egress_usd);
            table_cellf(&tb, "%.6f", b->request_usd);
            table_cellf(&tb, "%.6f", b->total_usd);
            table_cellf(&tb, "%.3f", b->egress_bytes / STORE_GB);
            table_cellf(&tb, "%" PRIu64, res[i].replicas);
            table_cellf(&tb, "%" PRIu64, res[i].evictions);
            double best_total = res[best].bill.total_usd;
            if (i == best)
                table_cell(&tb, "best");
            else if (best_total > 0)
                table_cellf(&tb, "%.2fx", b->total_usd / best_total);
            else
                table_cell(&tb, "-");
            if (i == best)
                table_highlight_row(&tb);
        }
        table_print(&tb, stdout);
        table_release(&tb);
        if (res[0].misses)
            printf("\n%" PRIu64 " reads or deletes of objects never written "
                   "(not billed)\n",
                   res[0].misses);
    }
    rc = SKYC_OK;
out:
    free_list(pol_names, npol);
    free_list(region_names, nregion_names);
    free(pols);
    free(res);
    free(map);
    store_trace_release(&t);
    store_cost_release(&m);
    return rc;
}

static const char *const cost_usage[] = {
    "skyc store cost --state FILE [--at TIME] [--profiles DIR] [--json]",
    "",
    "The bill so far per bucket and region: storage GB-months, egress GB and",
    "requests, priced from the SkyStore profiles. TIME is a timestamp",
    "(YYYY-MM-DD HH:MM:SS or seconds); the default is the state's clock.",
    NULL};

enum skyc_err cmd_store_cost(int argc, const char **argv,
                             struct skyc_error *err)
{
    const char *state = NULL, *at = NULL, *profiles = NULL;
    bool json = false;
    const struct option opts[] = {
        OPT_STRING(0, "state", &state, "FILE",
                   "placement state (from `skyc store sim --state`)"),
        OPT_STRING(0, "at", &at, "TIME", "bill as of this time"),
        OPT_STRING(0, "profiles", &profiles, "DIR", "SkyStore price profiles"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, cost_usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    if (!state)
        return skyc_fail(err, SKYC_E_USAGE, "--state FILE is required");
    double when = NAN;
    if (at && !store_parse_timestamp(at, &when))
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad --at '%s' (want YYYY-MM-DD HH:MM:SS or seconds)",
                         at);
    struct store_cost_model m;
    struct place p;
    store_cost_init(&m);
    place_init(&p, &m);
    enum skyc_err rc = store_cost_load(&m, profiles, err);
    if (rc)
        goto out;
    rc = place_load(&p, state, err);
    if (rc)
        goto out;
    if (isnan(when))
        when = isfinite(p.clock) ? p.clock : 0;
    if (when < p.clock) {
        char ts[32];
        store_format_timestamp(p.clock, ts, sizeof(ts));
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--at is before the state's clock (%s)", ts);
        goto out;
    }
    place_advance(&p, when, NULL);
    struct table tb;
    table_init(&tb);
    const char *cols[] = {"BUCKET",  "REGION",    "STORAGE GB-MO", "STORAGE $",
                          "EGRESS GB", "EGRESS $", "GETS",          "PUTS",
                          "REQUESTS $", "TOTAL $"};
    for (size_t i = 0; i < ARRAY_SIZE(cols); i++)
        table_add_col(&tb, cols[i], i < 2 ? TABLE_LEFT : TABLE_RIGHT);
    json_t *rows = json_array();
    struct place_bill total;
    place_bill_total(&p, when, &total);
    for (uint32_t b = 0; b < p.nbuckets; b++)
        for (uint16_t r = 0; r < m.nregions; r++) {
            struct place_bill c;
            place_bill_cell(&p, b, r, when, &c);
            if (!c.storage_byte_s && !c.egress_bytes && !c.gets && !c.puts)
                continue;
            double gbm = c.storage_byte_s / STORE_GB / STORE_MONTH_S;
            table_add_row(&tb);
            table_cell(&tb, p.buckets[b].name);
            table_cell(&tb, m.names[r]);
            table_cellf(&tb, "%.4f", gbm);
            table_cellf(&tb, "%.6f", c.storage_usd);
            table_cellf(&tb, "%.3f", c.egress_bytes / STORE_GB);
            table_cellf(&tb, "%.6f", c.egress_usd);
            table_cellf(&tb, "%" PRIu64, c.gets);
            table_cellf(&tb, "%" PRIu64, c.puts);
            table_cellf(&tb, "%.6f", c.request_usd);
            table_cellf(&tb, "%.6f", c.total_usd);
            json_array_append_new(
                rows, json_pack("{s:s, s:s, s:f, s:f, s:f, s:f, s:I, s:I, "
                                "s:f, s:f}",
                                "bucket", p.buckets[b].name, "region",
                                m.names[r], "storage_gb_months", gbm,
                                "storage_usd", c.storage_usd, "egress_gb",
                                c.egress_bytes / STORE_GB, "egress_usd",
                                c.egress_usd, "gets", (json_int_t)c.gets,
                                "puts", (json_int_t)c.puts, "request_usd",
                                c.request_usd, "total_usd", c.total_usd));
        }
    char ts[32];
    store_format_timestamp(when, ts, sizeof(ts));
    if (json) {
        output_json(json_pack("{s:s, s:f, s:o, s:f}", "at", ts, "at_s", when,
                              "rows", rows, "total_usd", total.total_usd));
    } else {
        json_decref(rows);
        table_add_row(&tb);
        table_cell(&tb, "total");
        table_cell(&tb, "");
        table_cellf(&tb, "%.4f",
                    total.storage_byte_s / STORE_GB / STORE_MONTH_S);
        table_cellf(&tb, "%.6f", total.storage_usd);
        table_cellf(&tb, "%.3f", total.egress_bytes / STORE_GB);
        table_cellf(&tb, "%.6f", total.egress_usd);
        table_cellf(&tb, "%" PRIu64, total.gets);
        table_cellf(&tb, "%" PRIu64, total.puts);
        table_cellf(&tb, "%.6f", total.request_usd);
        table_cellf(&tb, "%.6f", total.total_usd);
        printf("bill as of %s UTC\n\n", ts);
        table_print(&tb, stdout);
    }
    table_release(&tb);
out:
    place_release(&p);
    store_cost_release(&m);
    return rc;
}
