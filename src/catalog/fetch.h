/*
 * fetch.h - refresh the catalog cache from SkyPilot's published catalogs.
 *
 * catalog_fetch() downloads BASE/<cloud>/vms.csv for every cloud and
 * BASE/common/accelerators.csv into DEST (by default the XDG cache,
 * ~/.cache/skyc/catalogs/v8). Each download is validated as a catalog before
 * it replaces the old file. A file the user edited since skyc last fetched it
 * (its SHA-256 differs from the one recorded in DEST/.fetched) is kept: the
 * new copy is saved beside it as vms.csv.new and reported, unless force.
 */
#ifndef SKYC_CATALOG_FETCH_H
#define SKYC_CATALOG_FETCH_H

#include "core/common.h"
#include "core/error.h"

#define CATALOG_DEFAULT_URL                                                    \
    "https://raw.githubusercontent.com/skypilot-org/skypilot-catalog/master/" \
    "catalogs/v8"

enum catalog_fetch_outcome {
    FETCH_UPDATED,
    FETCH_KEPT_LOCAL_EDIT,
    FETCH_MISSING, /* the server has no such file (404) */
};

struct catalog_fetch_result {
    char *file; /* relative path, "gcp/vms.csv" */
    enum catalog_fetch_outcome outcome;
    size_t bytes;
};

/*
 * Fetch every file; results[] (caller frees with catalog_fetch_results_free)
 * says what happened to each. Returns the first hard error (network, a
 * malformed download, a write failure); a 404 for one cloud is not one.
 */
enum skyc_err catalog_fetch(const char *base, const char *dest, bool force,
                            struct catalog_fetch_result **results,
                            size_t *nresults, struct skyc_error *err);
void catalog_fetch_results_free(struct catalog_fetch_result *r, size_t n);

#endif
