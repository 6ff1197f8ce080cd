/*
 * server_place.c - the placement engine (store/placement.h) wired into the
 * S3 server: a bucket spanning several regions, one endpoint per region.
 *
 * Physical layout: every copy of an object is a blob with the SAME id in
 * its region's backend (store/backend.h: a local directory or a remote S3
 * bucket); the object's metadata row (store/meta.h) names the blob id and
 * the primary's region, and one copies row per replica names its region
 * (recorded after the bytes are durable, removed before they go). A GET
 * reads a replica only when its copies row exists; otherwise the primary.
 *
 * Locking: place_mu serialises the engine and is held only for the
 * engine's call and for bookkeeping in memory: no copy, no fsync, no
 * remote call runs under it. A plan's STORE/COPY actions become copy jobs
 * registered in s->jobs; DELETEs (evictions) are carried out by the
 * calling thread after it lets go of the lock.
 *
 * Replication is asynchronous. A PUT's copies (replicate-all) are queued
 * to the copier threads and the client is answered at once. A GET whose
 * plan keeps a replica at the reader (copy-on-read) tees: the response
 * streams the bytes from the source region to the client and writes the
 * same bytes into the replica as they pass (one read of the source, one
 * write of the replica; bench/store_regions.sh measures it); the replica is
 * committed by a copier once the last byte went out. A ranged GET, or a
 * client that hangs up mid-body, leaves the copy to a copier (a whole
 * copy). Crash safety: a replica is written under its backend's tmp/ (or
 * spooled, for a remote) and renamed (or sent) whole at commit, and its
 * copies row is added only after that, so a kill -9 mid-copy leaves no
 * half replica visible: tmp/ is cleared at start, a committed replica
 * without its row is never read and goes with its object.
 *
 * An eviction that meets its replica still in flight marks the job
 * cancelled: the copier then removes what it wrote instead of recording it
 * (the copies row, if it got there first, goes too).
 *
 * State: the engine is saved incrementally. Each engine call appends one
 * line to DATA/placement.journal (store/placement.h's journal, after a
 * first line "g GEN"); at start the snapshot DATA/placement.json is loaded,
 * the journal replayed when its GEN is the one the snapshot names, and a
 * fresh snapshot naming GEN+1 written (tmp + rename) before the journal
 * restarts as GEN+1; the same compaction runs at stop and when the journal
 * passes 64k lines.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "core/clock.h"
#include "store/server_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_COMPACT_LINES 65536u
#define NCOPIERS 2

/* A replica being made: queued, running, or written by a GET's tee. */
struct copy_job {
    struct copy_job *next_inflight, *next_queued;
    char *bucket, *key;
    char blob[BLOB_ID_LEN + 1];
    struct store_region *src, *dst;
    bool tee;         /* a GET's response writes it */
    bool have_writer; /* the tee finished: w holds the bytes to commit */
    struct blob_writer w;
    bool cancelled;   /* an eviction of (blob, dst) came meanwhile */
};

/* The server region holding model region m, or NULL. */
static struct store_region *region_of_model(struct store_server *s,
                                            uint16_t m)
{
    for (size_t i = 0; i < s->nregions; i++)
        if (s->regions[i].model == m)
            return &s->regions[i];
    return NULL;
}

/* The configured policy of bucket (its own, else the default). */
static const char *config_policy(const struct store_server *s,
                                 const char *bucket, const char **source)
{
    for (size_t i = 0; i < s->cfg.nbuckets; i++)
        if (!strcmp(s->cfg.bucket_names[i], bucket)) {
            *source = "config";
            return s->cfg.bucket_policies[i];
        }
    *source = "default";
    return s->cfg.policy ? s->cfg.policy : "write-local";
}

/* bucket's policy spec (caller frees): one set at run time (kept in the
 * metadata) wins over the config's; *source says which. */
static char *policy_spec(struct store_server *s, const char *bucket,
                         const char **source)
{
    struct skyc_error err = {0};
    char *spec = NULL;
    if (meta_policy_get(&s->meta, bucket, &spec, &err) == SKYC_OK) {
        *source = "runtime";
        return spec;
    }
    skyc_error_clear(&err);
    return xstrdup(config_policy(s, bucket, source));
}

static void journal_locked(struct store_server *s, char op, uint32_t b,
                           const char *key, uint64_t size, uint16_t region);

/* With place_mu held: the engine's bucket, created on first use. */
static uint32_t bucket_locked(struct store_server *s, const char *bucket)
{
    uint32_t b = place_bucket_find(&s->place, bucket);
    if (b != UINT32_MAX)
        return b;
    struct skyc_error err = {0};
    struct place_policy pol;
    uint16_t *regs = xcalloc(s->nregions, sizeof(*regs));
    const char *source;
    char *spec = policy_spec(s, bucket, &source);
    char *home = NULL;
    size_t nr = 0;
    /* the home region (where the bucket was created) first: a
     * single-region policy without a region keeps the bucket there */
    if (meta_bucket_get(&s->meta, bucket, NULL, &home, &err) == SKYC_OK) {
        struct store_region *h = region_named(s, home);
        regs[nr++] = h->model;
    }
    skyc_error_clear(&err);
    free(home);
    for (size_t i = 0; i < s->nregions; i++)
        if (!nr || s->regions[i].model != regs[0])
            regs[nr++] = s->regions[i].model;
    if (place_policy_parse(spec, &s->model, &pol, &err) ||
        place_bucket_create(&s->place, bucket, &pol, regs, s->nregions, &b,
                            &err)) {
        log_warning("store: placement of bucket %s: %s", bucket, err.msg);
        b = UINT32_MAX;
    }
    free(spec);
    free(regs);
    if (b != UINT32_MAX)
        journal_locked(s, 'b', b, NULL, 0, 0);
    return b;
}

/* Copy blob id from region src to region dst (same id), durably. */
static enum skyc_err copy_between(struct store_region *src,
                                  struct store_region *dst, const char *id,
                                  struct skyc_error *err)
{
    struct blob_writer w = {.fd = -1};
    struct blob_reader rd = {.fd = -1};
    enum skyc_err rc;
    if ((rc = backend_reader_open(&src->be, id, &rd, err)) ||
        (rc = backend_create_id(&dst->be, &w, id, err)))
        goto out;
    if ((rc = backend_append_from(&w, &src->be, id, 0, rd.size, err)))
        goto out;
    rc = backend_commit(&w, err);
out:
    if (rc)
        backend_abort(&w);
    backend_reader_close(&rd);
    return rc;
}


/* ---- copy jobs --------------------------------------------------------- */

/* With place_mu held: register a job making blob a replica in dst. */
static struct copy_job *job_new_locked(struct store_server *s,
                                       const char *bucket, const char *key,
                                       const char *blob,
                                       struct store_region *src,
                                       struct store_region *dst, bool tee)
{
    struct copy_job *j = xcalloc(1, sizeof(*j));
    j->bucket = xstrdup(bucket);
    j->key = xstrdup(key);
    snprintf(j->blob, sizeof(j->blob), "%s", blob);
    j->src = src;
    j->dst = dst;
    j->tee = tee;
    j->w.fd = -1;
    j->next_inflight = s->jobs;
    s->jobs = j;
    s->jobs_pending++;
    return j;
}

/* With place_mu held: hand j to the copiers. */
static void job_queue_locked(struct store_server *s, struct copy_job *j)
{
    j->next_queued = NULL;
    *s->queue_tail = j;
    s->queue_tail = &j->next_queued;
    pthread_cond_signal(&s->copy_cv);
}

/* With place_mu held: forget j (it is done). */
static void job_unlink_locked(struct store_server *s, struct copy_job *j)
{
    for (struct copy_job **p = &s->jobs; *p; p = &(*p)->next_inflight)
        if (*p == j) {
            *p = j->next_inflight;
            break;
        }
    s->jobs_pending--;
    pthread_cond_broadcast(&s->copy_cv);
}

static void job_free(struct copy_job *j)
{
    backend_abort(&j->w);
    free(j->bucket);
    free(j->key);
    free(j);
}

/* With place_mu held: an eviction of blob from dst cancels jobs making it. */
static void cancel_locked(struct store_server *s, const char *blob,
                          struct store_region *dst)
{
    for (struct copy_job *j = s->jobs; j; j = j->next_inflight)
        if (j->dst == dst && !strcmp(j->blob, blob))
            j->cancelled = true;
}

/* Carry out j (no lock held): the copy (or the tee's commit), then its
 * copies row; then drop it, undoing it when an eviction came meanwhile. */
static void job_run(struct store_server *s, struct copy_job *j)
{
    struct skyc_error err = {0};
    enum skyc_err rc;
    bool recorded = false;
    if (j->have_writer) {
        rc = backend_commit(&j->w, &err);
        j->have_writer = false;
    } else {
        rc = copy_between(j->src, j->dst, j->blob, &err);
        struct meta_object row;
        struct skyc_error e2 = {0};
        /* the plan's source may itself be a replica still in flight (a
         * replicate-all chain): the primary holds the bytes */
        if (rc == SKYC_E_NOT_FOUND &&
            !meta_object_get(&s->meta, j->bucket, j->key, &row, &e2)) {
            struct store_region *p = region_named(s, row.region);
            if (p != j->src && p != j->dst && !strcmp(row.blob, j->blob)) {
                skyc_error_clear(&err);
                j->src = p;
                rc = copy_between(p, j->dst, j->blob, &err);
            }
            meta_object_release(&row);
        }
    }
    if (rc) {
        log_warning("store: replicating %s/%s to %s: %s", j->bucket, j->key,
                    j->dst->name, err.msg);
    } else if (meta_copy_add(&s->meta, j->bucket, j->key, j->dst->name,
                             j->blob, &err)) {
        /* overwritten meanwhile (or the metadata failed): the copy is not
         * recorded, so it must not stay */
        log_info("store: copy of %s/%s to %s not recorded: %s", j->bucket,
                 j->key, j->dst->name, err.msg[0] ? err.msg : "");
        backend_remove(&j->dst->be, j->blob);
    } else {
        recorded = true;
        log_info("store: copied %s/%s from %s to %s", j->bucket, j->key,
                 j->src->name, j->dst->name);
    }
    skyc_error_clear(&err);
    pthread_mutex_lock(&s->place_mu);
    bool cancelled = j->cancelled;
    job_unlink_locked(s, j);
    pthread_mutex_unlock(&s->place_mu);
    if (cancelled && !rc) {
        if (recorded)
            (void)meta_copy_remove(&s->meta, j->bucket, j->key, j->dst->name,
                                   &err);
        skyc_error_clear(&err);
        backend_remove(&j->dst->be, j->blob);
        log_info("store: copy of %s/%s to %s evicted while in flight",
                 j->bucket, j->key, j->dst->name);
    }
    job_free(j);
}

static void *copier_main(void *arg)
{
    struct store_server *s = arg;
    pthread_mutex_lock(&s->place_mu);
    for (;;) {
        while (!s->queue && !s->stopping)
            pthread_cond_wait(&s->copy_cv, &s->place_mu);
        if (s->stopping)
            break;
        struct copy_job *j = s->queue;
        s->queue = j->next_queued;
        if (!s->queue)
            s->queue_tail = &s->queue;
        pthread_mutex_unlock(&s->place_mu);
        job_run(s, j);
        pthread_mutex_lock(&s->place_mu);
    }
    pthread_mutex_unlock(&s->place_mu);
    return NULL;
}

size_t mr_copies_pending(struct store_server *s)
{
    if (!s->multi)
        return 0;
    pthread_mutex_lock(&s->place_mu);
    size_t n = s->jobs_pending;
    pthread_mutex_unlock(&s->place_mu);
    return n;
}

/* ---- plans ------------------------------------------------------------- */

/* What a plan leaves for the caller to do without the lock. */
struct plan_work {
    struct store_region *read_from; /* a READ's source */
    struct copy_job *tee;           /* a GET's replica at the reader */
    struct evict {
        char *bucket, *key, *blob;
        struct store_region *dst;
    } *ev;
    size_t nev, ev_alloc;
};

/*
 * With place_mu held: turn plan into work. blob is the object the request
 * is about, held in region `have` (NULL: none); tee_ok: a GET, whose STORE
 * at the reader its response writes.
 */
static void plan_locked(struct store_server *s, const struct place_plan *pl,
                        const char *blob, struct store_region *have,
                        bool tee_ok, struct plan_work *w)
{
    struct skyc_error err = {0};
    for (size_t i = 0; i < pl->n; i++) {
        const struct place_action *a = &pl->a[i];
        struct store_region *dst = region_of_model(s, a->dst);
        struct store_region *src =
            a->src == STORE_NO_REGION ? NULL : region_of_model(s, a->src);
        const char *bname = a->bucket < s->place.nbuckets
                                ? s->place.buckets[a->bucket].name
                                : NULL;
        const char *key = s->place.objects[a->object].key;
        switch (a->act) {
        case PLACE_ACT_READ:
            w->read_from = src;
            break;
        case PLACE_ACT_STORE:
        case PLACE_ACT_COPY: {
            struct store_region *from = a->act == PLACE_ACT_COPY ? src
                                        : w->read_from        ? w->read_from
                                                              : have;
            if (!blob || !dst || !from || from == dst || !bname)
                break;
            if (a->act == PLACE_ACT_STORE && tee_ok && !w->tee)
                w->tee = job_new_locked(s, bname, key, blob, from, dst, true);
            else
                job_queue_locked(
                    s, job_new_locked(s, bname, key, blob, from, dst, false));
            break;
        }
        case PLACE_ACT_DELETE: {
            struct meta_object row;
            if (!dst || !bname)
                break;
            if (meta_object_get(&s->meta, bname, key, &row, &err)) {
                skyc_error_clear(&err);
                break;
            }
            if (row.region && strcmp(row.region, dst->name) != 0 &&
                row.blob && *row.blob) {
                cancel_locked(s, row.blob, dst);
                ALLOC_GROW(w->ev, w->nev + 1, w->ev_alloc);
                w->ev[w->nev++] = (struct evict){
                    xstrdup(bname), xstrdup(key), xstrdup(row.blob), dst};
            }
            meta_object_release(&row);
            break;
        }
        }
    }
}

/* Without the lock: the evictions of w (the copies row first, then the
 * bytes), then free w's lists. */
static void work_finish(struct store_server *s, struct plan_work *w)
{
    struct skyc_error err = {0};
    for (size_t i = 0; i < w->nev; i++) {
        struct evict *e = &w->ev[i];
        if (meta_copy_remove(&s->meta, e->bucket, e->key, e->dst->name,
                             &err)) {
            log_warning("store: %s", err.msg);
            skyc_error_clear(&err);
        }
        backend_remove(&e->dst->be, e->blob);
        log_info("store: evicted %s/%s from %s", e->bucket, e->key,
                 e->dst->name);
        free(e->bucket);
        free(e->key);
        free(e->blob);
    }
    free(w->ev);
    w->ev = NULL;
    w->nev = w->ev_alloc = 0;
}

/* ---- the journal ------------------------------------------------------- */

/* With place_mu held: append the engine call just made to the journal. */
static void journal_locked(struct store_server *s, char op, uint32_t b,
                           const char *key, uint64_t size, uint16_t region)
{
    struct strbuf *j = &s->jbuf;
    /* the engine's clock: the call's own time (the engine keeps the latest
     * `now`); b and p records take none */
    double now = isfinite(s->place.clock) ? s->place.clock : 0;
    strbuf_reset(j);
    switch (op) {
    case 'b':
        place_journal_bucket(j, &s->place, b, now);
        break;
    case 'p':
        place_journal_policy(j, &s->place, b, now);
        break;
    case 'w':
        place_journal_put(j, &s->place, b, key, size, region, now);
        break;
    case 'r':
        place_journal_get(j, &s->place, b, key, region, now);
        break;
    case 'd':
        place_journal_delete(j, &s->place, b, key, now);
        break;
    case 'a':
        place_journal_advance(j, now);
        break;
    }
    s->dirty = true;
    if (s->journal_fd < 0)
        return;
    const char *p = j->buf;
    size_t left = j->len;
    while (left) {
        ssize_t n = write(s->journal_fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_warning("store: cannot append to '%s': %s", s->journal_path,
                        strerror(errno));
            return;
        }
        p += n;
        left -= (size_t)n;
    }
    s->journal_lines++;
}

/* Start the journal afresh with its generation line "g\tGEN\n". */
static enum skyc_err journal_reset(struct store_server *s, uint64_t gen,
                                   struct skyc_error *err)
{
    char line[40];
    int n = snprintf(line, sizeof(line), "g\t%" PRIu64 "\n", gen);
    if (ftruncate(s->journal_fd, 0) < 0 ||
        write(s->journal_fd, line, (size_t)n) != n)
        return skyc_fail(err, SKYC_E_IO, "cannot restart '%s': %s",
                         s->journal_path, strerror(errno));
    s->journal_lines = 0;
    return SKYC_OK;
}

/*
 * With place_mu held (or before serving): write a snapshot that names the
 * next journal generation (tmp, fsync, rename), then restart the journal
 * with that generation. A crash between the two leaves a journal of the
 * old generation, which the next start skips: its calls are in the
 * snapshot already.
 */
static enum skyc_err compact_locked(struct store_server *s,
                                    struct skyc_error *err)
{
    char *tmp = xasprintf("%s.tmp", s->state_path);
    s->place.journal_gen++;
    enum skyc_err rc = place_save(&s->place, tmp, err);
    if (!rc) {
        int fd = open(tmp, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (s->cfg.fsync)
                fdatasync(fd);
            close(fd);
        }
        if (rename(tmp, s->state_path) < 0)
            rc = skyc_fail(err, SKYC_E_IO, "cannot rename '%s': %s", tmp,
                           strerror(errno));
    }
    if (!rc && s->journal_fd >= 0)
        rc = journal_reset(s, s->place.journal_gen, err);
    if (!rc)
        s->dirty = false;
    free(tmp);
    return rc;
}

/* Before serving: snapshot + journal (when of the snapshot's generation)
 * into the engine, then compact. */
static enum skyc_err state_load(struct store_server *s,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct strbuf text = STRBUF_INIT;
    s->state_path = xasprintf("%s/placement.json", s->cfg.data_dir);
    s->journal_path = xasprintf("%s/placement.journal", s->cfg.data_dir);
    if (access(s->state_path, F_OK) == 0 &&
        (rc = place_load(&s->place, s->state_path, err)))
        goto out;
    int fd = open(s->journal_path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
            strbuf_add(&text, buf, (size_t)n);
        close(fd);
    }
    const char *nl = text.len ? memchr(text.buf, '\n', text.len) : NULL;
    char *end = NULL;
    uint64_t gen = nl && !strncmp(text.buf, "g\t", 2)
                       ? strtoull(text.buf + 2, &end, 10)
                       : 0;
    if (nl && end == nl && gen == s->place.journal_gen) {
        size_t skip = (size_t)(nl - text.buf) + 1, applied = 0;
        if ((rc = place_journal_replay(&s->place, text.buf + skip,
                                       text.len - skip, s->journal_path,
                                       &applied, err)))
            goto out;
        if (applied)
            log_notice("store: placement state: %zu journal record%s "
                       "replayed",
                       applied, applied == 1 ? "" : "s");
    } else if (text.len > 0) {
        log_notice("store: placement state: '%s' is not of the snapshot's "
                   "generation %" PRIu64 " (its calls are in the snapshot)",
                   s->journal_path, s->place.journal_gen);
    }
    s->journal_fd = open(s->journal_path,
                         O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->journal_fd < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot open '%s': %s",
                       s->journal_path, strerror(errno));
        goto out;
    }
    rc = compact_locked(s, err);
out:
    strbuf_release(&text);
    return rc;
}

/* ---- the request side -------------------------------------------------- */

struct store_region *region_for_write(struct req *r)
{
    struct store_server *s = r->srv;
    struct store_region *reg = &s->regions[r->at];
    if (!s->multi || !r->bucket)
        return reg;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, r->bucket);
    if (b != UINT32_MAX &&
        s->place.buckets[b].policy.kind == PLACE_SINGLE_REGION) {
        const struct place_bucket *pb = &s->place.buckets[b];
        uint16_t home = pb->policy.home == STORE_NO_REGION ? pb->regions[0]
                                                           : pb->policy.home;
        struct store_region *h = region_of_model(s, home);
        if (h)
            reg = h;
    }
    pthread_mutex_unlock(&s->place_mu);
    return reg;
}



void mr_bucket_created(struct store_server *s, const char *bucket)
{
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    bucket_locked(s, bucket);
    pthread_mutex_unlock(&s->place_mu);
}

void mr_after_put(struct req *r, const char *blob, uint64_t size,
                  struct store_region *primary)
{
    struct store_server *s = r->srv;
    struct skyc_error err = {0};
    struct plan_work w = {0};
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan *pl = &s->plan;
    uint32_t b = bucket_locked(s, r->bucket);
    if (b == UINT32_MAX)
        goto out;
    if (place_put(&s->place, b, r->key, size, s->regions[r->at].model,
                  clock_wall_s(), pl, &err)) {
        log_warning("store: placement of %s/%s: %s", r->bucket, r->key,
                    err.msg);
        goto out;
    }
    journal_locked(s, 'w', b, r->key, size, s->regions[r->at].model);
    plan_locked(s, pl, blob, primary, false, &w);
out:
    pthread_mutex_unlock(&s->place_mu);
    work_finish(s, &w);
}

struct store_region *mr_for_read(struct req *r, const struct meta_object *o,
                                 struct mr_tee **tee)
{
    struct store_server *s = r->srv;
    struct store_region *primary = region_named(s, o->region);
    struct skyc_error err = {0};
    struct plan_work w = {0};
    *tee = NULL;
    if (!s->multi)
        return primary;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan *pl = &s->plan;
    uint32_t b = bucket_locked(s, r->bucket);
    if (b == UINT32_MAX)
        goto out;
    if (place_get(&s->place, b, r->key, s->regions[r->at].model, clock_wall_s(),
                  pl, &err)) {
        log_warning("store: placement of %s/%s: %s; reading the primary",
                    r->bucket, r->key, err.msg);
        goto out;
    }
    journal_locked(s, 'r', b, r->key, 0, s->regions[r->at].model);
    plan_locked(s, pl, o->blob, primary, true, &w);
out:
    pthread_mutex_unlock(&s->place_mu);
    work_finish(s, &w);
    struct store_region *from = w.read_from ? w.read_from : primary;
    /* the metadata is the authority on copies: read a replica only when
     * its row says the region holds the current blob */
    if (from != primary &&
        meta_copy_has(&s->meta, r->bucket, r->key, from->name, &err)) {
        log_info("store: %s/%s: no recorded copy in %s (yet); reading the "
                 "primary in %s",
                 r->bucket, r->key, from->name, primary->name);
        skyc_error_clear(&err);
        from = primary;
    }
    if (w.tee) /* the replica is made from the bytes actually read */
        w.tee->src = from;
    *tee = (struct mr_tee *)w.tee;
    return from;
}

void mr_tee_later(struct store_server *s, struct mr_tee *tee)
{
    struct copy_job *j = (struct copy_job *)tee;
    if (!j)
        return;
    backend_abort(&j->w);
    j->have_writer = false;
    pthread_mutex_lock(&s->place_mu);
    job_queue_locked(s, j);
    pthread_mutex_unlock(&s->place_mu);
}

void mr_delete(struct req *r, const char *key)
{
    struct store_server *s = r->srv;
    struct skyc_error err = {0};
    struct plan_work w = {0};
    if (!s->multi)
        return;
    pthread_mutex_lock(&s->place_mu);
    struct place_plan *pl = &s->plan;
    uint32_t b = bucket_locked(s, r->bucket);
    if (b != UINT32_MAX &&
        !place_delete(&s->place, b, key, clock_wall_s(), pl, &err)) {
        journal_locked(s, 'd', b, key, 0, 0);
        plan_locked(s, pl, NULL, NULL, false, &w);
    }
    skyc_error_clear(&err);
    pthread_mutex_unlock(&s->place_mu);
    work_finish(s, &w);
}

/* The timer: TTL evictions when due; the journal flushed to disk once a
 * second and compacted when long. */
static void *timer_main(void *arg)
{
    struct store_server *s = arg;
    struct skyc_error err = {0};
    double last_sync = clock_wall_s();
    struct place_plan pl;
    place_plan_init(&pl);
    pthread_mutex_lock(&s->place_mu);
    while (!s->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double until = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 +
                       s->cfg.tick_s;
        ts.tv_sec = (time_t)until;
        ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&s->place_cv, &s->place_mu, &ts);
        if (s->stopping)
            break;
        double now = clock_wall_s();
        if (place_next_expiry(&s->place) <= now) {
            struct plan_work w = {0};
            pl.n = 0;
            place_advance(&s->place, now, &pl);
            journal_locked(s, 'a', 0, NULL, 0, 0);
            plan_locked(s, &pl, NULL, NULL, false, &w);
            pthread_mutex_unlock(&s->place_mu);
            work_finish(s, &w);
            pthread_mutex_lock(&s->place_mu);
        }
        if (s->journal_lines >= JOURNAL_COMPACT_LINES) {
            if (compact_locked(s, &err)) {
                log_warning("store: %s", err.msg);
                skyc_error_clear(&err);
            }
        } else if (s->dirty && now - last_sync >= 1.0) {
            int fd = s->journal_fd;
            s->dirty = false;
            last_sync = now;
            pthread_mutex_unlock(&s->place_mu);
            if (s->cfg.fsync && fd >= 0)
                fdatasync(fd);
            pthread_mutex_lock(&s->place_mu);
        }
    }
    pthread_mutex_unlock(&s->place_mu);
    place_plan_release(&pl);
    return NULL;
}

static bool note_bucket(void *ctx, const char *name, int64_t created_ms)
{
    (void)created_ms;
    struct store_server *s = ctx;
    bucket_locked(s, name);
    return true;
}

/*
 * With place_mu held, at start: a replica the engine holds but the
 * metadata has no copies row for was queued or in flight when the server
 * last stopped or crashed. Queue it again from the primary, so the bytes
 * follow the engine's view (and its bill). Returns how many.
 */
static size_t requeue_lost_locked(struct store_server *s)
{
    struct skyc_error err = {0};
    size_t n = 0;
    for (size_t i = 0; i < s->place.nobjects; i++) {
        const struct place_object *o = &s->place.objects[i];
        if (!o->live || o->ncopies < 2 || o->bucket >= s->place.nbuckets)
            continue;
        const char *bname = s->place.buckets[o->bucket].name;
        struct meta_object row;
        if (meta_object_get(&s->meta, bname, o->key, &row, &err)) {
            skyc_error_clear(&err);
            continue;
        }
        struct store_region *src =
            row.region ? region_named(s, row.region) : NULL;
        for (uint16_t c = 0; src && row.blob && *row.blob && c < o->ncopies;
             c++) {
            struct store_region *dst =
                region_of_model(s, o->copies[c].region);
            if (o->copies[c].primary || !dst || dst == src)
                continue;
            enum skyc_err rc =
                meta_copy_has(&s->meta, bname, o->key, dst->name, &err);
            skyc_error_clear(&err);
            if (rc != SKYC_E_NOT_FOUND)
                continue;
            job_queue_locked(s, job_new_locked(s, bname, o->key, row.blob, src,
                                               dst, false));
            n++;
        }
        meta_object_release(&row);
    }
    return n;
}

enum skyc_err mr_start(struct store_server *s, struct skyc_error *err)
{
    enum skyc_err rc;
    if (!s->multi)
        return SKYC_OK;
    pthread_mutex_init(&s->place_mu, NULL);
    pthread_cond_init(&s->place_cv, NULL);
    pthread_cond_init(&s->copy_cv, NULL);
    s->queue_tail = &s->queue;
    s->journal_fd = -1;
    strbuf_init(&s->jbuf, 0);
    place_plan_init(&s->plan);
    store_cost_init(&s->model);
    place_init(&s->place, &s->model);
    s->place_ready = true;
    if ((rc = store_cost_load(&s->model, s->cfg.profiles, err)))
        return rc;
    for (size_t i = 0; i < s->nregions; i++) {
        uint16_t m = store_cost_region(&s->model, s->regions[i].name);
        if (m == STORE_NO_REGION)
            return skyc_fail(err, SKYC_E_INPUT,
                             "region '%s' is not in the cost model (%s); use "
                             "cloud:region as in its cost.csv, e.g. "
                             "aws:us-east-1",
                             s->regions[i].name, s->model.source);
        for (size_t j = 0; j < i; j++)
            if (s->regions[j].model == m)
                return skyc_fail(err, SKYC_E_INPUT,
                                 "region '%s' is listed twice",
                                 s->regions[i].name);
        s->regions[i].model = m;
    }
    struct place_policy pol;
    if (s->cfg.policy &&
        (rc = place_policy_parse(s->cfg.policy, &s->model, &pol, err)))
        return rc;
    for (size_t i = 0; i < s->cfg.nbuckets; i++)
        if ((rc = place_policy_parse(s->cfg.bucket_policies[i], &s->model,
                                     &pol, err))) {
            char *msg = xstrdup(err->msg);
            skyc_error_clear(err);
            rc = skyc_fail(err, rc, "bucket %s: %s", s->cfg.bucket_names[i],
                           msg);
            free(msg);
            return rc;
        }
    pthread_mutex_lock(&s->place_mu);
    rc = state_load(s, err);
    /* a bucket whose policy was set at run time, or that the config now
     * names differently: apply it (the saved state has the old one) */
    for (size_t b = 0; !rc && b < s->place.nbuckets; b++) {
        const char *source;
        char *spec = policy_spec(s, s->place.buckets[b].name, &source);
        rc = place_policy_parse(spec, &s->model, &pol, err);
        if (rc == SKYC_OK)
            rc = place_bucket_set_policy(&s->place, (uint32_t)b, &pol, err);
        if (rc == SKYC_OK)
            journal_locked(s, 'p', (uint32_t)b, NULL, 0, 0);
        free(spec);
    }
    if (!rc)
        rc = meta_bucket_list(&s->meta, note_bucket, s, err);
    if (!rc) {
        size_t lost = requeue_lost_locked(s);
        if (lost)
            log_notice("store: %zu replica(s) not made before the last stop "
                       "queued again",
                       lost);
    }
    pthread_mutex_unlock(&s->place_mu);
    if (rc)
        return rc;
    for (int i = 0; i < NCOPIERS; i++) {
        if (pthread_create(&s->copiers[i], NULL, copier_main, s))
            return skyc_fail(err, SKYC_E_STATE,
                             "cannot start a copier: %s", strerror(errno));
        s->ncopiers++;
    }
    if (pthread_create(&s->timer, NULL, timer_main, s))
        return skyc_fail(err, SKYC_E_STATE, "cannot start the timer: %s",
                         strerror(errno));
    s->timer_on = true;
    return SKYC_OK;
}

void mr_stop(struct store_server *s)
{
    struct skyc_error err = {0};
    if (!s->place_ready)
        return;
    pthread_mutex_lock(&s->place_mu);
    /* let the copies in flight finish (bounded: each is one blob), drop
     * the queue's rest: reads fall back to the primary where no replica
     * was recorded, and the next start queues them again
     * (requeue_lost_locked) */
    s->stopping = true;
    pthread_cond_broadcast(&s->place_cv);
    pthread_cond_broadcast(&s->copy_cv);
    pthread_mutex_unlock(&s->place_mu);
    if (s->timer_on)
        pthread_join(s->timer, NULL);
    for (int i = 0; i < s->ncopiers; i++)
        pthread_join(s->copiers[i], NULL);
    pthread_mutex_lock(&s->place_mu);
    while (s->queue) {
        struct copy_job *j = s->queue;
        s->queue = j->next_queued;
        job_unlink_locked(s, j);
        job_free(j);
    }
    while (s->jobs) { /* never handed over (cannot happen once the HTTP
                       * daemons have stopped; freed all the same) */
        struct copy_job *j = s->jobs;
        job_unlink_locked(s, j);
        job_free(j);
    }
    if (s->state_path && s->journal_fd >= 0 && compact_locked(s, &err))
        log_warning("store: %s", err.msg);
    pthread_mutex_unlock(&s->place_mu);
    if (s->journal_fd >= 0)
        close(s->journal_fd);
    place_release(&s->place);
    place_plan_release(&s->plan);
    store_cost_release(&s->model);
    strbuf_release(&s->jbuf);
    pthread_cond_destroy(&s->copy_cv);
    pthread_cond_destroy(&s->place_cv);
    pthread_mutex_destroy(&s->place_mu);
    free(s->state_path);
    free(s->journal_path);
    s->place_ready = false;
}

/* ---- response bodies read through a blob_reader (remote backends, tees) */

/* Read-ahead per backend read: large for a remote (each read is an HTTP
 * request), cache-sized for a local file (copies of 4 MiB buffers cost the
 * kernel several times more per byte than 256 KiB ones on write). */
#define BODY_CHUNK (4u << 20)
#define BODY_CHUNK_LOCAL (256u << 10)

struct body {
    struct store_server *s;
    struct blob_reader rd;
    struct store_region *from;
    uint64_t off, len; /* the range served */
    char *buf;         /* read-ahead: [buf_off, buf_off + buf_len) */
    uint64_t buf_off;
    size_t buf_len;
    struct copy_job *tee; /* the replica written from the same bytes */
    uint64_t teed;        /* bytes of it written */
};

static void tee_write(struct body *b, const char *data, size_t n)
{
    struct skyc_error err = {0};
    struct copy_job *j = b->tee;
    if (!j->have_writer)
        return;
    enum skyc_err rc = SKYC_OK;
    for (size_t at = 0; !rc && at < n; at += BODY_CHUNK_LOCAL)
        rc = backend_write(&j->w, data + at,
                           n - at < BODY_CHUNK_LOCAL ? n - at
                                                     : BODY_CHUNK_LOCAL,
                           &err);
    if (rc) {
        log_warning("store: replica of %s/%s in %s: %s; copying it later",
                    j->bucket, j->key, j->dst->name, err.msg);
        backend_abort(&j->w);
        j->have_writer = false;
        return;
    }
    b->teed += n;
}

static ssize_t body_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct body *b = cls;
    struct skyc_error err = {0};
    if (pos >= b->len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    uint64_t at = b->off + pos;
    if (!b->buf_len || at < b->buf_off || at >= b->buf_off + b->buf_len) {
        uint64_t left = b->off + b->len - at;
        size_t chunk = b->from->be.remote ? BODY_CHUNK : BODY_CHUNK_LOCAL;
        size_t n = left < chunk ? (size_t)left : chunk;
        if (backend_reader_read(&b->rd, at, b->buf, n, &err)) {
            log_warning("store: reading %s in %s: %s", b->rd.id,
                        b->from->name, err.msg);
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        backend_count_read(&b->from->be, n);
        b->buf_off = at;
        b->buf_len = n;
        if (b->tee && at == b->teed) /* one pass: the same bytes */
            tee_write(b, b->buf, n);
    }
    size_t take = (size_t)(b->buf_off + b->buf_len - at);
    if (take > max)
        take = max;
    memcpy(out, b->buf + (at - b->buf_off), take);
    return (ssize_t)take;
}

static void body_free(void *cls)
{
    struct body *b = cls;
    struct copy_job *j = b->tee;
    backend_reader_close(&b->rd);
    if (j && j->have_writer && b->teed == b->len) {
        /* every byte went through: a copier commits and records it */
        pthread_mutex_lock(&b->s->place_mu);
        job_queue_locked(b->s, j);
        pthread_mutex_unlock(&b->s->place_mu);
    } else if (j) {
        mr_tee_later(b->s, (struct mr_tee *)j); /* a whole copy */
    }
    free(b->buf);
    free(b);
}

struct MHD_Response *mr_body_response(struct req *r,
                                      const struct meta_object *o,
                                      struct store_region *from, uint64_t off,
                                      uint64_t len, struct mr_tee *tee)
{
    struct skyc_error err = {0};
    struct body *b = xcalloc(1, sizeof(*b));
    struct copy_job *j = (struct copy_job *)tee;
    b->s = r->srv;
    b->from = from;
    b->off = off;
    b->len = len;
    if (j && (off != 0 || len != o->size)) {
        mr_tee_later(r->srv, tee); /* a range: the copier copies it whole */
        j = NULL;
    }
    if (j) {
        if (backend_create_id(&j->dst->be, &j->w, o->blob, &err)) {
            log_warning("store: replica of %s/%s in %s: %s; copying it "
                        "later",
                        r->bucket, r->key, j->dst->name, err.msg);
            skyc_error_clear(&err);
            j->w.fd = -1;
        } else {
            j->have_writer = true;
        }
        b->tee = j;
    }
    if (backend_reader_open(&from->be, o->blob, &b->rd, &err)) {
        log_warning("store: %s %s: %s", r->method, r->path, err.msg);
        body_free(b);
        return NULL;
    }
    size_t chunk = from->be.remote ? BODY_CHUNK : BODY_CHUNK_LOCAL;
    b->buf = xmalloc(len < chunk ? (size_t)len + 1 : chunk);
    struct MHD_Response *resp = MHD_create_response_from_callback(
        len, 256u << 10, body_read, b, body_free);
    if (!resp)
        body_free(b);
    return resp;
}

enum skyc_err mr_policy_get(struct store_server *s, const char *bucket,
                            struct strbuf *spec, const char **source,
                            struct skyc_error *err)
{
    char *sp = policy_spec(s, bucket, source);
    struct place_policy pol;
    char buf[128];
    enum skyc_err rc = place_policy_parse(sp, &s->model, &pol, err);
    if (!rc) {
        place_policy_format(&pol, &s->model, buf, sizeof(buf));
        strbuf_addstr(spec, buf);
    }
    free(sp);
    return rc;
}

enum skyc_err mr_policy_set(struct store_server *s, const char *bucket,
                            const char *spec, struct strbuf *canon,
                            struct skyc_error *err)
{
    struct place_policy pol;
    char buf[128];
    enum skyc_err rc = place_policy_parse(spec, &s->model, &pol, err);
    if (rc)
        return rc;
    place_policy_format(&pol, &s->model, buf, sizeof(buf));
    /* durable first: the engine follows the metadata at the next start */
    if ((rc = meta_policy_set(&s->meta, bucket, buf, err)))
        return rc;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, bucket);
    if (b == UINT32_MAX)
        rc = skyc_fail(err, SKYC_E_INTERNAL, "bucket %s has no placement",
                       bucket);
    else if (!(rc = place_bucket_set_policy(&s->place, b, &pol, err)))
        journal_locked(s, 'p', b, NULL, 0, 0);
    pthread_mutex_unlock(&s->place_mu);
    if (!rc) {
        strbuf_addstr(canon, buf);
        log_notice("store: bucket %s: placement policy now %s", bucket, buf);
    }
    return rc;
}

/* ---- home regions (CreateBucket's LocationConstraint, GetBucketLocation) */

static const char *s3_name(const char *region)
{
    const char *c = strchr(region, ':');
    return c ? c + 1 : region;
}

struct store_region *mr_home_for_create(struct req *r, const char *lc)
{
    struct store_server *s = r->srv;
    if (!s->multi)
        return &s->regions[0];
    if (!lc || !*lc)
        return &s->regions[r->at];
    for (size_t i = 0; i < s->nregions; i++)
        if (!strcmp(s->regions[i].name, lc) ||
            !strcmp(s3_name(s->regions[i].name), lc))
            return &s->regions[i];
    return NULL;
}

void mr_bucket_home(struct store_server *s, const char *bucket,
                    const char *stored, char out[128])
{
    const char *name = stored ? stored : s->regions[0].name;
    pthread_mutex_lock(&s->place_mu);
    uint32_t b = bucket_locked(s, bucket);
    if (b != UINT32_MAX &&
        s->place.buckets[b].policy.kind == PLACE_SINGLE_REGION &&
        s->place.buckets[b].policy.home != STORE_NO_REGION) {
        struct store_region *h =
            region_of_model(s, s->place.buckets[b].policy.home);
        if (h)
            name = h->name;
    }
    snprintf(out, 128, "%s", s3_name(name));
    pthread_mutex_unlock(&s->place_mu);
}
