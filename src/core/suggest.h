/*
 * suggest.h - "did you mean" for typos in keys, commands and flags.
 */
#ifndef SKYC_CORE_SUGGEST_H
#define SKYC_CORE_SUGGEST_H

#include "core/common.h"

/* Damerau-Levenshtein distance (case-insensitive) between a and b. */
size_t edit_distance(const char *a, const char *b);

/*
 * The candidate nearest to word, or NULL when none is close enough to be a
 * plausible typo (distance at most 2, or a third of the word's length).
 * candidates is a NULL-terminated array; the result points into it.
 */
const char *suggest_nearest(const char *word, const char *const *candidates);

#endif
