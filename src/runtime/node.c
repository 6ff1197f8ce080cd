/*
 * node.c - node-level work on an existing cluster (runtime.h): the
 * environment every node process gets, and replacing one lost node of a
 * multi-node cluster in place (provider add_node, files, setup on the new
 * node only, a fresh agent) while the other nodes stay as they are.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "runtime/runtime.h"
#include "task/task.h"

#include <jansson.h>
#include <unistd.h>

char *rt_task_envs(const struct task *t, const char *const *extra)
{
    json_t *o = json_object();
    for (size_t i = 0; i < t->nenvs; i++)
        json_object_set_new(o, t->envs[i].key,
                            json_string(t->envs[i].value ? t->envs[i].value
                                                         : ""));
    for (size_t i = 0; i < t->nsecrets; i++)
        json_object_set_new(o, t->secrets[i].key,
                            json_string(t->secrets[i].value
                                            ? t->secrets[i].value
                                            : ""));
    for (size_t i = 0; extra && extra[i]; i++) {
        const char *eq = strchr(extra[i], '=');
        if (!eq)
            continue;
        char *k = xstrndup(extra[i], (size_t)(eq - extra[i]));
        json_object_set_new(o, k, json_string(eq + 1));
        free(k);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s ? s : xstrdup("{}");
}

char **rt_node_env(const struct rt_cluster *rc, const char *envs_json,
                   size_t rank, long job_id, double gpus)
{
    char **env = NULL;
    size_t n = 0, alloc = 0;
    json_t *o = json_loads(envs_json ? envs_json : "{}", 0, NULL);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v))
            continue;
        ALLOC_GROW(env, n + 2, alloc);
        env[n++] = xasprintf("%s=%s", k, json_string_value(v));
    }
    json_decref(o);
    struct strbuf ips = STRBUF_INIT;
    for (size_t i = 0; i < rc->nnodes; i++)
        strbuf_addf(&ips, "%s%s", i ? "\n" : "",
                    rc->nodes[i].ip ? rc->nodes[i].ip : "");
    size_t nn = rc->nnodes;
    char *fixed[] = {
        xasprintf("SKYC_NODE_RANK=%zu", rank),
        xasprintf("SKYC_NODE_IPS=%s", ips.buf),
        xasprintf("SKYC_NUM_NODES=%zu", nn),
        xasprintf("SKYC_CLUSTER=%s", rc->c.name),
        xasprintf("SKYPILOT_NODE_RANK=%zu", rank),
        xasprintf("SKYPILOT_NODE_IPS=%s", ips.buf),
        xasprintf("SKYPILOT_NUM_NODES=%zu", nn),
        xasprintf("SKYPILOT_NUM_GPUS_PER_NODE=%g", gpus),
        xasprintf("SKYPILOT_CLUSTER_INFO={\"cluster_name\": \"%s\", "
                  "\"provider\": \"%s\"}",
                  rc->c.name, rc->c.provider),
        job_id > 0 ? xasprintf("SKYC_JOB_ID=%ld", job_id) : NULL,
        job_id > 0 ? xasprintf("SKYPILOT_TASK_ID=skyc-%s-%ld", rc->c.name,
                               job_id)
                   : NULL,
    };
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
        if (!fixed[i])
            continue;
        ALLOC_GROW(env, n + 2, alloc);
        env[n++] = fixed[i];
    }
    env[n] = NULL;
    strbuf_release(&ips);
    return env;
}

void rt_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

void rt_replaced_release(struct rt_replaced *r)
{
    free(r->old_id);
    free(r->new_id);
    free(r->zone);
    memset(r, 0, sizeof(*r));
}

/* Copy the workdir and file_mounts to one node. */
static enum skyc_err sync_node(struct rt_cluster *rc, const struct task *t,
                               const struct state_node *sn,
                               struct skyc_error *err)
{
    struct provider_node pn;
    rt_node_view(sn, &pn);
    struct skyc_error e = {0};
    enum skyc_err x;
    if (t->workdir &&
        (x = rc->prov.ops->copy_to(&rc->prov, &pn, t->workdir, pn.workdir, &e)))
        return skyc_fail(err, x, "cannot sync workdir '%s' to node %ld: %s",
                         t->workdir, sn->rank, e.msg);
    for (size_t i = 0; i < t->nfile_mounts; i++)
        if ((x = rc->prov.ops->copy_to(&rc->prov, &pn, t->file_mounts[i].value,
                                       t->file_mounts[i].key, &e)))
            return skyc_fail(err, x,
                             "cannot copy file_mounts '%s' to node %ld: %s",
                             t->file_mounts[i].key, sn->rank, e.msg);
    return SKYC_OK;
}

/* Run the task's setup on one node and wait for it. */
static enum skyc_err setup_node(struct rt_cluster *rc, const struct task *t,
                                const struct rt_replace_opts *o,
                                const struct state_node *sn,
                                struct skyc_error *err)
{
    enum skyc_err r;
    char *envs = rt_task_envs(t, o->env);
    double gpus = t->resources[0].accelerator
                      ? t->resources[0].accelerator_count
                      : 0;
    char **env = rt_node_env(rc, envs, (size_t)sn->rank, 0, gpus);
    struct provider_node pn;
    rt_node_view(sn, &pn);
    struct provider_proc proc = {0};
    struct skyc_error e = {0};
    const char *argv[] = {"/bin/bash", "-c", t->setup, NULL};
    FILE *f = fopen(o->setup_log, "a");
    if (f) {
        fprintf(f, "skyc: setup on the replacement of node %ld (%s)\n",
                sn->rank, sn->id);
        fclose(f);
    }
    if ((r = rc->prov.ops->run(&rc->prov, &pn, argv,
                               (const char *const *)env, NULL, o->setup_log,
                               &proc, &e))) {
        r = skyc_fail(err, r, "cannot start setup on node %ld: %s", sn->rank,
                      e.msg);
        goto out;
    }
    bool done = false;
    int code = -1;
    if ((r = rc->prov.ops->wait(&rc->prov, &proc, -1, &done, &code, &e))) {
        r = skyc_fail(err, r, "setup on node %ld: %s", sn->rank, e.msg);
        goto out;
    }
    if (!done || code) {
        r = skyc_fail(err, SKYC_E_JOB_FAILED,
                      "setup failed on the replacement of node %ld with "
                      "exit code %d (see '%s')",
                      sn->rank, code, o->setup_log);
        goto out;
    }
    r = SKYC_OK;
out:
    provider_proc_release(&proc);
    rt_env_free(env);
    free(envs);
    return r;
}

/* Put the cluster back in `status` with an agent (UP) after a failure. */
static void give_back(struct state *st, struct rt_cluster *rc,
                      const char *status)
{
    struct state_cluster c;
    if (state_cluster_get(st, rc->c.name, &c, NULL))
        return;
    if (!strcmp(status, CLUSTER_UP))
        rt_agent_spawn(st, &c, NULL); /* while still INIT, as above */
    free(c.status);
    c.status = xstrdup(status);
    c.owner_pid = 0;
    c.updated_at = state_now();
    state_cluster_update(st, &c, NULL);
    state_cluster_release(&c);
}

/* Resume (or keep) the history's billing and record the new price. */
static void history_resume(struct state *st, long id, double price)
{
    struct state_history h;
    if (state_history_get(st, id, &h, NULL))
        return;
    double now = state_now();
    h.billed_seconds = state_history_seconds(&h, now);
    h.running_since = now;
    h.hourly_price = price;
    free(h.status);
    h.status = xstrdup(CLUSTER_UP);
    state_history_update(st, &h, NULL);
    state_history_release(&h);
}

enum skyc_err rt_node_replace(const struct rt_replace_opts *o,
                              struct rt_replaced *out, struct skyc_error *err)
{
    struct state st = {0};
    struct rt_cluster rc = {0};
    struct task_dag dag = {0};
    struct provider_node pn = {0};
    bool have_rc = false, taken = false;
    char *was = NULL;
    enum skyc_err r;
    memset(out, 0, sizeof(*out));

    if ((r = task_dag_load_file(&dag, o->task, err)))
        goto out;
    if (dag.ntasks != 1) {
        r = skyc_fail(err, SKYC_E_USAGE, "%s has %zu tasks; one is needed",
                      dag.path, dag.ntasks);
        goto out;
    }
    const struct task *t = &dag.tasks[0];
    if ((r = state_open(&st, err)))
        goto out;
    if ((r = rt_cluster_load(&st, o->cluster, true, &rc, err)))
        goto out;
    have_rc = true;
    if (!rc.prov.ops->add_node) {
        r = skyc_fail(err, SKYC_E_INFEASIBLE,
                      "provider '%s' cannot replace one node of a cluster",
                      rc.c.provider);
        goto out;
    }
    size_t idx = rc.nnodes;
    for (size_t i = 0; i < rc.nnodes; i++)
        if (rc.nodes[i].rank == o->rank)
            idx = i;
    if (idx == rc.nnodes) {
        r = skyc_fail(err, SKYC_E_NOT_FOUND, "cluster '%s' has no node %ld",
                      o->cluster, o->rank);
        goto out;
    }

    /* take the cluster: INIT owned by this process, so no reconcile starts
     * an agent on the old node list meanwhile, and a crash from here on
     * leaves an INIT cluster with a dead owner, which reconcile tears down
     * whole (terminate_cluster also finds a new node not yet recorded) */
    if ((r = state_begin(&st, err)))
        goto out;
    struct state_cluster cur;
    if ((r = state_cluster_get(&st, o->cluster, &cur, err))) {
        state_rollback(&st);
        goto out;
    }
    if (strcmp(cur.status, CLUSTER_UP) && strcmp(cur.status, CLUSTER_PREEMPTED)) {
        r = skyc_fail(err, SKYC_E_STATE,
                      "cluster '%s' is %s; only an UP or PREEMPTED cluster "
                      "gets a node replaced",
                      o->cluster, cur.status);
        state_cluster_release(&cur);
        state_rollback(&st);
        goto out;
    }
    struct state_cluster agent = {.name = (char *)o->cluster,
                                  .agent_pid = cur.agent_pid};
    was = xstrdup(cur.status);
    free(cur.status);
    cur.status = xstrdup(CLUSTER_INIT);
    cur.owner_pid = (long)getpid();
    cur.agent_pid = 0;
    cur.updated_at = state_now();
    r = state_cluster_update(&st, &cur, err);
    state_cluster_release(&cur);
    if (r || (r = state_commit(&st, err))) {
        state_rollback(&st);
        goto out;
    }
    taken = true;
    /* the job restarts on every rank: what runs on the healthy nodes dies
     * now (the agent, stopped below, then has nothing to wait for) */
    rt_kill_active_jobs(&st, &rc.prov, o->cluster);

    struct state_node *old = &rc.nodes[idx];
    struct provider_request req = {
        .cluster = o->cluster,
        .num_nodes = 1,
        .cloud = rc.c.cloud ? rc.c.cloud : rc.c.provider,
        .region = old->region,
        .zone = old->zone,
        .instance_type = old->instance_type,
        .spot = o->spot ? o->spot == 2 : old->spot,
    };
    struct skyc_error e = {0};
    log_info("cluster '%s': asking %s for a node %ld in %s%s", o->cluster,
             rc.c.provider, o->rank, old->zone ? old->zone : "-",
             req.spot ? " (spot)" : "");
    if ((r = rc.prov.ops->add_node(&rc.prov, &req, o->rank, &pn, &e))) {
        r = skyc_fail(err, r, "cannot replace node %ld of cluster '%s': %s",
                      o->rank, o->cluster, e.msg);
        rt_agent_shutdown(&agent); /* give_back starts a fresh one */
        goto out;
    }
    /* record it at once (same rank), then let the lost node go */
    struct state_node neu = {
        .rank = o->rank,
        .id = pn.id,
        .ip = pn.ip,
        .workdir = pn.workdir,
        .region = pn.region,
        .zone = pn.zone,
        .instance_type = pn.instance_type,
        .spot = pn.spot,
        .hourly_price = pn.hourly_price,
        .cpus = pn.cpus,
        .gpus = pn.gpus,
    };
    struct state_node lost = *old;
    rc.nodes[idx] = neu;
    r = state_nodes_set(&st, o->cluster, rc.nodes, rc.nnodes, err);
    rc.nodes[idx] = lost;
    rt_agent_shutdown(&agent);
    if (r) {
        rc.prov.ops->terminate(&rc.prov, &pn, NULL);
        goto out;
    }
    out->old_id = xstrdup(lost.id);
    out->new_id = xstrdup(pn.id);
    out->zone = pn.zone ? xstrdup(pn.zone) : NULL;
    out->spot = pn.spot;
    out->node_price = pn.hourly_price;
    {
        struct provider_node ov;
        rt_node_view(&lost, &ov);
        rc.prov.ops->terminate(&rc.prov, &ov, NULL);
    }
    /* from here rc.nodes[idx] is the new node (strings moved from pn) */
    {
        struct state_node *gone = xmalloc(sizeof(*gone));
        *gone = lost;
        state_nodes_free(gone, 1);
    }
    rc.nodes[idx] = neu;
    memset(&pn, 0, sizeof(pn));
    double price = 0;
    for (size_t i = 0; i < rc.nnodes; i++)
        price += rc.nodes[i].hourly_price;
    out->hourly_price = price;

    const char *pause = getenv("SKYC_DEBUG_REPLACE_PAUSE_MS");
    if (pause && atoi(pause) > 0) /* lets tests kill a repair mid-way */
        usleep((useconds_t)atoi(pause) * 1000);
    if ((r = sync_node(&rc, t, &rc.nodes[idx], err)))
        goto out;
    char hash[17] = "";
    if (t->setup)
        rt_hash_hex(t->setup, hash);
    /* setup ran on the other nodes: run it on this one too (when it never
     * completed, the next job's setup runs it on every node anyway) */
    if (t->setup && rc.c.setup_hash && !strcmp(rc.c.setup_hash, hash) &&
        (r = setup_node(&rc, t, o, &rc.nodes[idx], err)))
        goto out;

    struct state_cluster c;
    if ((r = state_cluster_get(&st, o->cluster, &c, err)))
        goto out;
    /* the agent first (still INIT: no reconcile takes an UP cluster
     * without an agent for a dead one), then UP */
    c.hourly_price = price;
    c.updated_at = state_now();
    if (!(r = rt_agent_spawn(&st, &c, err))) {
        free(c.status);
        c.status = xstrdup(CLUSTER_UP);
        c.owner_pid = 0;
        c.updated_at = state_now();
        r = state_cluster_update(&st, &c, err);
    }
    if (!r)
        history_resume(&st, c.history_id, price);
    state_cluster_release(&c);
    if (r)
        goto out;
    taken = false;
    pause = getenv("SKYC_DEBUG_REPLACED_PAUSE_MS");
    if (pause && atoi(pause) > 0) /* lets tests kill a caller mid-way */
        usleep((useconds_t)atoi(pause) * 1000);
    log_info("cluster '%s': node %ld replaced (%s): %s -> %s", o->cluster,
             o->rank, o->reason ? o->reason : "lost", out->old_id,
             out->new_id);
out:
    if (taken)
        give_back(&st, &rc, was && !strcmp(was, CLUSTER_PREEMPTED)
                                ? CLUSTER_PREEMPTED
                                : CLUSTER_UP);
    if (r)
        rt_replaced_release(out);
    provider_node_release(&pn);
    free(was);
    if (have_rc)
        rt_cluster_release(&rc);
    if (st.db)
        state_close(&st);
    task_dag_release(&dag);
    return r;
}
