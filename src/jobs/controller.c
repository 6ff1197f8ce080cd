/*
 * controller.c - the managed-jobs controller daemon (jobs.h).
 *
 * One process per user (an flock on jobs/controller.lock). It keeps every
 * unfinished job in memory (jobs.db is read again only when another process
 * committed to it - a submission or a cancel request - by SQLite's data
 * version), wakes every poll interval (SKYC_JOBS_POLL_MS, default 100 ms),
 * on SIGUSR1 or when a worker ends, and steps the jobs, recoveries first:
 *   PENDING     launch the first cluster
 *   STARTING    a worker launches it; after a crash: adopt the cluster if it
 *               came up, else let the runtime's reconcile tear it down and
 *               relaunch
 *   RUNNING     watch the runtime job and the provider's nodes, one look per
 *               check interval (0.5 ms per running job, between the poll and
 *               1 s; only the nodes while state.db is unchanged): a node
 *               PREEMPTED or gone (or the cluster gone) is a preemption ->
 *               RECOVERING, the replacement asked for at once, the old
 *               cluster torn down; a non-zero exit on a healthy cluster is a
 *               user error -> restart on the same cluster while
 *               max_restarts_on_errors allows (exit codes in
 *               recover_on_exit_codes always), else FAILED
 *   RECOVERING  launch again (with backoff after failed tries), or - in the
 *               deadline mode - wait while the policy says idle
 * Launches and teardowns run in worker processes (see "workers" below), so
 * one slow provider call delays no other job. In the deadline mode every
 * decision interval (--tick of provider time) is a decision point where
 * spot_decide() may switch spot <-> on-demand or zone; its launches run
 * inline, at the decision point. Everything done for a job runs under the
 * job's own settings (jobs_env.c). Clusters are launched and torn down only
 * through runtime.h.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog.h"
#include "jobs/jobs.h"
#include "optimizer/optimizer.h"
#include "provision/sim.h"
#include "runtime/runtime.h"
#include "spot/policy.h"
#include "state/db.h"
#include "state/state.h"
#include "task/task.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* A launch or teardown handed to a worker process (see the top). */
struct worker {
    pid_t pid;       /* 0 = none */
    int fd;          /* read end of its result pipe */
    char *cluster;   /* teardown: the cluster it tears down */
};

/* What the controller keeps in memory about a job (rebuilt after a crash). */
struct live {
    long id;
    struct mjob j;      /* the job as last saved (the controller is its
                           only writer after submission) */
    bool forget;        /* finished and torn down: drop after this pass */
    struct worker launch, teardown;
    bool launch_done;   /* a worker's launch result waits in: */
    enum skyc_err launch_rc;
    char *launch_msg;
    double next_check;  /* wall clock of the next look at a RUNNING job */
    double next_check_retire; /* wall clock of a teardown's next try */
    uint64_t state_ver; /* state.db's data version at the last full look */
    bool looked;        /* a full look happened since the last launch */
    int attempt;        /* failed launch tries of this recovery */
    double next_try;    /* wall clock of the next launch try */
    char *lost_region;  /* where the last preemption happened */
    /* deadline mode */
    bool zones_loaded;
    struct mjob_zone zones[SPOT_MAX_ZONES];
    int nzones, cur_zone;
    double next_decision; /* provider clock */
    double probe_after[SPOT_MAX_ZONES]; /* spot believed gone until then */
    int probe_fails[SPOT_MAX_ZONES];    /* failed probes in a row */
    uint32_t seen;
    bool waiting_noted;
};

/* The providers and catalog opened under one set of job settings
 * (jobs_env.c): jobs submitted with other SKYC_SIM_CONFIG or
 * SKYC_CATALOG_DIR get their own. */
struct ctl_env {
    char *env; /* the snapshot, NULL = the controller's own */
    struct provider provs[4];
    char *prov_names[4];
    size_t nprovs;
    struct catalog cat; /* loaded on first use */
    int cat_state;      /* 0 not tried, 1 loaded, -1 failed */
};

struct ctl {
    struct jobs_db db;
    struct state st;
    struct ctl_env **envs;
    size_t nenvs, envs_alloc;
    struct ctl_env *cur; /* the settings of the job being looked at */
    char *own_env;       /* the controller's own snapshot */
    char *cwd;           /* the directory we are in */
    struct live *live;
    size_t nlive, live_alloc;
    long max_id;         /* the highest job id read from jobs.db */
    uint64_t jobs_ver;   /* jobs.db's data version at the last read */
    size_t max_workers, nworkers;
    double tick, overhead; /* deadline mode, provider seconds */
};

/* Make the job's settings (and submission directory) this process's. */
static void use_job(struct ctl *c, const struct mjob *j)
{
    struct ctl_env *e = NULL;
    for (size_t i = 0; i < c->nenvs && !e; i++)
        if ((!j->env && !c->envs[i]->env) ||
            (j->env && c->envs[i]->env && !strcmp(j->env, c->envs[i]->env)))
            e = c->envs[i];
    if (!e) {
        ALLOC_GROW(c->envs, c->nenvs + 1, c->envs_alloc);
        e = xcalloc(1, sizeof(*e));
        e->env = j->env ? xstrdup(j->env) : NULL;
        c->envs[c->nenvs++] = e;
    }
    if (c->cur != e)
        jobs_env_apply(e->env ? e->env : c->own_env);
    c->cur = e;
    /* where relative paths in the settings start: entered before a
     * provider or catalog is opened (ctl_enter) and by every launch */
    if (j->cwd && (!c->cwd || strcmp(c->cwd, j->cwd))) {
        free(c->cwd);
        c->cwd = xstrdup(j->cwd);
    }
}

static void ctl_enter(struct ctl *c)
{
    if (c->cwd && chdir(c->cwd))
        log_warning("cannot enter '%s': %s", c->cwd, strerror(errno));
}

static void ctl_env_free(struct ctl_env *e)
{
    for (size_t i = 0; i < e->nprovs; i++) {
        provider_close(&e->provs[i]);
        free(e->prov_names[i]);
    }
    if (e->cat_state > 0)
        catalog_release(&e->cat);
    free(e->env);
    free(e);
}

static struct catalog *ctl_catalog(struct ctl *c)
{
    struct ctl_env *v = c->cur;
    if (!v->cat_state) {
        struct catalog_options co = {0};
        struct skyc_error e = {0};
        ctl_enter(c);
        v->cat_state = catalog_load(&v->cat, &co, &e) ? -1 : 1;
        if (v->cat_state < 0)
            log_warning("cannot load the catalog: %s", e.msg);
    }
    return v->cat_state > 0 ? &v->cat : NULL;
}

static struct provider *ctl_provider(struct ctl *c, const char *name)
{
    struct ctl_env *v = c->cur;
    for (size_t i = 0; i < v->nprovs; i++)
        if (!strcmp(v->prov_names[i], name))
            return &v->provs[i];
    if (v->nprovs == ARRAY_SIZE(v->provs))
        return NULL;
    struct skyc_error e = {0};
    ctl_enter(c);
    if (provider_open(name, &v->provs[v->nprovs], &e)) {
        log_warning("cannot open provider '%s': %s", name, e.msg);
        return NULL;
    }
    v->prov_names[v->nprovs] = xstrdup(name);
    return &v->provs[v->nprovs++];
}

/* The provider's clock: the sim's scaled time, else wall time. */
static double ctl_clock(struct ctl *c, const char *provider)
{
    if (!strcmp(provider, "sim")) {
        struct provider *p = ctl_provider(c, "sim");
        if (p)
            return sim_provider_now(p);
    }
    return state_now();
}

/* Provider seconds per wall second. */
static double ctl_scale(struct ctl *c, const char *provider)
{
    if (!strcmp(provider, "sim")) {
        struct provider *p = ctl_provider(c, "sim");
        if (p)
            return sim_provider_config(p)->time_scale;
    }
    return 1;
}

static struct live *ctl_live(struct ctl *c, long id)
{
    for (size_t i = 0; i < c->nlive; i++)
        if (c->live[i].id == id)
            return &c->live[i];
    return NULL;
}

/* A job read from jobs.db joins the live table (ownership of *j moves). */
static void ctl_adopt(struct ctl *c, struct mjob *j)
{
    struct live *l = ctl_live(c, j->id);
    if (l) {
        /* known: only the cancel request comes from outside */
        l->j.cancel_requested |= j->cancel_requested;
        mjob_release(j);
        return;
    }
    ALLOC_GROW(c->live, c->nlive + 1, c->live_alloc);
    l = &c->live[c->nlive++];
    memset(l, 0, sizeof(*l));
    l->id = j->id;
    l->j = *j;
    memset(j, 0, sizeof(*j));
    l->cur_zone = -1;
    l->launch.fd = l->teardown.fd = -1;
    if (l->id > c->max_id)
        c->max_id = l->id;
}

static void live_release(struct live *l)
{
    free(l->lost_region);
    free(l->launch_msg);
    free(l->teardown.cluster);
    if (l->launch.fd >= 0)
        close(l->launch.fd);
    if (l->teardown.fd >= 0)
        close(l->teardown.fd);
    for (int z = 0; z < l->nzones; z++) {
        free(l->zones[z].region);
        free(l->zones[z].zone);
    }
    mjob_release(&l->j);
}

/* Finished: dropped from the live table at the end of this pass (the
 * job's own struct lives in the entry, so not at once). */
static void ctl_forget(struct ctl *c, long id)
{
    struct live *l = ctl_live(c, id);
    if (l)
        l->forget = true;
}

static void set_str(char **dst, const char *v)
{
    char *old = *dst;
    *dst = v ? xstrdup(v) : NULL; /* v may be *dst itself */
    free(old);
}

static void save(struct ctl *c, struct mjob *j)
{
    struct skyc_error e = {0};
    j->controller_pid = (long)getpid();
    if (jobs_db_update(&c->db, j, &e))
        log_warning("job %ld: cannot save: %s", j->id, e.msg);
}

#define EVENT(c, j, now, kind, ...)                                           \
    jobs_db_event(&(c)->db, (j)->id, (now), (kind), (j)->cluster,            \
                  mjob_cost_now((j), (now), NULL), NULL, __VA_ARGS__)

/* Append the log of the job's current cluster job to the job's own log
 * (jobs/<id>/job.log), under a header `jobs logs` recognises. */
static void archive_log(const struct mjob *j)
{
    if (!j->cluster || j->cluster_job <= 0)
        return;
    char *src = rt_job_log_path(j->cluster, j->cluster_job);
    char *dir = jobs_dir(j->id);
    char *dst = path_join(dir, "job.log");
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, src) == 0) {
        FILE *f = fopen(dst, "a");
        if (f) {
            fprintf(f, MJOB_LOG_HEADER "%s %ld\n", j->cluster,
                    j->cluster_job);
            fwrite(sb.buf, 1, sb.len, f);
            if (sb.len && sb.buf[sb.len - 1] != '\n')
                fputc('\n', f);
            fclose(f);
        }
    }
    strbuf_release(&sb);
    free(dst);
    free(dir);
    free(src);
}

/* ---- workers ------------------------------------------------------------
 * A launch (rt_launch: plan, provision, agent, submit) or a teardown can
 * take seconds on a real provider, so the controller hands each to a
 * worker process (at most SKYC_JOBS_WORKERS at once, default 4; 0 = do
 * everything inline) and keeps reacting meanwhile. A worker is a fork of
 * the controller that never touches the controller's SQLite connections
 * (it opens its own), reports "<skyc_err>\n<message>" on a pipe and exits.
 * It dies with the controller (PR_SET_PDEATHSIG), so a kill -9 leaves what
 * a killed inline launch left before: an INIT cluster with a dead owner
 * (reconciled and relaunched) or a name in `teardown` on disk (torn down).
 */
typedef enum skyc_err (*worker_fn)(struct live *l, const void *arg,
                                   struct skyc_error *err);

static bool worker_start(struct ctl *c, struct worker *w, worker_fn fn,
                         struct live *l, const void *arg,
                         struct skyc_error *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        skyc_fail(err, SKYC_E_IO, "cannot start a worker: %s",
                  strerror(errno));
        return false;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        skyc_fail(err, SKYC_E_IO, "cannot start a worker: %s",
                  strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        close(fds[0]);
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        struct skyc_error e = {0};
        enum skyc_err r = fn(l, arg, &e);
        char *out = xasprintf("%d\n%s", (int)r, r ? e.msg : "");
        ssize_t n = write(fds[1], out, strlen(out));
        (void)n;
        fflush(NULL);
        _exit(0);
    }
    close(fds[1]);
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    w->pid = pid;
    w->fd = fds[0];
    c->nworkers++;
    return true;
}

/* The result of a worker that exited with status; *msg for the caller. */
static enum skyc_err worker_result(struct ctl *c, struct worker *w,
                                   int status, char **msg)
{
    char buf[4096];
    ssize_t n = read(w->fd, buf, sizeof(buf) - 1);
    close(w->fd);
    w->fd = -1;
    w->pid = 0;
    c->nworkers--;
    enum skyc_err r = SKYC_E_FAILED;
    if (n > 0) {
        buf[n] = '\0';
        char *nl = strchr(buf, '\n');
        r = (enum skyc_err)atoi(buf);
        *msg = xstrdup(nl ? nl + 1 : "");
    } else
        *msg = WIFSIGNALED(status)
                   ? xasprintf("the controller's worker was killed by signal "
                               "%d",
                               WTERMSIG(status))
                   : xasprintf("the controller's worker exited with status %d "
                               "and no result",
                               WEXITSTATUS(status));
    return r;
}

static bool worker_free(const struct ctl *c, const struct mjob *j,
                        bool launch)
{
    /* first launches leave one worker to recoveries and teardowns */
    size_t cap = c->max_workers;
    if (cap > 1 && launch && !j->preemptions && !j->restarts)
        cap--;
    return c->nworkers < cap;
}

/* Terminate the cluster's nodes and take it down (gone already: fine). */
static enum skyc_err destroy_cluster(struct state *st, const char *name,
                                     struct skyc_error *err)
{
    struct rt_cluster rc;
    enum skyc_err r = rt_cluster_load(st, name, true, &rc, err);
    if (r == SKYC_E_NOT_FOUND) {
        skyc_error_clear(err);
        return SKYC_OK;
    }
    if (r)
        return r;
    /* terminate the nodes first: their processes die at once, so the
     * agent has nothing to wait for (a switch costs no grace period) */
    for (size_t i = 0; i < rc.nnodes; i++) {
        struct provider_node pn;
        rt_node_view(&rc.nodes[i], &pn);
        rc.prov.ops->terminate(&rc.prov, &pn, NULL);
    }
    r = rt_cluster_down(st, &rc, err);
    rt_cluster_release(&rc);
    return r;
}

/* Space-separated cluster lists (names have no spaces: valid_name). */
static void list_add(char **list, const char *name)
{
    char *old = *list;
    *list = old ? xasprintf("%s %s", old, name) : xstrdup(name);
    free(old);
}

static void list_remove(char **list, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    bool removed = false;
    for (const char *p = *list; p && *p;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (!removed && len == strlen(name) && !strncmp(p, name, len))
            removed = true;
        else if (len) {
            if (sb.len)
                strbuf_addch(&sb, ' ');
            strbuf_add(&sb, p, len);
        }
        p += len + (sp ? 1 : 0);
    }
    free(*list);
    *list = sb.len ? strbuf_detach(&sb, NULL) : NULL;
    strbuf_release(&sb);
}

static enum skyc_err teardown_worker(struct live *l, const void *arg,
                                     struct skyc_error *err)
{
    (void)l;
    struct state st;
    enum skyc_err r = state_open(&st, err);
    if (r)
        return r;
    r = destroy_cluster(&st, arg, err);
    state_close(&st);
    return r;
}

/* Close the bill of the job's cluster at now and forget it (the cluster
 * itself is the caller's to tear down). */
static void close_bill(struct mjob *j, double now)
{
    archive_log(j);
    if (!isnan(j->sim_launched) && !isnan(j->hourly) && now > j->sim_launched)
        j->cost += j->hourly * (now - j->sim_launched) / 3600.0;
    if (!isnan(j->sim_running) && now > j->sim_running)
        j->run_s += now - j->sim_running;
    j->cluster_job = 0;
    j->sim_launched = j->sim_running = NAN;
    j->hourly = NAN;
}

/* Tear the job's cluster down (if any) at once and close its bill. */
static void teardown(struct ctl *c, struct mjob *j, double now)
{
    if (!j->cluster)
        return;
    close_bill(j, now);
    struct skyc_error e = {0};
    if (destroy_cluster(&c->st, j->cluster, &e))
        log_warning("job %ld: cannot tear down '%s': %s", j->id, j->cluster,
                    e.msg);
    set_str(&j->cluster, NULL);
}

static void retire(struct ctl *c, struct mjob *j, double now);

static void finish(struct ctl *c, struct mjob *j, const char *status,
                   const char *msg)
{
    double now = ctl_clock(c, j->provider);
    if (j->retiring) {
        list_add(&j->teardown, j->retiring);
        FREE_AND_NULL(j->retiring);
    }
    if (j->cluster) {
        /* on disk to tear down with the final status: by a worker (or after
         * a crash) before the job leaves the controller */
        close_bill(j, now);
        list_add(&j->teardown, j->cluster);
        FREE_AND_NULL(j->cluster);
    }
    set_str(&j->status, status);
    set_str(&j->message, msg);
    msg = j->message; /* msg may have been the old j->message */
    j->ended_at = state_now();
    double od;
    double cost = mjob_cost_now(j, now, &od);
    jobs_db_event(&c->db, j->id, now, status, NULL, cost, NULL,
                  "%s; spent $%.4f vs $%.4f all on-demand", msg ? msg : status,
                  cost, isnan(od) ? 0 : od);
    save(c, j);
    log_info("job %ld: %s (%s)", j->id, status, msg ? msg : "");
    retire(c, j, now);
    if (!j->teardown)
        ctl_forget(c, j->id);
}

/* On-demand $/h of the offering a cluster runs on (NaN when unknown). */
static double od_price_of(struct ctl *c, const struct state_cluster *sc)
{
    if (!sc->cloud || !sc->region || !sc->instance_type)
        return NAN;
    if (!sc->spot)
        return sc->hourly_price;
    const char *cl = strchr(sc->cloud, ':');
    cl = cl ? cl + 1 : sc->cloud;
    struct catalog *cat = ctl_catalog(c);
    for (size_t i = 0; cat && i < cat->noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        if (strcmp(cloud_name(o->cloud), cl) ||
            strcmp(cat->regions[o->region].name, sc->region) ||
            strcmp(cat->names[o->instance], sc->instance_type))
            continue;
        if (sc->zone && o->zone != CATALOG_NONE &&
            strcmp(cat->zones[o->zone].name, sc->zone))
            continue;
        return o->price * (double)sc->num_nodes;
    }
    return NAN;
}

static bool code_listed(const char *csv, int code)
{
    for (const char *p = csv; p && *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v == code)
            return true;
        p = *end == ',' ? end + 1 : end;
    }
    return false;
}

/* Submit the job to cluster j->cluster (new, or existing and healthy) as
 * planned: the rt_launch part, which runs in a worker or inline, in the
 * job's settings (use_job) and submission directory. */
static enum skyc_err do_launch_run(const struct mjob *j,
                                   const struct mjob_plan *p,
                                   struct skyc_error *err)
{
    if (chdir(j->cwd))
        log_warning("job %ld: cannot enter '%s': %s", j->id, j->cwd,
                    strerror(errno));
    char *ckpt = jobs_checkpoint_dir(j->id);
    path_mkdir_p(ckpt, 0700);
    char *env0 = xasprintf("SKYC_CHECKPOINT_DIR=%s", ckpt);
    char *env1 = xasprintf("SKYC_MANAGED_JOB_ID=%ld", j->id);
    const char *env[] = {env0, env1, NULL};
    struct rt_launch_opts o = {
        .task = j->task,
        .cluster = j->cluster,
        .provider = j->provider,
        .detach = true,
        .idle_minutes = -1,
        .env = env,
        .spot = p ? p->spot : 0,
        .region = p ? p->region : NULL,
        .zone = p ? p->zone : NULL,
        .avoid_region = p ? p->avoid_region : NULL,
    };
    int code = 0;
    enum skyc_err r = rt_launch(&o, &code, err);
    free(env0);
    free(env1);
    free(ckpt);
    return r;
}

/* After a successful rt_launch: what runs where, j updated to RUNNING. */
static enum skyc_err adopt_launch(struct ctl *c, struct mjob *j,
                                  struct skyc_error *err)
{
    struct state_cluster sc;
    enum skyc_err r = state_cluster_get(&c->st, j->cluster, &sc, err);
    if (r)
        return r;
    j->spot = sc.spot;
    set_str(&j->region, sc.region);
    set_str(&j->zone, sc.zone);
    j->hourly = sc.hourly_price;
    double od = od_price_of(c, &sc);
    if (!isnan(od))
        j->od_hourly = od;
    long last = 0;
    state_job_last_id(&c->st, j->cluster, &last, NULL);
    j->cluster_job = last;
    state_cluster_release(&sc);
    set_str(&j->status, MJOB_RUNNING);
    set_str(&j->message, NULL);
    return SKYC_OK;
}

/* Submit inline; SKYC_OK with j updated to RUNNING. */
static enum skyc_err do_launch(struct ctl *c, struct mjob *j,
                               const struct mjob_plan *p,
                               struct skyc_error *err)
{
    enum skyc_err r = do_launch_run(j, p, err);
    return r ? r : adopt_launch(c, j, err);
}

static enum skyc_err launch_worker(struct live *l, const void *arg,
                                   struct skyc_error *err)
{
    return do_launch_run(&l->j, arg, err);
}

static bool resource_error(enum skyc_err r)
{
    return r == SKYC_E_CAPACITY || r == SKYC_E_QUOTA ||
           r == SKYC_E_INFEASIBLE || r == SKYC_E_AUTH;
}

static bool deadline_mode(const struct mjob *j);

/* What a launch came to (inline, or a worker's result): true when it
 * runs. */
static bool launch_result(struct ctl *c, struct mjob *j, struct live *l,
                          enum skyc_err r, const char *msg,
                          enum skyc_err *why)
{
    double now = ctl_clock(c, j->provider);
    *why = r;
    if (!r) {
        j->sim_running = now;
        l->attempt = 0;
        l->looked = false;
        EVENT(c, j, now, "RUNNING",
              "%s on %s %s/%s at $%.4f/h (on-demand $%.4f/h)",
              j->cluster, j->spot ? "spot" : "on-demand",
              j->region ? j->region : "-", j->zone ? j->zone : "-",
              j->hourly, isnan(j->od_hourly) ? j->hourly : j->od_hourly);
        save(c, j);
        return true;
    }
    /* rt_launch left nothing running on failure */
    jobs_db_event(&c->db, j->id, now, "LAUNCH_FAILED", j->cluster,
                  mjob_cost_now(j, now, NULL), NULL, "%s: %s",
                  skyc_err_name(r), msg);
    log_info("job %ld: launch of %s failed: %s", j->id, j->cluster, msg);
    set_str(&j->cluster, NULL);
    j->sim_launched = j->sim_running = NAN;
    set_str(&j->message, msg);
    if (!resource_error(r)) {
        finish(c, j, MJOB_FAILED, j->message);
        return false;
    }
    set_str(&j->status, j->preemptions || j->restarts ? MJOB_RECOVERING
                                                      : MJOB_PENDING);
    save(c, j);
    return false;
}

/*
 * Launch a new cluster for j as planned. true when it runs - or, outside
 * the deadline mode, when the launch went to a worker or waits for a free
 * one (the job stays PENDING/RECOVERING and the next pass asks again).
 * When the worker is done, its result is handed back through the same
 * call: the controller calls relaunch() again, which lands here and takes
 * the result (l->launch_done) as an inline launch would have returned it.
 */
static bool launch_cluster(struct ctl *c, struct mjob *j, struct live *l,
                           const struct mjob_plan *p, enum skyc_err *why)
{
    if (l->launch_done) {
        l->launch_done = false;
        bool ok = launch_result(c, j, l, l->launch_rc,
                                l->launch_msg ? l->launch_msg : "", why);
        FREE_AND_NULL(l->launch_msg);
        return ok;
    }
    bool async = c->max_workers > 0 && !deadline_mode(j);
    if (async && !worker_free(c, j, true)) {
        *why = SKYC_OK;
        return true; /* no worker free: next pass */
    }
    double now = ctl_clock(c, j->provider);
    j->launches++;
    char *name = xasprintf("mj%ld-%ld", j->id, j->launches);
    set_str(&j->cluster, name);
    free(name);
    j->cluster_job = 0;
    j->sim_launched = now;
    j->sim_running = NAN;
    j->hourly = NAN;
    set_str(&j->status, MJOB_STARTING);
    save(c, j); /* the name is on disk before anything is provisioned */
    EVENT(c, j, now, "LAUNCH", "%s%s%s%s%s%s (%s)",
          p->spot == 2 ? "spot" : p->spot == 1 ? "on-demand" : "as the task says",
          p->region ? " in region " : "", p->region ? p->region : "",
          p->zone ? " zone " : "", p->zone ? p->zone : "",
          p->avoid_region ? " avoiding its region" : "",
          p->why ? p->why : "");
    log_info("job %ld: launching %s (%s)", j->id, j->cluster,
             p->why ? p->why : "");
    struct skyc_error e = {0};
    enum skyc_err r;
    if (async) {
        if (worker_start(c, &l->launch, launch_worker, l, p, &e)) {
            *why = SKYC_OK;
            return true;
        }
        r = e.code ? e.code : SKYC_E_IO;
    } else
        r = do_launch(c, j, p, &e);
    return launch_result(c, j, l, r, e.msg, why);
}

/* ---- the deadline-aware mode ------------------------------------------- */

static bool deadline_mode(const struct mjob *j)
{
    return !strcmp(j->strategy, MJOB_DEADLINE);
}

/* The zones the job may run in: the optimizer's spot candidates. */
static void load_zones(struct ctl *c, struct mjob *j, struct live *l)
{
    l->zones_loaded = true;
    struct task_dag dag = {0};
    struct opt_candidate *cands = NULL;
    size_t n = 0;
    struct catalog *catp = ctl_catalog(c);
    if (!catp || task_dag_load_file(&dag, j->task, NULL) || dag.ntasks != 1)
        goto out;
    struct task *t = &dag.tasks[0];
    for (size_t i = 0; i < t->nresources; i++)
        t->resources[i].use_spot = true;
    struct opt_params params;
    opt_params_init(&params);
    if (optimizer_candidates(catp, t, &params, &cands, &n, NULL))
        goto out;
    for (size_t i = 0; i < n && l->nzones < SPOT_MAX_ZONES; i++) {
        const struct catalog_offering *o = &catp->offers[cands[i].offer];
        if (!cands[i].spot || o->zone == CATALOG_NONE || isnan(o->price))
            continue;
        const char *zn = catp->zones[o->zone].name;
        bool dup = false;
        for (int z = 0; z < l->nzones && !dup; z++)
            dup = !strcmp(l->zones[z].zone, zn);
        if (dup)
            continue;
        struct mjob_zone *mz = &l->zones[l->nzones++];
        memset(mz, 0, sizeof(*mz));
        mz->region = xstrdup(catp->regions[o->region].name);
        mz->zone = xstrdup(zn);
        mz->spot_price = o->spot_price;
        mz->od_price = o->price;
        mz->avail = true;
    }
out:
    free(cands);
    task_dag_release(&dag);
    if (!l->nzones)
        log_warning("job %ld: no spot zone found for the deadline mode",
                    j->id);
}

/* Progress reported by the job in $SKYC_CHECKPOINT_DIR/progress (a
 * fraction 0..1), else its run time. */
static double work_done(struct ctl *c, const struct mjob *j, double now)
{
    (void)c;
    char *ckpt = jobs_checkpoint_dir(j->id);
    char *path = path_join(ckpt, "progress");
    struct strbuf sb = STRBUF_INIT;
    double done = NAN;
    if (strbuf_read_file(&sb, path) == 0 && sb.len) {
        char *end;
        double f = strtod(sb.buf, &end);
        if (end != sb.buf && f >= 0 && f <= 1)
            done = f * j->work_s;
    }
    strbuf_release(&sb);
    free(path);
    free(ckpt);
    if (isnan(done))
        done = mjob_run_now(j, now);
    return done;
}

static int zone_index(const struct live *l, const char *zone)
{
    for (int z = 0; zone && z < l->nzones; z++)
        if (!strcmp(l->zones[z].zone, zone))
            return z;
    return -1;
}

/* Spot turned out unobtainable in zone z: believe it gone for 1, 2, 4 ...
 * decision intervals (up to 16) before probing again. */
static void no_spot(struct ctl *c, struct live *l, int z, double now)
{
    int f = l->probe_fails[z]++;
    l->zones[z].avail = false;
    l->zones[z].streak = 0;
    l->probe_after[z] = now + c->tick * (double)(1 << SKYC_MIN(f, 4)) - 1;
}

/*
 * One decision point: ask the policy, and make the cluster match it
 * (launch, switch or go idle). Spot that turns out unobtainable marks the
 * zone unavailable and the policy is asked again.
 */
static void decide(struct ctl *c, struct mjob *j, struct live *l, bool forced)
{
    double now = ctl_clock(c, j->provider);
    if (!forced && now < l->next_decision)
        return;
    if (!l->zones_loaded)
        load_zones(c, j, l);
    double elapsed = now - j->sim_submitted;
    long k = (long)floor(elapsed / c->tick) + 1;
    l->next_decision = j->sim_submitted + (double)k * c->tick;
    l->seen++;
    bool running = j->cluster && !strcmp(j->status, MJOB_RUNNING);
    int cur_zone = running ? zone_index(l, j->zone) : l->cur_zone;
    for (int z = 0; z < l->nzones; z++) {
        struct mjob_zone *mz = &l->zones[z];
        bool up = (running && j->spot && z == cur_zone) ||
                  now >= l->probe_after[z];
        if (up && !mz->avail)
            mz->seen_runs++;
        mz->avail = up;
        mz->streak = up ? mz->streak + 1 : 0;
        mz->seen_avail += up;
    }
    double done = work_done(c, j, now);
    for (int round = 0; round <= l->nzones + 1; round++) {
        int kind_now = running ? (j->spot ? SPOT_SPOT : SPOT_OD) : SPOT_NONE;
        double pending = running && !isnan(j->sim_launched)
                             ? SKYC_MAX(0, c->overhead -
                                               (now - j->sim_launched))
                             : 0;
        int zone = cur_zone;
        int kind = mjob_decide(j, l->zones, l->nzones, kind_now,
                               cur_zone < 0 ? 0 : cur_zone, elapsed, done,
                               c->tick, c->overhead, pending, l->seen, &zone);
        if (kind == kind_now && (kind != SPOT_SPOT || zone == cur_zone))
            return; /* keep what runs (or keep waiting) */
        if (running && kind == SPOT_NONE && done >= j->work_s)
            return; /* the work is done: let the job finish by itself */
        if (running && kind != SPOT_NONE) {
            /* bring the new instance up first; keep the old one when the
             * new kind is not obtainable */
            struct mjob keep = *j;
            char *old_cluster = xstrdup(j->cluster);
            char *old_region = j->region ? xstrdup(j->region) : NULL;
            char *old_zone = j->zone ? xstrdup(j->zone) : NULL;
            j->cluster = NULL;
            j->region = j->zone = NULL;
            set_str(&j->retiring, old_cluster); /* on disk with the new */
            struct mjob_plan p = {.spot = kind == SPOT_SPOT ? 2 : 1};
            if (kind == SPOT_SPOT && zone >= 0 && zone < l->nzones) {
                p.region = l->zones[zone].region;
                p.zone = l->zones[zone].zone;
            } else if (cur_zone >= 0 && cur_zone < l->nzones)
                p.region = l->zones[cur_zone].region;
            p.why = kind == SPOT_SPOT ? "policy: switch to spot"
                                      : "policy: switch to on-demand";
            enum skyc_err why;
            struct mjob neu;
            bool ok = launch_cluster(c, j, l, &p, &why);
            neu = *j;
            /* put the old cluster back in j to tear it down (or keep it) */
            char *new_cluster = j->cluster, *new_region = j->region,
                 *new_zone = j->zone;
            j->cluster = old_cluster;
            j->region = old_region;
            j->zone = old_zone;
            j->cluster_job = keep.cluster_job;
            j->spot = keep.spot;
            j->hourly = keep.hourly;
            j->sim_launched = keep.sim_launched;
            j->sim_running = keep.sim_running;
            if (ok) {
                teardown(c, j, ctl_clock(c, j->provider));
                set_str(&j->retiring, NULL);
                free(j->region);
                free(j->zone);
                j->cluster = new_cluster;
                j->region = new_region;
                j->zone = new_zone;
                j->cluster_job = neu.cluster_job;
                j->spot = neu.spot;
                j->hourly = neu.hourly;
                j->sim_launched = neu.sim_launched;
                j->sim_running = neu.sim_running;
                set_str(&j->status, MJOB_RUNNING);
                l->cur_zone = zone_index(l, j->zone);
            EVENT(c, j, ctl_clock(c, j->provider), "SWITCH", "%s -> %s%s%s (policy %s, %.0f%% done, "
                  "%.1f h to the deadline)",
                  spot_kind_name((enum spot_kind)kind_now),
                  spot_kind_name((enum spot_kind)kind),
                  kind == SPOT_SPOT ? " in " : "",
                  kind == SPOT_SPOT && zone >= 0 && zone < l->nzones
                      ? l->zones[zone].zone
                      : "",
                  j->policy ? j->policy : "up",
                  j->work_s > 0 ? 100 * done / j->work_s : 0,
                  (j->deadline_s - elapsed) / 3600);
                save(c, j);
                return;
            }
            free(new_cluster);
            free(new_region);
            free(new_zone);
            if (mjob_status_terminal(j->status)) {
                /* a fatal launch error ended the job: nothing to keep */
                teardown(c, j, ctl_clock(c, j->provider));
                save(c, j);
                return;
            }
            set_str(&j->status, MJOB_RUNNING);
            set_str(&j->message, NULL);
            set_str(&j->retiring, NULL);
            save(c, j);
            if (kind == SPOT_SPOT && zone >= 0 && zone < l->nzones) {
                no_spot(c, l, zone, now);
                continue; /* ask again without that zone */
            }
            return;
        }
        if (running) {
            EVENT(c, j, now, "SWITCH", "%s -> %s%s%s (policy %s, %.0f%% done, "
                  "%.1f h to the deadline)",
                  spot_kind_name((enum spot_kind)kind_now),
                  spot_kind_name((enum spot_kind)kind),
                  kind == SPOT_SPOT ? " in " : "",
                  kind == SPOT_SPOT && zone >= 0 && zone < l->nzones
                      ? l->zones[zone].zone
                      : "",
                  j->policy ? j->policy : "up",
                  j->work_s > 0 ? 100 * done / j->work_s : 0,
                  (j->deadline_s - elapsed) / 3600);
            teardown(c, j, now);
            running = false;
        }
        if (kind == SPOT_NONE) {
            set_str(&j->status, MJOB_RECOVERING);
            set_str(&j->message, "waiting for spot (policy: idle)");
            if (!l->waiting_noted)
                EVENT(c, j, now, "WAIT", "no spot; the policy waits");
            l->waiting_noted = true;
            save(c, j);
            return;
        }
        l->waiting_noted = false;
        struct mjob_plan p = {.spot = kind == SPOT_SPOT ? 2 : 1,
                              .why = "policy"};
        if (kind == SPOT_SPOT && zone >= 0 && zone < l->nzones) {
            p.region = l->zones[zone].region;
            p.zone = l->zones[zone].zone;
        } else if (kind == SPOT_OD && cur_zone >= 0 && cur_zone < l->nzones) {
            p.region = l->zones[cur_zone].region;
        }
        p.why = kind == SPOT_SPOT ? "policy: spot" : "policy: on-demand";
        enum skyc_err why;
        if (launch_cluster(c, j, l, &p, &why)) {
            l->cur_zone = zone_index(l, j->zone);
            if (l->cur_zone >= 0)
                l->probe_fails[l->cur_zone] = 0;
            return;
        }
        if (mjob_status_terminal(j->status))
            return;
        if (kind == SPOT_SPOT && zone >= 0 && zone < l->nzones) {
            no_spot(c, l, zone, now);
            cur_zone = zone;
            continue;
        }
        return; /* on-demand failed: try again at the next point */
    }
}

/* ---- watching a running job --------------------------------------------- */

/* Whether every node of the cluster is running; *why says what is not. */
static bool nodes_healthy(struct ctl *c, const char *cluster,
                          const char *provider, char *why, size_t whylen)
{
    struct state_node *nodes = NULL;
    size_t n = 0;
    struct provider *p = ctl_provider(c, provider);
    if (!p || state_nodes_get(&c->st, cluster, &nodes, &n, NULL))
        return true; /* cannot tell: not a preemption */
    bool ok = n > 0;
    if (!n)
        snprintf(why, whylen, "cluster has no nodes");
    for (size_t i = 0; i < n && ok; i++) {
        struct provider_node pn;
        rt_node_view(&nodes[i], &pn);
        pn.state = NODE_RUNNING;
        if (p->ops->status(p, &pn, NULL))
            continue;
        if (pn.state == NODE_PREEMPTED || pn.state == NODE_TERMINATED) {
            snprintf(why, whylen, "node %ld %s", nodes[i].rank,
                     pn.state == NODE_PREEMPTED ? "preempted" : "gone");
            ok = false;
        }
    }
    state_nodes_free(nodes, n);
    return ok;
}

/* The provider's view of every node of a cluster, by rank order. */
struct node_look {
    struct state_node *nodes;
    enum provider_node_state *states;
    size_t n;
    bool can_replace; /* the provider offers add_node */
};

static void node_look_release(struct node_look *nl)
{
    state_nodes_free(nl->nodes, nl->n);
    free(nl->states);
    memset(nl, 0, sizeof(*nl));
}

/* false when it cannot tell (no provider, state unreadable) */
static bool look_at_nodes(struct ctl *c, const struct mjob *j,
                          struct node_look *nl)
{
    memset(nl, 0, sizeof(*nl));
    struct provider *p = ctl_provider(c, j->provider);
    struct state_cluster sc;
    if (!p || !j->cluster)
        return false;
    if (state_cluster_get(&c->st, j->cluster, &sc, NULL))
        return true; /* gone: n = 0 */
    state_cluster_release(&sc);
    if (state_nodes_get(&c->st, j->cluster, &nl->nodes, &nl->n, NULL))
        return false;
    nl->can_replace = p->ops->add_node != NULL;
    nl->states = xcalloc(nl->n ? nl->n : 1, sizeof(*nl->states));
    for (size_t i = 0; i < nl->n; i++) {
        struct provider_node pn;
        rt_node_view(&nl->nodes[i], &pn);
        pn.ip = NULL; /* status() may set it; the strings are borrowed */
        nl->states[i] = NODE_RUNNING;
        if (!p->ops->status(p, &pn, NULL))
            nl->states[i] = pn.state;
        free(pn.ip);
    }
    return true;
}

static bool node_lost(enum provider_node_state s)
{
    return s == NODE_PREEMPTED || s == NODE_TERMINATED;
}

/*
 * The cluster is lost for good (or cannot be repaired): close its bill,
 * keep its name as retiring (torn down after the replacement launch
 * request) and go RECOVERING.
 */
static void lose_cluster(struct ctl *c, struct mjob *j, struct live *l,
                         const char *why, double now)
{
    if (deadline_mode(j)) {
        int z = zone_index(l, j->zone);
        if (z >= 0 && j->spot) {
            l->probe_after[z] = now + c->tick;
            l->cur_zone = z;
        }
    }
    /* close its bill now, and tear it down only after the replacement
     * launch request (its nodes are gone anyway); on disk as retiring so a
     * crash in between cannot leak it */
    if (!isnan(j->sim_launched) && !isnan(j->hourly) && now > j->sim_launched)
        j->cost += j->hourly * (now - j->sim_launched) / 3600.0;
    if (!isnan(j->sim_running) && now > j->sim_running)
        j->run_s += now - j->sim_running;
    archive_log(j);
    free(j->retiring);
    j->retiring = j->cluster;
    j->cluster = NULL;
    j->cluster_job = 0;
    j->sim_launched = j->sim_running = j->hourly = NAN;
    set_str(&j->status, MJOB_RECOVERING);
    set_str(&j->message, why);
    l->attempt = 0;
    l->next_try = 0;
    save(c, j);
}

/*
 * Replace the lost nodes of j's cluster in place and restart the job on
 * every rank (same SKYC_CHECKPOINT_DIR). true when the job was handled:
 * RUNNING on the repaired cluster, or finished (setup failed on the new
 * node); false = relaunch the whole cluster (nothing was changed that
 * lose_cluster() does not cover). On disk the job is RECOVERING with its
 * cluster kept while this runs; relaunch() resumes from there after a
 * crash. now: when the loss was seen (the lost nodes bill until then).
 */
static bool repair_nodes(struct ctl *c, struct mjob *j, struct live *l,
                         double now)
{
    struct node_look nl;
    bool done = false;
    if (!look_at_nodes(c, j, &nl))
        return false;
    size_t nlost = 0;
    enum mjob_loss loss = mjob_classify(nl.states, nl.n, false, &nlost);
    int kind = SPOT_SPOT;
    bool same_zone = true;
    if (deadline_mode(j) && loss == MJOB_LOSS_NODES) {
        if (!l->zones_loaded)
            load_zones(c, j, l);
        int z = zone_index(l, j->zone), zone = z;
        kind = mjob_decide(j, l->zones, l->nzones, SPOT_NONE, z < 0 ? 0 : z,
                           now - j->sim_submitted, work_done(c, j, now),
                           c->tick, c->overhead, 0, l->seen, &zone);
        same_zone = z >= 0 && zone == z;
    }
    struct mjob_node_plan np;
    mjob_plan_node_loss(j, loss, nl.n, nlost, nl.can_replace, kind, same_zone,
                        &np);
    if (loss == MJOB_LOSS_NONE && !strcmp(j->status, MJOB_RECOVERING)) {
        /* resuming a repair whose nodes are all up (it finished before a
         * crash): restart the job where it is */
        np.replace = true;
        np.why = "every node up";
    }
    if (!np.replace) {
        if (loss == MJOB_LOSS_NODES)
            EVENT(c, j, now, "NODES_LOST", "%zu of %zu nodes lost; the whole "
                  "cluster is relaunched (%s)", nlost, nl.n, np.why);
        goto out;
    }
    /* the healthy nodes bill on; the lost ones stopped billing now */
    double kept = 0;
    for (size_t i = 0; i < nl.n; i++)
        if (!node_lost(nl.states[i]))
            kept += nl.nodes[i].hourly_price;
    if (!isnan(j->sim_launched) && !isnan(j->hourly) && now > j->sim_launched)
        j->cost += j->hourly * (now - j->sim_launched) / 3600.0;
    if (!isnan(j->sim_running) && now > j->sim_running)
        j->run_s += now - j->sim_running;
    archive_log(j);
    j->cluster_job = 0; /* archived once; a new job id comes with do_launch */
    j->hourly = kept;
    j->sim_launched = now;
    j->sim_running = NAN;
    set_str(&j->status, MJOB_RECOVERING);
    set_str(&j->message, "replacing lost nodes in place");
    save(c, j); /* the cluster stays j->cluster: on disk before acting */

    char *ckpt = jobs_checkpoint_dir(j->id);
    char *env0 = xasprintf("SKYC_CHECKPOINT_DIR=%s", ckpt);
    char *env1 = xasprintf("SKYC_MANAGED_JOB_ID=%ld", j->id);
    const char *env[] = {env0, env1, NULL};
    char *dir = jobs_dir(j->id);
    char *slog = path_join(dir, "replace.log");
    bool ok = true;
    if (chdir(j->cwd))
        log_warning("job %ld: cannot enter '%s': %s", j->id, j->cwd,
                    strerror(errno));
    for (size_t i = 0; i < nl.n && ok; i++) {
        if (!node_lost(nl.states[i]))
            continue;
        const char *reason =
            nl.states[i] == NODE_PREEMPTED ? "preempted" : "gone";
        struct rt_replace_opts ro = {
            .task = j->task,
            .cluster = j->cluster,
            .rank = nl.nodes[i].rank,
            .spot = np.spot,
            .env = env,
            .setup_log = slog,
            .reason = reason,
        };
        struct rt_replaced rr;
        struct skyc_error e = {0};
        log_info("job %ld: replacing node %ld of %s (%s)", j->id,
                 nl.nodes[i].rank, j->cluster, np.why);
        enum skyc_err r = rt_node_replace(&ro, &rr, &e);
        double t = ctl_clock(c, j->provider);
        if (r == SKYC_E_JOB_FAILED) {
            if (chdir("/"))
                log_warning("cannot enter '/'");
            finish(c, j, MJOB_FAILED_SETUP, e.msg);
            done = true;
            ok = false;
            break;
        }
        if (r) {
            EVENT(c, j, t, "REPLACE_FAILED", "node %ld %s: %s: %s",
                  nl.nodes[i].rank, reason, skyc_err_name(r), e.msg);
            log_info("job %ld: cannot replace node %ld: %s", j->id,
                     nl.nodes[i].rank, e.msg);
            ok = false;
            break;
        }
        EVENT(c, j, t, "REPLACED", "node %ld replaced (%s): %s -> %s, %s in "
              "%s (%s)", nl.nodes[i].rank, reason, rr.old_id, rr.new_id,
              rr.spot ? "spot" : "on-demand", rr.zone ? rr.zone : "-", np.why);
        /* the new node bills from here */
        if (t > j->sim_launched)
            j->cost += j->hourly * (t - j->sim_launched) / 3600.0;
        j->sim_launched = t;
        if (!isnan(rr.node_price))
            j->hourly += rr.node_price;
        rt_replaced_release(&rr);
        save(c, j);
    }
    if (ok && chdir("/"))
        log_warning("cannot enter '/'");
    if (ok) {
        struct skyc_error e = {0};
        double t = ctl_clock(c, j->provider);
        if (t > j->sim_launched && !isnan(j->hourly))
            j->cost += j->hourly * (t - j->sim_launched) / 3600.0;
        j->sim_launched = t;
        if (do_launch(c, j, NULL, &e)) {
            EVENT(c, j, t, "LAUNCH_FAILED", "cannot resubmit to the repaired "
                  "cluster: %s", e.msg);
        } else {
            j->sim_running = j->sim_launched = ctl_clock(c, j->provider);
            l->attempt = 0;
            EVENT(c, j, j->sim_running, "RUNNING",
                  "%s repaired: the job restarts on all %zu nodes at "
                  "$%.4f/h", j->cluster, nl.n, j->hourly);
            save(c, j);
            done = true;
        }
    }
    free(slog);
    free(dir);
    free(env0);
    free(env1);
    free(ckpt);
out:
    node_look_release(&nl);
    return done;
}

static void on_preempted(struct ctl *c, struct mjob *j, struct live *l,
                         const char *why)
{
    double now = ctl_clock(c, j->provider);
    j->preemptions++;
    EVENT(c, j, now, "PREEMPTED", "%s (%s %s/%s)", why,
          j->spot ? "spot" : "on-demand", j->region ? j->region : "-",
          j->zone ? j->zone : "-");
    log_info("job %ld: %s on %s", j->id, why, j->cluster);
    set_str(&l->lost_region, j->region);
    /* one node of several lost: replace it where the provider can */
    if (repair_nodes(c, j, l, now))
        return;
    if (mjob_status_terminal(j->status))
        return;
    /* a repair that started and failed billed the healthy nodes until now */
    if (!strcmp(j->status, MJOB_RECOVERING))
        now = ctl_clock(c, j->provider);
    lose_cluster(c, j, l, why, now);
}


/*
 * The cluster a preemption or an interrupted switch left (j->retiring)
 * joins the job's teardown list in the same row update, so j->retiring is
 * free again at once, as the recovery code expects; the list is torn down
 * by workers, one cluster at a time per job (inline without workers), and
 * a worker's end removes its name (retire_done()).
 */
static void retire(struct ctl *c, struct mjob *j, double now)
{
    if (j->retiring) {
        if (!j->cluster || strcmp(j->cluster, j->retiring))
            list_add(&j->teardown, j->retiring);
        FREE_AND_NULL(j->retiring);
        save(c, j);
    }
    if (!j->teardown)
        return;
    struct live *l = ctl_live(c, j->id);
    /* the deadline mode's switches tear down inline, at the decision point
     * (decide() relies on it), so its jobs' lists go inline too */
    if (!l || c->max_workers == 0 || deadline_mode(j)) {
        while (j->teardown) {
            const char *sp = strchr(j->teardown, ' ');
            char *name = sp ? xstrndup(j->teardown, (size_t)(sp - j->teardown))
                            : xstrdup(j->teardown);
            struct mjob old = {.id = j->id, .cluster = xstrdup(name),
                               .sim_launched = NAN, .sim_running = NAN,
                               .hourly = NAN};
            teardown(c, &old, now); /* frees old.cluster */
            list_remove(&j->teardown, name);
            free(name);
        }
        save(c, j);
        return;
    }
    if (l->teardown.pid || state_now() < l->next_check_retire ||
        !worker_free(c, j, false))
        return; /* one at a time, backing off, or the next pass */
    const char *sp = strchr(j->teardown, ' ');
    free(l->teardown.cluster);
    l->teardown.cluster = sp ? xstrndup(j->teardown,
                                        (size_t)(sp - j->teardown))
                             : xstrdup(j->teardown);
    struct skyc_error e = {0};
    if (!worker_start(c, &l->teardown, teardown_worker, l,
                      l->teardown.cluster, &e)) {
        log_warning("job %ld: %s (trying again in 5 s)", j->id, e.msg);
        l->next_check_retire = state_now() + 5;
    }
}

/* A teardown worker ended. */
static void retire_done(struct ctl *c, struct live *l, enum skyc_err r,
                        const char *msg)
{
    struct mjob *j = &l->j;
    if (r) {
        log_warning("job %ld: cannot tear down '%s': %s (trying again in "
                    "5 s)",
                    j->id, l->teardown.cluster, msg);
        l->next_check_retire = state_now() + 5;
    } else {
        list_remove(&j->teardown, l->teardown.cluster);
        save(c, j);
    }
    FREE_AND_NULL(l->teardown.cluster);
    if (mjob_status_terminal(j->status) && !j->teardown && !j->retiring)
        ctl_forget(c, j->id);
    else if (j->teardown)
        retire(c, j, ctl_clock(c, j->provider));
}

/* Restart the job on its (healthy) cluster after a user error. */
static void restart_on_cluster(struct ctl *c, struct mjob *j, int code,
                               const char *why)
{
    double now = ctl_clock(c, j->provider);
    EVENT(c, j, now, "RESTART", "exit code %d on a healthy cluster; %s", code,
          why);
    struct skyc_error e = {0};
    if (!isnan(j->sim_running) && now > j->sim_running) {
        j->run_s += now - j->sim_running;
        j->sim_running = now;
    }
    archive_log(j);
    if (do_launch(c, j, NULL, &e)) {
        EVENT(c, j, now, "LAUNCH_FAILED", "cannot resubmit: %s", e.msg);
        finish(c, j, MJOB_FAILED, e.msg);
        return;
    }
    save(c, j);
}

static void watch(struct ctl *c, struct mjob *j, struct live *l)
{
    struct state_cluster sc;
    struct skyc_error e = {0};
    char why[160] = "";
    enum skyc_err r = state_cluster_get(&c->st, j->cluster, &sc, &e);
    if (r == SKYC_E_NOT_FOUND) {
        on_preempted(c, j, l, "cluster gone");
        return;
    }
    if (r)
        return;
    state_cluster_release(&sc);
    struct state_job rj;
    if (state_job_get(&c->st, j->cluster, j->cluster_job, &rj, NULL)) {
        on_preempted(c, j, l, "cluster lost its job");
        return;
    }
    bool healthy = nodes_healthy(c, j->cluster, j->provider, why, sizeof(why));
    if (!healthy) {
        state_job_release(&rj);
        on_preempted(c, j, l, why);
        return;
    }
    if (!job_status_terminal(rj.status)) {
        state_job_release(&rj);
        if (deadline_mode(j))
            decide(c, j, l, false);
        return;
    }
    int code = rj.exit_code;
    char msg[200];
    if (!strcmp(rj.status, JOB_SUCCEEDED))
        finish(c, j, MJOB_SUCCEEDED, NULL);
    else if (!strcmp(rj.status, JOB_CANCELLED))
        finish(c, j, MJOB_CANCELLED, "its cluster job was cancelled");
    else if (!strcmp(rj.status, JOB_FAILED_SETUP)) {
        snprintf(msg, sizeof(msg), "setup failed with exit code %d", code);
        finish(c, j, MJOB_FAILED_SETUP, msg);
    } else if (code_listed(j->recover_codes, code)) {
        restart_on_cluster(c, j, code, "listed in recover_on_exit_codes");
    } else if (j->restarts < j->max_restarts) {
        j->restarts++;
        snprintf(msg, sizeof(msg), "restart %ld of %ld (max_restarts_on_errors)",
                 j->restarts, j->max_restarts);
        restart_on_cluster(c, j, code, msg);
    } else {
        snprintf(msg, sizeof(msg), "exit code %d on a healthy cluster%s", code,
                 j->max_restarts ? " (out of restarts)" : "");
        finish(c, j, MJOB_FAILED, msg);
    }
    state_job_release(&rj);
}

/* After a crash: a job caught in STARTING. */
static void resume_starting(struct ctl *c, struct mjob *j, struct live *l)
{
    struct state_cluster sc;
    double now = ctl_clock(c, j->provider);
    if (j->cluster && !state_cluster_get(&c->st, j->cluster, &sc, NULL)) {
        bool launching = !strcmp(sc.status, CLUSTER_INIT) &&
                         sc.owner_pid > 0 && sc.owner_pid != getpid() &&
                         (kill((pid_t)sc.owner_pid, 0) == 0 || errno == EPERM);
        if (!strcmp(sc.status, CLUSTER_INIT) && !launching)
            rt_reconcile_cluster(&c->st, &sc, NULL);
        state_cluster_release(&sc);
        if (launching)
            return; /* a dead controller's worker, still dying: next pass */
    }
    if (j->cluster && !state_cluster_get(&c->st, j->cluster, &sc, NULL)) {
        long last = 0;
        state_job_last_id(&c->st, j->cluster, &last, NULL);
        if (!strcmp(sc.status, CLUSTER_UP) && last > 0) {
            j->cluster_job = last;
            j->spot = sc.spot;
            set_str(&j->region, sc.region);
            set_str(&j->zone, sc.zone);
            j->hourly = sc.hourly_price;
            j->od_hourly = od_price_of(c, &sc);
            j->sim_running = now;
            set_str(&j->status, MJOB_RUNNING);
            EVENT(c, j, now, "ADOPTED", "controller restarted; %s is up",
                  j->cluster);
            state_cluster_release(&sc);
            save(c, j);
            return;
        }
        state_cluster_release(&sc);
    }
    /* nothing usable came up: tear down what is left and launch again */
    EVENT(c, j, now, "RELAUNCH", "controller restarted mid-launch");
    teardown(c, j, now);
    set_str(&j->status, j->preemptions ? MJOB_RECOVERING : MJOB_PENDING);
    (void)l;
    save(c, j);
}

static void relaunch(struct ctl *c, struct mjob *j, struct live *l);

/*
 * One look at a job. RUNNING jobs are looked at every check interval (see
 * the main loop); while state.db has not changed since the last full look
 * only the provider's node state can have, so that look is
 * nodes_healthy() alone.
 */
static void step(struct ctl *c, struct live *l, uint64_t state_ver,
                 double interval)
{
    struct mjob *j = &l->j;
    double wall = state_now();
    if (j->sim_submitted == MJOB_CLOCK_UNSET) {
        /* first sight: the submission time on the job's provider clock */
        j->sim_submitted = ctl_clock(c, j->provider) -
                           (wall - j->submitted_at) *
                               ctl_scale(c, j->provider);
        jobs_db_event(&c->db, j->id, j->sim_submitted, "SUBMITTED", NULL, 0,
                      NULL, "%s%s%s", j->strategy,
                      j->policy ? " policy " : "", j->policy ? j->policy : "");
        save(c, j);
    }
    double now = ctl_clock(c, j->provider);
    /* left by a crash mid-switch or mid-recovery: the old cluster goes */
    retire(c, j, now);
    if (l->launch.pid || mjob_status_terminal(j->status))
        return; /* a launch in flight, or finished and being torn down */
    if (j->cancel_requested) {
        if (j->cluster) {
            struct state_job rj;
            if (!state_job_get(&c->st, j->cluster, j->cluster_job, &rj,
                               NULL)) {
                if (!job_status_terminal(rj.status))
                    EVENT(c, j, now, "CANCEL", "cancelling %s job %ld",
                          j->cluster, j->cluster_job);
                state_job_release(&rj);
            }
        }
        finish(c, j, MJOB_CANCELLED, "cancelled by the user");
        return;
    }
    if (!strcmp(j->status, MJOB_STARTING)) {
        resume_starting(c, j, l);
        return;
    }
    if (!strcmp(j->status, MJOB_RUNNING)) {
        if (!deadline_mode(j)) {
            if (wall < l->next_check)
                return;
            l->next_check = wall + interval;
            char why[160] = "";
            if (l->looked && state_ver && l->state_ver == state_ver &&
                nodes_healthy(c, j->cluster, j->provider, why, sizeof(why)))
                return;
        }
        l->state_ver = state_ver;
        l->looked = true;
        watch(c, j, l);
        if (!j->retiring || mjob_status_terminal(j->status))
            return;
        /* preempted: ask for the replacement at once, then tear down */
        relaunch(c, j, l);
        retire(c, j, ctl_clock(c, j->provider));
        return;
    }
    relaunch(c, j, l);
}

/* PENDING or RECOVERING: launch (or, in the deadline mode, decide). */
static void relaunch(struct ctl *c, struct mjob *j, struct live *l)
{
    if (j->cluster && !strcmp(j->status, MJOB_RECOVERING)) {
        /* a node repair that a crash interrupted: a cluster left INIT by
         * the dead controller is torn down by reconcile; what is left is
         * repaired again or relaunched whole */
        struct state_cluster sc;
        if (!state_cluster_get(&c->st, j->cluster, &sc, NULL)) {
            rt_reconcile_cluster(&c->st, &sc, NULL);
            state_cluster_release(&sc);
        }
        double now = ctl_clock(c, j->provider);
        EVENT(c, j, now, "RESUME",
              "controller restarted mid node repair of %s", j->cluster);
        if (repair_nodes(c, j, l, now) || mjob_status_terminal(j->status))
            return;
        lose_cluster(c, j, l, "node repair interrupted",
                     ctl_clock(c, j->provider));
    }
    if (deadline_mode(j)) {
        decide(c, j, l, l->seen == 0 || !strcmp(j->status, MJOB_PENDING) ||
                            l->next_decision == 0);
        if (!strcmp(j->status, MJOB_RECOVERING) && !j->cluster &&
            l->nzones == 0 && j->launches == 0)
            finish(c, j, MJOB_FAILED_NO_RESOURCE, "no spot zone to run in");
        return;
    }
    if (state_now() < l->next_try)
        return;
    struct mjob_plan p;
    mjob_plan_recovery(j, j->preemptions ? l->lost_region : NULL, l->attempt,
                       &p);
    if (j->avoid_region && !p.avoid_region && !p.region && l->attempt == 0)
        p.avoid_region = j->avoid_region;
    enum skyc_err why;
    if (launch_cluster(c, j, l, &p, &why))
        return;
    if (mjob_status_terminal(j->status))
        return;
    if (!j->preemptions && !j->restarts && !strcmp(j->status, MJOB_PENDING)) {
        finish(c, j, MJOB_FAILED_NO_RESOURCE, j->message);
        return;
    }
    l->attempt++;
    if (l->attempt >= 2) {
        double back = SKYC_MIN(10.0, 0.25 * (double)(1L << SKYC_MIN(l->attempt, 8)));
        l->next_try = state_now() + back;
    }
}

/* ---- the daemon ---------------------------------------------------------- */

static char *ctl_file(const char *name)
{
    char *dir = path_state_dir();
    char *jd = path_join(dir, "jobs");
    path_mkdir_p(jd, 0700);
    char *p = path_join(jd, name);
    free(jd);
    free(dir);
    return p;
}

long jobs_controller_pid(void)
{
    char *lock = ctl_file("controller.lock");
    char *pidf = ctl_file("controller.pid");
    long pid = 0;
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            flock(fd, LOCK_UN); /* nobody holds it */
        else {
            FILE *f = fopen(pidf, "r");
            if (f) {
                if (fscanf(f, "%ld", &pid) != 1)
                    pid = 0;
                fclose(f);
            }
            if (pid <= 0)
                pid = -1; /* held, pid not written yet */
        }
        close(fd);
    }
    free(lock);
    free(pidf);
    return pid;
}

void jobs_controller_wake(void)
{
    long pid = jobs_controller_pid();
    if (pid > 0)
        kill((pid_t)pid, SIGUSR1);
}

enum skyc_err jobs_controller_ensure(struct skyc_error *err)
{
    if (jobs_controller_pid() > 0)
        return SKYC_OK;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return skyc_fail(err, SKYC_E_IO, "cannot find the skyc binary: %s",
                         strerror(errno));
    exe[n] = '\0';
    char *logp = jobs_controller_log();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        free(logp);
        return skyc_fail(err, SKYC_E_IO, "cannot start the controller: %s",
                         strerror(errno));
    }
    if (pid == 0) {
        /* signals stay blocked across exec: a wake-up sent before the
         * controller is ready waits for its sigtimedwait() */
        setsid();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        pid_t g = fork();
        if (g == 0) {
            int nul = open("/dev/null", O_RDONLY);
            int lf = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (nul >= 0)
                dup2(nul, 0);
            if (lf >= 0) {
                dup2(lf, 1);
                dup2(lf, 2);
            }
            for (int fd = 3; fd < 1024; fd++)
                close(fd);
            execl(exe, "skyc", "jobs", "controller", (char *)NULL);
            _exit(127);
        }
        _exit(g < 0 ? 1 : 0);
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    free(logp);
    for (int i = 0; i < 500; i++) {
        if (jobs_controller_pid() > 0)
            return SKYC_OK;
        usleep(10000);
    }
    return skyc_fail(err, SKYC_E_FAILED,
                     "the jobs controller did not start (see its log under "
                     "$XDG_STATE_HOME/skyc/jobs/controller.log)");
}

static double env_num(const char *name, double def)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    double d = strtod(v, &end);
    return end != v && d > 0 ? d : def;
}

/* Read what changed in jobs.db since the last read: new jobs, cancel
 * requests (the controller is the only other writer). */
static void load_jobs(struct ctl *c)
{
    struct mjob *js = NULL;
    size_t n = 0;
    struct skyc_error e = {0};
    if (jobs_db_list_work(&c->db, c->max_id, &js, &n, &e)) {
        log_warning("%s", e.msg);
        c->jobs_ver = 0; /* read again next pass */
        return;
    }
    for (size_t i = 0; i < n; i++)
        ctl_adopt(c, &js[i]);
    mjob_list_free(js, n);
}

/* A launch worker ended: hand its result back through relaunch(). */
static void launch_done(struct ctl *c, struct live *l, enum skyc_err r,
                        char *msg)
{
    struct mjob *j = &l->j;
    struct skyc_error e = {0};
    if (!r && (r = adopt_launch(c, j, &e))) {
        free(msg);
        msg = xstrdup(e.msg);
    }
    l->launch_done = true;
    l->launch_rc = r;
    l->launch_msg = msg;
    relaunch(c, j, l);
    if (l->launch_done) {
        enum skyc_err why;
        launch_cluster(c, j, l, NULL, &why);
    }
}

static void reap(struct ctl *c)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < c->nlive; i++) {
            struct live *l = &c->live[i];
            char *msg = NULL;
            if (l->launch.pid == pid) {
                enum skyc_err r = worker_result(c, &l->launch, status, &msg);
                use_job(c, &l->j);
                launch_done(c, l, r, msg);
                break;
            }
            if (l->teardown.pid == pid) {
                enum skyc_err r =
                    worker_result(c, &l->teardown, status, &msg);
                use_job(c, &l->j);
                retire_done(c, l, r, msg);
                free(msg);
                break;
            }
        }
    }
}

static void sweep_forgotten(struct ctl *c)
{
    for (size_t i = 0; i < c->nlive;) {
        struct live *l = &c->live[i];
        if (l->forget && !l->launch.pid && !l->teardown.pid) {
            live_release(l);
            c->live[i] = c->live[--c->nlive];
        } else
            i++;
    }
}

int jobs_controller_main(bool foreground)
{
    struct ctl c;
    memset(&c, 0, sizeof(c));
    struct skyc_error e = {0};
    int rc = 1;
    char *lock = ctl_file("controller.lock");
    char *pidf = ctl_file("controller.pid");
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    log_init("jobs-controller");
    log_set_level(LOG_INFO);
    bool owner = false;
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB)) {
        log_notice("another controller runs; exiting");
        rc = 0;
        goto out;
    }
    owner = true;
    {
        FILE *f = fopen(pidf, "w");
        if (f) {
            fprintf(f, "%ld\n", (long)getpid());
            fclose(f);
        }
    }
    if (jobs_db_open(&c.db, &e) || state_open(&c.st, &e)) {
        log_warning("%s", e.msg);
        goto out;
    }
    c.own_env = jobs_env_snapshot();
    {
        const char *w = getenv("SKYC_JOBS_WORKERS");
        c.max_workers = w && *w ? (size_t)strtoul(w, NULL, 10) : 4;
    }
    double check_ms = env_num("SKYC_JOBS_CHECK_MS", 0);
    c.tick = env_num("SKYC_JOBS_TICK_S", 600);
    c.overhead = env_num("SKYC_JOBS_OVERHEAD_S", c.tick);
    double poll_ms = env_num("SKYC_JOBS_POLL_MS", 100);
    double idle_exit = foreground ? 0 : env_num("SKYC_JOBS_IDLE_EXIT_S", 300);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD); /* a worker ended */
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    log_notice("controller %ld started (poll %.0f ms, %zu workers)",
               (long)getpid(), poll_ms, c.max_workers);
    double idle_since = state_now();
    bool first = true;
    for (;;) {
        uint64_t jv = db_data_version(c.db.db);
        if (first || jv != c.jobs_ver) {
            c.jobs_ver = jv;
            load_jobs(&c);
            first = false;
        }
        reap(&c);
        /* RUNNING jobs: one look each per interval, the interval growing
         * with their number (0.5 ms of budget per job, 1 s at most), so a
         * thousand jobs cost a bounded rate of looks */
        size_t nrun = 0;
        for (size_t i = 0; i < c.nlive; i++)
            nrun += !strcmp(c.live[i].j.status, MJOB_RUNNING);
        double interval =
            check_ms > 0 ? check_ms / 1000
                         : SKYC_MIN(1.0, SKYC_MAX(poll_ms / 1000,
                                                  (double)nrun * 0.0005));
        uint64_t sv = db_data_version(c.st.db);
        /* recoveries and running jobs first, then first launches */
        for (int pass = 0; pass < 2; pass++)
            for (size_t i = 0; i < c.nlive; i++) {
                struct live *l = &c.live[i];
                if (l->forget ||
                    !strcmp(l->j.status, MJOB_PENDING) != (pass == 1))
                    continue;
                use_job(&c, &l->j);
                step(&c, l, sv, interval);
            }
        sweep_forgotten(&c);
        double now = state_now();
        if (c.nlive || c.nworkers)
            idle_since = now;
        else if (idle_exit > 0 && now - idle_since > idle_exit) {
            log_notice("no unfinished jobs for %.0f s; exiting", idle_exit);
            break;
        }
        struct timespec ts = {(time_t)(poll_ms / 1000),
                              (long)fmod(poll_ms, 1000) * 1000000L};
        int sig = sigtimedwait(&set, NULL, &ts);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
            log_notice("signal %d; exiting (jobs keep running)", sig);
            break;
        }
    }
    rc = 0;
out:
    if (owner)
        unlink(pidf);
    /* workers die with us (PR_SET_PDEATHSIG); what they leave is on disk */
    for (size_t i = 0; i < c.nlive; i++)
        live_release(&c.live[i]);
    for (size_t i = 0; i < c.nenvs; i++)
        ctl_env_free(c.envs[i]);
    free(c.envs);
    free(c.own_env);
    free(c.cwd);
    free(c.live);
    if (c.st.db)
        state_close(&c.st);
    if (c.db.db)
        jobs_db_close(&c.db);
    if (fd >= 0)
        close(fd);
    free(lock);
    free(pidf);
    return rc;
}
