/*
 * cli.h - the command table of the one skyc binary (after git's git.c).
 *
 * Each command is a row: a name, a handler in its own cmd_<name>.c file and a
 * one-line summary. A handler gets argv with argv[0] = the command name,
 * parses its own options (cli/options.h), prints data to stdout, and returns
 * an enum skyc_err, which becomes the exit code. On failure it fills err;
 * main() prints "skyc: error: <msg>". Handlers never call exit().
 *
 * Commands with subcommands ("catalog info") keep their own table of rows
 * and call cli_dispatch().
 */
#ifndef SKYC_CLI_CLI_H
#define SKYC_CLI_CLI_H

#include "core/common.h"
#include "core/error.h"

typedef enum skyc_err (*cli_fn)(int argc, const char **argv,
                                struct skyc_error *err);

struct cli_command {
    const char *name;
    cli_fn fn;
    const char *summary;
};

/* The top-level table, NULL-name terminated. */
extern const struct cli_command cli_commands[];

/*
 * Run argv[0] from table; prefix is the command path for messages
 * ("skyc catalog"). With no argv[0], "--help" or "help", prints the table;
 * "help SUB" runs "SUB --help".
 */
enum skyc_err cli_dispatch(const char *prefix,
                           const struct cli_command *table, int argc,
                           const char **argv, struct skyc_error *err);

/* Print "usage: ..." and the table's rows to out. */
void cli_print_table(const char *prefix, const struct cli_command *table,
                     FILE *out);

/* The entry point behind main(): runs one skyc invocation. */
int cli_main(int argc, const char **argv);

/* Handlers of the top-level commands, one file each. */
enum skyc_err cmd_version(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_help(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_catalog(int argc, const char **argv, struct skyc_error *err);

struct catalog;
/* Load the catalog per its search order, with --catalog DIR when given. */
enum skyc_err cli_load_catalog(const char *dir, struct catalog *cat,
                               struct skyc_error *err);
enum skyc_err cmd_optimize(int argc, const char **argv,
                           struct skyc_error *err);
enum skyc_err cmd_launch(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_show_gpus(int argc, const char **argv,
                            struct skyc_error *err);
enum skyc_err cmd_task(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_transfer(int argc, const char **argv,
                           struct skyc_error *err);

/* storage plane: `skyc store` and its subcommands (cmd_store*.c) */
enum skyc_err cmd_store(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_store_sim(int argc, const char **argv,
                            struct skyc_error *err);
enum skyc_err cmd_store_cost(int argc, const char **argv,
                             struct skyc_error *err);
enum skyc_err cmd_store_policy(int argc, const char **argv,
                               struct skyc_error *err);
/* Clusters and jobs (runtime/). */
enum skyc_err cmd_launch_run(int argc, const char **argv,
                             struct skyc_error *err);
enum skyc_err cmd_exec(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_status(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_queue(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_logs(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_cancel(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_stop(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_start(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_down(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_autostop(int argc, const char **argv,
                           struct skyc_error *err);
enum skyc_err cmd_cost_report(int argc, const char **argv,
                              struct skyc_error *err);
enum skyc_err cmd_failover_history(int argc, const char **argv,
                                   struct skyc_error *err);
enum skyc_err cmd_sim(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_agent(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_spot(int argc, const char **argv, struct skyc_error *err);

/* data plane (transfer/) */
enum skyc_err cmd_cp(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_sync(int argc, const char **argv, struct skyc_error *err);
enum skyc_err cmd_gateway(int argc, const char **argv,
                          struct skyc_error *err);
/* The body of cp (sync = false) and sync (sync = true), in cmd_cp.c. */
enum skyc_err cli_copy(int argc, const char **argv, bool sync,
                       struct skyc_error *err);

enum skyc_err cmd_jobs(int argc, const char **argv, struct skyc_error *err);

#endif
