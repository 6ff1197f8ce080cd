/*
 * sender.h - the source side of a transfer: reads chunks from the source
 * endpoint and sends them over parallel TCP connections along one or more
 * paths (each a list of gateway hops, the last one writing), until every
 * chunk is acknowledged by the last hop and every multi-chunk object is
 * committed.
 *
 * Failure handling: a NACKed chunk (bad checksum or tag at the destination)
 * is resent, up to SENDER_MAX_TRIES times. A connection that breaks has its
 * unacknowledged chunks put back in the queue for any connection to take,
 * and reconnects with exponential backoff; after max_retries failures in a
 * row it is given up, and the transfer goes on over the others (so a dead
 * relay only costs its share of the bandwidth). The transfer fails only when
 * no connection is left, a source read fails, or a gateway reports an error;
 * the manifest then lets a re-run resume.
 */
#ifndef SKYC_TRANSFER_SENDER_H
#define SKYC_TRANSFER_SENDER_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/chunk.h"
#include "transfer/codec.h"
#include "transfer/endpoint.h"
#include "transfer/manifest.h"

#define SENDER_MAX_TRIES 6

struct sender_path {
    const char **hops; /* "host:port", first hop first */
    size_t nhops;
    int conns;         /* parallel connections on this path */
    /* where this client reaches the last hop directly, to hand it the
     * transfer key (--encrypt); NULL: the last hop's address in hops */
    const char *key_to;
};

struct sender_stats {
    uint64_t total_bytes;    /* object bytes in the transfer */
    uint64_t done_bytes;     /* acknowledged, including skipped */
    uint64_t skipped_bytes;  /* already done per the manifest */
    uint64_t wire_bytes;     /* CHUNK and COMMIT frames queued on sockets
                              * (64-byte headers included, HELLOs not) */
    uint64_t chunks_total, chunks_sent, chunks_skipped, chunks_resent;
    uint64_t conn_failures;
    double seconds;
};

typedef void (*sender_progress_fn)(const struct sender_stats *st, void *arg);

struct sender_opts {
    struct endpoint *src;
    const struct ep_list *objs;
    const struct chunk_layout *lay;
    /* the key at the destination per object; NULL: the same as the source */
    char *const *dst_keys;
    struct manifest *manifest; /* updated as chunks are acknowledged */
    const char *dest;          /* destination spec at the last hop */
    const struct sender_path *paths;
    size_t npaths;
    struct codec codec;
    uint32_t part_size;        /* the chunk size, for multipart stores */
    int max_retries;           /* per connection, in a row */
    sender_progress_fn progress; /* every 200 ms, may be NULL */
    void *progress_arg;
};

enum skyc_err sender_run(const struct sender_opts *o, struct sender_stats *st,
                         struct skyc_error *err);

#endif
