/*
 * logs.c - streaming a job's log file while the agent's processes append
 * to it: read to the end, then poll the file (2 ms while output flows,
 * 10 ms when quiet) and the job's status until the job ends.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <unistd.h>

/* Copy what fd has from here on to out; returns bytes copied. */
static size_t drain(int fd, FILE *out)
{
    char buf[65536];
    size_t total = 0;
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0) {
        fwrite(buf, 1, (size_t)r, out);
        total += (size_t)r;
    }
    if (total)
        fflush(out);
    return total;
}

enum skyc_err rt_tail_job(struct state *st, const char *cluster, long id,
                          bool follow, FILE *out, volatile sig_atomic_t *stop,
                          char **status, int *exit_code,
                          struct skyc_error *err)
{
    struct state_job j;
    enum skyc_err rc = state_job_get(st, cluster, id, &j, err);
    *status = NULL;
    *exit_code = -1;
    if (rc)
        return rc;
    int fd = -1;
    double last_data = state_now(), last_check = 0, last_agent = state_now();
    bool ended = job_status_terminal(j.status);
    for (;;) {
        if (fd < 0)
            fd = open(j.log_path, O_RDONLY | O_CLOEXEC);
        size_t got = fd >= 0 ? drain(fd, out) : 0;
        double now = state_now();
        if (got)
            last_data = now;
        if (ended || !follow) {
            if (fd >= 0)
                drain(fd, out);
            break;
        }
        if (stop && *stop)
            break;
        if (now - last_agent >= 1.0) {
            /* a dead agent would leave the job RUNNING forever */
            struct state_cluster c;
            last_agent = now;
            if (state_cluster_get(st, cluster, &c, NULL) == SKYC_OK) {
                rt_reconcile_cluster(st, &c, stderr);
                state_cluster_release(&c);
            }
        }
        if (now - last_check >= 0.01) {
            struct state_job k;
            last_check = now;
            if (state_job_get(st, cluster, id, &k, NULL) == SKYC_OK) {
                if (job_status_terminal(k.status)) {
                    ended = true; /* one more read picks up the tail */
                    free(j.status);
                    j.status = xstrdup(k.status);
                    j.exit_code = k.exit_code;
                }
                state_job_release(&k);
                if (ended)
                    continue;
            } else {
                /* the cluster went away under us (down, autostop) */
                break;
            }
        }
        usleep(now - last_data < 0.1 ? 2000 : 10000);
    }
    if (fd >= 0)
        close(fd);
    if (ended) {
        *status = xstrdup(j.status);
        *exit_code = j.exit_code;
    }
    state_job_release(&j);
    return SKYC_OK;
}
