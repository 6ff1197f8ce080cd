/*
 * cluster.c - clusters as the runtime sees them: loading, the agent's
 * process, stop/start/down, and reconciliation after a crash.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "runtime/runtime.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

void rt_hash_hex(const char *s, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    snprintf(out, 17, "%016" PRIx64, h);
}

char *rt_cluster_dir(const char *name)
{
    char *st = path_state_dir();
    char *d = xasprintf("%s/clusters/%s", st, name);
    free(st);
    return d;
}

char *rt_job_log_path(const char *cluster, long id)
{
    char *d = rt_cluster_dir(cluster);
    char *p = xasprintf("%s/jobs/%ld.log", d, id);
    free(d);
    return p;
}

void rt_node_view(const struct state_node *sn, struct provider_node *pn)
{
    memset(pn, 0, sizeof(*pn));
    pn->id = sn->id;
    pn->ip = sn->ip;
    pn->workdir = sn->workdir;
    pn->region = sn->region;
    pn->zone = sn->zone;
    pn->instance_type = sn->instance_type;
    pn->spot = sn->spot;
    pn->hourly_price = sn->hourly_price;
    pn->cpus = sn->cpus;
    pn->gpus = sn->gpus;
    pn->state = NODE_RUNNING;
}

enum skyc_err rt_cluster_load(struct state *st, const char *name,
                              bool open_provider, struct rt_cluster *rc,
                              struct skyc_error *err)
{
    enum skyc_err r;
    memset(rc, 0, sizeof(*rc));
    if ((r = state_cluster_get(st, name, &rc->c, err)))
        goto fail;
    if ((r = state_nodes_get(st, name, &rc->nodes, &rc->nnodes, err)))
        goto fail;
    if (open_provider) {
        if ((r = provider_open(rc->c.provider, &rc->prov, err)))
            goto fail;
        rc->prov_open = true;
    }
    return SKYC_OK;
fail:
    rt_cluster_release(rc);
    return r;
}

void rt_cluster_release(struct rt_cluster *rc)
{
    state_cluster_release(&rc->c);
    state_nodes_free(rc->nodes, rc->nnodes);
    if (rc->prov_open)
        provider_close(&rc->prov);
    memset(rc, 0, sizeof(*rc));
}

/* argv of a process from /proc, NUL-separated; false when unreadable. */
static bool proc_args(long pid, struct strbuf *sb)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    return strbuf_read_file(sb, path) == 0 && sb->len > 0;
}

bool rt_agent_alive(long pid, const char *cluster)
{
    if (pid <= 1)
        return false;
    struct strbuf sb = STRBUF_INIT;
    bool ok = false;
    if (proc_args(pid, &sb)) {
        /* "<exe>\0agent\0<cluster>\0" */
        const char *a0 = sb.buf, *end = sb.buf + sb.len;
        const char *a1 = a0 + strlen(a0) + 1;
        if (a1 < end && !strcmp(a1, "agent")) {
            const char *a2 = a1 + strlen(a1) + 1;
            ok = a2 < end && !strcmp(a2, cluster);
        }
    }
    strbuf_release(&sb);
    return ok;
}

static bool owner_alive(long pid)
{
    if (pid <= 1)
        return false;
    if ((pid_t)pid == getpid())
        return true;
    return !(kill((pid_t)pid, 0) && errno == ESRCH);
}

enum skyc_err rt_agent_spawn(struct state *st, struct state_cluster *c,
                             struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    char exe[4096];
    char *dir = rt_cluster_dir(c->name);
    char *jobs = path_join(dir, "jobs");
    char *logp = path_join(dir, "agent.log");
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    int pfd[2] = {-1, -1};
    if (n <= 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot find the skyc binary: %s",
                       strerror(errno));
        goto out;
    }
    exe[n] = '\0';
    if (path_mkdir_p(jobs, 0700)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", jobs,
                       strerror(errno));
        goto out;
    }
    if (pipe2(pfd, O_CLOEXEC)) {
        rc = skyc_fail(err, SKYC_E_IO, "pipe: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot start the agent: %s",
                       strerror(errno));
        goto out;
    }
    if (pid == 0) {
        /* Double fork: the agent is reparented at once, never a zombie of
         * this process. Its signals stay blocked across exec, so a wake-up
         * sent before it is ready waits in its signalfd. */
        setsid();
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
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
            execl(exe, "skyc", "agent", c->name, (char *)NULL);
            _exit(127);
        }
        long gp = g;
        if (write(pfd[1], &gp, sizeof(gp)) != (ssize_t)sizeof(gp))
            _exit(1);
        _exit(0);
    }
    close(pfd[1]);
    pfd[1] = -1;
    long agent = 0;
    ssize_t r = read(pfd[0], &agent, sizeof(agent));
    waitpid(pid, NULL, 0);
    if (r != (ssize_t)sizeof(agent) || agent <= 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot start the agent of '%s'",
                       c->name);
        goto out;
    }
    c->agent_pid = agent;
    c->updated_at = state_now();
    rc = state_cluster_update(st, c, err);
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    free(dir);
    free(jobs);
    free(logp);
    return rc;
}

void rt_agent_wake(const struct state_cluster *c)
{
    if (rt_agent_alive(c->agent_pid, c->name))
        kill((pid_t)c->agent_pid, SIGUSR1);
}

void rt_agent_shutdown(const struct state_cluster *c)
{
    if ((pid_t)c->agent_pid == getpid() ||
        !rt_agent_alive(c->agent_pid, c->name))
        return;
    kill((pid_t)c->agent_pid, SIGTERM);
    for (int i = 0; i < 2000 && rt_agent_alive(c->agent_pid, c->name); i++)
        usleep(5000);
    if (rt_agent_alive(c->agent_pid, c->name))
        kill((pid_t)c->agent_pid, SIGKILL);
}

/* Close (or pause) the cluster's history entry at now. */
static enum skyc_err history_mark(struct state *st, long id,
                                  const char *status, bool end, bool running,
                                  struct skyc_error *err)
{
    struct state_history h;
    enum skyc_err rc = state_history_get(st, id, &h, NULL);
    if (rc == SKYC_E_NOT_FOUND)
        return SKYC_OK;
    if (rc)
        return skyc_fail(err, rc, "cannot read launch history %ld", id);
    double now = state_now();
    h.billed_seconds = state_history_seconds(&h, now);
    h.running_since = running ? now : NAN;
    if (end)
        h.ended_at = now;
    free(h.status);
    h.status = xstrdup(status);
    rc = state_history_update(st, &h, err);
    state_history_release(&h);
    return rc;
}

/* Kill what a job started, from its recorded procs. */
static void kill_job_procs(struct provider *p, const struct state_job *j)
{
    if (!j->procs)
        return;
    json_t *a = json_loads(j->procs, 0, NULL);
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *node = json_string_value(json_object_get(v, "node"));
        json_int_t pid = json_integer_value(json_object_get(v, "pid"));
        if (!node || pid <= 1)
            continue;
        struct provider_proc pr = {.pid = (long)pid, .node_id = (char *)node};
        p->ops->kill(p, &pr, SIGKILL, NULL);
    }
    json_decref(a);
}

void rt_kill_active_jobs(struct state *st, struct provider *p,
                         const char *cluster)
{
    struct state_job *jobs = NULL;
    size_t n = 0;
    if (state_job_list(st, cluster, true, &jobs, &n, NULL))
        return;
    for (size_t i = 0; i < n; i++)
        kill_job_procs(p, &jobs[i]);
    state_job_list_free(jobs, n);
}

/* Mark every unfinished job of a cluster as `status` (killing what runs). */
static void end_active_jobs(struct state *st, struct rt_cluster *rc,
                            const char *status)
{
    struct state_job *jobs = NULL;
    size_t n = 0;
    if (state_job_list(st, rc->c.name, true, &jobs, &n, NULL))
        return;
    for (size_t i = 0; i < n; i++) {
        if (rc->prov_open)
            kill_job_procs(&rc->prov, &jobs[i]);
        free(jobs[i].status);
        jobs[i].status = xstrdup(status);
        jobs[i].ended_at = state_now();
        state_job_update(st, &jobs[i], NULL);
    }
    state_job_list_free(jobs, n);
}

static enum skyc_err ensure_provider(struct rt_cluster *rc,
                                     struct skyc_error *err)
{
    if (rc->prov_open)
        return SKYC_OK;
    enum skyc_err r = provider_open(rc->c.provider, &rc->prov, err);
    if (!r)
        rc->prov_open = true;
    return r;
}

enum skyc_err rt_cluster_down(struct state *st, struct rt_cluster *rc,
                              struct skyc_error *err)
{
    enum skyc_err r;
    rt_agent_shutdown(&rc->c);
    if ((r = ensure_provider(rc, err)))
        return r;
    end_active_jobs(st, rc, JOB_CANCELLED);
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct provider_node pn;
        rt_node_view(&rc->nodes[i], &pn);
        struct skyc_error e = {0};
        if ((r = rc->prov.ops->terminate(&rc->prov, &pn, &e)))
            return skyc_fail(err, r,
                             "cannot terminate node '%s' of cluster '%s': %s",
                             pn.id, rc->c.name, e.msg);
    }
    /* and any node a replacement started but did not get to record */
    if (rc->prov.ops->terminate_cluster)
        rc->prov.ops->terminate_cluster(&rc->prov, rc->c.name, NULL);
    if ((r = history_mark(st, rc->c.history_id, "TERMINATED", true, false,
                          err)) ||
        (r = state_cluster_delete(st, rc->c.name, err)))
        return r;
    char *dir = rt_cluster_dir(rc->c.name);
    path_remove_tree(dir);
    free(dir);
    return SKYC_OK;
}

enum skyc_err rt_cluster_stop(struct state *st, struct rt_cluster *rc,
                              struct skyc_error *err)
{
    enum skyc_err r;
    if (!strcmp(rc->c.status, CLUSTER_STOPPED))
        return SKYC_OK;
    rt_agent_shutdown(&rc->c);
    if ((r = ensure_provider(rc, err)))
        return r;
    end_active_jobs(st, rc, JOB_CANCELLED);
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct provider_node pn;
        rt_node_view(&rc->nodes[i], &pn);
        struct skyc_error e = {0};
        if ((r = rc->prov.ops->stop(&rc->prov, &pn, &e)))
            return skyc_fail(err, r, "cannot stop node '%s' of cluster '%s': %s",
                             pn.id, rc->c.name, e.msg);
    }
    free(rc->c.status);
    rc->c.status = xstrdup(CLUSTER_STOPPED);
    rc->c.agent_pid = 0;
    rc->c.updated_at = state_now();
    if ((r = state_cluster_update(st, &rc->c, err)))
        return r;
    return history_mark(st, rc->c.history_id, CLUSTER_STOPPED, false, false,
                        err);
}

enum skyc_err rt_cluster_start(struct state *st, struct rt_cluster *rc,
                               struct skyc_error *err)
{
    enum skyc_err r;
    if ((r = ensure_provider(rc, err)))
        return r;
    for (size_t i = 0; i < rc->nnodes; i++) {
        struct provider_node pn;
        rt_node_view(&rc->nodes[i], &pn);
        struct skyc_error e = {0};
        if ((r = rc->prov.ops->start(&rc->prov, &pn, &e)))
            return skyc_fail(err, r,
                             "cannot start node '%s' of cluster '%s': %s",
                             pn.id, rc->c.name, e.msg);
    }
    bool was_up = !strcmp(rc->c.status, CLUSTER_UP);
    free(rc->c.status);
    rc->c.status = xstrdup(CLUSTER_UP);
    rc->c.updated_at = state_now();
    if ((r = state_cluster_update(st, &rc->c, err)))
        return r;
    if (!was_up &&
        (r = history_mark(st, rc->c.history_id, CLUSTER_UP, false, true, err)))
        return r;
    if (!rt_agent_alive(rc->c.agent_pid, rc->c.name))
        return rt_agent_spawn(st, &rc->c, err);
    return SKYC_OK;
}

static void reconcile_init(struct state *st, const char *name, FILE *notes)
{
    struct rt_cluster rc;
    struct skyc_error e = {0};
    if (rt_cluster_load(st, name, true, &rc, &e)) {
        log_warning("reconcile: cannot load cluster '%s': %s", name, e.msg);
        return;
    }
    for (size_t i = 0; i < rc.nnodes; i++) {
        struct provider_node pn;
        rt_node_view(&rc.nodes[i], &pn);
        rc.prov.ops->terminate(&rc.prov, &pn, NULL);
    }
    if (rc.prov.ops->terminate_cluster)
        rc.prov.ops->terminate_cluster(&rc.prov, name, NULL);
    rt_agent_shutdown(&rc.c);
    history_mark(st, rc.c.history_id, "FAILED", true, false, NULL);
    state_cluster_delete(st, name, NULL);
    char *dir = rt_cluster_dir(name);
    path_remove_tree(dir);
    free(dir);
    if (notes)
        fprintf(notes,
                "skyc: note: cluster '%s' was left in INIT by a launch that "
                "died; terminated its %zu node%s\n",
                name, rc.nnodes, rc.nnodes == 1 ? "" : "s");
    rt_cluster_release(&rc);
}

static void reconcile_agent(struct state *st, const char *name, FILE *notes)
{
    struct rt_cluster rc;
    struct skyc_error e = {0};
    /* one transaction, so two skyc processes reconciling at once start one
     * agent between them */
    if (state_begin(st, &e)) {
        log_warning("reconcile: %s", e.msg);
        return;
    }
    if (rt_cluster_load(st, name, true, &rc, &e)) {
        state_rollback(st);
        return;
    }
    if (strcmp(rc.c.status, CLUSTER_UP) ||
        rt_agent_alive(rc.c.agent_pid, rc.c.name)) {
        state_rollback(st);
        rt_cluster_release(&rc);
        return;
    }
    end_active_jobs(st, &rc, JOB_FAILED);
    if (rt_agent_spawn(st, &rc.c, &e) || state_commit(st, &e)) {
        state_rollback(st);
        log_warning("reconcile: %s", e.msg);
    } else if (notes)
        fprintf(notes,
                "skyc: note: the agent of cluster '%s' had died; its "
                "unfinished jobs are marked FAILED and a new agent runs\n",
                name);
    rt_cluster_release(&rc);
}

/* Whether a node of c is PREEMPTED by the provider; *rank which. */
static bool node_preempted(struct state *st, const struct state_cluster *c,
                           struct provider *p, long *rank)
{
    struct state_node *nodes = NULL;
    size_t n = 0;
    bool gone = false;
    if (state_nodes_get(st, c->name, &nodes, &n, NULL))
        return false;
    for (size_t i = 0; i < n && !gone; i++) {
        struct provider_node pn;
        rt_node_view(&nodes[i], &pn);
        pn.ip = NULL; /* status() may set it; the strings are borrowed */
        if (p->ops->status(p, &pn, NULL))
            continue;
        free(pn.ip);
        if (pn.state == NODE_PREEMPTED) {
            gone = true;
            *rank = nodes[i].rank;
        }
    }
    state_nodes_free(nodes, n);
    return gone;
}

static bool job_done(const char *s)
{
    return !strcmp(s, JOB_SUCCEEDED) || !strcmp(s, JOB_FAILED) ||
           !strcmp(s, JOB_FAILED_SETUP);
}

/*
 * A node was preempted: the cluster becomes PREEMPTED (in one transaction,
 * so no other skyc restarts its agent), then its agent stops and every job
 * that was unfinished is FAILED (the agent's shutdown would call them
 * CANCELLED; the user did not cancel them).
 */
static void reconcile_preempted(struct state *st, const char *name,
                                struct provider *p, long rank, FILE *notes)
{
    struct skyc_error e = {0};
    struct state_cluster c;
    struct state_job *jobs = NULL;
    size_t nj = 0, failed = 0;
    if (state_begin(st, &e)) {
        log_warning("reconcile: %s", e.msg);
        return;
    }
    if (state_cluster_get(st, name, &c, NULL)) {
        state_rollback(st);
        return;
    }
    if (strcmp(c.status, CLUSTER_UP)) {
        state_rollback(st);
        state_cluster_release(&c);
        return;
    }
    /* the name and pid, for the shutdown after the commit */
    struct state_cluster agent = {.name = c.name, .agent_pid = c.agent_pid};
    free(c.status);
    c.status = xstrdup(CLUSTER_PREEMPTED);
    c.agent_pid = 0;
    c.updated_at = state_now();
    if (state_job_list(st, name, true, &jobs, &nj, NULL) ||
        state_cluster_update(st, &c, &e) || state_commit(st, &e)) {
        state_rollback(st);
        log_warning("reconcile: cannot mark '%s' preempted: %s", name, e.msg);
        goto out;
    }
    rt_agent_shutdown(&agent);
    for (size_t i = 0; i < nj; i++) {
        struct state_job j;
        if (state_job_get(st, name, jobs[i].id, &j, NULL))
            continue;
        if (!job_done(j.status)) {
            kill_job_procs(p, &j);
            free(j.status);
            j.status = xstrdup(JOB_FAILED);
            j.ended_at = state_now();
            /* killed with the node, as the provider's SIGKILL would say */
            if (j.started_at > 0)
                j.exit_code = 128 + SIGKILL;
            state_job_update(st, &j, NULL);
            failed++;
        }
        state_job_release(&j);
    }
    history_mark(st, c.history_id, CLUSTER_PREEMPTED, false, false, NULL);
    if (notes)
        fprintf(notes,
                "skyc: note: node %ld of cluster '%s' was preempted; the "
                "cluster is PREEMPTED, %zu unfinished job%s FAILED ('skyc "
                "down %s' removes it)\n",
                rank, name, failed, failed == 1 ? "" : "s", name);
out:
    state_job_list_free(jobs, nj);
    state_cluster_release(&c);
}

/* Providers opened once per reconciliation, by name. */
struct prov_cache {
    char *name[4];
    struct provider prov[4];
    bool ok[4];
    size_t n;
};

static struct provider *prov_get(struct prov_cache *pc, const char *name)
{
    for (size_t i = 0; i < pc->n; i++)
        if (!strcmp(pc->name[i], name))
            return pc->ok[i] ? &pc->prov[i] : NULL;
    if (pc->n == sizeof(pc->name) / sizeof(pc->name[0]))
        return NULL;
    size_t i = pc->n++;
    pc->name[i] = xstrdup(name);
    pc->ok[i] = !provider_open(name, &pc->prov[i], NULL);
    return pc->ok[i] ? &pc->prov[i] : NULL;
}

static void prov_cache_release(struct prov_cache *pc)
{
    for (size_t i = 0; i < pc->n; i++) {
        if (pc->ok[i])
            provider_close(&pc->prov[i]);
        free(pc->name[i]);
    }
    pc->n = 0;
}

static void reconcile_one(struct state *st, const struct state_cluster *c,
                          struct prov_cache *pc, bool refresh, FILE *notes)
{
    if (!strcmp(c->status, CLUSTER_UP)) {
        struct provider *p = prov_get(pc, c->provider);
        long rank = 0;
        if (p && (refresh || !p->ops->status_remote) &&
            node_preempted(st, c, p, &rank)) {
            reconcile_preempted(st, c->name, p, rank, notes);
            return;
        }
    }
    if (!strcmp(c->status, CLUSTER_INIT) && !owner_alive(c->owner_pid))
        reconcile_init(st, c->name, notes);
    else if (!strcmp(c->status, CLUSTER_UP) &&
             !rt_agent_alive(c->agent_pid, c->name))
        reconcile_agent(st, c->name, notes);
}

void rt_reconcile_cluster(struct state *st, const struct state_cluster *c,
                          FILE *notes)
{
    struct prov_cache pc = {0};
    reconcile_one(st, c, &pc, false, notes);
    prov_cache_release(&pc);
}

enum skyc_err rt_reconcile_refresh(struct state *st, FILE *notes,
                                   bool refresh, struct skyc_error *err)
{
    struct state_cluster *cs = NULL;
    size_t n = 0;
    struct prov_cache pc = {0};
    enum skyc_err r = state_cluster_list_live(st, &cs, &n, err);
    if (r)
        return r;
    for (size_t i = 0; i < n; i++)
        reconcile_one(st, &cs[i], &pc, refresh, notes);
    prov_cache_release(&pc);
    state_cluster_list_free(cs, n);
    return SKYC_OK;
}

enum skyc_err rt_reconcile(struct state *st, FILE *notes,
                           struct skyc_error *err)
{
    return rt_reconcile_refresh(st, notes, false, err);
}
