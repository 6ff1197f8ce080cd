/*
 * libFuzzer entry for the Skyplane grid readers: any bytes as a throughput
 * grid, and (split at the first NUL) a cost grid over it. Never a crash;
 * every error is located in its file; every accepted grid is well formed.
 */
#include "core/common.h"
#include "transfer/grid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    const char *text = (const char *)data;
    const char *nul = memchr(text, '\0', size);
    size_t tlen = nul ? (size_t)(nul - text) : size;
    struct transfer_grid g;
    struct skyc_error err = {0};
    transfer_grid_init(&g);
    if (transfer_grid_parse_throughput(&g, "t.csv", text, tlen, &err)) {
        if (strncmp(err.msg, "t.csv", 5) != 0)
            abort();
        transfer_grid_release(&g);
        return 0;
    }
    if (!g.n || !g.throughput_rows)
        abort();
    for (size_t i = 0; i < g.n * g.n; i++)
        if (!isnan(g.gbps[i]) && !(g.gbps[i] >= 0))
            abort();
    for (size_t i = 0; i < g.n; i++)
        if (transfer_grid_find(&g, g.regions[i]) != (int)i)
            abort();
    if (nul) {
        skyc_error_clear(&err);
        if (transfer_grid_parse_price(&g, "c.csv", nul + 1, size - tlen - 1,
                                      &err) &&
            strncmp(err.msg, "c.csv", 5) != 0)
            abort();
        for (size_t i = 0; i < g.n * g.n; i++)
            if (!isnan(g.price[i]) && !(g.price[i] >= 0))
                abort();
    }
    transfer_grid_release(&g);
    return 0;
}
