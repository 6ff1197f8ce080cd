/*
 * meta.h - the store's metadata service: buckets, objects, multipart
 * uploads and parts, in SQLite (WAL, STRICT tables) at DATA/meta.db.
 *
 * An object row maps (bucket, key) to one blob id in one region (see
 * store/backend.h; on a multi-region server the primary's region, and
 * the same id names its replicas, one row each in the copies table); the blob bytes are committed before the row, so a row
 * never names a missing blob, and a blob without a row (crash between the
 * two) is garbage that is never served. Replacing or deleting a row hands
 * the old blob id back to the caller, who removes the bytes AFTER the row
 * change is durable; readers that opened the old blob keep their fd.
 *
 * One connection serialised by a mutex: every call is atomic and may be
 * made from any thread. With sync_full, a write returns only after its
 * commit is on disk: SQLite commits without syncing (WAL, synchronous =
 * NORMAL) under the lock, then the writer fdatasyncs the WAL outside it, so
 * concurrent writers share one flush (group commit) instead of queueing
 * behind each other's fsync: at most one fdatasync runs, and it makes
 * every commit that preceded it durable, however many writers wait.
 * Functions return SKYC_OK, SKYC_E_NOT_FOUND (no such row), SKYC_E_FAILED
 * (a conflict, said in the description of each call) or SKYC_E_STATE
 * (SQLite failed; err says why).
 * Strings in result structs are owned by the struct; release with
 * meta_object_release() / meta_upload_release().
 */
#ifndef SKYC_STORE_META_H
#define SKYC_STORE_META_H

#include "core/common.h"
#include "core/error.h"

#include <pthread.h>

struct sqlite3;

struct meta {
    struct sqlite3 *db;
    pthread_mutex_t mu;
    struct sqlite3_stmt *stmts[32];
    bool sync;      /* writes return only once their commit is on disk */
    int wal_fd;     /* the WAL, fdatasync'ed outside the lock */
    char *wal_path;
    /* group commit: one fdatasync at a time covers every commit made
     * before it started; writers that commit meanwhile wait for the next
     * one (led by the first of them) instead of each syncing */
    pthread_mutex_t sync_mu;
    pthread_cond_t sync_cv;
    uint64_t syncs_started, syncs_done, sync_failed; /* generations */
    int sync_errno;
    bool syncing;
};

enum skyc_err meta_open(struct meta *m, const char *path, bool sync_full,
                        struct skyc_error *err);
void meta_close(struct meta *m);

struct meta_object {
    char *bucket, *key;
    uint64_t size;
    char *etag;     /* quoted, as S3 sends it */
    int64_t mtime_ms;
    char *blob;     /* blob id in region */
    char *region;
    char *headers;  /* JSON array of [name, value]: content-type, x-amz-meta-* */
    char *checksum; /* "crc32:BASE64" or NULL */
    /* A small object lives in its row (blob is ""): durable with the one
     * commit, no file to create, fsync and read. In results data is owned
     * (and NUL-terminated); meta_object_get() fills it, listings do not. */
    bool has_data;
    void *data;
    size_t data_len;
};
void meta_object_release(struct meta_object *o);

/* Buckets. create: SKYC_E_FAILED when it exists. delete: FAILED when not empty. */
enum skyc_err meta_bucket_create(struct meta *m, const char *name,
                                 const char *region, struct skyc_error *err);
enum skyc_err meta_bucket_get(struct meta *m, const char *name,
                              int64_t *created_ms, char **region,
                              struct skyc_error *err);
enum skyc_err meta_bucket_delete(struct meta *m, const char *name,
                                 struct skyc_error *err);
/* cb is called per bucket in name order; returns false to stop. */
typedef bool (*meta_bucket_cb)(void *ctx, const char *name,
                               int64_t created_ms);
enum skyc_err meta_bucket_list(struct meta *m, meta_bucket_cb cb, void *ctx,
                               struct skyc_error *err);

/* Objects. */
enum skyc_err meta_object_get(struct meta *m, const char *bucket,
                              const char *key, struct meta_object *out,
                              struct skyc_error *err);
/*
 * Insert or replace o's row. *old_blob (caller frees) gets the replaced
 * row's blob id, or NULL. NOT_FOUND when the bucket is gone.
 */
enum skyc_err meta_object_put(struct meta *m, const struct meta_object *o,
                              char **old_blob, struct skyc_error *err);
/* Delete; *old_blob as above. NOT_FOUND when there was no such key. */
enum skyc_err meta_object_delete(struct meta *m, const char *bucket,
                                 const char *key, char **old_blob,
                                 struct skyc_error *err);
/*
 * Objects of bucket in key (byte) order with key > after (NULL = from the
 * start) and key starting with prefix (NULL = any). cb returns false to
 * stop. The object passed to cb is only valid during the call.
 */
typedef bool (*meta_object_cb)(void *ctx, const struct meta_object *o);
enum skyc_err meta_object_list(struct meta *m, const char *bucket,
                               const char *prefix, const char *after,
                               meta_object_cb cb, void *ctx,
                               struct skyc_error *err);

/* Multipart uploads. */
struct meta_upload {
    char *id, *bucket, *key, *headers;
    int64_t initiated_ms;
};
void meta_upload_release(struct meta_upload *u);

struct meta_part {
    long number;
    uint64_t size;
    char *etag; /* quoted */
    char *blob;
    int64_t mtime_ms;
    char *region; /* the region whose backend holds blob; NULL: unknown
                   * (the upload's write region) */
};

enum skyc_err meta_upload_create(struct meta *m, const struct meta_upload *u,
                                 struct skyc_error *err);
enum skyc_err meta_upload_get(struct meta *m, const char *id,
                              struct meta_upload *out, struct skyc_error *err);
/* Record a part (replacing one with the same number: *old_blob as above).
 * NOT_FOUND when the upload is gone. */
enum skyc_err meta_part_put(struct meta *m, const char *upload,
                            const struct meta_part *p, char **old_blob,
                            struct skyc_error *err);
/* Parts of an upload in number order with number > after. */
typedef bool (*meta_part_cb)(void *ctx, const struct meta_part *p);
enum skyc_err meta_part_list(struct meta *m, const char *upload, long after,
                             meta_part_cb cb, void *ctx,
                             struct skyc_error *err);
/* Uploads of a bucket ordered by (key, id), after (key, id) when given. */
typedef bool (*meta_upload_cb)(void *ctx, const struct meta_upload *u);
enum skyc_err meta_upload_list(struct meta *m, const char *bucket,
                               const char *prefix, const char *after_key,
                               const char *after_id, meta_upload_cb cb,
                               void *ctx, struct skyc_error *err);
/*
 * End an upload: delete it and its parts and, when o is non-NULL (complete),
 * insert o in the same transaction. The blobs to remove afterwards (parts
 * and a replaced object) are appended to *blobs / *nblobs (caller frees each
 * and the array). NOT_FOUND when the upload is gone.
 */
enum skyc_err meta_upload_finish(struct meta *m, const char *id,
                                 const struct meta_object *o, char ***blobs,
                                 size_t *nblobs, struct skyc_error *err);

/*
 * Replicas (a multi-region server): the copies of an object in regions
 * other than its primary's, each the same blob id as the object's row. A
 * replica row goes with its object (an overwrite or delete of the object
 * removes them, in the same transaction, by trigger).
 * add: record that region holds blob; NOT_FOUND when the object's row no
 * longer names blob (overwritten meanwhile: the caller removes its copy).
 * has: OK when region holds the object's current blob, else NOT_FOUND.
 */
enum skyc_err meta_copy_add(struct meta *m, const char *bucket,
                            const char *key, const char *region,
                            const char *blob, struct skyc_error *err);
enum skyc_err meta_copy_remove(struct meta *m, const char *bucket,
                               const char *key, const char *region,
                               struct skyc_error *err);
enum skyc_err meta_copy_has(struct meta *m, const char *bucket,
                            const char *key, const char *region,
                            struct skyc_error *err);

/*
 * A bucket's placement policy set at run time (a multi-region server's
 * PUT /BUCKET?skyc-policy), kept across restarts and gone with the bucket.
 * set: NOT_FOUND when there is no such bucket. get: *policy (caller frees),
 * NOT_FOUND when none was set.
 */
enum skyc_err meta_policy_set(struct meta *m, const char *bucket,
                              const char *policy, struct skyc_error *err);
enum skyc_err meta_policy_get(struct meta *m, const char *bucket,
                              char **policy, struct skyc_error *err);

/* Every blob id a row names (objects and parts), in no particular order. */
typedef void (*meta_blob_cb)(void *ctx, const char *blob);
enum skyc_err meta_blob_list(struct meta *m, meta_blob_cb cb, void *ctx,
                             struct skyc_error *err);

#endif
