/*
 * copy.c - the plane-level entry point of cp and sync.
 *
 * Plan files (--plan) are read by copyplan.c.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "transfer/chunk.h"
#include "transfer/copy.h"
#include "transfer/endpoint.h"
#include "transfer/gateway.h"
#include "transfer/manifest.h"

#include <openssl/rand.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void split_path(const char *p, char **dir, char **base)
{
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    const char *slash = NULL;
    for (size_t i = 0; i < n; i++)
        if (p[i] == '/')
            slash = p + i;
    if (!slash) {
        *dir = xstrdup(".");
        *base = xstrndup(p, n);
    } else {
        *dir = slash == p ? xstrdup("/") : xstrndup(p, (size_t)(slash - p));
        *base = xstrndup(slash + 1, (size_t)(p + n - slash - 1));
    }
}

/* Fork a gateway on 127.0.0.1 and return its address and pid. */
static enum skyc_err spawn_local(char *addr, size_t size, pid_t *pid,
                                 struct skyc_error *err)
{
    int fds[2];
    if (pipe(fds) != 0)
        return skyc_fail(err, SKYC_E_IO, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t p = fork();
    if (p < 0) {
        close(fds[0]);
        close(fds[1]);
        return skyc_fail(err, SKYC_E_IO, "fork: %s", strerror(errno));
    }
    if (p == 0) {
        struct gateway_opts go = {0};
        struct skyc_error gerr = {0};
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[1]);
        log_init("gateway");
        go.listen = "127.0.0.1:0";
        go.exit_with_parent = true;
        int rc = gateway_run(&go, &gerr);
        if (rc != SKYC_OK)
            fprintf(stderr, "skyc: error: %s\n", gerr.msg);
        fflush(stdout);
        _exit(rc);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    char line[128] = "";
    bool ok = in && fgets(line, sizeof(line), in) &&
              strncmp(line, "listening on ", 13) == 0;
    if (in)
        fclose(in);
    else
        close(fds[0]);
    if (!ok) {
        kill(p, SIGKILL);
        waitpid(p, NULL, 0);
        return skyc_fail(err, SKYC_E_NETWORK,
                         "the local gateway did not start");
    }
    line[strcspn(line, "\n")] = '\0';
    snprintf(addr, size, "%s", line + 13);
    *pid = p;
    return SKYC_OK;
}

static bool same_object(struct endpoint *dst, const char *key,
                        const struct ep_object *src)
{
    struct ep_object d;
    bool same = false;
    if (dst->ops->stat(dst, key, &d, NULL) == SKYC_OK) {
        same = d.size == src->size &&
               (d.mtime_ns / 1000) == (src->mtime_ns / 1000);
        free(d.key);
    }
    return same;
}

enum skyc_err copy_run(const struct copy_opts *o, struct copy_result *res,
                       struct skyc_error *err)
{
    enum skyc_err rc;
    struct endpoint *src = NULL, *dstep = NULL;
    struct ep_list all = {0}, objs = {0};
    struct chunk_layout lay = {0};
    struct manifest m = {0};
    char **dst_keys = NULL;
    char *sdir = NULL, *sbase = NULL, *droot = NULL;
    pid_t gw_pid = 0;
    char gw_addr[96];
    struct sender_path local_path;
    const char *local_hops[1];
    memset(res, 0, sizeof(*res));
    if (strncmp(o->dst, "s3://", 5) == 0 && o->chunk_size < (5u << 20)) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--chunk-size must be at least 5M for an S3 "
                       "destination (S3's smallest multipart part)");
        goto out;
    }

    struct stat st;
    bool src_s3 = strncmp(o->src, "s3://", 5) == 0;
    bool dst_s3 = strncmp(o->dst, "s3://", 5) == 0;
    bool src_dir = src_s3 ? o->recursive || o->sync
                          : stat(o->src, &st) == 0 && S_ISDIR(st.st_mode);
    if (o->recursive || o->sync) {
        if (!src_dir) {
            rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                           "source '%s' is not a directory", o->src);
            goto out;
        }
        if ((rc = endpoint_open(o->src, &src, err)) != SKYC_OK ||
            (rc = src->ops->list(src, &all, err)) != SKYC_OK)
            goto out;
        droot = xstrdup(o->dst);
    } else {
        if (src_dir) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "'%s' is a directory (use -r to copy it)", o->src);
            goto out;
        }
        split_path(o->src, &sdir, &sbase);
        if ((rc = endpoint_open(sdir, &src, err)) != SKYC_OK)
            goto out;
        ALLOC_GROW(all.v, 1, all.alloc);
        if ((rc = src->ops->stat(src, sbase, &all.v[0], err)) != SKYC_OK)
            goto out;
        all.n = 1;
        size_t dl = strlen(o->dst);
        struct stat dst_st;
        dst_keys = xcalloc(2, sizeof(char *));
        if ((dl && o->dst[dl - 1] == '/') ||
            (!dst_s3 && stat(o->dst, &dst_st) == 0 &&
             S_ISDIR(dst_st.st_mode))) {
            droot = xstrdup(o->dst);
            dst_keys[0] = xstrdup(sbase);
        } else {
            split_path(o->dst, &droot, &dst_keys[0]);
        }
    }
    ep_list_sort(&all);
    if ((rc = endpoint_open(droot, &dstep, err)) != SKYC_OK)
        goto out;
    /* what to move */
    for (size_t i = 0; i < all.n; i++) {
        const char *dk = dst_keys ? dst_keys[0] : all.v[i].key;
        if (o->sync && same_object(dstep, dk, &all.v[i])) {
            res->unchanged++;
            free(all.v[i].key);
            continue;
        }
        ALLOC_GROW(objs.v, objs.n + 1, objs.alloc);
        objs.v[objs.n++] = all.v[i];
    }
    all.n = 0;
    res->objects = objs.n;
    chunk_layout_build(&lay, &objs, o->chunk_size);
    char id[65];
    char *src_spec = src_s3 ? NULL : realpath(o->src, NULL);
    manifest_id(id, src_spec ? src_spec : o->src, o->dst, o->chunk_size,
                (o->compress ? 1u : 0u) | (o->encrypt ? 2u : 0u), &objs);
    free(src_spec);
    if ((rc = manifest_open(&m, id, lay.nchunks, objs.n, err)) != SKYC_OK)
        goto out;
    res->resumed = m.loaded_chunks > 0;

    struct sender_opts so = {0};
    so.src = src;
    so.objs = &objs;
    so.lay = &lay;
    so.dst_keys = dst_keys;
    so.manifest = &m;
    so.part_size = o->chunk_size;
    so.codec.compress = o->compress;
    so.codec.level = 1;
    so.codec.encrypt = o->encrypt;
    if (o->encrypt && RAND_bytes(so.codec.key, 32) != 1) {
        rc = skyc_fail(err, SKYC_E_INTERNAL, "no random bytes for the key");
        goto out;
    }
    so.max_retries = o->max_retries;
    so.progress = o->progress;
    so.progress_arg = o->progress_arg;
    if (o->paths) {
        so.paths = o->paths;
        so.npaths = o->npaths;
        so.dest = droot;
    } else {
        char *abs = NULL;
        if ((rc = spawn_local(gw_addr, sizeof(gw_addr), &gw_pid, err)) !=
            SKYC_OK)
            goto out;
        if (!dst_s3 && path_mkdir_p(droot, 0777) == 0)
            abs = realpath(droot, NULL);
        if (abs) {
            free(droot);
            droot = abs;
        }
        local_hops[0] = gw_addr;
        local_path.hops = local_hops;
        local_path.nhops = 1;
        local_path.conns = o->local_conns > 0 ? o->local_conns : 4;
        so.paths = &local_path;
        so.npaths = 1;
        so.dest = droot;
    }
    rc = sender_run(&so, &res->st, err);
    memset(so.codec.key, 0, sizeof(so.codec.key));
    if (rc == SKYC_OK)
        manifest_remove(&m);
out:
    if (gw_pid > 0) {
        kill(gw_pid, SIGTERM);
        waitpid(gw_pid, NULL, 0);
    }
    manifest_release(&m);
    chunk_layout_release(&lay);
    ep_list_release(&objs);
    ep_list_release(&all);
    if (dst_keys) {
        free(dst_keys[0]);
        free(dst_keys);
    }
    endpoint_free(src);
    endpoint_free(dstep);
    free(sdir);
    free(sbase);
    free(droot);
    return rc;
}

void copy_paths_free(struct sender_path *paths, size_t npaths)
{
    if (!paths)
        return;
    for (size_t i = 0; i < npaths; i++) {
        for (size_t j = 0; j < paths[i].nhops; j++)
            free((char *)paths[i].hops[j]);
        free(paths[i].hops);
        free((char *)paths[i].key_to);
    }
    free(paths);
}
