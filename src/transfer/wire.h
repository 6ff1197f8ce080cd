/*
 * wire.h - the data plane's wire protocol between skyc cp and gateways.
 *
 * A TCP connection carries frames. Every frame is a fixed 64-byte header
 * (big-endian) followed by payload_len bytes:
 *
 *    0 magic "SKY1"   4 type u8   5 flags u8   6 reserved u16
 *    8 payload_len u32            12 raw_len u32 (plaintext body length)
 *   16 id u64 (chunk id, or file index for COMMIT)
 *   24 crc32c u32 of the plaintext body
 *   28 part_size u32 (the transfer's chunk size: where multipart parts start)
 *   32 nonce[12]   44 tag[16] (AES-256-GCM, when WIRE_F_ENCRYPTED)   60 pad
 *
 * The first frame on a connection is HELLO (payload: JSON with the transfer
 * id, the remaining route and the destination); a relay pops the first hop
 * of the route, connects to it, forwards the HELLO and then pipes frames
 * both ways without looking inside them. The last hop answers every CHUNK
 * with ACK (written and checksum good) or NACK (bad checksum, bad tag,
 * undecodable: the sender resends), and every COMMIT with COMMIT_ACK.
 *
 * A connection may instead start with SOURCE (payload: JSON request, see
 * struct wire_source): "you are the source: read SRC from your own
 * endpoint and send it along these paths". That gateway runs the copy and
 * answers with STATUS frames (JSON, struct wire_status), the last one final.
 *
 * A CHUNK's plaintext body is: meta_len u32, meta, data. meta is nseg u32 and
 * per segment: path_len u16, path, file_size u64, offset u64, len u32,
 * mtime_ns i64, mode u32. data is the segments' bytes, in order. A COMMIT's
 * payload is one segment record (len 0): "this file is complete, rename it".
 *
 * The decoders here take untrusted bytes: they never read out of bounds and
 * reject anything malformed with a message (fuzzed by tests/fuzz/fuzz_wire.c).
 */
#ifndef SKYC_TRANSFER_WIRE_H
#define SKYC_TRANSFER_WIRE_H

#include "core/common.h"
#include "core/error.h"
#include "core/strbuf.h"

#define WIRE_MAGIC 0x534b5931u /* "SKY1" */
#define WIRE_HDR_LEN 64
/* No frame payload above this is accepted (chunks are at most 256 MiB). */
#define WIRE_MAX_PAYLOAD (300u * 1024 * 1024)
#define WIRE_MAX_PATH 4096

enum wire_type {
    WIRE_HELLO = 1,
    WIRE_CHUNK = 2,
    WIRE_ACK = 3,
    WIRE_NACK = 4,
    WIRE_COMMIT = 5,
    WIRE_COMMIT_ACK = 6,
    WIRE_ERROR = 7,
    WIRE_BYE = 8,
    WIRE_SOURCE = 9,
    WIRE_STATUS = 10,
};

enum wire_flags {
    WIRE_F_COMPRESSED = 1, /* payload is zstd of the body */
    WIRE_F_ENCRYPTED = 2,  /* payload is AES-256-GCM sealed */
};

struct wire_hdr {
    uint8_t type;
    uint8_t flags;
    uint32_t payload_len;
    uint32_t raw_len;
    uint64_t id;
    uint32_t crc;
    uint32_t part_size;
    uint8_t nonce[12];
    uint8_t tag[16];
};

void wire_hdr_encode(const struct wire_hdr *h, uint8_t out[WIRE_HDR_LEN]);
/*
 * A control frame built in place: sb holds WIRE_HDR_LEN reserved bytes and
 * then the payload. Sets h's payload and raw lengths from sb and writes the
 * header into those first bytes. Cannot fail.
 */
void wire_frame_seal(struct strbuf *sb, struct wire_hdr *h);
/* Decode and validate (magic, known type, lengths within limits). */
enum skyc_err wire_hdr_decode(struct wire_hdr *h, const uint8_t *in,
                              size_t len, struct skyc_error *err);

/* One file segment inside a chunk, or the file named by a COMMIT. */
struct wire_seg {
    char *path; /* relative, '/'-separated, validated by wire_path_ok() */
    uint64_t file_size;
    uint64_t offset;
    uint32_t len;
    int64_t mtime_ns;
    uint32_t mode;
};

/* A decoded chunk body: segments and a pointer to their data (not owned). */
struct wire_body {
    struct wire_seg *segs;
    size_t nsegs;
    const uint8_t *data;
    size_t data_len;
};

/* Append meta (meta_len + segments) for these segments to sb. */
void wire_meta_encode(struct strbuf *sb, const struct wire_seg *segs,
                      size_t n);
/*
 * Parse a chunk body. On success body->segs is allocated (release with
 * wire_body_release()), data points into buf, and the segments' lengths sum
 * to data_len exactly. On failure body is empty.
 */
enum skyc_err wire_body_decode(struct wire_body *body, const uint8_t *buf,
                               size_t len, struct skyc_error *err);
void wire_body_release(struct wire_body *body);

/* Encode / decode one segment record (COMMIT payloads). */
void wire_seg_encode(struct strbuf *sb, const struct wire_seg *s);
enum skyc_err wire_seg_decode(struct wire_seg *s, const uint8_t *buf,
                              size_t len, struct skyc_error *err);
void wire_seg_release(struct wire_seg *s);

/* A relative path with no empty, "." or ".." component and no NUL. */
bool wire_path_ok(const char *path, size_t len);

/* HELLO: where this connection's frames go. */
struct wire_hello {
    char transfer[65];  /* hex id */
    char **route;       /* remaining hops "host:port"; empty at the last */
    size_t nroute;
    char *dest;         /* destination root on the last hop */
    bool has_key;
    uint8_t key[32];    /* per-transfer AES key (control connections only) */
};

void wire_hello_encode(struct strbuf *sb, const struct wire_hello *h);
enum skyc_err wire_hello_decode(struct wire_hello *h, const uint8_t *buf,
                                size_t len, struct skyc_error *err);
void wire_hello_release(struct wire_hello *h);

/* SOURCE: a copy a gateway runs from its own endpoint. */
#define WIRE_SOURCE_MAX_PATHS 16
#define WIRE_SOURCE_MAX_HOPS 16
struct wire_source_path {
    char **hops;     /* "host:port", first hop first; the last one writes */
    size_t nhops;
    int conns;       /* 1..64 */
    char *key_to;    /* may be NULL (sender_path.key_to) */
};
struct wire_source {
    char *src, *dst; /* endpoint specs: SRC at the source, DST at the end */
    bool recursive, sync, compress, encrypt;
    uint32_t chunk_size;
    int retries;
    struct wire_source_path *paths;
    size_t npaths;
};
void wire_source_encode(struct strbuf *sb, const struct wire_source *s);
/* Validates every field (types, bounds, addresses); on failure s is empty. */
enum skyc_err wire_source_decode(struct wire_source *s, const uint8_t *buf,
                                 size_t len, struct skyc_error *err);
void wire_source_release(struct wire_source *s);

/* STATUS: progress of a SOURCE copy; final once, with its outcome. */
struct wire_status {
    bool final;
    int code;        /* final: 0, or the copy's error code ... */
    char msg[256];   /* ... and message */
    bool resumed;
    uint64_t objects, unchanged, total_bytes, done_bytes, skipped_bytes,
        wire_bytes, chunks_total, chunks_sent, chunks_skipped, chunks_resent,
        conn_failures;
    double seconds;
};
void wire_status_encode(struct strbuf *sb, const struct wire_status *s);
enum skyc_err wire_status_decode(struct wire_status *s, const uint8_t *buf,
                                 size_t len, struct skyc_error *err);

/* "host:port" into a sockaddr; IPv4 dotted or IPv6 in brackets. */
struct sockaddr_storage;
enum skyc_err wire_parse_addr(const char *s, struct sockaddr_storage *ss,
                              struct skyc_error *err);

#endif
