/*
 * frame.h - reading wire frames off a libuv stream without copying.
 *
 * frame_alloc() hands libuv the exact spot where the next bytes belong: the
 * header first, then the payload buffer (allocated once the header is
 * known, with `headroom` bytes in front so a relay can write header and
 * payload in one go). frame_feed() accounts for nread bytes and says when a
 * frame is complete; frame_take() then hands the buffer to the caller.
 */
#ifndef SKYC_TRANSFER_FRAME_H
#define SKYC_TRANSFER_FRAME_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/wire.h"

#include <uv.h>

struct frame_rd {
    uint8_t hdr[WIRE_HDR_LEN];
    size_t hgot;
    struct wire_hdr h;
    bool in_payload;
    uint8_t *buf; /* headroom + payload, owned until taken */
    size_t headroom;
    size_t got;
    size_t max_payload; /* frames above are an error */
};

void frame_rd_init(struct frame_rd *r, size_t max_payload);
void frame_rd_release(struct frame_rd *r);
/* For uv_read_start's alloc_cb. */
void frame_alloc(struct frame_rd *r, uv_buf_t *buf);
/*
 * Account for nread bytes just read into the buffer frame_alloc gave.
 * Returns 1 when a frame is complete, 0 when more is needed, -1 on a bad
 * header (err says why). headroom is used for the next payload allocation.
 */
int frame_feed(struct frame_rd *r, size_t nread, size_t headroom,
               struct skyc_error *err);
/* Take the complete frame: *h and the buffer (headroom, then payload). */
uint8_t *frame_take(struct frame_rd *r, struct wire_hdr *h);

/*
 * A process-wide pool of chunk-sized buffers (thread-safe). A large malloc
 * is a fresh mmap whose pages fault in one by one as the kernel copies into
 * them (about 170,000 faults per GiB moved); a pooled buffer keeps its pages
 * mapped. chunkbuf_get() returns at least n bytes (never NULL);
 * chunkbuf_put() takes back any malloc'd pointer (or NULL): it keeps big
 * ones up to the pool's limit and frees the rest, so free() and
 * chunkbuf_put() are interchangeable on every buffer.
 */
void *chunkbuf_get(size_t n);
void chunkbuf_put(void *p);
/* Free every pooled buffer (a daemon between transfers). */
void chunkbuf_trim(void);

#endif
