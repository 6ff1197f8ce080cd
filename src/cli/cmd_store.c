/*
 * cmd_store.c - `skyc store <subcommand>`: the storage plane's commands.
 */
#include "core/common.h"
#include "cli/cli.h"

static const struct cli_command store_commands[] = {
    {"sim", cmd_store_sim, "Replay an access trace under placement policies"},
    {"cost", cmd_store_cost, "Show the bill per bucket and region of a state"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_store(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc store", store_commands, argc - 1, argv + 1, err);
}
