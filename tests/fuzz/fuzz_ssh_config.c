/* libFuzzer entry for the ssh provider's host pool file: never a crash,
 * every error located, every host has a name and an address. */
#include "core/common.h"
#include "provision/ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ssh_config cfg;
    struct skyc_error err = {0};
    if (size > 64 * 1024)
        return 0;
    if (ssh_config_parse("fuzz.yaml", (const char *)data, size, &cfg, &err) ==
        SKYC_OK) {
        if (!cfg.nhosts)
            abort();
        for (size_t i = 0; i < cfg.nhosts; i++)
            if (!cfg.hosts[i].name || !cfg.hosts[i].host ||
                cfg.hosts[i].host[0] == '-')
                abort();
        ssh_config_release(&cfg);
    } else if (strncmp(err.msg, "fuzz.yaml:", 10) != 0) {
        abort();
    }
    return 0;
}
