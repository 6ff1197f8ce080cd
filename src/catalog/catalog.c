#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog_internal.h"
#include "catalog/csv.h"

#include <ctype.h>
#include <sys/stat.h>

static const char *const cloud_names[CLOUD_COUNT] = {"aws", "gcp", "azure",
                                                     "lambda", "vast"};

const char *cloud_name(enum cloud c)
{
    return (unsigned)c < CLOUD_COUNT ? cloud_names[c] : NULL;
}

int cloud_parse(const char *name)
{
    for (int i = 0; i < CLOUD_COUNT; i++)
        if (!strcasecmp(name, cloud_names[i]))
            return i;
    return -1;
}

void catalog_init(struct catalog *cat)
{
    memset(cat, 0, sizeof(*cat));
    cat->pool = xcalloc(1, sizeof(*cat->pool));
    arena_init(&cat->pool->arena);
    cat->intern = xcalloc(1, sizeof(*cat->intern));
    strmap_init(&cat->intern->regions);
    strmap_init(&cat->intern->zones);
    strmap_init(&cat->intern->names);
    strmap_init(&cat->intern->accels);
}

void catalog_release(struct catalog *cat)
{
    if (cat->intern) {
        strmap_release(&cat->intern->regions);
        strmap_release(&cat->intern->zones);
        strmap_release(&cat->intern->names);
        strmap_release(&cat->intern->accels);
        free(cat->intern);
    }
    if (cat->pool) {
        arena_release(&cat->pool->arena);
        free(cat->pool);
    }
    for (int i = 0; i < CLOUD_COUNT; i++)
        free(cat->sources[i].path);
    catalog_egress_free(cat->egress);
    free(cat->offers);
    free(cat->regions);
    free(cat->zones);
    free(cat->names);
    free(cat->accels);
    free(cat->accelerators_path);
    memset(cat, 0, sizeof(*cat));
}

uint32_t catalog_intern_region(struct catalog *cat, enum cloud c,
                               const char *name)
{
    char key[512];
    snprintf(key, sizeof(key), "%s\x1f%s", cloud_names[c], name);
    uint32_t idx = (uint32_t)cat->nregions;
    strmap_put(&cat->intern->regions, key, &idx);
    if (idx == cat->nregions) {
        ALLOC_GROW(cat->regions, cat->nregions + 1, cat->regions_alloc);
        cat->regions[idx].cloud = (uint8_t)c;
        cat->regions[idx].name = arena_strdup(&cat->pool->arena, name);
        cat->nregions++;
    }
    return idx;
}

uint32_t catalog_region_index(const struct catalog *cat, enum cloud c,
                              const char *name)
{
    if ((unsigned)c >= CLOUD_COUNT)
        return CATALOG_NONE;
    char key[512];
    snprintf(key, sizeof(key), "%s\x1f%s", cloud_names[c], name);
    uint32_t idx;
    return strmap_get(&cat->intern->regions, key, &idx) ? idx : CATALOG_NONE;
}

uint32_t catalog_intern_zone(struct catalog *cat, uint32_t region,
                             const char *name)
{
    char key[512];
    snprintf(key, sizeof(key), "%" PRIu32 "\x1f%s", region, name);
    uint32_t idx = (uint32_t)cat->nzones;
    strmap_put(&cat->intern->zones, key, &idx);
    if (idx == cat->nzones) {
        ALLOC_GROW(cat->zones, cat->nzones + 1, cat->zones_alloc);
        cat->zones[idx].region = region;
        cat->zones[idx].name = arena_strdup(&cat->pool->arena, name);
        cat->nzones++;
    }
    return idx;
}

uint32_t catalog_intern_name(struct catalog *cat, const char *name)
{
    uint32_t idx = (uint32_t)cat->nnames;
    const char *stored = strmap_put(&cat->intern->names, name, &idx);
    if (idx == cat->nnames) {
        ALLOC_GROW(cat->names, cat->nnames + 1, cat->names_alloc);
        cat->names[cat->nnames++] = stored;
    }
    return idx;
}

/* Lower-case copy of name into buf (truncating), for case-free lookups. */
static const char *lower_key(const char *name, char *buf, size_t size)
{
    size_t i = 0;
    for (; name[i] && i + 1 < size; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

uint32_t catalog_intern_accel(struct catalog *cat, const char *name)
{
    /* Accelerator names are case-insensitive: keep the first spelling. */
    char key[256];
    uint32_t idx = (uint32_t)cat->naccels;
    strmap_put(&cat->intern->accels, lower_key(name, key, sizeof(key)), &idx);
    if (idx == cat->naccels) {
        ALLOC_GROW(cat->accels, cat->naccels + 1, cat->accels_alloc);
        cat->accels[cat->naccels++] = arena_strdup(&cat->pool->arena, name);
    }
    return idx;
}

void catalog_add_offer(struct catalog *cat, const struct catalog_offering *o)
{
    ALLOC_GROW(cat->offers, cat->noffers + 1, cat->offers_alloc);
    cat->offers[cat->noffers++] = *o;
}

const char *catalog_accelerator_canonical(const struct catalog *cat,
                                          const char *name)
{
    uint32_t idx = catalog_accel_index(cat, name);
    return idx == CATALOG_NONE ? NULL : cat->accels[idx];
}

uint32_t catalog_accel_index(const struct catalog *cat, const char *name)
{
    char key[256];
    uint32_t idx;
    return strmap_get(&cat->intern->accels, lower_key(name, key, sizeof(key)),
                      &idx)
               ? idx
               : CATALOG_NONE;
}

const char *catalog_offer_infra(const struct catalog *cat,
                                const struct catalog_offering *o, char *buf,
                                size_t size)
{
    const struct catalog_region *r = &cat->regions[o->region];
    if (o->zone != CATALOG_NONE)
        snprintf(buf, size, "%s/%s/%s", cloud_names[r->cloud], r->name,
                 cat->zones[o->zone].name);
    else
        snprintf(buf, size, "%s/%s", cloud_names[r->cloud], r->name);
    return buf;
}

/* Column indexes of one cloud file; -1 where the header lacks it. */
struct columns {
    int instance, accel, accel_count, vcpus, memory, price, spot, region,
        zone;
};

static enum skyc_err find_columns(struct csv_reader *r, struct columns *c,
                                  struct skyc_error *err)
{
    c->instance = csv_column(r, "InstanceType");
    c->accel = csv_column(r, "AcceleratorName");
    c->accel_count = csv_column(r, "AcceleratorCount");
    c->vcpus = csv_column(r, "vCPUs");
    c->memory = csv_column(r, "MemoryGiB");
    c->price = csv_column(r, "Price");
    c->spot = csv_column(r, "SpotPrice");
    c->region = csv_column(r, "Region");
    c->zone = csv_column(r, "AvailabilityZone");
    static const char *const required[] = {"InstanceType", "vCPUs",
                                           "MemoryGiB", "Price", "Region"};
    const int have[] = {c->instance, c->vcpus, c->memory, c->price,
                        c->region};
    for (size_t i = 0; i < ARRAY_SIZE(required); i++)
        if (have[i] < 0)
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s:1: header has no '%s' column (expected "
                             "SkyPilot's catalog format, see SOURCE.md)",
                             r->name, required[i]);
    return SKYC_OK;
}

static enum skyc_err number_field(struct csv_reader *r, int col,
                                  const char *what, double *out,
                                  struct skyc_error *err)
{
    if (col < 0) {
        *out = NAN;
        return SKYC_OK;
    }
    bool ok;
    *out = csv_number(r->fields[col], &ok);
    if (!ok || *out < 0)
        return skyc_fail(err, SKYC_E_INPUT,
                         "%s:%u: %s '%s' is not a non-negative number",
                         r->name, r->line, what, r->fields[col]);
    return SKYC_OK;
}

enum skyc_err catalog_load_csv(struct catalog *cat, enum cloud cloud,
                               const char *name, const char *text, size_t len,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    struct columns col;
    struct gcp_accel_row *gpu_rows = NULL;
    size_t ngpu = 0, gpu_alloc = 0;
    size_t first = cat->noffers, rows = 0;
    uint32_t last_region = CATALOG_NONE, last_zone = CATALOG_NONE;

    if (csv_open(&r, name, text, len, err))
        goto out;
    if ((rc = find_columns(&r, &col, err)))
        goto out;
    int n;
    while ((n = csv_next(&r, err)) > 0) {
        rows++;
        double vcpus, mem, count, price, spot;
        if ((rc = number_field(&r, col.vcpus, "vCPUs", &vcpus, err)) ||
            (rc = number_field(&r, col.memory, "MemoryGiB", &mem, err)) ||
            (rc = number_field(&r, col.accel_count, "AcceleratorCount",
                               &count, err)) ||
            (rc = number_field(&r, col.price, "Price", &price, err)) ||
            (rc = number_field(&r, col.spot, "SpotPrice", &spot, err)))
            goto out;
        const char *inst = r.fields[col.instance];
        const char *accel = col.accel >= 0 ? r.fields[col.accel] : "";
        const char *region = r.fields[col.region];
        const char *zone = col.zone >= 0 ? r.fields[col.zone] : "";
        if (!*region) {
            rc = skyc_fail(err, SKYC_E_INPUT, "%s:%u: empty Region", name,
                           r.line);
            goto out;
        }
        if (!*inst && !*accel) {
            rc = skyc_fail(err, SKYC_E_INPUT,
                           "%s:%u: row has neither InstanceType nor "
                           "AcceleratorName",
                           name, r.line);
            goto out;
        }
        if (*accel && !(count > 0)) {
            rc = skyc_fail(err, SKYC_E_INPUT,
                           "%s:%u: accelerator '%s' needs a positive "
                           "AcceleratorCount",
                           name, r.line, accel);
            goto out;
        }
        /* Zero or missing prices mean "not sold that way". */
        if (!(price > 0))
            price = NAN;
        if (!(spot > 0))
            spot = NAN;

        struct catalog_offering o = {0};
        o.cloud = (uint8_t)cloud;
        /* rows come grouped by place: reuse the previous row's lookups */
        if (last_region == CATALOG_NONE ||
            strcmp(cat->regions[last_region].name, region))
            last_region = catalog_intern_region(cat, cloud, region);
        o.region = last_region;
        if (!*zone)
            last_zone = CATALOG_NONE;
        else if (last_zone == CATALOG_NONE ||
                 cat->zones[last_zone].region != o.region ||
                 strcmp(cat->zones[last_zone].name, zone))
            last_zone = catalog_intern_zone(cat, o.region, zone);
        o.zone = last_zone;
        o.accel = *accel ? catalog_intern_accel(cat, accel) : CATALOG_NONE;
        o.accel_count = *accel ? (float)count : 0;
        o.vcpus = (float)vcpus;
        o.memory_gib = (float)mem;
        o.price = price;
        o.spot_price = spot;
        if (!*inst) {
            /* a GCP accelerator row: priced on top of a host VM */
            ALLOC_GROW(gpu_rows, ngpu + 1, gpu_alloc);
            gpu_rows[ngpu++] = (struct gcp_accel_row){
                o.accel, o.zone, o.region, o.accel_count, price, spot};
            continue;
        }
        if (isnan(price) && isnan(spot))
            continue;
        o.instance = catalog_intern_name(cat, inst);
        catalog_add_offer(cat, &o);
    }
    if (n < 0)
        goto out;
    if (ngpu || cloud == CLOUD_GCP)
        catalog_gcp_pair(cat, gpu_rows, ngpu, first, cat->noffers - first);
    cat->sources[cloud].loaded = true;
    cat->sources[cloud].rows += rows;
    cat->sources[cloud].offers += cat->noffers - first;
    rc = SKYC_OK;
out:
    if (rc && err && err->code == SKYC_OK)
        skyc_fail(err, rc, "%s: cannot read the catalog", name);
    free(gpu_rows);
    csv_release(&r);
    return rc;
}

/* Read DIR/common/accelerators.csv into the canonical names, if present. */
static enum skyc_err load_accelerator_names(struct catalog *cat,
                                            const char *dir,
                                            struct skyc_error *err)
{
    char *path = xasprintf("%s/common/accelerators.csv", dir);
    struct strbuf sb = STRBUF_INIT;
    struct csv_reader r;
    enum skyc_err rc = SKYC_OK;
    if (strbuf_read_file(&sb, path)) {
        free(path);
        strbuf_release(&sb);
        return SKYC_OK; /* optional */
    }
    if (csv_open(&r, path, sb.buf, sb.len, err)) {
        rc = SKYC_E_INPUT;
        goto out;
    }
    int col = csv_column(&r, "AcceleratorName"), n;
    if (col < 0) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "%s:1: header has no 'AcceleratorName' column", path);
        goto out;
    }
    while ((n = csv_next(&r, err)) > 0)
        if (*r.fields[col])
            catalog_intern_accel(cat, r.fields[col]);
    if (n < 0) {
        rc = SKYC_E_INPUT;
        goto out;
    }
    cat->accelerators_path = path;
    path = NULL;
out:
    csv_release(&r);
    strbuf_release(&sb);
    free(path);
    return rc;
}

/* The catalog directories to try, in order; entries may be NULL. */
static void search_dirs(const struct catalog_options *opts, char *dirs[3])
{
    dirs[0] = dirs[1] = dirs[2] = NULL;
    if (opts->builtin_only)
        return;
    if (opts->dir) {
        dirs[0] = xstrdup(opts->dir);
        return; /* an explicit directory (plus the built-in sample) only */
    }
    const char *env = getenv("SKYC_CATALOG_DIR");
    if (env && *env)
        dirs[1] = xstrdup(env);
    char *cache = path_cache_dir();
    dirs[2] = path_join(cache, "catalogs/v8");
    free(cache);
}

static enum skyc_err load_cloud_file(struct catalog *cat, enum cloud c,
                                     const char *path, struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    struct stat st;
    if (stat(path, &st) || strbuf_read_file(&sb, path)) {
        strbuf_release(&sb);
        return skyc_fail(err, SKYC_E_IO, "cannot read '%s': %s", path,
                         strerror(errno));
    }
    enum skyc_err rc = catalog_load_csv(cat, c, path, sb.buf, sb.len, err);
    strbuf_release(&sb);
    if (rc)
        return rc;
    cat->sources[c].path = xstrdup(path);
    cat->sources[c].mtime = st.st_mtime;
    return SKYC_OK;
}

/* Append "path size mtime" of a file (or "-") to the cache key. */
static void key_add_file(struct strbuf *key, const char *path)
{
    struct stat st;
    if (path && !stat(path, &st))
        strbuf_addf(key, "%s %lld %lld\n", path, (long long)st.st_size,
                    (long long)st.st_mtime);
    else
        strbuf_addstr(key, "-\n");
}

/* Parse every source: the slow path behind the cache. */
static enum skyc_err load_sources(struct catalog *cat, char *const *files,
                                  const char *accel_dir,
                                  struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    /* canonical accelerator spellings first, so they win over the rows' */
    if (accel_dir && (rc = load_accelerator_names(cat, accel_dir, err)))
        return rc;
    for (int c = 0; c < CLOUD_COUNT && !rc; c++) {
        if (files[c]) {
            rc = load_cloud_file(cat, (enum cloud)c, files[c], err);
            continue;
        }
        const char *date;
        const char *csv = catalog_builtin_csv((enum cloud)c, &date);
        if (!csv)
            continue;
        char *name = xasprintf("built-in %s sample (%s)", cloud_names[c],
                               date);
        rc = catalog_load_csv(cat, (enum cloud)c, name, csv, strlen(csv),
                              err);
        cat->sources[c].path = name;
        cat->sources[c].builtin = true;
    }
    return rc;
}

enum skyc_err catalog_load(struct catalog *cat,
                           const struct catalog_options *opts,
                           struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    char *dirs[3], *files[CLOUD_COUNT] = {NULL};
    const char *accel_dir = NULL;
    struct strbuf key = STRBUF_INIT;
    char *cache_path = NULL;
    catalog_init(cat);
    if (opts->dir && !path_is_dir(opts->dir)) {
        catalog_release(cat);
        return skyc_fail(err, SKYC_E_NOT_FOUND,
                         "catalog directory '%s' does not exist (give a "
                         "directory with <cloud>/vms.csv files)",
                         opts->dir);
    }
    search_dirs(opts, dirs);
    /* which file serves each cloud: the first directory that has one */
    strbuf_addf(&key, "skyc %s catalog\n", SKYC_VERSION);
    for (int c = 0; c < CLOUD_COUNT; c++) {
        for (int d = 0; d < 3 && !files[c]; d++) {
            if (!dirs[d])
                continue;
            char *path = xasprintf("%s/%s/vms.csv", dirs[d], cloud_names[c]);
            if (path_is_file(path))
                files[c] = path;
            else
                free(path);
        }
        key_add_file(&key, files[c]);
    }
    for (int d = 0; d < 3 && !accel_dir; d++) {
        if (!dirs[d])
            continue;
        char *path = xasprintf("%s/common/accelerators.csv", dirs[d]);
        if (path_is_file(path)) {
            accel_dir = dirs[d];
            key_add_file(&key, path);
        }
        free(path);
    }

    const char *no_cache = getenv("SKYC_CATALOG_CACHE");
    if (!no_cache || strcmp(no_cache, "0")) {
        char *cache_dir = path_cache_dir();
        cache_path = xasprintf("%s/catalog-%016" PRIx64 ".bin", cache_dir,
                               strmap_hash(key.buf));
        if (catalog_cache_load(cat, key.buf, cache_path)) {
            free(cache_dir);
            goto out; /* hit */
        }
        catalog_release(cat); /* a stale or damaged image: start over */
        catalog_init(cat);
        if (path_mkdir_p(cache_dir, 0755))
            FREE_AND_NULL(cache_path);
        free(cache_dir);
    }
    rc = load_sources(cat, files, accel_dir, err);
    if (!rc && cache_path)
        catalog_cache_save(cat, key.buf, cache_path);
out:
    for (int d = 0; d < 3; d++)
        free(dirs[d]);
    for (int c = 0; c < CLOUD_COUNT; c++)
        free(files[c]);
    free(cache_path);
    strbuf_release(&key);
    if (rc)
        catalog_release(cat);
    return rc;
}
