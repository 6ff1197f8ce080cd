/*
 * alloc.h - checked allocation. These never return NULL: on exhaustion they
 * print "skyc: fatal: out of memory" and exit with SKYC_E_INTERNAL, as git's
 * xmalloc does. Free with free().
 */
#ifndef SKYC_CORE_ALLOC_H
#define SKYC_CORE_ALLOC_H

#include "core/common.h"

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Reallocate ptr to hold nmemb elements of size bytes, checking overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
/* xstrdup(s), or NULL for a NULL s. */
char *xstrdup_or_null(const char *s);
char *xstrndup(const char *s, size_t n);
/* A new string formatted like printf. */
char *xasprintf(const char *fmt, ...) SKYC_PRINTF(1, 2);

/* free(p) and set p to NULL. */
#define FREE_AND_NULL(p)                                                       \
    do {                                                                       \
        free(p);                                                               \
        (p) = NULL;                                                            \
    } while (0)

/*
 * Grow an array to hold at least n elements: ALLOC_GROW(arr, n, alloc) with
 * alloc the current capacity (updated). Amortised doubling.
 */
#define ALLOC_GROW(arr, n, alloc)                                              \
    do {                                                                       \
        if ((size_t)(n) > (size_t)(alloc)) {                                   \
            size_t new_alloc_ = (size_t)(alloc) * 2 + 16;                      \
            if (new_alloc_ < (size_t)(n))                                      \
                new_alloc_ = (size_t)(n);                                      \
            (arr) = xreallocarray((arr), new_alloc_, sizeof(*(arr)));          \
            (alloc) = new_alloc_;                                              \
        }                                                                      \
    } while (0)

#endif
