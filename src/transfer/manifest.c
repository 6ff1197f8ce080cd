/*
 * manifest.c - the resume log of a transfer.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "transfer/manifest.h"

#include <openssl/evp.h>
#include <unistd.h>

void manifest_id(char out[65], const char *src, const char *dst,
                 uint32_t chunk_size, unsigned flags,
                 const struct ep_list *objs)
{
    static const char d[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    char num[96];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    EVP_DigestUpdate(ctx, "skyc-transfer-v1\n", 17);
    EVP_DigestUpdate(ctx, src, strlen(src) + 1);
    EVP_DigestUpdate(ctx, dst, strlen(dst) + 1);
    int n = snprintf(num, sizeof(num), "%" PRIu32 " %u\n", chunk_size, flags);
    EVP_DigestUpdate(ctx, num, (size_t)n);
    for (size_t i = 0; i < objs->n; i++) {
        EVP_DigestUpdate(ctx, objs->v[i].key, strlen(objs->v[i].key) + 1);
        n = snprintf(num, sizeof(num), "%" PRIu64 " %" PRId64 "\n",
                     objs->v[i].size, objs->v[i].mtime_ns);
        EVP_DigestUpdate(ctx, num, (size_t)n);
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[md[i] >> 4];
        out[2 * i + 1] = d[md[i] & 15];
    }
    out[64] = '\0';
}

enum skyc_err manifest_open(struct manifest *m, const char *id,
                            size_t nchunks, size_t nobjs,
                            struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    char *state = path_state_dir();
    char *dir = path_join(state, "transfers");
    memset(m, 0, sizeof(*m));
    memcpy(m->id, id, 65);
    m->nchunks = nchunks;
    m->nobjs = nobjs;
    m->chunk_done = xcalloc(nchunks + 1, sizeof(bool));
    m->obj_done = xcalloc(nobjs + 1, sizeof(bool));
    if (path_mkdir_p(dir, 0700) != 0) {
        skyc_fail(err, rc, "cannot create '%s': %s", dir, strerror(errno));
        goto out;
    }
    char name[80];
    snprintf(name, sizeof(name), "%s.log", id);
    m->path = path_join(dir, name);
    FILE *in = fopen(m->path, "r");
    if (in) {
        char line[64];
        while (fgets(line, sizeof(line), in)) {
            char kind;
            unsigned long long v;
            char nl;
            if (sscanf(line, "%c %llu%c", &kind, &v, &nl) != 3 || nl != '\n')
                continue; /* torn or foreign line */
            if (kind == 'c' && v < nchunks && !m->chunk_done[v]) {
                m->chunk_done[v] = true;
                m->loaded_chunks++;
            } else if (kind == 'f' && v < nobjs) {
                m->obj_done[v] = true;
            }
        }
        fclose(in);
    }
    m->log = fopen(m->path, "a");
    if (!m->log) {
        skyc_fail(err, rc, "cannot write '%s': %s", m->path, strerror(errno));
        goto out;
    }
    rc = SKYC_OK;
out:
    free(state);
    free(dir);
    return rc;
}

void manifest_chunk_done(struct manifest *m, size_t chunk)
{
    if (chunk >= m->nchunks || m->chunk_done[chunk])
        return;
    m->chunk_done[chunk] = true;
    if (m->log) {
        fprintf(m->log, "c %zu\n", chunk);
        fflush(m->log);
    }
}

void manifest_obj_done(struct manifest *m, size_t obj)
{
    if (obj >= m->nobjs || m->obj_done[obj])
        return;
    m->obj_done[obj] = true;
    if (m->log) {
        fprintf(m->log, "f %zu\n", obj);
        fflush(m->log);
    }
}

void manifest_remove(struct manifest *m)
{
    if (m->log) {
        fclose(m->log);
        m->log = NULL;
    }
    if (m->path)
        (void)unlink(m->path);
}

void manifest_release(struct manifest *m)
{
    if (m->log)
        fclose(m->log);
    free(m->path);
    free(m->chunk_done);
    free(m->obj_done);
    memset(m, 0, sizeof(*m));
}
