/*
 * task_resources.c - `resources:` of a task: the fields, then the expansion
 * of any_of / ordered entries and accelerator lists / maps into concrete
 * alternatives, each a full copy with the base fields merged in.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/suggest.h"
#include "core/units.h"
#include "task/task_parse.h"

enum res_key {
    RK_INFRA, RK_CLOUD, RK_REGION, RK_ZONE, RK_INSTANCE, RK_CPUS, RK_MEMORY,
    RK_ACCEL, RK_SPOT, RK_DISK_SIZE, RK_DISK_TIER, RK_PORTS, RK_IMAGE,
    RK_LABELS, RK_COST, RK_RECOVERY, RK_ANY_OF, RK_ORDERED,
    /* SkyPilot fields accepted and ignored (they do not change placement) */
    RK_ACCEL_ARGS, RK_AUTOSTOP, RK_NETWORK_TIER,
};

static const char *const res_keys[] = {
    "infra", "cloud", "region", "zone", "instance_type", "cpus", "memory",
    "accelerators", "use_spot", "disk_size", "disk_tier", "ports",
    "image_id", "labels", "max_hourly_cost", "job_recovery", "any_of",
    "ordered", "accelerator_args", "autostop", "network_tier", NULL,
};

static const char *const known_clouds[] = {
    "aws", "gcp", "azure", "lambda", "vast", "local", "ssh", "sim", NULL,
};
static const char *const disk_tiers[] = {
    "low", "medium", "high", "ultra", "best", NULL,
};
static const char *const recovery_strategies[] = {
    "FAILOVER", "EAGER_NEXT_REGION", "none", NULL,
};
static const char *const recovery_keys[] = {
    "strategy", "max_restarts_on_errors", "recover_on_exit_codes", NULL,
};

/* Bits of struct task_resources fields, for merging entries over a base. */
enum {
    RF_CLOUD = 1u << 0, RF_REGION = 1u << 1, RF_ZONE = 1u << 2,
    RF_INSTANCE = 1u << 3, RF_CPUS = 1u << 4, RF_MEMORY = 1u << 5,
    RF_ACCEL = 1u << 6, RF_SPOT = 1u << 7, RF_DISK_SIZE = 1u << 8,
    RF_DISK_TIER = 1u << 9, RF_PORTS = 1u << 10, RF_IMAGE = 1u << 11,
    RF_LABELS = 1u << 12, RF_COST = 1u << 13, RF_RECOVERY = 1u << 14,
    RF_ALL = (1u << 15) - 1,
};

enum pref { PREF_NONE, PREF_ORDERED, PREF_ANY };

struct accel {
    char *name;
    double count;
};

/* Resources as written: set fields, accelerator choices, entries. */
struct res_spec {
    struct task_resources r;
    unsigned set;
    const yaml_node_t *infra_node, *cloud_node; /* for conflicts */
    struct accel *acc;
    size_t nacc;
    enum pref acc_pref;
    const yaml_node_t *acc_node;
    struct res_spec *entries;
    size_t nentries;
    enum pref entries_pref;
    const yaml_node_t *entries_node;
    bool is_entry;
    char where[64]; /* "resources" or "resources.any_of[2]" */
};

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void task_kv_release(struct task_kv *kv, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

void task_resources_release(struct task_resources *r)
{
    free(r->cloud);
    free(r->region);
    free(r->zone);
    free(r->instance_type);
    free(r->accelerator);
    free(r->disk_tier);
    free_strings(r->ports, r->nports);
    free(r->image_id);
    task_kv_release(r->labels, r->nlabels);
    free(r->job_recovery);
    free(r->recover_on_exit_codes);
    memset(r, 0, sizeof(*r));
}

static void spec_release(struct res_spec *s)
{
    task_resources_release(&s->r);
    for (size_t i = 0; i < s->nacc; i++)
        free(s->acc[i].name);
    free(s->acc);
    for (size_t i = 0; i < s->nentries; i++)
        spec_release(&s->entries[i]);
    free(s->entries);
}

static void replace(char **dst, const char *src)
{
    free(*dst);
    *dst = xstrdup_or_null(src);
}

/* Copy the fields of src selected by mask over dst (deep copies). */
static void res_assign(struct task_resources *dst,
                       const struct task_resources *src, unsigned mask)
{
    if (mask & RF_CLOUD)
        replace(&dst->cloud, src->cloud);
    if (mask & RF_REGION)
        replace(&dst->region, src->region);
    if (mask & RF_ZONE)
        replace(&dst->zone, src->zone);
    if (mask & RF_INSTANCE)
        replace(&dst->instance_type, src->instance_type);
    if (mask & RF_CPUS)
        dst->cpus = src->cpus;
    if (mask & RF_MEMORY)
        dst->memory_gb = src->memory_gb;
    if (mask & RF_ACCEL) {
        replace(&dst->accelerator, src->accelerator);
        dst->accelerator_count = src->accelerator_count;
    }
    if (mask & RF_SPOT)
        dst->use_spot = src->use_spot;
    if (mask & RF_DISK_SIZE)
        dst->disk_size_gb = src->disk_size_gb;
    if (mask & RF_DISK_TIER)
        replace(&dst->disk_tier, src->disk_tier);
    if (mask & RF_PORTS) {
        free_strings(dst->ports, dst->nports);
        dst->ports = xcalloc(src->nports ? src->nports : 1, sizeof(char *));
        for (size_t i = 0; i < src->nports; i++)
            dst->ports[i] = xstrdup(src->ports[i]);
        dst->nports = src->nports;
    }
    if (mask & RF_IMAGE)
        replace(&dst->image_id, src->image_id);
    if (mask & RF_LABELS) {
        task_kv_release(dst->labels, dst->nlabels);
        dst->labels = xcalloc(src->nlabels ? src->nlabels : 1,
                              sizeof(*dst->labels));
        for (size_t i = 0; i < src->nlabels; i++) {
            dst->labels[i].key = xstrdup(src->labels[i].key);
            dst->labels[i].value = xstrdup(src->labels[i].value);
        }
        dst->nlabels = src->nlabels;
    }
    if (mask & RF_COST)
        dst->max_hourly_cost = src->max_hourly_cost;
    if (mask & RF_RECOVERY) {
        replace(&dst->job_recovery, src->job_recovery);
        dst->max_restarts_on_errors = src->max_restarts_on_errors;
        free(dst->recover_on_exit_codes);
        size_t n = src->nrecover_on_exit_codes;
        dst->recover_on_exit_codes = xcalloc(n ? n : 1, sizeof(long));
        if (n)
            memcpy(dst->recover_on_exit_codes, src->recover_on_exit_codes,
                   n * sizeof(long));
        dst->nrecover_on_exit_codes = n;
    }
}

/* Field path for messages: "resources.cpus". */
#define FIELD(s, name, buf) (snprintf(buf, sizeof(buf), "%s.%s", (s)->where, name), buf)

static enum skyc_err parse_cloud(struct yctx *c, const yaml_node_t *n,
                                 const char *text, const char *field,
                                 char **out)
{
    for (size_t i = 0; known_clouds[i]; i++) {
        if (!strcasecmp(text, known_clouds[i])) {
            replace(out, known_clouds[i]);
            return SKYC_OK;
        }
    }
    const char *near = suggest_nearest(text, known_clouds);
    if (near)
        return y_fail(c, n, "%s: unknown cloud '%s' (did you mean '%s'?)",
                      field, text, near);
    return y_fail(c, n, "%s: unknown cloud '%s' (known: aws, gcp, azure, "
                        "lambda, vast, local, ssh, sim)",
                  field, text);
}

/* infra: CLOUD[/REGION[/ZONE]], any part "*" = any. */
static enum skyc_err parse_infra(struct yctx *c, const yaml_node_t *n,
                                 struct res_spec *s, const char *field)
{
    char *text = NULL;
    enum skyc_err rc = SKYC_E_INPUT;
    if (y_string(c, n, field, &text))
        goto out;
    s->set |= RF_CLOUD | RF_REGION | RF_ZONE;
    replace(&s->r.cloud, NULL);
    replace(&s->r.region, NULL);
    replace(&s->r.zone, NULL);
    if (!text) {
        rc = SKYC_OK;
        goto out;
    }
    char *parts[3] = {NULL, NULL, NULL};
    size_t nparts = 0;
    char *p = text;
    for (;;) {
        char *slash = strchr(p, '/');
        if (nparts == 3) {
            y_fail(c, n, "%s: expected CLOUD[/REGION[/ZONE]], got '%s'",
                   field, y_text(n));
            goto out;
        }
        parts[nparts++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    for (size_t i = 0; i < nparts; i++) {
        if (!*parts[i]) {
            y_fail(c, n, "%s: empty part in '%s' (write '*' for any)", field,
                   y_text(n));
            goto out;
        }
    }
    if (strcmp(parts[0], "*") && parse_cloud(c, n, parts[0], field,
                                             &s->r.cloud))
        goto out;
    if (nparts > 1 && strcmp(parts[1], "*"))
        s->r.region = xstrdup(parts[1]);
    if (nparts > 2 && strcmp(parts[2], "*"))
        s->r.zone = xstrdup(parts[2]);
    rc = SKYC_OK;
out:
    free(text);
    return rc;
}

/* cpus / memory: N, N+ and (memory) Nx; N > 0. */
static enum skyc_err parse_amount(struct yctx *c, const yaml_node_t *n,
                                  const char *field, bool per_cpu_ok,
                                  struct task_amount *out)
{
    char buf[64];
    const char *want = per_cpu_ok ? "a number like 16, \"16+\" or \"4x\""
                                  : "a number like 4 or \"4+\"";
    if (y_is_null(n)) {
        out->kind = TASK_AMOUNT_ANY;
        out->value = 0;
        return SKYC_OK;
    }
    if (n->type != YAML_SCALAR_NODE)
        return y_fail(c, n, "%s: expected %s, got %s", field, want,
                      y_describe(n, buf, sizeof(buf)));
    const char *s = y_text(n);
    size_t len = strlen(s);
    enum task_amount_kind kind = TASK_AMOUNT_EXACT;
    if (len > 1 && s[len - 1] == '+') {
        kind = TASK_AMOUNT_AT_LEAST;
        len--;
    } else if (per_cpu_ok && len > 1 && s[len - 1] == 'x') {
        kind = TASK_AMOUNT_PER_CPU;
        len--;
    }
    char num[64];
    double v;
    if (len >= sizeof(num))
        goto bad;
    memcpy(num, s, len);
    num[len] = '\0';
    if (!parse_nonneg_double(num, &v) || v <= 0)
        goto bad;
    out->kind = kind;
    out->value = v;
    return SKYC_OK;
bad:
    return y_fail(c, n, "%s: expected %s, got %s", field, want,
                  y_describe(n, buf, sizeof(buf)));
}

/* "A100", "A100:8", "T4:0.5" (name may not be empty, count > 0). */
static enum skyc_err parse_accel_text(struct yctx *c, const yaml_node_t *n,
                                      const char *text, const char *field,
                                      struct accel *out)
{
    const char *colon = strrchr(text, ':');
    double count = 1;
    size_t namelen = colon ? (size_t)(colon - text) : strlen(text);
    if (colon && (!parse_nonneg_double(colon + 1, &count) || count <= 0))
        return y_fail(c, n, "%s: bad accelerator count in '%s' (expected "
                            "NAME:COUNT with COUNT > 0, like 'A100:8')",
                      field, text);
    if (!namelen)
        return y_fail(c, n, "%s: missing accelerator name in '%s'", field,
                      text);
    out->name = xstrndup(text, namelen);
    out->count = count;
    return SKYC_OK;
}

static void add_accel(struct res_spec *s, struct accel a, size_t *alloc)
{
    ALLOC_GROW(s->acc, s->nacc + 1, *alloc);
    s->acc[s->nacc++] = a;
}

/* accelerators: "A100:8" | [A100:8, V100:8] (ordered) | {A100: 8} (any). */
static enum skyc_err parse_accels(struct yctx *c, const yaml_node_t *n,
                                  struct res_spec *s, const char *field)
{
    char buf[64];
    size_t alloc = 0;
    s->set |= RF_ACCEL;
    s->acc_node = n;
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type == YAML_SCALAR_NODE) {
        struct accel a;
        if (parse_accel_text(c, n, y_text(n), field, &a))
            return SKYC_E_INPUT;
        add_accel(s, a, &alloc);
        return SKYC_OK;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        s->acc_pref = PREF_ORDERED;
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            yaml_node_t *item = y_node(c, *it);
            struct accel a;
            if (y_visit(c, item))
                return SKYC_E_INPUT;
            if (item->type != YAML_SCALAR_NODE || y_is_null(item))
                return y_fail(c, item, "%s: expected an accelerator like "
                                       "'A100:8', got %s",
                              field, y_describe(item, buf, sizeof(buf)));
            if (parse_accel_text(c, item, y_text(item), field, &a))
                return SKYC_E_INPUT;
            add_accel(s, a, &alloc);
        }
        return SKYC_OK;
    }
    s->acc_pref = PREF_ANY;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = y_node(c, p->key), *v = y_node(c, p->value);
        struct accel a;
        if (y_visit(c, k))
            return SKYC_E_INPUT;
        if (k->type != YAML_SCALAR_NODE || y_is_null(k))
            return y_fail(c, k, "%s: expected an accelerator name, got %s",
                          field, y_describe(k, buf, sizeof(buf)));
        if (y_is_null(v)) { /* {A100:8, V100:8} in flow style */
            if (parse_accel_text(c, k, y_text(k), field, &a))
                return SKYC_E_INPUT;
        } else {
            if (strchr(y_text(k), ':'))
                return y_fail(c, k, "%s: '%s' has a count twice", field,
                              y_text(k));
            double count;
            char f2[128];
            snprintf(f2, sizeof(f2), "%s.%s", field, y_text(k));
            if (y_number(c, v, f2, &count))
                return SKYC_E_INPUT;
            if (count <= 0)
                return y_fail(c, v, "%s: accelerator count must be > 0", f2);
            a.name = xstrdup(y_text(k));
            a.count = count;
        }
        add_accel(s, a, &alloc);
    }
    return SKYC_OK;
}

static enum skyc_err parse_port(struct yctx *c, const yaml_node_t *n,
                                const char *field, char **out)
{
    char buf[64];
    if (n->type != YAML_SCALAR_NODE || y_is_null(n))
        goto bad;
    const char *s = y_text(n);
    const char *dash = strchr(s, '-');
    long lo, hi;
    if (dash) {
        char first[16];
        size_t len = (size_t)(dash - s);
        if (len >= sizeof(first))
            goto bad;
        memcpy(first, s, len);
        first[len] = '\0';
        if (!parse_long_range(first, 1, 65535, &lo) ||
            !parse_long_range(dash + 1, 1, 65535, &hi) || hi < lo)
            goto bad;
        *out = xasprintf("%ld-%ld", lo, hi);
    } else {
        if (!parse_long_range(s, 1, 65535, &lo))
            goto bad;
        *out = xasprintf("%ld", lo);
    }
    return SKYC_OK;
bad:
    return y_fail(c, n, "%s: expected a port 1-65535 or a range like "
                        "'10000-10010', got %s",
                  field, y_describe(n, buf, sizeof(buf)));
}

static enum skyc_err parse_ports(struct yctx *c, const yaml_node_t *n,
                                 struct res_spec *s, const char *field)
{
    struct task_resources *r = &s->r;
    s->set |= RF_PORTS;
    free_strings(r->ports, r->nports);
    r->ports = NULL;
    r->nports = 0;
    if (y_is_null(n))
        return SKYC_OK;
    if (n->type == YAML_MAPPING_NODE)
        return y_fail(c, n, "%s: expected a port, a range or a list of them, "
                            "got a mapping", field);
    if (n->type == YAML_SCALAR_NODE) {
        r->ports = xcalloc(1, sizeof(char *));
        if (parse_port(c, n, field, &r->ports[0]))
            return SKYC_E_INPUT;
        r->nports = 1;
        return SKYC_OK;
    }
    size_t count = (size_t)(n->data.sequence.items.top -
                            n->data.sequence.items.start);
    r->ports = xcalloc(count ? count : 1, sizeof(char *));
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = y_node(c, n->data.sequence.items.start[i]);
        if (y_visit(c, item) || parse_port(c, item, field, &r->ports[i]))
            return SKYC_E_INPUT;
        r->nports = i + 1;
    }
    return SKYC_OK;
}

static enum skyc_err parse_strategy(struct yctx *c, const yaml_node_t *n,
                                    const char *field, char **out)
{
    char *text = NULL;
    if (y_string(c, n, field, &text))
        return SKYC_E_INPUT;
    if (!text)
        return SKYC_OK;
    for (size_t i = 0; recovery_strategies[i]; i++) {
        if (!strcasecmp(text, recovery_strategies[i])) {
            replace(out, recovery_strategies[i]);
            free(text);
            return SKYC_OK;
        }
    }
    const char *near = suggest_nearest(text, recovery_strategies);
    enum skyc_err rc =
        near ? y_fail(c, n, "%s: unknown strategy '%s' (did you mean '%s'?)",
                      field, text, near)
             : y_fail(c, n, "%s: unknown strategy '%s' (known: FAILOVER, "
                            "EAGER_NEXT_REGION, none)",
                      field, text);
    free(text);
    return rc;
}

struct recovery_walk {
    struct task_resources *r;
    const char *field;
};

static enum skyc_err recovery_field(struct yctx *c, size_t key,
                                    yaml_node_t *k, yaml_node_t *v, void *ud)
{
    struct recovery_walk *w = ud;
    char f[128];
    snprintf(f, sizeof(f), "%s.%s", w->field, recovery_keys[key]);
    if (key == 0)
        return parse_strategy(c, v, f, &w->r->job_recovery);
    if (key == 1)
        return y_long(c, v, f, 0, 1000000, &w->r->max_restarts_on_errors);
    size_t count = 1;
    const yaml_node_item_t *items = NULL;
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        count = (size_t)(v->data.sequence.items.top - items);
    } else if (y_is_null(v)) {
        count = 0;
    }
    free(w->r->recover_on_exit_codes);
    w->r->recover_on_exit_codes = xcalloc(count ? count : 1, sizeof(long));
    w->r->nrecover_on_exit_codes = 0;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *item = items ? y_node(c, items[i]) : v;
        if (y_visit(c, item) || y_long(c, item, f, 0, 255, &w->r->recover_on_exit_codes[i]))
            return SKYC_E_INPUT;
        w->r->nrecover_on_exit_codes = i + 1;
    }
    return SKYC_OK;
}

/* job_recovery: STRATEGY | {strategy, max_restarts_on_errors, ...}. */
static enum skyc_err parse_recovery(struct yctx *c, const yaml_node_t *n,
                                    struct res_spec *s, const char *field)
{
    s->set |= RF_RECOVERY;
    if (n->type != YAML_MAPPING_NODE)
        return parse_strategy(c, n, field, &s->r.job_recovery);
    struct recovery_walk w = {&s->r, field};
    return y_walk_map(c, n, field, recovery_keys, recovery_field, &w);
}

static enum skyc_err parse_entries(struct yctx *c, const yaml_node_t *n,
                                   struct res_spec *s, enum pref pref,
                                   const char *name);

static enum skyc_err res_field(struct yctx *c, size_t key, yaml_node_t *k,
                               yaml_node_t *v, void *ud)
{
    struct res_spec *s = ud;
    struct task_resources *r = &s->r;
    char f[128];
    FIELD(s, res_keys[key], f);
    switch ((enum res_key)key) {
    case RK_INFRA:
        s->infra_node = k;
        return parse_infra(c, v, s, f);
    case RK_CLOUD: {
        char *text = NULL;
        s->cloud_node = k;
        s->set |= RF_CLOUD;
        if (y_string(c, v, f, &text))
            return SKYC_E_INPUT;
        replace(&r->cloud, NULL);
        enum skyc_err rc = text ? parse_cloud(c, v, text, f, &r->cloud)
                                : SKYC_OK;
        free(text);
        return rc;
    }
    case RK_REGION:
        s->cloud_node = k;
        s->set |= RF_REGION;
        return y_string(c, v, f, &r->region);
    case RK_ZONE:
        s->cloud_node = k;
        s->set |= RF_ZONE;
        return y_string(c, v, f, &r->zone);
    case RK_INSTANCE:
        s->set |= RF_INSTANCE;
        return y_string(c, v, f, &r->instance_type);
    case RK_CPUS:
        s->set |= RF_CPUS;
        return parse_amount(c, v, f, false, &r->cpus);
    case RK_MEMORY:
        s->set |= RF_MEMORY;
        return parse_amount(c, v, f, true, &r->memory_gb);
    case RK_ACCEL:
        return parse_accels(c, v, s, f);
    case RK_SPOT:
        s->set |= RF_SPOT;
        return y_is_null(v) ? SKYC_OK : y_bool(c, v, f, &r->use_spot);
    case RK_DISK_SIZE:
        s->set |= RF_DISK_SIZE;
        if (y_is_null(v))
            return SKYC_OK;
        if (y_number(c, v, f, &r->disk_size_gb))
            return SKYC_E_INPUT;
        return r->disk_size_gb > 0 ? SKYC_OK
                                   : y_fail(c, v, "%s: must be > 0 GB", f);
    case RK_DISK_TIER: {
        s->set |= RF_DISK_TIER;
        if (y_string(c, v, f, &r->disk_tier))
            return SKYC_E_INPUT;
        if (!r->disk_tier)
            return SKYC_OK;
        for (size_t i = 0; disk_tiers[i]; i++)
            if (!strcasecmp(r->disk_tier, disk_tiers[i])) {
                replace(&r->disk_tier, disk_tiers[i]);
                return SKYC_OK;
            }
        const char *near = suggest_nearest(r->disk_tier, disk_tiers);
        if (near)
            return y_fail(c, v, "%s: unknown disk tier '%s' (did you mean "
                                "'%s'?)",
                          f, r->disk_tier, near);
        return y_fail(c, v, "%s: unknown disk tier '%s' (known: low, "
                            "medium, high, ultra, best)",
                      f, r->disk_tier);
    }
    case RK_PORTS:
        return parse_ports(c, v, s, f);
    case RK_IMAGE:
        s->set |= RF_IMAGE;
        return y_string(c, v, f, &r->image_id);
    case RK_LABELS:
        s->set |= RF_LABELS;
        return y_kv_map(c, v, f, &r->labels, &r->nlabels);
    case RK_COST:
        s->set |= RF_COST;
        return y_is_null(v) ? SKYC_OK
                            : y_number(c, v, f, &r->max_hourly_cost);
    case RK_RECOVERY:
        return parse_recovery(c, v, s, f);
    case RK_ANY_OF:
    case RK_ORDERED:
        if (s->is_entry)
            return y_fail(c, k, "%s: '%s' cannot be nested inside any_of or "
                                "ordered",
                          s->where, res_keys[key]);
        if (s->entries_node)
            return y_fail(c, k, "%s: give either any_of or ordered, not "
                                "both",
                          s->where);
        return parse_entries(c, v, s,
                             key == RK_ANY_OF ? PREF_ANY : PREF_ORDERED,
                             res_keys[key]);
    case RK_ACCEL_ARGS:
    case RK_AUTOSTOP:
    case RK_NETWORK_TIER:
        return SKYC_OK;
    }
    return SKYC_OK;
}

/* Parse a resources mapping (the base or one entry) into s. */
static enum skyc_err parse_spec(struct yctx *c, const yaml_node_t *n,
                                struct res_spec *s)
{
    s->r.mark = y_mark(n);
    if (y_is_null(n))
        return SKYC_OK;
    if (y_walk_map(c, n, s->where, res_keys, res_field, s))
        return SKYC_E_INPUT;
    if (s->infra_node && s->cloud_node)
        return y_fail(c, s->cloud_node, "%s: give either infra or "
                                        "cloud/region/zone, not both",
                      s->where);
    return SKYC_OK;
}

static enum skyc_err parse_entries(struct yctx *c, const yaml_node_t *n,
                                   struct res_spec *s, enum pref pref,
                                   const char *name)
{
    char buf[64];
    s->entries_node = n;
    s->entries_pref = pref;
    if (n->type != YAML_SEQUENCE_NODE)
        return y_fail(c, n, "%s.%s: expected a list of resources, got %s",
                      s->where, name, y_describe(n, buf, sizeof(buf)));
    size_t count = (size_t)(n->data.sequence.items.top -
                            n->data.sequence.items.start);
    if (count > TASK_MAX_ALTERNATIVES)
        return y_fail(c, n, "%s.%s: more than %d entries", s->where, name,
                      TASK_MAX_ALTERNATIVES);
    s->entries = xcalloc(count ? count : 1, sizeof(*s->entries));
    for (size_t i = 0; i < count; i++) {
        struct res_spec *e = &s->entries[i];
        e->is_entry = true;
        snprintf(e->where, sizeof(e->where), "%s.%s[%zu]", s->where, name, i);
        s->nentries = i + 1;
        if (parse_spec(c, y_node(c, n->data.sequence.items.start[i]), e))
            return SKYC_E_INPUT;
    }
    return SKYC_OK;
}

/* Fold a preference into the task's; ordered and any_of do not mix. */
static enum skyc_err combine(struct yctx *c, enum pref *have, enum pref p,
                             const yaml_node_t *n)
{
    if (p == PREF_NONE || *have == p) {
        return SKYC_OK;
    }
    if (*have == PREF_NONE) {
        *have = p;
        return SKYC_OK;
    }
    return y_fail(c, n, "resources: cannot mix an ordered preference (a list "
                        "of accelerators or 'ordered') with any_of (a "
                        "mapping of accelerators or 'any_of')");
}

static enum skyc_err push_alt(struct yctx *c, struct task *t, size_t *alloc,
                              const struct task_resources *r,
                              const struct accel *a, const yaml_node_t *n)
{
    if (t->nresources >= TASK_MAX_ALTERNATIVES)
        return y_fail(c, n, "resources: more than %d alternatives",
                      TASK_MAX_ALTERNATIVES);
    /* copies are work too: charge them against the node budget */
    c->visits += r->nlabels + r->nports + r->nrecover_on_exit_codes;
    if (y_visit(c, n))
        return SKYC_E_INPUT;
    ALLOC_GROW(t->resources, t->nresources + 1, *alloc);
    struct task_resources *out = &t->resources[t->nresources++];
    memset(out, 0, sizeof(*out));
    res_assign(out, r, RF_ALL);
    out->mark = r->mark;
    if (a) {
        replace(&out->accelerator, a->name);
        out->accelerator_count = a->count;
    }
    return SKYC_OK;
}

static enum skyc_err expand(struct yctx *c, const struct res_spec *base,
                            const yaml_node_t *n, struct task *t)
{
    enum pref pref = PREF_NONE;
    size_t alloc = 0;
    struct res_spec none = {.is_entry = true};
    const struct res_spec *entries = base->nentries ? base->entries : &none;
    size_t nentries = base->nentries ? base->nentries : 1;
    none.r.mark = base->r.mark;
    if (base->nacc > 1 && combine(c, &pref, base->acc_pref, base->acc_node))
        return SKYC_E_INPUT;
    if (base->nentries > 1 &&
        combine(c, &pref, base->entries_pref, base->entries_node))
        return SKYC_E_INPUT;
    for (size_t i = 0; i < nentries; i++) {
        const struct res_spec *e = &entries[i];
        struct task_resources merged = {0};
        res_assign(&merged, &base->r, RF_ALL);
        res_assign(&merged, &e->r, e->set);
        merged.mark = e->r.mark;
        const struct res_spec *from = (e->set & RF_ACCEL) ? e : base;
        enum skyc_err rc = SKYC_OK;
        if (from->nacc > 1)
            rc = combine(c, &pref, from->acc_pref, from->acc_node);
        for (size_t j = 0; !rc && j < from->nacc; j++)
            rc = push_alt(c, t, &alloc, &merged, &from->acc[j], n);
        if (!rc && !from->nacc)
            rc = push_alt(c, t, &alloc, &merged, NULL, n);
        task_resources_release(&merged);
        if (rc)
            return rc;
    }
    t->resources_ordered = pref == PREF_ORDERED;
    return SKYC_OK;
}

enum skyc_err task_resources_parse(struct yctx *c, const yaml_node_t *n,
                                   struct task *t)
{
    struct res_spec base = {0};
    snprintf(base.where, sizeof(base.where), "resources");
    enum skyc_err rc = parse_spec(c, n, &base);
    if (!rc)
        rc = expand(c, &base, n, t);
    spec_release(&base);
    return rc;
}

void task_resources_default(struct task *t)
{
    t->resources = xcalloc(1, sizeof(*t->resources));
    t->nresources = 1;
    t->resources[0].mark = t->mark;
    t->resources_ordered = false;
}

const char *task_resources_provider(const struct task_resources *r)
{
    static const char *const providers[] = {"local", "ssh", "sim", NULL};
    for (size_t i = 0; r->cloud && providers[i]; i++)
        if (!strcmp(r->cloud, providers[i]))
            return providers[i];
    return NULL;
}
