/*
 * cmd_store.c - `skyc store <subcommand>`: the storage plane.
 *
 *   skyc store serve --data DIR [--listen HOST:PORT] [--access-key K
 *                    --secret-key S] [--config FILE] [--domain D]
 *
 * serve runs the S3-compatible server (store/server.h) until SIGINT or
 * SIGTERM. It prints one line "listening on http://HOST:PORT" on stdout
 * once it accepts connections (with --listen HOST:0 the port is the one the
 * kernel chose), so scripts can wait for it. A multi-region config
 * ("regions" in --config, see store/server.h) serves one endpoint per
 * region and prints one such line per region, ending " region NAME".
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "store/server.h"

#include <pthread.h>
#include <signal.h>

static enum skyc_err cmd_store_serve(int argc, const char **argv,
                                     struct skyc_error *err)
{
    static const char *const usage[] = {
        "skyc store serve --data DIR [--listen HOST:PORT] "
        "--access-key KEY --secret-key SECRET",
        "skyc store serve --config FILE [--data DIR] [--listen HOST:PORT]",
        NULL};
    const char *data = NULL, *listen = NULL, *ak = NULL, *sk = NULL,
               *config = NULL, *domain = NULL, *region = NULL,
               *loglevel = NULL;
    long threads = 0;
    bool no_fsync = false;
    struct option opts[] = {
        OPT_STRING(0, "data", &data, "DIR", "directory for objects and metadata"),
        OPT_STRING(0, "listen", &listen, "HOST:PORT",
                   "address to serve on (default 127.0.0.1:9000; port 0 = any)"),
        OPT_STRING(0, "access-key", &ak, "KEY", "the access key of one user"),
        OPT_STRING(0, "secret-key", &sk, "SECRET", "that user's secret key"),
        OPT_STRING(0, "config", &config, "FILE",
                   "JSON config: users, region, domain, fsync, threads"),
        OPT_STRING(0, "domain", &domain, "DOMAIN",
                   "serve virtual-host style requests for BUCKET.DOMAIN"),
        OPT_STRING(0, "region", &region, "REGION",
                   "region the buckets report (default us-east-1)"),
        OPT_INT(0, "threads", &threads, "N",
                "a pool of N epoll HTTP threads (default: a thread per "
                "connection)"),
        OPT_FLAG(0, "no-fsync", &no_fsync,
                 "do not fsync (faster; a power loss may lose acknowledged "
                 "writes, a crash of skyc still cannot)"),
        OPT_STRING(0, "log-level", &loglevel, "LEVEL",
                   "debug, info, notice or warning (default notice)"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n == PARSE_OPT_HELP)
        return SKYC_OK;
    if (n < 0)
        return SKYC_E_USAGE;
    if (n)
        return skyc_fail(err, SKYC_E_USAGE,
                         "store serve takes no arguments, got '%s' (usage: %s)",
                         argv[0], usage[0]);
    struct store_config cfg;
    struct store_server *srv = NULL;
    enum skyc_err rc;
    store_config_init(&cfg);
    log_init("store");
    log_set_level(LOG_NOTICE);
    if (loglevel) {
        int lv = log_level_parse(loglevel);
        if (lv < 0) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "unknown log level '%s' (use debug, info, notice "
                           "or warning)",
                           loglevel);
            goto out;
        }
        log_set_level((enum log_level)lv);
    }
    if (config && (rc = store_config_load(&cfg, config, err)))
        goto out;
    if (data) {
        free(cfg.data_dir);
        cfg.data_dir = xstrdup(data);
    }
    if (listen && (rc = store_config_listen(&cfg, listen, err)))
        goto out;
    if (!!ak != !!sk) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "--access-key and --secret-key go together");
        goto out;
    }
    if (ak)
        store_config_add_user(&cfg, ak, sk);
    if (domain) {
        free(cfg.domain);
        cfg.domain = xstrdup(domain);
    }
    if (region) {
        free(cfg.region);
        cfg.region = xstrdup(region);
    }
    if (threads) {
        if (threads < 1 || threads > 256) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "--threads must be 1..256, got %ld", threads);
            goto out;
        }
        cfg.threads = (int)threads;
    }
    if (no_fsync)
        cfg.fsync = false;
    if (!cfg.data_dir) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "store serve needs --data DIR (usage: %s)", usage[0]);
        goto out;
    }
    if (!cfg.nusers) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "store serve needs a user: --access-key KEY "
                       "--secret-key SECRET, or \"users\" in --config");
        goto out;
    }

    /* block the signals before the server's threads start, then wait */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if ((rc = store_server_start(&cfg, &srv, err)))
        goto out;
    if (!cfg.nregions)
        printf("listening on http://%s:%d\n", cfg.listen_host,
               store_server_port(srv));
    for (size_t i = 0; i < cfg.nregions; i++) /* one endpoint per region */
        printf("listening on http://%s:%d region %s\n", cfg.regions[i].host,
               store_server_region_port(srv, i), cfg.regions[i].name);
    fflush(stdout);
    log_notice("serving %s on %s:%d (%zu user%s, fsync %s)", cfg.data_dir,
               cfg.listen_host, store_server_port(srv), cfg.nusers,
               cfg.nusers == 1 ? "" : "s", cfg.fsync ? "on" : "off");
    int sig = 0;
    sigwait(&set, &sig);
    log_notice("signal %d: stopping", sig);
    store_server_stop(srv);
    rc = SKYC_OK;
out:
    store_config_release(&cfg);
    return rc;
}

static const struct cli_command store_commands[] = {
    {"serve", cmd_store_serve, "Serve an S3-compatible object store"},
    {"sim", cmd_store_sim, "Replay an access trace under placement policies"},
    {"cost", cmd_store_cost, "Show the bill per bucket and region of a state"},
    {"policy", cmd_store_policy, "Get or set a bucket's placement policy"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_store(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc store", store_commands, argc - 1, argv + 1, err);
}
