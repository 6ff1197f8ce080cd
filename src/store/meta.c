/*
 * meta.c - the store's SQLite metadata (see meta.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/clock.h"
#include "store/meta.h"

#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS buckets(name TEXT PRIMARY KEY,"
    " created INTEGER NOT NULL, region TEXT NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS objects(bucket TEXT NOT NULL,"
    " key TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
    " mtime INTEGER NOT NULL, blob TEXT NOT NULL, region TEXT NOT NULL,"
    " headers TEXT NOT NULL, checksum TEXT, data BLOB,"
    " PRIMARY KEY(bucket, key)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS uploads(id TEXT PRIMARY KEY,"
    " bucket TEXT NOT NULL, key TEXT NOT NULL, initiated INTEGER NOT NULL,"
    " headers TEXT NOT NULL) STRICT;"
    "CREATE INDEX IF NOT EXISTS uploads_by_key ON uploads(bucket, key, id);"
    "CREATE TABLE IF NOT EXISTS parts(upload TEXT NOT NULL,"
    " num INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,"
    " blob TEXT NOT NULL, mtime INTEGER NOT NULL,"
    " PRIMARY KEY(upload, num)) STRICT, WITHOUT ROWID;"
    /* replicas of an object in regions other than its primary's (a
     * multi-region server): same blob id; gone with the row they copy */
    "CREATE TABLE IF NOT EXISTS copies(bucket TEXT NOT NULL,"
    " key TEXT NOT NULL, region TEXT NOT NULL, blob TEXT NOT NULL,"
    " PRIMARY KEY(bucket, key, region)) STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS copies_put AFTER INSERT ON objects BEGIN"
    " DELETE FROM copies WHERE bucket = NEW.bucket AND key = NEW.key"
    " AND blob <> NEW.blob; END;"
    "CREATE TRIGGER IF NOT EXISTS copies_delete AFTER DELETE ON objects BEGIN"
    " DELETE FROM copies WHERE bucket = OLD.bucket AND key = OLD.key; END;"
    /* placement policies set at run time (PUT /BUCKET?skyc-policy) */
    "CREATE TABLE IF NOT EXISTS policies(bucket TEXT PRIMARY KEY,"
    " policy TEXT NOT NULL, set_ms INTEGER NOT NULL) STRICT;"
    "CREATE TRIGGER IF NOT EXISTS policies_bucket AFTER DELETE ON buckets"
    " BEGIN DELETE FROM policies WHERE bucket = OLD.name; END;";

enum {
    Q_BUCKET_INSERT,
    Q_BUCKET_GET,
    Q_BUCKET_NONEMPTY,
    Q_BUCKET_DELETE,
    Q_BUCKET_LIST,
    Q_OBJ_GET,
    Q_OBJ_BLOB,
    Q_OBJ_PUT,
    Q_OBJ_DELETE,
    Q_OBJ_LIST,
    Q_UPLOAD_INSERT,
    Q_UPLOAD_GET,
    Q_UPLOAD_DELETE,
    Q_UPLOAD_LIST,
    Q_PART_BLOB,
    Q_PART_PUT,
    Q_PART_LIST,
    Q_PART_DELETE,
    Q_BLOBS,
    Q_COPY_ADD,
    Q_COPY_DEL,
    Q_COPY_HAS,
    Q_POLICY_SET,
    Q_POLICY_GET,
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_COUNT
};

static const char *const sql[Q_COUNT] = {
    [Q_BUCKET_INSERT] = "INSERT INTO buckets VALUES(?1, ?2, ?3)",
    [Q_BUCKET_GET] = "SELECT created, region FROM buckets WHERE name = ?1",
    [Q_BUCKET_NONEMPTY] =
        "SELECT 1 FROM objects WHERE bucket = ?1 UNION ALL "
        "SELECT 1 FROM uploads WHERE bucket = ?1 LIMIT 1",
    [Q_BUCKET_DELETE] = "DELETE FROM buckets WHERE name = ?1",
    [Q_BUCKET_LIST] = "SELECT name, created FROM buckets ORDER BY name",
    [Q_OBJ_GET] = "SELECT size, etag, mtime, blob, region, headers, checksum, "
                  "data "
                  "FROM objects WHERE bucket = ?1 AND key = ?2",
    [Q_OBJ_BLOB] = "SELECT blob FROM objects WHERE bucket = ?1 AND key = ?2",
    [Q_OBJ_PUT] = "INSERT OR REPLACE INTO objects VALUES(?1, ?2, ?3, ?4, ?5, "
                  "?6, ?7, ?8, ?9, ?10)",
    [Q_OBJ_DELETE] = "DELETE FROM objects WHERE bucket = ?1 AND key = ?2",
    [Q_OBJ_LIST] = "SELECT key, size, etag, mtime, blob, region, headers, "
                   "checksum FROM objects WHERE bucket = ?1 AND key > ?2 "
                   "AND key >= ?3 ORDER BY key",
    [Q_UPLOAD_INSERT] = "INSERT INTO uploads VALUES(?1, ?2, ?3, ?4, ?5)",
    [Q_UPLOAD_GET] =
        "SELECT bucket, key, initiated, headers FROM uploads WHERE id = ?1",
    [Q_UPLOAD_DELETE] = "DELETE FROM uploads WHERE id = ?1",
    [Q_UPLOAD_LIST] = "SELECT id, key, initiated, headers FROM uploads "
                      "WHERE bucket = ?1 AND key >= ?2 AND "
                      "(key > ?3 OR (key = ?3 AND id > ?4)) ORDER BY key, id",
    [Q_PART_BLOB] = "SELECT blob FROM parts WHERE upload = ?1 AND num = ?2",
    [Q_PART_PUT] =
        "INSERT OR REPLACE INTO parts(upload, num, size, etag, blob, mtime,"
        " region) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_PART_LIST] = "SELECT num, size, etag, blob, mtime, region FROM parts "
                    "WHERE upload = ?1 AND num > ?2 ORDER BY num",
    [Q_PART_DELETE] = "DELETE FROM parts WHERE upload = ?1",
    [Q_BLOBS] = "SELECT blob FROM objects UNION ALL SELECT blob FROM parts",
    [Q_COPY_ADD] = "INSERT OR REPLACE INTO copies SELECT bucket, key, ?3, "
                   "blob FROM objects WHERE bucket = ?1 AND key = ?2 AND "
                   "blob = ?4",
    [Q_COPY_DEL] =
        "DELETE FROM copies WHERE bucket = ?1 AND key = ?2 AND region = ?3",
    [Q_COPY_HAS] = "SELECT 1 FROM copies JOIN objects USING(bucket, key, blob) "
                   "WHERE bucket = ?1 AND key = ?2 AND copies.region = ?3",
    [Q_POLICY_SET] = "INSERT INTO policies SELECT name, ?2, ?3 FROM buckets "
                     "WHERE name = ?1 ON CONFLICT(bucket) DO UPDATE SET "
                     "policy = excluded.policy, set_ms = excluded.set_ms",
    [Q_POLICY_GET] = "SELECT policy FROM policies WHERE bucket = ?1",
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
};

_Static_assert(Q_COUNT <= 32, "meta.stmts is too small");

static enum skyc_err db_fail(struct meta *m, struct skyc_error *err,
                             const char *what)
{
    return skyc_fail(err, SKYC_E_STATE, "metadata %s failed: %s", what,
                     sqlite3_errmsg(m->db));
}

/* The prepared statement q, reset and unbound. Called under m->mu. */
static sqlite3_stmt *st(struct meta *m, int q)
{
    sqlite3_stmt *s = m->stmts[q];
    if (!s) {
        if (sqlite3_prepare_v3(m->db, sql[q], -1, SQLITE_PREPARE_PERSISTENT,
                               &m->stmts[q], NULL) != SQLITE_OK)
            return NULL;
        s = m->stmts[q];
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? xstrdup((const char *)t) : NULL;
}

static bool exec1(struct meta *m, int q)
{
    sqlite3_stmt *s = st(m, q);
    bool ok = s && sqlite3_step(s) == SQLITE_DONE;
    if (s)
        sqlite3_reset(s);
    return ok;
}

enum skyc_err meta_open(struct meta *m, const char *path, bool sync_full,
                        struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_STATE;
    char *emsg = NULL;
    memset(m, 0, sizeof(*m));
    m->wal_fd = -1;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->sync_mu, NULL);
    pthread_cond_init(&m->sync_cv, NULL);
    if (sqlite3_open_v2(path, &m->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = skyc_fail(err, SKYC_E_STATE, "cannot open '%s': %s", path,
                       m->db ? sqlite3_errmsg(m->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(m->db, 5000);
    /* with sync_full, durability comes from durable() below */
    const char *pragmas = "PRAGMA journal_mode=WAL;"
                          "PRAGMA synchronous=NORMAL;";
    m->sync = sync_full;
    m->wal_path = xasprintf("%s-wal", path);
    if (sqlite3_exec(m->db, pragmas, NULL, NULL, &emsg) != SQLITE_OK ||
        sqlite3_exec(m->db, schema, NULL, NULL, &emsg) != SQLITE_OK) {
        rc = skyc_fail(err, SKYC_E_STATE, "cannot set up '%s': %s", path,
                       emsg ? emsg : "unknown error");
        goto out;
    }
    /* the region a part's blob was written in (a multi-region server takes
     * parts at any region's endpoint); added to databases made before it */
    if (sqlite3_exec(m->db, "ALTER TABLE parts ADD COLUMN region TEXT", NULL,
                     NULL, &emsg) != SQLITE_OK &&
        !strstr(emsg ? emsg : "", "duplicate column")) {
        rc = skyc_fail(err, SKYC_E_STATE, "cannot set up '%s': %s", path,
                       emsg ? emsg : "unknown error");
        goto out;
    }
    sqlite3_free(emsg);
    emsg = NULL;
    for (int q = 0; q < Q_COUNT; q++)
        if (!st(m, q)) {
            rc = skyc_fail(err, SKYC_E_INTERNAL, "bad statement %d: %s", q,
                           sqlite3_errmsg(m->db));
            goto out;
        }
    rc = SKYC_OK;
out:
    sqlite3_free(emsg);
    if (rc)
        meta_close(m);
    return rc;
}

void meta_close(struct meta *m)
{
    for (size_t i = 0; i < ARRAY_SIZE(m->stmts); i++)
        if (m->stmts[i])
            sqlite3_finalize(m->stmts[i]);
    if (m->db)
        sqlite3_close(m->db);
    m->db = NULL;
    memset(m->stmts, 0, sizeof(m->stmts));
    if (m->wal_fd >= 0)
        close(m->wal_fd);
    m->wal_fd = -1;
    FREE_AND_NULL(m->wal_path);
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->sync_mu);
    pthread_cond_destroy(&m->sync_cv);
}

void meta_object_release(struct meta_object *o)
{
    free(o->bucket);
    free(o->key);
    free(o->etag);
    free(o->blob);
    free(o->region);
    free(o->headers);
    free(o->checksum);
    free(o->data);
    memset(o, 0, sizeof(*o));
}

void meta_upload_release(struct meta_upload *u)
{
    free(u->id);
    free(u->bucket);
    free(u->key);
    free(u->headers);
    memset(u, 0, sizeof(*u));
}

#define LOCK() pthread_mutex_lock(&m->mu)
#define UNLOCK() pthread_mutex_unlock(&m->mu)

/*
 * Make every commit so far durable (called without the lock, after a
 * successful write). A sync that STARTS after our commit covers it (the
 * WAL frames are in the page cache by then), so: if none runs, lead one;
 * if one runs, it began before us, so wait for it to end and then for the
 * next one, which the first waiter to wake leads for everyone who
 * committed meanwhile. N concurrent writers cost about two fdatasyncs, not
 * N (group commit).
 */
static enum skyc_err durable(struct meta *m, enum skyc_err rc,
                             struct skyc_error *err)
{
    if (rc || !m->sync)
        return rc;
    pthread_mutex_lock(&m->sync_mu);
    uint64_t need = m->syncs_started + 1;
    while (m->syncs_done < need) {
        if (m->syncing) {
            pthread_cond_wait(&m->sync_cv, &m->sync_mu);
            continue;
        }
        m->syncing = true;
        uint64_t gen = ++m->syncs_started;
        pthread_mutex_unlock(&m->sync_mu);
        LOCK();
        if (m->wal_fd < 0)
            m->wal_fd = open(m->wal_path, O_RDONLY | O_CLOEXEC);
        int fd = m->wal_fd;
        UNLOCK();
        int e = fd < 0 || fdatasync(fd) < 0 ? errno : 0;
        pthread_mutex_lock(&m->sync_mu);
        if (e) {
            m->sync_failed = gen;
            m->sync_errno = e;
        }
        m->syncs_done = gen;
        m->syncing = false;
        pthread_cond_broadcast(&m->sync_cv);
    }
    if (m->sync_failed >= need)
        rc = skyc_fail(err, SKYC_E_STATE, "cannot sync '%s': %s",
                       m->wal_path, strerror(m->sync_errno));
    pthread_mutex_unlock(&m->sync_mu);
    return rc;
}

enum skyc_err meta_bucket_create(struct meta *m, const char *name,
                                 const char *region, struct skyc_error *err)
{
    enum skyc_err rc;
    LOCK();
    sqlite3_stmt *s = st(m, Q_BUCKET_INSERT);
    bind_text(s, 1, name);
    sqlite3_bind_int64(s, 2, clock_wall_ms());
    bind_text(s, 3, region);
    int r = sqlite3_step(s);
    if (r == SQLITE_DONE)
        rc = SKYC_OK;
    else if (sqlite3_extended_errcode(m->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
        rc = SKYC_E_FAILED;
    else
        rc = db_fail(m, err, "bucket insert");
    sqlite3_reset(s);
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_bucket_get(struct meta *m, const char *name,
                              int64_t *created_ms, char **region,
                              struct skyc_error *err)
{
    enum skyc_err rc;
    LOCK();
    sqlite3_stmt *s = st(m, Q_BUCKET_GET);
    bind_text(s, 1, name);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        if (created_ms)
            *created_ms = sqlite3_column_int64(s, 0);
        if (region)
            *region = col_dup(s, 1);
        rc = SKYC_OK;
    } else {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "bucket lookup");
    }
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

enum skyc_err meta_bucket_delete(struct meta *m, const char *name,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_STATE;
    LOCK();
    if (!exec1(m, Q_BEGIN)) {
        rc = db_fail(m, err, "begin");
        goto out;
    }
    sqlite3_stmt *s = st(m, Q_BUCKET_NONEMPTY);
    bind_text(s, 1, name);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r == SQLITE_ROW) {
        rc = SKYC_E_FAILED;
        goto rollback;
    }
    s = st(m, Q_BUCKET_DELETE);
    bind_text(s, 1, name);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = db_fail(m, err, "bucket delete");
        goto rollback;
    }
    rc = sqlite3_changes(m->db) ? SKYC_OK : SKYC_E_NOT_FOUND;
    sqlite3_reset(s);
    if (!exec1(m, Q_COMMIT)) {
        rc = db_fail(m, err, "commit");
        goto rollback;
    }
    goto out;
rollback:
    exec1(m, Q_ROLLBACK);
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_bucket_list(struct meta *m, meta_bucket_cb cb, void *ctx,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, Q_BUCKET_LIST);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        if (!cb(ctx, (const char *)sqlite3_column_text(s, 0),
                sqlite3_column_int64(s, 1)))
            break;
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        rc = db_fail(m, err, "bucket list");
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

/* Fill o from a row whose columns start at c: size etag mtime blob region
 * headers checksum. */
static void fill_object(sqlite3_stmt *s, int c, struct meta_object *o)
{
    o->size = (uint64_t)sqlite3_column_int64(s, c);
    o->etag = col_dup(s, c + 1);
    o->mtime_ms = sqlite3_column_int64(s, c + 2);
    o->blob = col_dup(s, c + 3);
    o->region = col_dup(s, c + 4);
    o->headers = col_dup(s, c + 5);
    o->checksum = col_dup(s, c + 6);
}

enum skyc_err meta_object_get(struct meta *m, const char *bucket,
                              const char *key, struct meta_object *out,
                              struct skyc_error *err)
{
    enum skyc_err rc;
    memset(out, 0, sizeof(*out));
    LOCK();
    sqlite3_stmt *s = st(m, Q_OBJ_GET);
    bind_text(s, 1, bucket);
    bind_text(s, 2, key);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        out->bucket = xstrdup(bucket);
        out->key = xstrdup(key);
        fill_object(s, 0, out);
        if (sqlite3_column_type(s, 7) != SQLITE_NULL) {
            const void *d = sqlite3_column_blob(s, 7);
            out->data_len = (size_t)sqlite3_column_bytes(s, 7);
            out->data = xmalloc(out->data_len + 1);
            if (out->data_len)
                memcpy(out->data, d, out->data_len);
            out->has_data = true;
        }
        rc = SKYC_OK;
    } else {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "object lookup");
    }
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

/* Under the lock, inside a transaction: replace o, old blob into *old. */
static enum skyc_err put_locked(struct meta *m, const struct meta_object *o,
                                char **old, struct skyc_error *err)
{
    sqlite3_stmt *s = st(m, Q_BUCKET_GET);
    bind_text(s, 1, o->bucket);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r == SQLITE_DONE)
        return SKYC_E_NOT_FOUND;
    if (r != SQLITE_ROW)
        return db_fail(m, err, "bucket lookup");
    s = st(m, Q_OBJ_BLOB);
    bind_text(s, 1, o->bucket);
    bind_text(s, 2, o->key);
    r = sqlite3_step(s);
    if (r == SQLITE_ROW && old)
        *old = col_dup(s, 0);
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return db_fail(m, err, "object lookup");
    s = st(m, Q_OBJ_PUT);
    bind_text(s, 1, o->bucket);
    bind_text(s, 2, o->key);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)o->size);
    bind_text(s, 4, o->etag);
    sqlite3_bind_int64(s, 5, o->mtime_ms);
    bind_text(s, 6, o->blob);
    bind_text(s, 7, o->region ? o->region : "local");
    bind_text(s, 8, o->headers ? o->headers : "[]");
    bind_text(s, 9, o->checksum);
    if (o->has_data)
        sqlite3_bind_blob(s, 10, o->data_len ? o->data : "", (int)o->data_len,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 10);
    r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return db_fail(m, err, "object write");
    return SKYC_OK;
}

enum skyc_err meta_object_put(struct meta *m, const struct meta_object *o,
                              char **old_blob, struct skyc_error *err)
{
    enum skyc_err rc;
    *old_blob = NULL;
    LOCK();
    if (!exec1(m, Q_BEGIN)) {
        rc = db_fail(m, err, "begin");
        goto out;
    }
    rc = put_locked(m, o, old_blob, err);
    if (!rc && !exec1(m, Q_COMMIT))
        rc = db_fail(m, err, "commit");
    if (rc) {
        exec1(m, Q_ROLLBACK);
        FREE_AND_NULL(*old_blob);
    }
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_object_delete(struct meta *m, const char *bucket,
                                 const char *key, char **old_blob,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_NOT_FOUND;
    *old_blob = NULL;
    LOCK();
    if (!exec1(m, Q_BEGIN)) {
        rc = db_fail(m, err, "begin");
        goto out;
    }
    sqlite3_stmt *s = st(m, Q_OBJ_BLOB);
    bind_text(s, 1, bucket);
    bind_text(s, 2, key);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *old_blob = col_dup(s, 0);
    sqlite3_reset(s);
    if (r == SQLITE_ROW) {
        s = st(m, Q_OBJ_DELETE);
        bind_text(s, 1, bucket);
        bind_text(s, 2, key);
        r = sqlite3_step(s);
        sqlite3_reset(s);
        rc = r == SQLITE_DONE ? SKYC_OK : db_fail(m, err, "object delete");
    } else if (r != SQLITE_DONE) {
        rc = db_fail(m, err, "object lookup");
    }
    if (!rc && !exec1(m, Q_COMMIT))
        rc = db_fail(m, err, "commit");
    if (rc) {
        exec1(m, Q_ROLLBACK);
        FREE_AND_NULL(*old_blob);
    }
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_object_list(struct meta *m, const char *bucket,
                               const char *prefix, const char *after,
                               meta_object_cb cb, void *ctx,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    size_t plen = prefix ? strlen(prefix) : 0;
    LOCK();
    sqlite3_stmt *s = st(m, Q_OBJ_LIST);
    bind_text(s, 1, bucket);
    bind_text(s, 2, after ? after : "");
    bind_text(s, 3, prefix ? prefix : "");
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(s, 0);
        if (plen && strncmp(key, prefix, plen) != 0) {
            r = SQLITE_DONE;
            break;
        }
        struct meta_object o = {0};
        fill_object(s, 1, &o);
        o.bucket = (char *)bucket;
        o.key = (char *)key;
        bool more = cb(ctx, &o);
        o.bucket = o.key = NULL;
        meta_object_release(&o);
        if (!more) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = db_fail(m, err, "object list");
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

enum skyc_err meta_upload_create(struct meta *m, const struct meta_upload *u,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, Q_BUCKET_GET);
    bind_text(s, 1, u->bucket);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_ROW) {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "bucket lookup");
        goto out;
    }
    s = st(m, Q_UPLOAD_INSERT);
    bind_text(s, 1, u->id);
    bind_text(s, 2, u->bucket);
    bind_text(s, 3, u->key);
    sqlite3_bind_int64(s, 4, u->initiated_ms ? u->initiated_ms : clock_wall_ms());
    bind_text(s, 5, u->headers ? u->headers : "[]");
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(m, err, "upload insert");
    sqlite3_reset(s);
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_upload_get(struct meta *m, const char *id,
                              struct meta_upload *out, struct skyc_error *err)
{
    enum skyc_err rc;
    memset(out, 0, sizeof(*out));
    LOCK();
    sqlite3_stmt *s = st(m, Q_UPLOAD_GET);
    bind_text(s, 1, id);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        out->id = xstrdup(id);
        out->bucket = col_dup(s, 0);
        out->key = col_dup(s, 1);
        out->initiated_ms = sqlite3_column_int64(s, 2);
        out->headers = col_dup(s, 3);
        rc = SKYC_OK;
    } else {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "upload lookup");
    }
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

enum skyc_err meta_part_put(struct meta *m, const char *upload,
                            const struct meta_part *p, char **old_blob,
                            struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    *old_blob = NULL;
    LOCK();
    if (!exec1(m, Q_BEGIN)) {
        rc = db_fail(m, err, "begin");
        goto out;
    }
    sqlite3_stmt *s = st(m, Q_UPLOAD_GET);
    bind_text(s, 1, upload);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_ROW) {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "upload lookup");
        goto done;
    }
    s = st(m, Q_PART_BLOB);
    bind_text(s, 1, upload);
    sqlite3_bind_int64(s, 2, p->number);
    if (sqlite3_step(s) == SQLITE_ROW)
        *old_blob = col_dup(s, 0);
    sqlite3_reset(s);
    s = st(m, Q_PART_PUT);
    bind_text(s, 1, upload);
    sqlite3_bind_int64(s, 2, p->number);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)p->size);
    bind_text(s, 4, p->etag);
    bind_text(s, 5, p->blob);
    sqlite3_bind_int64(s, 6, p->mtime_ms ? p->mtime_ms : clock_wall_ms());
    if (p->region)
        bind_text(s, 7, p->region);
    else
        sqlite3_bind_null(s, 7);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(m, err, "part write");
    sqlite3_reset(s);
done:
    if (!rc && !exec1(m, Q_COMMIT))
        rc = db_fail(m, err, "commit");
    if (rc) {
        exec1(m, Q_ROLLBACK);
        FREE_AND_NULL(*old_blob);
    }
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_part_list(struct meta *m, const char *upload, long after,
                             meta_part_cb cb, void *ctx,
                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, Q_PART_LIST);
    bind_text(s, 1, upload);
    sqlite3_bind_int64(s, 2, after);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct meta_part p = {
            .number = (long)sqlite3_column_int64(s, 0),
            .size = (uint64_t)sqlite3_column_int64(s, 1),
            .etag = (char *)sqlite3_column_text(s, 2),
            .blob = (char *)sqlite3_column_text(s, 3),
            .mtime_ms = sqlite3_column_int64(s, 4),
            .region = (char *)sqlite3_column_text(s, 5),
        };
        if (!cb(ctx, &p)) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = db_fail(m, err, "part list");
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

enum skyc_err meta_upload_list(struct meta *m, const char *bucket,
                               const char *prefix, const char *after_key,
                               const char *after_id, meta_upload_cb cb,
                               void *ctx, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    size_t plen = prefix ? strlen(prefix) : 0;
    LOCK();
    sqlite3_stmt *s = st(m, Q_UPLOAD_LIST);
    bind_text(s, 1, bucket);
    bind_text(s, 2, prefix ? prefix : "");
    bind_text(s, 3, after_key ? after_key : "");
    bind_text(s, 4, after_id ? after_id : "");
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        struct meta_upload u = {
            .id = (char *)sqlite3_column_text(s, 0),
            .bucket = (char *)bucket,
            .key = (char *)sqlite3_column_text(s, 1),
            .initiated_ms = sqlite3_column_int64(s, 2),
            .headers = (char *)sqlite3_column_text(s, 3),
        };
        if ((plen && strncmp(u.key, prefix, plen) != 0) || !cb(ctx, &u)) {
            r = SQLITE_DONE;
            break;
        }
    }
    if (r != SQLITE_DONE)
        rc = db_fail(m, err, "upload list");
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

enum skyc_err meta_upload_finish(struct meta *m, const char *id,
                                 const struct meta_object *o, char ***blobs,
                                 size_t *nblobs, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    size_t alloc = 0, n0 = *nblobs;
    LOCK();
    if (!exec1(m, Q_BEGIN)) {
        rc = db_fail(m, err, "begin");
        goto out;
    }
    sqlite3_stmt *s = st(m, Q_UPLOAD_GET);
    bind_text(s, 1, id);
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_ROW) {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "upload lookup");
        goto done;
    }
    alloc = *nblobs;
    s = st(m, Q_PART_LIST);
    bind_text(s, 1, id);
    sqlite3_bind_int64(s, 2, 0);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*blobs, *nblobs + 1, alloc);
        (*blobs)[(*nblobs)++] = col_dup(s, 3);
    }
    sqlite3_reset(s);
    if (o) {
        char *old = NULL;
        if ((rc = put_locked(m, o, &old, err)))
            goto done;
        if (old) {
            ALLOC_GROW(*blobs, *nblobs + 1, alloc);
            (*blobs)[(*nblobs)++] = old;
        }
    }
    s = st(m, Q_PART_DELETE);
    bind_text(s, 1, id);
    r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r == SQLITE_DONE) {
        s = st(m, Q_UPLOAD_DELETE);
        bind_text(s, 1, id);
        r = sqlite3_step(s);
        sqlite3_reset(s);
    }
    if (r != SQLITE_DONE)
        rc = db_fail(m, err, "upload delete");
done:
    if (!rc && !exec1(m, Q_COMMIT))
        rc = db_fail(m, err, "commit");
    if (rc) {
        exec1(m, Q_ROLLBACK);
        while (*nblobs > n0)
            free((*blobs)[--*nblobs]);
    }
out:
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_blob_list(struct meta *m, meta_blob_cb cb, void *ctx,
                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, Q_BLOBS);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        cb(ctx, (const char *)sqlite3_column_text(s, 0));
    if (r != SQLITE_DONE)
        rc = db_fail(m, err, "blob list");
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}

/* One statement on (bucket, key, region[, blob]); *changed gets the rows
 * changed, or 1 for a query that returned a row. */
static enum skyc_err copy_stmt(struct meta *m, int q, const char *bucket,
                               const char *key, const char *region,
                               const char *blob, int *changed,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, q);
    if (!s) {
        rc = db_fail(m, err, "prepare");
        goto out;
    }
    bind_text(s, 1, bucket);
    bind_text(s, 2, key);
    bind_text(s, 3, region);
    if (blob)
        bind_text(s, 4, blob);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        *changed = 1;
    else if (r == SQLITE_DONE)
        *changed = q == Q_COPY_HAS ? 0 : sqlite3_changes(m->db);
    else
        rc = db_fail(m, err, "copy");
    sqlite3_reset(s);
out:
    UNLOCK();
    return rc;
}

enum skyc_err meta_copy_add(struct meta *m, const char *bucket,
                            const char *key, const char *region,
                            const char *blob, struct skyc_error *err)
{
    int n = 0;
    enum skyc_err rc =
        copy_stmt(m, Q_COPY_ADD, bucket, key, region, blob, &n, err);
    if (!rc && !n)
        rc = SKYC_E_NOT_FOUND;
    return durable(m, rc, err);
}

enum skyc_err meta_copy_remove(struct meta *m, const char *bucket,
                               const char *key, const char *region,
                               struct skyc_error *err)
{
    int n = 0;
    enum skyc_err rc =
        copy_stmt(m, Q_COPY_DEL, bucket, key, region, NULL, &n, err);
    return durable(m, rc, err);
}

enum skyc_err meta_copy_has(struct meta *m, const char *bucket,
                            const char *key, const char *region,
                            struct skyc_error *err)
{
    int n = 0;
    enum skyc_err rc =
        copy_stmt(m, Q_COPY_HAS, bucket, key, region, NULL, &n, err);
    return rc ? rc : n ? SKYC_OK : SKYC_E_NOT_FOUND;
}

enum skyc_err meta_policy_set(struct meta *m, const char *bucket,
                              const char *policy, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    LOCK();
    sqlite3_stmt *s = st(m, Q_POLICY_SET);
    bind_text(s, 1, bucket);
    bind_text(s, 2, policy);
    sqlite3_bind_int64(s, 3, clock_wall_ms());
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(m, err, "policy write");
    else if (sqlite3_changes(m->db) == 0)
        rc = SKYC_E_NOT_FOUND;
    sqlite3_reset(s);
    UNLOCK();
    return durable(m, rc, err);
}

enum skyc_err meta_policy_get(struct meta *m, const char *bucket,
                              char **policy, struct skyc_error *err)
{
    enum skyc_err rc;
    *policy = NULL;
    LOCK();
    sqlite3_stmt *s = st(m, Q_POLICY_GET);
    bind_text(s, 1, bucket);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        *policy = col_dup(s, 0);
        rc = SKYC_OK;
    } else {
        rc = r == SQLITE_DONE ? SKYC_E_NOT_FOUND
                              : db_fail(m, err, "policy lookup");
    }
    sqlite3_reset(s);
    UNLOCK();
    return rc;
}
