/*
 * catalog_internal.h - what the catalog's own files share; not for users of
 * the catalog (they include catalog.h).
 */
#ifndef SKYC_CATALOG_INTERNAL_H
#define SKYC_CATALOG_INTERNAL_H

#include "catalog/catalog.h"
#include "core/strmap.h"

struct catalog_pool {
    struct arena arena;
};

struct catalog_intern {
    struct strmap regions; /* "cloud\x1fregion" -> regions[] */
    struct strmap zones;   /* "region#\x1fzone" -> zones[] */
    struct strmap names;   /* instance type -> names[] */
    struct strmap accels;  /* canonical accelerator -> accels[] */
};

uint32_t catalog_intern_region(struct catalog *cat, enum cloud c,
                               const char *name);
uint32_t catalog_intern_zone(struct catalog *cat, uint32_t region,
                             const char *name);
uint32_t catalog_intern_name(struct catalog *cat, const char *name);
uint32_t catalog_intern_accel(struct catalog *cat, const char *name);
void catalog_add_offer(struct catalog *cat, const struct catalog_offering *o);

/*
 * GCP prices GPU VMs as a host row plus an accelerator row: pair each
 * accelerator row with the host types that can carry it in the same zone.
 */
struct gcp_accel_row {
    uint32_t accel, zone, region;
    float count;
    double price, spot_price;
};
void catalog_gcp_pair(struct catalog *cat, const struct gcp_accel_row *rows,
                      size_t nrows, size_t first_host, size_t nhosts);

/* The built-in sample CSV of a cloud (SkyPilot format), or NULL. */
const char *catalog_builtin_csv(enum cloud c, const char **date);

void catalog_egress_free(struct catalog_egress *e);

/*
 * The binary cache of a loaded catalog (cache.c). key names every source
 * with its size and mtime. load returns false, leaving partial contents the
 * caller must release, when the file is missing, stale or damaged.
 */
bool catalog_cache_load(struct catalog *cat, const char *key,
                        const char *path);
void catalog_cache_save(const struct catalog *cat, const char *key,
                        const char *path);

#endif
