/*
 * sim_spawn.h - detached processes with exit codes that any later skyc
 * process can collect; used by the sim and ssh providers.
 *
 * spawn_detached() starts argv under a small "shim" process that is not a
 * child of the caller (double fork, new session): the command runs in its
 * own process group (pgid = the returned pid) with stdout+stderr appended
 * to log_path; the shim waits for it and writes the exit code (128+signal
 * when killed) to REC_DIR/<pid>.exit. REC_DIR/<pid>.shim holds the shim's
 * pid while it lives. So waiting works from any process, after restarts,
 * and killing the group does not lose the code.
 */
#ifndef SKYC_PROVISION_SIM_SPAWN_H
#define SKYC_PROVISION_SIM_SPAWN_H

#include "core/common.h"
#include "core/error.h"
#include "core/strbuf.h"

/*
 * cwd may be NULL (inherit). env: NULL-terminated "NAME=value" added to the
 * environment, or NULL. A command that cannot be executed exits 127 with a
 * line in the log.
 */
enum skyc_err spawn_detached(const char *const *argv, const char *const *env,
                             const char *cwd, const char *log_path,
                             const char *rec_dir, long *pid,
                             struct skyc_error *err);

/*
 * Wait up to timeout_ms (-1 forever, 0 poll). *done false while it runs.
 * A record whose shim vanished without an exit code (its directory was
 * removed, the machine rebooted) ends with 137. alive() is called between
 * polls when given; returning false stops the wait as done with 137.
 */
enum skyc_err spawn_wait(const char *rec_dir, long pid, int timeout_ms,
                         bool *done, int *exit_code,
                         bool (*alive)(void *arg), void *arg,
                         struct skyc_error *err);

/*
 * Run argv to completion with stdin from /dev/null, capturing stdout+stderr
 * (at most 64 KiB kept) into out, killing it after timeout_s seconds
 * (> 0). *code is its exit code, 128+signal, or 124 on timeout. Returns
 * SKYC_E_IO only when it could not start.
 */
enum skyc_err run_capture(const char *const *argv, struct strbuf *out,
                          int *code, double timeout_s, struct skyc_error *err);

/* rm -rf path; 0 or -1 with errno. A missing path is 0. */
int remove_tree(const char *path);

/* Monotonic and wall clocks in seconds. */
double clock_wall(void);

/* Append s shell-quoted ('...') to sb. */
void shell_quote(struct strbuf *sb, const char *s);

#endif
