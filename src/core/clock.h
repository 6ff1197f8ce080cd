/*
 * clock.h - the two clocks the tree reads: wall time (timestamps that are
 * stored or shown, TTLs across restarts) and monotonic time (durations,
 * time limits). Never fail.
 */
#ifndef SKYC_CORE_CLOCK_H
#define SKYC_CORE_CLOCK_H

#include "core/common.h"

/* Wall-clock (CLOCK_REALTIME) seconds since the epoch. */
double clock_wall_s(void);

/* Wall-clock milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* Monotonic seconds from an arbitrary origin: for measuring durations. */
double clock_mono_s(void);

#endif
