/*
 * gateway.c - relay and last-hop roles of the gateway daemon.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "transfer/codec.h"
#include "s3/checksum.h"
#include "transfer/endpoint.h"
#include "transfer/frame.h"
#include "transfer/gateway.h"
#include "transfer/wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>
#include <uv.h>

#define HELLO_ACK_ID UINT64_MAX
#define HELLO_MAX (64u << 10) /* largest first frame accepted */
#define RELAY_HIGH (96u << 20) /* stop reading upstream above this backlog */
#define RELAY_LOW (32u << 20)
#define SINK_MAX_WORKS 2
/* chunk bytes waiting for or in the thread pool, over all connections */
#define SINK_MAX_BYTES_DEFAULT (512ull << 20)

enum role { ROLE_NEW, ROLE_RELAY_UP, ROLE_RELAY_DOWN, ROLE_SINK };

struct gw_key {
    char transfer[65];
    uint8_t key[32];
};

struct gw {
    uv_loop_t *loop;
    uv_tcp_t server;
    uv_signal_t sigterm, sigint;
    struct gw_key *keys;
    size_t nkeys, keys_alloc;
    long fault_flip;
    long fault_exit;
    long chunks_seen;
    const char *root;
    uint64_t conns, chunks_ok, chunks_bad;
    size_t live;             /* gconns allocated; at 0 the pool is trimmed */
    /* CHUNK and COMMIT frames forwarded toward destinations (relay role),
     * 64-byte headers included: what the senders' wire_bytes count */
    uint64_t relayed_bytes, relayed_frames;
    uint64_t sink_bytes;     /* payloads queued for the thread pool */
    uint64_t sink_max;
    struct gconn **starved;  /* sink connections paused for sink_bytes */
    size_t nstarved, starved_alloc;
};

struct gconn {
    uv_tcp_t tcp;
    struct gw *gw;
    enum role role;
    struct frame_rd rd;
    struct gconn *peer;
    uv_connect_t creq;
    uint8_t *pending_hello; /* frame to send once the next hop is up */
    size_t pending_len;
    struct endpoint *ep;
    char transfer[65];
    int refs;
    int works;
    bool closing, paused, starved;
};

struct wreq {
    uv_write_t req;
    uint8_t *buf;
};

struct sink_work {
    uv_work_t req;
    struct gconn *c;
    struct wire_hdr h;
    uint8_t *buf;
    size_t len;
    bool has_key;
    uint8_t key[32];
    int verdict; /* WIRE_ACK, WIRE_NACK, WIRE_ERROR (and COMMIT_ACK) */
    struct skyc_error err;
};

static void conn_close(struct gconn *c);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_unref(struct gconn *c)
{
    if (--c->refs > 0)
        return;
    frame_rd_release(&c->rd);
    free(c->pending_hello);
    endpoint_free(c->ep);
    /* idle: hand the chunk buffers back rather than keep them resident */
    if (--c->gw->live == 0)
        chunkbuf_trim();
    free(c);
}

static void on_closed(uv_handle_t *h)
{
    conn_unref(h->data);
}

static void unstarve(struct gconn *c)
{
    struct gw *gw = c->gw;
    for (size_t i = 0; c->starved && i < gw->nstarved; i++)
        if (gw->starved[i] == c) {
            gw->starved[i] = gw->starved[--gw->nstarved];
            break;
        }
    c->starved = false;
}

static void conn_close(struct gconn *c)
{
    if (c->closing)
        return;
    unstarve(c);
    c->closing = true;
    if (c->peer) {
        struct gconn *p = c->peer;
        c->peer = NULL;
        p->peer = NULL;
        conn_close(p);
    }
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct gconn *c = h->data;
    frame_alloc(&c->rd, buf);
}

static void resume_reading(struct gconn *c)
{
    if (c && c->paused && !c->closing) {
        c->paused = false;
        uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    }
}

static void pause_reading(struct gconn *c)
{
    if (!c->paused && !c->closing) {
        c->paused = true;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void on_written(uv_write_t *req, int status)
{
    struct wreq *w = (struct wreq *)req;
    struct gconn *c = req->handle->data;
    chunkbuf_put(w->buf);
    free(w);
    if (status < 0) {
        conn_close(c);
        return;
    }
    /* a relay leg drained: let its other side read again */
    if (c->peer && !c->closing &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < RELAY_LOW)
        resume_reading(c->peer);
}

/* Write buf (len bytes, malloc'd; ownership passes here) to c. */
static void conn_send(struct gconn *c, uint8_t *buf, size_t len)
{
    if (c->closing) {
        free(buf);
        return;
    }
    struct wreq *w = xcalloc(1, sizeof(*w));
    w->buf = buf;
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
        free(buf);
        free(w);
        conn_close(c);
    }
}

static void send_reply(struct gconn *c, uint8_t type, uint64_t id,
                       const char *msg)
{
    size_t ml = msg ? strlen(msg) : 0;
    uint8_t *buf = xmalloc(WIRE_HDR_LEN + ml + 1);
    struct wire_hdr h = {0};
    h.type = type;
    h.id = id;
    h.payload_len = (uint32_t)ml;
    h.raw_len = (uint32_t)ml;
    wire_hdr_encode(&h, buf);
    if (ml)
        memcpy(buf + WIRE_HDR_LEN, msg, ml);
    conn_send(c, buf, WIRE_HDR_LEN + ml);
}

static const uint8_t *key_of(struct gw *gw, const char *transfer)
{
    for (size_t i = 0; i < gw->nkeys; i++)
        if (!strcmp(gw->keys[i].transfer, transfer))
            return gw->keys[i].key;
    return NULL;
}

/* ---- last hop ---------------------------------------------------------- */

static enum skyc_err write_body(struct endpoint *ep, const struct wire_body *b,
                                uint32_t part_size, struct skyc_error *err)
{
    size_t off = 0;
    for (size_t i = 0; i < b->nsegs; i++) {
        const struct wire_seg *s = &b->segs[i];
        const uint8_t *data = b->data + off;
        enum skyc_err rc;
        off += s->len;
        if (s->offset == 0 && s->len == s->file_size) {
            rc = ep->ops->put(ep, s->path, data, s->len, s->mtime_ns, s->mode,
                              err);
        } else {
            struct ep_writer *w = NULL;
            rc = ep->ops->write_open(ep, s->path, part_size, s->mtime_ns, &w,
                                     err);
            if (rc != SKYC_OK)
                return rc;
            rc = ep->ops->write_at(w, s->offset, data, s->len, err);
            ep->ops->write_close(w);
        }
        if (rc != SKYC_OK)
            return rc;
    }
    return SKYC_OK;
}

static void sink_work_run(uv_work_t *req)
{
    struct sink_work *w = req->data;
    struct endpoint *ep = w->c->ep;
    if (w->h.type == WIRE_COMMIT) {
        struct wire_seg s;
        struct ep_writer *wr = NULL;
        w->verdict = WIRE_ERROR;
        if (crc32c_update(0, w->buf, w->len) != w->h.crc) {
            snprintf(w->err.msg, sizeof(w->err.msg),
                     "commit %" PRIu64 ": checksum mismatch", w->h.id);
            w->verdict = WIRE_NACK;
            return;
        }
        if (wire_seg_decode(&s, w->buf, w->len, &w->err) != SKYC_OK)
            return;
        enum skyc_err rc = ep->ops->write_open(ep, s.path, w->h.part_size,
                                               s.mtime_ns, &wr, &w->err);
        if (rc == SKYC_OK)
            rc = ep->ops->write_commit(wr, s.file_size, s.mtime_ns, s.mode,
                                       &w->err);
        if (rc == SKYC_OK)
            w->verdict = WIRE_COMMIT_ACK;
        else if (rc == SKYC_E_NOT_FOUND)
            w->verdict = WIRE_NACK;
        wire_seg_release(&s);
        return;
    }
    struct wire_body body;
    w->verdict = WIRE_NACK;
    if (codec_open(w->has_key ? w->key : NULL, &w->h, &w->buf, &w->len,
                   &w->err) != SKYC_OK)
        return;
    w->verdict = WIRE_ERROR;
    if (wire_body_decode(&body, w->buf, w->len, &w->err) != SKYC_OK)
        return;
    if (write_body(ep, &body, w->h.part_size, &w->err) == SKYC_OK)
        w->verdict = WIRE_ACK;
    wire_body_release(&body);
}

static void sink_work_done(uv_work_t *req, int status)
{
    struct sink_work *w = req->data;
    struct gconn *c = w->c;
    struct gw *gw = c->gw;
    c->works--;
    gw->sink_bytes -= w->h.payload_len;
    /* room again: wake the connections paused for the global limit */
    while (gw->sink_bytes < gw->sink_max && gw->nstarved) {
        struct gconn *s = gw->starved[--gw->nstarved];
        s->starved = false;
        if (s->works < SINK_MAX_WORKS)
            resume_reading(s);
    }
    if (status == 0 && !c->closing) {
        if (w->verdict == WIRE_ACK || w->verdict == WIRE_COMMIT_ACK) {
            c->gw->chunks_ok++;
            send_reply(c, (uint8_t)w->verdict, w->h.id, NULL);
        } else {
            if (w->verdict == WIRE_NACK)
                c->gw->chunks_bad++;
            log_warning("%s %s: %s",
                        w->verdict == WIRE_NACK ? "rejected" : "failed",
                        w->h.type == WIRE_COMMIT ? "a commit" : "a chunk",
                        w->err.msg);
            send_reply(c, (uint8_t)w->verdict, w->h.id, w->err.msg);
        }
        if (c->works < SINK_MAX_WORKS && !c->starved)
            resume_reading(c);
    }
    chunkbuf_put(w->buf);
    free(w);
    conn_unref(c);
}

static void sink_frame(struct gconn *c, const struct wire_hdr *h, uint8_t *buf)
{
    if (h->type == WIRE_BYE) {
        free(buf);
        conn_close(c);
        return;
    }
    if (h->type != WIRE_CHUNK && h->type != WIRE_COMMIT) {
        free(buf);
        send_reply(c, WIRE_ERROR, h->id, "unexpected frame at the last hop");
        conn_close(c);
        return;
    }
    struct sink_work *w = xcalloc(1, sizeof(*w));
    w->req.data = w;
    w->c = c;
    w->h = *h;
    w->buf = buf;
    w->len = h->payload_len;
    const uint8_t *k = key_of(c->gw, c->transfer);
    if (!k && (h->flags & WIRE_F_ENCRYPTED)) {
        free(buf);
        send_reply(c, WIRE_ERROR, h->id,
                   "chunk is encrypted but the key of its transfer never "
                   "reached this gateway");
        free(w);
        return;
    }
    if (k) {
        w->has_key = true;
        memcpy(w->key, k, 32);
    }
    c->refs++;
    c->works++;
    c->gw->sink_bytes += h->payload_len;
    if (c->works >= SINK_MAX_WORKS)
        pause_reading(c);
    if (c->gw->sink_bytes >= c->gw->sink_max && !c->starved) {
        struct gw *gw = c->gw;
        ALLOC_GROW(gw->starved, gw->nstarved + 1, gw->starved_alloc);
        gw->starved[gw->nstarved++] = c;
        c->starved = true;
        pause_reading(c);
    }
    uv_queue_work(c->gw->loop, &w->req, sink_work_run, sink_work_done);
}

/* ---- relay ------------------------------------------------------------- */

static void on_next_hop(uv_connect_t *req, int status)
{
    struct gconn *down = req->data;
    struct gconn *up = down->peer;
    if (status < 0 || down->closing || !up) {
        if (up)
            log_warning("relay: next hop unreachable: %s",
                        uv_strerror(status));
        conn_close(down);
        return;
    }
    uv_tcp_nodelay(&down->tcp, 1);
    uv_read_start((uv_stream_t *)&down->tcp, alloc_cb, on_read);
    conn_send(down, down->pending_hello, down->pending_len);
    down->pending_hello = NULL;
    resume_reading(up);
}

static void start_relay(struct gconn *up, struct wire_hello *hello)
{
    struct skyc_error err = {0};
    struct sockaddr_storage ss;
    struct gw *gw = up->gw;
    if (wire_parse_addr(hello->route[0], &ss, &err) != SKYC_OK) {
        send_reply(up, WIRE_ERROR, 0, err.msg);
        conn_close(up);
        return;
    }
    struct gconn *down = xcalloc(1, sizeof(*down));
    down->gw = gw;
    gw->live++;
    down->refs = 1;
    down->role = ROLE_RELAY_DOWN;
    frame_rd_init(&down->rd, WIRE_MAX_PAYLOAD);
    uv_tcp_init(gw->loop, &down->tcp);
    down->tcp.data = down;
    down->creq.data = down;
    /* the HELLO for the next hop: the same, minus that hop */
    struct wire_hello next = *hello;
    next.route = hello->route + 1;
    next.nroute = hello->nroute - 1;
    next.has_key = false;
    struct strbuf sb = STRBUF_INIT;
    strbuf_addchars(&sb, 0, WIRE_HDR_LEN);
    wire_hello_encode(&sb, &next);
    struct wire_hdr h = {0};
    h.type = WIRE_HELLO;
    wire_frame_seal(&sb, &h);
    down->pending_len = sb.len;
    down->pending_hello = (uint8_t *)strbuf_detach(&sb, NULL);
    up->role = ROLE_RELAY_UP;
    up->peer = down;
    down->peer = up;
    pause_reading(up);
    int r = uv_tcp_connect(&down->creq, &down->tcp,
                           (const struct sockaddr *)&ss, on_next_hop);
    if (r < 0) {
        log_warning("relay: cannot connect to '%s': %s", hello->route[0],
                    uv_strerror(r));
        conn_close(up);
    }
}

static void maybe_flip(struct gw *gw, const struct wire_hdr *h, uint8_t *p)
{
    if (h->type != WIRE_CHUNK)
        return;
    ++gw->chunks_seen;
    if (gw->fault_exit && gw->chunks_seen == gw->fault_exit) {
        log_warning("fault injection: exiting at chunk %" PRIu64, h->id);
        _exit(SKYC_E_FAILED);
    }
    if (gw->chunks_seen == gw->fault_flip && h->payload_len) {
        p[h->payload_len / 2] ^= 0x10;
        log_warning("fault injection: flipped a bit in chunk %" PRIu64, h->id);
    }
}

static void relay_frame(struct gconn *c, const struct wire_hdr *h,
                        uint8_t *buf)
{
    struct gconn *to = c->peer;
    if (!to) {
        free(buf);
        conn_close(c);
        return;
    }
    if (c->role == ROLE_RELAY_UP) {
        maybe_flip(c->gw, h, buf + WIRE_HDR_LEN);
        if (h->type == WIRE_CHUNK || h->type == WIRE_COMMIT) {
            c->gw->relayed_bytes += WIRE_HDR_LEN + (uint64_t)h->payload_len;
            c->gw->relayed_frames++;
        }
    }
    conn_send(to, buf, WIRE_HDR_LEN + h->payload_len);
    if (uv_stream_get_write_queue_size((uv_stream_t *)&to->tcp) > RELAY_HIGH)
        pause_reading(c);
}

/* ---- dispatch ---------------------------------------------------------- */

/* Whether dest lies under the gateway's --root (no ".." anywhere). */
static bool dest_allowed(const struct gw *gw, const char *dest)
{
    if (!gw->root)
        return true;
    size_t rl = strlen(gw->root);
    while (rl > 1 && gw->root[rl - 1] == '/')
        rl--;
    if (strncmp(dest, gw->root, rl) != 0 ||
        (dest[rl] != '/' && dest[rl] != '\0'))
        return false;
    const char *rest = dest + rl;
    while (*rest == '/')
        rest++;
    return !*rest || wire_path_ok(rest, strlen(rest)) ||
           (rest[strlen(rest) - 1] == '/' && !strstr(rest, ".."));
}

/* ---- source role -------------------------------------------------------- */

struct source_proc {
    uv_process_t proc;
    char plan[64];
};

static void on_source_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_source_exit(uv_process_t *p, int64_t status, int sig)
{
    struct source_proc *sp = p->data;
    log_notice("source copy (pid %d) ended: exit %" PRId64 "%s", p->pid,
               status, sig ? " (killed)" : "");
    unlink(sp->plan);
    uv_close((uv_handle_t *)p, on_source_closed);
}

/*
 * SOURCE: run `skyc cp|sync SRC DST --plan FILE --status-fd 3` with the
 * request's paths in FILE and its socket as descriptor 3; the copy reports
 * to the requester itself, and this connection is done here.
 */
static void source_frame(struct gconn *c, const uint8_t *buf, size_t len)
{
    struct skyc_error err = {0};
    struct wire_source req;
    struct source_proc *sp = NULL;
    char exe[4096];
    size_t exe_len = sizeof(exe);
    uv_os_fd_t fd;
    int pf = -1;
    if (wire_source_decode(&req, buf, len, &err) != SKYC_OK)
        goto fail;
    if (!dest_allowed(c->gw, req.src)) {
        snprintf(err.msg, sizeof(err.msg),
                 "source '%s' is outside this gateway's --root '%s'", req.src,
                 c->gw->root);
        goto fail;
    }
    if (strncmp(req.src, "s3://", 5) == 0 && c->gw->root) {
        snprintf(err.msg, sizeof(err.msg),
                 "S3 sources are refused with --root");
        goto fail;
    }
    sp = xcalloc(1, sizeof(*sp));
    snprintf(sp->plan, sizeof(sp->plan), "/tmp/skyc-source-XXXXXX");
    pf = mkstemp(sp->plan);
    if (pf < 0 || uv_exepath(exe, &exe_len) != 0 ||
        uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        snprintf(err.msg, sizeof(err.msg), "cannot start the copy: %s",
                 strerror(errno));
        goto fail;
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "{\"paths\": [");
    for (size_t i = 0; i < req.npaths; i++) {
        const struct wire_source_path *p = &req.paths[i];
        strbuf_addf(&sb, "%s{\"connections\": %d, \"hops\": [", i ? ", " : "",
                    p->conns);
        for (size_t j = 0; j < p->nhops; j++)
            strbuf_addf(&sb, "%s\"%s\"", j ? ", " : "", p->hops[j]);
        strbuf_addstr(&sb, "]");
        if (p->key_to)
            strbuf_addf(&sb, ", \"key_to\": \"%s\"", p->key_to);
        strbuf_addstr(&sb, "}");
    }
    strbuf_addstr(&sb, "]}\n");
    bool wrote = write(pf, sb.buf, sb.len) == (ssize_t)sb.len;
    strbuf_release(&sb);
    close(pf);
    pf = -1;
    if (!wrote) {
        snprintf(err.msg, sizeof(err.msg), "cannot write '%s'", sp->plan);
        goto fail;
    }
    char csz[16], rts[16];
    snprintf(csz, sizeof(csz), "%" PRIu32, req.chunk_size);
    snprintf(rts, sizeof(rts), "%d", req.retries);
    const char *args[20];
    int n = 0;
    args[n++] = exe;
    args[n++] = req.sync ? "sync" : "cp";
    args[n++] = req.src;
    args[n++] = req.dst;
    if (req.recursive && !req.sync)
        args[n++] = "-r";
    args[n++] = "--plan";
    args[n++] = sp->plan;
    args[n++] = "--chunk-size";
    args[n++] = csz;
    args[n++] = "--retries";
    args[n++] = rts;
    if (req.compress)
        args[n++] = "--compress";
    if (req.encrypt)
        args[n++] = "--encrypt";
    args[n++] = "--status-fd";
    args[n++] = "3";
    args[n] = NULL;
    uv_stdio_container_t io[4];
    io[0].flags = UV_IGNORE;
    io[1].flags = UV_IGNORE;
    io[2].flags = UV_INHERIT_FD;
    io[2].data.fd = 2;
    io[3].flags = UV_INHERIT_FD;
    io[3].data.fd = fd;
    uv_process_options_t po = {0};
    po.file = exe;
    po.args = (char **)args;
    po.exit_cb = on_source_exit;
    po.stdio_count = 4;
    po.stdio = io;
    sp->proc.data = sp;
    int r = uv_spawn(c->gw->loop, &sp->proc, &po);
    if (r != 0) {
        snprintf(err.msg, sizeof(err.msg), "cannot start the copy: %s",
                 uv_strerror(r));
        unlink(sp->plan);
        free(sp);
        sp = NULL;
        goto fail;
    }
    log_notice("source copy (pid %d): %s -> %s over %zu path%s",
               sp->proc.pid, req.src, req.dst, req.npaths,
               req.npaths == 1 ? "" : "s");
    wire_source_release(&req);
    conn_close(c); /* the copy holds the socket now */
    return;
fail:
    if (pf >= 0)
        close(pf);
    if (sp) {
        unlink(sp->plan);
        free(sp);
    }
    wire_source_release(&req);
    log_warning("refused a source request: %s", err.msg);
    send_reply(c, WIRE_ERROR, 0, err.msg);
    conn_close(c);
}

static void hello_frame(struct gconn *c, const struct wire_hdr *h,
                        uint8_t *buf)
{
    struct skyc_error err = {0};
    struct wire_hello hello;
    if (h->type == WIRE_SOURCE) {
        source_frame(c, buf, h->payload_len);
        free(buf);
        return;
    }
    if (h->type != WIRE_HELLO ||
        wire_hello_decode(&hello, buf, h->payload_len, &err) != SKYC_OK) {
        if (!err.msg[0])
            snprintf(err.msg, sizeof(err.msg), "expected HELLO first");
        log_warning("bad hello: %s", err.msg);
        send_reply(c, WIRE_ERROR, 0, err.msg);
        conn_close(c);
        free(buf);
        return;
    }
    free(buf);
    c->rd.max_payload = WIRE_MAX_PAYLOAD;
    memcpy(c->transfer, hello.transfer, 65);
    if (hello.nroute) {
        start_relay(c, &hello);
    } else {
        if (hello.has_key && !key_of(c->gw, hello.transfer)) {
            struct gw *gw = c->gw;
            ALLOC_GROW(gw->keys, gw->nkeys + 1, gw->keys_alloc);
            memcpy(gw->keys[gw->nkeys].transfer, hello.transfer, 65);
            memcpy(gw->keys[gw->nkeys].key, hello.key, 32);
            gw->nkeys++;
        }
        if (!dest_allowed(c->gw, hello.dest)) {
            snprintf(err.msg, sizeof(err.msg),
                     "destination '%s' is outside this gateway's --root '%s'",
                     hello.dest, c->gw->root);
            log_warning("refused: %s", err.msg);
            send_reply(c, WIRE_ERROR, 0, err.msg);
            conn_close(c);
        } else if (endpoint_open(hello.dest, &c->ep, &err) != SKYC_OK) {
            send_reply(c, WIRE_ERROR, 0, err.msg);
            conn_close(c);
        } else {
            c->role = ROLE_SINK;
            send_reply(c, WIRE_ACK, HELLO_ACK_ID, NULL);
        }
    }
    wire_hello_release(&hello);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *ub)
{
    struct gconn *c = s->data;
    struct skyc_error err = {0};
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread > 0) {
        size_t head = (c->role == ROLE_RELAY_UP || c->role == ROLE_RELAY_DOWN)
                          ? WIRE_HDR_LEN
                          : 0;
        int r = frame_feed(&c->rd, (size_t)nread, head, &err);
        if (r < 0) {
            log_warning("dropping connection: %s", err.msg);
            send_reply(c, WIRE_ERROR, 0, err.msg);
            conn_close(c);
            return;
        }
        if (r == 0)
            return;
        struct wire_hdr h;
        uint8_t *buf = frame_take(&c->rd, &h);
        uint8_t *payload = buf + head;
        switch (c->role) {
        case ROLE_NEW:
            hello_frame(c, &h, payload);
            break;
        case ROLE_SINK:
            if (h.type == WIRE_CHUNK)
                maybe_flip(c->gw, &h, payload);
            sink_frame(c, &h, payload);
            break;
        default:
            relay_frame(c, &h, buf);
            break;
        }
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    struct gw *gw = server->data;
    if (status < 0)
        return;
    struct gconn *c = xcalloc(1, sizeof(*c));
    c->gw = gw;
    gw->live++;
    c->refs = 1;
    frame_rd_init(&c->rd, HELLO_MAX); /* a stranger gets no big buffer */
    uv_tcp_init(gw->loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    gw->conns++;
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
}

static void close_any(uv_handle_t *h, void *arg)
{
    if (uv_is_closing(h))
        return;
    if (h->type == UV_TCP && h->data && h->data != arg) {
        conn_close(h->data);
        return;
    }
    uv_close(h, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct gw *gw = s->data;
    log_notice("signal %d: shutting down", signum);
    uv_walk(gw->loop, close_any, gw);
}

enum skyc_err gateway_run(const struct gateway_opts *o, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_NETWORK;
    struct gw gw = {0};
    struct sockaddr_storage ss;
    uv_loop_t loop;
    if (wire_parse_addr(o->listen, &ss, err) != SKYC_OK)
        return SKYC_E_USAGE;
    if (o->exit_with_parent)
        prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&loop);
    gw.loop = &loop;
    gw.fault_flip = o->fault_flip;
    gw.fault_exit = o->fault_exit;
    gw.root = o->root;
    gw.sink_max = o->max_buffer ? o->max_buffer : SINK_MAX_BYTES_DEFAULT;
    uv_tcp_init(&loop, &gw.server);
    gw.server.data = &gw;
    int r = uv_tcp_bind(&gw.server, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&gw.server, 256, on_connection);
    if (r < 0) {
        skyc_fail(err, rc, "cannot listen on '%s': %s", o->listen,
                  uv_strerror(r));
        uv_close((uv_handle_t *)&gw.server, NULL);
        goto out;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    uv_tcp_getsockname(&gw.server, (struct sockaddr *)&bound, &blen);
    if (bound.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&bound;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        printf("listening on %s:%d\n", host, port);
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&bound;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        printf("listening on [%s]:%d\n", host, port);
    }
    fflush(stdout);
    log_notice("gateway listening on %s port %d", host, port);
    uv_signal_init(&loop, &gw.sigterm);
    uv_signal_init(&loop, &gw.sigint);
    gw.sigterm.data = gw.sigint.data = &gw;
    uv_signal_start(&gw.sigterm, on_signal, SIGTERM);
    uv_signal_start(&gw.sigint, on_signal, SIGINT);
    rc = SKYC_OK;
out:
    uv_run(&loop, UV_RUN_DEFAULT);
    log_notice("gateway done: %" PRIu64 " connections, %" PRIu64
               " frames written, %" PRIu64 " rejected, %" PRIu64
               " bytes relayed in %" PRIu64 " frames",
               gw.conns, gw.chunks_ok, gw.chunks_bad, gw.relayed_bytes,
               gw.relayed_frames);
    uv_loop_close(&loop);
    free(gw.keys);
    free(gw.starved);
    return rc;
}
