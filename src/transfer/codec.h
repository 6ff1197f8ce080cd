/*
 * codec.h - what happens to a chunk body on its way onto and off the wire:
 * CRC-32C of the plaintext, optional zstd, optional AES-256-GCM (OpenSSL EVP)
 * with the per-transfer key. The GCM additional data is the frame header's
 * first 32 bytes, so type, id, lengths and checksum are authenticated too.
 */
#ifndef SKYC_TRANSFER_CODEC_H
#define SKYC_TRANSFER_CODEC_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/wire.h"

struct codec {
    bool compress;   /* zstd; skipped per chunk when it does not shrink it */
    int level;       /* zstd level, 1 by default */
    bool encrypt;
    uint8_t key[32];
};

/*
 * *buf holds WIRE_HDR_LEN bytes of headroom followed by a body of *len bytes
 * (malloc'd, owned by the caller). Seal it in place: on return *buf may have
 * been replaced (the old one freed), holds the encoded header then the
 * payload, and *len is the payload length. h's type and id are the caller's;
 * the rest is filled here.
 */
enum skyc_err codec_seal(const struct codec *c, struct wire_hdr *h,
                         uint8_t **buf, size_t *len, struct skyc_error *err);

/*
 * Open a received payload (*buf, *len, malloc'd) into the plaintext body:
 * verify the tag with key (NULL when the frame must not be encrypted),
 * decompress, and check the CRC. *buf may be replaced. Any mismatch is
 * SKYC_E_INPUT with a message naming the check that failed.
 */
enum skyc_err codec_open(const uint8_t *key, const struct wire_hdr *h,
                         uint8_t **buf, size_t *len, struct skyc_error *err);

#endif
