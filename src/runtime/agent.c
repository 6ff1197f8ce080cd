/*
 * agent.c - the one agent process of a cluster (`skyc agent NAME`).
 *
 * It owns the cluster's job queue: it takes PENDING jobs in id order (FIFO;
 * a job that does not fit waits, and so does everything behind it), runs
 * their setup then run on every node through the provider, with per-node
 * CPU/GPU accounting, writes each job's status as it moves through
 * PENDING -> SETTING_UP -> RUNNING -> SUCCEEDED / FAILED / FAILED_SETUP /
 * CANCELLED, kills a job's process group on every node when asked to cancel
 * it (or when one node's run fails), and stops or tears the cluster down
 * after autostop_minutes without jobs.
 *
 * CLI commands talk to it only through the state database plus SIGUSR1
 * ("look again"); SIGTERM makes it cancel what runs and exit. It sleeps in
 * poll() on a signalfd (SIGCHLD wakes it when a local job ends).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "provision/sim.h"
#include "runtime/runtime.h"
#include "state/db.h"

#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define CANCEL_GRACE_S 3.0

struct agent_proc {
    struct provider_proc p;
    bool done;
    int code;
};

enum job_phase { PHASE_SETUP, PHASE_RUN };

struct agent_job {
    struct state_job j; /* as loaded when it started */
    enum job_phase phase;
    struct agent_proc *procs; /* one per node */
    size_t nprocs;
    bool cancelling, killed, failing;
    int fail_code; /* exit code of the first node that failed on its own */
    double signalled_at;
};

struct agent {
    struct state st;
    struct rt_cluster rc;
    struct agent_job *jobs;
    size_t njobs, jobs_alloc;
    double idle_since;
    double last_autostop;
    int sfd;
    bool dirty; /* a job ended or moved on: schedule() again */
};

static void job_log(const struct agent_job *aj, const char *fmt, ...)
    SKYC_PRINTF(2, 3);
static void job_log(const struct agent_job *aj, const char *fmt, ...)
{
    int fd = open(aj->j.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                  0600);
    if (fd < 0)
        return;
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    strbuf_addch(&sb, '\n');
    if (write(fd, sb.buf, sb.len) < 0)
        log_warning("cannot write to %s: %s", aj->j.log_path, strerror(errno));
    close(fd);
    strbuf_release(&sb);
}

static void save_procs(struct agent *a, struct agent_job *aj)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < aj->nprocs; i++)
        if (aj->procs[i].p.pid > 0)
            json_array_append_new(
                arr, json_pack("{s:s, s:I}", "node", aj->procs[i].p.node_id,
                               "pid", (json_int_t)aj->procs[i].p.pid));
    free(aj->j.procs);
    aj->j.procs = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    struct skyc_error e = {0};
    if (state_job_update(&a->st, &aj->j, &e))
        log_warning("%s", e.msg);
}

static void free_procs(struct agent_job *aj)
{
    for (size_t i = 0; i < aj->nprocs; i++)
        provider_proc_release(&aj->procs[i].p);
    FREE_AND_NULL(aj->procs);
    aj->nprocs = 0;
}

static void signal_job(struct agent *a, struct agent_job *aj, int signo)
{
    for (size_t i = 0; i < aj->nprocs; i++)
        if (!aj->procs[i].done && aj->procs[i].p.pid > 0)
            a->rc.prov.ops->kill(&a->rc.prov, &aj->procs[i].p, signo, NULL);
    aj->signalled_at = state_now();
}

/* The environment of one node's process (runtime.h rt_node_env). */
static char **node_env(struct agent *a, const struct agent_job *aj,
                       size_t rank)
{
    return rt_node_env(&a->rc, aj->j.envs, rank, aj->j.id, aj->j.gpus);
}

/* Start the job's current phase on every node; false when it could not. */
static bool start_phase(struct agent *a, struct agent_job *aj)
{
    const char *script = aj->phase == PHASE_SETUP ? aj->j.setup : aj->j.run;
    size_t n = a->rc.nnodes;
    free_procs(aj);
    aj->procs = xcalloc(n, sizeof(*aj->procs));
    aj->nprocs = n;
    bool ok = true;
    for (size_t r = 0; r < n && ok; r++) {
        struct provider_node pn;
        rt_node_view(&a->rc.nodes[r], &pn);
        char **env = node_env(a, aj, r);
        char label[96];
        snprintf(label, sizeof(label), "%s, rank=%zu", r ? "worker" : "head",
                 r);
        /* with several nodes each output line says which node wrote it */
        const char *multi[] = {
            "/bin/bash", "-c",
            "set -o pipefail; /bin/bash -c \"$0\" 2>&1 | "
            "sed -u \"s/^/($1) /\"; exit ${PIPESTATUS[0]}",
            script, label, NULL};
        const char *single[] = {"/bin/bash", "-c", script, NULL};
        struct skyc_error e = {0};
        if (a->rc.prov.ops->run(&a->rc.prov, &pn,
                                n > 1 ? multi : single,
                                (const char *const *)env, NULL,
                                aj->j.log_path, &aj->procs[r].p, &e)) {
            job_log(aj, "skyc: error: cannot start the job on node %zu (%s): "
                        "%s",
                    r, pn.id, e.msg);
            aj->procs[r].done = true;
            aj->procs[r].code = 255;
            ok = false;
        }
        rt_env_free(env);
    }
    save_procs(a, aj);
    if (!ok) {
        signal_job(a, aj, SIGKILL);
        aj->failing = true;
    }
    return ok;
}

static void finish_job(struct agent *a, size_t idx, const char *status,
                       int code)
{
    struct agent_job *aj = &a->jobs[idx];
    free(aj->j.status);
    aj->j.status = xstrdup(status);
    aj->j.exit_code = code;
    aj->j.ended_at = state_now();
    struct skyc_error e = {0};
    if (state_job_update(&a->st, &aj->j, &e))
        log_warning("%s", e.msg);
    log_info("job %ld %s (exit %d)", aj->j.id, status, code);
    free_procs(aj);
    state_job_release(&aj->j);
    a->jobs[idx] = a->jobs[--a->njobs];
    a->dirty = true;
    if (!a->njobs)
        a->idle_since = state_now();
}

static void record_setup_done(struct agent *a, const struct agent_job *aj)
{
    char hash[17];
    rt_hash_hex(aj->j.setup, hash);
    struct state_cluster c;
    if (state_cluster_get(&a->st, a->rc.c.name, &c, NULL))
        return;
    free(c.setup_hash);
    c.setup_hash = xstrdup(hash);
    state_cluster_update(&a->st, &c, NULL);
    state_cluster_release(&c);
}

/* Reap finished processes and move jobs along. */
static void advance(struct agent *a)
{
    for (size_t i = 0; i < a->njobs;) {
        struct agent_job *aj = &a->jobs[i];
        bool all_done = true;
        for (size_t r = 0; r < aj->nprocs; r++) {
            struct agent_proc *ap = &aj->procs[r];
            if (ap->done)
                continue;
            bool done = false;
            int code = -1;
            a->rc.prov.ops->wait(&a->rc.prov, &ap->p, 0, &done, &code, NULL);
            if (done) {
                ap->done = true;
                ap->code = code;
                /* one node failing fails the job: stop the others */
                if (code && !aj->failing && !aj->cancelling) {
                    aj->failing = true;
                    aj->fail_code = code;
                    signal_job(a, aj, SIGTERM);
                }
            } else
                all_done = false;
        }
        if (!all_done) {
            if ((aj->cancelling || aj->failing) && !aj->killed &&
                state_now() - aj->signalled_at > CANCEL_GRACE_S) {
                signal_job(a, aj, SIGKILL);
                aj->killed = true;
            }
            i++;
            continue;
        }
        int code = aj->fail_code;
        for (size_t r = 0; r < aj->nprocs && !code; r++)
            code = aj->procs[r].code;
        if (aj->cancelling) {
            finish_job(a, i, JOB_CANCELLED, code);
            continue;
        }
        if (aj->phase == PHASE_SETUP) {
            if (code) {
                job_log(aj, "skyc: error: setup failed with exit code %d",
                        code);
                finish_job(a, i, JOB_FAILED_SETUP, code);
                continue;
            }
            record_setup_done(a, aj);
            bool moved = false;
            state_job_transition(&a->st, aj->j.cluster, aj->j.id,
                                 JOB_SETTING_UP, JOB_RUNNING, &moved, NULL);
            free(aj->j.status);
            aj->j.status = xstrdup(JOB_RUNNING);
            aj->j.started_at = state_now();
            aj->phase = PHASE_RUN;
            if (!aj->j.run) {
                finish_job(a, i, JOB_SUCCEEDED, 0);
                continue;
            }
            if (!start_phase(a, aj)) {
                i++;
                continue;
            }
            i++;
            continue;
        }
        finish_job(a, i, code ? JOB_FAILED : JOB_SUCCEEDED, code);
    }
}

static bool job_active(const struct agent *a, long id)
{
    for (size_t i = 0; i < a->njobs; i++)
        if (a->jobs[i].j.id == id)
            return true;
    return false;
}

/* Cancel requests, then FIFO scheduling of pending jobs. */
static void schedule(struct agent *a)
{
    struct state_job *jobs = NULL;
    size_t n = 0;
    struct skyc_error e = {0};
    if (state_job_list(&a->st, a->rc.c.name, true, &jobs, &n, &e)) {
        log_warning("%s", e.msg);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        if (!jobs[k].cancel_requested)
            continue;
        for (size_t i = 0; i < a->njobs; i++) {
            struct agent_job *aj = &a->jobs[i];
            if (aj->j.id == jobs[k].id && !aj->cancelling) {
                aj->cancelling = true;
                aj->j.cancel_requested = true;
                job_log(aj, "skyc: job %ld cancelled", aj->j.id);
                signal_job(a, aj, SIGTERM);
            }
        }
        if (!strcmp(jobs[k].status, JOB_PENDING)) {
            bool moved;
            state_job_transition(&a->st, a->rc.c.name, jobs[k].id,
                                 JOB_PENDING, JOB_CANCELLED, &moved, NULL);
            jobs[k].cancel_requested = false;
            free(jobs[k].status);
            jobs[k].status = xstrdup(JOB_CANCELLED);
        }
    }
    double cap_cpu = a->rc.c.cpus, cap_gpu = a->rc.c.gpus;
    double used_cpu = 0, used_gpu = 0;
    for (size_t i = 0; i < a->njobs; i++) {
        used_cpu += a->jobs[i].j.cpus;
        used_gpu += a->jobs[i].j.gpus;
    }
    for (size_t k = 0; k < n; k++) {
        struct state_job *j = &jobs[k];
        if (strcmp(j->status, JOB_PENDING) || job_active(a, j->id))
            continue;
        if ((cap_cpu > 0 && j->cpus > cap_cpu + 1e-9) ||
            (j->gpus > 0 && j->gpus > cap_gpu + 1e-9)) {
            struct agent_job tmp = {.j = *j};
            job_log(&tmp,
                    "skyc: error: job %ld needs %g CPUs and %g GPUs per "
                    "node; the cluster's nodes have %g and %g",
                    j->id, j->cpus, j->gpus, cap_cpu, cap_gpu);
            bool moved;
            state_job_transition(&a->st, a->rc.c.name, j->id, JOB_PENDING,
                                 JOB_FAILED, &moved, NULL);
            continue;
        }
        if ((cap_cpu > 0 && used_cpu + j->cpus > cap_cpu + 1e-9) ||
            (j->gpus > 0 && used_gpu + j->gpus > cap_gpu + 1e-9))
            break; /* FIFO: everything behind waits too */
        const char *to = j->setup ? JOB_SETTING_UP : JOB_RUNNING;
        bool moved = false;
        if (state_job_transition(&a->st, a->rc.c.name, j->id, JOB_PENDING, to,
                                 &moved, &e) ||
            !moved)
            continue;
        ALLOC_GROW(a->jobs, a->njobs + 1, a->jobs_alloc);
        struct agent_job *aj = &a->jobs[a->njobs++];
        memset(aj, 0, sizeof(*aj));
        aj->j = *j;
        memset(j, 0, sizeof(*j)); /* ownership moved */
        free(aj->j.status);
        aj->j.status = xstrdup(to);
        aj->j.started_at = state_now();
        aj->phase = aj->j.setup ? PHASE_SETUP : PHASE_RUN;
        used_cpu += aj->j.cpus;
        used_gpu += aj->j.gpus;
        log_info("job %ld starts (%s)", aj->j.id, to);
        if (!aj->j.run && !aj->j.setup) {
            finish_job(a, a->njobs - 1, JOB_SUCCEEDED, 0);
            continue;
        }
        start_phase(a, aj);
    }
    state_job_list_free(jobs, n);
}

/* Cancel everything, wait for it to end, exit. */
static void shutdown_jobs(struct agent *a)
{
    for (size_t i = 0; i < a->njobs; i++) {
        a->jobs[i].cancelling = true;
        signal_job(a, &a->jobs[i], SIGTERM);
    }
    double t0 = state_now();
    while (a->njobs && state_now() - t0 < CANCEL_GRACE_S + 2) {
        advance(a);
        if (a->njobs)
            usleep(5000);
    }
    for (size_t i = 0; i < a->njobs; i++)
        signal_job(a, &a->jobs[i], SIGKILL);
    while (a->njobs)
        finish_job(a, 0, JOB_CANCELLED, 128 + SIGKILL);
    struct state_job *jobs = NULL;
    size_t n = 0;
    if (!state_job_list(&a->st, a->rc.c.name, true, &jobs, &n, NULL))
        for (size_t k = 0; k < n; k++) {
            bool moved;
            state_job_transition(&a->st, a->rc.c.name, jobs[k].id,
                                 jobs[k].status, JOB_CANCELLED, &moved, NULL);
        }
    state_job_list_free(jobs, n);
}

/* Fail what a dead predecessor left running. */
static void recover(struct agent *a)
{
    struct state_job *jobs = NULL;
    size_t n = 0;
    if (state_job_list(&a->st, a->rc.c.name, true, &jobs, &n, NULL))
        return;
    for (size_t k = 0; k < n; k++) {
        if (!strcmp(jobs[k].status, JOB_PENDING))
            continue;
        struct agent_job aj = {.j = jobs[k]};
        json_t *arr = jobs[k].procs ? json_loads(jobs[k].procs, 0, NULL) : NULL;
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
            struct provider_proc pr = {
                .pid = (long)json_integer_value(json_object_get(v, "pid")),
                .node_id = (char *)json_string_value(json_object_get(v, "node"))};
            if (pr.pid > 1 && pr.node_id)
                a->rc.prov.ops->kill(&a->rc.prov, &pr, SIGKILL, NULL);
        }
        json_decref(arr);
        job_log(&aj, "skyc: error: the cluster's agent died while job %ld "
                     "ran; the job is marked FAILED",
                jobs[k].id);
        bool moved;
        state_job_transition(&a->st, a->rc.c.name, jobs[k].id, jobs[k].status,
                             JOB_FAILED, &moved, NULL);
    }
    state_job_list_free(jobs, n);
}

/* Wait until the spawner has recorded us; false when another agent owns
 * the cluster or the cluster is gone. */
static bool registered(struct agent *a)
{
    for (int i = 0; i < 2000; i++) {
        struct state_cluster c;
        if (state_cluster_get(&a->st, a->rc.c.name, &c, NULL))
            return false;
        long pid = c.agent_pid;
        state_cluster_release(&c);
        if (pid == (long)getpid())
            return true;
        if (rt_agent_alive(pid, a->rc.c.name))
            return false;
        usleep(1000);
    }
    return false;
}

static bool autostop_due(struct agent *a, double now, int *timeout_ms)
{
    double m = a->rc.c.autostop_minutes;
    if (m != a->last_autostop) {
        a->last_autostop = m;
        a->idle_since = now;
    }
    if (m < 0 || a->njobs)
        return false;
    double left = a->idle_since + m * 60 - now;
    if (left <= 0)
        return true;
    int ms = (int)(left * 1000) + 1;
    if (ms < *timeout_ms)
        *timeout_ms = ms;
    return false;
}

int rt_agent_main(const char *cluster)
{
    struct agent a = {.sfd = -1};
    struct skyc_error e = {0};
    int code = 1;
    log_init("A");
    if (!getenv("SKYC_LOG"))
        log_set_level(LOG_INFO); /* a daemon: keep a record in agent.log */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    a.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (state_open(&a.st, &e))
        goto out;
    if (rt_cluster_load(&a.st, cluster, true, &a.rc, &e))
        goto out;
    if (!registered(&a)) {
        log_notice("another agent owns cluster '%s'; exiting", cluster);
        code = 0;
        goto out;
    }
    log_notice("agent of cluster '%s' (%zu node%s) ready", cluster,
               a.rc.nnodes, a.rc.nnodes == 1 ? "" : "s");
    recover(&a);
    a.idle_since = state_now();
    a.last_autostop = a.rc.c.autostop_minutes;
    /* state.db is read again only when another process committed to it
     * (its data version) or a job here moved on; with jobs running, the
     * poll for their ends is a tenth of the youngest one's age, 100 ms to
     * 1 s (SIGUSR1 from a command, or SIGCHLD, still wakes it at once) */
    uint64_t seen_ver = 0;
    a.dirty = true;
    /* on the emulated cloud's scaled clock 1 s of wall time is minutes of
     * billed time: keep polling every 100 ms there */
    double max_ms = 1000;
    if (!strcmp(a.rc.c.provider, "sim") &&
        sim_provider_config(&a.rc.prov)->time_scale > 1)
        max_ms = 100;
    for (;;) {
        advance(&a);
        uint64_t ver = db_data_version(a.st.db);
        if (ver != seen_ver || a.dirty || !ver) {
            seen_ver = ver;
            a.dirty = false;
            struct state_cluster c;
            if (state_cluster_get(&a.st, cluster, &c, NULL) ||
                c.agent_pid != (long)getpid()) {
                if (!c.name || c.agent_pid != (long)getpid())
                    log_notice("cluster '%s' is gone or has another agent; "
                               "exiting",
                               cluster);
                state_cluster_release(&c);
                shutdown_jobs(&a);
                code = 0;
                goto out;
            }
            state_cluster_release(&a.rc.c);
            a.rc.c = c;
            schedule(&a);
        }
        double age = 1e9;
        for (size_t i = 0; i < a.njobs; i++)
            age = SKYC_MIN(age, state_now() - a.jobs[i].j.started_at);
        int timeout =
            a.njobs ? (int)SKYC_MIN(max_ms, SKYC_MAX(100, age * 100)) : 10000;
        double now = state_now();
        if (autostop_due(&a, now, &timeout)) {
            log_notice("idle for %g minutes: autostop (%s)",
                       a.rc.c.autostop_minutes,
                       a.rc.c.autostop_down ? "down" : "stop");
            enum skyc_err r = a.rc.c.autostop_down
                                  ? rt_cluster_down(&a.st, &a.rc, &e)
                                  : rt_cluster_stop(&a.st, &a.rc, &e);
            if (r)
                log_warning("autostop failed: %s", e.msg);
            code = r ? 1 : 0;
            goto out;
        }
        struct pollfd pfd = {.fd = a.sfd, .events = POLLIN};
        poll(&pfd, 1, timeout);
        struct signalfd_siginfo si;
        bool quit = false;
        while (read(a.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT ||
                si.ssi_signo == SIGHUP)
                quit = true;
            a.dirty = true; /* asked to look again */
        }
        if (quit) {
            log_notice("asked to exit: cancelling %zu running job%s", a.njobs,
                       a.njobs == 1 ? "" : "s");
            shutdown_jobs(&a);
            code = 0;
            goto out;
        }
    }
out:
    if (e.code)
        log_warning("%s", e.msg);
    for (size_t i = 0; i < a.njobs; i++) {
        free_procs(&a.jobs[i]);
        state_job_release(&a.jobs[i].j);
    }
    free(a.jobs);
    rt_cluster_release(&a.rc);
    if (a.st.db)
        state_close(&a.st);
    if (a.sfd >= 0)
        close(a.sfd);
    return code;
}
