/*
 * yaml_config.h - what the providers' YAML config readers share (the sim
 * fault file, the ssh host pool): loading one document with libyaml and
 * reporting errors as "FILE:LINE:COL: what" with a did-you-mean for keys.
 *
 * Every failure is SKYC_E_INPUT, recorded in the caller's struct
 * skyc_error. Node pointers and scalar strings point into the document and
 * live only while ycfg_parse() runs its callback.
 */
#ifndef SKYC_PROVISION_YAML_CONFIG_H
#define SKYC_PROVISION_YAML_CONFIG_H

#include "core/common.h"
#include "core/error.h"

#include <yaml.h>

struct ycfg {
    const char *file; /* name used in messages */
    yaml_document_t *doc;
    struct skyc_error *err;
};

/* Record "FILE:LINE:COL: <fmt>" at node n (line 1 when n is NULL). */
enum skyc_err ycfg_fail(struct ycfg *c, const yaml_node_t *n, const char *fmt,
                        ...) SKYC_PRINTF(3, 4);
/* The text of a scalar node, or NULL for any other node (or NULL). */
const char *ycfg_scalar(const yaml_node_t *n);
/* *out = a non-empty scalar, else "KEY: expected a value". */
enum skyc_err ycfg_want(struct ycfg *c, const yaml_node_t *n, const char *key,
                        const char **out);
/* Whether k is one of the NULL-terminated keys (false for NULL k). */
bool ycfg_key_known(const char *k, const char *const *keys);
/* "WHERE: unknown key 'K'" with the nearest key, or the list of them. */
enum skyc_err ycfg_unknown_key(struct ycfg *c, const yaml_node_t *kn,
                               const char *where, const char *const *keys);

typedef enum skyc_err (*ycfg_root_fn)(struct ycfg *c,
                                      const yaml_node_t *root, void *arg);
/* Load text[0..len) as one YAML document and hand its root to fn. */
enum skyc_err ycfg_parse(const char *name, const char *text, size_t len,
                         ycfg_root_fn fn, void *arg, struct skyc_error *err);

#endif
