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
#include "transfer/wire.h"

#include <netinet/in.h>
#include <openssl/rand.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
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

static bool io_all(int fd, void *buf, size_t len, bool wr)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void status_to_result(const struct wire_status *ws,
                             struct copy_result *res)
{
    res->objects = ws->objects;
    res->unchanged = ws->unchanged;
    res->resumed = ws->resumed;
    res->st.total_bytes = ws->total_bytes;
    res->st.done_bytes = ws->done_bytes;
    res->st.skipped_bytes = ws->skipped_bytes;
    res->st.wire_bytes = ws->wire_bytes;
    res->st.chunks_total = ws->chunks_total;
    res->st.chunks_sent = ws->chunks_sent;
    res->st.chunks_skipped = ws->chunks_skipped;
    res->st.chunks_resent = ws->chunks_resent;
    res->st.conn_failures = ws->conn_failures;
    res->st.seconds = ws->seconds;
}

/* copy_opts.remote_src: the source gateway runs the copy, we follow it. */
static enum skyc_err copy_remote(const struct copy_opts *o,
                                 struct copy_result *res,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_USAGE;
    struct wire_source req = {0};
    struct strbuf sb = STRBUF_INIT;
    uint8_t *payload = NULL;
    int fd = -1;
    const char *sg = o->paths && o->npaths ? o->paths[0].hops[0] : NULL;
    if (!sg) {
        skyc_fail(err, rc, "--remote-src needs the source gateway as the "
                  "first hop (--plan with --gateway SRC_REGION=HOST:PORT, or "
                  "--to/--via)");
        goto out;
    }
    req.paths = xcalloc(o->npaths, sizeof(*req.paths));
    for (size_t i = 0; i < o->npaths; i++) {
        const struct sender_path *p = &o->paths[i];
        if (strcmp(p->hops[0], sg) != 0 || p->nhops < 2) {
            skyc_fail(err, rc, "--remote-src: path %zu (%s ...) must start at "
                      "the source gateway '%s' and go on from it", i + 1,
                      p->hops[0], sg);
            goto out;
        }
        struct wire_source_path *q = &req.paths[req.npaths++];
        q->hops = (char **)p->hops + 1;
        q->nhops = p->nhops - 1;
        q->conns = p->conns;
        q->key_to = (char *)p->key_to;
    }
    req.src = (char *)o->src;
    req.dst = (char *)o->dst;
    req.recursive = o->recursive;
    req.sync = o->sync;
    req.compress = o->compress;
    req.encrypt = o->encrypt;
    req.chunk_size = o->chunk_size;
    req.retries = o->max_retries;
    strbuf_addchars(&sb, 0, WIRE_HDR_LEN);
    wire_source_encode(&sb, &req);
    struct wire_hdr h = {0};
    h.type = WIRE_SOURCE;
    wire_frame_seal(&sb, &h);

    struct sockaddr_storage ss;
    if ((rc = wire_parse_addr(sg, &ss, err)) != SKYC_OK)
        goto out;
    rc = SKYC_E_NETWORK;
    /* the source reports every 200 ms: silence for a minute is a hang */
    struct timeval tv = {60, 0};
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
        connect(fd, (struct sockaddr *)&ss,
                ss.ss_family == AF_INET ? sizeof(struct sockaddr_in)
                                        : sizeof(struct sockaddr_in6)) != 0 ||
        !io_all(fd, sb.buf, sb.len, true)) {
        skyc_fail(err, rc, "cannot reach the source gateway '%s': %s", sg,
                  strerror(errno));
        goto out;
    }
    for (;;) {
        uint8_t hb[WIRE_HDR_LEN];
        struct wire_status ws;
        if (!io_all(fd, hb, sizeof(hb), false)) {
            skyc_fail(err, rc, "the source gateway '%s' closed the connection "
                      "before the copy finished (see its log)", sg);
            goto out;
        }
        if (wire_hdr_decode(&h, hb, sizeof(hb), err) != SKYC_OK)
            goto out;
        if (h.payload_len > (1u << 20)) {
            skyc_fail(err, rc, "source gateway '%s': %" PRIu32 "-byte reply",
                      sg, h.payload_len);
            goto out;
        }
        free(payload);
        payload = xmalloc(h.payload_len + 1);
        if (!io_all(fd, payload, h.payload_len, false)) {
            skyc_fail(err, rc, "the source gateway '%s' closed the connection "
                      "mid-reply", sg);
            goto out;
        }
        payload[h.payload_len] = '\0';
        if (h.type == WIRE_ERROR) {
            rc = skyc_fail(err, SKYC_E_FAILED, "source gateway '%s': %s", sg,
                           (char *)payload);
            goto out;
        }
        if (h.type != WIRE_STATUS)
            continue;
        if (wire_status_decode(&ws, payload, h.payload_len, err) != SKYC_OK)
            goto out;
        status_to_result(&ws, res);
        if (!ws.final) {
            if (o->progress)
                o->progress(&res->st, o->progress_arg);
            continue;
        }
        rc = (enum skyc_err)ws.code;
        if (rc != SKYC_OK)
            skyc_fail(err, rc, "source gateway '%s': %s", sg, ws.msg);
        goto out;
    }
out:
    if (fd >= 0)
        close(fd);
    free(payload);
    free(req.paths);
    strbuf_release(&sb);
    return rc;
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
    if (o->remote_src)
        return copy_remote(o, res, err);
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
