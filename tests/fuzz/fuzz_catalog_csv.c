/*
 * libFuzzer entry for the catalog CSV reader and the cloud row parsers: the
 * first byte picks the cloud, the rest is the file. Any bytes, never a
 * crash; every rejected input names the file and line.
 */
#include "core/common.h"
#include "catalog/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct catalog cat;
    struct skyc_error err = {0};
    if (size < 1 || size > 64 * 1024)
        return 0;
    enum cloud c = (enum cloud)(data[0] % CLOUD_COUNT);
    catalog_init(&cat);
    if (catalog_load_csv(&cat, c, "fuzz.csv", (const char *)data + 1,
                         size - 1, &err) == SKYC_OK) {
        for (size_t i = 0; i < cat.noffers; i++) {
            const struct catalog_offering *o = &cat.offers[i];
            if (o->region >= cat.nregions || o->cloud != c)
                abort();
            if (o->zone != CATALOG_NONE && o->zone >= cat.nzones)
                abort();
        }
    } else if (strncmp(err.msg, "fuzz.csv", 8) != 0) {
        abort(); /* every input error is located */
    }
    catalog_release(&cat);
    return 0;
}
