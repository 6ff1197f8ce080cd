#include "core/common.h"
#include "core/alloc.h"
#include "core/suggest.h"

#include <ctype.h>

size_t edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t *d = xcalloc((n + 1) * (m + 1), sizeof(*d));
#define D(i, j) d[(i) * (m + 1) + (j)]
    for (size_t i = 0; i <= n; i++)
        D(i, 0) = i;
    for (size_t j = 0; j <= m; j++)
        D(0, j) = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]);
            int cb = tolower((unsigned char)b[j - 1]);
            size_t cost = ca != cb;
            size_t best = D(i - 1, j) + 1;
            best = SKYC_MIN(best, D(i, j - 1) + 1);
            best = SKYC_MIN(best, D(i - 1, j - 1) + cost);
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb)
                best = SKYC_MIN(best, D(i - 2, j - 2) + 1);
            D(i, j) = best;
        }
    }
    size_t res = D(n, m);
#undef D
    free(d);
    return res;
}

const char *suggest_nearest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; candidates[i]; i++) {
        size_t dist = edit_distance(word, candidates[i]);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    size_t limit = SKYC_MAX((size_t)2, strlen(word) / 3);
    return best && best_d <= limit && best_d > 0 ? best : NULL;
}
