/* libFuzzer entry for the sim provider's own spot trace reader (both
 * polarities): never a crash; a trace read has ticks >= 0. */
#include "core/common.h"
#include "provision/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024)
        return 0;
    for (int pol = -1; pol <= 1; pol++) {
        struct sim_trace tr;
        struct skyc_error err = {0};
        if (sim_trace_parse("fuzz.json", (const char *)data, size, pol, &tr,
                            &err) == SKYC_OK) {
            if (!tr.n || !(tr.gap_s > 0))
                abort();
            for (long k = -3; k < 3; k++)
                if (sim_trace_at(&tr, k) < 0)
                    abort();
            sim_trace_release(&tr);
        } else if (strncmp(err.msg, "fuzz.json", 9) != 0) {
            abort();
        }
    }
    return 0;
}
