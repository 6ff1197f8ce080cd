/*
 * frame.c - incremental frame reader for libuv streams.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "transfer/frame.h"

#include <malloc.h>

void transfer_tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 512 << 20);
    mallopt(M_TRIM_THRESHOLD, 1024 << 20);
}

void frame_rd_init(struct frame_rd *r, size_t max_payload)
{
    memset(r, 0, sizeof(*r));
    r->max_payload = max_payload;
}

void frame_rd_release(struct frame_rd *r)
{
    FREE_AND_NULL(r->buf);
    r->hgot = r->got = 0;
    r->in_payload = false;
}

void frame_alloc(struct frame_rd *r, uv_buf_t *buf)
{
    if (!r->in_payload) {
        buf->base = (char *)r->hdr + r->hgot;
        buf->len = WIRE_HDR_LEN - r->hgot;
    } else {
        buf->base = (char *)r->buf + r->headroom + r->got;
        buf->len = r->h.payload_len - r->got;
    }
}

int frame_feed(struct frame_rd *r, size_t nread, size_t headroom,
               struct skyc_error *err)
{
    if (!r->in_payload) {
        r->hgot += nread;
        if (r->hgot < WIRE_HDR_LEN)
            return 0;
        if (wire_hdr_decode(&r->h, r->hdr, WIRE_HDR_LEN, err) != SKYC_OK)
            return -1;
        if (r->h.payload_len > r->max_payload) {
            skyc_fail(err, SKYC_E_INPUT,
                      "frame of %" PRIu32 " bytes exceeds this peer's limit "
                      "of %zu", r->h.payload_len, r->max_payload);
            return -1;
        }
        r->headroom = headroom;
        r->buf = xmalloc(headroom + r->h.payload_len + 1);
        if (headroom >= WIRE_HDR_LEN)
            memcpy(r->buf + headroom - WIRE_HDR_LEN, r->hdr, WIRE_HDR_LEN);
        r->got = 0;
        r->in_payload = true;
        return r->h.payload_len == 0 ? 1 : 0;
    }
    r->got += nread;
    return r->got == r->h.payload_len ? 1 : 0;
}

uint8_t *frame_take(struct frame_rd *r, struct wire_hdr *h)
{
    uint8_t *b = r->buf;
    *h = r->h;
    r->buf = NULL;
    r->hgot = r->got = 0;
    r->in_payload = false;
    return b;
}
