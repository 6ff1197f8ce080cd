/*
 * task_yaml.c - libyaml helpers of the task loader: located messages, typed
 * scalars, the mapping walker with did-you-mean, and the bounds pre-scan.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/suggest.h"
#include "core/units.h"
#include "task/task_parse.h"

struct task_mark y_mark(const yaml_node_t *n)
{
    struct task_mark m = {1, 1};
    if (n) {
        m.line = (unsigned)n->start_mark.line + 1;
        m.col = (unsigned)n->start_mark.column + 1;
    }
    return m;
}

enum skyc_err y_fail(struct yctx *c, const yaml_node_t *n, const char *fmt,
                     ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    struct task_mark m = y_mark(n);
    return skyc_fail(c->err, SKYC_E_INPUT, "%s:%u:%u: %s", c->file, m.line,
                     m.col, what);
}

yaml_node_t *y_node(struct yctx *c, int id)
{
    return yaml_document_get_node(c->doc, id);
}

const char *y_text(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

bool y_is_null(const yaml_node_t *n)
{
    if (!n)
        return true;
    if (n->type != YAML_SCALAR_NODE ||
        n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
        if (!strcmp(y_text(n), nulls[i]))
            return true;
    return false;
}

const char *y_describe(const yaml_node_t *n, char *buf, size_t size)
{
    if (!n || y_is_null(n))
        return "nothing";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    const char *s = y_text(n);
    size_t len = strlen(s);
    if (len > 40)
        snprintf(buf, size, "'%.40s...'", s);
    else
        snprintf(buf, size, "'%s'", s);
    return buf;
}

/* A scalar or a type error "field: expected WHAT, got ...". */
static enum skyc_err want_scalar(struct yctx *c, const yaml_node_t *n,
                                 const char *field, const char *what)
{
    if (n->type == YAML_SCALAR_NODE)
        return SKYC_OK;
    char buf[64];
    return y_fail(c, n, "%s: expected %s, got %s", field, what,
                  y_describe(n, buf, sizeof(buf)));
}

enum skyc_err y_string(struct yctx *c, const yaml_node_t *n,
                       const char *field, char **out)
{
    if (want_scalar(c, n, field, "a string"))
        return SKYC_E_INPUT;
    free(*out);
    *out = y_is_null(n) ? NULL : xstrdup(y_text(n));
    return SKYC_OK;
}

enum skyc_err y_bool(struct yctx *c, const yaml_node_t *n, const char *field,
                     bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (want_scalar(c, n, field, "true or false"))
        return SKYC_E_INPUT;
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(y_text(n), yes[i])) {
            *out = true;
            return SKYC_OK;
        }
        if (!strcasecmp(y_text(n), no[i])) {
            *out = false;
            return SKYC_OK;
        }
    }
    char buf[64];
    return y_fail(c, n, "%s: expected true or false, got %s", field,
                  y_describe(n, buf, sizeof(buf)));
}

enum skyc_err y_long(struct yctx *c, const yaml_node_t *n, const char *field,
                     long min, long max, long *out)
{
    if (want_scalar(c, n, field, "a whole number"))
        return SKYC_E_INPUT;
    if (parse_long_range(y_text(n), min, max, out))
        return SKYC_OK;
    char buf[64];
    return y_fail(c, n, "%s: expected a whole number from %ld to %ld, got %s",
                  field, min, max, y_describe(n, buf, sizeof(buf)));
}

enum skyc_err y_number(struct yctx *c, const yaml_node_t *n,
                       const char *field, double *out)
{
    if (want_scalar(c, n, field, "a number"))
        return SKYC_E_INPUT;
    if (parse_nonneg_double(y_text(n), out))
        return SKYC_OK;
    char buf[64];
    return y_fail(c, n, "%s: expected a number >= 0, got %s", field,
                  y_describe(n, buf, sizeof(buf)));
}

/* Count a visited node against the file's budget (aliases can repeat). */
enum skyc_err y_visit(struct yctx *c, const yaml_node_t *n)
{
    if (++c->visits <= TASK_MAX_VISITS)
        return SKYC_OK;
    return y_fail(c, n, "document too large: more than %d nodes walked "
                        "(aliases count each time they are used)",
                  TASK_MAX_VISITS);
}

enum skyc_err y_kv_map(struct yctx *c, const yaml_node_t *n,
                       const char *field, struct task_kv **out, size_t *nout)
{
    char buf[64];
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type != YAML_MAPPING_NODE)
        return y_fail(c, n, "%s: expected a mapping of names to values, got %s",
                      field, y_describe(n, buf, sizeof(buf)));
    size_t alloc = 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
        if (y_visit(c, k))
            return SKYC_E_INPUT;
        if (k->type != YAML_SCALAR_NODE || y_is_null(k))
            return y_fail(c, k, "%s: expected a name, got %s", field,
                          y_describe(k, buf, sizeof(buf)));
        for (size_t i = 0; i < *nout; i++)
            if (!strcmp((*out)[i].key, y_text(k)))
                return y_fail(c, k, "%s: duplicate key '%s'", field,
                              y_text(k));
        if (v->type != YAML_SCALAR_NODE)
            return y_fail(c, v, "%s.%s: expected a string or number, got %s",
                          field, y_text(k), y_describe(v, buf, sizeof(buf)));
        ALLOC_GROW(*out, *nout + 1, alloc);
        (*out)[*nout].key = xstrdup(y_text(k));
        (*out)[*nout].value = xstrdup(y_is_null(v) ? "" : y_text(v));
        (*nout)++;
    }
    return SKYC_OK;
}

enum skyc_err y_string_list(struct yctx *c, const yaml_node_t *n,
                            const char *field, char ***out, size_t *nout,
                            struct task_mark **marks)
{
    char buf[64];
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type == YAML_MAPPING_NODE)
        return y_fail(c, n, "%s: expected a string or a list of strings, "
                            "got a mapping", field);
    if (n->type == YAML_SCALAR_NODE) {
        *out = xmalloc(sizeof(**out));
        (*out)[0] = xstrdup(y_text(n));
        *marks = xmalloc(sizeof(**marks));
        (*marks)[0] = y_mark(n);
        *nout = 1;
        return SKYC_OK;
    }
    size_t count = (size_t)(n->data.sequence.items.top -
                            n->data.sequence.items.start);
    *out = xcalloc(count ? count : 1, sizeof(**out));
    *marks = xcalloc(count ? count : 1, sizeof(**marks));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = y_node(c, n->data.sequence.items.start[i]);
        if (y_visit(c, item))
            return SKYC_E_INPUT;
        if (item->type != YAML_SCALAR_NODE || y_is_null(item))
            return y_fail(c, item, "%s[%zu]: expected a string, got %s",
                          field, i, y_describe(item, buf, sizeof(buf)));
        (*out)[i] = xstrdup(y_text(item));
        (*marks)[i] = y_mark(item);
        *nout = i + 1;
    }
    return SKYC_OK;
}

enum skyc_err y_walk_map(struct yctx *c, const yaml_node_t *n,
                         const char *where, const char *const *keys,
                         y_field_fn fn, void *ud)
{
    char buf[64];
    if (n->type != YAML_MAPPING_NODE)
        return y_fail(c, n, "%s: expected a mapping of fields, got %s", where,
                      y_describe(n, buf, sizeof(buf)));
    size_t nkeys = 0;
    while (keys[nkeys])
        nkeys++;
    struct task_mark seen[64] = {{0, 0}};
    if (nkeys > ARRAY_SIZE(seen))
        return skyc_fail(c->err, SKYC_E_INTERNAL, "too many keys in a table");
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
        if (y_visit(c, k))
            return SKYC_E_INPUT;
        if (k->type != YAML_SCALAR_NODE)
            return y_fail(c, k, "%s: expected a field name, got %s", where,
                          y_describe(k, buf, sizeof(buf)));
        size_t i = 0;
        while (i < nkeys && strcmp(keys[i], y_text(k)))
            i++;
        if (i == nkeys) {
            const char *near = suggest_nearest(y_text(k), keys);
            if (near)
                return y_fail(c, k, "unknown field '%s' in %s (did you mean "
                                    "'%s'?)",
                              y_text(k), where, near);
            return y_fail(c, k, "unknown field '%s' in %s", y_text(k), where);
        }
        if (seen[i].line)
            return y_fail(c, k, "%s: '%s' given twice (first at %u:%u)",
                          where, keys[i], seen[i].line, seen[i].col);
        seen[i] = y_mark(k);
        if (fn(c, i, k, v, ud))
            return SKYC_E_INPUT;
    }
    return SKYC_OK;
}

/* 1-based line and column of a byte offset in text. */
static struct task_mark offset_mark(const char *text, size_t len, size_t off)
{
    struct task_mark m = {1, 1};
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            m.line++;
            m.col = 1;
        } else {
            m.col++;
        }
    }
    return m;
}

enum skyc_err y_parser_fail(const yaml_parser_t *p, const char *file,
                            const char *text, size_t len,
                            struct skyc_error *err)
{
    const char *problem = p->problem ? p->problem : "invalid YAML";
    if (p->error == YAML_MEMORY_ERROR)
        return skyc_fail(err, SKYC_E_INPUT, "%s: out of memory parsing YAML",
                         file);
    if (p->error == YAML_READER_ERROR) {
        struct task_mark m = offset_mark(text, len, p->problem_offset);
        return skyc_fail(err, SKYC_E_INPUT, "%s:%u:%u: %s (the file must "
                                            "be UTF-8 text)",
                         file, m.line, m.col, problem);
    }
    unsigned line = (unsigned)p->problem_mark.line + 1;
    unsigned col = (unsigned)p->problem_mark.column + 1;
    if (p->context)
        return skyc_fail(err, SKYC_E_INPUT, "%s:%u:%u: %s (%s at %u:%u)",
                         file, line, col, problem, p->context,
                         (unsigned)p->context_mark.line + 1,
                         (unsigned)p->context_mark.column + 1);
    return skyc_fail(err, SKYC_E_INPUT, "%s:%u:%u: %s", file, line, col,
                     problem);
}

enum skyc_err y_prescan(const char *text, size_t len, const char *file,
                        struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return skyc_fail(err, SKYC_E_INTERNAL, "cannot initialise libyaml");
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    unsigned depth = 0, docs = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            y_parser_fail(&p, file, text, len, err);
            goto out;
        }
        yaml_event_type_t type = ev.type;
        unsigned line = (unsigned)ev.start_mark.line + 1;
        unsigned col = (unsigned)ev.start_mark.column + 1;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type == YAML_SEQUENCE_START_EVENT ||
            type == YAML_MAPPING_START_EVENT) {
            if (++depth > TASK_MAX_DEPTH) {
                skyc_fail(err, SKYC_E_INPUT,
                          "%s:%u:%u: nesting deeper than %d levels", file,
                          line, col, TASK_MAX_DEPTH);
                goto out;
            }
        } else if (type == YAML_SEQUENCE_END_EVENT ||
                   type == YAML_MAPPING_END_EVENT) {
            depth--;
        } else if (type == YAML_DOCUMENT_START_EVENT) {
            if (++docs > TASK_MAX_DOCUMENTS) {
                skyc_fail(err, SKYC_E_INPUT,
                          "%s:%u:%u: more than %d documents in one file",
                          file, line, col, TASK_MAX_DOCUMENTS);
                goto out;
            }
        }
    }
    rc = SKYC_OK;
out:
    yaml_parser_delete(&p);
    return rc;
}
