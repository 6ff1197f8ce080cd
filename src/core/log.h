/*
 * log.h - the one logger of skyc.
 *
 * Lines go to stderr (or the file set with log_set_file) in one fixed format,
 * after redis' serverLogRaw:
 *     <pid>:<role> <dd Mon yyyy hh:mm:ss.mmm> <level-char> <message>
 * with level chars '.' debug, '-' info, '*' notice, '#' warning.
 * The level comes from $SKYC_LOG (debug|info|notice|warning) or
 * log_set_level(); the default is warning, so a CLI run is quiet.
 */
#ifndef SKYC_CORE_LOG_H
#define SKYC_CORE_LOG_H

#include "core/common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING };

void log_init(const char *role);
void log_set_level(enum log_level level);
/* Parse "debug", "info", ...; returns -1 for an unknown name. */
int log_level_parse(const char *name);
/* Log to this stream instead of stderr; the caller keeps ownership. */
void log_set_file(FILE *f);
bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...) SKYC_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)

#endif
