#include "core/common.h"
#include "cli/offer_format.h"

const char *offer_gpus(const struct catalog *cat,
                       const struct catalog_offering *o, char *buf,
                       size_t size)
{
    if (o->accel == CATALOG_NONE)
        snprintf(buf, size, "-");
    else
        snprintf(buf, size, "%s:%g", cat->accels[o->accel],
                 (double)o->accel_count);
    return buf;
}

void offer_cell_number(struct table *t, double v, int decimals,
                       const char *suffix)
{
    if (isnan(v))
        table_cell(t, "-");
    else if (decimals >= 0)
        table_cellf(t, "%.*f%s", decimals, v, suffix);
    else
        table_cellf(t, "%g%s", v, suffix);
}

json_t *offer_json(const struct catalog *cat, const struct catalog_offering *o)
{
    const char *zone = o->zone == CATALOG_NONE ? NULL
                                               : cat->zones[o->zone].name;
    const char *accel = o->accel == CATALOG_NONE ? NULL
                                                 : cat->accels[o->accel];
    return json_pack(
        "{s:s, s:s, s:s?, s:s, s:o, s:o, s:s?, s:f, s:o, s:o}", "cloud",
        cloud_name((enum cloud)o->cloud), "region",
        cat->regions[o->region].name, "zone", zone, "instance_type",
        cat->names[o->instance], "vcpus", json_number_or_null(o->vcpus),
        "memory_gib", json_number_or_null(o->memory_gib), "accelerator",
        accel, "accelerator_count", (double)o->accel_count, "price",
        json_number_or_null(o->price), "spot_price",
        json_number_or_null(o->spot_price));
}
