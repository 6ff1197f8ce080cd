/*
 * cost.h - what storing, moving and serving bytes costs in each region: the
 * price model behind the store's placement policies and its bill.
 *
 * Prices come from SkyStore's profiles ($SKYC_SHARED_DATA/skystore/profiles,
 * see its SOURCE.md), read in place:
 *   - cost.csv (src,dest,cost): egress $/GB for ordered region pairs; the
 *     set of regions the model knows is the set of regions named there.
 *   - storage.csv: Group=storage, Tier in {General Purpose, Hot} (S3
 *     Standard, Azure Hot), the first volume tier (StartingRange 0), in
 *     $/GB-month; Group=get request / put request of the same tier, $/request.
 * The profile has no GCP rows: GCP regions get GCP's Standard-storage list
 * price of its cheapest regions, $0.020/GB-month, Class A (put) $5e-6 and
 * Class B (get) $4e-7 per request. A region that storage.csv omits gets its
 * cloud's US list price (aws $0.023, azure $0.0208, gcp $0.020 per
 * GB-month; $4e-7 per GET, $5e-6 per PUT). Egress within one region is
 * free. cost.csv is the same grid as the catalog's Skyplane cost grid (all
 * 4,970 pairs agree); a pair it omits gets the catalog's per-cloud tier
 * (catalog_egress_tier_price(): $0.02/GB within a cloud, $0.09-0.12 across).
 *
 * Units: GB = 10^9 bytes, a month = 30 days (2,592,000 s). Ingress is free.
 *
 * Region names are "cloud:region" as in cost.csv ("aws:us-east-1",
 * "azure:eastus", "gcp:europe-west1-b"); a GCP region may also be named
 * without its zone letter ("gcp:europe-west1"). Indexes are stable for the
 * model's life. The model owns all its memory; store_cost_release() frees it.
 */
#ifndef SKYC_STORE_COST_H
#define SKYC_STORE_COST_H

#include "core/common.h"
#include "core/error.h"
#include "core/strmap.h"

#define STORE_GB 1e9
#define STORE_MONTH_S (30.0 * 86400.0)
#define STORE_NO_REGION UINT16_MAX

struct store_cost_model {
    char **names; /* canonical region names, nregions */
    size_t nregions, names_alloc;
    double *storage;   /* $/GB-month, per region */
    double *get_req;   /* $ per GET request, per region */
    double *put_req;   /* $ per PUT request, per region */
    double *egress;    /* $/GB, nregions * nregions, [src * n + dst] */
    struct strmap index; /* name and GCP alias -> region */
    char *source;        /* directory the profiles were read from */
};

void store_cost_init(struct store_cost_model *m);
void store_cost_release(struct store_cost_model *m);

/*
 * Read DIR/cost.csv and DIR/storage.csv. NULL dir means
 * $SKYC_SHARED_DATA/skystore/profiles. Returns SKYC_E_NOT_FOUND when a file
 * is missing and SKYC_E_INPUT with "FILE:LINE: what" when one is malformed;
 * on failure the model is left empty (still call store_cost_release()).
 */
enum skyc_err store_cost_load(struct store_cost_model *m, const char *dir,
                              struct skyc_error *err);

/*
 * Build a model from CSV text (tests, fuzzing): the same rules as
 * store_cost_load(). storage_csv may be NULL (then every region gets its
 * cloud's built-in default).
 */
enum skyc_err store_cost_load_text(struct store_cost_model *m,
                                   const char *cost_csv, size_t cost_len,
                                   const char *storage_csv,
                                   size_t storage_len,
                                   struct skyc_error *err);

/* Region index of name, or STORE_NO_REGION. */
uint16_t store_cost_region(const struct store_cost_model *m,
                           const char *name);

static inline const char *store_cost_region_name(
    const struct store_cost_model *m, uint16_t r)
{
    return r < m->nregions ? m->names[r] : "?";
}

/* $/GB from src to dst; 0 when src == dst. */
static inline double store_cost_egress(const struct store_cost_model *m,
                                       uint16_t src, uint16_t dst)
{
    return src == dst ? 0.0 : m->egress[(size_t)src * m->nregions + dst];
}

/* $ per byte-second of storage in region r. */
static inline double store_cost_storage_per_byte_s(
    const struct store_cost_model *m, uint16_t r)
{
    return m->storage[r] / STORE_GB / STORE_MONTH_S;
}

#endif
