/*
 * hex.h - lower-case hexadecimal encoding and decoding of bytes (digests,
 * keys, continuation tokens). Nothing allocates; callers size the buffers.
 */
#ifndef SKYC_CORE_HEX_H
#define SKYC_CORE_HEX_H

#include "core/common.h"

/* Write the 2n lower-case hex digits of in[0..n) and a NUL to out, which
 * holds at least 2n + 1 bytes. */
void hex_encode(const uint8_t *in, size_t n, char *out);

/* Are s[0..n) all hex digits (either case)? False for n == 0. */
bool hex_string(const char *s, size_t n);

/* The value of one hex digit (either case), or -1 for any other char. */
int hex_digit(int c);

#endif
