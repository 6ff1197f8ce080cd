#include "core/common.h"
#include "core/alloc.h"
#include "core/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <unistd.h>

static void curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, curl_init);
}

enum skyc_err http_download(const char *url, const char *path,
                            struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_NETWORK;
    char *part = xasprintf("%s.part", path);
    CURL *curl = NULL;
    FILE *f = fopen(part, "wb");
    if (!f) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", part,
                       strerror(errno));
        goto out;
    }
    http_global_init();
    curl = curl_easy_init();
    if (!curl) {
        rc = skyc_fail(err, SKYC_E_INTERNAL, "cannot start libcurl");
        goto out;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "skyc/" SKYC_VERSION);
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (fclose(f)) {
        f = NULL;
        rc = skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", part,
                       strerror(errno));
        goto out;
    }
    f = NULL;
    if (cc == CURLE_FILE_COULDNT_READ_FILE || status == 404) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "'%s' was not found", url);
        goto out;
    }
    if (cc != CURLE_OK) {
        rc = skyc_fail(err, SKYC_E_NETWORK, "cannot fetch '%s': %s", url,
                       *errbuf ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    if (status >= 400) {
        rc = skyc_fail(err, SKYC_E_NETWORK, "cannot fetch '%s': HTTP %ld",
                       url, status);
        goto out;
    }
    if (rename(part, path)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot rename '%s' to '%s': %s", part,
                       path, strerror(errno));
        goto out;
    }
    rc = SKYC_OK;
out:
    if (f)
        fclose(f);
    if (rc)
        unlink(part);
    if (curl)
        curl_easy_cleanup(curl);
    free(part);
    return rc;
}
