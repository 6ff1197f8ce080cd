/*
 * trace.c - reading SkyStore access traces and generating realistic ones.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/units.h"
#include "catalog/csv.h"
#include "store/trace.h"

void store_trace_init(struct store_trace *t)
{
    memset(t, 0, sizeof(*t));
    strmap_init(&t->region_index);
    strmap_init(&t->key_index);
}

void store_trace_release(struct store_trace *t)
{
    free(t->ev);
    free(t->regions);
    free(t->region_line);
    free(t->keys);
    free(t->name);
    strmap_release(&t->region_index);
    strmap_release(&t->key_index);
    store_trace_init(t);
}

static uint32_t intern_region(struct store_trace *t, const char *name,
                              unsigned line)
{
    uint32_t v = (uint32_t)t->nregions;
    const char *k = strmap_put(&t->region_index, name, &v);
    if (v == t->nregions) {
        ALLOC_GROW(t->regions, t->nregions + 1, t->regions_alloc);
        t->region_line = xreallocarray(t->region_line, t->regions_alloc,
                                       sizeof(unsigned));
        t->regions[t->nregions] = k;
        t->region_line[t->nregions] = line;
        t->nregions++;
    }
    return v;
}

static uint32_t intern_key(struct store_trace *t, const char *name)
{
    uint32_t v = (uint32_t)t->nkeys;
    const char *k = strmap_put(&t->key_index, name, &v);
    if (v == t->nkeys) {
        ALLOC_GROW(t->keys, t->nkeys + 1, t->keys_alloc);
        t->keys[t->nkeys++] = k;
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

bool store_parse_timestamp(const char *s, double *out)
{
    int y, mo, d, h, mi, se;
    size_t n = strlen(s);
    if (n >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == ' ' || s[10] == 'T') &&
        s[13] == ':' && s[16] == ':') {
        if (!parse_fixed_digits(s, 4, &y) || !parse_fixed_digits(s + 5, 2, &mo) ||
            !parse_fixed_digits(s + 8, 2, &d) || !parse_fixed_digits(s + 11, 2, &h) ||
            !parse_fixed_digits(s + 14, 2, &mi) || !parse_fixed_digits(s + 17, 2, &se))
            return false;
        static const int mdays[] = {31, 29, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
            mi > 59 || se > 60)
            return false;
        double frac = 0;
        const char *p = s + 19;
        if (*p == '.') {
            double scale = 0.1;
            p++;
            if (*p < '0' || *p > '9')
                return false;
            while (*p >= '0' && *p <= '9') {
                frac += (*p - '0') * scale;
                scale /= 10;
                p++;
            }
        }
        if (*p == 'Z')
            p++;
        if (*p)
            return false;
        *out = (double)days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400.0 +
               h * 3600.0 + mi * 60.0 + se + frac;
        return true;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!n || errno || *end || !isfinite(v) || v < 0 || v > 1e12)
        return false;
    *out = v;
    return true;
}

void store_format_timestamp(double t, char *buf, size_t size)
{
    time_t tt = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(buf, size, "%.0f", t);
        return;
    }
    strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int parse_op(const char *s)
{
    if (!strcmp(s, "write") || !strcmp(s, "put"))
        return STORE_OP_WRITE;
    if (!strcmp(s, "read") || !strcmp(s, "get"))
        return STORE_OP_READ;
    if (!strcmp(s, "delete"))
        return STORE_OP_DELETE;
    return -1;
}

static bool parse_size(const char *s, uint64_t *out)
{
    if (!*s || strlen(s) > 16)
        return false;
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > (UINT64_C(1) << 50)) /* 1 PiB: more is a typo */
        return false;
    *out = v;
    return true;
}

enum skyc_err store_trace_parse(struct store_trace *t, const char *name,
                                const char *text, size_t len,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct csv_reader r;
    int got;
    store_trace_release(t);
    t->name = xstrdup(name);
    if (csv_open(&r, name, text, len, err))
        goto out;
    int ct = csv_column(&r, "timestamp"), co = csv_column(&r, "op"),
        cr = csv_column(&r, "issue_region"), ck = csv_column(&r, "obj_key"),
        cs = csv_column(&r, "size");
    if (ck < 0)
        ck = csv_column(&r, "data_id");
    if (ct < 0 || co < 0 || cr < 0 || ck < 0 || cs < 0) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s:1: the header must name timestamp,op,issue_region,"
                  "obj_key,size (missing '%s')",
                  name,
                  ct < 0   ? "timestamp"
                  : co < 0 ? "op"
                  : cr < 0 ? "issue_region"
                  : ck < 0 ? "obj_key"
                           : "size");
        goto out;
    }
    double last = -INFINITY;
    while ((got = csv_next(&r, err)) == 1) {
        struct store_event e = {0};
        const char *f;
        f = r.fields[ct];
        if (!store_parse_timestamp(f, &e.t)) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad timestamp '%.64s' (want YYYY-MM-DD "
                      "HH:MM:SS or seconds)",
                      name, r.line, f);
            goto out;
        }
        if (e.t < last) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: timestamp '%.64s' goes back in time (sort the "
                      "trace by timestamp)",
                      name, r.line, f);
            goto out;
        }
        last = e.t;
        f = r.fields[co];
        int op = parse_op(f);
        if (op < 0) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad op '%.64s' (want write, read or delete)",
                      name, r.line, f);
            goto out;
        }
        e.op = (uint8_t)op;
        f = r.fields[cr];
        const char *colon = strchr(f, ':');
        if (!colon || colon == f || !colon[1] || strlen(f) > 64 ||
            strchr(f, ' ')) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad issue_region '%.64s' (want cloud:region, "
                      "e.g. aws:us-east-1)",
                      name, r.line, f);
            goto out;
        }
        uint32_t known;
        if (t->nregions >= 4096 && !strmap_get(&t->region_index, f, &known)) {
            skyc_fail(err, SKYC_E_INPUT, "%s:%u: more than 4096 regions",
                      name, r.line);
            goto out;
        }
        e.region = (uint16_t)intern_region(t, f, r.line);
        f = r.fields[ck];
        if (!*f || strlen(f) > 1024) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s:%u: bad obj_key (want 1 to 1024 bytes)", name,
                      r.line);
            goto out;
        }
        e.key = intern_key(t, f);
        f = r.fields[cs];
        if (!parse_size(f, &e.size)) {
            if (e.op == STORE_OP_WRITE || *f) {
                skyc_fail(err, SKYC_E_INPUT,
                          "%s:%u: bad size '%.64s' (want bytes, a whole "
                          "number up to 2^50)",
                          name, r.line, f);
                goto out;
            }
            e.size = 0;
        }
        ALLOC_GROW(t->ev, t->n + 1, t->alloc);
        t->ev[t->n++] = e;
    }
    if (got < 0)
        goto out;
    rc = SKYC_OK;
out:
    csv_release(&r);
    if (rc)
        store_trace_release(t);
    return rc;
}

enum skyc_err store_trace_load(struct store_trace *t, const char *path,
                               struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    enum skyc_err rc;
    if (strbuf_read_file(&sb, path)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "cannot read trace '%s': %s",
                       path, strerror(errno));
        goto out;
    }
    rc = store_trace_parse(t, path, sb.buf, sb.len, err);
out:
    strbuf_release(&sb);
    return rc;
}

enum skyc_err store_trace_write(const struct store_trace *t, const char *path,
                                struct skyc_error *err)
{
    static const char *const ops[] = {"write", "read", "delete"};
    FILE *f = fopen(path, "w");
    if (!f)
        return skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", path,
                         strerror(errno));
    fputs("timestamp,op,issue_region,obj_key,size\n", f);
    char ts[32];
    double last = NAN;
    for (size_t i = 0; i < t->n; i++) {
        const struct store_event *e = &t->ev[i];
        if (e->t != last) {
            store_format_timestamp(e->t, ts, sizeof(ts));
            last = e->t;
        }
        const char *k = t->keys[e->key];
        fprintf(f, "%s,%s,%s,", ts, ops[e->op], t->regions[e->region]);
        if (strpbrk(k, ",\"\r\n")) {
            fputc('"', f);
            for (const char *c = k; *c; c++) {
                if (*c == '"')
                    fputc('"', f);
                fputc(*c, f);
            }
            fputc('"', f);
        } else {
            fputs(k, f);
        }
        fprintf(f, ",%" PRIu64 "\n", e->size);
    }
    if (fclose(f))
        return skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", path,
                         strerror(errno));
    return SKYC_OK;
}

/* ---- the generator ---------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static double unif(uint64_t *s)
{
    return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

static const char *const default_regions[] = {
    "aws:us-east-1", "aws:eu-west-1", "gcp:europe-west1-b", "azure:eastus"};

void store_gen_defaults(struct store_gen_params *p)
{
    memset(p, 0, sizeof(*p));
    p->seed = 1;
    p->events = 100000;
    p->objects = 10000;
    p->regions = default_regions;
    p->nregions = ARRAY_SIZE(default_regions);
    p->start = 1704067200; /* 2024-01-01 00:00:00 UTC */
    p->days = 7;
    p->zipf = 1.1;
    p->locality = 0.7;
    p->write_ratio = 0.1;
    p->raw = 0.2;
    p->diurnal = 0.5;
    p->min_size = 1e6;
    p->max_size = 256e6;
}

/* A rough UTC offset in hours from a region's name. */
static double utc_offset(const char *region)
{
    static const struct {
        const char *part;
        double hours;
    } zones[] = {
        {"us-west", -8},     {"westus", -8},       {"us-central", -6},
        {"centralus", -6},   {"us-east", -5},      {"eastus", -5},
        {"ca-", -5},         {"canada", -5},       {"sa-", -3},
        {"southamerica", -3}, {"brazil", -3},      {"eu-", 1},
        {"europe", 1},       {"uk", 0},            {"germany", 1},
        {"norway", 1},       {"sweden", 1},        {"switzerland", 1},
        {"france", 1},       {"me-", 3},           {"uae", 4},
        {"qatar", 3},        {"af-", 2},           {"southafrica", 2},
        {"india", 5.5},      {"ap-south-", 5.5},   {"asia-south1", 5.5},
        {"ap-northeast", 9}, {"asia-northeast", 9}, {"korea", 9},
        {"japan", 9},        {"ap-east", 8},       {"asia-east", 8},
        {"eastasia", 8},     {"ap-southeast", 8},  {"asia-southeast", 8},
        {"australia", 10},
    };
    for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
        if (strstr(region, zones[i].part))
            return zones[i].hours;
    return 0;
}

/*
 * A growable set of objects with weights, sampled in proportion to weight
 * through a Fenwick tree of prefix sums (O(log n) add and sample).
 */
struct gen_set {
    uint32_t *obj;
    double *w, *tree; /* tree is 1-based, cap + 1 entries */
    size_t n, cap;
    double total;
};

static void set_push(struct gen_set *g, uint32_t obj, double w)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        g->obj = xreallocarray(g->obj, cap, sizeof(uint32_t));
        g->w = xreallocarray(g->w, cap, sizeof(double));
        free(g->tree);
        g->tree = xcalloc(cap + 1, sizeof(double));
        g->cap = cap;
        for (size_t i = 1; i <= g->n; i++) { /* O(n) rebuild */
            g->tree[i] += g->w[i - 1];
            size_t j = i + (i & -i);
            if (j <= cap)
                g->tree[j] += g->tree[i];
        }
    }
    g->obj[g->n] = obj;
    g->w[g->n] = w;
    for (size_t i = g->n + 1; i <= g->cap; i += i & -i)
        g->tree[i] += w;
    g->n++;
    g->total += w;
}

static uint32_t set_sample(const struct gen_set *g, uint64_t *s)
{
    double target = unif(s) * g->total;
    size_t pos = 0, step = 1;
    while (step * 2 <= g->cap)
        step *= 2;
    for (; step; step /= 2)
        if (pos + step <= g->cap && g->tree[pos + step] <= target) {
            pos += step;
            target -= g->tree[pos];
        }
    return g->obj[pos < g->n ? pos : g->n - 1];
}

static void set_release(struct gen_set *g)
{
    free(g->obj);
    free(g->w);
    free(g->tree);
}

enum skyc_err store_trace_generate(struct store_trace *t,
                                   const struct store_gen_params *p,
                                   struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_USAGE;
    double *weight = NULL, *offset = NULL;
    uint64_t *sizes = NULL;
    struct gen_set *by_region = NULL;
    struct gen_set all = {0};
    store_trace_release(t);
    if (!p->events || p->events > 100000000)
        return skyc_fail(err, rc, "--events must be 1 to 100000000");
    if (!p->objects || p->objects > 10000000)
        return skyc_fail(err, rc, "--objects must be 1 to 10000000");
    if (!p->nregions || p->nregions > 64)
        return skyc_fail(err, rc, "need 1 to 64 regions");
    if (!(p->days > 0 && p->days <= 3650))
        return skyc_fail(err, rc, "--days must be in (0, 3650]");
    if (!(p->zipf >= 0 && p->zipf <= 5))
        return skyc_fail(err, rc, "--zipf must be in [0, 5]");
    if (!(p->locality >= 0 && p->locality <= 1) ||
        !(p->write_ratio > 0 && p->write_ratio <= 1) ||
        !(p->raw >= 0 && p->raw <= 1) ||
        !(p->diurnal >= 0 && p->diurnal < 1))
        return skyc_fail(err, rc,
                         "--locality, --raw must be in [0, 1], --write-ratio "
                         "in (0, 1], --diurnal in [0, 1)");
    if (!(p->min_size >= 1 && p->max_size >= p->min_size &&
          p->max_size <= 1e15))
        return skyc_fail(err, rc, "need 1 <= min size <= max size <= 1 PB");
    t->name = xstrdup("generated");
    offset = xcalloc(p->nregions, sizeof(double));
    by_region = xcalloc(p->nregions, sizeof(*by_region));
    for (size_t i = 0; i < p->nregions; i++) {
        if (!strchr(p->regions[i], ':')) {
            skyc_fail(err, rc, "bad region '%s' (want cloud:region)",
                      p->regions[i]);
            goto out;
        }
        intern_region(t, p->regions[i], 0);
        offset[i] = utc_offset(p->regions[i]);
    }
    if (t->nregions != p->nregions) {
        skyc_fail(err, rc, "a region is named twice");
        goto out;
    }
    /* popularity: object i gets Zipf weight 1/rank^zipf, ranks shuffled */
    uint64_t s = p->seed * UINT64_C(0x2545f4914f6cdd1d) + 1;
    weight = xmalloc(p->objects * sizeof(double));
    for (size_t k = 0; k < p->objects; k++)
        weight[k] = pow((double)(k + 1), -p->zipf);
    for (size_t k = p->objects - 1; k > 0; k--) {
        size_t j = (size_t)(splitmix64(&s) % (k + 1));
        double tmp = weight[k];
        weight[k] = weight[j];
        weight[j] = tmp;
    }
    sizes = xmalloc(p->objects * sizeof(uint64_t));
    double mean_gap = p->days * 86400.0 / (double)p->events;
    double tt = p->start;
    double lmin = log(p->min_size), lmax = log(p->max_size);
    uint32_t recent[16];
    size_t nrecent = 0, recent_at = 0;
    t->ev = xmalloc(p->events * sizeof(*t->ev));
    t->alloc = p->events;
    char key[32];
    for (size_t i = 0; i < p->events; i++) {
        /* thinning: candidates at the peak rate, each kept with its
         * region's diurnal rate, so every region follows its own day */
        uint16_t r;
        double ts;
        for (;;) {
            tt += -log(1.0 - unif(&s)) * mean_gap / (1.0 + p->diurnal);
            ts = floor(tt);
            r = (uint16_t)(splitmix64(&s) % p->nregions);
            double hour = fmod(ts / 3600.0 + offset[r] + 240.0, 24.0);
            double rate =
                1.0 + p->diurnal * cos(2 * M_PI * (hour - 14.0) / 24.0);
            if (unif(&s) * (1.0 + p->diurnal) < rate)
                break;
        }
        struct store_event e = {.t = ts, .region = r};
        if (!all.n || unif(&s) < p->write_ratio) {
            uint32_t obj;
            e.op = STORE_OP_WRITE;
            if (all.n < p->objects) {
                obj = (uint32_t)all.n;
                sizes[obj] = (uint64_t)exp(lmin + unif(&s) * (lmax - lmin));
                set_push(&all, obj, weight[obj]);
                set_push(&by_region[r], obj, weight[obj]);
                snprintf(key, sizeof(key), "%016" PRIx64,
                         splitmix64(&(uint64_t){p->seed ^ obj}));
                uint32_t k = intern_key(t, key);
                if (k != obj) {
                    skyc_fail(err, SKYC_E_INTERNAL, "generated key clash");
                    goto out;
                }
            } else {
                obj = set_sample(&all, &s);
            }
            e.key = obj;
            e.size = sizes[obj];
            recent[recent_at] = obj;
            recent_at = (recent_at + 1) % 16;
            if (nrecent < 16)
                nrecent++;
        } else {
            uint32_t obj;
            e.op = STORE_OP_READ;
            struct gen_set *l = &by_region[r];
            if (unif(&s) < p->raw)
                obj = recent[splitmix64(&s) % nrecent];
            else if (l->n && unif(&s) < p->locality)
                obj = set_sample(l, &s);
            else
                obj = set_sample(&all, &s);
            e.key = obj;
            e.size = sizes[obj];
        }
        t->ev[t->n++] = e;
    }
    rc = SKYC_OK;
out:
    free(weight);
    free(offset);
    free(sizes);
    for (size_t i = 0; by_region && i < p->nregions; i++)
        set_release(&by_region[i]);
    free(by_region);
    set_release(&all);
    if (rc)
        store_trace_release(t);
    return rc;
}
