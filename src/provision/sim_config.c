/*
 * sim_config.c - the sim provider's fault config (YAML, libyaml) and its
 * spot trace reader (JSON, jansson). Formats are documented in sim.h.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "core/units.h"
#include "provision/sim.h"
#include "provision/yaml_config.h"

#include <jansson.h>
#include <yaml.h>

void sim_config_init(struct sim_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->time_scale = 1.0;
    for (size_t i = 0; i < CLOUD_COUNT; i++)
        cfg->clouds[i] = true;
}

static void match_release(struct sim_match *m)
{
    free(m->region);
    free(m->zone);
    free(m->instance_type);
}

void sim_trace_release(struct sim_trace *tr)
{
    free(tr->path);
    free(tr->avail);
    memset(tr, 0, sizeof(*tr));
}

void sim_config_release(struct sim_config *cfg)
{
    for (size_t i = 0; i < cfg->nfaults; i++)
        match_release(&cfg->faults[i].m);
    for (size_t i = 0; i < cfg->npreempts; i++)
        match_release(&cfg->preempts[i].m);
    for (size_t i = 0; i < cfg->ntraces; i++) {
        match_release(&cfg->traces[i].m);
        sim_trace_release(&cfg->traces[i].trace);
    }
    free(cfg->faults);
    free(cfg->preempts);
    free(cfg->traces);
    free(cfg->path);
    sim_config_init(cfg);
}

int sim_trace_at(const struct sim_trace *tr, long tick)
{
    if (!tr->n)
        return 0;
    long n = (long)tr->n;
    long i = tick % n;
    if (i < 0)
        i += n;
    return tr->avail[i];
}

/* ---- trace reader ------------------------------------------------------ */

enum skyc_err sim_trace_parse(const char *name, const char *text, size_t len,
                              int polarity, struct sim_trace *tr,
                              struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    memset(tr, 0, sizeof(*tr));
    if (!root) {
        skyc_fail(err, SKYC_E_INPUT, "%s:%d:%d: bad spot trace JSON: %s",
                  name, jerr.line, jerr.column, jerr.text);
        goto out;
    }
    json_t *meta = json_object_get(root, "metadata");
    json_t *gap = meta ? json_object_get(meta, "gap_seconds") : NULL;
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(root) || !json_is_number(gap) || !json_is_array(data)) {
        skyc_fail(err, SKYC_E_INPUT,
                  "%s: not a spot trace (want {\"metadata\": "
                  "{\"gap_seconds\": N}, \"data\": [...]})",
                  name);
        goto out;
    }
    double g = json_number_value(gap);
    if (!(g > 0) || !isfinite(g)) {
        skyc_fail(err, SKYC_E_INPUT, "%s: gap_seconds must be > 0, got %g",
                  name, g);
        goto out;
    }
    size_t n = json_array_size(data);
    if (n == 0) {
        skyc_fail(err, SKYC_E_INPUT, "%s: the trace has no data points", name);
        goto out;
    }
    if (polarity < 0)
        polarity = json_object_get(meta, "start_time") ? 0 : 1;
    tr->avail = xcalloc(n, sizeof(*tr->avail));
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(data, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > 1000000) {
            skyc_fail(err, SKYC_E_INPUT,
                      "%s: data[%zu] must be a whole number >= 0", name, i);
            goto out;
        }
        int x = (int)json_integer_value(v);
        tr->avail[i] = polarity ? x : (x ? 0 : 1);
    }
    tr->n = n;
    tr->gap_s = g;
    tr->path = xstrdup(name);
    rc = SKYC_OK;
out:
    if (rc != SKYC_OK)
        sim_trace_release(tr);
    json_decref(root);
    return rc;
}

/* ---- config ------------------------------------------------------------ */

static const char *const match_keys[] = {"cloud", "region", "zone",
                                         "instance_type", "spot"};

/* Parse one match key into m; *used = whether key was a match key. */
static enum skyc_err parse_match_key(struct ycfg *c, const char *k,
                                     const yaml_node_t *v, struct sim_match *m,
                                     bool *used)
{
    const char *s;
    *used = false;
    for (size_t i = 0; i < ARRAY_SIZE(match_keys); i++)
        if (!strcmp(k, match_keys[i]))
            *used = true;
    if (!*used)
        return SKYC_OK;
    if (ycfg_want(c, v, k, &s))
        return SKYC_E_INPUT;
    if (!strcmp(k, "cloud")) {
        m->cloud = cloud_parse(s);
        if (m->cloud < 0)
            return ycfg_fail(c, v,
                         "cloud: unknown cloud '%s' (known: aws, gcp, azure, "
                         "lambda, vast)",
                         s);
    } else if (!strcmp(k, "spot")) {
        if (!strcmp(s, "true") || !strcmp(s, "yes"))
            m->spot = 1;
        else if (!strcmp(s, "false") || !strcmp(s, "no"))
            m->spot = 0;
        else
            return ycfg_fail(c, v, "spot: expected true or false, got '%s'", s);
    } else {
        char **dst = !strcmp(k, "region") ? &m->region
                     : !strcmp(k, "zone") ? &m->zone
                                          : &m->instance_type;
        free(*dst);
        *dst = xstrdup(s);
    }
    return SKYC_OK;
}

#define FOR_PAIRS(c, map, pair)                                                \
    for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;            \
         pair < (map)->data.mapping.pairs.top; pair++)

static char *resolve_path(const char *config, const char *file)
{
    if (file[0] == '/' || !config)
        return xstrdup(file);
    const char *slash = strrchr(config, '/');
    if (!slash)
        return xstrdup(file);
    return xasprintf("%.*s/%s", (int)(slash - config), config, file);
}

static enum skyc_err parse_rule(struct ycfg *c, const char *section,
                                const yaml_node_t *item, struct sim_config *cfg)
{
    static const char *const fault_keys[] = {
        "cloud", "region", "zone", "instance_type", "spot", "error", "times",
        "max_nodes", NULL};
    static const char *const preempt_keys[] = {
        "cloud", "region", "zone", "instance_type", "spot", "after", "rank",
        "times", NULL};
    static const char *const trace_keys[] = {
        "cloud",  "region", "zone",       "instance_type", "spot",
        "file",   "format", "start_tick", NULL};
    const char *const *keys = !strcmp(section, "faults") ? fault_keys
                              : !strcmp(section, "preemptions")
                                  ? preempt_keys
                                  : trace_keys;
    enum skyc_err rc = SKYC_E_INPUT;
    struct sim_match m = {.cloud = -1, .spot = -1};
    struct sim_fault f = {.code = SKYC_E_CAPACITY};
    double after = -1;
    long prank = -1;
    const char *file = NULL, *format = NULL;
    const yaml_node_t *file_node = NULL;
    long start_tick = 0;
    struct sim_trace tr = {0};
    char *path = NULL;

    if (item->type != YAML_MAPPING_NODE) {
        ycfg_fail(c, item, "%s: each entry must be a mapping", section);
        goto out;
    }
    FOR_PAIRS(c, item, pair) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pair->value);
        const char *k = ycfg_scalar(kn);
        bool used;
        if (!k || !ycfg_key_known(k, keys)) {
            ycfg_unknown_key(c, kn, section, keys);
            goto out;
        }
        if (parse_match_key(c, k, vn, &m, &used))
            goto out;
        if (used)
            continue;
        const char *s;
        if (ycfg_want(c, vn, k, &s))
            goto out;
        if (!strcmp(k, "error")) {
            if (!strcmp(s, "capacity"))
                f.code = SKYC_E_CAPACITY;
            else if (!strcmp(s, "quota"))
                f.code = SKYC_E_QUOTA;
            else if (!strcmp(s, "auth"))
                f.code = SKYC_E_AUTH;
            else if (!strcmp(s, "other"))
                f.code = SKYC_E_FAILED;
            else {
                ycfg_fail(c, vn,
                      "error: unknown error class '%s' (known: capacity, "
                      "quota, auth, other)",
                      s);
                goto out;
            }
        } else if (!strcmp(k, "max_nodes")) {
            if (!parse_long_range(s, 0, 1000000000L, &f.max_nodes)) {
                ycfg_fail(c, vn, "max_nodes: expected a whole number >= 0, got "
                             "'%s'",
                      s);
                goto out;
            }
            f.has_max_nodes = true;
        } else if (!strcmp(k, "times")) {
            if (!parse_long_range(s, 1, 1000000000L, &f.times)) {
                ycfg_fail(c, vn, "times: expected a whole number >= 1, got '%s'",
                      s);
                goto out;
            }
        } else if (!strcmp(k, "rank")) {
            if (!parse_long_range(s, 0, 1023, &prank)) {
                ycfg_fail(c, vn, "rank: expected a node rank 0..1023, got '%s'",
                      s);
                goto out;
            }
        } else if (!strcmp(k, "after")) {
            double h;
            if (!parse_duration_hours(s, &h)) {
                ycfg_fail(c, vn,
                      "after: expected a duration such as 90s, 30m or 2h, "
                      "got '%s'",
                      s);
                goto out;
            }
            after = h * 3600.0;
        } else if (!strcmp(k, "file")) {
            file = s;
            file_node = vn;
        } else if (!strcmp(k, "format")) {
            format = s;
            if (strcmp(s, "availability") && strcmp(s, "unavailable")) {
                ycfg_fail(c, vn,
                      "format: expected 'availability' (value = instances "
                      "available) or 'unavailable' (1 = no spot), got '%s'",
                      s);
                goto out;
            }
        } else if (!strcmp(k, "start_tick")) {
            if (!parse_long_range(s, 0, 1000000000L, &start_tick)) {
                ycfg_fail(c, vn, "start_tick: expected a whole number >= 0, got "
                             "'%s'",
                      s);
                goto out;
            }
        }
    }
    if (!strcmp(section, "faults")) {
        f.m = m;
        f.line = (unsigned)item->start_mark.line + 1;
        cfg->faults = xreallocarray(cfg->faults, cfg->nfaults + 1,
                                    sizeof(*cfg->faults));
        cfg->faults[cfg->nfaults++] = f;
        memset(&m, 0, sizeof(m));
    } else if (!strcmp(section, "preemptions")) {
        if (after < 0) {
            ycfg_fail(c, item, "preemptions: each entry needs 'after' (a "
                           "duration such as 30m)");
            goto out;
        }
        cfg->preempts = xreallocarray(cfg->preempts, cfg->npreempts + 1,
                                      sizeof(*cfg->preempts));
        struct sim_preempt *pr = &cfg->preempts[cfg->npreempts++];
        pr->m = m;
        pr->after_s = after;
        pr->rank = prank;
        pr->times = f.times;
        pr->line = (unsigned)item->start_mark.line + 1;
        memset(&m, 0, sizeof(m));
    } else {
        if (!file) {
            ycfg_fail(c, item, "spot_traces: each entry needs 'file' (a spot "
                           "trace JSON)");
            goto out;
        }
        path = resolve_path(c->file, file);
        struct strbuf sb = STRBUF_INIT;
        if (!path_is_file(path)) {
            ycfg_fail(c, file_node, "file: spot trace '%s' is not a readable "
                                "file (paths are relative to the config)",
                  path);
            goto out;
        }
        if (strbuf_read_file(&sb, path) < 0) {
            ycfg_fail(c, file_node, "file: cannot read spot trace '%s': %s", path,
                  strerror(errno));
            strbuf_release(&sb);
            goto out;
        }
        int pol = !format ? -1 : !strcmp(format, "availability") ? 1 : 0;
        enum skyc_err trc = sim_trace_parse(path, sb.buf, sb.len, pol, &tr,
                                            c->err);
        strbuf_release(&sb);
        if (trc)
            goto out;
        cfg->traces = xreallocarray(cfg->traces, cfg->ntraces + 1,
                                    sizeof(*cfg->traces));
        struct sim_trace_rule *r = &cfg->traces[cfg->ntraces++];
        r->m = m;
        r->start_tick = start_tick;
        r->trace = tr;
        memset(&tr, 0, sizeof(tr));
        memset(&m, 0, sizeof(m));
    }
    rc = SKYC_OK;
out:
    match_release(&m);
    sim_trace_release(&tr);
    free(path);
    return rc;
}

static enum skyc_err parse_root(struct ycfg *c, const yaml_node_t *root,
                                struct sim_config *cfg)
{
    static const char *const root_keys[] = {
        "time_scale", "clouds", "faults", "preemptions", "spot_traces", NULL};
    if (!root || (root->type == YAML_SCALAR_NODE && !*ycfg_scalar(root)))
        return SKYC_OK; /* an empty file: the defaults */
    if (root->type != YAML_MAPPING_NODE)
        return ycfg_fail(c, root, "the sim config must be a mapping (keys: "
                              "time_scale, clouds, faults, preemptions, "
                              "spot_traces)");
    FOR_PAIRS(c, root, pair) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, pair->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, pair->value);
        const char *k = ycfg_scalar(kn);
        if (!k || !ycfg_key_known(k, root_keys))
            return ycfg_unknown_key(c, kn, "sim config", root_keys);
        if (!strcmp(k, "time_scale")) {
            const char *s;
            double x;
            if (ycfg_want(c, vn, k, &s))
                return SKYC_E_INPUT;
            if (!parse_nonneg_double(s, &x) || !(x > 0) || x > 1e9)
                return ycfg_fail(c, vn,
                             "time_scale: expected a number > 0 (sim seconds "
                             "per wall second), got '%s'",
                             s);
            cfg->time_scale = x;
            continue;
        }
        if (vn->type != YAML_SEQUENCE_NODE)
            return ycfg_fail(c, vn, "%s: expected a list", k);
        if (!strcmp(k, "clouds")) {
            for (size_t i = 0; i < CLOUD_COUNT; i++)
                cfg->clouds[i] = false;
            for (yaml_node_item_t *it = vn->data.sequence.items.start;
                 it < vn->data.sequence.items.top; it++) {
                yaml_node_t *e = yaml_document_get_node(c->doc, *it);
                const char *s = ycfg_scalar(e);
                int cl = s ? cloud_parse(s) : -1;
                if (cl < 0)
                    return ycfg_fail(c, e,
                                 "clouds: unknown cloud '%s' (known: aws, "
                                 "gcp, azure, lambda, vast)",
                                 s ? s : "?");
                cfg->clouds[cl] = true;
            }
            continue;
        }
        for (yaml_node_item_t *it = vn->data.sequence.items.start;
             it < vn->data.sequence.items.top; it++)
            if (parse_rule(c, k, yaml_document_get_node(c->doc, *it), cfg))
                return SKYC_E_INPUT;
    }
    return SKYC_OK;
}

static enum skyc_err parse_root_cb(struct ycfg *c, const yaml_node_t *root,
                                   void *cfg)
{
    return parse_root(c, root, cfg);
}

enum skyc_err sim_config_parse(const char *name, const char *text, size_t len,
                               struct sim_config *cfg, struct skyc_error *err)
{
    sim_config_init(cfg);
    enum skyc_err rc = ycfg_parse(name, text, len, parse_root_cb, cfg, err);
    if (rc == SKYC_OK)
        cfg->path = xstrdup(name);
    else
        sim_config_release(cfg);
    return rc;
}

enum skyc_err sim_config_load(const char *path, struct sim_config *cfg,
                              struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    enum skyc_err rc;
    sim_config_init(cfg);
    if (strbuf_read_file(&sb, path) < 0) {
        rc = skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                       "cannot read sim config '%s': %s", path,
                       strerror(errno));
        goto out;
    }
    rc = sim_config_parse(path, sb.buf, sb.len, cfg, err);
out:
    strbuf_release(&sb);
    return rc;
}
