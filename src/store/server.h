/*
 * server.h - `skyc store serve`: an S3-compatible HTTP/1.1 server.
 *
 * HTTP comes from libmicrohttpd (epoll thread pool); this module routes S3
 * requests (path style, and virtual-host style when config.domain is set),
 * authenticates them with SigV4 (s3/sigv4.h: Authorization header or a
 * presigned query, expiry enforced, users from the config), and serves them
 * from the metadata (store/meta.h) and a backend (store/backend.h).
 *
 * Request path: on_request() -> route() (bucket, key, operation) ->
 * authenticate() -> for operations with a body, a body sink (aws-chunked
 * decoding, MD5 / SHA-256 / x-amz-checksum-* hashing, blob writer) -> the
 * handler -> an S3 XML result or error (with RequestId = x-amz-request-id).
 *
 * Multi-region: with "regions" in the config (store_config_load()) one
 * process serves one S3 endpoint per region over one metadata database;
 * each region has its own directory backend. Writes, reads and deletes go
 * through the placement engine (store/placement.h) in server_place.c: the
 * bytes of a write land in the endpoint's region (a single-region bucket's
 * home instead), the plan's COPYs replicate them, a GET reads from the
 * region its plan names (response header x-skyc-read-region) and keeps a
 * replica when the policy says, a timer carries out TTL evictions. Without
 * "regions" there is one region ("local", the data directory) and the
 * engine is not used. Handlers only go through region_for_write() and the
 * mr_*() calls of server_internal.h.
 *
 * Lifecycle: store_server_start() binds and serves on background threads
 * until store_server_stop(), which waits for them and frees everything.
 */
#ifndef SKYC_STORE_SERVER_H
#define SKYC_STORE_SERVER_H

#include "core/common.h"
#include "core/error.h"

struct store_user {
    char *access_key;
    char *secret_key;
};

/* One region of a multi-region server: its backend directory and the
 * address of its S3 endpoint. */
struct store_region_config {
    char *name;  /* "cloud:region", as the cost model (store/cost.h) names it */
    char *dir;   /* the region's local directory backend, or NULL when... */
    /* ...the region's backend is a remote S3-compatible bucket */
    char *s3_url, *s3_bucket, *s3_prefix, *s3_access_key, *s3_secret_key,
        *s3_region;
    char *host;  /* its endpoint's listen address */
    int port;    /* 0: any free port */
};

struct store_config {
    char *data_dir;
    char *listen_host; /* "127.0.0.1" */
    int port;          /* 0: any free port */
    char *region;      /* the region buckets report; default us-east-1 */
    char *domain;      /* virtual-host base ("s3.local"), or NULL */
    struct store_user *users;
    size_t nusers, alloc;
    bool fsync;        /* fsync blobs + SQLite FULL (default true) */
    int threads;       /* 0 (default): a thread per connection; N: a pool of
                        * N epoll threads sharing the connections */
    long max_skew;     /* seconds a request's x-amz-date may be off (900) */
    /* multi-region (nregions >= 1 turns it on; see store_config_load()) */
    struct store_region_config *regions;
    size_t nregions;
    char *policy;       /* default placement policy (write-local) */
    char **bucket_names, **bucket_policies; /* per-bucket policies */
    size_t nbuckets;
    char *profiles;     /* cost profiles dir; NULL: the shared data's */
    double tick_s;      /* eviction timer period (default 0.25 s) */
};

void store_config_init(struct store_config *c);
void store_config_release(struct store_config *c);
/* Add one user (copies the strings). */
void store_config_add_user(struct store_config *c, const char *ak,
                           const char *sk);
/*
 * Read a JSON config file:
 *   {"region": "us-east-1", "domain": "s3.local", "fsync": true,
 *    "threads": 4, "users": [{"access_key": "K", "secret_key": "S"}]}
 * Unknown keys are errors (file:line:col), so typos do not pass silently.
 *
 * A multi-region server (one bucket namespace spanning several regions, one
 * process, one SQLite metadata under "data") adds:
 *   "regions": [{"name": "aws:us-east-1", "dir": "/srv/a",
 *                "listen": "127.0.0.1:9001"}, ...],
 * where instead of "dir" a region's backend may be a remote S3-compatible
 * bucket (its blobs are objects there, sent through transfer/endpoint.h):
 *     "s3": {"url": "http://10.0.0.5:9000", "bucket": "b", "prefix": "p",
 *            "access_key": "K", "secret_key": "S", "region": "us-east-1"}
 * ("prefix" and "region" optional; writes are spooled in DATA/spool-N),
 *   "policy": "write-local",                 (every bucket's default)
 *   "buckets": {"photos": "copy-on-read:1h"}, (per-bucket policies)
 *   "profiles": "DIR"                         (cost profiles, optional)
 * Region names are the cost model's (store/cost.h); policy names are
 * `skyc store sim`'s (store/placement.h). Each region gets its own S3
 * endpoint; "listen" at the top level is then not used.
 */
enum skyc_err store_config_load(struct store_config *c, const char *path,
                                struct skyc_error *err);
/* "HOST:PORT" into c->listen_host / c->port. */
enum skyc_err store_config_listen(struct store_config *c, const char *spec,
                                  struct skyc_error *err);

struct store_server;

enum skyc_err store_server_start(const struct store_config *c,
                                 struct store_server **out,
                                 struct skyc_error *err);
/* The bound TCP port (useful with port 0): of region i's endpoint. */
int store_server_port(const struct store_server *s);
int store_server_region_port(const struct store_server *s, size_t i);
void store_server_stop(struct store_server *s);

#endif
