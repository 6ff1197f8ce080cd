/*
 * checksum.c - S3 checksum algorithms (see checksum.h).
 */
#include "core/common.h"
#include "s3/checksum.h"

#include <pthread.h>

#include <openssl/evp.h>
#include <isa-l/crc.h>

static const struct {
    const char *name;
    enum checksum_algo algo;
} names[] = {
    {"crc32", CHECKSUM_CRC32},   {"crc32c", CHECKSUM_CRC32C},
    {"sha1", CHECKSUM_SHA1},     {"sha256", CHECKSUM_SHA256},
    {"crc64nvme", CHECKSUM_CRC64NVME},
};

enum checksum_algo checksum_algo_parse(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(names); i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].algo;
    return CHECKSUM_NONE;
}

const char *checksum_algo_name(enum checksum_algo a)
{
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (names[i].algo == a)
            return names[i].name;
    return "none";
}

static uint32_t crc32c_table[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^
                                 crc32c_table[0][crc32c_table[t - 1][i] & 0xff];
}

uint32_t crc32c_update_table(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc32c_once, crc32c_init_table);
    const uint8_t *p = data;
    crc = ~crc;
    while (len >= 8) { /* slicing by 8 */
        uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        crc = crc32c_table[7][lo & 0xff] ^ crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^ crc32c_table[4][lo >> 24] ^
              crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^
              crc32c_table[1][p[6]] ^ crc32c_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

/* isa-l picks its fastest code for the CPU at run time (PCLMULQDQ
 * folding, the SSE4.2 crc32 instruction); its int length is fed in
 * pieces. */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    crc = ~crc;
    while (len) {
        size_t n = len > (1u << 30) ? (1u << 30) : len;
        crc = crc32_iscsi((unsigned char *)p, (int)n, crc);
        p += n;
        len -= n;
    }
    return ~crc;
}

static uint64_t crc64_table[256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init_table(void)
{
    for (uint64_t i = 0; i < 256; i++) {
        uint64_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x9A6C9329AC4BC9B5ull : c >> 1;
        crc64_table[i] = c;
    }
}

uint64_t crc64nvme_update(uint64_t crc, const void *data, size_t len)
{
    pthread_once(&crc64_once, crc64_init_table);
    const uint8_t *p = data;
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ crc64_table[(crc ^ *p++) & 0xff];
    return ~crc;
}

bool checksum_init(struct checksum *c, enum checksum_algo algo)
{
    memset(c, 0, sizeof(*c));
    c->algo = algo;
    switch (algo) {
    case CHECKSUM_CRC32:
        c->crc = 0;
        return true;
    case CHECKSUM_CRC32C:
        c->crc = 0;
        return true;
    case CHECKSUM_CRC64NVME:
        c->crc64 = 0;
        return true;
    case CHECKSUM_SHA1:
    case CHECKSUM_SHA256:
        c->md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(c->md, algo == CHECKSUM_SHA1 ? EVP_sha1()
                                                       : EVP_sha256(),
                          NULL);
        return true;
    default:
        c->algo = CHECKSUM_NONE;
        return false;
    }
}

void checksum_update(struct checksum *c, const void *data, size_t len)
{
    switch (c->algo) {
    case CHECKSUM_CRC32: /* zlib's CRC32, by isa-l */
        c->crc = crc32_gzip_refl(c->crc, data, len);
        break;
    case CHECKSUM_CRC32C:
        c->crc = crc32c_update(c->crc, data, len);
        break;
    case CHECKSUM_CRC64NVME:
        c->crc64 = crc64nvme_update(c->crc64, data, len);
        break;
    case CHECKSUM_SHA1:
    case CHECKSUM_SHA256:
        EVP_DigestUpdate(c->md, data, len);
        break;
    default:
        break;
    }
}

void checksum_final(struct checksum *c, struct strbuf *out)
{
    uint8_t d[32];
    unsigned int n = 0;
    switch (c->algo) {
    case CHECKSUM_CRC32:
    case CHECKSUM_CRC32C:
        d[0] = (uint8_t)(c->crc >> 24);
        d[1] = (uint8_t)(c->crc >> 16);
        d[2] = (uint8_t)(c->crc >> 8);
        d[3] = (uint8_t)c->crc;
        n = 4;
        break;
    case CHECKSUM_CRC64NVME:
        for (int i = 0; i < 8; i++)
            d[i] = (uint8_t)(c->crc64 >> (56 - 8 * i));
        n = 8;
        break;
    case CHECKSUM_SHA1:
    case CHECKSUM_SHA256:
        EVP_DigestFinal_ex(c->md, d, &n);
        break;
    default:
        break;
    }
    base64_encode(out, d, n);
    checksum_release(c);
}

void checksum_release(struct checksum *c)
{
    if (c->md)
        EVP_MD_CTX_free(c->md);
    c->md = NULL;
    c->algo = CHECKSUM_NONE;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(struct strbuf *out, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        strbuf_addch(out, b64[(v >> 18) & 63]);
        strbuf_addch(out, b64[(v >> 12) & 63]);
        strbuf_addch(out, i + 1 < len ? b64[(v >> 6) & 63] : '=');
        strbuf_addch(out, i + 2 < len ? b64[v & 63] : '=');
    }
}

long base64_decode(const char *in, uint8_t *out, size_t outsize)
{
    size_t n = 0, len = strlen(in);
    uint32_t acc = 0;
    int bits = 0;
    size_t i;
    for (i = 0; i < len && in[i] != '='; i++) {
        const char *q = strchr(b64, in[i]);
        if (!q || !in[i])
            return -1;
        acc = acc << 6 | (uint32_t)(q - b64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= outsize)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    for (; i < len; i++)
        if (in[i] != '=')
            return -1;
    return (long)n;
}
