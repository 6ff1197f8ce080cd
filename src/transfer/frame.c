/*
 * frame.c - incremental frame reader for libuv streams.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "transfer/frame.h"

#include <malloc.h>
#include <pthread.h>

#define POOL_MIN (1u << 20)       /* smaller buffers are plain malloc */
#define POOL_SLOTS 48
#define POOL_MAX_BYTES (1ull << 30)

static struct {
    pthread_mutex_t mu;
    void *v[POOL_SLOTS];
    size_t cap[POOL_SLOTS];
    size_t n;
    uint64_t bytes;
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

void *chunkbuf_get(size_t n)
{
    void *p = NULL;
    if (n < POOL_MIN)
        return xmalloc(n ? n : 1);
    pthread_mutex_lock(&pool.mu);
    for (size_t i = 0; i < pool.n; i++)
        if (pool.cap[i] >= n && pool.cap[i] - n <= n / 2 + POOL_MIN) {
            p = pool.v[i];
            pool.bytes -= pool.cap[i];
            pool.n--;
            pool.v[i] = pool.v[pool.n];
            pool.cap[i] = pool.cap[pool.n];
            break;
        }
    pthread_mutex_unlock(&pool.mu);
    if (p)
        return p;
    /* round up, so chunks of one transfer share a size class */
    size_t sz = (n + POOL_MIN - 1) / POOL_MIN * POOL_MIN;
    return xmalloc(sz);
}

void chunkbuf_trim(void)
{
    pthread_mutex_lock(&pool.mu);
    for (size_t i = 0; i < pool.n; i++)
        free(pool.v[i]);
    pool.n = 0;
    pool.bytes = 0;
    pthread_mutex_unlock(&pool.mu);
}

void chunkbuf_put(void *p)
{
    if (!p)
        return;
    size_t cap = malloc_usable_size(p);
    if (cap >= POOL_MIN) {
        pthread_mutex_lock(&pool.mu);
        if (pool.n < POOL_SLOTS && pool.bytes + cap <= POOL_MAX_BYTES) {
            pool.v[pool.n] = p;
            pool.cap[pool.n++] = cap;
            pool.bytes += cap;
            p = NULL;
        }
        pthread_mutex_unlock(&pool.mu);
    }
    free(p);
}

void frame_rd_init(struct frame_rd *r, size_t max_payload)
{
    memset(r, 0, sizeof(*r));
    r->max_payload = max_payload;
}

void frame_rd_release(struct frame_rd *r)
{
    chunkbuf_put(r->buf);
    r->buf = NULL;
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
        r->buf = chunkbuf_get(headroom + r->h.payload_len + 1);
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
