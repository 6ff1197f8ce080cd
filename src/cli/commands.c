/*
 * commands.c - the rows of the top-level command table. Add a command by
 * writing cmd_<name>.c, declaring its handler in cli.h and adding a row here.
 */
#include "core/common.h"
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
    /* compute */
    {"launch", cmd_launch, "Launch a task (--dryrun: show the plan only)"},
    {"optimize", cmd_optimize, "Plan where a task or DAG runs cheapest"},
    {"show-gpus", cmd_show_gpus, "List GPU offerings and their prices"},
    {"task", cmd_task, "Check task YAML files"},
    {"catalog", cmd_catalog, "Inspect or refresh the price catalogs"},
    /* spot */
    {"spot", cmd_spot, "Simulate deadline-aware spot policies on traces"},
    /* the rest */
    {"help", cmd_help, "Show help for skyc or one command"},
    {"version", cmd_version, "Print skyc's version"},
    {NULL, NULL, NULL},
};
