/*
 * backend.c - the local-directory backend (see backend.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "store/backend.h"
#include "transfer/endpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static enum skyc_err mkdir_p1(const char *path, struct skyc_error *err)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        return skyc_fail(err, SKYC_E_IO, "cannot create directory '%s': %s",
                         path, strerror(errno));
    return SKYC_OK;
}

enum skyc_err backend_open(struct backend *be, const char *root, bool fsync,
                           struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct strbuf p = STRBUF_INIT;
    memset(be, 0, sizeof(*be));
    be->kind = xstrdup("local");
    be->root = xstrdup(root);
    be->fsync = fsync;
    if ((rc = mkdir_p1(root, err)))
        goto out;
    strbuf_addf(&p, "%s/blobs", root);
    if ((rc = mkdir_p1(p.buf, err)))
        goto out;
    for (int i = 0; i < 256; i++) {
        strbuf_reset(&p);
        strbuf_addf(&p, "%s/blobs/%02x", root, i);
        if ((rc = mkdir_p1(p.buf, err)))
            goto out;
    }
    strbuf_reset(&p);
    strbuf_addf(&p, "%s/tmp", root);
    if ((rc = mkdir_p1(p.buf, err)))
        goto out;
    /* a crash mid-write leaves files here: they were never visible */
    DIR *d = opendir(p.buf);
    if (!d) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot read '%s': %s", p.buf,
                       strerror(errno));
        goto out;
    }
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rc = SKYC_OK;
out:
    strbuf_release(&p);
    if (rc)
        backend_release(be);
    return rc;
}

enum skyc_err backend_open_s3(struct backend *be, const char *spool,
                              const struct backend_s3_config *c, bool fsync,
                              struct skyc_error *err)
{
    struct strbuf spec = STRBUF_INIT;
    struct endpoint *ep = NULL;
    enum skyc_err rc;
    struct endpoint_s3_opts o = {c->url, c->access_key, c->secret_key,
                                 c->region};
    strbuf_addf(&spec, "s3://%s", c->bucket);
    if (c->prefix && *c->prefix)
        strbuf_addf(&spec, "/%s", c->prefix);
    if ((rc = endpoint_s3_open_with(spec.buf, &o, &ep, err)))
        goto out;
    /* the spool is laid out as a local backend: its tmp/ takes writes */
    if ((rc = backend_open(be, spool, fsync, err)))
        goto out;
    free(be->kind);
    be->kind = xstrdup("s3");
    be->remote = ep;
    ep = NULL;
out:
    if (ep)
        endpoint_free(ep);
    strbuf_release(&spec);
    return rc;
}

void backend_release(struct backend *be)
{
    FREE_AND_NULL(be->kind);
    FREE_AND_NULL(be->root);
    if (be->remote)
        endpoint_free(be->remote);
    be->remote = NULL;
}

/* Send the spooled blob of w to the remote bucket under its id. */
static enum skyc_err remote_upload(struct blob_writer *w,
                                   struct skyc_error *err)
{
    const struct endpoint_ops *ops = w->be->remote->ops;
    const size_t part = 8u << 20;
    enum skyc_err rc = SKYC_E_IO;
    struct ep_writer *ew = NULL;
    char *buf = NULL;
    int fd = open(w->tmp_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return skyc_fail(err, SKYC_E_IO, "cannot reopen '%s': %s",
                         w->tmp_path, strerror(errno));
    buf = xmalloc(w->size > 2 * part ? part : (size_t)w->size + 1);
    if (w->size <= 2 * part) {
        ssize_t got = pread(fd, buf, (size_t)w->size, 0);
        if (got != (ssize_t)w->size) {
            rc = skyc_fail(err, SKYC_E_IO, "short read of '%s'", w->tmp_path);
            goto out;
        }
        rc = ops->put(w->be->remote, w->id, buf, (size_t)w->size, 0, 0, err);
        goto out;
    }
    if ((rc = ops->write_open(w->be->remote, w->id, (uint32_t)part, 0, &ew,
                              err)))
        goto out;
    for (uint64_t off = 0; off < w->size; off += part) {
        size_t n = w->size - off < part ? (size_t)(w->size - off) : part;
        ssize_t got = pread(fd, buf, n, (off_t)off);
        if (got != (ssize_t)n) {
            rc = skyc_fail(err, SKYC_E_IO, "short read of '%s'", w->tmp_path);
            goto out;
        }
        if ((rc = ops->write_at(ew, off, buf, n, err)))
            goto out;
    }
    rc = ops->write_commit(ew, w->size, 0, 0, err);
    ew = NULL; /* freed by commit either way */
out:
    if (ew)
        ops->write_close(ew);
    free(buf);
    close(fd);
    return rc;
}

static void new_id(char id[BLOB_ID_LEN + 1])
{
    uint8_t r[16];
    static const char hx[] = "0123456789abcdef";
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* getrandom on Linux does not fail for 16 bytes once seeded */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t a = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
                     (uint64_t)getpid() << 48;
        memcpy(r, &a, 8);
        memcpy(r + 8, &a, 8);
    }
    for (int i = 0; i < 16; i++) {
        id[2 * i] = hx[r[i] >> 4];
        id[2 * i + 1] = hx[r[i] & 15];
    }
    id[BLOB_ID_LEN] = '\0';
}

static void blob_path(struct backend *be, const char *id, struct strbuf *out)
{
    strbuf_addf(out, "%s/blobs/%.2s/%s", be->root, id, id);
}

enum skyc_err backend_create(struct backend *be, struct blob_writer *w,
                             struct skyc_error *err)
{
    char id[BLOB_ID_LEN + 1];
    new_id(id);
    return backend_create_id(be, w, id, err);
}

enum skyc_err backend_create_id(struct backend *be, struct blob_writer *w,
                                const char *id, struct skyc_error *err)
{
    memset(w, 0, sizeof(*w));
    w->be = be;
    w->fd = -1;
    snprintf(w->id, sizeof(w->id), "%s", id);
    w->tmp_path = xasprintf("%s/tmp/%s", be->root, w->id);
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        enum skyc_err rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s",
                                     w->tmp_path, strerror(errno));
        FREE_AND_NULL(w->tmp_path);
        return rc;
    }
    return SKYC_OK;
}

enum skyc_err backend_write(struct blob_writer *w, const void *data,
                            size_t len, struct skyc_error *err)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(w->fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s",
                             w->tmp_path, strerror(errno));
        }
        p += n;
        len -= (size_t)n;
        w->size += (uint64_t)n;
        __atomic_fetch_add(&w->be->bytes_written, (uint64_t)n,
                           __ATOMIC_RELAXED);
    }
    return SKYC_OK;
}

/* Append [off, off+len) of blob src_id of the local backend src (w's own,
 * or another region's on any local filesystem): in the kernel. */
static enum skyc_err append_local(struct blob_writer *w, struct backend *src,
                                  const char *src_id, uint64_t off,
                                  uint64_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    int fd = -1;
    uint64_t size;
    if ((rc = backend_open_read(src, src_id, &fd, &size, err)))
        return rc;
    rc = SKYC_E_IO;
    if (off > size || len > size - off) {
        rc = skyc_fail(err, SKYC_E_INTERNAL, "blob '%s' is shorter than %" PRIu64,
                       src_id, off + len);
        goto out;
    }
    loff_t in_off = (loff_t)off;
    while (len) {
        ssize_t n = copy_file_range(fd, &in_off, w->fd, NULL,
                                    len > (1u << 30) ? (1u << 30) : len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) {
            /* fall back to read/write */
            char buf[1 << 16];
            ssize_t r = pread(fd, buf, len > sizeof(buf) ? sizeof(buf) : len,
                              in_off);
            if (r <= 0)
                goto ioerr;
            backend_count_read(w->be, (uint64_t)r);
            if ((rc = backend_write(w, buf, (size_t)r, err)))
                goto out;
            rc = SKYC_E_IO;
            in_off += r;
            len -= (uint64_t)r;
            continue;
        }
        if (n <= 0)
            goto ioerr;
        len -= (uint64_t)n;
        w->size += (uint64_t)n;
        backend_count_read(w->be, (uint64_t)n);
        __atomic_fetch_add(&w->be->bytes_written, (uint64_t)n,
                           __ATOMIC_RELAXED);
    }
    rc = SKYC_OK;
    goto out;
ioerr:
    rc = skyc_fail(err, SKYC_E_IO, "cannot copy blob '%s': %s", src_id,
                   strerror(errno ? errno : EIO));
out:
    close(fd);
    return rc;
}

static void fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

enum skyc_err backend_commit(struct blob_writer *w, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct strbuf dst = STRBUF_INIT;
    if (w->be->remote) {
        if (close(w->fd) < 0) {
            w->fd = -1;
            rc = skyc_fail(err, SKYC_E_IO, "cannot close '%s': %s",
                           w->tmp_path, strerror(errno));
            goto out;
        }
        w->fd = -1;
        rc = remote_upload(w, err);
        unlink(w->tmp_path);
        FREE_AND_NULL(w->tmp_path);
        goto out;
    }
    blob_path(w->be, w->id, &dst);
    if (w->be->fsync && fdatasync(w->fd) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot sync '%s': %s", w->tmp_path,
                       strerror(errno));
        goto out;
    }
    if (close(w->fd) < 0) {
        w->fd = -1;
        rc = skyc_fail(err, SKYC_E_IO, "cannot close '%s': %s", w->tmp_path,
                       strerror(errno));
        goto out;
    }
    w->fd = -1;
    if (rename(w->tmp_path, dst.buf) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot rename '%s' to '%s': %s",
                       w->tmp_path, dst.buf, strerror(errno));
        goto out;
    }
    if (w->be->fsync) {
        strbuf_setlen(&dst, dst.len - BLOB_ID_LEN - 1);
        fsync_dir(dst.buf);
    }
    FREE_AND_NULL(w->tmp_path);
    rc = SKYC_OK;
out:
    strbuf_release(&dst);
    if (rc)
        backend_abort(w);
    return rc;
}

void backend_abort(struct blob_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp_path)
        unlink(w->tmp_path);
    FREE_AND_NULL(w->tmp_path);
}

enum skyc_err backend_open_read(struct backend *be, const char *id, int *fd,
                                uint64_t *size, struct skyc_error *err)
{
    struct strbuf p = STRBUF_INIT;
    struct stat st;
    enum skyc_err rc = SKYC_OK;
    *fd = -1;
    if (be->remote)
        return skyc_fail(err, SKYC_E_USAGE,
                         "blob '%s' is in a remote backend (%s): read it "
                         "through a blob_reader", id, be->remote->spec);
    blob_path(be, id, &p);
    *fd = open(p.buf, O_RDONLY | O_CLOEXEC);
    if (*fd < 0) {
        rc = skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                       "cannot open blob '%s': %s", p.buf, strerror(errno));
    } else if (fstat(*fd, &st) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot stat '%s': %s", p.buf,
                       strerror(errno));
        close(*fd);
        *fd = -1;
    } else {
        *size = (uint64_t)st.st_size;
    }
    strbuf_release(&p);
    return rc;
}

enum skyc_err backend_reader_open(struct backend *be, const char *id,
                                  struct blob_reader *rd,
                                  struct skyc_error *err)
{
    memset(rd, 0, sizeof(*rd));
    rd->be = be;
    rd->fd = -1;
    snprintf(rd->id, sizeof(rd->id), "%s", id);
    if (be->remote) {
        struct ep_object o = {0};
        enum skyc_err rc = be->remote->ops->stat(be->remote, id, &o, err);
        rd->size = o.size;
        free(o.key);
        return rc;
    }
    return backend_open_read(be, id, &rd->fd, &rd->size, err);
}

enum skyc_err backend_reader_read(struct blob_reader *rd, uint64_t off,
                                  void *buf, size_t len,
                                  struct skyc_error *err)
{
    char *p = buf;
    if (rd->be->remote)
        return len ? rd->be->remote->ops->read(rd->be->remote, rd->id, off,
                                               buf, len, err)
                   : SKYC_OK;
    while (len) {
        ssize_t got = pread(rd->fd, p, len, (off_t)off);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return skyc_fail(err, SKYC_E_IO,
                             "short read of blob '%s' at %" PRIu64 ": %s",
                             rd->id, off, got < 0 ? strerror(errno) : "end");
        p += got;
        len -= (size_t)got;
        off += (uint64_t)got;
    }
    return SKYC_OK;
}

enum skyc_err backend_append_blob(struct blob_writer *w, const char *src_id,
                                  uint64_t off, uint64_t len,
                                  struct skyc_error *err)
{
    return append_local(w, w->be, src_id, off, len, err);
}

void backend_reader_close(struct blob_reader *rd)
{
    if (rd->fd >= 0)
        close(rd->fd);
    rd->fd = -1;
}

enum skyc_err backend_append_from(struct blob_writer *w, struct backend *src,
                                  const char *src_id, uint64_t off,
                                  uint64_t len, struct skyc_error *err)
{
    if (!src->remote && !w->be->remote)
        return append_local(w, src, src_id, off, len, err);
    struct blob_reader rd;
    enum skyc_err rc = backend_reader_open(src, src_id, &rd, err);
    char *buf = NULL;
    if (rc)
        goto out;
    if (off > rd.size || len > rd.size - off) {
        rc = skyc_fail(err, SKYC_E_INTERNAL,
                       "blob '%s' is shorter than %" PRIu64, src_id, off + len);
        goto out;
    }
    /* a remote is read in large ranges (one request each); writes go in
     * cache-sized pieces: the kernel copies 4 MiB writes several times
     * slower per byte than 256 KiB ones */
    const size_t piece = 256u << 10, chunk = src->remote ? 4u << 20 : piece;
    buf = xmalloc(chunk);
    while (len) {
        size_t n = len > chunk ? chunk : (size_t)len;
        if ((rc = backend_reader_read(&rd, off, buf, n, err)))
            goto out;
        backend_count_read(src, n);
        for (size_t at = 0; at < n; at += piece)
            if ((rc = backend_write(w, buf + at, n - at < piece ? n - at : piece,
                                    err)))
                goto out;
        off += n;
        len -= n;
    }
out:
    free(buf);
    backend_reader_close(&rd);
    return rc;
}

void backend_remove(struct backend *be, const char *id)
{
    struct strbuf p = STRBUF_INIT;
    if (be->remote) {
        struct skyc_error err = {0};
        if (strlen(id) == BLOB_ID_LEN &&
            be->remote->ops->remove(be->remote, id, &err) &&
            err.code != SKYC_E_NOT_FOUND)
            log_warning("store: removing blob from %s: %s", be->remote->spec,
                        err.msg);
        skyc_error_clear(&err);
        return;
    }
    if (strlen(id) == BLOB_ID_LEN) {
        blob_path(be, id, &p);
        unlink(p.buf);
    }
    strbuf_release(&p);
}

/* A remote key that is one of our blobs (the bucket may hold more). */
static bool is_blob_id(const char *k)
{
    if (strlen(k) != BLOB_ID_LEN)
        return false;
    for (; *k; k++)
        if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'f')))
            return false;
    return true;
}

size_t backend_sweep(struct backend *be, backend_keep_fn keep, void *ctx)
{
    struct strbuf p = STRBUF_INIT;
    size_t removed = 0;
    if (be->remote) {
        struct ep_list l = {0};
        struct skyc_error err = {0};
        if (be->remote->ops->list(be->remote, &l, &err))
            log_warning("store: cannot list %s to clear a crash's "
                        "leftovers: %s",
                        be->remote->spec, err.msg);
        else
            for (size_t i = 0; i < l.n; i++)
                if (is_blob_id(l.v[i].key) && !keep(ctx, l.v[i].key) &&
                    be->remote->ops->remove(be->remote, l.v[i].key, &err) ==
                        SKYC_OK)
                    removed++;
        skyc_error_clear(&err);
        ep_list_release(&l);
        return removed;
    }
    for (int i = 0; i < 256; i++) {
        strbuf_reset(&p);
        strbuf_addf(&p, "%s/blobs/%02x", be->root, i);
        DIR *d = opendir(p.buf);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.' && !keep(ctx, e->d_name) &&
                unlinkat(dirfd(d), e->d_name, 0) == 0)
                removed++;
        closedir(d);
    }
    strbuf_release(&p);
    return removed;
}
