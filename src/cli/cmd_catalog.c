/*
 * cmd_catalog.c - `skyc catalog info` and `skyc catalog fetch`.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/paths.h"
#include "catalog/catalog.h"
#include "catalog/fetch.h"
#include "cli/cli.h"
#include "cli/options.h"

#include <time.h>

enum skyc_err cli_load_catalog(const char *dir, struct catalog *cat,
                               struct skyc_error *err)
{
    struct catalog_options opts = {.dir = dir};
    return catalog_load(cat, &opts, err);
}

static enum skyc_err catalog_info(int argc, const char **argv,
                                  struct skyc_error *err)
{
    const char *dir = NULL;
    bool json = false;
    const char *const usage[] = {"skyc catalog info [--catalog DIR] [--json]",
                                 NULL};
    const struct option opts[] = {
        OPT_STRING(0, "catalog", &dir, "DIR", "read catalogs from DIR"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    struct catalog cat;
    enum skyc_err rc = cli_load_catalog(dir, &cat, err);
    if (rc)
        return rc;

    size_t regions[CLOUD_COUNT] = {0};
    for (size_t i = 0; i < cat.nregions; i++)
        regions[cat.regions[i].cloud]++;
    time_t now = time(NULL);
    json_t *arr = json_array();
    struct table t;
    table_init(&t);
    table_add_col(&t, "CLOUD", TABLE_LEFT);
    table_add_col(&t, "OFFERS", TABLE_RIGHT);
    table_add_col(&t, "ROWS", TABLE_RIGHT);
    table_add_col(&t, "REGIONS", TABLE_RIGHT);
    table_add_col(&t, "AGE", TABLE_RIGHT);
    table_add_col(&t, "SOURCE", TABLE_LEFT);
    for (int c = 0; c < CLOUD_COUNT; c++) {
        const struct catalog_source *s = &cat.sources[c];
        if (!s->loaded)
            continue;
        double age_days = s->mtime ? difftime(now, s->mtime) / 86400 : NAN;
        table_add_row(&t);
        table_cell(&t, cloud_name((enum cloud)c));
        table_cellf(&t, "%zu", s->offers);
        table_cellf(&t, "%zu", s->rows);
        table_cellf(&t, "%zu", regions[c]);
        if (isnan(age_days))
            table_cell(&t, "-");
        else
            table_cellf(&t, "%.1fd", age_days);
        table_cell(&t, s->path);
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I, s:I, s:o, s:s, s:b}", "cloud",
                           cloud_name((enum cloud)c), "offers",
                           (json_int_t)s->offers, "rows", (json_int_t)s->rows,
                           "regions", (json_int_t)regions[c], "age_days",
                           json_number_or_null(age_days), "source", s->path,
                           "builtin", s->builtin));
    }
    const char *egress = catalog_egress_source(&cat);
    if (json) {
        output_json(json_pack("{s:o, s:s, s:s?}", "clouds", arr, "egress",
                              egress, "accelerators", cat.accelerators_path));
    } else {
        json_decref(arr);
        table_print(&t, stdout);
        printf("\negress prices: %s\n", egress);
        printf("accelerator names: %s\n",
               cat.accelerators_path ? cat.accelerators_path
                                     : "from the offerings");
    }
    table_release(&t);
    catalog_release(&cat);
    return SKYC_OK;
}

static enum skyc_err catalog_fetch_cmd(int argc, const char **argv,
                                       struct skyc_error *err)
{
    const char *url = CATALOG_DEFAULT_URL, *dest = NULL;
    bool force = false, json = false;
    const char *const usage[] = {
        "skyc catalog fetch [--url BASE] [--dest DIR] [--force] [--json]",
        NULL};
    const struct option opts[] = {
        OPT_STRING(0, "url", &url, "BASE",
                   "base URL holding <cloud>/vms.csv (http, https, file)"),
        OPT_STRING(0, "dest", &dest, "DIR",
                   "where to write (default: the XDG cache)"),
        OPT_FLAG(0, "force", &force, "overwrite files you edited locally"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    char *cache = NULL, *target;
    if (dest) {
        target = xstrdup(dest);
    } else {
        cache = path_cache_dir();
        target = path_join(cache, "catalogs/v8");
    }
    struct catalog_fetch_result *res;
    size_t nres;
    enum skyc_err rc = catalog_fetch(url, target, force, &res, &nres, err);
    static const char *const outcome[] = {"updated", "kept your edit (new copy: .new)",
                                          "not on the server"};
    json_t *arr = json_array();
    for (size_t i = 0; i < nres; i++) {
        if (!res[i].file)
            continue;
        if (!json)
            fprintf(stderr, "%-26s %s\n", res[i].file,
                    outcome[res[i].outcome]);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "file",
                                             res[i].file, "outcome",
                                             outcome[res[i].outcome], "bytes",
                                             (json_int_t)res[i].bytes));
    }
    if (json && !rc)
        output_json(json_pack("{s:s, s:o}", "dest", target, "files", arr));
    else
        json_decref(arr);
    catalog_fetch_results_free(res, nres);
    free(target);
    free(cache);
    return rc;
}

static const struct cli_command catalog_commands[] = {
    {"info", catalog_info, "Show the clouds, rows, regions and file ages"},
    {"fetch", catalog_fetch_cmd, "Download the live SkyPilot catalogs"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_catalog(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc catalog", catalog_commands, argc - 1, argv + 1,
                        err);
}
