/*
 * store_load.c - an S3 load generator for bench/store.sh: the same client
 * load against any S3 endpoint (skyc store serve, s3rver, ...).
 *
 *   store_load URL AK SK BUCKET put|get SIZE COUNT CONC
 *   store_load URL AK SK BUCKET mpu SIZE COUNT CONC PART
 *
 * put/get: CONC threads each keep one keep-alive connection (libcurl easy
 * handle) and run COUNT/CONC requests on keys bench/<thread>/<i>. GET reads
 * the keys a PUT run wrote.
 * mpu: COUNT objects (keys bench/mpu/<i>), one after the other, each the
 * way the aws CLI and boto3's upload_file send a large file: create the
 * upload, PUT its parts of PART bytes (the last one shorter) over CONC
 * concurrent connections, complete with the parts' ETags.
 * Every request is SigV4-signed with s3/sigv4 (UNSIGNED-PAYLOAD). Prints
 * "ops/s MB/s" on stdout (ops = objects); exits 1 on any failed request.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/sigv4.h"

#include <pthread.h>
#include <curl/curl.h>

struct upload {
    const char *data;
    size_t len, off;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t left = u->len - u->off, want = size * n;
    if (want > left)
        want = left;
    memcpy(buf, u->data + u->off, want);
    u->off += want;
    return want;
}

/* Response bodies: counted, and kept (up to 64 KiB) when keep is set. */
struct sink {
    uint64_t bytes;
    bool keep;
    struct strbuf body;
};

static size_t write_cb(char *buf, size_t size, size_t n, void *ud)
{
    struct sink *s = ud;
    s->bytes += size * n;
    if (s->keep && s->body.len < (64u << 10))
        strbuf_add(&s->body, buf, size * n);
    return size * n;
}

/* The ETag response header, into etag[64]. */
static size_t header_cb(char *buf, size_t size, size_t n, void *ud)
{
    char *etag = ud;
    size_t len = size * n;
    if (len > 5 && !strncasecmp(buf, "etag:", 5)) {
        const char *v = buf + 5;
        while (*v == ' ')
            v++;
        size_t vl = len - (size_t)(v - buf);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
            vl--;
        if (vl < 64) {
            memcpy(etag, v, vl);
            etag[vl] = '\0';
        }
    }
    return len;
}

struct client {
    const char *url, *ak, *sk;
    char host[256];
    CURL *c;
};

static void client_init(struct client *cl, const char *url, const char *ak,
                        const char *sk)
{
    cl->url = url;
    cl->ak = ak;
    cl->sk = sk;
    const char *p = strstr(url, "://");
    snprintf(cl->host, sizeof(cl->host), "%s", p ? p + 3 : url);
    cl->c = curl_easy_init();
}

/*
 * One signed request on cl's connection: method path?query with body
 * (len bytes; NULL = no body). Returns the HTTP status (0 on a transport
 * error); etag (64 bytes) gets the ETag header when non-NULL.
 */
static long request(struct client *cl, const char *method, const char *path,
                    const char *query, const char *body, size_t len,
                    struct sink *out, char *etag)
{
    char url[1024], date[17];
    snprintf(url, sizeof(url), "%s%s%s%s", cl->url, path, query ? "?" : "",
             query ? query : "");
    sigv4_format_amz_date(time(NULL), date);
    struct sigv4_credentials cred = {cl->ak, cl->sk, "us-east-1", "s3"};
    struct sigv4_header h[] = {
        {"host", cl->host},
        {"x-amz-content-sha256", SIGV4_UNSIGNED},
        {"x-amz-date", date},
    };
    struct sigv4_request r = {.method = method,
                              .path = path,
                              .query = query,
                              .headers = h,
                              .nheaders = 3,
                              .payload_hash = SIGV4_UNSIGNED};
    struct strbuf authz = STRBUF_INIT, hd = STRBUF_INIT;
    sigv4_authorization(&cred, &r, date, &authz);
    struct curl_slist *list = NULL;
    strbuf_addf(&hd, "Authorization: %s", authz.buf);
    list = curl_slist_append(list, hd.buf);
    list = curl_slist_append(list, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    strbuf_reset(&hd);
    strbuf_addf(&hd, "x-amz-date: %s", date);
    list = curl_slist_append(list, hd.buf);
    list = curl_slist_append(list, "Expect:");
    struct upload u = {body, len, 0};
    CURL *c = cl->c;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 2L << 20);
    if (etag) {
        etag[0] = '\0';
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, etag);
    }
    if (body && !strcmp(method, "PUT")) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(c, CURLOPT_READDATA, &u);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    long code = 0;
    CURLcode cc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (cc != CURLE_OK) {
        fprintf(stderr, "store_load: %s %s: %s\n", method, url,
                curl_easy_strerror(cc));
        code = 0;
    } else if (code != 200) {
        fprintf(stderr, "store_load: %s %s: HTTP %ld\n", method, url, code);
    }
    curl_slist_free_all(list);
    strbuf_release(&authz);
    strbuf_release(&hd);
    return code;
}

/* ---- put / get -------------------------------------------------------- */

struct job {
    const char *url, *ak, *sk, *bucket;
    bool put;
    size_t size;
    long count;
    int id;
    const char *body;
    long failures;
    uint64_t bytes;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    struct client cl;
    char path[512];
    client_init(&cl, j->url, j->ak, j->sk);
    for (long i = 0; i < j->count; i++) {
        struct sink s = {0, false, STRBUF_INIT};
        snprintf(path, sizeof(path), "/%s/bench/%d/%ld", j->bucket, j->id, i);
        long code = request(&cl, j->put ? "PUT" : "GET", path, NULL,
                            j->put ? j->body : NULL, j->size, &s, NULL);
        if (code != 200)
            j->failures++;
        j->bytes += j->put ? j->size : s.bytes;
    }
    curl_easy_cleanup(cl.c);
    return NULL;
}

/* ---- multipart ---------------------------------------------------------- */

struct mpu {
    const char *url, *ak, *sk;
    char path[512], upload_id[256];
    const char *body;
    size_t size, part;
    long nparts;
    _Atomic long next; /* the next part number to send, from 1 */
    char (*etags)[64];
    _Atomic long failures;
    double parts_s, complete_s; /* time in the two phases, all objects */
};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *part_worker(void *arg)
{
    struct mpu *m = arg;
    struct client cl;
    char query[512];
    client_init(&cl, m->url, m->ak, m->sk);
    for (long n; (n = m->next++) <= m->nparts;) {
        size_t off = (size_t)(n - 1) * m->part;
        size_t len = m->size - off < m->part ? m->size - off : m->part;
        struct sink s = {0, false, STRBUF_INIT};
        snprintf(query, sizeof(query), "partNumber=%ld&uploadId=%s", n,
                 m->upload_id);
        if (request(&cl, "PUT", m->path, query, m->body + off, len, &s,
                    m->etags[n - 1]) != 200 ||
            !m->etags[n - 1][0])
            m->failures++;
    }
    curl_easy_cleanup(cl.c);
    return NULL;
}

/* Upload one object of m->size bytes as parts over conc connections. */
static bool upload_multipart(struct mpu *m, struct client *ctl, int conc)
{
    bool ok = false;
    struct sink s = {0, true, STRBUF_INIT};
    struct strbuf xml = STRBUF_INIT;
    pthread_t *th = xcalloc((size_t)conc, sizeof(*th));
    if (request(ctl, "POST", m->path, "uploads", "", 0, &s, NULL) != 200)
        goto out;
    const char *a = strstr(s.body.buf ? s.body.buf : "", "<UploadId>");
    const char *b = a ? strstr(a, "</UploadId>") : NULL;
    if (!a || !b || b - a - 10 >= (long)sizeof(m->upload_id)) {
        fprintf(stderr, "store_load: no UploadId in %s\n", s.body.buf);
        goto out;
    }
    snprintf(m->upload_id, sizeof(m->upload_id), "%.*s", (int)(b - a - 10),
             a + 10);
    m->next = 1;
    m->failures = 0;
    double t0 = now_s();
    for (int i = 0; i < conc; i++)
        pthread_create(&th[i], NULL, part_worker, m);
    for (int i = 0; i < conc; i++)
        pthread_join(th[i], NULL);
    double t1 = now_s();
    m->parts_s += t1 - t0;
    if (m->failures)
        goto out;
    strbuf_addstr(&xml, "<CompleteMultipartUpload>");
    for (long n = 1; n <= m->nparts; n++)
        strbuf_addf(&xml, "<Part><PartNumber>%ld</PartNumber><ETag>%s</ETag>"
                          "</Part>",
                    n, m->etags[n - 1]);
    strbuf_addstr(&xml, "</CompleteMultipartUpload>");
    char query[300];
    snprintf(query, sizeof(query), "uploadId=%s", m->upload_id);
    strbuf_reset(&s.body);
    if (request(ctl, "POST", m->path, query, xml.buf, xml.len, &s, NULL) !=
            200 ||
        !strstr(s.body.buf ? s.body.buf : "", "<ETag>")) {
        fprintf(stderr, "store_load: complete failed: %s\n",
                s.body.buf ? s.body.buf : "");
        goto out;
    }
    m->complete_s += now_s() - t1;
    ok = true;
out:
    free(th);
    strbuf_release(&s.body);
    strbuf_release(&xml);
    return ok;
}

int main(int argc, char **argv)
{
    bool mpu = argc == 10 && !strcmp(argv[5], "mpu");
    if (argc != 9 && !mpu) {
        fprintf(stderr, "usage: store_load URL AK SK BUCKET put|get SIZE "
                        "COUNT CONC\n"
                        "       store_load URL AK SK BUCKET mpu SIZE COUNT "
                        "CONC PART\n");
        return 2;
    }
    size_t size = (size_t)strtoull(argv[6], NULL, 10);
    long count = strtol(argv[7], NULL, 10);
    int conc = atoi(argv[8]);
    size_t part = mpu ? (size_t)strtoull(argv[9], NULL, 10) : 0;
    if (conc < 1 || count < (mpu ? 1 : conc) || (mpu && (!part || !size)))
        return 2;
    curl_global_init(CURL_GLOBAL_ALL);
    char *body = xmalloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        body[i] = (char)('a' + i % 26);
    long fails = 0, ops = 0;
    uint64_t bytes = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (mpu) {
        struct client ctl;
        client_init(&ctl, argv[1], argv[2], argv[3]);
        struct mpu m = {.url = argv[1], .ak = argv[2], .sk = argv[3],
                        .body = body, .size = size, .part = part};
        m.nparts = (long)((size + part - 1) / part);
        m.etags = xcalloc((size_t)m.nparts, sizeof(*m.etags));
        for (long i = 0; i < count; i++) {
            snprintf(m.path, sizeof(m.path), "/%s/bench/mpu/%ld", argv[4], i);
            if (upload_multipart(&m, &ctl, conc))
                bytes += size;
            else
                fails++;
            ops++;
        }
        fprintf(stderr, "store_load: multipart: %.3f s sending parts, %.3f s "
                        "completing (all %ld objects)\n",
                m.parts_s, m.complete_s, count);
        free(m.etags);
        curl_easy_cleanup(ctl.c);
    } else {
        struct job *jobs = xcalloc((size_t)conc, sizeof(*jobs));
        pthread_t *th = xcalloc((size_t)conc, sizeof(*th));
        for (int i = 0; i < conc; i++) {
            jobs[i] = (struct job){argv[1], argv[2], argv[3], argv[4],
                                   !strcmp(argv[5], "put"), size,
                                   count / conc, i, body, 0, 0};
            pthread_create(&th[i], NULL, worker, &jobs[i]);
        }
        for (int i = 0; i < conc; i++) {
            pthread_join(th[i], NULL);
            fails += jobs[i].failures;
            ops += jobs[i].count;
            bytes += jobs[i].bytes;
        }
        free(jobs);
        free(th);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f %.1f\n", (double)ops / secs, (double)bytes / secs / 1e6);
    free(body);
    curl_global_cleanup();
    if (fails)
        fprintf(stderr, "store_load: %ld of %ld requests failed\n", fails, ops);
    return fails ? 1 : 0;
}
