/*
 * cmd_cp.c - `skyc cp SRC DST [-r]` (and the shared body of `skyc sync`):
 * option parsing, the progress bar on stderr and the summary.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "transfer/chunk.h"
#include "transfer/copy.h"
#include "transfer/wire.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

struct bar {
    bool tty;
    bool shown;
    int status_fd; /* >= 0: report STATUS frames there (a source gateway) */
    bool status_broken;
    size_t objects;
};

/* One STATUS frame to b->status_fd; a dead reader stops the copy. */
static void send_status(struct bar *b, const struct sender_stats *st,
                        const struct copy_result *res, bool final,
                        const struct skyc_error *err)
{
    struct wire_status ws = {0};
    struct strbuf sb = STRBUF_INIT;
    ws.final = final;
    if (err && err->code != SKYC_OK) {
        ws.code = err->code;
        snprintf(ws.msg, sizeof(ws.msg), "%s", err->msg);
    }
    if (res) {
        ws.objects = res->objects;
        ws.unchanged = res->unchanged;
        ws.resumed = res->resumed;
    } else {
        ws.objects = b->objects;
    }
    ws.total_bytes = st->total_bytes;
    ws.done_bytes = st->done_bytes;
    ws.skipped_bytes = st->skipped_bytes;
    ws.wire_bytes = st->wire_bytes;
    ws.chunks_total = st->chunks_total;
    ws.chunks_sent = st->chunks_sent;
    ws.chunks_skipped = st->chunks_skipped;
    ws.chunks_resent = st->chunks_resent;
    ws.conn_failures = st->conn_failures;
    ws.seconds = st->seconds;
    strbuf_addchars(&sb, 0, WIRE_HDR_LEN);
    wire_status_encode(&sb, &ws);
    struct wire_hdr h = {0};
    h.type = WIRE_STATUS;
    wire_frame_seal(&sb, &h);
    const char *p = sb.buf;
    size_t left = sb.len;
    while (left && !b->status_broken) {
        ssize_t n = send(b->status_fd, p, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* whoever asked for this copy is gone: stop it as ^C would
             * (the manifest stays for a re-run) */
            b->status_broken = true;
            if (!final)
                raise(SIGINT);
            break;
        }
        p += n;
        left -= (size_t)n;
    }
    strbuf_release(&sb);
}

static void human_bytes(char *buf, size_t size, double b)
{
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int i = 0;
    while (b >= 1024 && i < 4) {
        b /= 1024;
        i++;
    }
    snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static double gbits(const struct sender_stats *st)
{
    double moved = (double)(st->done_bytes - st->skipped_bytes);
    return st->seconds > 0 ? moved * 8 / st->seconds / 1e9 : 0;
}

static void on_progress(const struct sender_stats *st, void *arg)
{
    struct bar *b = arg;
    if (b->status_fd >= 0)
        send_status(b, st, NULL, false, NULL);
    if (!b->tty)
        return;
    char done[32], total[32], eta[32] = "--:--";
    human_bytes(done, sizeof(done), (double)st->done_bytes);
    human_bytes(total, sizeof(total), (double)st->total_bytes);
    double rate = st->seconds > 0
                      ? (double)(st->done_bytes - st->skipped_bytes) /
                            st->seconds
                      : 0;
    if (rate > 0) {
        double left = (double)(st->total_bytes - st->done_bytes) / rate;
        snprintf(eta, sizeof(eta), "%d:%02d", (int)left / 60, (int)left % 60);
    }
    double frac = st->total_bytes
                      ? (double)st->done_bytes / (double)st->total_bytes
                      : 1;
    char bar[31];
    int fill = (int)(frac * 30);
    for (int i = 0; i < 30; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %3.0f%% %s / %s  %.2f Gbit/s  ETA %s ", bar,
            frac * 100, done, total, gbits(st), eta);
    b->shown = true;
}

/* "64M", "4MiB", "512k", "1048576" -> bytes within the chunk limits. */
static bool parse_chunk_size(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v <= 0)
        return false;
    double mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1024;
    else if (*end == 'm' || *end == 'M')
        mul = 1024 * 1024;
    else if (*end == 'g' || *end == 'G')
        mul = 1024.0 * 1024 * 1024;
    if (mul > 1) {
        end++;
        if (!strcmp(end, "iB") || !strcmp(end, "B"))
            end += strlen(end);
    }
    if (*end)
        return false;
    v *= mul;
    if (v < CHUNK_MIN_SIZE || v > CHUNK_MAX_SIZE)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* "A:1,B:2" -> hops A:1, B:2 appended to path (strings owned by path). */
static void split_hops(const char *list, struct sender_path *p)
{
    const char *s = list;
    size_t cap = 1;
    for (const char *q = list; *q; q++)
        cap += *q == ',';
    p->hops = xcalloc(cap + 1, sizeof(char *));
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n)
            p->hops[p->nhops++] = xstrndup(s, n);
        s += n;
        if (*s == ',')
            s++;
    }
}

enum skyc_err cli_copy(int argc, const char **argv, bool sync,
                       struct skyc_error *err)
{
    bool recursive = false, compress = false, encrypt = false, json = false,
         quiet = false, remote_src = false;
    const char *to = NULL, *plan = NULL, *chunk = NULL;
    long conns = -1, retries = 5, status_fd = -1;
    struct opt_list via = {0}, gateways = {0};
    const char *const cp_usage[] = {
        "skyc cp SRC DST [-r] [--to HOST:PORT [--via HOP,...]...] "
        "[--plan FILE [--gateway REGION=HOST:PORT]...]",
        NULL};
    const char *const sync_usage[] = {
        "skyc sync SRC DST [--to HOST:PORT [--via HOP,...]...] "
        "[--plan FILE [--gateway REGION=HOST:PORT]...]",
        NULL};
    const struct option opts[] = {
        OPT_FLAG('r', "recursive", &recursive,
                 "copy the contents of directory SRC into DST"),
        OPT_STRING(0, "to", &to, "HOST:PORT",
                   "the destination gateway (DST is a path there)"),
        OPT_LIST(0, "via", &via, "HOP,...",
                 "relays before --to; repeat for parallel paths"),
        OPT_STRING(0, "plan", &plan, "FILE",
                   "`skyc transfer plan --json` output, or {\"paths\": "
                   "[{\"hops\": [...], \"connections\": N}]}"),
        OPT_LIST(0, "gateway", &gateways, "REGION=HOST:PORT[,...]",
                 "a planner plan's gateway(s) in REGION; repeat per region"),
        OPT_INT('n', "connections", &conns, "N",
                "TCP connections per path (default 8); with a planner "
                "plan, the most in all (default 64)"),
        OPT_STRING(0, "chunk-size", &chunk, "SIZE",
                   "chunk size, 64K to 256M (default 64M)"),
        OPT_FLAG(0, "compress", &compress, "zstd-compress chunks"),
        OPT_FLAG(0, "encrypt", &encrypt,
                 "AES-256-GCM end to end with a per-transfer key"),
        OPT_INT(0, "retries", &retries, "N",
                "reconnects per connection before giving it up (default 5)"),
        OPT_FLAG(0, "remote-src", &remote_src,
                 "SRC is on the source gateway (the first hop), which reads "
                 "and sends it itself"),
        OPT_INT(0, "status-fd", &status_fd, "FD",
                "report progress and the outcome as STATUS frames on FD "
                "(how a source gateway runs a copy)"),
        OPT_FLAG('q', "quiet", &quiet, "no progress bar or summary"),
        OPT_FLAG(0, "json", &json, "print the summary as JSON on stdout"),
        OPT_END(),
    };
    enum skyc_err rc = SKYC_E_USAGE;
    struct sender_path *paths = NULL;
    size_t npaths = 0;
    struct copy_opts co = {0};
    struct copy_result res;
    struct bar bar = {0};
    bar.status_fd = -1;
    int n = parse_options(argc, argv, opts, sync ? sync_usage : cp_usage, err);
    if (n < 0) {
        rc = n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
        goto out;
    }
    if (n != 2) {
        skyc_fail(err, rc, "%s takes SRC and DST (got %d argument%s)",
                  sync ? "sync" : "cp", n, n == 1 ? "" : "s");
        goto out;
    }
    bool conns_given = conns != -1;
    if (conns_given && (conns < 1 || conns > 1024 || (conns > 64 && !plan))) {
        skyc_fail(err, rc, "--connections %ld out of range (1 to 64; 1024 "
                  "in all with --plan)", conns);
        goto out;
    }
    if (!conns_given)
        conns = 8;
    if (status_fd != -1) {
        int fl = status_fd >= 3 && status_fd < 1 << 20
                     ? fcntl((int)status_fd, F_GETFL)
                     : -1;
        if (fl < 0) {
            skyc_fail(err, rc, "--status-fd %ld is not an open descriptor",
                      status_fd);
            goto out;
        }
        /* the request's socket, inherited non-blocking from the gateway */
        fcntl((int)status_fd, F_SETFL, fl & ~O_NONBLOCK);
        bar.status_fd = (int)status_fd;
        quiet = true;
    }
    if (retries < 0 || retries > 100) {
        skyc_fail(err, rc, "--retries %ld out of range (0 to 100)", retries);
        goto out;
    }
    co.chunk_size = CHUNK_DEFAULT_SIZE;
    if (chunk && !parse_chunk_size(chunk, &co.chunk_size)) {
        skyc_fail(err, rc, "bad --chunk-size '%s' (want 64K to 256M, e.g. "
                  "64M)", chunk);
        goto out;
    }
    if (plan && (to || via.n)) {
        skyc_fail(err, rc, "--plan and --to/--via exclude each other");
        goto out;
    }
    if (gateways.n && !plan) {
        skyc_fail(err, rc, "--gateway needs --plan (a `skyc transfer plan "
                  "--json` output)");
        goto out;
    }
    if (via.n && !to) {
        skyc_fail(err, rc, "--via needs --to (the last hop)");
        goto out;
    }
    if (plan) {
        if ((rc = copy_plan_load(plan, gateways.items, gateways.n,
                                 conns_given ? (int)conns : 0, &paths,
                                 &npaths, err)) != SKYC_OK)
            goto out;
    } else if (to) {
        npaths = via.n ? via.n : 1;
        paths = xcalloc(npaths, sizeof(*paths));
        for (size_t i = 0; i < npaths; i++) {
            struct strbuf sb = STRBUF_INIT;
            if (via.n)
                strbuf_addf(&sb, "%s,", via.items[i]);
            strbuf_addstr(&sb, to);
            split_hops(sb.buf, &paths[i]);
            paths[i].conns = (int)conns;
            strbuf_release(&sb);
        }
    }
    co.src = argv[0];
    co.dst = argv[1];
    co.recursive = recursive;
    co.sync = sync;
    co.compress = compress;
    co.encrypt = encrypt;
    co.paths = paths;
    co.npaths = npaths;
    co.local_conns = (int)conns;
    co.max_retries = (int)retries;
    co.remote_src = remote_src;
    bar.tty = !quiet && isatty(STDERR_FILENO);
    co.progress = on_progress;
    co.progress_arg = &bar;
    rc = copy_run(&co, &res, err);
    if (bar.shown)
        fputc('\n', stderr);
    if (rc != SKYC_OK && err->code == SKYC_OK)
        err->code = rc;
    if (bar.status_fd >= 0)
        send_status(&bar, &res.st, &res, true, rc != SKYC_OK ? err : NULL);
    if (rc != SKYC_OK)
        goto out;
    const struct sender_stats *st = &res.st;
    if (json) {
        json_t *o = json_pack(
            "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:b}",
            "objects", (json_int_t)res.objects, "unchanged",
            (json_int_t)res.unchanged, "bytes", (json_int_t)st->total_bytes,
            "bytes_sent", (json_int_t)(st->done_bytes - st->skipped_bytes),
            "wire_bytes", (json_int_t)st->wire_bytes, "chunks",
            (json_int_t)st->chunks_total, "chunks_skipped",
            (json_int_t)st->chunks_skipped, "chunks_resent",
            (json_int_t)st->chunks_resent, "connection_failures",
            (json_int_t)st->conn_failures, "seconds", st->seconds, "gbps",
            gbits(st), "resumed", res.resumed);
        output_json(o);
    }
    if (!quiet) {
        char total[32], sent[32];
        human_bytes(total, sizeof(total), (double)st->total_bytes);
        human_bytes(sent, sizeof(sent),
                    (double)(st->done_bytes - st->skipped_bytes));
        fprintf(stderr,
                "skyc: %s %zu object%s (%s) in %.2f s, %.2f Gbit/s; "
                "%s sent; chunks: %" PRIu64 " total, %" PRIu64
                " sent, %" PRIu64 " skipped (already done), %" PRIu64
                " resent; %" PRIu64 " connection failures",
                sync ? "synced" : "copied", res.objects,
                res.objects == 1 ? "" : "s", total, st->seconds, gbits(st),
                sent, st->chunks_total, st->chunks_sent, st->chunks_skipped,
                st->chunks_resent, st->conn_failures);
        if (sync)
            fprintf(stderr, "; %zu unchanged", res.unchanged);
        fputc('\n', stderr);
    }
out:
    copy_paths_free(paths, npaths);
    opt_list_release(&via);
    opt_list_release(&gateways);
    return rc;
}

enum skyc_err cmd_cp(int argc, const char **argv, struct skyc_error *err)
{
    return cli_copy(argc, argv, false, err);
}
