/*
 * error.h - the one error enum of skyc, and the error report carried with it.
 *
 * SKYC_ERRORS is an X-macro: each row is (NAME, exit code, summary). The
 * enum values ARE the process exit codes of the skyc CLI, documented in the
 * README; never renumber a row, only append. skyc_err_name() and
 * skyc_err_summary() come from the same list.
 *
 * Functions that can fail return enum skyc_err and, when given a non-NULL
 * struct skyc_error, fill it with a one-line message that says what failed,
 * where (file:line:col when there is one) and, where it helps, how to fix it.
 * Library code never prints errors itself; the CLI prints them as
 * "skyc: error: <message>".
 */
#ifndef SKYC_CORE_ERROR_H
#define SKYC_CORE_ERROR_H

#include "core/common.h"

#define SKYC_ERRORS(X)                                                         \
    X(OK, 0, "success")                                                        \
    X(FAILED, 1, "the operation failed")                                       \
    X(USAGE, 2, "bad command-line usage")                                      \
    X(INPUT, 3, "invalid input (task YAML, CSV, trace, request)")              \
    X(NOT_FOUND, 4, "no such file, cluster, job or object")                    \
    X(INFEASIBLE, 5, "no offering satisfies the request")                      \
    X(IO, 6, "file or system error")                                           \
    X(NETWORK, 7, "network or HTTP error")                                     \
    X(CAPACITY, 8, "the provider has no capacity for the request")             \
    X(QUOTA, 9, "a provider quota was exceeded")                               \
    X(AUTH, 10, "authentication or permission failure")                        \
    X(SOLVER, 11, "the optimizer could not solve the problem")                 \
    X(STATE, 12, "the state database is inconsistent or locked")               \
    X(JOB_FAILED, 13, "the job ran and failed")                                \
    X(DEADLINE, 14, "the deadline cannot be met")                              \
    X(INTERNAL, 70, "internal error (a bug in skyc)")                          \
    X(INTERRUPTED, 130, "interrupted")

enum skyc_err {
#define SKYC_ERR_ENUM(name, code, summary) SKYC_E_##name = code,
    SKYC_ERRORS(SKYC_ERR_ENUM)
#undef SKYC_ERR_ENUM
};

#define SKYC_OK SKYC_E_OK

/* A failure report. code is SKYC_OK while nothing failed. */
struct skyc_error {
    enum skyc_err code;
    char msg[1024];
};

/* Upper-case name of the code ("INPUT"), or "UNKNOWN". Never NULL. */
const char *skyc_err_name(enum skyc_err code);
/* One-line summary of the code. Never NULL. */
const char *skyc_err_summary(enum skyc_err code);

/*
 * Record a failure in err (which may be NULL) and return code, so that
 * callers can write: return skyc_fail(err, SKYC_E_INPUT, "%s:%d: ...", ...).
 * The first failure recorded wins; later calls keep it and return code.
 */
enum skyc_err skyc_fail(struct skyc_error *err, enum skyc_err code,
                        const char *fmt, ...) SKYC_PRINTF(3, 4);

/* Forget any recorded failure. */
void skyc_error_clear(struct skyc_error *err);

/* The table of every code, for `skyc help exit-codes` and the docs. */
struct skyc_err_info {
    enum skyc_err code;
    const char *name;
    const char *summary;
};
const struct skyc_err_info *skyc_err_table(size_t *n);

#endif
