/*
 * egress.c - what moving data between two regions costs and how fast it is.
 *
 * Prices come from Skyplane's cost grid (measured list prices of 71 AWS, GCP
 * and Azure regions) when $SKYC_SHARED_DATA/skyplane/cost_grid_2022-11.csv
 * exists and names both regions; otherwise from built-in per-cloud tiers.
 * Unlike SkyPilot, traffic between two regions of one cloud is not free.
 * Bandwidth comes from Skyplane's throughput grid (64 connections, one VM
 * pair) when present, else defaults. Grid keys are "cloud:region" (GCP keys
 * name a zone, "gcp:us-central1-a": its region is the key less "-a").
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog_internal.h"
#include "catalog/csv.h"

struct catalog_egress {
    char *source;
    double *price; /* n*n, NaN where the grid is silent */
    double *gbps;  /* n*n, NaN where the grid is silent; NULL until needed */
    size_t n;
};

void catalog_egress_free(struct catalog_egress *e)
{
    if (!e)
        return;
    free(e->source);
    free(e->price);
    free(e->gbps);
    free(e);
}

/* "gcp:us-central1-a" -> region index of gcp/us-central1, or NONE. */
static uint32_t grid_region(const struct catalog *cat, const char *key)
{
    const char *colon = strchr(key, ':');
    if (!colon)
        return CATALOG_NONE;
    char cloud[16], region[128];
    snprintf(cloud, sizeof(cloud), "%.*s", (int)SKYC_MIN(15, colon - key),
             key);
    snprintf(region, sizeof(region), "%s", colon + 1);
    int c = cloud_parse(cloud);
    if (c < 0)
        return CATALOG_NONE;
    uint32_t idx = catalog_region_index(cat, (enum cloud)c, region);
    if (idx == CATALOG_NONE && c == CLOUD_GCP) {
        char *dash = strrchr(region, '-');
        if (dash && strlen(dash) == 2) {
            *dash = '\0';
            idx = catalog_region_index(cat, CLOUD_GCP, region);
        }
    }
    return idx;
}

/*
 * Fill grid[a*n+b] from a CSV with columns src_col, dst_col, val_col; the
 * first row of a pair wins. Missing file: returns false, grid untouched.
 */
static bool read_grid(const struct catalog *cat, const char *path,
                      const char *src_col, const char *dst_col,
                      const char *val_col, double scale, double *grid)
{
    struct strbuf sb = STRBUF_INIT;
    struct csv_reader r;
    struct skyc_error err = {0};
    bool ok = false;
    if (strbuf_read_file(&sb, path)) {
        strbuf_release(&sb);
        return false;
    }
    if (csv_open(&r, path, sb.buf, sb.len, &err))
        goto out;
    int cs = csv_column(&r, src_col), cd = csv_column(&r, dst_col),
        cv = csv_column(&r, val_col), n;
    if (cs < 0 || cd < 0 || cv < 0)
        goto out;
    size_t nr = cat->nregions;
    while ((n = csv_next(&r, &err)) > 0) {
        uint32_t a = grid_region(cat, r.fields[cs]);
        uint32_t b = grid_region(cat, r.fields[cd]);
        bool num_ok;
        double v = csv_number(r.fields[cv], &num_ok);
        if (a == CATALOG_NONE || b == CATALOG_NONE || !num_ok || isnan(v) ||
            v < 0)
            continue;
        if (isnan(grid[(size_t)a * nr + b]))
            grid[(size_t)a * nr + b] = v * scale;
    }
    ok = n == 0;
out:
    csv_release(&r);
    strbuf_release(&sb);
    return ok;
}

static struct catalog_egress *egress_tables(struct catalog *cat)
{
    if (cat->egress && cat->egress->n == cat->nregions)
        return cat->egress;
    catalog_egress_free(cat->egress);
    struct catalog_egress *e = xcalloc(1, sizeof(*e));
    e->n = cat->nregions;
    e->price = xcalloc(e->n * e->n + 1, sizeof(*e->price));
    for (size_t i = 0; i < e->n * e->n; i++)
        e->price[i] = NAN;
    char *shared = path_shared_data();
    char *path = shared ? path_join(shared, "skyplane/cost_grid_2022-11.csv")
                        : NULL;
    if (path && read_grid(cat, path, "src", "dest", "cost", 1, e->price))
        e->source = xasprintf("Skyplane cost grid (%s), built-in tiers "
                              "elsewhere",
                              path);
    else
        e->source = xstrdup("built-in per-cloud tiers");
    free(path);
    free(shared);
    cat->egress = e;
    return e;
}

/* Internet / cross-cloud egress list prices, $/GB, first pricing tier. */
static double tier_price(enum cloud from, bool same_cloud)
{
    switch (from) {
    case CLOUD_AWS:
        return same_cloud ? 0.02 : 0.09;
    case CLOUD_GCP:
        return same_cloud ? 0.02 : 0.12;
    case CLOUD_AZURE:
        return same_cloud ? 0.02 : 0.0875;
    case CLOUD_LAMBDA:
        return 0; /* Lambda charges no egress */
    case CLOUD_VAST:
    default:
        return same_cloud ? 0.02 : 0.02; /* hosts set their own; assumed */
    }
}

double catalog_egress_tier_price(enum cloud from, enum cloud to)
{
    return tier_price(from, from == to);
}

double catalog_egress_price(struct catalog *cat, uint32_t a, uint32_t b)
{
    if (a == b || a >= cat->nregions || b >= cat->nregions)
        return 0;
    struct catalog_egress *e = egress_tables(cat);
    double p = e->price[(size_t)a * e->n + b];
    if (!isnan(p))
        return p;
    enum cloud ca = cat->regions[a].cloud, cb = cat->regions[b].cloud;
    return tier_price(ca, ca == cb);
}

double catalog_bandwidth_gbps(struct catalog *cat, uint32_t a, uint32_t b)
{
    if (a >= cat->nregions || b >= cat->nregions)
        return 1;
    if (a == b)
        return 10;
    struct catalog_egress *e = egress_tables(cat);
    if (!e->gbps) {
        e->gbps = xcalloc(e->n * e->n + 1, sizeof(*e->gbps));
        for (size_t i = 0; i < e->n * e->n; i++)
            e->gbps[i] = NAN;
        char *shared = path_shared_data();
        char *path = shared ? path_join(shared,
                                        "skyplane/throughput_grid_2022-11.csv")
                            : NULL;
        if (path)
            read_grid(cat, path, "src_region", "dst_region",
                      "throughput_sent", 1e-9, e->gbps);
        free(path);
        free(shared);
    }
    double g = e->gbps[(size_t)a * e->n + b];
    if (!isnan(g) && g > 0)
        return g;
    return cat->regions[a].cloud == cat->regions[b].cloud ? 5 : 2;
}

const char *catalog_egress_source(struct catalog *cat)
{
    return egress_tables(cat)->source;
}
