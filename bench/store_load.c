/*
 * store_load.c - an S3 load generator for bench/store.sh: the same client
 * load against any S3 endpoint (skyc store serve, s3rver, ...).
 *
 *   store_load URL AK SK BUCKET put|get SIZE COUNT CONC
 *
 * CONC threads each keep one keep-alive connection (libcurl easy handle)
 * and run COUNT/CONC requests on keys bench/<thread>/<i>; every request is
 * SigV4-signed with s3/sigv4 (UNSIGNED-PAYLOAD). GET reads the keys a PUT
 * run wrote. Prints "ops/s MB/s" on stdout; exits 1 on any failed request.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "s3/sigv4.h"

#include <pthread.h>
#include <curl/curl.h>

struct job {
    const char *url, *ak, *sk, *bucket;
    bool put;
    size_t size;
    long count;
    int id;
    char *body;
    long failures;
    uint64_t bytes;
};

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

static size_t write_cb(char *buf, size_t size, size_t n, void *ud)
{
    uint64_t *bytes = ud;
    (void)buf;
    *bytes += size * n;
    return size * n;
}

static void *worker(void *arg)
{
    struct job *j = arg;
    CURL *c = curl_easy_init();
    char host[256], path[512], url[1024], date[17];
    const char *p = strstr(j->url, "://");
    snprintf(host, sizeof(host), "%s", p ? p + 3 : j->url);
    struct sigv4_credentials cred = {j->ak, j->sk, "us-east-1", "s3"};
    for (long i = 0; i < j->count; i++) {
        snprintf(path, sizeof(path), "/%s/bench/%d/%ld", j->bucket, j->id, i);
        snprintf(url, sizeof(url), "%s%s", j->url, path);
        sigv4_format_amz_date(time(NULL), date);
        struct sigv4_header h[] = {
            {"host", host},
            {"x-amz-content-sha256", SIGV4_UNSIGNED},
            {"x-amz-date", date},
        };
        struct sigv4_request r = {.method = j->put ? "PUT" : "GET",
                                  .path = path,
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
        struct upload u = {j->body, j->size, 0};
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &j->bytes);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
        if (j->put) {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
            curl_easy_setopt(c, CURLOPT_READDATA, &u);
            curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                             (curl_off_t)j->size);
            curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L << 20);
        } else {
            curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 2L << 20);
        }
        long code = 0;
        CURLcode cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (cc != CURLE_OK || code != 200) {
            if (!j->failures)
                fprintf(stderr, "store_load: %s %s: %s, HTTP %ld\n",
                        j->put ? "PUT" : "GET", url, curl_easy_strerror(cc),
                        code);
            j->failures++;
        }
        if (j->put)
            j->bytes += j->size;
        curl_slist_free_all(list);
        strbuf_release(&authz);
        strbuf_release(&hd);
    }
    curl_easy_cleanup(c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: store_load URL AK SK BUCKET put|get SIZE "
                        "COUNT CONC\n");
        return 2;
    }
    size_t size = (size_t)strtoull(argv[6], NULL, 10);
    long count = strtol(argv[7], NULL, 10);
    int conc = atoi(argv[8]);
    if (conc < 1 || count < conc)
        return 2;
    curl_global_init(CURL_GLOBAL_ALL);
    char *body = xmalloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        body[i] = (char)('a' + i % 26);
    struct job *jobs = xcalloc((size_t)conc, sizeof(*jobs));
    pthread_t *th = xcalloc((size_t)conc, sizeof(*th));
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < conc; i++) {
        jobs[i] = (struct job){argv[1], argv[2], argv[3], argv[4],
                               !strcmp(argv[5], "put"), size, count / conc, i,
                               body, 0, 0};
        pthread_create(&th[i], NULL, worker, &jobs[i]);
    }
    long fails = 0, ops = 0;
    uint64_t bytes = 0;
    for (int i = 0; i < conc; i++) {
        pthread_join(th[i], NULL);
        fails += jobs[i].failures;
        ops += jobs[i].count;
        bytes += jobs[i].bytes;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f %.1f\n", (double)ops / secs, (double)bytes / secs / 1e6);
    free(body);
    free(jobs);
    free(th);
    curl_global_cleanup();
    if (fails)
        fprintf(stderr, "store_load: %ld of %ld requests failed\n", fails, ops);
    return fails ? 1 : 0;
}
