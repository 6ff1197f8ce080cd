#include "core/common.h"
#include "core/alloc.h"
#include "catalog/csv.h"

/*
 * Split one record starting at r->p into r->scratch. Returns 1 on success,
 * 0 at end of input, -1 on malformed input.
 */
static int read_record(struct csv_reader *r, struct skyc_error *err)
{
    /* skip blank lines */
    while (r->p < r->end && (*r->p == '\n' || *r->p == '\r')) {
        if (*r->p == '\n')
            r->next_line++;
        r->p++;
    }
    if (r->p >= r->end)
        return 0;
    r->line = r->next_line;
    strbuf_reset(&r->scratch);
    r->nfields = 0;
    size_t start = 0;
    for (;;) {
        ALLOC_GROW(r->offsets, r->nfields + 1, r->offsets_alloc);
        r->offsets[r->nfields++] = start;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    skyc_fail(err, SKYC_E_INPUT,
                              "%s:%u: unterminated quoted field (close the "
                              "quote with \")",
                              r->name, r->line);
                    return -1;
                }
                const char *q = memchr(r->p, '"', (size_t)(r->end - r->p));
                if (!q)
                    q = r->end;
                for (const char *s = r->p; s < q; s++)
                    if (*s == '\n')
                        r->next_line++;
                strbuf_add(&r->scratch, r->p, (size_t)(q - r->p));
                r->p = q;
                if (r->p >= r->end)
                    continue;
                if (r->p + 1 < r->end && r->p[1] == '"') {
                    strbuf_addch(&r->scratch, '"');
                    r->p += 2;
                    continue;
                }
                r->p++; /* closing quote */
                break;
            }
            if (r->p < r->end && *r->p != ',' && *r->p != '\n' &&
                *r->p != '\r') {
                skyc_fail(err, SKYC_E_INPUT,
                          "%s:%u: text after a closing quote in field %zu",
                          r->name, r->line, r->nfields);
                return -1;
            }
        } else {
            const char *s = r->p;
            while (s < r->end && *s != ',' && *s != '\n' && *s != '\r') {
                if (*s == '"') {
                    skyc_fail(err, SKYC_E_INPUT,
                              "%s:%u: stray quote in unquoted field %zu "
                              "(quote the whole field and double inner quotes)",
                              r->name, r->line, r->nfields);
                    return -1;
                }
                s++;
            }
            strbuf_add(&r->scratch, r->p, (size_t)(s - r->p));
            r->p = s;
        }
        strbuf_addch(&r->scratch, '\0');
        start = r->scratch.len;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        /* end of record */
        if (r->p < r->end && *r->p == '\r')
            r->p++;
        if (r->p < r->end && *r->p == '\n') {
            r->p++;
            r->next_line++;
        }
        break;
    }
    ALLOC_GROW(r->fields, r->nfields, r->fields_alloc);
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i] = r->scratch.buf + r->offsets[i];
    return 1;
}

int csv_open(struct csv_reader *r, const char *name, const char *buf,
             size_t len, struct skyc_error *err)
{
    memset(r, 0, sizeof(*r));
    strbuf_init(&r->scratch, 256);
    r->name = name;
    r->p = buf;
    r->end = buf + len;
    r->next_line = 1;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3))
        r->p += 3;
    int rc = read_record(r, err);
    if (rc == 0) {
        skyc_fail(err, SKYC_E_INPUT, "%s:1: empty file (expected a header row)",
                  name);
        return -1;
    }
    if (rc < 0)
        return -1;
    r->nheader = r->nfields;
    r->header = xcalloc(r->nheader, sizeof(*r->header));
    for (size_t i = 0; i < r->nheader; i++)
        r->header[i] = xstrdup(r->fields[i]);
    return 0;
}

int csv_column(const struct csv_reader *r, const char *name)
{
    for (size_t i = 0; i < r->nheader; i++)
        if (!strcmp(r->header[i], name))
            return (int)i;
    return -1;
}

int csv_next(struct csv_reader *r, struct skyc_error *err)
{
    int rc = read_record(r, err);
    if (rc <= 0)
        return rc;
    if (r->nfields < r->nheader) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s:%u: %zu fields, but the header has %zu (every row needs "
                  "a cell, maybe empty, per column)",
                  r->name, r->line, r->nfields, r->nheader);
        return -1;
    }
    /* fold extra fields into the last column: "V1" "V2" -> "V1,V2" */
    for (size_t i = r->nheader; i < r->nfields; i++)
        r->scratch.buf[r->offsets[i] - 1] = ',';
    r->nfields = r->nheader;
    return 1;
}

void csv_release(struct csv_reader *r)
{
    for (size_t i = 0; i < r->nheader; i++)
        free(r->header[i]);
    free(r->header);
    free(r->fields);
    free(r->offsets);
    strbuf_release(&r->scratch);
    memset(r, 0, sizeof(*r));
}

/*
 * Clinger's fast path: "123.456" with at most 15 significant digits is an
 * exact integer over an exact power of ten, and IEEE division rounds that
 * correctly, so the result equals strtod's. Anything else goes to strtod.
 */
static bool fast_decimal(const char *s, double *out)
{
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,
                                   1e6, 1e7, 1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15};
    uint64_t mant = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 15)
            return false;
        mant = mant * 10 + (uint64_t)(*s - '0');
        if (frac >= 0)
            frac++;
    }
    if (!digits)
        return false;
    *out = (double)mant / pow10[frac > 0 ? frac : 0];
    return true;
}

double csv_number(const char *field, bool *ok)
{
    *ok = true;
    if (!*field)
        return NAN;
    double fast;
    if (fast_decimal(field, &fast))
        return fast;
    char *end;
    errno = 0;
    double v = strtod(field, &end);
    if (errno == ERANGE || *end || end == field || isnan(v) || isinf(v)) {
        *ok = false;
        return NAN;
    }
    return v;
}
