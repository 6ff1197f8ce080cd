/*
 * codec.c - checksum, zstd and AES-256-GCM for chunk bodies.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "transfer/codec.h"
#include "s3/checksum.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zstd.h>

static enum skyc_err gcm(bool enc, const uint8_t *key, struct wire_hdr *h,
                         uint8_t *data, size_t len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    uint8_t aad[WIRE_HDR_LEN];
    int n = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx) {
        skyc_fail(err, SKYC_E_INTERNAL, "aes-gcm: cannot allocate a context");
        goto out;
    }
    wire_hdr_encode(h, aad);
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL,
                          enc ? 1 : 0) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) != 1 ||
        EVP_CipherInit_ex(ctx, NULL, NULL, key, h->nonce, enc ? 1 : 0) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &n, aad, 32) != 1) {
        skyc_fail(err, SKYC_E_INTERNAL, "aes-gcm: setup failed");
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        int step = (int)SKYC_MIN(len - done, (size_t)1 << 30);
        if (EVP_CipherUpdate(ctx, data + done, &n, data + done, step) != 1) {
            skyc_fail(err, SKYC_E_INTERNAL, "aes-gcm: update failed");
            goto out;
        }
        done += (size_t)step;
    }
    if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, h->tag) != 1)
        goto out;
    if (EVP_CipherFinal_ex(ctx, data + len, &n) != 1) {
        skyc_fail(err, SKYC_E_INPUT,
                  "chunk %" PRIu64 ": authentication tag mismatch (corrupted "
                  "in transit or wrong key)", h->id);
        goto out;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, h->tag) != 1)
        goto out;
    rc = SKYC_OK;
out:
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

enum skyc_err codec_seal(const struct codec *c, struct wire_hdr *h,
                         uint8_t **buf, size_t *len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INTERNAL;
    uint8_t *body = *buf + WIRE_HDR_LEN;
    h->flags = 0;
    h->raw_len = (uint32_t)*len;
    h->crc = crc32c_update(0, body, *len);
    memset(h->nonce, 0, sizeof(h->nonce));
    memset(h->tag, 0, sizeof(h->tag));
    if (c->compress && *len > 0) {
        size_t bound = ZSTD_compressBound(*len);
        uint8_t *z = xmalloc(WIRE_HDR_LEN + bound);
        size_t zn = ZSTD_compress(z + WIRE_HDR_LEN, bound, body, *len,
                                  c->level > 0 ? c->level : 1);
        if (!ZSTD_isError(zn) && zn < *len) {
            free(*buf);
            *buf = z;
            *len = zn;
            h->flags |= WIRE_F_COMPRESSED;
        } else {
            free(z);
        }
    }
    h->payload_len = (uint32_t)*len;
    if (c->encrypt) {
        h->flags |= WIRE_F_ENCRYPTED;
        if (RAND_bytes(h->nonce, sizeof(h->nonce)) != 1) {
            skyc_fail(err, rc, "aes-gcm: no random nonce");
            goto out;
        }
        if ((rc = gcm(true, c->key, h, *buf + WIRE_HDR_LEN, *len, err)) !=
            SKYC_OK)
            goto out;
    }
    wire_hdr_encode(h, *buf);
    rc = SKYC_OK;
out:
    return rc;
}

enum skyc_err codec_open(const uint8_t *key, const struct wire_hdr *h,
                         uint8_t **buf, size_t *len, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct wire_hdr hc = *h;
    if (h->flags & WIRE_F_ENCRYPTED) {
        if (!key) {
            skyc_fail(err, rc,
                      "chunk %" PRIu64 ": encrypted but this gateway has no "
                      "key for the transfer", h->id);
            goto out;
        }
        if ((rc = gcm(false, key, &hc, *buf, *len, err)) != SKYC_OK)
            goto out;
        rc = SKYC_E_INPUT;
    } else if (key) {
        skyc_fail(err, rc, "chunk %" PRIu64 ": not encrypted, but the "
                  "transfer is", h->id);
        goto out;
    }
    if (h->flags & WIRE_F_COMPRESSED) {
        uint8_t *raw = xmalloc(h->raw_len ? h->raw_len : 1);
        size_t n = ZSTD_decompress(raw, h->raw_len, *buf, *len);
        if (ZSTD_isError(n) || n != h->raw_len) {
            free(raw);
            skyc_fail(err, rc, "chunk %" PRIu64 ": zstd: %s", h->id,
                      ZSTD_isError(n) ? ZSTD_getErrorName(n)
                                      : "wrong decompressed size");
            goto out;
        }
        free(*buf);
        *buf = raw;
        *len = n;
    } else if (*len != h->raw_len) {
        skyc_fail(err, rc, "chunk %" PRIu64 ": %zu bytes, header says %" PRIu32,
                  h->id, *len, h->raw_len);
        goto out;
    }
    uint32_t got = crc32c_update(0, *buf, *len);
    if (got != h->crc) {
        skyc_fail(err, rc,
                  "chunk %" PRIu64 ": checksum mismatch (crc32c %08" PRIx32
                  ", expected %08" PRIx32 ")", h->id, got, h->crc);
        goto out;
    }
    rc = SKYC_OK;
out:
    return rc;
}
