/*
 * commands.c - the rows of the top-level command table. Add a command by
 * writing cmd_<name>.c, declaring its handler in cli.h and adding a row here.
 */
#include "core/common.h"
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
    {"help", cmd_help, "Show help for skyc or one command"},
    {"task", cmd_task, "Check task YAML files"},
    {"version", cmd_version, "Print skyc's version"},
    {"catalog", cmd_catalog, "Inspect or refresh the price catalogs"},
    {NULL, NULL, NULL},
};
