/*
 * strbuf.h - a growable string buffer (after git's strbuf).
 *
 * Invariants: buf is never NULL and always NUL-terminated; len is the length
 * of the string without the NUL; alloc is 0 while buf points at a shared
 * empty string that must not be written. A strbuf is initialised with
 * STRBUF_INIT or strbuf_init(), released with strbuf_release(), and
 * strbuf_detach() is the only way to take ownership of its buffer.
 */
#ifndef SKYC_CORE_STRBUF_H
#define SKYC_CORE_STRBUF_H

#include "core/common.h"

struct strbuf {
    size_t alloc;
    size_t len;
    char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT {0, 0, strbuf_slopbuf}

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
/* Return the buffer (caller frees it) and reset sb to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) SKYC_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    SKYC_PRINTF(2, 0);
/* Append n copies of c. */
void strbuf_addchars(struct strbuf *sb, int c, size_t n);

/* Read the whole file into sb (appending). Returns 0, or -1 with errno. */
int strbuf_read_file(struct strbuf *sb, const char *path);

#endif
