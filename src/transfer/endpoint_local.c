/*
 * endpoint_local.c - a local directory as an endpoint. Parts of a key go to
 * "<dir>/.<name>.skyc-part" with pwrite; commit truncates to size, syncs,
 * sets mtime and mode, and renames it over "<dir>/<name>". A commit that
 * finds no part written is a replay when the object is already there with
 * that size and mtime (success), else SKYC_E_NOT_FOUND. A whole-object
 * put writes a private part "<dir>/.<name>.<pid>-<seq>.skyc-part"; the
 * commit of <name> removes the private parts that dead writers (a gateway
 * killed mid-put) left behind for it.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "transfer/endpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

struct local_ep {
    struct endpoint base;
    char *root;
};

struct ep_writer {
    int fd;
    char *part;
    char *final;
};

static struct local_ep *L(struct endpoint *ep)
{
    return (struct local_ep *)ep;
}

static int64_t mtime_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static enum skyc_err walk(const char *root, struct strbuf *rel,
                          struct ep_list *out, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    char *dir = rel->len ? path_join(root, rel->buf) : xstrdup(root);
    DIR *d = opendir(dir);
    if (!d) {
        skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                  "cannot list '%s': %s", dir, strerror(errno));
        goto out;
    }
    struct dirent *de;
    size_t base = rel->len;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        size_t nl = strlen(de->d_name);
        if (nl > 11 && de->d_name[0] == '.' &&
            !strcmp(de->d_name + nl - 11, ".skyc-part"))
            continue; /* our own unfinished writes */
        strbuf_setlen(rel, base);
        if (base)
            strbuf_addch(rel, '/');
        strbuf_addstr(rel, de->d_name);
        char *full = path_join(root, rel->buf);
        struct stat st;
        int r = stat(full, &st);
        free(full);
        if (r != 0)
            continue; /* vanished or dangling link */
        if (S_ISDIR(st.st_mode)) {
            if (walk(root, rel, out, err) != SKYC_OK)
                goto out;
        } else if (S_ISREG(st.st_mode)) {
            ALLOC_GROW(out->v, out->n + 1, out->alloc);
            struct ep_object *o = &out->v[out->n++];
            o->key = xstrdup(rel->buf);
            o->size = (uint64_t)st.st_size;
            o->mtime_ns = mtime_of(&st);
            o->mode = st.st_mode & 07777;
        }
    }
    strbuf_setlen(rel, base);
    rc = SKYC_OK;
out:
    if (d)
        closedir(d);
    free(dir);
    return rc;
}

static enum skyc_err local_list(struct endpoint *ep, struct ep_list *out,
                                struct skyc_error *err)
{
    struct strbuf rel = STRBUF_INIT;
    enum skyc_err rc = walk(L(ep)->root, &rel, out, err);
    strbuf_release(&rel);
    return rc;
}

static enum skyc_err local_stat(struct endpoint *ep, const char *key,
                                struct ep_object *o, struct skyc_error *err)
{
    char *full = path_join(L(ep)->root, key);
    struct stat st;
    enum skyc_err rc = SKYC_OK;
    memset(o, 0, sizeof(*o));
    if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "no file '%s'", full);
    } else {
        o->key = xstrdup(key);
        o->size = (uint64_t)st.st_size;
        o->mtime_ns = mtime_of(&st);
        o->mode = st.st_mode & 07777;
    }
    free(full);
    return rc;
}

static enum skyc_err local_read(struct endpoint *ep, const char *key,
                                uint64_t off, void *buf, size_t len,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    char *full = path_join(L(ep)->root, key);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        skyc_fail(err, SKYC_E_IO, "cannot open '%s': %s", full,
                  strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done,
                          (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            skyc_fail(err, SKYC_E_IO, "cannot read '%s' at %" PRIu64 ": %s",
                      full, off + done,
                      n == 0 ? "file shrank during the transfer"
                             : strerror(errno));
            goto out;
        }
        done += (size_t)n;
    }
    rc = SKYC_OK;
out:
    if (fd >= 0)
        close(fd);
    free(full);
    return rc;
}

static enum skyc_err local_open_fd(struct endpoint *ep, const char *key,
                                   int *fd, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    char *full = path_join(L(ep)->root, key);
    *fd = open(full, O_RDONLY | O_CLOEXEC);
    if (*fd < 0)
        rc = skyc_fail(err, SKYC_E_IO, "cannot open '%s': %s", full,
                       strerror(errno));
    free(full);
    return rc;
}

/* The shared part of a multipart write, or (tag) a private one. */
static char *part_name(const char *full, const char *tag)
{
    const char *slash = strrchr(full, '/');
    if (!slash)
        return xasprintf(".%s%s.skyc-part", full, tag);
    return xasprintf("%.*s/.%s%s.skyc-part", (int)(slash - full), full,
                     slash + 1, tag);
}

/*
 * private: a part of this writer's own (a whole object in one go, put):
 * two puts of one key at once (a chunk resent while its first copy is
 * still being written) must not share a file, or the second rename finds
 * the part gone.
 */
static enum skyc_err writer_open(struct endpoint *ep, const char *key,
                                 bool private, struct ep_writer **wp,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct ep_writer *w = xcalloc(1, sizeof(*w));
    w->fd = -1;
    w->final = path_join(L(ep)->root, key);
    if (private) {
        static unsigned long seq;
        char tag[48];
        snprintf(tag, sizeof(tag), ".%ld-%lu", (long)getpid(),
                 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
        w->part = part_name(w->final, tag);
    } else {
        w->part = part_name(w->final, "");
    }
    char *slash = strrchr(w->final, '/');
    if (slash && slash != w->final) {
        char *dir = xstrndup(w->final, (size_t)(slash - w->final));
        int r = path_mkdir_p(dir, 0777);
        if (r != 0)
            skyc_fail(err, SKYC_E_IO, "cannot create directory '%s': %s", dir,
                      strerror(errno));
        free(dir);
        if (r != 0)
            goto out;
    }
    w->fd = open(w->part, O_WRONLY | O_CREAT | O_CLOEXEC |
                              (private ? O_EXCL : 0), 0666);
    if (w->fd < 0) {
        skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", w->part,
                  strerror(errno));
        goto out;
    }
    *wp = w;
    w = NULL;
    rc = SKYC_OK;
out:
    if (w) {
        free(w->final);
        free(w->part);
        free(w);
    }
    return rc;
}

static enum skyc_err local_write_open(struct endpoint *ep, const char *key,
                                      uint32_t part_size, int64_t mtime_ns,
                                      struct ep_writer **wp,
                                      struct skyc_error *err)
{
    return writer_open(ep, key, false, wp, err);
}

static enum skyc_err local_write_at(struct ep_writer *w, uint64_t off,
                                    const void *buf, size_t len,
                                    struct skyc_error *err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(w->fd, (const char *)buf + done, len - done,
                           (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", w->part,
                             n == 0 ? "no progress" : strerror(errno));
        done += (size_t)n;
    }
    return SKYC_OK;
}

static void local_write_close(struct ep_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->part);
    free(w->final);
    free(w);
}

/*
 * After <final> is committed: unlink ".<name>.<pid>-<seq>.skyc-part" files
 * whose writer process is gone (it died before its rename). Live writers,
 * this process's own and unparsable names are left alone.
 */
static void sweep_dead_parts(const char *final)
{
    const char *slash = strrchr(final, '/');
    char *dir = slash ? xstrndup(final, (size_t)(slash - final)) : xstrdup(".");
    const char *name = slash ? slash + 1 : final;
    size_t nl = strlen(name);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        const char *e = de->d_name;
        size_t el = strlen(e);
        if (el <= nl + 12 || e[0] != '.' || strncmp(e + 1, name, nl) != 0 ||
            e[nl + 1] != '.' || strcmp(e + el - 10, ".skyc-part") != 0)
            continue;
        char *end;
        long pid = strtol(e + nl + 2, &end, 10);
        if (pid <= 0 || *end != '-' || pid == (long)getpid())
            continue;
        strtoul(end + 1, &end, 10);
        if (end != e + el - 10)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char *p = path_join(dir, e);
        (void)unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    free(dir);
}

static enum skyc_err local_write_commit(struct ep_writer *w, uint64_t size,
                                        int64_t mtime_ns, uint32_t mode,
                                        struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct stat pst, fst;
    if (fstat(w->fd, &pst) != 0) {
        skyc_fail(err, rc, "cannot stat '%s': %s", w->part, strerror(errno));
        goto out;
    }
    if (pst.st_size == 0 && size > 0) {
        /* nothing was written: this opened (created) an empty part. A
         * commit replayed after its acknowledgement was lost finds the
         * object already there; anything else lost its parts. Never
         * truncate an empty part over the object. */
        (void)unlink(w->part);
        if (stat(w->final, &fst) == 0 && S_ISREG(fst.st_mode) &&
            (uint64_t)fst.st_size == size &&
            (mtime_ns <= 0 || mtime_of(&fst) == mtime_ns)) {
            sweep_dead_parts(w->final);
            rc = SKYC_OK;
            goto out;
        }
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no part of '%s' was written", w->final);
        goto out;
    }
    if (ftruncate(w->fd, (off_t)size) != 0) {
        skyc_fail(err, rc, "cannot size '%s': %s", w->part, strerror(errno));
        goto out;
    }
    if (size >= (64u << 20) && fdatasync(w->fd) != 0) {
        skyc_fail(err, rc, "cannot sync '%s': %s", w->part, strerror(errno));
        goto out;
    }
    if (mode)
        (void)fchmod(w->fd, mode & 07777);
    if (mtime_ns > 0) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = (time_t)(mtime_ns / 1000000000);
        ts[0].tv_nsec = ts[1].tv_nsec = (long)(mtime_ns % 1000000000);
        (void)futimens(w->fd, ts);
    }
    if (rename(w->part, w->final) != 0) {
        skyc_fail(err, rc, "cannot rename '%s' to '%s': %s", w->part,
                  w->final, strerror(errno));
        goto out;
    }
    sweep_dead_parts(w->final);
    rc = SKYC_OK;
out:
    local_write_close(w);
    return rc;
}

static enum skyc_err local_put(struct endpoint *ep, const char *key,
                               const void *buf, size_t len, int64_t mtime_ns,
                               uint32_t mode, struct skyc_error *err)
{
    struct ep_writer *w = NULL;
    enum skyc_err rc = writer_open(ep, key, true, &w, err);
    if (rc == SKYC_OK && len)
        rc = local_write_at(w, 0, buf, len, err);
    if (rc == SKYC_OK)
        return local_write_commit(w, len, mtime_ns, mode, err);
    if (w)
        (void)unlink(w->part); /* nobody else will continue it */
    local_write_close(w);
    return rc;
}

static enum skyc_err local_remove(struct endpoint *ep, const char *key,
                                  struct skyc_error *err)
{
    char *full = path_join(L(ep)->root, key);
    enum skyc_err rc = SKYC_OK;
    if (unlink(full) != 0)
        rc = skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                       "cannot delete '%s': %s", full, strerror(errno));
    free(full);
    return rc;
}

static void local_free(struct endpoint *ep)
{
    free(L(ep)->root);
    free(ep->spec);
    free(ep);
}

static const struct endpoint_ops local_ops = {
    .scheme = "file",
    .list = local_list,
    .stat = local_stat,
    .read = local_read,
    .open_fd = local_open_fd,
    .put = local_put,
    .write_open = local_write_open,
    .write_at = local_write_at,
    .write_commit = local_write_commit,
    .write_close = local_write_close,
    .remove = local_remove,
    .free = local_free,
};

enum skyc_err endpoint_local_open(const char *root, struct endpoint **ep,
                                  struct skyc_error *err)
{
    struct local_ep *l = xcalloc(1, sizeof(*l));
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    l->root = xstrndup(root, n);
    l->base.ops = &local_ops;
    l->base.spec = xstrdup(root);
    *ep = &l->base;
    return SKYC_OK;
}
