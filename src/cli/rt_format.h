/*
 * rt_format.h - how the cluster and job commands print times.
 */
#ifndef SKYC_CLI_RT_FORMAT_H
#define SKYC_CLI_RT_FORMAT_H

#include "core/common.h"

/* "12s", "3m 5s", "1h 2m", "2d 3h"; "-" for NaN or negative. */
const char *fmt_secs(char *buf, size_t size, double secs);
/* "12s ago" for a Unix time t, relative to now; "-" for NaN. */
const char *fmt_ago(char *buf, size_t size, double t, double now);

#endif
