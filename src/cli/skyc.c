#include "core/common.h"
#include "core/log.h"
#include "core/suggest.h"
#include "cli/cli.h"

#include <locale.h>

static const char *const top_usage =
    "skyc [--version] [--help] <command> [<args>]";

void cli_print_table(const char *prefix, const struct cli_command *table,
                     FILE *out)
{
    int width = 14;
    for (const struct cli_command *c = table; c->name; c++)
        width = SKYC_MAX(width, (int)strlen(c->name));
    fprintf(out, "usage: %s <command> [<args>]\n\ncommands:\n", prefix);
    for (const struct cli_command *c = table; c->name; c++)
        fprintf(out, "   %-*s %s\n", width, c->name, c->summary);
    fprintf(out, "\nSee '%s <command> --help' for one command's options.\n",
            prefix);
}

static const struct cli_command *find_command(const struct cli_command *table,
                                              const char *name)
{
    for (const struct cli_command *c = table; c->name; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

enum skyc_err cli_dispatch(const char *prefix,
                           const struct cli_command *table, int argc,
                           const char **argv, struct skyc_error *err)
{
    if (argc < 1 || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") ||
        (!strcmp(argv[0], "help") && argc == 1 &&
         !find_command(table, "help"))) {
        cli_print_table(prefix, table, stdout);
        return SKYC_OK;
    }
    /* "PREFIX help SUB" is "PREFIX SUB --help", as at the top level */
    if (!strcmp(argv[0], "help") && argc == 2 && !find_command(table, "help")) {
        const char *sub[] = {argv[1], "--help", NULL};
        return cli_dispatch(prefix, table, 2, sub, err);
    }
    const struct cli_command *c = find_command(table, argv[0]);
    if (!c) {
        const char *names[64];
        size_t n = 0;
        for (const struct cli_command *t = table; t->name && n < 63; t++)
            names[n++] = t->name;
        names[n] = NULL;
        const char *near = suggest_nearest(argv[0], names);
        if (near)
            return skyc_fail(err, SKYC_E_USAGE,
                             "'%s' is not a %s command (did you mean '%s'?)",
                             argv[0], prefix, near);
        return skyc_fail(err, SKYC_E_USAGE,
                         "'%s' is not a %s command (see '%s --help')", argv[0],
                         prefix, prefix);
    }
    return c->fn(argc, argv, err);
}

enum skyc_err cmd_version(int argc, const char **argv, struct skyc_error *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    printf("skyc %s\n", SKYC_VERSION);
    return SKYC_OK;
}

enum skyc_err cmd_help(int argc, const char **argv, struct skyc_error *err)
{
    if (argc < 2) {
        fprintf(stdout, "skyc - an intercloud broker: run jobs and move data "
                        "where it is cheapest or fastest\n\n");
        cli_print_table("skyc", cli_commands, stdout);
        fprintf(stdout, "\nExit codes: see 'skyc help exit-codes'.\n");
        return SKYC_OK;
    }
    if (!strcmp(argv[1], "exit-codes")) {
        size_t n;
        const struct skyc_err_info *t = skyc_err_table(&n);
        for (size_t i = 0; i < n; i++)
            printf("%4d  %-12s %s\n", (int)t[i].code, t[i].name, t[i].summary);
        return SKYC_OK;
    }
    const struct cli_command *c = find_command(cli_commands, argv[1]);
    if (!c)
        return cli_dispatch("skyc", cli_commands, 1, argv + 1, err);
    const char *sub[] = {argv[1], "--help", NULL};
    return c->fn(2, sub, err);
}

int cli_main(int argc, const char **argv)
{
    setlocale(LC_NUMERIC, "C");
    log_init("C");
    struct skyc_error err = {0};
    if (argc < 2) {
        fprintf(stderr, "usage: %s\n\n", top_usage);
        cli_print_table("skyc", cli_commands, stderr);
        return SKYC_E_USAGE;
    }
    const char *first = argv[1];
    enum skyc_err rc;
    if (!strcmp(first, "--version") || !strcmp(first, "-V"))
        rc = cmd_version(argc - 1, argv + 1, &err);
    else if (!strcmp(first, "--help") || !strcmp(first, "-h"))
        rc = cmd_help(1, argv + 1, &err);
    else
        rc = cli_dispatch("skyc", cli_commands, argc - 1, argv + 1, &err);

    if (rc != SKYC_OK) {
        if (err.code == SKYC_OK)
            skyc_fail(&err, rc, "%s", skyc_err_summary(rc));
        fprintf(stderr, "skyc: error: %s\n", err.msg);
    }
    fflush(stdout);
    return (int)rc;
}
