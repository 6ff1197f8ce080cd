#include "core/common.h"
#include "core/units.h"

bool parse_nonneg_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

bool parse_long_range(const char *s, long min, long max, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool parse_duration_hours(const char *s, double *hours)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || !isfinite(v) || v < 0)
        return false;
    double scale;
    if (!*end || !strcmp(end, "h"))
        scale = 1;
    else if (!strcmp(end, "m") || !strcmp(end, "min"))
        scale = 1.0 / 60;
    else if (!strcmp(end, "s"))
        scale = 1.0 / 3600;
    else if (!strcmp(end, "d"))
        scale = 24;
    else
        return false;
    *hours = v * scale;
    return true;
}

void format_hours(char *buf, size_t size, double hours)
{
    long minutes = lround(hours * 60);
    long d = minutes / (24 * 60), h = (minutes / 60) % 24, m = minutes % 60;
    if (d)
        snprintf(buf, size, "%ldd %ldh", d, h);
    else if (h && m)
        snprintf(buf, size, "%ldh %ldm", h, m);
    else if (h)
        snprintf(buf, size, "%ldh", h);
    else
        snprintf(buf, size, "%ldm", m);
}

bool parse_fixed_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}
