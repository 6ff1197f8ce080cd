/* libFuzzer entry for the sim provider's fault config: never a crash, and
 * every error is located (file:line:col). */
#include "core/common.h"
#include "provision/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_config cfg;
    struct skyc_error err = {0};
    if (size > 64 * 1024)
        return 0;
    if (sim_config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err) ==
        SKYC_OK) {
        if (!(cfg.time_scale > 0))
            abort();
        for (size_t i = 0; i < cfg.ntraces; i++)
            if (!cfg.traces[i].trace.n || !(cfg.traces[i].trace.gap_s > 0))
                abort();
        sim_config_release(&cfg);
    } else if (strncmp(err.msg, "fuzz.yaml:", 10) != 0) {
        abort();
    }
    return 0;
}
