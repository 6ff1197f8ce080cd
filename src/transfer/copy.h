/*
 * copy.h - one `skyc cp` / `skyc sync`: list the source, pick what to move,
 * lay out chunks, open the manifest, start a local gateway when no remote
 * one is given, run the sender, and report.
 *
 * SRC and DST are endpoint specs. With recursive, every object under SRC is
 * copied to the same relative key under DST. Without it SRC must be one
 * object: it goes to DST, or to DST/<name> when DST ends in '/' or is an
 * existing directory. With paths (gateway hops, the last one writing) DST is
 * a spec on the last hop; without, a gateway is forked on 127.0.0.1 for the
 * duration and DST is local.
 */
#ifndef SKYC_TRANSFER_COPY_H
#define SKYC_TRANSFER_COPY_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/sender.h"

struct copy_opts {
    const char *src;
    const char *dst;
    bool recursive;
    bool sync;   /* skip objects whose size and mtime already match at DST */
    uint32_t chunk_size;
    bool compress;
    bool encrypt;
    const struct sender_path *paths; /* NULL: spawn a local gateway */
    size_t npaths;
    int local_conns;                 /* connections to the local gateway */
    int max_retries;
    /*
     * SRC is on the source gateway (every path's first hop, the same for
     * all): send it a SOURCE request (wire.h) so that it reads SRC from its
     * own endpoint and runs the copy along the rest of the paths, and follow
     * its STATUS frames. The manifest is the source gateway's.
     */
    bool remote_src;
    sender_progress_fn progress;
    void *progress_arg;
};

struct copy_result {
    struct sender_stats st;
    size_t objects;      /* objects in the transfer */
    size_t unchanged;    /* sync: objects already up to date */
    bool resumed;        /* the manifest had chunks from an earlier run */
};

enum skyc_err copy_run(const struct copy_opts *o, struct copy_result *res,
                       struct skyc_error *err);

/*
 * Plan files for `skyc cp --plan FILE` (copyplan.c), JSON in either form:
 *
 * - the output of `skyc transfer plan SRC DST --json`: its per-edge flows
 *   are decomposed into paths SRC -> relays -> DST, and each region is
 *   mapped to gateway addresses by gateways[] ("REGION=HOST:PORT[,HOST:PORT
 *   ...]", from --gateway; several addresses spread a path over several
 *   VMs). Relays and DST need an address; SRC's is optional (given, this
 *   client sends through it, else this client is the source gateway).
 *   Connections go to paths in proportion to the plan's integer
 *   connections on each path's first edge, scaled down so they total at
 *   most max_conns (each path at least 1).
 * - the hand-written form {"paths": [{"hops": ["HOST:PORT", ...],
 *   "connections": N, "key_to": "HOST:PORT"}, ...]}: each path a chain of
 *   gateways, the last hop writing; key_to (optional) is where this client
 *   reaches the last hop itself for the --encrypt key. gateways must be
 *   empty for it.
 *
 * On failure *paths is NULL and err says what and where (file:line:col for
 * bad JSON). The result is freed with copy_paths_free.
 */
#define COPY_PLAN_MAX_PATHS 16
#define COPY_PLAN_MAX_CONNS 64 /* default total for a planner plan */

enum skyc_err copy_plan_parse(const char *name, const char *text, size_t len,
                              const char *const *gateways, size_t ngateways,
                              int max_conns, struct sender_path **paths,
                              size_t *npaths, struct skyc_error *err);
enum skyc_err copy_plan_load(const char *file, const char *const *gateways,
                             size_t ngateways, int max_conns,
                             struct sender_path **paths, size_t *npaths,
                             struct skyc_error *err);
void copy_paths_free(struct sender_path *paths, size_t npaths);

#endif
