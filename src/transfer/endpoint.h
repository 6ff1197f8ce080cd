/*
 * endpoint.h - where objects come from and go to: one interface over a local
 * directory (endpoint_local.c) and S3-compatible HTTP stores.
 *
 * An endpoint is opened from a spec ("/data/dir", "s3://bucket/prefix") and
 * names objects by keys relative to its root, '/'-separated. Every operation
 * may be called from several threads at once. Writes are multipart: a writer
 * takes parts at any offset, in any order and from any number of writers
 * opened on the same key (even in different processes, one after another),
 * and nothing is visible under the key until write_commit(); an abandoned
 * write leaves only a hidden part file, which a later writer continues.
 */
#ifndef SKYC_TRANSFER_ENDPOINT_H
#define SKYC_TRANSFER_ENDPOINT_H

#include "core/common.h"
#include "core/error.h"

struct ep_object {
    char *key;
    uint64_t size;
    int64_t mtime_ns;
    uint32_t mode;
};

struct ep_list {
    struct ep_object *v;
    size_t n, alloc;
};
void ep_list_release(struct ep_list *l);
/* Sort by key (byte order), so chunk layouts are the same on every run. */
void ep_list_sort(struct ep_list *l);

struct endpoint;
struct ep_writer;

struct endpoint_ops {
    const char *scheme;
    /* Every object under the root (recursive), appended to out. */
    enum skyc_err (*list)(struct endpoint *ep, struct ep_list *out,
                          struct skyc_error *err);
    /* SKYC_E_NOT_FOUND when there is no such object. o->key is set. */
    enum skyc_err (*stat)(struct endpoint *ep, const char *key,
                          struct ep_object *o, struct skyc_error *err);
    /* Exactly len bytes at off, or an error (short object = SKYC_E_IO). */
    enum skyc_err (*read)(struct endpoint *ep, const char *key, uint64_t off,
                          void *buf, size_t len, struct skyc_error *err);
    /*
     * Optional (NULL when objects are not files): a read-only descriptor on
     * key, for zero-copy sends (sendfile). The caller closes it.
     */
    enum skyc_err (*open_fd)(struct endpoint *ep, const char *key, int *fd,
                             struct skyc_error *err);
    /* Store a whole object in one call (small objects, packed chunks). */
    enum skyc_err (*put)(struct endpoint *ep, const char *key,
                         const void *buf, size_t len, int64_t mtime_ns,
                         uint32_t mode, struct skyc_error *err);
    /*
     * Start or continue a multipart write. part_size is the size of every
     * part but the last (parts are at multiples of it); stores that number
     * their parts (S3) use it, files ignore it. mtime_ns is recorded when
     * the store takes metadata at the start of an upload (0: unknown).
     */
    enum skyc_err (*write_open)(struct endpoint *ep, const char *key,
                                uint32_t part_size, int64_t mtime_ns,
                                struct ep_writer **w, struct skyc_error *err);
    enum skyc_err (*write_at)(struct ep_writer *w, uint64_t off,
                              const void *buf, size_t len,
                              struct skyc_error *err);
    /*
     * Make the object visible with exactly size bytes, mtime and mode (0 for
     * the default). Frees w whatever the outcome. SKYC_E_NOT_FOUND when no
     * part was ever written for a non-empty object.
     */
    enum skyc_err (*write_commit)(struct ep_writer *w, uint64_t size,
                                  int64_t mtime_ns, uint32_t mode,
                                  struct skyc_error *err);
    /* Close without committing (the parts stay for a later writer). */
    void (*write_close)(struct ep_writer *w);
    enum skyc_err (*remove)(struct endpoint *ep, const char *key,
                            struct skyc_error *err);
    void (*free)(struct endpoint *ep);
};

struct endpoint {
    const struct endpoint_ops *ops;
    char *spec; /* as opened */
};

/*
 * Open spec: "s3://..." for S3, anything else is a local directory (created
 * on first write). Returns SKYC_E_USAGE for a spec it cannot use.
 */
enum skyc_err endpoint_open(const char *spec, struct endpoint **ep,
                            struct skyc_error *err);
enum skyc_err endpoint_local_open(const char *root, struct endpoint **ep,
                                  struct skyc_error *err);
/*
 * "s3://bucket[/prefix]" on the S3-compatible service at $SKYC_S3_ENDPOINT
 * (or $AWS_ENDPOINT_URL; default https://s3.<region>.amazonaws.com), path
 * style, signed with SigV4 from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY,
 * region $AWS_REGION (default us-east-1). Objects written carry their mtime
 * as x-amz-meta-skyc-mtime.
 */
enum skyc_err endpoint_s3_open(const char *spec, struct endpoint **ep,
                               struct skyc_error *err);
/* The same with the service, credentials and signing region given
 * (NULL region: us-east-1) instead of taken from the environment: a store
 * region's remote backend (store/backend.h) names them in its config. */
struct endpoint_s3_opts {
    const char *url; /* "http://127.0.0.1:9000" */
    const char *access_key, *secret_key;
    const char *region;
};
enum skyc_err endpoint_s3_open_with(const char *spec,
                                    const struct endpoint_s3_opts *o,
                                    struct endpoint **ep,
                                    struct skyc_error *err);
/* One signed request on an S3 endpoint's bucket (key NULL: the bucket
 * itself) for what the interface has no verb for, such as a store server's
 * extensions: *status gets the HTTP status, out the response body
 * (appended). SKYC_E_NETWORK when no answer came. */
struct strbuf;
enum skyc_err endpoint_s3_request(struct endpoint *ep, const char *method,
                                  const char *key, const char *query,
                                  const void *body, size_t len, long *status,
                                  struct strbuf *out, struct skyc_error *err);
void endpoint_free(struct endpoint *ep);

#endif
