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

/* Parse a parallel-paths plan file (see copy.c) into paths; frees with
 * copy_paths_free. */
enum skyc_err copy_plan_load(const char *file, struct sender_path **paths,
                             size_t *npaths, struct skyc_error *err);
void copy_paths_free(struct sender_path *paths, size_t npaths);

#endif
