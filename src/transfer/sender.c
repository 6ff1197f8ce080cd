/*
 * sender.c - chunk queue, connections and retries of the source side.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "s3/checksum.h"
#include "transfer/frame.h"
#include "transfer/sender.h"
#include "transfer/wire.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define HELLO_ACK_ID UINT64_MAX
#define COMMIT_BIT (1ull << 63)
#define WINDOW 2
/* conn_queue's reserved for a HELLO: not data, not in wire_bytes */
#define HELLO_FRAME UINT64_MAX
/* chunks of one file segment at least this big go out with sendfile */
#define ZEROCOPY_MIN (256u << 10)
#define CRC_BOUNCE (1u << 20) /* CRC pass: cache-sized reads */

enum cstate { C_DOWN, C_CONNECTING, C_HELLO, C_UP, C_CLOSING, C_DEAD };
enum kstate { K_QUEUED, K_PREP, K_INFLIGHT, K_DONE };

struct sender;

/*
 * One frame queued on a connection: len bytes of buf, then (fd >= 0) flen
 * bytes of a file at foff, sent with sendfile. Owns buf and fd.
 */
struct oitem {
    struct oitem *next;
    uint8_t *buf;
    size_t len;
    int fd;
    uint64_t foff;
    size_t flen;
    size_t done;
    uint64_t reserved; /* budget bytes released when sent */
};

/* Writability of a connection: a dup of its socket, so libuv keeps the
 * original for reading while we write with send() and sendfile(). */
struct wpoll {
    uv_poll_t h;
    int fd;
    bool active;
};

struct sconn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    uv_timer_t timer;
    struct sender *s;
    size_t idx;
    const struct sender_path *path;
    const char *first_hop;
    bool control; /* carries the key straight to the last hop, no data */
    enum cstate st;
    unsigned gen;
    int fails;
    int inflight;
    struct frame_rd rd;
    struct wpoll *wp;
    struct oitem *qhead, *qtail;
};

struct ring {
    uint32_t *v;
    size_t cap, head, n;
};

struct sender {
    const struct sender_opts *o;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint;
    struct sconn *conns;
    size_t nconns;
    char transfer[65];
    uint8_t *kst;       /* per chunk */
    uint32_t *kconn;    /* per chunk: the connection it is assigned to */
    uint8_t *ktries;
    uint8_t *ost;       /* per object commit state */
    uint32_t *oconn;
    uint32_t *oleft;    /* chunks of the object not yet acknowledged */
    uint8_t *otries;
    struct ring chunks, commits;
    size_t chunks_left, commits_left;
    size_t controls_left;
    uint64_t buffered, budget;
    bool finished;
    enum skyc_err fatal;
    struct skyc_error err;
    struct sender_stats st;
    uint64_t t0;
};

struct prep {
    uv_work_t req;
    struct sender *s;
    struct sconn *c;
    unsigned gen;
    uint32_t chunk;
    uint8_t *buf;
    size_t len;
    int fd;        /* >= 0: then flen file bytes at foff (sendfile) */
    uint64_t foff;
    size_t flen;
    uint64_t reserved;
    enum skyc_err rc;
    struct skyc_error err;
};

static void conn_fail(struct sconn *c, const char *why);
static void pump(struct sender *s);
static void conn_connect(struct sconn *c);
static void conn_close_tcp(struct sconn *c);

static void ring_init(struct ring *r, size_t cap)
{
    r->cap = cap ? cap : 1;
    r->v = xcalloc(r->cap, sizeof(uint32_t));
    r->head = r->n = 0;
}
static void ring_push(struct ring *r, uint32_t x)
{
    r->v[(r->head + r->n) % r->cap] = x;
    r->n++;
}
static void ring_push_front(struct ring *r, uint32_t x)
{
    r->head = (r->head + r->cap - 1) % r->cap;
    r->v[r->head] = x;
    r->n++;
}
static uint32_t ring_pop(struct ring *r)
{
    uint32_t x = r->v[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    return x;
}

static void set_fatal(struct sender *s, enum skyc_err rc, const char *fmt,
                      ...) SKYC_PRINTF(3, 4);

static void close_conn_handles(struct sender *s);

static void set_fatal(struct sender *s, enum skyc_err rc, const char *fmt, ...)
{
    if (s->fatal == SKYC_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err.msg, sizeof(s->err.msg), fmt, ap);
        va_end(ap);
        s->err.code = rc;
        s->fatal = rc;
    }
    close_conn_handles(s);
}

static void on_retry(uv_timer_t *t)
{
    conn_connect(t->data);
}

static void on_tcp_closed(uv_handle_t *h)
{
    struct sconn *c = h->data;
    struct sender *s = c->s;
    frame_rd_release(&c->rd);
    if (c->st == C_DEAD || s->finished || s->fatal != SKYC_OK) {
        c->st = C_DEAD;
        return;
    }
    c->st = C_DOWN;
    uint64_t ms = 100u << SKYC_MIN(c->fails - 1, 5);
    uv_timer_start(&c->timer, on_retry, ms, 0);
}

static void close_conn_handles(struct sender *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        struct sconn *c = &s->conns[i];
        if (!uv_is_closing((uv_handle_t *)&c->timer))
            uv_timer_stop(&c->timer);
        if (c->st == C_CONNECTING || c->st == C_HELLO || c->st == C_UP) {
            c->st = C_DEAD;
            conn_close_tcp(c);
        } else if (c->st != C_CLOSING) {
            c->st = C_DEAD;
        }
    }
    if (!uv_is_closing((uv_handle_t *)&s->tick))
        uv_close((uv_handle_t *)&s->tick, NULL);
    if (!uv_is_closing((uv_handle_t *)&s->sigint))
        uv_close((uv_handle_t *)&s->sigint, NULL);
    for (size_t i = 0; i < s->nconns; i++)
        if (!uv_is_closing((uv_handle_t *)&s->conns[i].timer))
            uv_close((uv_handle_t *)&s->conns[i].timer, NULL);
}

static void check_finished(struct sender *s)
{
    if (s->finished || s->chunks_left || s->commits_left)
        return;
    s->finished = true;
    close_conn_handles(s);
}

/* Put everything assigned to c back in the queues. */
static void requeue_conn(struct sender *s, struct sconn *c)
{
    const struct chunk_layout *lay = s->o->lay;
    for (size_t k = 0; k < lay->nchunks; k++)
        if ((s->kst[k] == K_PREP || s->kst[k] == K_INFLIGHT) &&
            s->kconn[k] == c->idx) {
            s->kst[k] = K_QUEUED;
            ring_push_front(&s->chunks, (uint32_t)k);
        }
    for (size_t i = 0; i < s->o->objs->n; i++)
        if (s->ost[i] == K_INFLIGHT && s->oconn[i] == c->idx) {
            s->ost[i] = K_QUEUED;
            ring_push_front(&s->commits, (uint32_t)i);
        }
    c->inflight = 0;
}

static bool any_alive(struct sender *s)
{
    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i].st != C_DEAD && !s->conns[i].control)
            return true;
    return false;
}

static void conn_fail(struct sconn *c, const char *why)
{
    struct sender *s = c->s;
    if (c->st == C_CLOSING || c->st == C_DEAD || c->st == C_DOWN)
        return;
    c->gen++;
    c->fails++;
    s->st.conn_failures++;
    requeue_conn(s, c);
    log_info("connection %zu via %s: %s (failure %d)", c->idx, c->first_hop,
             why, c->fails);
    if (c->fails > s->o->max_retries) {
        log_warning("giving up connection %zu via %s after %d failures: %s",
                    c->idx, c->first_hop, c->fails, why);
        c->st = C_DEAD;
        conn_close_tcp(c);
        if (c->control)
            set_fatal(s, SKYC_E_NETWORK,
                      "cannot hand the transfer key to '%s': %s",
                      c->first_hop, why);
        else if (!any_alive(s))
            set_fatal(s, SKYC_E_NETWORK,
                      "every connection failed (last: %s via %s: %s); "
                      "re-run the same command to resume", c->first_hop,
                      c->first_hop, why);
    } else {
        c->st = C_CLOSING;
        conn_close_tcp(c);
    }
    pump(s);
}

static void item_free(struct sender *s, struct oitem *it)
{
    s->buffered -= it->reserved;
    if (it->fd >= 0)
        close(it->fd);
    chunkbuf_put(it->buf);
    free(it);
}

static void on_wp_closed(uv_handle_t *h)
{
    struct wpoll *wp = (struct wpoll *)h;
    close(wp->fd);
    free(wp);
}

/* Drop the queue (its budget goes back) and the writability watcher. */
static void writer_close(struct sconn *c)
{
    while (c->qhead) {
        struct oitem *it = c->qhead;
        c->qhead = it->next;
        item_free(c->s, it);
    }
    c->qtail = NULL;
    if (c->wp) {
        uv_close((uv_handle_t *)&c->wp->h, on_wp_closed);
        c->wp = NULL;
    }
}

static void conn_close_tcp(struct sconn *c)
{
    writer_close(c);
    uv_close((uv_handle_t *)&c->tcp, on_tcp_closed);
}

static bool writer_open(struct sconn *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0)
        return false;
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0)
        return false;
    struct wpoll *wp = xcalloc(1, sizeof(*wp));
    wp->fd = d;
    if (uv_poll_init(&c->s->loop, &wp->h, d) != 0) {
        close(d);
        free(wp);
        return false;
    }
    wp->h.data = c;
    c->wp = wp;
    return true;
}

static void on_writable(uv_poll_t *h, int status, int events);

/*
 * Write what the socket takes now; wait for writability for the rest.
 * Returns false when the connection failed (conn_fail has run).
 */
static bool flush(struct sconn *c)
{
    struct oitem *it;
    while ((it = c->qhead)) {
        ssize_t n;
        if (it->done < it->len) {
            n = send(c->wp->fd, it->buf + it->done, it->len - it->done,
                     MSG_NOSIGNAL | (it->flen ? MSG_MORE : 0));
        } else {
            off_t o = (off_t)(it->foff + (it->done - it->len));
            n = sendfile(c->wp->fd, it->fd, &o,
                         SKYC_MIN(it->len + it->flen - it->done,
                                  (size_t)1 << 30));
            if (n == 0) {
                conn_fail(c, "source file shrank during the transfer");
                return false;
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->wp->active &&
                    uv_poll_start(&c->wp->h, UV_WRITABLE, on_writable) == 0)
                    c->wp->active = true;
                return true;
            }
            conn_fail(c, strerror(errno));
            return false;
        }
        it->done += (size_t)n;
        if (it->done == it->len + it->flen) {
            c->qhead = it->next;
            if (!c->qhead)
                c->qtail = NULL;
            item_free(c->s, it);
        }
    }
    if (c->wp->active) {
        uv_poll_stop(&c->wp->h);
        c->wp->active = false;
    }
    return true;
}

static void on_writable(uv_poll_t *h, int status, int events)
{
    struct sconn *c = h->data;
    (void)events;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    if (flush(c))
        pump(c->s);
}

/* Queue a frame (buf: malloc'd, ownership passes here; fd likewise). */
static bool conn_queue(struct sconn *c, uint8_t *buf, size_t len, int fd,
                       uint64_t foff, size_t flen, uint64_t reserved)
{
    struct oitem *it = xcalloc(1, sizeof(*it));
    it->buf = buf;
    it->len = len;
    it->fd = fd;
    it->foff = foff;
    it->flen = fd >= 0 ? flen : 0;
    it->reserved = reserved;
    if (!c->wp) {
        item_free(c->s, it);
        return false;
    }
    if (reserved != HELLO_FRAME)
        c->s->st.wire_bytes += len + it->flen;
    else
        it->reserved = 0;
    if (c->qtail)
        c->qtail->next = it;
    else
        c->qhead = it;
    c->qtail = it;
    return c->qhead != it || flush(c);
}

static void conn_write(struct sconn *c, uint8_t *buf, size_t len,
                       uint64_t reserved)
{
    conn_queue(c, buf, len, -1, 0, 0, reserved);
}

static void seg_of(const struct sender *s, const struct chunk_seg *cs,
                   struct wire_seg *ws)
{
    const struct ep_object *ob = &s->o->objs->v[cs->obj];
    ws->path = s->o->dst_keys ? s->o->dst_keys[cs->obj] : ob->key;
    ws->file_size = ob->size;
    ws->offset = cs->offset;
    ws->len = cs->len;
    ws->mtime_ns = ob->mtime_ns;
    ws->mode = ob->mode;
}

/*
 * The CRC of a chunk sent with sendfile: read it through a cache-sized
 * buffer (the pages are then hot for the send, and the buffer never leaves
 * the cache), continuing the CRC of the meta.
 */
static enum skyc_err crc_file(int fd, const char *key, uint64_t off,
                              size_t len, uint32_t *crc,
                              struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    uint8_t *b = chunkbuf_get(CRC_BOUNCE);
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, b, SKYC_MIN(len - done, (size_t)CRC_BOUNCE),
                          (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = skyc_fail(err, SKYC_E_IO,
                           "cannot read '%s' at %" PRIu64 ": %s", key,
                           off + done,
                           n == 0 ? "file shrank during the transfer"
                                  : strerror(errno));
            break;
        }
        *crc = crc32c_update(*crc, b, (size_t)n);
        done += (size_t)n;
    }
    chunkbuf_put(b);
    return rc;
}

static void prep_run(uv_work_t *req)
{
    struct prep *p = req->data;
    struct sender *s = p->s;
    const struct chunk_layout *lay = s->o->lay;
    const struct chunk *ck = &lay->chunks[p->chunk];
    const struct chunk_seg *cs0 = &lay->segs[ck->first_seg];
    struct endpoint *src = s->o->src;
    struct strbuf meta = STRBUF_INIT;
    struct wire_seg *segs = xcalloc(ck->nsegs, sizeof(*segs));
    struct wire_hdr h = {0};
    /* one file range, sent as it is: the kernel moves it (sendfile) */
    bool zc = !s->o->codec.compress && !s->o->codec.encrypt &&
              ck->nsegs == 1 && cs0->len >= ZEROCOPY_MIN && src->ops->open_fd;
    for (uint32_t i = 0; i < ck->nsegs; i++)
        seg_of(s, &lay->segs[ck->first_seg + i], &segs[i]);
    wire_meta_encode(&meta, segs, ck->nsegs);
    free(segs);
    size_t body = meta.len + ck->bytes;
    h.type = WIRE_CHUNK;
    h.id = p->chunk;
    h.part_size = s->o->part_size;
    p->fd = -1;
    if (zc) {
        const char *key = s->o->objs->v[cs0->obj].key;
        p->buf = xmalloc(WIRE_HDR_LEN + meta.len);
        memcpy(p->buf + WIRE_HDR_LEN, meta.buf, meta.len);
        p->len = WIRE_HDR_LEN + meta.len;
        h.crc = crc32c_update(0, meta.buf, meta.len);
        strbuf_release(&meta);
        p->rc = src->ops->open_fd(src, key, &p->fd, &p->err);
        if (p->rc == SKYC_OK)
            p->rc = crc_file(p->fd, key, cs0->offset, cs0->len, &h.crc,
                             &p->err);
        if (p->rc != SKYC_OK)
            return;
        h.raw_len = h.payload_len = (uint32_t)body;
        wire_hdr_encode(&h, p->buf);
        p->foff = cs0->offset;
        p->flen = cs0->len;
        return;
    }
    p->buf = chunkbuf_get(WIRE_HDR_LEN + body + 1);
    memcpy(p->buf + WIRE_HDR_LEN, meta.buf, meta.len);
    size_t off = WIRE_HDR_LEN + meta.len;
    strbuf_release(&meta);
    p->rc = SKYC_OK;
    for (uint32_t i = 0; i < ck->nsegs && p->rc == SKYC_OK; i++) {
        const struct chunk_seg *cs = &lay->segs[ck->first_seg + i];
        if (cs->len)
            p->rc = src->ops->read(src, s->o->objs->v[cs->obj].key,
                                   cs->offset, p->buf + off, cs->len,
                                   &p->err);
        off += cs->len;
    }
    if (p->rc != SKYC_OK)
        return;
    p->len = body;
    p->rc = codec_seal(&s->o->codec, &h, &p->buf, &p->len, &p->err);
    p->len += WIRE_HDR_LEN;
}

static void prep_done(uv_work_t *req, int status)
{
    struct prep *p = req->data;
    struct sender *s = p->s;
    struct sconn *c = p->c;
    bool current = p->gen == c->gen && c->st == C_UP &&
                   s->kst[p->chunk] == K_PREP && s->kconn[p->chunk] == c->idx;
    if (p->rc != SKYC_OK && s->fatal == SKYC_OK) {
        set_fatal(s, p->rc, "%s", p->err.msg);
        current = false;
    }
    if (!current || s->fatal != SKYC_OK) {
        s->buffered -= p->reserved;
        if (p->fd >= 0)
            close(p->fd);
        chunkbuf_put(p->buf);
        free(p);
        pump(s);
        return;
    }
    s->kst[p->chunk] = K_INFLIGHT;
    bool ok = conn_queue(c, p->buf, p->len, p->fd, p->foff, p->flen,
                         p->reserved);
    free(p);
    if (ok)
        pump(s);
}

static void start_chunk(struct sender *s, struct sconn *c, uint32_t k)
{
    struct prep *p = xcalloc(1, sizeof(*p));
    p->req.data = p;
    p->s = s;
    p->c = c;
    p->gen = c->gen;
    p->chunk = k;
    p->reserved = s->o->lay->chunks[k].bytes;
    s->buffered += p->reserved;
    s->kst[k] = K_PREP;
    s->kconn[k] = (uint32_t)c->idx;
    c->inflight++;
    uv_queue_work(&s->loop, &p->req, prep_run, prep_done);
}

static void start_commit(struct sender *s, struct sconn *c, uint32_t obj)
{
    struct strbuf sb = STRBUF_INIT;
    struct wire_seg ws;
    const struct ep_object *ob = &s->o->objs->v[obj];
    ws.path = s->o->dst_keys ? s->o->dst_keys[obj] : ob->key;
    ws.file_size = ob->size;
    ws.offset = 0;
    ws.len = 0;
    ws.mtime_ns = ob->mtime_ns;
    ws.mode = ob->mode;
    strbuf_addchars(&sb, 0, WIRE_HDR_LEN);
    wire_seg_encode(&sb, &ws);
    struct wire_hdr h = {0};
    h.type = WIRE_COMMIT;
    h.id = obj | COMMIT_BIT;
    h.part_size = s->o->part_size;
    h.payload_len = h.raw_len = (uint32_t)(sb.len - WIRE_HDR_LEN);
    h.crc = crc32c_update(0, sb.buf + WIRE_HDR_LEN, h.payload_len);
    wire_hdr_encode(&h, (uint8_t *)sb.buf);
    s->ost[obj] = K_INFLIGHT;
    s->oconn[obj] = (uint32_t)c->idx;
    c->inflight++;
    size_t len = sb.len;
    conn_write(c, (uint8_t *)strbuf_detach(&sb, NULL), len, 0);
}

static void pump(struct sender *s)
{
    if (s->fatal != SKYC_OK || s->finished || s->controls_left)
        return;
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t i = 0; i < s->nconns; i++) {
            struct sconn *c = &s->conns[i];
            if (c->st != C_UP || c->control || c->inflight >= WINDOW)
                continue;
            if (s->commits.n) {
                start_commit(s, c, ring_pop(&s->commits));
                progress = true;
            } else if (s->chunks.n) {
                uint32_t k = s->chunks.v[s->chunks.head];
                if (s->buffered &&
                    s->buffered + s->o->lay->chunks[k].bytes > s->budget)
                    return;
                start_chunk(s, c, ring_pop(&s->chunks));
                progress = true;
            }
            if (s->fatal != SKYC_OK)
                return;
        }
    }
}

static void chunk_acked(struct sender *s, uint32_t k)
{
    const struct chunk_layout *lay = s->o->lay;
    const struct chunk *ck = &lay->chunks[k];
    s->kst[k] = K_DONE;
    s->chunks_left--;
    s->st.chunks_sent++;
    s->st.done_bytes += ck->bytes;
    manifest_chunk_done(s->o->manifest, k);
    for (uint32_t i = 0; i < ck->nsegs; i++) {
        uint32_t obj = lay->segs[ck->first_seg + i].obj;
        if (--s->oleft[obj] == 0 && lay->obj_commit[obj] &&
            s->ost[obj] != K_DONE) {
            s->ost[obj] = K_QUEUED;
            ring_push(&s->commits, obj);
        }
    }
}

/* The destination lost the parts of obj: send all its chunks again. */
static void redo_object(struct sender *s, uint32_t obj)
{
    const struct chunk_layout *lay = s->o->lay;
    for (size_t k = 0; k < lay->nchunks; k++) {
        const struct chunk *ck = &lay->chunks[k];
        if (lay->segs[ck->first_seg].obj != obj || s->kst[k] != K_DONE)
            continue;
        s->kst[k] = K_QUEUED;
        s->chunks_left++;
        s->st.done_bytes -= ck->bytes;
        s->oleft[obj]++;
        ring_push(&s->chunks, (uint32_t)k);
    }
    s->ost[obj] = K_QUEUED;
}

static void on_frame(struct sconn *c, const struct wire_hdr *h,
                     const uint8_t *payload)
{
    struct sender *s = c->s;
    const char *msg = (const char *)payload;
    int mlen = (int)SKYC_MIN(h->payload_len, 400u);
    if (h->type == WIRE_ERROR) {
        set_fatal(s, SKYC_E_FAILED, "gateway via %s: %.*s", c->first_hop,
                  mlen, msg);
        return;
    }
    if (h->type == WIRE_ACK && h->id == HELLO_ACK_ID) {
        if (c->st != C_HELLO)
            return;
        c->st = C_UP;
        if (c->control) {
            c->st = C_CLOSING;
            c->fails = 0;
            conn_close_tcp(c);
            c->st = C_DEAD; /* done with it: no reconnect */
            if (--s->controls_left == 0)
                log_info("transfer key delivered");
        }
        pump(s);
        return;
    }
    bool commit = (h->id & COMMIT_BIT) != 0;
    uint64_t id = h->id & ~COMMIT_BIT;
    if (!commit && id >= s->o->lay->nchunks)
        return;
    if (commit && id >= s->o->objs->n)
        return;
    switch (h->type) {
    case WIRE_ACK:
        if (commit || s->kst[id] != K_INFLIGHT || s->kconn[id] != c->idx)
            return;
        c->inflight--;
        c->fails = 0;
        chunk_acked(s, (uint32_t)id);
        break;
    case WIRE_COMMIT_ACK:
        if (!commit || s->ost[id] != K_INFLIGHT || s->oconn[id] != c->idx)
            return;
        c->inflight--;
        s->ost[id] = K_DONE;
        s->commits_left--;
        manifest_obj_done(s->o->manifest, id);
        break;
    case WIRE_NACK:
        if (commit) {
            if (s->ost[id] != K_INFLIGHT || s->oconn[id] != c->idx)
                return;
            c->inflight--;
            if (++s->otries[id] >= SENDER_MAX_TRIES) {
                set_fatal(s, SKYC_E_FAILED, "cannot commit '%s': %.*s",
                          s->o->objs->v[id].key, mlen, msg);
                return;
            }
            log_warning("commit of '%s' refused (%.*s): resending its chunks",
                        s->o->objs->v[id].key, mlen, msg);
            redo_object(s, (uint32_t)id);
            break;
        }
        if (s->kst[id] != K_INFLIGHT || s->kconn[id] != c->idx)
            return;
        c->inflight--;
        s->st.chunks_resent++;
        log_notice("chunk %" PRIu64 " rejected by the destination (%.*s): "
                   "resending", id, mlen, msg);
        if (++s->ktries[id] >= SENDER_MAX_TRIES) {
            set_fatal(s, SKYC_E_FAILED,
                      "chunk %" PRIu64 " failed verification %d times: %.*s",
                      id, SENDER_MAX_TRIES, mlen, msg);
            return;
        }
        s->kst[id] = K_QUEUED;
        ring_push_front(&s->chunks, (uint32_t)id);
        break;
    default:
        break;
    }
    check_finished(s);
    pump(s);
}

static void s_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sconn *c = h->data;
    frame_alloc(&c->rd, buf);
}

static void s_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    struct sconn *c = st->data;
    struct skyc_error err = {0};
    if (nread < 0) {
        conn_fail(c, nread == UV_EOF ? "closed by the gateway"
                                     : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    int r = frame_feed(&c->rd, (size_t)nread, 0, &err);
    if (r < 0) {
        conn_fail(c, err.msg);
        return;
    }
    if (r == 1) {
        struct wire_hdr h;
        uint8_t *p = frame_take(&c->rd, &h);
        p[h.payload_len] = '\0';
        on_frame(c, &h, p);
        free(p);
    }
}

static void on_connected(uv_connect_t *req, int status)
{
    struct sconn *c = req->data;
    struct sender *s = c->s;
    if (c->st != C_CONNECTING)
        return;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (!writer_open(c)) {
        conn_fail(c, "cannot watch the socket for writing");
        return;
    }
    c->st = C_HELLO;
    struct wire_hello hello = {0};
    memcpy(hello.transfer, s->transfer, 65);
    if (c->control) {
        hello.route = NULL;
        hello.nroute = 0;
        hello.has_key = true;
        memcpy(hello.key, s->o->codec.key, 32);
    } else {
        hello.route = (char **)c->path->hops + 1;
        hello.nroute = c->path->nhops - 1;
    }
    hello.dest = (char *)s->o->dest;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addchars(&sb, 0, WIRE_HDR_LEN);
    wire_hello_encode(&sb, &hello);
    memset(hello.key, 0, sizeof(hello.key));
    struct wire_hdr h = {0};
    h.type = WIRE_HELLO;
    wire_frame_seal(&sb, &h);
    size_t len = sb.len;
    frame_rd_init(&c->rd, 1 << 20);
    uv_read_start((uv_stream_t *)&c->tcp, s_alloc, s_read);
    conn_write(c, (uint8_t *)strbuf_detach(&sb, NULL), len, HELLO_FRAME);
}

static void conn_connect(struct sconn *c)
{
    struct sender *s = c->s;
    struct sockaddr_storage ss;
    struct skyc_error err = {0};
    if (s->fatal != SKYC_OK || s->finished)
        return;
    if (wire_parse_addr(c->first_hop, &ss, &err) != SKYC_OK) {
        set_fatal(s, SKYC_E_USAGE, "%s", err.msg);
        return;
    }
    uv_tcp_init(&s->loop, &c->tcp);
    c->tcp.data = c;
    c->creq.data = c;
    c->st = C_CONNECTING;
    int r = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&ss,
                           on_connected);
    if (r < 0) {
        c->fails = s->o->max_retries; /* a bad address will not get better */
        conn_fail(c, uv_strerror(r));
    }
}

static void on_tick(uv_timer_t *t)
{
    struct sender *s = t->data;
    s->st.seconds = (double)(uv_hrtime() - s->t0) / 1e9;
    if (s->o->progress)
        s->o->progress(&s->st, s->o->progress_arg);
}

static void on_sigint(uv_signal_t *h, int signum)
{
    struct sender *s = h->data;
    set_fatal(s, SKYC_E_INTERRUPTED,
              "interrupted; re-run the same command to resume");
}

enum skyc_err sender_run(const struct sender_opts *o, struct sender_stats *st,
                         struct skyc_error *err)
{
    struct sender *s = xcalloc(1, sizeof(*s));
    const struct chunk_layout *lay = o->lay;
    size_t nobj = o->objs->n;
    enum skyc_err rc;
    s->o = o;
    memcpy(s->transfer, o->manifest->id, 65);
    uv_loop_init(&s->loop);
    s->kst = xcalloc(lay->nchunks + 1, 1);
    s->kconn = xcalloc(lay->nchunks + 1, sizeof(uint32_t));
    s->ktries = xcalloc(lay->nchunks + 1, 1);
    s->ost = xcalloc(nobj + 1, 1);
    s->oconn = xcalloc(nobj + 1, sizeof(uint32_t));
    s->otries = xcalloc(nobj + 1, 1);
    s->oleft = xcalloc(nobj + 1, sizeof(uint32_t));
    ring_init(&s->chunks, lay->nchunks);
    ring_init(&s->commits, nobj);
    s->st.total_bytes = lay->total_bytes;
    s->st.chunks_total = lay->nchunks;
    uint64_t maxchunk = 0;
    for (size_t i = 0; i < nobj; i++)
        s->oleft[i] = lay->obj_nchunks[i];
    for (size_t k = 0; k < lay->nchunks; k++) {
        const struct chunk *ck = &lay->chunks[k];
        maxchunk = SKYC_MAX(maxchunk, ck->bytes);
        if (o->manifest->chunk_done[k]) {
            s->kst[k] = K_DONE;
            s->st.chunks_skipped++;
            s->st.skipped_bytes += ck->bytes;
            s->st.done_bytes += ck->bytes;
            for (uint32_t i = 0; i < ck->nsegs; i++)
                s->oleft[lay->segs[ck->first_seg + i].obj]--;
        } else {
            ring_push(&s->chunks, (uint32_t)k);
            s->chunks_left++;
        }
    }
    for (size_t i = 0; i < nobj; i++) {
        if (!lay->obj_commit[i])
            continue;
        if (o->manifest->obj_done[i]) {
            s->ost[i] = K_DONE;
            continue;
        }
        s->commits_left++;
        if (s->oleft[i] == 0)
            ring_push(&s->commits, (uint32_t)i);
    }
    s->budget = SKYC_MAX((uint64_t)256 << 20, 2 * maxchunk);

    /* connections: key deliveries first, then the data paths */
    size_t ndata = 0;
    for (size_t p = 0; p < o->npaths; p++)
        ndata += (size_t)o->paths[p].conns;
    size_t nctl = o->codec.encrypt ? o->npaths : 0;
    s->conns = xcalloc(ndata + nctl + 1, sizeof(*s->conns));
    for (size_t p = 0; p < nctl; p++) {
        const struct sender_path *pa = &o->paths[p];
        const char *ctl = pa->key_to ? pa->key_to : pa->hops[pa->nhops - 1];
        bool dup = false;
        for (size_t q = 0; q < s->nconns; q++)
            dup |= !strcmp(s->conns[q].first_hop, ctl);
        if (dup)
            continue;
        struct sconn *c = &s->conns[s->nconns];
        c->idx = s->nconns++;
        c->s = s;
        c->path = pa;
        c->control = true;
        c->first_hop = ctl;
        s->controls_left++;
    }
    for (size_t p = 0; p < o->npaths; p++)
        for (int i = 0; i < o->paths[p].conns; i++) {
            struct sconn *c = &s->conns[s->nconns];
            c->idx = s->nconns++;
            c->s = s;
            c->path = &o->paths[p];
            c->first_hop = o->paths[p].hops[0];
        }
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(&s->loop, &s->tick);
    s->tick.data = s;
    uv_signal_init(&s->loop, &s->sigint);
    s->sigint.data = s;
    uv_signal_start(&s->sigint, on_sigint, SIGINT);
    s->t0 = uv_hrtime();
    for (size_t i = 0; i < s->nconns; i++) {
        uv_timer_init(&s->loop, &s->conns[i].timer);
        s->conns[i].timer.data = &s->conns[i];
    }
    check_finished(s);
    if (!s->finished) {
        uv_timer_start(&s->tick, on_tick, 200, 200);
        for (size_t i = 0; i < s->nconns; i++)
            conn_connect(&s->conns[i]);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT);
    s->st.seconds = (double)(uv_hrtime() - s->t0) / 1e9;
    if (o->progress)
        o->progress(&s->st, o->progress_arg);
    *st = s->st;
    rc = s->fatal;
    if (rc != SKYC_OK)
        skyc_fail(err, rc, "%s", s->err.msg);
    else if (!s->finished)
        rc = skyc_fail(err, SKYC_E_INTERNAL, "transfer loop ended early");
    uv_loop_close(&s->loop);
    chunkbuf_trim();
    free(s->kst);
    free(s->kconn);
    free(s->ktries);
    free(s->ost);
    free(s->oconn);
    free(s->otries);
    free(s->oleft);
    free(s->chunks.v);
    free(s->commits.v);
    free(s->conns);
    free(s);
    return rc;
}
