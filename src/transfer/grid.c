/*
 * grid.c - read Skyplane's throughput and cost grids (see grid.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "core/strmap.h"
#include "catalog/csv.h"
#include "transfer/grid.h"

void transfer_grid_init(struct transfer_grid *g)
{
    memset(g, 0, sizeof(*g));
}

void transfer_grid_release(struct transfer_grid *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->regions[i]);
    free(g->regions);
    free(g->cloud);
    free(g->gbps);
    free(g->price);
    free(g->throughput_source);
    free(g->price_source);
    transfer_grid_init(g);
}

const char *transfer_cloud_name(enum transfer_cloud c)
{
    switch (c) {
    case TRANSFER_AWS:
        return "aws";
    case TRANSFER_GCP:
        return "gcp";
    case TRANSFER_AZURE:
        return "azure";
    }
    return "?";
}

double transfer_egress_cap(enum transfer_cloud c)
{
    return c == TRANSFER_AWS ? 5 : c == TRANSFER_GCP ? 7 : 16;
}

double transfer_ingress_cap(enum transfer_cloud c)
{
    return c == TRANSFER_AWS ? 10 : 16;
}

const char *transfer_gateway_instance(enum transfer_cloud c)
{
    return c == TRANSFER_AWS   ? "m5.8xlarge"
           : c == TRANSFER_GCP ? "n2-standard-32"
                               : "Standard_D32_v5";
}

/* The cloud of a key "cloud:region", or -1 when malformed or unknown. */
static int key_cloud(const char *key)
{
    const char *colon = strchr(key, ':');
    if (!colon || colon == key || !colon[1] || strlen(key) >= 200)
        return -1;
    size_t n = (size_t)(colon - key);
    if (n == 3 && !strncasecmp(key, "aws", 3))
        return TRANSFER_AWS;
    if (n == 3 && !strncasecmp(key, "gcp", 3))
        return TRANSFER_GCP;
    if (n == 5 && !strncasecmp(key, "azure", 5))
        return TRANSFER_AZURE;
    return -1;
}

/* Tier columns, when present, must say PREMIUM (or be empty). */
static bool premium(const struct csv_reader *r, int col)
{
    return col < 0 || !r->fields[col][0] ||
           !strcasecmp(r->fields[col], "PREMIUM");
}

static void lower_key(char *buf, size_t size, const char *key)
{
    size_t i = 0;
    for (; key[i] && i + 1 < size; i++)
        buf[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] + 32 : key[i]);
    buf[i] = '\0';
}

struct grid_row {
    uint32_t a, b;
    double v;
};

/*
 * The 1-based column where field `field` of the record on `line` starts in
 * buf (commas inside double quotes do not count): for FILE:LINE:COL.
 */
static unsigned colof(const char *buf, size_t len, unsigned line, int field)
{
    size_t i = 0;
    for (unsigned l = 1; l < line && i < len; i++)
        if (buf[i] == '\n')
            l++;
    size_t start = i;
    bool quoted = false;
    for (int f = 0; f < field && i < len && buf[i] != '\n'; i++) {
        if (buf[i] == '"')
            quoted = !quoted;
        else if (buf[i] == ',' && !quoted)
            f++;
    }
    return (unsigned)(i - start) + 1;
}

struct where {
    const char *name, *buf;
    size_t len;
};

static enum skyc_err bad_key(struct skyc_error *err, const struct where *w,
                             unsigned line, int field, const char *col,
                             const char *v)
{
    return skyc_fail(err, SKYC_E_INPUT,
                     "%s:%u:%u: %s '%s' is not a region key (write "
                     "cloud:region, cloud one of aws, gcp, azure)",
                     w->name, line, colof(w->buf, w->len, line, field), col,
                     v);
}

static enum skyc_err read_number(struct skyc_error *err,
                                 const struct where *w, unsigned line,
                                 int field, const char *col,
                                 const char *text, double *out)
{
    bool ok;
    double v = csv_number(text, &ok);
    if (!ok || isnan(v) || isinf(v) || v < 0)
        return skyc_fail(err, SKYC_E_INPUT,
                         "%s:%u:%u: %s '%s' is not a non-negative number "
                         "(write a plain decimal, e.g. 1.5e9)",
                         w->name, line, colof(w->buf, w->len, line, field),
                         col, text);
    *out = v;
    return SKYC_OK;
}

static enum skyc_err need_column(struct skyc_error *err, const char *name,
                                 int col, const char *what, const char *kind)
{
    if (col >= 0)
        return SKYC_OK;
    return skyc_fail(err, SKYC_E_INPUT,
                     "%s:1:1: no '%s' column in the header (is this a "
                     "Skyplane %s grid?)",
                     name, what, kind);
}

enum skyc_err transfer_grid_parse_throughput(struct transfer_grid *g,
                                             const char *name,
                                             const char *buf, size_t len,
                                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    struct strmap keys;
    struct grid_row *rows = NULL;
    size_t nrows = 0, rows_alloc = 0;
    int got;
    const struct where w = {name, buf, len};
    transfer_grid_release(g);
    strmap_init(&keys);
    if (csv_open(&r, name, buf, len, err))
        goto out;
    int cs = csv_column(&r, "src_region"), cd = csv_column(&r, "dst_region");
    int cv = csv_column(&r, "throughput_sent");
    int ts = csv_column(&r, "src_tier"), td = csv_column(&r, "dst_tier");
    int ok_col = csv_column(&r, "success");
    if (need_column(err, name, cs, "src_region", "throughput") ||
        need_column(err, name, cd, "dst_region", "throughput") ||
        need_column(err, name, cv, "throughput_sent", "throughput"))
        goto out;
    while ((got = csv_next(&r, err)) > 0) {
        if (!premium(&r, ts) || !premium(&r, td))
            continue;
        if (ok_col >= 0 && !strcasecmp(r.fields[ok_col], "false"))
            continue;
        const char *ks = r.fields[cs], *kd = r.fields[cd];
        int c1 = key_cloud(ks), c2 = key_cloud(kd);
        if (c1 < 0) {
            rc = bad_key(err, &w, r.line, cs, "src_region", ks);
            goto out;
        }
        if (c2 < 0) {
            rc = bad_key(err, &w, r.line, cd, "dst_region", kd);
            goto out;
        }
        double v;
        if ((rc = read_number(err, &w, r.line, cv, "throughput_sent",
                              r.fields[cv], &v)))
            goto out;
        rc = SKYC_E_INPUT;
        /* keys match case-insensitively; the first spelling is kept */
        char ls[256], ld[256];
        lower_key(ls, sizeof(ls), ks);
        lower_key(ld, sizeof(ld), kd);
        uint32_t ia = (uint32_t)g->n, ib;
        strmap_put(&keys, ls, &ia);
        if (ia == g->n) {
            ALLOC_GROW(g->regions, g->n + 1, g->nalloc);
            g->cloud = xreallocarray(g->cloud, g->nalloc, sizeof(*g->cloud));
            g->regions[g->n] = xstrdup(ks);
            g->cloud[g->n++] = (enum transfer_cloud)c1;
        }
        ib = (uint32_t)g->n;
        strmap_put(&keys, ld, &ib);
        if (ib == g->n) {
            ALLOC_GROW(g->regions, g->n + 1, g->nalloc);
            g->cloud = xreallocarray(g->cloud, g->nalloc, sizeof(*g->cloud));
            g->regions[g->n] = xstrdup(kd);
            g->cloud[g->n++] = (enum transfer_cloud)c2;
        }
        if (ia == ib)
            continue; /* a region to itself is not a link */
        ALLOC_GROW(rows, nrows + 1, rows_alloc);
        rows[nrows++] = (struct grid_row){ia, ib, v / TRANSFER_GBIT};
    }
    if (got < 0)
        goto out;
    if (!nrows) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s: no usable PREMIUM rows (a throughput grid needs "
                  "src_region,dst_region,throughput_sent rows)",
                  name);
        goto out;
    }
    size_t n = g->n;
    g->gbps = xcalloc(n * n, sizeof(*g->gbps));
    g->price = xcalloc(n * n, sizeof(*g->price));
    for (size_t i = 0; i < n * n; i++) {
        g->gbps[i] = NAN;
        g->price[i] = i / n == i % n ? 0 : NAN;
    }
    for (size_t i = 0; i < nrows; i++) {
        double *cell = &g->gbps[(size_t)rows[i].a * n + rows[i].b];
        if (isnan(*cell))
            *cell = rows[i].v;
    }
    g->throughput_rows = nrows;
    g->throughput_source = xstrdup(name);
    rc = SKYC_OK;
out:
    csv_release(&r);
    strmap_release(&keys);
    free(rows);
    if (rc)
        transfer_grid_release(g);
    return rc;
}

/* Exact-key index (case-insensitive), or -1. */
static int find_exact(const struct transfer_grid *g, const char *key)
{
    for (size_t i = 0; i < g->n; i++)
        if (!strcasecmp(g->regions[i], key))
            return (int)i;
    return -1;
}

enum skyc_err transfer_grid_parse_price(struct transfer_grid *g,
                                        const char *name, const char *buf,
                                        size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    int got;
    size_t used = 0;
    const struct where w = {name, buf, len};
    if (!g->n)
        return skyc_fail(err, SKYC_E_INTERNAL,
                         "price grid read before the throughput grid");
    if (csv_open(&r, name, buf, len, err))
        goto out;
    int cs = csv_column(&r, "src"), cd = csv_column(&r, "dest");
    int cv = csv_column(&r, "cost");
    int ts = csv_column(&r, "src_tier"), td = csv_column(&r, "dest_tier");
    if (need_column(err, name, cs, "src", "cost") ||
        need_column(err, name, cd, "dest", "cost") ||
        need_column(err, name, cv, "cost", "cost"))
        goto out;
    double *seen = xcalloc(g->n * g->n, sizeof(*seen));
    while ((got = csv_next(&r, err)) > 0) {
        if (!premium(&r, ts) || !premium(&r, td))
            continue;
        const char *ks = r.fields[cs], *kd = r.fields[cd];
        if (key_cloud(ks) < 0) {
            rc = bad_key(err, &w, r.line, cs, "src", ks);
            break;
        }
        if (key_cloud(kd) < 0) {
            rc = bad_key(err, &w, r.line, cd, "dest", kd);
            break;
        }
        double v;
        if ((rc = read_number(err, &w, r.line, cv, "cost", r.fields[cv],
                              &v)))
            break;
        rc = SKYC_E_INPUT;
        int a = find_exact(g, ks), b = find_exact(g, kd);
        if (a < 0 || b < 0 || a == b)
            continue;
        size_t cell = (size_t)a * g->n + (size_t)b;
        if (!seen[cell]) {
            seen[cell] = 1;
            g->price[cell] = v;
            used++;
        }
    }
    free(seen);
    if (got != 0)
        goto out;
    if (!used) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s: no price for any pair of the throughput grid's "
                  "regions (pass the cost grid of the same snapshot)",
                  name);
        goto out;
    }
    g->price_rows = used;
    free(g->price_source);
    g->price_source = xstrdup(name);
    rc = SKYC_OK;
out:
    csv_release(&r);
    return rc;
}

static enum skyc_err read_whole(struct strbuf *sb, const char *path,
                                const char *what, struct skyc_error *err)
{
    if (strbuf_read_file(sb, path) == 0)
        return SKYC_OK;
    return skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                     "cannot read %s grid '%s': %s", what, path,
                     strerror(errno));
}

enum skyc_err transfer_grid_load(struct transfer_grid *g,
                                 const char *throughput_path,
                                 const char *price_path,
                                 struct skyc_error *err)
{
    enum skyc_err rc;
    struct strbuf sb = STRBUF_INIT;
    char *shared = NULL, *tp = NULL, *pp = NULL;
    transfer_grid_init(g);
    if (!throughput_path || !price_path) {
        shared = path_shared_data();
        if (!shared) {
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "no shared data directory for the Skyplane grids "
                           "(set SKYC_SHARED_DATA or pass --grid and "
                           "--prices)");
            goto out;
        }
    }
    tp = throughput_path
             ? xstrdup(throughput_path)
             : path_join(shared, "skyplane/throughput_grid_2022-11.csv");
    pp = price_path ? xstrdup(price_path)
                    : path_join(shared, "skyplane/cost_grid_2022-11.csv");
    if ((rc = read_whole(&sb, tp, "throughput", err)))
        goto out;
    if ((rc = transfer_grid_parse_throughput(g, tp, sb.buf, sb.len, err)))
        goto out;
    strbuf_reset(&sb);
    if ((rc = read_whole(&sb, pp, "price", err)))
        goto out;
    rc = transfer_grid_parse_price(g, pp, sb.buf, sb.len, err);
out:
    if (rc)
        transfer_grid_release(g);
    strbuf_release(&sb);
    free(shared);
    free(tp);
    free(pp);
    return rc;
}

int transfer_grid_find(const struct transfer_grid *g, const char *key)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", key);
    char *slash = strchr(buf, '/');
    if (slash && !strchr(buf, ':'))
        *slash = ':';
    int i = find_exact(g, buf);
    if (i >= 0 || strncasecmp(buf, "gcp:", 4))
        return i;
    /* a GCP region without a zone: the first of its zones in the grid */
    size_t len = strlen(buf);
    for (size_t k = 0; k < g->n; k++) {
        const char *r = g->regions[k];
        if (!strncasecmp(r, buf, len) && r[len] == '-' && r[len + 1] &&
            !r[len + 2])
            return (int)k;
    }
    return -1;
}
