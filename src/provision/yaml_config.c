/* yaml_config.c - shared YAML config loading for providers (see the .h). */
#include "core/common.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "provision/yaml_config.h"

#include <stdarg.h>

enum skyc_err ycfg_fail(struct ycfg *c, const yaml_node_t *n, const char *fmt,
                        ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return skyc_fail(c->err, SKYC_E_INPUT, "%s:%zu:%zu: %s", c->file,
                     n ? n->start_mark.line + 1 : 1,
                     n ? n->start_mark.column + 1 : 1, what);
}

const char *ycfg_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

enum skyc_err ycfg_want(struct ycfg *c, const yaml_node_t *n, const char *key,
                        const char **out)
{
    *out = ycfg_scalar(n);
    if (!*out || !**out)
        return ycfg_fail(c, n, "%s: expected a value", key);
    return SKYC_OK;
}

bool ycfg_key_known(const char *k, const char *const *keys)
{
    for (size_t i = 0; k && keys[i]; i++)
        if (!strcmp(k, keys[i]))
            return true;
    return false;
}

enum skyc_err ycfg_unknown_key(struct ycfg *c, const yaml_node_t *kn,
                               const char *where, const char *const *keys)
{
    const char *k = ycfg_scalar(kn);
    const char *near = k ? suggest_nearest(k, keys) : NULL;
    if (near)
        return ycfg_fail(c, kn, "%s: unknown key '%s' (did you mean '%s'?)",
                         where, k, near);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; keys[i]; i++)
        strbuf_addf(&sb, "%s%s", i ? ", " : "", keys[i]);
    enum skyc_err rc = ycfg_fail(c, kn, "%s: unknown key '%s' (known: %s)",
                                 where, k ? k : "?", sb.buf);
    strbuf_release(&sb);
    return rc;
}

enum skyc_err ycfg_parse(const char *name, const char *text, size_t len,
                         ycfg_root_fn fn, void *arg, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    yaml_parser_t parser;
    yaml_document_t doc;
    struct ycfg c = {name, &doc, err};

    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = skyc_fail(err, SKYC_E_INPUT, "%s:%zu:%zu: bad YAML: %s", name,
                       parser.problem_mark.line + 1,
                       parser.problem_mark.column + 1,
                       parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    rc = fn(&c, yaml_document_get_root_node(&doc), arg);
    yaml_document_delete(&doc);
out:
    yaml_parser_delete(&parser);
    return rc;
}
