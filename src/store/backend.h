/*
 * backend.h - where object bytes live: a physical backend per region.
 *
 * The seam for multi-region buckets: the metadata (store/meta.h) maps a
 * bucket's key to a blob id AND the primary's region; a struct store_region
 * names a region ("local", "aws:us-east-1") and owns its backend. A
 * single-region server has one region. A multi-region server (server.h) has
 * one per configured region; the placement engine (store/placement.h)
 * decides which regions hold a copy, and server_place.c writes each copy
 * with the same blob id in its region (backend_create_id()), so the id in
 * the row names every copy and an overwrite or delete removes the id from
 * every region. A remote S3-compatible backend (backend_open_s3())
 * implements the same calls over HTTP; its read side streams through a
 * blob_reader instead of handing out an fd (backend_open_read() is
 * local-only and answers SKYC_E_USAGE for a remote backend).
 *
 * The local backend stores each blob as DIR/blobs/XX/ID (XX = first two
 * hex digits of the id) and writes through DIR/tmp/: a blob becomes visible
 * at its final name only after its bytes are fsynced and renamed, so a crash
 * mid-write leaves at most a file under tmp/, which backend_open() removes.
 * Blob ids are random 128-bit hex strings and are never reused, so a reader
 * holding an open fd keeps seeing the bytes it opened even when the key is
 * overwritten and the old blob unlinked.
 *
 * Objects up to INLINE_MAX (64 KiB, server_internal.h) never reach a
 * backend on a single-region server: their bytes live in their metadata row
 * (store/meta.h), durable with its one commit. A multi-region server does
 * not inline, so every copy in every region is a blob.
 *
 * Thread safety: all calls may run concurrently on one backend.
 */
#ifndef SKYC_STORE_BACKEND_H
#define SKYC_STORE_BACKEND_H

#include "core/common.h"
#include "core/error.h"

#include <sys/types.h>

#define BLOB_ID_LEN 32

struct endpoint;

struct backend {
    char *kind; /* "local" or "s3" */
    char *root; /* local: the directory; s3: the local spool directory */
    int fsync;  /* 1: fsync blobs and directories before acknowledging */
    /* s3: the remote bucket (transfer/endpoint.h's S3 client, the one the
     * transfer plane uses), blobs stored under their id as key */
    struct endpoint *remote;
    /* bytes read from and written to this backend (atomic counters; reads
     * served by sendfile are counted by whoever serves them) */
    uint64_t bytes_read, bytes_written;
};
static inline void backend_count_read(struct backend *be, uint64_t n)
{
    __atomic_fetch_add(&be->bytes_read, n, __ATOMIC_RELAXED);
}

/* A remote S3-compatible bucket as a region's backend. */
struct backend_s3_config {
    const char *url;    /* "http://127.0.0.1:9100" */
    const char *bucket;
    const char *prefix; /* "" or NULL: the bucket's top */
    const char *access_key, *secret_key;
    const char *region; /* signing region; NULL: us-east-1 */
};

struct store_region {
    char *name; /* "local", or "cloud:region" */
    struct backend be;
    uint16_t model; /* multi-region: the region's index in the cost model */
};

/* Open (creating DIR/blobs and DIR/tmp) and clear tmp/ of crash leftovers. */
enum skyc_err backend_open(struct backend *be, const char *root, bool fsync,
                           struct skyc_error *err);
/*
 * Open a remote backend: blobs live in the remote bucket under
 * PREFIX/ID. A blob being written is spooled in SPOOL/tmp/ and sent at
 * backend_commit() (one PUT, or a multipart upload past 16 MiB), so the
 * remote shows it whole or not at all; a crash mid-write leaves at most a
 * spool file (cleared here) or an unfinished multipart upload, which the
 * remote never lists as an object.
 */
enum skyc_err backend_open_s3(struct backend *be, const char *spool,
                              const struct backend_s3_config *c, bool fsync,
                              struct skyc_error *err);
void backend_release(struct backend *be);

/* A blob being written: bytes go to tmp/ until backend_commit(). */
struct blob_writer {
    struct backend *be;
    int fd;
    char id[BLOB_ID_LEN + 1];
    char *tmp_path;
    uint64_t size;
};

/* Start a new blob with a fresh id. */
enum skyc_err backend_create(struct backend *be, struct blob_writer *w,
                             struct skyc_error *err);
/* Start a blob with a given id: a replica of another region's blob keeps
 * its id (a multi-region server names every copy of an object alike). */
enum skyc_err backend_create_id(struct backend *be, struct blob_writer *w,
                                const char *id, struct skyc_error *err);
/* Append bytes. */
enum skyc_err backend_write(struct blob_writer *w, const void *data,
                            size_t len, struct skyc_error *err);
/* Append [off, off+len) of another blob (server-side copy). */
enum skyc_err backend_append_blob(struct blob_writer *w, const char *src_id,
                                  uint64_t off, uint64_t len,
                                  struct skyc_error *err);
/* fsync, rename into place; w is released either way. */
enum skyc_err backend_commit(struct blob_writer *w, struct skyc_error *err);
/* Drop an unfinished blob (safe on a zeroed or released writer). */
void backend_abort(struct blob_writer *w);

/* Open a blob for reading; *size gets its length. Caller closes the fd. */
enum skyc_err backend_open_read(struct backend *be, const char *id, int *fd,
                                uint64_t *size, struct skyc_error *err);
/* A committed blob open for reading at any offset, whatever the backend. */
struct blob_reader {
    struct backend *be;
    int fd;        /* local */
    char id[BLOB_ID_LEN + 1];
    uint64_t size;
};
/* SKYC_E_NOT_FOUND when there is no such blob. */
enum skyc_err backend_reader_open(struct backend *be, const char *id,
                                  struct blob_reader *rd,
                                  struct skyc_error *err);
/* Exactly len bytes at off (a short blob is SKYC_E_IO). */
enum skyc_err backend_reader_read(struct blob_reader *rd, uint64_t off,
                                  void *buf, size_t len,
                                  struct skyc_error *err);
/* Safe on a zeroed or closed reader. */
void backend_reader_close(struct blob_reader *rd);
/* Append [off, off+len) of blob src_id held in backend src, which may be
 * another region's (copy_file_range within one local backend). */
enum skyc_err backend_append_from(struct blob_writer *w, struct backend *src,
                                  const char *src_id, uint64_t off,
                                  uint64_t len, struct skyc_error *err);

/* Remove a committed blob (missing is not an error). */
void backend_remove(struct backend *be, const char *id);

/*
 * Remove committed blobs that keep() rejects: the garbage a crash between a
 * blob's commit and its metadata row leaves. Only safe while nothing writes
 * (the server calls it before it starts serving). Returns how many went.
 */
typedef bool (*backend_keep_fn)(void *ctx, const char *id);
size_t backend_sweep(struct backend *be, backend_keep_fn keep, void *ctx);

#endif
