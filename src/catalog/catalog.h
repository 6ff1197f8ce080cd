/*
 * catalog.h - the compatibility set: every cloud's offerings and prices.
 *
 * A catalog is built once (catalog_load) and then only read. It owns all its
 * memory: offerings, regions, zones and names live in flat arrays and one
 * string pool, freed by catalog_release(). Indexes into those arrays are
 * stable for the catalog's life.
 *
 * Sources, per cloud, in this order (the first that has the cloud's
 * vms.csv wins): --catalog DIR, $SKYC_CATALOG_DIR, the XDG cache
 * (~/.cache/skyc/catalogs/v8, where `skyc catalog fetch` writes), then the
 * built-in sample (a few dozen hand-made rows of public list prices, so a
 * fresh machine works offline). A directory uses SkyPilot's layout:
 * DIR/<cloud>/vms.csv and DIR/common/accelerators.csv.
 *
 * Prices: `price` is on-demand $/hour for the whole VM (for GCP GPU VMs the
 * host row plus the accelerator row, as SkyPilot prices them); `spot_price`
 * is NaN where the cloud sells no spot for it. Azure has no zones (zone is
 * CATALOG_NONE).
 */
#ifndef SKYC_CATALOG_CATALOG_H
#define SKYC_CATALOG_CATALOG_H

#include "core/common.h"
#include "core/error.h"

#define CATALOG_NONE UINT32_MAX

enum cloud {
    CLOUD_AWS,
    CLOUD_GCP,
    CLOUD_AZURE,
    CLOUD_LAMBDA,
    CLOUD_VAST,
    CLOUD_COUNT
};

/* "aws", "gcp", ... ; NULL for an out-of-range value. */
const char *cloud_name(enum cloud c);
/* Case-insensitive; -1 when unknown. */
int cloud_parse(const char *name);

struct catalog_offering {
    uint32_t instance; /* names[] index of the instance type */
    uint32_t region;   /* regions[] index */
    uint32_t zone;     /* zones[] index, or CATALOG_NONE */
    uint32_t accel;    /* accels[] index, or CATALOG_NONE */
    uint8_t cloud;     /* enum cloud */
    uint8_t flags;     /* CATALOG_OFFER_* */
    float accel_count;
    float vcpus;      /* NaN when the catalog does not say */
    float memory_gib; /* NaN when the catalog does not say */
    double price;      /* on-demand $/h; NaN when not sold on demand */
    double spot_price; /* spot $/h; NaN when no spot */
};

/*
 * A GPU VM whose host was picked freely from a family (GCP N1 + GPU) and is
 * smaller than the host SkyPilot would choose by default (8 vCPUs per GPU,
 * within GCP's limit). Planners use it only when the task asks for cpus or
 * memory explicitly.
 */
#define CATALOG_OFFER_SMALL_HOST 0x1

struct catalog_region {
    uint8_t cloud;
    const char *name;
};

struct catalog_zone {
    uint32_t region;
    const char *name;
};

/* Where one cloud's offerings came from. */
struct catalog_source {
    bool loaded;
    char *path; /* the file read, or "built-in sample (DATE)" */
    bool builtin;
    size_t rows;    /* CSV data rows read */
    size_t offers;  /* offerings made from them */
    time_t mtime;   /* file modification time, 0 for built-in */
};

struct catalog {
    struct catalog_offering *offers;
    size_t noffers, offers_alloc;
    struct catalog_region *regions;
    size_t nregions, regions_alloc;
    struct catalog_zone *zones;
    size_t nzones, zones_alloc;
    const char **names; /* instance type names */
    size_t nnames, names_alloc;
    const char **accels; /* canonical accelerator names */
    size_t naccels, accels_alloc;
    struct catalog_source sources[CLOUD_COUNT];
    char *accelerators_path; /* canonical-name list used, or NULL */
    struct catalog_egress *egress; /* lazily built price/bandwidth tables */
    struct catalog_pool *pool;     /* owns every string above */
    struct catalog_intern *intern; /* string -> index maps while loading */
};

struct catalog_options {
    const char *dir;     /* --catalog DIR, or NULL */
    bool builtin_only;   /* ignore every directory: the built-in sample */
    const char *shared;  /* shared data dir for the egress grid, or NULL */
};

/*
 * Load every cloud per the search order above. Returns SKYC_E_INPUT with
 * "FILE:LINE: what" for a malformed file, SKYC_E_NOT_FOUND when --catalog
 * names a missing directory. On failure the catalog is released.
 */
enum skyc_err catalog_load(struct catalog *cat,
                           const struct catalog_options *opts,
                           struct skyc_error *err);

/* Load one cloud from CSV text (used by tests and the fuzz target). */
enum skyc_err catalog_load_csv(struct catalog *cat, enum cloud cloud,
                               const char *name, const char *text, size_t len,
                               struct skyc_error *err);

void catalog_init(struct catalog *cat);
void catalog_release(struct catalog *cat);

/*
 * The canonical spelling of an accelerator name, case-insensitively
 * ("a100" -> "A100", "h100-mega" -> "H100-MEGA"), from the accelerators
 * list and the names in the loaded offerings; NULL when unknown.
 */
const char *catalog_accelerator_canonical(const struct catalog *cat,
                                          const char *name);
/* Index of a canonical accelerator name, or CATALOG_NONE. */
uint32_t catalog_accel_index(const struct catalog *cat, const char *name);

/* Region index by cloud and name, or CATALOG_NONE. */
uint32_t catalog_region_index(const struct catalog *cat, enum cloud c,
                              const char *name);

/* "gcp/us-central1" or "gcp/us-central1/us-central1-a" into buf. */
const char *catalog_offer_infra(const struct catalog *cat,
                                const struct catalog_offering *o, char *buf,
                                size_t size);

/*
 * Egress price in $/GB for moving data from region a to region b (indexes
 * into regions[]): 0 within one region; from Skyplane's measured cost grid
 * ($SKYC_SHARED_DATA/skyplane/cost_grid_2022-11.csv) when both regions are in
 * it; else built-in per-cloud tiers (inter-region within a cloud is priced,
 * unlike SkyPilot). Never negative.
 */
double catalog_egress_price(struct catalog *cat, uint32_t a, uint32_t b);

/*
 * Assumed bandwidth in Gbit/s from region a to b: the Skyplane throughput
 * grid when both are in it, else per-cloud defaults. Always > 0.
 */
double catalog_bandwidth_gbps(struct catalog *cat, uint32_t a, uint32_t b);

/*
 * The built-in per-cloud egress tier in $/GB from a region of cloud `from`
 * to one of cloud `to` (a different region), used where no grid names the
 * pair.
 */
double catalog_egress_tier_price(enum cloud from, enum cloud to);

/* Where the egress prices come from, for `catalog info`. */
const char *catalog_egress_source(struct catalog *cat);

#endif
