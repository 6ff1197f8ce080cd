/*
 * checksum.h - the x-amz-checksum-* algorithms S3 clients send: CRC32
 * and CRC32C (isa-l: SIMD, chosen for the CPU at run time), SHA1 and SHA256 (OpenSSL EVP), computed
 * incrementally and compared as base64 of the big-endian digest, as S3 does.
 * CRC64NVME (table code) too.
 */
#ifndef SKYC_S3_CHECKSUM_H
#define SKYC_S3_CHECKSUM_H

#include "core/common.h"
#include "core/strbuf.h"

enum checksum_algo {
    CHECKSUM_NONE,
    CHECKSUM_CRC32,
    CHECKSUM_CRC32C,
    CHECKSUM_SHA1,
    CHECKSUM_SHA256,
    CHECKSUM_CRC64NVME,
};

struct checksum {
    enum checksum_algo algo;
    uint32_t crc;
    uint64_t crc64;
    void *md; /* EVP_MD_CTX for the SHA kinds */
};

/* "crc32" / "CRC32" ... -> algo; CHECKSUM_NONE when unknown. */
enum checksum_algo checksum_algo_parse(const char *name);
/* "crc32" ... (lower case, as in the header name x-amz-checksum-crc32). */
const char *checksum_algo_name(enum checksum_algo a);

/* false when algo is CHECKSUM_NONE. */
bool checksum_init(struct checksum *c, enum checksum_algo algo);
void checksum_update(struct checksum *c, const void *data, size_t len);
/* Finish: base64 of the digest appended to out; c is released. */
void checksum_final(struct checksum *c, struct strbuf *out);
void checksum_release(struct checksum *c);

/* base64 (standard alphabet, padded) of data, appended to out. */
void base64_encode(struct strbuf *out, const void *data, size_t len);
/* Decode base64 into out[outsize]; returns the length or -1 when bad. */
long base64_decode(const char *in, uint8_t *out, size_t outsize);

/* CRC32C by isa-l; crc32c_update_table is our portable table code, which
 * the tests hold isa-l's to. */
uint32_t crc32c_update(uint32_t crc, const void *data, size_t len);
uint32_t crc32c_update_table(uint32_t crc, const void *data, size_t len);
uint64_t crc64nvme_update(uint64_t crc, const void *data, size_t len);

#endif
