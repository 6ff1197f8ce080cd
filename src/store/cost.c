/*
 * cost.c - the store's price model, read from SkyStore's profiles.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog.h"
#include "catalog/csv.h"
#include "store/cost.h"

enum { CL_AWS, CL_GCP, CL_AZURE, CL_OTHER };

static int region_cloud(const char *name)
{
    if (!strncmp(name, "aws:", 4))
        return CL_AWS;
    if (!strncmp(name, "gcp:", 4))
        return CL_GCP;
    if (!strncmp(name, "azure:", 6))
        return CL_AZURE;
    return CL_OTHER;
}

static const double default_storage[] = {0.023, 0.020, 0.0208, 0.023};

/* The catalog's cloud of a "cloud:region" name (valid names only). */
static int catalog_cloud_of(const char *name)
{
    static const enum cloud map[] = {CLOUD_AWS, CLOUD_GCP, CLOUD_AZURE,
                                     CLOUD_AWS};
    return (int)map[region_cloud(name)];
}

void store_cost_init(struct store_cost_model *m)
{
    memset(m, 0, sizeof(*m));
    strmap_init(&m->index);
}

void store_cost_release(struct store_cost_model *m)
{
    for (size_t i = 0; i < m->nregions; i++)
        free(m->names[i]);
    free(m->names);
    free(m->storage);
    free(m->get_req);
    free(m->put_req);
    free(m->egress);
    free(m->source);
    strmap_release(&m->index);
    store_cost_init(m);
}

uint16_t store_cost_region(const struct store_cost_model *m,
                           const char *name)
{
    uint32_t v;
    if (!m->index.slots || !strmap_get(&m->index, name, &v))
        return STORE_NO_REGION;
    return (uint16_t)v;
}

/* Add a region from the egress grid; returns its index. */
static uint16_t add_region(struct store_cost_model *m, const char *name)
{
    uint32_t v = (uint32_t)m->nregions;
    strmap_put(&m->index, name, &v);
    if (v != m->nregions)
        return (uint16_t)v;
    ALLOC_GROW(m->names, m->nregions + 1, m->names_alloc);
    m->names[m->nregions++] = xstrdup(name);
    return (uint16_t)v;
}

/* A region name as the profiles spell it: "cloud:region", sane length. */
static bool valid_region_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 64 || region_cloud(s) == CL_OTHER)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == ':' || s[i] == '-' || s[i] == '_' ||
              (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static enum skyc_err read_egress(struct store_cost_model *m, const char *name,
                                 const char *text, size_t len,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    struct {
        uint16_t a, b;
        double price;
    } *pairs = NULL;
    size_t npairs = 0, pairs_alloc = 0;
    int got;
    if (csv_open(&r, name, text, len, err))
        goto out;
    int cs = csv_column(&r, "src"), cd = csv_column(&r, "dest"),
        cc = csv_column(&r, "cost");
    if (cs < 0 || cd < 0 || cc < 0) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s:1: expected columns src,dest,cost", name);
        goto out;
    }
    while ((got = csv_next(&r, err)) == 1) {
        const char *a = r.fields[cs], *b = r.fields[cd];
        bool ok;
        double price = csv_number(r.fields[cc], &ok);
        if (!valid_region_name(a) || !valid_region_name(b)) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad region '%s' (want cloud:region, cloud "
                      "one of aws, gcp, azure)",
                      name, r.line, valid_region_name(a) ? b : a);
            goto out;
        }
        if (!ok || isnan(price) || price < 0 || price > 100) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad cost '%s' (want $/GB, 0 to 100)", name,
                      r.line, r.fields[cc]);
            goto out;
        }
        if (m->nregions >= 4096) {
            skyc_fail(err, SKYC_E_INPUT, "%s:%u: too many regions", name,
                      r.line);
            goto out;
        }
        ALLOC_GROW(pairs, npairs + 1, pairs_alloc);
        pairs[npairs].a = add_region(m, a);
        pairs[npairs].b = add_region(m, b);
        pairs[npairs].price = price;
        npairs++;
    }
    if (got < 0)
        goto out;
    if (!m->nregions) {
        skyc_fail(err, SKYC_E_INPUT, "%s: no egress prices", name);
        goto out;
    }
    size_t n = m->nregions;
    m->egress = xcalloc(n * n, sizeof(double));
    for (size_t i = 0; i < n * n; i++)
        m->egress[i] = NAN;
    for (size_t i = 0; i < npairs; i++) {
        double *cell = &m->egress[(size_t)pairs[i].a * n + pairs[i].b];
        if (isnan(*cell))
            *cell = pairs[i].price; /* the first row of a pair wins */
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double *cell = &m->egress[a * n + b];
            if (a == b)
                *cell = 0;
            else if (isnan(*cell))
                *cell = catalog_egress_tier_price(
                    (enum cloud)catalog_cloud_of(m->names[a]),
                    (enum cloud)catalog_cloud_of(m->names[b]));
        }
    rc = SKYC_OK;
out:
    free(pairs);
    csv_release(&r);
    return rc;
}

static enum skyc_err read_storage(struct store_cost_model *m, const char *name,
                                  const char *text, size_t len,
                                  struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    int got;
    if (csv_open(&r, name, text, len, err))
        goto out;
    int cv = csv_column(&r, "Vendor"), cr = csv_column(&r, "Region"),
        cg = csv_column(&r, "Group"), ct = csv_column(&r, "Tier"),
        cs = csv_column(&r, "StartingRange"),
        cp = csv_column(&r, "PricePerUnit");
    if (cv < 0 || cr < 0 || cg < 0 || ct < 0 || cs < 0 || cp < 0) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s:1: expected columns Vendor,Region,Group,Tier,"
                  "StartingRange,PricePerUnit",
                  name);
        goto out;
    }
    bool *seen = xcalloc(m->nregions * 3, sizeof(bool));
    while ((got = csv_next(&r, err)) == 1) {
        const char *tier = r.fields[ct], *group = r.fields[cg];
        if (strcmp(tier, "General Purpose") && strcmp(tier, "Hot"))
            continue;
        int what = !strcmp(group, "storage")       ? 0
                   : !strcmp(group, "get request") ? 1
                   : !strcmp(group, "put request") ? 2
                                                   : -1;
        if (what < 0)
            continue;
        bool ok;
        double start = csv_number(r.fields[cs], &ok);
        if (what == 0 && (!ok || start != 0))
            continue; /* only the first volume tier */
        double price = csv_number(r.fields[cp], &ok);
        if (!ok || isnan(price) || price < 0 || price > 100) {
            skyc_fail(err, SKYC_E_INPUT, "%s:%u: bad PricePerUnit '%s'", name,
                      r.line, r.fields[cp]);
            free(seen);
            goto out;
        }
        char key[160];
        snprintf(key, sizeof(key), "%s:%s", r.fields[cv], r.fields[cr]);
        uint16_t reg = store_cost_region(m, key);
        if (reg == STORE_NO_REGION || seen[reg * 3 + what])
            continue; /* not in the egress grid, or a later duplicate */
        seen[reg * 3 + what] = true;
        double *dst = what == 0 ? m->storage : what == 1 ? m->get_req
                                                         : m->put_req;
        dst[reg] = price;
    }
    free(seen);
    if (got < 0)
        goto out;
    rc = SKYC_OK;
out:
    csv_release(&r);
    return rc;
}

/* GCP zones ("gcp:europe-west1-b") also answer to their region's name. */
static void add_gcp_aliases(struct store_cost_model *m)
{
    for (size_t i = 0; i < m->nregions; i++) {
        const char *name = m->names[i];
        const char *dash = strrchr(name, '-');
        if (region_cloud(name) != CL_GCP || !dash || strlen(dash) != 2)
            continue;
        char alias[80];
        snprintf(alias, sizeof(alias), "%.*s", (int)(dash - name), name);
        uint32_t v = (uint32_t)i;
        strmap_put(&m->index, alias, &v);
    }
}

enum skyc_err store_cost_load_text(struct store_cost_model *m,
                                   const char *cost_csv, size_t cost_len,
                                   const char *storage_csv,
                                   size_t storage_len,
                                   struct skyc_error *err)
{
    enum skyc_err rc;
    store_cost_release(m);
    rc = read_egress(m, "cost.csv", cost_csv, cost_len, err);
    if (rc)
        goto out;
    size_t n = m->nregions;
    m->storage = xcalloc(n, sizeof(double));
    m->get_req = xcalloc(n, sizeof(double));
    m->put_req = xcalloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        int c = region_cloud(m->names[i]);
        m->storage[i] = default_storage[c];
        m->get_req[i] = 4e-7;
        m->put_req[i] = 5e-6;
    }
    if (storage_csv) {
        rc = read_storage(m, "storage.csv", storage_csv, storage_len, err);
        if (rc)
            goto out;
    }
    add_gcp_aliases(m);
out:
    if (rc)
        store_cost_release(m);
    return rc;
}

enum skyc_err store_cost_load(struct store_cost_model *m, const char *dir,
                              struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_NOT_FOUND;
    struct strbuf cost = STRBUF_INIT, storage = STRBUF_INIT;
    char *shared = NULL, *owned_dir = NULL, *pc = NULL, *ps = NULL;
    if (!dir) {
        shared = path_shared_data();
        if (!shared) {
            skyc_fail(err, SKYC_E_NOT_FOUND,
                      "no shared data directory for the SkyStore profiles "
                      "(set SKYC_SHARED_DATA or pass --profiles DIR)");
            goto out;
        }
        owned_dir = path_join(shared, "skystore/profiles");
        dir = owned_dir;
    }
    pc = path_join(dir, "cost.csv");
    ps = path_join(dir, "storage.csv");
    if (strbuf_read_file(&cost, pc)) {
        skyc_fail(err, SKYC_E_NOT_FOUND, "cannot read '%s': %s", pc,
                  strerror(errno));
        goto out;
    }
    if (strbuf_read_file(&storage, ps)) {
        skyc_fail(err, SKYC_E_NOT_FOUND, "cannot read '%s': %s", ps,
                  strerror(errno));
        goto out;
    }
    /* messages name the real files */
    struct skyc_error sub = {0};
    rc = store_cost_load_text(m, cost.buf, cost.len, storage.buf, storage.len,
                              &sub);
    if (rc) {
        const char *rest = sub.msg;
        if (!strncmp(rest, "cost.csv", 8))
            skyc_fail(err, rc, "%s%s", pc, rest + 8);
        else if (!strncmp(rest, "storage.csv", 11))
            skyc_fail(err, rc, "%s%s", ps, rest + 11);
        else
            skyc_fail(err, rc, "%s", rest);
        goto out;
    }
    m->source = xstrdup(dir);
out:
    strbuf_release(&cost);
    strbuf_release(&storage);
    free(shared);
    free(owned_dir);
    free(pc);
    free(ps);
    return rc;
}
