/*
 * crc32c.h - CRC-32C (Castagnoli), the per-chunk checksum of the data plane.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (about 10 GB/s per
 * core), else a slicing-by-8 table. Both give the same value; seed is 0 for
 * a fresh checksum and the previous result to continue one.
 */
#ifndef SKYC_TRANSFER_CRC32C_H
#define SKYC_TRANSFER_CRC32C_H

#include "core/common.h"

uint32_t crc32c(uint32_t seed, const void *data, size_t len);
/* The portable table version, for tests that compare the two. */
uint32_t crc32c_sw(uint32_t seed, const void *data, size_t len);

#endif
