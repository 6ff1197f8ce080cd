/*
 * task_fields.c - the top-level fields of one task document.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/units.h"
#include "task/task_parse.h"

enum task_key {
    TK_NAME, TK_WORKDIR, TK_NUM_NODES, TK_RESOURCES, TK_ENVS, TK_SECRETS,
    TK_FILE_MOUNTS, TK_SETUP, TK_RUN, TK_INPUTS, TK_OUTPUTS,
    TK_ESTIMATED_HOURS, TK_DEPENDS_ON,
    /* SkyPilot fields accepted and ignored (serving, per-task config) */
    TK_SERVICE, TK_CONFIG, TK_VOLUMES, TK_EVENT_CALLBACK,
};

static const char *const task_keys[] = {
    "name", "workdir", "num_nodes", "resources", "envs", "secrets",
    "file_mounts", "setup", "run", "inputs", "outputs", "estimated_hours",
    "depends_on", "service", "config", "volumes", "event_callback", NULL,
};

void task_release(struct task *t)
{
    free(t->name);
    free(t->workdir);
    for (size_t i = 0; i < t->nresources; i++)
        task_resources_release(&t->resources[i]);
    free(t->resources);
    task_kv_release(t->envs, t->nenvs);
    task_kv_release(t->secrets, t->nsecrets);
    task_kv_release(t->file_mounts, t->nfile_mounts);
    free(t->setup);
    free(t->run);
    for (size_t i = 0; i < t->ninputs; i++)
        free(t->inputs[i].path);
    free(t->inputs);
    for (size_t i = 0; i < t->noutputs; i++)
        free(t->outputs[i].path);
    free(t->outputs);
    for (size_t i = 0; i < t->ndepends_on; i++)
        free(t->depends_on[i]);
    free(t->depends_on);
    memset(t, 0, sizeof(*t));
}

/* inputs / outputs: {path: GB, ...}. */
static enum skyc_err parse_data(struct yctx *c, const yaml_node_t *n,
                                const char *field, struct task_data **out,
                                size_t *nout)
{
    char buf[64];
    size_t alloc = 0;
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type != YAML_MAPPING_NODE)
        return y_fail(c, n, "%s: expected a mapping of paths to sizes in GB "
                            "like {s3://bucket/data: 100}, got %s",
                      field, y_describe(n, buf, sizeof(buf)));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
        if (y_visit(c, k))
            return SKYC_E_INPUT;
        if (k->type != YAML_SCALAR_NODE || y_is_null(k))
            return y_fail(c, k, "%s: expected a path, got %s", field,
                          y_describe(k, buf, sizeof(buf)));
        char f[128];
        double gb;
        snprintf(f, sizeof(f), "%s.%s", field, y_text(k));
        if (y_number(c, v, f, &gb))
            return SKYC_E_INPUT;
        ALLOC_GROW(*out, *nout + 1, alloc);
        (*out)[*nout].path = xstrdup(y_text(k));
        (*out)[*nout].gb = gb;
        (*nout)++;
    }
    return SKYC_OK;
}

struct storage_walk {
    char *source, *name;
    const char *field;
};

/* Keys of a storage spec: we keep source and name; the rest pass. */
static const char *const storage_keys[] = {
    "source", "name", "mode", "store", "persistent", "config", "_force_delete",
    NULL,
};

static enum skyc_err storage_field(struct yctx *c, size_t key,
                                   yaml_node_t *k, yaml_node_t *v, void *ud)
{
    struct storage_walk *w = ud;
    char f[160];
    if (key > 1)
        return SKYC_OK;
    snprintf(f, sizeof(f), "%s.%s", w->field, storage_keys[key]);
    return y_string(c, v, f, key == 0 ? &w->source : &w->name);
}

/* file_mounts: {REMOTE: SOURCE | {source: ..., name: ..., mode: ...}}. */
static enum skyc_err parse_mounts(struct yctx *c, const yaml_node_t *n,
                                  struct task *t)
{
    char buf[64];
    size_t alloc = 0;
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type != YAML_MAPPING_NODE)
        return y_fail(c, n, "file_mounts: expected a mapping of remote paths "
                            "to sources, got %s",
                      y_describe(n, buf, sizeof(buf)));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
        if (y_visit(c, k))
            return SKYC_E_INPUT;
        if (k->type != YAML_SCALAR_NODE || y_is_null(k))
            return y_fail(c, k, "file_mounts: expected a remote path, got %s",
                          y_describe(k, buf, sizeof(buf)));
        char f[128];
        snprintf(f, sizeof(f), "file_mounts.%s", y_text(k));
        char *source = NULL;
        if (v->type == YAML_MAPPING_NODE) {
            struct storage_walk w = {NULL, NULL, f};
            enum skyc_err rc = y_walk_map(c, v, f, storage_keys,
                                          storage_field, &w);
            if (!rc && !w.source && !w.name)
                rc = y_fail(c, v, "%s: a storage mount needs 'source' or "
                                  "'name'",
                            f);
            if (rc) {
                free(w.source);
                free(w.name);
                return rc;
            }
            source = w.source ? w.source : w.name;
            free(w.source ? w.name : NULL);
        } else {
            if (y_string(c, v, f, &source))
                return SKYC_E_INPUT;
            if (!source)
                return y_fail(c, v, "%s: missing source", f);
        }
        ALLOC_GROW(t->file_mounts, t->nfile_mounts + 1, alloc);
        t->file_mounts[t->nfile_mounts].key = xstrdup(y_text(k));
        t->file_mounts[t->nfile_mounts].value = source;
        t->nfile_mounts++;
    }
    return SKYC_OK;
}

struct task_walk {
    struct task *t;
    struct task_side *side;
    const yaml_node_t *resources;
};

static enum skyc_err task_field(struct yctx *c, size_t key, yaml_node_t *k,
                                yaml_node_t *v, void *ud)
{
    struct task_walk *w = ud;
    struct task *t = w->t;
    const char *f = task_keys[key];
    switch ((enum task_key)key) {
    case TK_NAME:
        w->side->name_mark = y_mark(v);
        if (y_string(c, v, f, &t->name))
            return SKYC_E_INPUT;
        if (t->name && !*t->name)
            return y_fail(c, v, "name: must not be empty");
        return SKYC_OK;
    case TK_WORKDIR:
        return y_string(c, v, f, &t->workdir);
    case TK_NUM_NODES:
        return y_is_null(v) ? SKYC_OK
                            : y_long(c, v, f, 1, 100000, &t->num_nodes);
    case TK_RESOURCES:
        w->resources = v;
        return SKYC_OK;
    case TK_ENVS:
        return y_kv_map(c, v, f, &t->envs, &t->nenvs);
    case TK_SECRETS:
        return y_kv_map(c, v, f, &t->secrets, &t->nsecrets);
    case TK_FILE_MOUNTS:
        return parse_mounts(c, v, t);
    case TK_SETUP:
        return y_string(c, v, f, &t->setup);
    case TK_RUN:
        return y_string(c, v, f, &t->run);
    case TK_INPUTS:
        return parse_data(c, v, f, &t->inputs, &t->ninputs);
    case TK_OUTPUTS:
        return parse_data(c, v, f, &t->outputs, &t->noutputs);
    case TK_ESTIMATED_HOURS: {
        char buf[64];
        if (y_is_null(v))
            return SKYC_OK;
        if (v->type == YAML_SCALAR_NODE &&
            parse_duration_hours(y_text(v), &t->estimated_hours))
            return SKYC_OK;
        return y_fail(c, v, "estimated_hours: expected hours or a duration "
                            "like '3h', '90m', '2d', got %s",
                      y_describe(v, buf, sizeof(buf)));
    }
    case TK_DEPENDS_ON:
        return y_string_list(c, v, f, &t->depends_on, &t->ndepends_on,
                             &w->side->dep_marks);
    case TK_SERVICE:
    case TK_CONFIG:
    case TK_VOLUMES:
    case TK_EVENT_CALLBACK:
        return SKYC_OK;
    }
    return SKYC_OK;
}

enum skyc_err task_parse(struct yctx *c, const yaml_node_t *root,
                         struct task *t, struct task_side *side)
{
    struct task_walk w = {t, side, NULL};
    t->num_nodes = 1;
    t->mark = y_mark(root);
    if (y_walk_map(c, root, "task", task_keys, task_field, &w))
        return SKYC_E_INPUT;
    if (w.resources && !y_is_null(w.resources))
        return task_resources_parse(c, w.resources, t);
    task_resources_default(t);
    return SKYC_OK;
}
