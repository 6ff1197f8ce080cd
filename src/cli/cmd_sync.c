/*
 * cmd_sync.c - `skyc sync SRC DST`: cp -r of what differs (cmd_cp.c).
 */
#include "core/common.h"
#include "cli/cli.h"

enum skyc_err cmd_sync(int argc, const char **argv, struct skyc_error *err)
{
    return cli_copy(argc, argv, true, err);
}
