/*
 * launch.c - `skyc launch` and `skyc exec`: task -> (optimizer) ->
 * provision with failover -> workdir and file_mounts -> agent -> job with
 * setup (once per cluster) and run -> stream the log -> the job's result.
 *
 * Everything a launch can reject (bad task, missing workdir or file_mount
 * source, a cluster in the wrong state) is checked before anything is
 * provisioned. While the new cluster is INIT its row names this process as
 * owner, so a launch killed at any point is cleaned up by the next
 * rt_reconcile(). Ctrl-C while provisioning tears the new cluster down;
 * Ctrl-C while streaming only detaches (the job keeps running).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "catalog/catalog.h"
#include "optimizer/optimizer.h"
#include "provision/failover.h"
#include "runtime/runtime.h"
#include "task/task.h"

#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* A task from a YAML file, or from an inline command ("echo hi"). */
static enum skyc_err load_task(const char *spec, struct task_dag *dag,
                               struct skyc_error *err)
{
    size_t n = strlen(spec);
    bool yaml = (n > 5 && !strcmp(spec + n - 5, ".yaml")) ||
                (n > 4 && !strcmp(spec + n - 4, ".yml"));
    if (yaml || path_is_file(spec))
        return task_dag_load_file(dag, spec, err);
    struct strbuf sb = STRBUF_INIT;
    strbuf_addstr(&sb, "run: |\n");
    for (const char *p = spec; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        strbuf_addstr(&sb, "  ");
        strbuf_add(&sb, p, len);
        strbuf_addch(&sb, '\n');
        p += len + (nl ? 1 : 0);
    }
    enum skyc_err rc =
        task_dag_load_string(dag, sb.buf, sb.len, "<command>", err);
    strbuf_release(&sb);
    return rc;
}

/* What one job of this task uses per node. */
static void task_demand(const struct task *t, double *cpus, double *gpus,
                        const char **accel)
{
    const struct task_resources *r = &t->resources[0];
    *cpus = r->cpus.kind == TASK_AMOUNT_ANY ? 0.5 : r->cpus.value;
    *gpus = r->accelerator ? r->accelerator_count : 0;
    *accel = r->accelerator;
}

static bool is_bucket(const char *s)
{
    return s && strstr(s, "://") != NULL;
}

/* Check what must exist before anything is provisioned. */
static enum skyc_err check_inputs(const struct task_dag *dag,
                                  const struct task *t, bool exec,
                                  struct skyc_error *err)
{
    if (t->workdir && !path_is_dir(t->workdir))
        return skyc_fail(err, SKYC_E_NOT_FOUND,
                         "%s:%u: workdir '%s' does not exist (create it or fix "
                         "the path; it is relative to where skyc runs)",
                         dag->path, t->mark.line, t->workdir);
    for (size_t i = 0; !exec && i < t->nfile_mounts; i++) {
        const char *src = t->file_mounts[i].value;
        const char *dst = t->file_mounts[i].key;
        if (is_bucket(src))
            return skyc_fail(err, SKYC_E_INPUT,
                             "%s: file_mounts '%s': bucket source '%s' is "
                             "not supported by this runtime yet; mount a "
                             "local path",
                             dag->path, dst, src);
        if (!src || access(src, F_OK))
            return skyc_fail(err, SKYC_E_NOT_FOUND,
                             "%s: file_mounts '%s': source '%s' does not "
                             "exist",
                             dag->path, dst, src ? src : "");
    }
    return SKYC_OK;
}

/* Names become directory names: keep them to a safe alphabet. */
static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > 63 || s[0] == '.' || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

static char *new_cluster_name(void)
{
    unsigned v = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
            v ^= (unsigned)clock();
        close(fd);
    }
    return xasprintf("skyc-%04x", v & 0xffff);
}

/* Copy the workdir (and, on launch, file_mounts) to every node. */
static enum skyc_err sync_files(struct rt_cluster *rc, const struct task *t,
                                bool mounts, struct skyc_error *err)
{
    for (size_t r = 0; r < rc->nnodes; r++) {
        struct provider_node pn;
        rt_node_view(&rc->nodes[r], &pn);
        struct skyc_error e = {0};
        enum skyc_err x;
        if (t->workdir &&
            (x = rc->prov.ops->copy_to(&rc->prov, &pn, t->workdir,
                                       pn.workdir, &e)))
            return skyc_fail(err, x, "cannot sync workdir '%s' to node %zu: %s",
                             t->workdir, r, e.msg);
        for (size_t i = 0; mounts && i < t->nfile_mounts; i++)
            if ((x = rc->prov.ops->copy_to(&rc->prov, &pn,
                                           t->file_mounts[i].value,
                                           t->file_mounts[i].key, &e)))
                return skyc_fail(err, x,
                                 "cannot copy file_mounts '%s' to node %zu: "
                                 "%s",
                                 t->file_mounts[i].key, r, e.msg);
    }
    return SKYC_OK;
}

/*
 * The first place to try. Providers without a catalog (local, ssh) take
 * the task's needs as they are; catalog providers ("sim") get the
 * optimizer's choice among that cloud's offerings.
 */
static enum skyc_err plan_first(const char *provider, const char *catalog_dir,
                                const struct opt_block *avoid,
                                const struct task_dag *dag,
                                struct catalog *cat, bool *cat_loaded,
                                struct opt_params *params,
                                struct provider_request *req, char **strs,
                                struct skyc_error *err)
{
    if (!strcmp(provider, "local") || !strcmp(provider, "ssh"))
        return SKYC_OK;
    struct catalog_options copts = {.dir = catalog_dir};
    enum skyc_err rc = catalog_load(cat, &copts, err);
    if (rc)
        return rc;
    *cat_loaded = true;
    opt_params_init(params);
    if (avoid) {
        params->blocked = avoid;
        params->nblocked = 1;
    }
    struct opt_plan plan = {0};
    if ((rc = optimizer_plan(cat, dag, params, &plan, err)))
        return rc;
    const struct opt_candidate *c = &plan.tasks[0].chosen;
    const struct catalog_offering *o = &cat->offers[c->offer];
    strs[0] = xasprintf("%s:%s", provider, cloud_name(o->cloud));
    req->cloud = strs[0];
    req->region = cat->regions[o->region].name;
    req->zone = o->zone == CATALOG_NONE ? NULL : cat->zones[o->zone].name;
    req->instance_type = cat->names[o->instance];
    req->spot = c->spot;
    opt_plan_release(&plan);
    return SKYC_OK;
}

static enum skyc_err record_attempts(struct state *st, long history_id,
                                     const struct failover_result *res)
{
    for (size_t i = 0; i < res->nattempts; i++) {
        const struct failover_attempt *a = &res->attempts[i];
        struct state_attempt sa = {
            .history_id = history_id,
            .cloud = a->cloud,
            .region = a->region,
            .zone = a->zone,
            .instance_type = a->instance_type,
            .spot = a->spot,
            .result = (char *)(a->code ? skyc_err_name(a->code) : "OK"),
            .message = a->message,
        };
        state_attempt_add(st, &sa, NULL);
    }
    return SKYC_OK;
}

static void abandon_new(struct state *st, struct rt_cluster *rc,
                        const char *status)
{
    for (size_t i = 0; i < rc->nnodes && rc->prov_open; i++) {
        struct provider_node pn;
        rt_node_view(&rc->nodes[i], &pn);
        rc->prov.ops->terminate(&rc->prov, &pn, NULL);
    }
    if (rc->prov_open && rc->prov.ops->terminate_cluster)
        rc->prov.ops->terminate_cluster(&rc->prov, rc->c.name, NULL);
    struct state_history h;
    if (!state_history_get(st, rc->c.history_id, &h, NULL)) {
        h.ended_at = state_now();
        h.running_since = NAN;
        free(h.status);
        h.status = xstrdup(status);
        state_history_update(st, &h, NULL);
        state_history_release(&h);
    }
    state_cluster_delete(st, rc->c.name, NULL);
}

/* Provision a new cluster `name` and bring it to UP with its agent. */
static enum skyc_err provision_new(struct state *st, const char *name,
                                   const struct rt_launch_opts *o,
                                   const struct task_dag *dag,
                                   struct rt_cluster *rc,
                                   struct skyc_error *err)
{
    const struct task *t = &dag->tasks[0];
    const char *provider = o->provider ? o->provider
                           : task_resources_provider(&t->resources[0])
                               ? task_resources_provider(&t->resources[0])
                               : "local";
    enum skyc_err r;
    struct catalog cat;
    bool cat_loaded = false;
    struct opt_params params;
    char *strs[1] = {NULL};
    struct failover_result res = {0};
    double now = state_now();
    double cpus, gpus;
    const char *accel;
    task_demand(t, &cpus, &gpus, &accel);

    memset(rc, 0, sizeof(*rc));
    struct state_cluster *c = &rc->c;
    c->name = xstrdup(name);
    c->provider = xstrdup(provider);
    c->status = xstrdup(CLUSTER_INIT);
    c->num_nodes = t->num_nodes;
    c->hourly_price = NAN;
    c->launched_at = c->updated_at = now;
    c->owner_pid = (long)getpid();
    c->autostop_minutes = o->idle_minutes;
    c->autostop_down = o->autostop_down;
    if ((r = provider_open(provider, &rc->prov, err)))
        goto fail_early;
    rc->prov_open = true;

    struct state_history h = {
        .cluster = (char *)name,
        .provider = (char *)provider,
        .num_nodes = t->num_nodes,
        .hourly_price = NAN,
        .launched_at = now,
        .ended_at = NAN,
        .running_since = NAN,
        .status = CLUSTER_INIT,
    };
    if ((r = state_begin(st, err)))
        goto fail_early;
    if ((r = state_history_add(st, &h, err))) {
        state_rollback(st);
        goto fail_early;
    }
    c->history_id = h.id;
    if ((r = state_cluster_insert(st, c, err))) {
        state_rollback(st);
        goto fail_early;
    }
    if ((r = state_commit(st, err)))
        goto fail_early;

    struct failover_request fr = {
        .first = {.cluster = name,
                  .num_nodes = (size_t)t->num_nodes,
                  .cloud = provider,
                  .spot = t->resources[0].use_spot,
                  .cpus = t->resources[0].cpus.kind == TASK_AMOUNT_ANY
                              ? 0
                              : t->resources[0].cpus.value,
                  .gpus = gpus,
                  .accelerator = accel},
        .dag = dag,
        .task = 0,
        .retry_until_up = o->retry_until_up,
        .interrupted = &interrupted,
    };
    struct opt_block avoid = {.cloud = -1, .region = o->avoid_region,
                              .spot = -1};
    if ((r = plan_first(provider, o->catalog,
                        o->avoid_region ? &avoid : NULL, dag, &cat,
                        &cat_loaded, &params,
                        &fr.first, strs, err)))
        goto fail;
    if (cat_loaded) {
        fr.cat = &cat;
        fr.params = &params;
    }
    fprintf(stderr, "Provisioning cluster '%s' (%ld node%s on %s)...\n", name,
            t->num_nodes, t->num_nodes == 1 ? "" : "s", provider);
    struct skyc_error pe = {0};
    r = provision_with_failover(&rc->prov, &fr, &res, &pe);
    record_attempts(st, c->history_id, &res);
    if (r) {
        skyc_fail(err, r, "cannot provision cluster '%s': %s", name, pe.msg);
        goto fail;
    }
    /* record the nodes at once, so a crash from here on can clean up */
    rc->nnodes = res.nnodes;
    rc->nodes = xcalloc(res.nnodes, sizeof(*rc->nodes));
    double price = 0;
    for (size_t i = 0; i < res.nnodes; i++) {
        struct provider_node *pn = &res.nodes[i];
        struct state_node *sn = &rc->nodes[i];
        sn->rank = (long)i;
        sn->id = xstrdup(pn->id);
        sn->ip = pn->ip ? xstrdup(pn->ip) : NULL;
        sn->workdir = pn->workdir ? xstrdup(pn->workdir) : NULL;
        sn->region = pn->region ? xstrdup(pn->region) : NULL;
        sn->zone = pn->zone ? xstrdup(pn->zone) : NULL;
        sn->instance_type = pn->instance_type ? xstrdup(pn->instance_type)
                                              : NULL;
        sn->spot = pn->spot;
        sn->hourly_price = pn->hourly_price;
        sn->cpus = pn->cpus;
        sn->gpus = pn->gpus;
        price += pn->hourly_price;
    }
    if ((r = state_nodes_set(st, name, rc->nodes, rc->nnodes, err)))
        goto fail;
    if (res.nnodes) {
        const struct state_node *n0 = &rc->nodes[0];
        const struct failover_attempt *last = &res.attempts[res.nattempts - 1];
        c->cloud = xstrdup(last->cloud ? last->cloud : provider);
        c->region = n0->region ? xstrdup(n0->region) : NULL;
        c->zone = n0->zone ? xstrdup(n0->zone) : NULL;
        c->instance_type =
            n0->instance_type ? xstrdup(n0->instance_type) : NULL;
        c->spot = n0->spot;
        c->cpus = n0->cpus;
        c->gpus = n0->gpus;
    }
    c->hourly_price = price;
    c->updated_at = state_now();
    if ((r = state_cluster_update(st, c, err)))
        goto fail;
    const char *pause = getenv("SKYC_DEBUG_LAUNCH_PAUSE_MS");
    if (pause && atoi(pause) > 0) /* lets tests kill a launch mid-way */
        usleep((useconds_t)atoi(pause) * 1000);
    if (interrupted) {
        r = skyc_fail(err, SKYC_E_INTERRUPTED,
                      "interrupted; cluster '%s' was not launched and "
                      "nothing is left running",
                      name);
        goto fail;
    }
    if ((r = sync_files(rc, t, true, err)))
        goto fail;
    if ((r = rt_agent_spawn(st, c, err)))
        goto fail;
    /* UP from here: the history bills from now */
    if (!state_history_get(st, c->history_id, &h, NULL)) {
        h.cloud = c->cloud ? xstrdup(c->cloud) : NULL;
        h.region = c->region ? xstrdup(c->region) : NULL;
        h.instance_type = c->instance_type ? xstrdup(c->instance_type) : NULL;
        h.spot = c->spot;
        h.hourly_price = price;
        h.running_since = state_now();
        free(h.status);
        h.status = xstrdup(CLUSTER_UP);
        state_history_update(st, &h, NULL);
        state_history_release(&h);
    }
    free(c->status);
    c->status = xstrdup(CLUSTER_UP);
    c->owner_pid = 0;
    if ((r = state_cluster_update(st, c, err)))
        goto fail;
    r = SKYC_OK;
    goto out;
fail:
    rt_agent_shutdown(c);
    abandon_new(st, rc, interrupted ? "INTERRUPTED" : "FAILED");
    {
        char *dir = rt_cluster_dir(name);
        path_remove_tree(dir);
        free(dir);
    }
    rt_cluster_release(rc);
    goto out;
fail_early:
    rt_cluster_release(rc);
out:
    failover_result_release(&res);
    free(strs[0]);
    if (cat_loaded)
        catalog_release(&cat);
    return r;
}

/* Apply the managed-jobs overrides of o to every resource alternative. */
static void steer(const struct rt_launch_opts *o, struct task *t)
{
    for (size_t i = 0; i < t->nresources; i++) {
        struct task_resources *r = &t->resources[i];
        if (o->spot)
            r->use_spot = o->spot == 2;
        if (o->region) {
            free(r->region);
            r->region = xstrdup(o->region);
        }
        if (o->zone) {
            free(r->zone);
            r->zone = xstrdup(o->zone);
        }
    }
}

static enum skyc_err finish(const char *name, long id, const char *status,
                            int code, int *job_exit, struct skyc_error *err)
{
    if (!status)
        return SKYC_OK;
    if (!strcmp(status, JOB_SUCCEEDED))
        return SKYC_OK;
    *job_exit = code > 0 && code < 256 ? code : (int)SKYC_E_JOB_FAILED;
    if (!strcmp(status, JOB_FAILED_SETUP))
        return skyc_fail(err, SKYC_E_JOB_FAILED,
                         "setup of job %ld failed on cluster '%s' with exit "
                         "code %d (see 'skyc logs %s %ld'); fix it and run "
                         "'skyc launch -c %s' again",
                         id, name, code, name, id, name);
    if (!strcmp(status, JOB_CANCELLED))
        return skyc_fail(err, SKYC_E_JOB_FAILED,
                         "job %ld on cluster '%s' was cancelled", id, name);
    if (code > 128 && code < 160)
        return skyc_fail(err, SKYC_E_JOB_FAILED,
                         "job %ld on cluster '%s' was killed by signal %d "
                         "(%s)",
                         id, name, code - 128, strsignal(code - 128));
    return skyc_fail(err, SKYC_E_JOB_FAILED,
                     "job %ld on cluster '%s' failed with exit code %d (see "
                     "'skyc logs %s %ld')",
                     id, name, code, name, id);
}

enum skyc_err rt_launch(const struct rt_launch_opts *o, int *job_exit,
                        struct skyc_error *err)
{
    struct task_dag dag = {0};
    struct state st = {0};
    struct rt_cluster rc = {0};
    bool have_cluster = false;
    char *name = NULL;
    char *status = NULL;
    struct state_job job = {0};
    enum skyc_err r;
    struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    interrupted = 0;
    *job_exit = 0;

    if ((r = load_task(o->task, &dag, err)))
        goto out;
    if (dag.ntasks != 1) {
        r = skyc_fail(err, SKYC_E_USAGE,
                      "%s has %zu tasks; launch and exec run one task (plan "
                      "pipelines with 'skyc optimize')",
                      dag.path, dag.ntasks);
        goto out;
    }
    const struct task *t = &dag.tasks[0];
    steer(o, &dag.tasks[0]);
    if ((r = check_inputs(&dag, t, o->exec, err)))
        goto out;
    if ((r = state_open(&st, err)))
        goto out;
    name = o->cluster ? xstrdup(o->cluster) : new_cluster_name();
    if (!valid_name(name)) {
        r = skyc_fail(err, SKYC_E_USAGE,
                      "invalid cluster name '%s' (use letters, digits, '-', "
                      "'_' and '.', at most 63, not starting with '.' or "
                      "'-')",
                      name);
        goto out;
    }

    struct state_cluster existing;
    r = state_cluster_get(&st, name, &existing, err);
    if (r && r != SKYC_E_NOT_FOUND)
        goto out;
    if (!r) {
        rt_reconcile_cluster(&st, &existing, stderr);
        state_cluster_release(&existing);
    }
    skyc_error_clear(err);
    r = rt_cluster_load(&st, name, true, &rc, err);
    if (r == SKYC_E_NOT_FOUND) {
        if (o->exec) {
            skyc_error_clear(err);
            r = skyc_fail(err, SKYC_E_NOT_FOUND,
                          "no cluster named '%s' (launch it first: 'skyc "
                          "launch -c %s TASK')",
                          name, name);
            goto out;
        }
        skyc_error_clear(err);
        if ((r = provision_new(&st, name, o, &dag, &rc, err)))
            goto out;
        have_cluster = true;
    } else if (r)
        goto out;
    else {
        have_cluster = true;
        if (o->provider && strcmp(o->provider, rc.c.provider)) {
            r = skyc_fail(err, SKYC_E_USAGE,
                          "cluster '%s' runs on '%s', not '%s' (drop "
                          "--provider or pick another -c name)",
                          name, rc.c.provider, o->provider);
            goto out;
        }
        if (!strcmp(rc.c.status, CLUSTER_INIT)) {
            r = skyc_fail(err, SKYC_E_STATE,
                          "cluster '%s' is being launched by skyc process "
                          "%ld; wait for it or 'skyc down %s'",
                          name, rc.c.owner_pid, name);
            goto out;
        }
        if (t->num_nodes > rc.c.num_nodes) {
            r = skyc_fail(err, SKYC_E_USAGE,
                          "the task needs %ld nodes but cluster '%s' has %ld",
                          t->num_nodes, name, rc.c.num_nodes);
            goto out;
        }
        if (!strcmp(rc.c.status, CLUSTER_PREEMPTED)) {
            r = skyc_fail(err, SKYC_E_STATE,
                          "cluster '%s' was preempted; 'skyc down %s' "
                          "removes it, then launch it again",
                          name, name);
            goto out;
        }
        if (!strcmp(rc.c.status, CLUSTER_STOPPED)) {
            if (o->exec) {
                r = skyc_fail(err, SKYC_E_STATE,
                              "cluster '%s' is stopped; start it with 'skyc "
                              "start %s'",
                              name, name);
                goto out;
            }
            fprintf(stderr, "Starting stopped cluster '%s'...\n", name);
            if ((r = rt_cluster_start(&st, &rc, err)))
                goto out;
        }
        if ((r = sync_files(&rc, t, !o->exec, err)))
            goto out;
        if (!o->exec && o->idle_minutes >= 0) {
            rc.c.autostop_minutes = o->idle_minutes;
            rc.c.autostop_down = o->autostop_down;
            if ((r = state_cluster_update(&st, &rc.c, err)))
                goto out;
        }
    }

    /* the job */
    double cpus, gpus;
    const char *accel;
    task_demand(t, &cpus, &gpus, &accel);
    if (rc.c.cpus > 0 && cpus > rc.c.cpus + 1e-9) {
        r = skyc_fail(err, SKYC_E_INFEASIBLE,
                      "the task needs %g CPUs per node; cluster '%s' has %g",
                      cpus, name, rc.c.cpus);
        goto out;
    }
    if (gpus > rc.c.gpus + 1e-9) {
        r = skyc_fail(err, SKYC_E_INFEASIBLE,
                      "the task needs %g %s GPUs per node; cluster '%s' has "
                      "%g",
                      gpus, accel ? accel : "", name, rc.c.gpus);
        goto out;
    }
    job.cluster = xstrdup(name);
    job.name = t->name ? xstrdup(t->name) : NULL;
    job.status = xstrdup(JOB_PENDING);
    job.submitted_at = state_now();
    job.started_at = job.ended_at = NAN;
    job.exit_code = -1;
    job.cpus = cpus;
    job.gpus = gpus;
    job.num_nodes = rc.c.num_nodes;
    job.run = t->run ? xstrdup(t->run) : NULL;
    if (!o->exec && t->setup) {
        char hash[17];
        rt_hash_hex(t->setup, hash);
        if (!rc.c.setup_hash || strcmp(rc.c.setup_hash, hash))
            job.setup = xstrdup(t->setup);
    }
    job.envs = rt_task_envs(t, o->env);
    long last;
    if ((r = state_begin(&st, err)))
        goto out;
    if ((r = state_job_last_id(&st, name, &last, err))) {
        state_rollback(&st);
        goto out;
    }
    job.log_path = rt_job_log_path(name, last + 1);
    {
        char *dir = rt_cluster_dir(name);
        char *jobs = path_join(dir, "jobs");
        path_mkdir_p(jobs, 0700);
        free(jobs);
        free(dir);
    }
    if ((r = state_job_add(&st, &job, err))) {
        state_rollback(&st);
        goto out;
    }
    if ((r = state_commit(&st, err)))
        goto out;
    rt_agent_wake(&rc.c);
    fprintf(stderr, "Job %ld submitted to cluster '%s'%s.\n", job.id, name,
            job.setup ? " (with setup)" : "");
    if (o->detach) {
        fprintf(stderr, "Follow its logs: skyc logs -f %s %ld\n", name,
                job.id);
        printf("%s %ld\n", name, job.id);
        r = SKYC_OK;
        goto out;
    }
    int code;
    if ((r = rt_tail_job(&st, name, job.id, true, stdout, &interrupted,
                         &status, &code, err)))
        goto out;
    if (!status) {
        if (interrupted)
            fprintf(stderr,
                    "\nskyc: detached from job %ld on cluster '%s'; it keeps "
                    "running.\nFollow its logs: skyc logs -f %s %ld\n",
                    job.id, name, name, job.id);
        else
            fprintf(stderr, "skyc: cluster '%s' went away while job %ld ran\n",
                    name, job.id);
        r = interrupted ? SKYC_OK : SKYC_E_STATE;
        if (r)
            skyc_fail(err, r, "cluster '%s' went away while job %ld ran", name,
                      job.id);
        goto out;
    }
    r = finish(name, job.id, status, code, job_exit, err);
out:
    sigaction(SIGINT, &old_sa, NULL);
    free(status);
    state_job_release(&job);
    if (have_cluster)
        rt_cluster_release(&rc);
    if (st.db)
        state_close(&st);
    free(name);
    task_dag_release(&dag);
    return r;
}
