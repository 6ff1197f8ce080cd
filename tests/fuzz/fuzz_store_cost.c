/* libFuzzer entry for the store's price profiles: any bytes as cost.csv
 * (and, after a NUL, storage.csv) load or fail with a located error. */
#include "core/common.h"
#include "store/cost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct store_cost_model m;
    struct skyc_error err = {0};
    if (size > 64 * 1024)
        return 0;
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t cost_len = nul ? (size_t)(nul - text) : size;
    store_cost_init(&m);
    if (store_cost_load_text(&m, text, cost_len, nul ? nul + 1 : NULL,
                             nul ? size - cost_len - 1 : 0, &err) == SKYC_OK) {
        for (size_t a = 0; a < m.nregions; a++) {
            if (!(m.storage[a] >= 0) || !(m.get_req[a] >= 0) ||
                store_cost_region(&m, m.names[a]) != a)
                abort();
            for (size_t b = 0; b < m.nregions; b++)
                if (!(store_cost_egress(&m, (uint16_t)a, (uint16_t)b) >= 0))
                    abort();
        }
    } else if (strncmp(err.msg, "cost.csv", 8) != 0 &&
               strncmp(err.msg, "storage.csv", 11) != 0) {
        abort();
    }
    store_cost_release(&m);
    return 0;
}
