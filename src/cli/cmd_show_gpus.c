/*
 * cmd_show_gpus.c - `skyc show-gpus [NAME[:N]]`: what accelerators the
 * catalog offers and at what price, like SkyPilot's show-gpus.
 *
 * Without NAME: one row per accelerator with its counts and clouds. With
 * NAME: one row per (cloud, instance type, count) at its cheapest region, or
 * every region with --all-regions.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "catalog/catalog.h"
#include "cli/cli.h"
#include "cli/offer_format.h"
#include "cli/options.h"

static int cmp_offer_price(const void *a, const void *b, void *ctx)
{
    const struct catalog *cat = ctx;
    const struct catalog_offering *x = &cat->offers[*(const uint32_t *)a];
    const struct catalog_offering *y = &cat->offers[*(const uint32_t *)b];
    if (x->cloud != y->cloud)
        return x->cloud - y->cloud;
    if (x->accel_count != y->accel_count)
        return x->accel_count < y->accel_count ? -1 : 1;
    double px = isnan(x->price) ? INFINITY : x->price;
    double py = isnan(y->price) ? INFINITY : y->price;
    if (px != py)
        return px < py ? -1 : 1;
    return strcmp(cat->names[x->instance], cat->names[y->instance]);
}

static enum skyc_err list_accelerators(const struct catalog *cat, int cloud,
                                       bool json)
{
    struct table t;
    table_init(&t);
    table_add_col(&t, "GPU", TABLE_LEFT);
    table_add_col(&t, "QTY", TABLE_LEFT);
    table_add_col(&t, "CLOUDS", TABLE_LEFT);
    table_add_col(&t, "FROM $/HR", TABLE_RIGHT);
    json_t *arr = json_array();
    for (size_t a = 0; a < cat->naccels; a++) {
        if (!strncasecmp(cat->accels[a], "tpu-", 4))
            continue; /* TPU pod slices: listed by name only */
        bool clouds[CLOUD_COUNT] = {false};
        float counts[32];
        size_t ncounts = 0;
        double cheapest = INFINITY;
        for (size_t i = 0; i < cat->noffers; i++) {
            const struct catalog_offering *o = &cat->offers[i];
            if (o->accel != a || (cloud >= 0 && o->cloud != cloud))
                continue;
            clouds[o->cloud] = true;
            if (!isnan(o->price) && o->price / o->accel_count < cheapest)
                cheapest = o->price / o->accel_count;
            bool have = false;
            for (size_t k = 0; k < ncounts; k++)
                have |= counts[k] == o->accel_count;
            if (!have && ncounts < ARRAY_SIZE(counts))
                counts[ncounts++] = o->accel_count;
        }
        if (!ncounts)
            continue;
        for (size_t i = 1; i < ncounts; i++) /* insertion sort */
            for (size_t k = i; k > 0 && counts[k - 1] > counts[k]; k--) {
                float tmp = counts[k];
                counts[k] = counts[k - 1];
                counts[k - 1] = tmp;
            }
        struct strbuf q = STRBUF_INIT, c = STRBUF_INIT;
        json_t *jq = json_array(), *jc = json_array();
        for (size_t k = 0; k < ncounts; k++) {
            strbuf_addf(&q, "%s%g", k ? ", " : "", (double)counts[k]);
            json_array_append_new(jq, json_real(counts[k]));
        }
        for (int k = 0; k < CLOUD_COUNT; k++)
            if (clouds[k]) {
                strbuf_addf(&c, "%s%s", c.len ? ", " : "",
                            cloud_name((enum cloud)k));
                json_array_append_new(jc,
                                      json_string(cloud_name((enum cloud)k)));
            }
        table_add_row(&t);
        table_cell(&t, cat->accels[a]);
        table_cell(&t, q.buf);
        table_cell(&t, c.buf);
        offer_cell_number(&t, isinf(cheapest) ? NAN : cheapest, 2, "");
        json_array_append_new(
            arr, json_pack("{s:s, s:o, s:o, s:o}", "accelerator",
                           cat->accels[a], "counts", jq, "clouds", jc,
                           "cheapest_per_gpu_hourly",
                           json_number_or_null(isinf(cheapest) ? NAN
                                                               : cheapest)));
        strbuf_release(&q);
        strbuf_release(&c);
    }
    if (json) {
        output_json(arr);
    } else {
        json_decref(arr);
        table_print(&t, stdout);
    }
    table_release(&t);
    return SKYC_OK;
}

static enum skyc_err list_offers(const struct catalog *cat, const char *spec,
                                 int cloud, bool all_regions, bool json,
                                 struct skyc_error *err)
{
    char name[128];
    double count = 0;
    const char *colon = strchr(spec, ':');
    snprintf(name, sizeof(name), "%.*s",
             (int)(colon ? (size_t)(colon - spec) : strlen(spec)), spec);
    if (colon) {
        char *end;
        count = strtod(colon + 1, &end);
        if (*end || !(count > 0) || !isfinite(count))
            return skyc_fail(err, SKYC_E_USAGE,
                             "'%s': the count after ':' must be a positive "
                             "number, as in A100:8",
                             spec);
    }
    uint32_t acc = catalog_accel_index(cat, name);
    if (acc == CATALOG_NONE) {
        const char **names = xcalloc(cat->naccels + 1, sizeof(*names));
        for (size_t k = 0; k < cat->naccels; k++)
            names[k] = cat->accels[k];
        const char *near = suggest_nearest(name, names);
        enum skyc_err rc = skyc_fail(
            err, SKYC_E_NOT_FOUND,
            "no accelerator '%s' in the catalog%s%s%s", name,
            near ? " (did you mean '" : " (see 'skyc show-gpus')",
            near ? near : "", near ? "'?)" : "");
        free(names);
        return rc;
    }
    uint32_t *idx = xcalloc(cat->noffers + 1, sizeof(*idx));
    size_t n = 0;
    for (size_t i = 0; i < cat->noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        if (o->accel != acc || (cloud >= 0 && o->cloud != cloud) ||
            (count > 0 && fabs(o->accel_count - count) > 1e-6))
            continue;
        idx[n++] = (uint32_t)i;
    }
    qsort_r(idx, n, sizeof(*idx), cmp_offer_price, (void *)cat);

    struct table t;
    table_init(&t);
    table_add_col(&t, "GPU", TABLE_LEFT);
    table_add_col(&t, "QTY", TABLE_RIGHT);
    table_add_col(&t, "CLOUD", TABLE_LEFT);
    table_add_col(&t, "INSTANCE_TYPE", TABLE_LEFT);
    table_add_col(&t, "vCPUs", TABLE_RIGHT);
    table_add_col(&t, "HOST_MEM", TABLE_RIGHT);
    table_add_col(&t, "$/HR", TABLE_RIGHT);
    table_add_col(&t, "SPOT $/HR", TABLE_RIGHT);
    table_add_col(&t, "REGION", TABLE_LEFT);
    json_t *arr = json_array();
    for (size_t k = 0; k < n; k++) {
        const struct catalog_offering *o = &cat->offers[idx[k]];
        if (!all_regions && k > 0) {
            const struct catalog_offering *p = &cat->offers[idx[k - 1]];
            bool same = false;
            /* rows of one (cloud, count, instance) are adjacent only when
             * prices tie, so look back through the rows already shown */
            for (size_t b = k; b-- > 0;) {
                const struct catalog_offering *q = &cat->offers[idx[b]];
                if (q->cloud != o->cloud || q->accel_count != o->accel_count)
                    break;
                if (q->instance == o->instance) {
                    same = true;
                    break;
                }
            }
            (void)p;
            if (same)
                continue;
        }
        table_add_row(&t);
        table_cell(&t, cat->accels[acc]);
        table_cellf(&t, "%g", (double)o->accel_count);
        table_cell(&t, cloud_name((enum cloud)o->cloud));
        table_cell(&t, cat->names[o->instance]);
        offer_cell_number(&t, o->vcpus, -1, "");
        offer_cell_number(&t, o->memory_gib, -1, "GB");
        offer_cell_number(&t, o->price, 3, "");
        offer_cell_number(&t, o->spot_price, 3, "");
        char infra[256];
        table_cell(&t, catalog_offer_infra(cat, o, infra, sizeof(infra)) +
                           strlen(cloud_name((enum cloud)o->cloud)) + 1);
        json_array_append_new(arr, offer_json(cat, o));
    }
    free(idx);
    if (json) {
        output_json(arr);
    } else {
        json_decref(arr);
        if (!t.nrows)
            printf("no %s offerings match\n", spec);
        else
            table_print(&t, stdout);
    }
    table_release(&t);
    return SKYC_OK;
}

enum skyc_err cmd_show_gpus(int argc, const char **argv,
                            struct skyc_error *err)
{
    const char *catalog_dir = NULL, *cloud_s = NULL;
    bool all_regions = false, json = false;
    const char *const usage[] = {
        "skyc show-gpus [NAME[:N]] [--all-regions] [--cloud C] [--json]",
        NULL};
    const struct option opts[] = {
        OPT_FLAG(0, "all-regions", &all_regions,
                 "one row per region, not only the cheapest"),
        OPT_STRING(0, "cloud", &cloud_s, "CLOUD", "only this cloud"),
        OPT_STRING(0, "catalog", &catalog_dir, "DIR", "read catalogs from DIR"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 1)
        return skyc_fail(err, SKYC_E_USAGE,
                         "expected at most one accelerator, got %d", n);
    int cloud = -1;
    if (cloud_s && (cloud = cloud_parse(cloud_s)) < 0)
        return skyc_fail(err, SKYC_E_USAGE,
                         "unknown cloud '%s' (choose aws, gcp, azure, lambda "
                         "or vast)",
                         cloud_s);
    struct catalog cat;
    enum skyc_err rc = cli_load_catalog(catalog_dir, &cat, err);
    if (rc)
        return rc;
    rc = n ? list_offers(&cat, argv[0], cloud, all_regions, json, err)
           : list_accelerators(&cat, cloud, json);
    catalog_release(&cat);
    return rc;
}
