#include "core/common.h"
#include "core/log.h"

#include <sys/time.h>
#include <unistd.h>

static enum log_level current_level = LOG_WARNING;
static char current_role = 'C';
static FILE *log_stream;

int log_level_parse(const char *name)
{
    static const char *const names[] = {"debug", "info", "notice", "warning"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (!strcasecmp(name, names[i]))
            return (int)i;
    return -1;
}

void log_init(const char *role)
{
    current_role = role && *role ? role[0] : 'C';
    const char *env = getenv("SKYC_LOG");
    if (env) {
        int lvl = log_level_parse(env);
        if (lvl >= 0)
            current_level = (enum log_level)lvl;
    }
}

void log_set_level(enum log_level level)
{
    current_level = level;
}

void log_set_file(FILE *f)
{
    log_stream = f;
}

bool log_enabled(enum log_level level)
{
    return level >= current_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    if (!log_enabled(level))
        return;
    FILE *out = log_stream ? log_stream : stderr;
    struct timeval tv;
    struct tm tm;
    char stamp[64];
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%d %b %Y %H:%M:%S", &tm);

    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(out, "%d:%c %s.%03d %c %s\n", (int)getpid(), current_role, stamp,
            (int)(tv.tv_usec / 1000), marks[level], line);
    fflush(out);
}
