/*
 * task_parse.h - internals of the task YAML loader, shared by task.c (files,
 * documents, DAG), task_yaml.c (libyaml helpers), task_fields.c (the fields
 * of one task) and task_resources.c (resources and their alternatives).
 *
 * Every helper that can fail records "FILE:LINE:COL: field: what (hint)" in
 * c->err through y_fail() and returns SKYC_E_INPUT. Nothing here is public.
 */
#ifndef SKYC_TASK_TASK_PARSE_H
#define SKYC_TASK_TASK_PARSE_H

#include "core/common.h"
#include "core/error.h"
#include "task/task.h"

#include <yaml.h>

/* Bounds that keep hostile input cheap. */
#define TASK_MAX_DEPTH 64          /* nesting of lists and mappings */
#define TASK_MAX_DOCUMENTS 256     /* "---" documents in one file */
#define TASK_MAX_VISITS 200000     /* nodes walked per file (aliases count) */
#define TASK_MAX_ALTERNATIVES 1024 /* resource alternatives per task */

/* One loaded document being walked. */
struct yctx {
    const char *file;
    yaml_document_t *doc;
    struct skyc_error *err;
    size_t visits;
};

/* Side information about a task that the DAG needs for its messages. */
struct task_side {
    struct task_mark name_mark;
    struct task_mark *dep_marks; /* one per depends_on entry */
};

struct task_mark y_mark(const yaml_node_t *n);
enum skyc_err y_fail(struct yctx *c, const yaml_node_t *n, const char *fmt,
                     ...) SKYC_PRINTF(3, 4);
yaml_node_t *y_node(struct yctx *c, int id);
/* Count a visited node against the file's budget (aliases repeat nodes). */
enum skyc_err y_visit(struct yctx *c, const yaml_node_t *n);
/* "a list", "a mapping" or the quoted scalar, for "got ..." messages. */
const char *y_describe(const yaml_node_t *n, char *buf, size_t size);
bool y_is_null(const yaml_node_t *n);
const char *y_text(const yaml_node_t *n);

/* Scalars. A null value leaves *out unset (NULL / untouched). */
enum skyc_err y_string(struct yctx *c, const yaml_node_t *n,
                       const char *field, char **out);
enum skyc_err y_bool(struct yctx *c, const yaml_node_t *n, const char *field,
                     bool *out);
enum skyc_err y_long(struct yctx *c, const yaml_node_t *n, const char *field,
                     long min, long max, long *out);
enum skyc_err y_number(struct yctx *c, const yaml_node_t *n,
                       const char *field, double *out);
/* A mapping of scalars to scalars (envs, labels); null values become "". */
enum skyc_err y_kv_map(struct yctx *c, const yaml_node_t *n,
                       const char *field, struct task_kv **out, size_t *nout);
/* A string or a list of strings. */
enum skyc_err y_string_list(struct yctx *c, const yaml_node_t *n,
                            const char *field, char ***out, size_t *nout,
                            struct task_mark **marks);

/*
 * Walk mapping n: each key must be a scalar in keys (NULL-terminated), at
 * most once; an unknown key is an error naming the nearest valid one. fn is
 * called with the key's index in keys.
 */
typedef enum skyc_err (*y_field_fn)(struct yctx *c, size_t key,
                                    yaml_node_t *k, yaml_node_t *v, void *ud);
enum skyc_err y_walk_map(struct yctx *c, const yaml_node_t *n,
                         const char *where, const char *const *keys,
                         y_field_fn fn, void *ud);

/* Format a libyaml parser failure as "FILE:LINE:COL: problem (context)". */
enum skyc_err y_parser_fail(const yaml_parser_t *p, const char *file,
                            const char *text, size_t len,
                            struct skyc_error *err);
/* Check nesting depth and document count with the event API. */
enum skyc_err y_prescan(const char *text, size_t len, const char *file,
                        struct skyc_error *err);

/* Parse one document's root mapping into t (zeroed by the caller). */
enum skyc_err task_parse(struct yctx *c, const yaml_node_t *root,
                         struct task *t, struct task_side *side);
/* Parse `resources:` into t->resources (one or more alternatives). */
enum skyc_err task_resources_parse(struct yctx *c, const yaml_node_t *n,
                                   struct task *t);
/* The single default alternative of a task without `resources:`. */
void task_resources_default(struct task *t);
void task_resources_release(struct task_resources *r);
void task_release(struct task *t);
void task_kv_release(struct task_kv *kv, size_t n);

#endif
