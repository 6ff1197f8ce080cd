#include "core/common.h"
#include "core/alloc.h"
#include "core/http.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog.h"
#include "catalog/fetch.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

/* Hex SHA-256 of a file into out[65]; false when unreadable. */
static bool file_sha256(const char *path, char out[65])
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path)) {
        strbuf_release(&sb);
        return false;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(sb.buf, sb.len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < mdlen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    strbuf_release(&sb);
    return true;
}

/* The SHA-256 recorded for file in DEST/.fetched, into out; or false. */
static bool recorded_sha(const char *dest, const char *file, char out[65])
{
    char *path = path_join(dest, ".fetched");
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof(line), f)) {
        char name[256], sha[65];
        if (sscanf(line, "%64s %255s", sha, name) == 2 && !strcmp(name, file)) {
            memcpy(out, sha, 65);
            found = true;
        }
    }
    fclose(f);
    return found;
}

static void record_sha(const char *dest, const char *file, const char *sha)
{
    char *path = path_join(dest, ".fetched");
    FILE *f = fopen(path, "a");
    if (f) {
        fprintf(f, "%s %s\n", sha, file);
        fclose(f);
    }
    free(path);
}

/* Check the download parses as a catalog of that cloud (or the list). */
static enum skyc_err validate(const char *path, int cloud,
                              struct skyc_error *err)
{
    if (cloud < 0)
        return SKYC_OK; /* accelerators.csv: parsed when the catalog loads */
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path)) {
        strbuf_release(&sb);
        return skyc_fail(err, SKYC_E_IO, "cannot read '%s'", path);
    }
    struct catalog cat;
    catalog_init(&cat);
    enum skyc_err rc =
        catalog_load_csv(&cat, (enum cloud)cloud, path, sb.buf, sb.len, err);
    catalog_release(&cat);
    strbuf_release(&sb);
    return rc;
}

static enum skyc_err fetch_one(const char *base, const char *dest,
                               const char *file, int cloud, bool force,
                               struct catalog_fetch_result *res,
                               struct skyc_error *err)
{
    enum skyc_err rc;
    char *url = xasprintf("%s/%s", base, file);
    char *target = path_join(dest, file);
    char *tmp = xasprintf("%s.download", target);
    char *dir = xstrdup(target);
    *strrchr(dir, '/') = '\0';
    res->file = xstrdup(file);
    if (path_mkdir_p(dir, 0755)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", dir,
                       strerror(errno));
        goto out;
    }
    struct skyc_error dl = {0};
    rc = http_download(url, tmp, &dl);
    if (rc == SKYC_E_NOT_FOUND) {
        res->outcome = FETCH_MISSING;
        rc = SKYC_OK;
        goto out;
    }
    if (rc) {
        skyc_fail(err, rc, "%s", dl.msg);
        goto out;
    }
    if ((rc = validate(tmp, cloud, err)))
        goto out;
    struct stat st;
    res->bytes = stat(tmp, &st) ? 0 : (size_t)st.st_size;

    char now[65], then[65];
    bool edited = path_is_file(target) && file_sha256(target, now) &&
                  (!recorded_sha(dest, file, then) || strcmp(now, then));
    if (edited && !force) {
        char *keep = xasprintf("%s.new", target);
        rename(tmp, keep);
        free(keep);
        res->outcome = FETCH_KEPT_LOCAL_EDIT;
        goto out;
    }
    if (rename(tmp, target)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot replace '%s': %s", target,
                       strerror(errno));
        goto out;
    }
    char sha[65];
    if (file_sha256(target, sha))
        record_sha(dest, file, sha);
    res->outcome = FETCH_UPDATED;
out:
    unlink(tmp);
    free(url);
    free(target);
    free(tmp);
    free(dir);
    return rc;
}

enum skyc_err catalog_fetch(const char *base, const char *dest, bool force,
                            struct catalog_fetch_result **results,
                            size_t *nresults, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    *results = xcalloc(CLOUD_COUNT + 1, sizeof(**results));
    *nresults = 0;
    for (int c = -1; c < CLOUD_COUNT && !rc; c++) {
        char *file = c < 0 ? xstrdup("common/accelerators.csv")
                           : xasprintf("%s/vms.csv", cloud_name((enum cloud)c));
        rc = fetch_one(base, dest, file, c, force, &(*results)[*nresults],
                       err);
        (*nresults)++;
        free(file);
    }
    return rc;
}

void catalog_fetch_results_free(struct catalog_fetch_result *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(r[i].file);
    free(r);
}
