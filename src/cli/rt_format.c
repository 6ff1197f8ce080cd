#include "core/common.h"
#include "cli/rt_format.h"

const char *fmt_secs(char *buf, size_t size, double secs)
{
    if (isnan(secs) || secs < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    long s = lround(secs);
    if (s < 60)
        snprintf(buf, size, "%lds", s);
    else if (s < 3600)
        snprintf(buf, size, "%ldm %lds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%ldh %ldm", s / 3600, (s / 60) % 60);
    else
        snprintf(buf, size, "%ldd %ldh", s / 86400, (s / 3600) % 24);
    return buf;
}

const char *fmt_ago(char *buf, size_t size, double t, double now)
{
    char d[32];
    if (isnan(t)) {
        snprintf(buf, size, "-");
        return buf;
    }
    snprintf(buf, size, "%s ago", fmt_secs(d, sizeof(d), now - t));
    return buf;
}
