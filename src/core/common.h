/*
 * common.h - the one header every skyc source file includes first.
 *
 * It pulls in the standard headers the project uses everywhere and then
 * banned.h, so that unsafe libc functions become compile errors in our code.
 * Include third-party headers (jansson, yaml, curl, ...) after this one.
 */
#ifndef SKYC_CORE_COMMON_H
#define SKYC_CORE_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/banned.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SKYC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define SKYC_MAX(a, b) ((a) > (b) ? (a) : (b))

#if defined(__GNUC__)
#define SKYC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define SKYC_NORETURN __attribute__((noreturn))
#else
#define SKYC_PRINTF(f, a)
#define SKYC_NORETURN
#endif

#endif
