/*
 * cmd_gateway.c - `skyc gateway --listen HOST:PORT`: the data-plane daemon.
 */
#include "core/common.h"
#include "core/log.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "transfer/gateway.h"

enum skyc_err cmd_gateway(int argc, const char **argv, struct skyc_error *err)
{
    struct gateway_opts go = {0};
    const char *listen = "0.0.0.0:7700";
    long flip = 0, die = 0, buf_mib = 512;
    const char *const usage[] = {
        "skyc gateway [--listen HOST:PORT] [--root DIR]", NULL};
    const struct option opts[] = {
        OPT_STRING(0, "listen", &listen, "HOST:PORT",
                   "address to listen on (default 0.0.0.0:7700; port 0 "
                   "picks one)"),
        OPT_STRING(0, "root", &go.root, "DIR",
                   "only write under DIR (recommended when listening on a "
                   "public address)"),
        OPT_INT(0, "buffer-mib", &buf_mib, "N",
                "MiB of chunks held for writing before reading pauses "
                "(default 512)"),
        OPT_FLAG(0, "exit-with-parent", &go.exit_with_parent,
                 "stop when the parent process exits"),
        OPT_INT(0, "fault-flip-chunk", &flip, "N",
                "testing: flip one bit in the Nth chunk passing through"),
        OPT_INT(0, "fault-exit-chunk", &die, "N",
                "testing: exit abruptly at the Nth chunk passing through"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 0)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    if (buf_mib < 1 || buf_mib > 1 << 20)
        return skyc_fail(err, SKYC_E_USAGE,
                         "--buffer-mib %ld out of range (1 to 1048576)",
                         buf_mib);
    if (flip < 0 || die < 0)
        return skyc_fail(err, SKYC_E_USAGE, "--fault-*-chunk must be >= 0");
    /* a daemon: its start and its final counters are its status */
    if (!getenv("SKYC_LOG"))
        log_set_level(LOG_NOTICE);
    log_init("gateway");
    go.listen = listen;
    go.fault_flip = flip;
    go.fault_exit = die;
    go.max_buffer = (uint64_t)buf_mib << 20;
    return gateway_run(&go, err);
}
