/* libFuzzer entry for the spot trace reader: any bytes, never a crash; a
 * parsed trace is well formed and a rejected one names its file. */
#include "core/common.h"
#include "spot/sim.h"
#include "spot/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct spot_trace t;
    struct skyc_error err = {0};
    if (size > 64 * 1024)
        return 0;
    /* the first byte picks the format and node count */
    struct trace_read_opts o = {TRACE_AUTO, 1};
    if (size > 0) {
        o.format = (enum trace_format)(data[0] % 3);
        o.nodes = 1 + data[0] / 3 % 4;
        data++;
        size--;
    }
    if (spot_trace_parse(&t, (const char *)data, size, "fuzz.json", &o,
                         &err) == SKYC_OK) {
        if (!t.n || !(t.gap > 0) || !t.avail || t.format == TRACE_AUTO)
            abort();
        for (size_t i = 0; i < t.n; i++)
            if (t.avail[i] > 1)
                abort();
        /* and the simulator runs on it without trouble */
        struct spot_window w = {.nzones = 1, .gap = t.gap, .n = t.n};
        w.avail[0] = t.avail;
        struct spot_job job = {4 * t.gap, 10 * t.gap, t.gap / 2, 3.0, 1.0};
        struct spot_policy p;
        spot_policy_init(&p, SPOT_POL_UP);
        struct spot_run r;
        spot_simulate(&p, &job, &w, &r, NULL, 0, NULL);
        if (r.missed && t.gap >= 1)
            abort(); /* uniform progress never misses a feasible deadline */
        spot_trace_release(&t);
    } else if (strncmp(err.msg, "fuzz.json", 9) != 0) {
        abort(); /* every input error is located */
    }
    return 0;
}
