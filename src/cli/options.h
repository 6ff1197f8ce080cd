/*
 * options.h - declarative command-line options (after git's parse-options).
 *
 * A command declares its options as an array of struct option, ending with
 * OPT_END(), right next to its usage strings. parse_options() fills the
 * targets, accepts --long, --long=value, --long value, -s value and
 * clustered short flags, stops at "--", and compacts the positional
 * arguments to the front of argv. "-h"/"--help" prints usage and returns
 * PARSE_OPT_HELP. An unknown option is an error that names the nearest
 * valid one.
 */
#ifndef SKYC_CLI_OPTIONS_H
#define SKYC_CLI_OPTIONS_H

#include "core/common.h"
#include "core/error.h"

enum opt_type {
    OPTION_END,
    OPTION_GROUP,  /* a heading in the help text */
    OPTION_FLAG,   /* bool *, set true */
    OPTION_STRING, /* const char **, points into argv */
    OPTION_INT,    /* long * */
    OPTION_DOUBLE, /* double *, finite */
    OPTION_HOURS,  /* double * hours, from "48h", "30m", "2d", "1.5" */
    OPTION_LIST,   /* struct opt_list *, repeatable */
};

struct opt_list {
    const char **items;
    size_t n, alloc;
};
void opt_list_release(struct opt_list *l);

struct option {
    enum opt_type type;
    int short_name;
    const char *long_name;
    void *value;
    const char *argh; /* placeholder shown in help, e.g. "FILE" */
    const char *help;
};

#define OPT_END() {OPTION_END, 0, NULL, NULL, NULL, NULL}
#define OPT_GROUP(h) {OPTION_GROUP, 0, NULL, NULL, NULL, (h)}
#define OPT_FLAG(s, l, v, h) {OPTION_FLAG, (s), (l), (v), NULL, (h)}
#define OPT_STRING(s, l, v, a, h) {OPTION_STRING, (s), (l), (v), (a), (h)}
#define OPT_INT(s, l, v, a, h) {OPTION_INT, (s), (l), (v), (a), (h)}
#define OPT_DOUBLE(s, l, v, a, h) {OPTION_DOUBLE, (s), (l), (v), (a), (h)}
#define OPT_HOURS(s, l, v, a, h) {OPTION_HOURS, (s), (l), (v), (a), (h)}
#define OPT_LIST(s, l, v, a, h) {OPTION_LIST, (s), (l), (v), (a), (h)}

#define PARSE_OPT_HELP (-1)

/*
 * Parse argv[1..argc-1] (argv[0] is the command name). Returns the number of
 * positional arguments (now in argv[0..n-1]), PARSE_OPT_HELP after printing
 * help to stdout, or -2 after recording a USAGE error in err.
 */
int parse_options(int argc, const char **argv, const struct option *opts,
                  const char *const *usage, struct skyc_error *err);

/* Print the usage lines and the option table to out. */
void usage_with_options(const char *const *usage, const struct option *opts,
                        FILE *out);

#endif
