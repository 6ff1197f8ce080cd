/*
 * units.h - parsing the quantities users type: durations, sizes, money.
 * Each parser accepts the whole string or fails; none allocates.
 */
#ifndef SKYC_CORE_UNITS_H
#define SKYC_CORE_UNITS_H

#include "core/common.h"

/*
 * A duration such as "48h", "30m", "90s", "2d", "0.2h" or a bare number of
 * hours ("1.5"). Stores hours in *hours; returns false on anything else,
 * including negative, NaN and infinite values.
 */
bool parse_duration_hours(const char *s, double *hours);

/* A finite non-negative decimal number, the whole string. */
bool parse_nonneg_double(const char *s, double *out);

/* A whole number in [min, max], the whole string. */
bool parse_long_range(const char *s, long min, long max, long *out);

/*
 * Exactly n ASCII digits at s (no sign, no space) as a number in *out;
 * false otherwise. For fixed-width date fields ("20150830T123600Z").
 */
bool parse_fixed_digits(const char *s, int n, int *out);

/* Format hours as "1h 30m", "45m", "2d 3h" into buf. */
void format_hours(char *buf, size_t size, double hours);

#endif
