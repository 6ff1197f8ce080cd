/*
 * gcp.c - GCP's GPU VMs: a host machine type plus attached accelerators.
 *
 * GCP's catalog lists accelerators as rows with no InstanceType; a GPU VM
 * costs its host row plus its accelerator row (SkyPilot prices them the same
 * way). Which hosts can carry which GPUs follows GCP's documented machine
 * families: A100 on a2-highgpu/a2-megagpu, A100-80GB on a2-ultragpu, H100 on
 * a3-highgpu, H100-MEGA on a3-megagpu, H200 on a3-ultragpu, B200 on
 * a4-highgpu, L4 on g2-standard, and T4/V100/P100/P4/K80 on any N1 type up
 * to a vCPU limit per GPU count. TPU rows are TPU VMs, priced alone.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "catalog/catalog_internal.h"

/* Fixed pairings: accelerator, count, host machine type. */
static const struct {
    const char *accel;
    float count;
    const char *host;
} fixed_hosts[] = {
    {"A100", 1, "a2-highgpu-1g"},       {"A100", 2, "a2-highgpu-2g"},
    {"A100", 4, "a2-highgpu-4g"},       {"A100", 8, "a2-highgpu-8g"},
    {"A100", 16, "a2-megagpu-16g"},     {"A100-80GB", 1, "a2-ultragpu-1g"},
    {"A100-80GB", 2, "a2-ultragpu-2g"}, {"A100-80GB", 4, "a2-ultragpu-4g"},
    {"A100-80GB", 8, "a2-ultragpu-8g"}, {"H100", 1, "a3-highgpu-1g"},
    {"H100", 2, "a3-highgpu-2g"},       {"H100", 4, "a3-highgpu-4g"},
    {"H100", 8, "a3-highgpu-8g"},       {"H100-MEGA", 8, "a3-megagpu-8g"},
    {"H200", 8, "a3-ultragpu-8g"},      {"B200", 8, "a4-highgpu-8g"},
    {"L4", 1, "g2-standard-4"},         {"L4", 1, "g2-standard-8"},
    {"L4", 1, "g2-standard-12"},        {"L4", 1, "g2-standard-16"},
    {"L4", 1, "g2-standard-32"},        {"L4", 2, "g2-standard-24"},
    {"L4", 4, "g2-standard-48"},        {"L4", 8, "g2-standard-96"},
};

/* N1-attached GPUs: the most vCPUs an N1 host may have per GPU count. */
static const struct {
    const char *accel;
    float count;
    float max_vcpus;
} n1_limits[] = {
    {"T4", 1, 48},   {"T4", 2, 48},   {"T4", 4, 96},    {"V100", 1, 12},
    {"V100", 2, 24}, {"V100", 4, 48}, {"V100", 8, 96},  {"P100", 1, 16},
    {"P100", 2, 32}, {"P100", 4, 64}, {"P4", 1, 24},    {"P4", 2, 48},
    {"P4", 4, 96},   {"K80", 1, 8},   {"K80", 2, 16},   {"K80", 4, 32},
    {"K80", 8, 64},
};

static double add_prices(double a, double b)
{
    return isnan(a) || isnan(b) ? NAN : a + b;
}

static void pair_one(struct catalog *cat, const struct gcp_accel_row *g,
                     const struct catalog_offering *host, uint8_t flags)
{
    struct catalog_offering o = *host;
    o.flags = flags;
    o.accel = g->accel;
    o.accel_count = g->count;
    o.price = add_prices(host->price, g->price);
    o.spot_price = add_prices(host->spot_price, g->spot_price);
    if (isnan(o.price) && isnan(o.spot_price))
        return;
    catalog_add_offer(cat, &o);
}

void catalog_gcp_pair(struct catalog *cat, const struct gcp_accel_row *rows,
                      size_t nrows, size_t first_host, size_t nhosts)
{
    /* Hosts by zone: sort indexes so each accelerator row scans only its
     * zone's hosts. */
    size_t *by_zone = xcalloc(nhosts ? nhosts : 1, sizeof(*by_zone));
    size_t nzones = cat->nzones;
    size_t *zone_start = xcalloc(nzones + 2, sizeof(*zone_start));
    for (size_t i = 0; i < nhosts; i++) {
        uint32_t z = cat->offers[first_host + i].zone;
        zone_start[(z == CATALOG_NONE ? nzones : z) + 1]++;
    }
    for (size_t z = 0; z <= nzones; z++)
        zone_start[z + 1] += zone_start[z];
    size_t *fill = xcalloc(nzones + 1, sizeof(*fill));
    for (size_t i = 0; i < nhosts; i++) {
        uint32_t z = cat->offers[first_host + i].zone;
        size_t zi = z == CATALOG_NONE ? nzones : z;
        by_zone[zone_start[zi] + fill[zi]++] = first_host + i;
    }

    /* what each host name can carry: an N1 host, or one fixed_hosts row */
    enum { HOST_OTHER = -1, HOST_N1 = -2 };
    uint32_t tpu_vm = catalog_intern_name(cat, "TPU-VM");
    size_t nkind = cat->nnames;
    int *kind = xcalloc(nkind + 1, sizeof(*kind));
    for (size_t k = 0; k < nkind; k++) {
        kind[k] = strncmp(cat->names[k], "n1-", 3) ? HOST_OTHER : HOST_N1;
        for (size_t f = 0; f < ARRAY_SIZE(fixed_hosts); f++)
            if (!strcmp(fixed_hosts[f].host, cat->names[k]))
                kind[k] = (int)f;
    }

    for (size_t i = 0; i < nrows; i++) {
        const struct gcp_accel_row *g = &rows[i];
        const char *accel = cat->accels[g->accel];
        if (!strncasecmp(accel, "tpu-", 4)) {
            struct catalog_offering o = {0};
            o.cloud = CLOUD_GCP;
            o.region = g->region;
            o.zone = g->zone;
            o.accel = g->accel;
            o.accel_count = g->count;
            o.vcpus = NAN;
            o.memory_gib = NAN;
            o.price = g->price;
            o.spot_price = g->spot_price;
            o.instance = tpu_vm;
            if (!isnan(o.price) || !isnan(o.spot_price))
                catalog_add_offer(cat, &o);
            continue;
        }
        float max_vcpus = -1;
        for (size_t k = 0; k < ARRAY_SIZE(n1_limits); k++)
            if (!strcasecmp(n1_limits[k].accel, accel) &&
                n1_limits[k].count == g->count)
                max_vcpus = n1_limits[k].max_vcpus;
        size_t zi = g->zone == CATALOG_NONE ? nzones : g->zone;
        for (size_t h = zone_start[zi]; h < zone_start[zi + 1]; h++) {
            /* copy: pair_one may grow (move) the offers array */
            struct catalog_offering host = cat->offers[by_zone[h]];
            if (host.accel != CATALOG_NONE)
                continue;
            int hk = host.instance < nkind ? kind[host.instance] : HOST_OTHER;
            bool ok = false;
            uint8_t flags = 0;
            if (max_vcpus > 0 && hk == HOST_N1) {
                ok = host.vcpus <= max_vcpus;
                if (host.vcpus < SKYC_MIN(8 * g->count, max_vcpus))
                    flags = CATALOG_OFFER_SMALL_HOST;
            } else if (hk >= 0) {
                ok = !strcasecmp(fixed_hosts[hk].accel, accel) &&
                     fixed_hosts[hk].count == g->count;
            }
            if (ok)
                pair_one(cat, g, &host, flags);
        }
    }
    free(by_zone);
    free(zone_start);
    free(fill);

    /* Hosts of the GPU-only families cannot run without their GPUs. */
    size_t w = first_host;
    for (size_t i = first_host; i < cat->noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        bool gpu_only_host = o->accel == CATALOG_NONE &&
                             o->instance < nkind &&
                             kind[o->instance] >= 0;
        if (!gpu_only_host)
            cat->offers[w++] = *o;
    }
    cat->noffers = w;
    free(kind);
}
