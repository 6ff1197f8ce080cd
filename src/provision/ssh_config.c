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
#include "provision/yaml_config.h"

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

static enum skyc_err number(struct ycfg *c, const yaml_node_t *n,
                            const char *key, double *out)
{
    const char *s;
    if (ycfg_want(c, n, key, &s))
        return SKYC_E_INPUT;
    if (!parse_nonneg_double(s, out) || *out > 1e6)
        return ycfg_fail(c, n, "%s: expected a number >= 0, got '%s'", key, s);
    return SKYC_OK;
}

#define PAIRS(map, pair)                                                       \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;            \
         pair < (map)->data.mapping.pairs.top; pair++)
#define KEY(c, pair) yaml_document_get_node((c)->doc, (pair)->key)
#define VAL(c, pair) yaml_document_get_node((c)->doc, (pair)->value)

static enum skyc_err parse_labels(struct ycfg *c, const yaml_node_t *map,
                                  struct ssh_host *h)
{
    static const char *const keys[] = {"cpus", "gpus", "accelerator",
                                       "region", "hourly_price", NULL};
    if (map->type != YAML_MAPPING_NODE)
        return ycfg_fail(c, map, "labels: expected a mapping (cpus, gpus, "
                             "accelerator, region, hourly_price)");
    PAIRS(map, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = ycfg_scalar(kn), *s;
        if (!ycfg_key_known(k, keys))
            return ycfg_unknown_key(c, kn, "labels", keys);
        if (!strcmp(k, "accelerator") || !strcmp(k, "region")) {
            if (ycfg_want(c, vn, k, &s))
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

static enum skyc_err parse_host(struct ycfg *c, const yaml_node_t *map,
                                struct ssh_config *cfg)
{
    static const char *const keys[] = {"name", "host", "port", "user",
                                       "identity_file", "workdir_root",
                                       "labels", NULL};
    struct ssh_host h = {0};
    enum skyc_err rc = SKYC_E_INPUT;
    if (map->type != YAML_MAPPING_NODE) {
        ycfg_fail(c, map, "hosts: each entry must be a mapping with at least "
                      "'host'");
        goto out;
    }
    PAIRS(map, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = ycfg_scalar(kn), *s;
        if (!ycfg_key_known(k, keys)) {
            ycfg_unknown_key(c, kn, "hosts", keys);
            goto out;
        }
        if (!strcmp(k, "labels")) {
            if (parse_labels(c, vn, &h))
                goto out;
            continue;
        }
        if (ycfg_want(c, vn, k, &s))
            goto out;
        if (!strcmp(k, "port")) {
            if (!parse_long_range(s, 1, 65535, &h.port)) {
                ycfg_fail(c, vn, "port: expected 1..65535, got '%s'", s);
                goto out;
            }
            continue;
        }
        if (strchr(s, '\n') || (s[0] == '-' && strcmp(k, "workdir_root"))) {
            ycfg_fail(c, vn, "%s: bad value '%s'", k, s);
            goto out;
        }
        if (!strcmp(k, "name") && !valid_host_name(s)) {
            ycfg_fail(c, vn, "name: '%s' may only use letters, digits, '-', '_', "
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
        ycfg_fail(c, map, "hosts: each entry needs 'host' (an address or name)");
        goto out;
    }
    if (!h.name) {
        h.name = h.port ? xasprintf("%s:%ld", h.host, h.port)
                        : xstrdup(h.host);
        if (!valid_host_name(h.name)) {
            ycfg_fail(c, map, "hosts: give this host a 'name' (letters, digits, "
                          "'-', '_', '.', ':')");
            goto out;
        }
    }
    for (size_t i = 0; i < cfg->nhosts; i++)
        if (!strcmp(cfg->hosts[i].name, h.name)) {
            ycfg_fail(c, map, "hosts: two hosts named '%s' (give each a unique "
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

static enum skyc_err parse_root(struct ycfg *c, const yaml_node_t *root,
                                struct ssh_config *cfg)
{
    static const char *const keys[] = {"hosts", "ssh_options",
                                       "connect_timeout", NULL};
    if (!root || (root->type == YAML_SCALAR_NODE && !*ycfg_scalar(root)))
        return ycfg_fail(c, root, "no hosts (add a 'hosts:' list)");
    if (root->type != YAML_MAPPING_NODE)
        return ycfg_fail(c, root, "the ssh config must be a mapping with "
                              "'hosts:'");
    PAIRS(root, pair) {
        const yaml_node_t *kn = KEY(c, pair), *vn = VAL(c, pair);
        const char *k = ycfg_scalar(kn), *s;
        if (!ycfg_key_known(k, keys))
            return ycfg_unknown_key(c, kn, "ssh config", keys);
        if (!strcmp(k, "connect_timeout")) {
            if (ycfg_want(c, vn, k, &s))
                return SKYC_E_INPUT;
            if (!parse_long_range(s, 1, 600, &cfg->connect_timeout))
                return ycfg_fail(c, vn, "connect_timeout: expected 1..600 "
                                    "seconds, got '%s'",
                             s);
            continue;
        }
        if (vn->type != YAML_SEQUENCE_NODE)
            return ycfg_fail(c, vn, "%s: expected a list", k);
        for (yaml_node_item_t *it = vn->data.sequence.items.start;
             it < vn->data.sequence.items.top; it++) {
            yaml_node_t *e = yaml_document_get_node(c->doc, *it);
            if (!strcmp(k, "hosts")) {
                if (parse_host(c, e, cfg))
                    return SKYC_E_INPUT;
                continue;
            }
            if (ycfg_want(c, e, "ssh_options", &s))
                return SKYC_E_INPUT;
            if (!strchr(s, '=') || s[0] == '-' || strchr(s, '\n'))
                return ycfg_fail(c, e, "ssh_options: expected Name=value, got "
                                   "'%s'",
                             s);
            cfg->options = xreallocarray(cfg->options, cfg->noptions + 1,
                                         sizeof(*cfg->options));
            cfg->options[cfg->noptions++] = xstrdup(s);
        }
    }
    if (!cfg->nhosts)
        return ycfg_fail(c, root, "no hosts (add a 'hosts:' list)");
    return SKYC_OK;
}

static enum skyc_err parse_root_cb(struct ycfg *c, const yaml_node_t *root,
                                   void *cfg)
{
    return parse_root(c, root, cfg);
}

enum skyc_err ssh_config_parse(const char *name, const char *text, size_t len,
                               struct ssh_config *cfg, struct skyc_error *err)
{
    ssh_config_init(cfg);
    enum skyc_err rc = ycfg_parse(name, text, len, parse_root_cb, cfg, err);
    if (rc == SKYC_OK)
        cfg->path = xstrdup(name);
    else
        ssh_config_release(cfg);
    return rc;
}
