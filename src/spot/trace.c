/*
 * trace.c - reading spot traces (see trace.h for the two formats).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "spot/trace.h"

#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>

#define TRACE_MAX_TICKS (10u * 1000 * 1000)

bool trace_format_by_name(const char *s, enum trace_format *f)
{
    if (!strcmp(s, "auto"))
        *f = TRACE_AUTO;
    else if (!strcmp(s, "window"))
        *f = TRACE_WINDOW;
    else if (!strcmp(s, "count"))
        *f = TRACE_COUNT;
    else
        return false;
    return true;
}

const char *trace_format_name(enum trace_format f)
{
    return f == TRACE_WINDOW ? "window" : f == TRACE_COUNT ? "count" : "auto";
}

void spot_trace_release(struct spot_trace *t)
{
    free(t->path);
    free(t->avail);
    memset(t, 0, sizeof(*t));
}

static const char *const trace_hint =
    "expected {\"metadata\": {\"gap_seconds\": N}, \"data\": [0, 1, ...]}";

enum skyc_err spot_trace_parse(struct spot_trace *t, const char *text,
                               size_t len, const char *name,
                               const struct trace_read_opts *o,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    memset(t, 0, sizeof(*t));
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        skyc_fail(err, SKYC_E_INPUT, "%s:%d:%d: %s (%s)", name, je.line,
                  je.column, je.text, trace_hint);
        goto out;
    }
    if (!json_is_object(root)) {
        skyc_fail(err, SKYC_E_INPUT, "%s: the trace is not a JSON object (%s)",
                  name, trace_hint);
        goto out;
    }
    json_t *meta = json_object_get(root, "metadata");
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(meta)) {
        skyc_fail(err, SKYC_E_INPUT, "%s: no \"metadata\" object (%s)", name,
                  trace_hint);
        goto out;
    }
    json_t *gap = json_object_get(meta, "gap_seconds");
    if (!json_is_number(gap) || !(json_number_value(gap) > 0) ||
        !isfinite(json_number_value(gap)) || json_number_value(gap) > 86400) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s: metadata.gap_seconds must be a number of seconds in "
                  "(0, 86400] (%s)",
                  name, trace_hint);
        goto out;
    }
    if (!json_is_array(data) || json_array_size(data) == 0) {
        skyc_fail(err, SKYC_E_INPUT, "%s: no non-empty \"data\" array (%s)",
                  name, trace_hint);
        goto out;
    }
    if (json_array_size(data) > TRACE_MAX_TICKS) {
        skyc_fail(err, SKYC_E_INPUT, "%s: %zu ticks is more than %u", name,
                  json_array_size(data), TRACE_MAX_TICKS);
        goto out;
    }
    enum trace_format f = o ? o->format : TRACE_AUTO;
    if (f == TRACE_AUTO)
        f = json_object_get(root, "generator") ||
                    json_object_get(meta, "start_time")
                ? TRACE_WINDOW
                : TRACE_COUNT;
    long nodes = o && o->nodes > 0 ? o->nodes : 1;
    t->n = json_array_size(data);
    t->avail = xmalloc(t->n);
    for (size_t i = 0; i < t->n; i++) {
        json_t *v = json_array_get(data, i);
        json_int_t x;
        if (json_is_integer(v))
            x = json_integer_value(v);
        else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)) &&
                 fabs(json_real_value(v)) < 1e9)
            x = (json_int_t)json_real_value(v);
        else {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s: data[%zu] is not a whole number (each tick is an "
                      "instance count or a 0/1 flag)",
                      name, i);
            goto out;
        }
        if (f == TRACE_WINDOW && x != 0 && x != 1) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s: data[%zu] is %" JSON_INTEGER_FORMAT
                      ", but a window trace holds 0 (available) or 1 "
                      "(preempted); use --trace-format count for counts",
                      name, i, x);
            goto out;
        }
        if (x < 0) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s: data[%zu] is %" JSON_INTEGER_FORMAT
                      ", a negative instance count",
                      name, i, x);
            goto out;
        }
        t->avail[i] = f == TRACE_WINDOW ? (x == 0) : (x >= nodes);
    }
    t->gap = json_number_value(gap);
    t->format = f;
    t->path = xstrdup(name);
    rc = SKYC_OK;
out:
    json_decref(root);
    if (rc)
        spot_trace_release(t);
    return rc;
}

enum skyc_err spot_trace_load(struct spot_trace *t, const char *path,
                              const struct trace_read_opts *o,
                              struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    enum skyc_err rc;
    memset(t, 0, sizeof(*t));
    if (strbuf_read_file(&sb, path) < 0) {
        rc = skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                       "cannot read trace '%s': %s", path, strerror(errno));
        goto out;
    }
    rc = spot_trace_parse(t, sb.buf, sb.len, path, o, err);
out:
    strbuf_release(&sb);
    return rc;
}

/* Compare paths with digit runs as numbers, so 2.json < 10.json. */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10);
            unsigned long long y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_paths(const void *x, const void *y)
{
    return natural_cmp(*(char *const *)x, *(char *const *)y);
}

struct path_list {
    char **v;
    size_t n, alloc;
};

static enum skyc_err walk(const char *dir, struct path_list *pl, int depth,
                          struct skyc_error *err)
{
    if (depth > 16)
        return skyc_fail(err, SKYC_E_INPUT, "'%s': directories nest too deep",
                         dir);
    DIR *d = opendir(dir);
    if (!d)
        return skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                         "cannot open trace directory '%s': %s", dir,
                         strerror(errno));
    enum skyc_err rc = SKYC_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = path_join(dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (path_is_dir(p)) {
            rc = walk(p, pl, depth + 1, err);
            free(p);
            if (rc)
                break;
        } else if (len > 5 && !strcmp(e->d_name + len - 5, ".json")) {
            ALLOC_GROW(pl->v, pl->n + 1, pl->alloc);
            pl->v[pl->n++] = p;
        } else {
            free(p);
        }
    }
    closedir(d);
    return rc;
}

/* The set a file belongs to, from its path relative to the root. */
static char *set_name(const char *root, const char *path,
                      enum trace_format f)
{
    size_t rl = strlen(root);
    const char *rel = path + rl;
    while (*rel == '/')
        rel++;
    char *s = xstrdup(rel);
    char *slash = strrchr(s, '/');
    if (f == TRACE_COUNT || !slash) {
        /* the file is the set: its path without ".json" */
        size_t n = strlen(s);
        if (n > 5)
            s[n - 5] = '\0';
        if (!slash && f != TRACE_COUNT) {
            /* windows straight in the root: the set is the root's name */
            free(s);
            char *r = xstrdup(root);
            size_t rn = strlen(r);
            while (rn > 1 && r[rn - 1] == '/')
                r[--rn] = '\0';
            const char *b = strrchr(r, '/');
            char *name = xstrdup(b ? b + 1 : r);
            free(r);
            return name;
        }
        return s;
    }
    *slash = '\0';
    char *tr = strstr(s, "/traces/random_start");
    if (tr && tr[strlen("/traces/random_start")] == '\0')
        *tr = '\0';
    return s;
}

void trace_sets_release(struct trace_sets *ts)
{
    for (size_t i = 0; i < ts->n; i++) {
        for (size_t k = 0; k < ts->sets[i].n; k++)
            spot_trace_release(&ts->sets[i].traces[k]);
        free(ts->sets[i].traces);
        free(ts->sets[i].name);
    }
    free(ts->sets);
    memset(ts, 0, sizeof(*ts));
}

static int cmp_sets(const void *x, const void *y)
{
    return natural_cmp(((const struct trace_set *)x)->name,
                       ((const struct trace_set *)y)->name);
}

enum skyc_err trace_sets_load(struct trace_sets *ts, const char *dir,
                              const struct trace_read_opts *o,
                              struct skyc_error *err)
{
    struct path_list pl = {0};
    enum skyc_err rc;
    memset(ts, 0, sizeof(*ts));
    if (path_is_file(dir)) {
        ALLOC_GROW(pl.v, 1, pl.alloc);
        pl.v[pl.n++] = xstrdup(dir);
        rc = SKYC_OK;
    } else {
        rc = walk(dir, &pl, 0, err);
    }
    if (rc)
        goto out;
    if (!pl.n) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no *.json traces under '%s' (try "
                       "$SKYC_SHARED_DATA/spot-traces/"
                       "adrs-cant-be-late-windows/windows_48h_task)",
                       dir);
        goto out;
    }
    qsort(pl.v, pl.n, sizeof(*pl.v), cmp_paths);
    struct trace_set *cur = NULL;
    for (size_t i = 0; i < pl.n; i++) {
        struct spot_trace t;
        rc = spot_trace_load(&t, pl.v[i], o, err);
        if (rc)
            goto out;
        char *name = path_is_file(dir) ? NULL : set_name(dir, pl.v[i], t.format);
        if (!name) {
            const char *b = strrchr(pl.v[i], '/');
            name = xstrdup(b ? b + 1 : pl.v[i]);
            size_t n = strlen(name);
            if (n > 5)
                name[n - 5] = '\0';
        }
        if (!cur || strcmp(cur->name, name)) {
            cur = NULL;
            for (size_t k = 0; k < ts->n; k++)
                if (!strcmp(ts->sets[k].name, name))
                    cur = &ts->sets[k];
            if (!cur) {
                ALLOC_GROW(ts->sets, ts->n + 1, ts->alloc);
                cur = &ts->sets[ts->n++];
                memset(cur, 0, sizeof(*cur));
                cur->name = name;
                name = NULL;
            }
        }
        free(name);
        ALLOC_GROW(cur->traces, cur->n + 1, cur->alloc);
        cur->traces[cur->n++] = t;
    }
    qsort(ts->sets, ts->n, sizeof(*ts->sets), cmp_sets);
out:
    for (size_t i = 0; i < pl.n; i++)
        free(pl.v[i]);
    free(pl.v);
    if (rc)
        trace_sets_release(ts);
    return rc;
}
