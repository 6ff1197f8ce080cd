/*
 * ssh_config.c - the ssh provider's host pool file (YAML, libyaml); the
 * format is in ssh.h.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "core/units.h"
#include "provision/ssh.h"

#include <ctype.h>
#include <yaml.h>

void ssh_config_init(struct ssh_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->connect_timeout = 10;
}

static void host_release(struct ssh_host *h)
{
    free(h->name);
    free(h->host);
    free(h->user);
    free(h->identity_file);
    free(h->workdir_root);
    free(h->region);
    free(h->accelerator);
}

void ssh_config_release(struct ssh_config *cfg)
{
    for (size_t i = 0; i < cfg->nhosts; i++)
        host_release(&cfg->hosts[i]);
    free(cfg->hosts);
    for (size_t i = 0; i < cfg->noptions; i++)
        free(cfg->options[i]);
    free(cfg->options);
    free(cfg->path);
    ssh_config_init(cfg);
}

struct yc {
    const char *file;
    yaml_document_t *doc;
    struct skyc_error *err;
};

static enum skyc_err yfail(struct yc *c, const yaml_node_t *n,
                           const char *fmt, ...) SKYC_PRINTF(3, 4);
static enum skyc_err yfail(struct yc *c, const yaml_node_t *n,
                           const char *fmt, ...)
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

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value
                                            : NULL;
}

static enum skyc_err want(struct yc *c, const yaml_node_t *n, const char *key,
                          const char **out)
{
    *out = scalar(n);
    if (!*out || !**out)
        return yfail(c, n, "%s: expected a value", key);
    return SKYC_OK;
}

static enum skyc_err unknown(struct yc *c, const yaml_node_t *kn,
                             const char *where, const char *const *keys)
{
    const char *k = scalar(kn);
    const char *near = k ? suggest_nearest(k, keys) : NULL;
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; keys[i]; i++)
        strbuf_addf(&sb, "%s%s", i ? ", " : "", keys[i]);
    enum skyc_err rc =
        near ? yfail(c, kn, "%s: unknown key '%s' (did you mean '%s'?)", where,
                     k ? k : "?", near)
             : yfail(c, kn, "%s: unknown key '%s' (known: %s)", where,
                     k ? k : "?", sb.buf);
    strbuf_release(&sb);
    return rc;
}

static bool known(const char *k, const char *const *keys)
{
    for (size_t i = 0; k && keys[i]; i++)
        if (!strcmp(k, keys[i]))
            return true;
    return false;
}

static enum skyc_err number(struct yc *c, const yaml_node_t *n,
                            const char *key, double *out)
{
    const char *s;
    if (want(c, n, key, &s))
        return SKYC_E_INPUT;
    if (!parse_nonneg_double(s, out) || *out > 1e6)
        return yfail(c, n, "%s: expected a number >= 0, got '%s'", key, s);
    return SKYC_OK;
}

#define PAIRS(map, pair)                                                       \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;            \
         pair < (map)->data.mapping.pairs.top; pair++)
#define KEY(c, pair) yaml_document_get_node((c)->doc, (pair)->key)
#define VAL(c, pair) yaml_document_get_node((c)->doc, (pair)->value)

static enum skyc_err parse_labels(struct yc *c, const yaml_node_t *map,
                                  struct ssh_host *h)
{
    static const char *const keys[] = {"cpus", "gpus", "accelerator",
                                       "region", "hourly_price", NULL};
    if (map->type != YAML_MAPPING_NODE)
        return yfail(c, map, "labels: expected a mapping (cpus, gpus, "
                             "accelerator, region, hourly_price)");
    PAIRS(map, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = scalar(kn), *s;
        if (!known(k, keys))
            return unknown(c, kn, "labels", keys);
        if (!strcmp(k, "accelerator") || !strcmp(k, "region")) {
            if (want(c, vn, k, &s))
                return SKYC_E_INPUT;
            char **dst = !strcmp(k, "region") ? &h->region : &h->accelerator;
            free(*dst);
            *dst = xstrdup(s);
        } else if (number(c, vn, k,
                          !strcmp(k, "cpus")   ? &h->cpus
                          : !strcmp(k, "gpus") ? &h->gpus
                                               : &h->hourly_price))
            return SKYC_E_INPUT;
    }
    return SKYC_OK;
}

static bool valid_host_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || strchr("-_.:", *s)))
            return false;
    return true;
}

static enum skyc_err parse_host(struct yc *c, const yaml_node_t *map,
                                struct ssh_config *cfg)
{
    static const char *const keys[] = {"name", "host", "port", "user",
                                       "identity_file", "workdir_root",
                                       "labels", NULL};
    struct ssh_host h = {0};
    enum skyc_err rc = SKYC_E_INPUT;
    if (map->type != YAML_MAPPING_NODE) {
        yfail(c, map, "hosts: each entry must be a mapping with at least "
                      "'host'");
        goto out;
    }
    PAIRS(map, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = scalar(kn), *s;
        if (!known(k, keys)) {
            unknown(c, kn, "hosts", keys);
            goto out;
        }
        if (!strcmp(k, "labels")) {
            if (parse_labels(c, vn, &h))
                goto out;
            continue;
        }
        if (want(c, vn, k, &s))
            goto out;
        if (!strcmp(k, "port")) {
            if (!parse_long_range(s, 1, 65535, &h.port)) {
                yfail(c, vn, "port: expected 1..65535, got '%s'", s);
                goto out;
            }
            continue;
        }
        if (strchr(s, '\n') || (s[0] == '-' && strcmp(k, "workdir_root"))) {
            yfail(c, vn, "%s: bad value '%s'", k, s);
            goto out;
        }
        if (!strcmp(k, "name") && !valid_host_name(s)) {
            yfail(c, vn, "name: '%s' may only use letters, digits, '-', '_', "
                         "'.', ':' (at most 64)",
                  s);
            goto out;
        }
        char **dst = !strcmp(k, "name")            ? &h.name
                     : !strcmp(k, "host")          ? &h.host
                     : !strcmp(k, "user")          ? &h.user
                     : !strcmp(k, "identity_file") ? &h.identity_file
                                                   : &h.workdir_root;
        free(*dst);
        *dst = xstrdup(s);
    }
    if (!h.host) {
        yfail(c, map, "hosts: each entry needs 'host' (an address or name)");
        goto out;
    }
    if (!h.name) {
        h.name = h.port ? xasprintf("%s:%ld", h.host, h.port)
                        : xstrdup(h.host);
        if (!valid_host_name(h.name)) {
            yfail(c, map, "hosts: give this host a 'name' (letters, digits, "
                          "'-', '_', '.', ':')");
            goto out;
        }
    }
    for (size_t i = 0; i < cfg->nhosts; i++)
        if (!strcmp(cfg->hosts[i].name, h.name)) {
            yfail(c, map, "hosts: two hosts named '%s' (give each a unique "
                          "'name')",
                  h.name);
            goto out;
        }
    if (!h.workdir_root)
        h.workdir_root = xstrdup("~/.skyc/nodes");
    cfg->hosts = xreallocarray(cfg->hosts, cfg->nhosts + 1,
                               sizeof(*cfg->hosts));
    cfg->hosts[cfg->nhosts++] = h;
    memset(&h, 0, sizeof(h));
    rc = SKYC_OK;
out:
    host_release(&h);
    return rc;
}

static enum skyc_err parse_root(struct yc *c, const yaml_node_t *root,
                                struct ssh_config *cfg)
{
    static const char *const keys[] = {"hosts", "ssh_options",
                                       "connect_timeout", NULL};
    if (!root || (root->type == YAML_SCALAR_NODE && !*scalar(root)))
        return yfail(c, root, "no hosts (add a 'hosts:' list)");
    if (root->type != YAML_MAPPING_NODE)
        return yfail(c, root, "the ssh config must be a mapping with "
                              "'hosts:'");
    PAIRS(root, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = scalar(kn), *s;
        if (!known(k, keys))
            return unknown(c, kn, "ssh config", keys);
        if (!strcmp(k, "connect_timeout")) {
            if (want(c, vn, k, &s))
                return SKYC_E_INPUT;
            if (!parse_long_range(s, 1, 600, &cfg->connect_timeout))
                return yfail(c, vn, "connect_timeout: expected 1..600 "
                                    "seconds, got '%s'",
                             s);
            continue;
        }
        if (vn->type != YAML_SEQUENCE_NODE)
            return yfail(c, vn, "%s: expected a list", k);
        for (yaml_node_item_t *it = vn->data.sequence.items.start;
             it < vn->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(c->doc, *it);
            if (!strcmp(k, "hosts")) {
                if (parse_host(c, e, cfg))
                    return SKYC_E_INPUT;
                continue;
            }
            if (want(c, e, "ssh_options", &s))
                return SKYC_E_INPUT;
            if (!strchr(s, '=') || s[0] == '-' || strchr(s, '\n'))
                return yfail(c, e, "ssh_options: expected Name=value, got "
                                   "'%s'",
                             s);
            cfg->options = xreallocarray(cfg->options, cfg->noptions + 1,
                                         sizeof(*cfg->options));
            cfg->options[cfg->noptions++] = xstrdup(s);
        }
    }
    if (!cfg->nhosts)
        return yfail(c, root, "no hosts (add a 'hosts:' list)");
    return SKYC_OK;
}

enum skyc_err ssh_config_parse(const char *name, const char *text, size_t len,
                               struct ssh_config *cfg, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool have_doc = false;
    struct yc c = {name, &doc, err};
    ssh_config_init(cfg);
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        skyc_fail(err, SKYC_E_INPUT, "%s:%zu:%zu: bad YAML: %s", name,
                  parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                  parser.problem ? parser.problem : "syntax error");
        goto out;
    }
    have_doc = true;
    if (parse_root(&c, yaml_document_get_root_node(&doc), cfg))
        goto out;
    cfg->path = xstrdup(name);
    rc = SKYC_OK;
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != SKYC_OK)
        ssh_config_release(cfg);
    return rc;
}
