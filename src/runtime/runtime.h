/*
 * runtime.h - clusters and their jobs: the launch path, the per-cluster
 * agent, log streaming, stop/start/down and reconciliation after a crash.
 *
 * Layout on disk (under $XDG_STATE_HOME/skyc):
 *     state.db                      the state (state/state.h)
 *     clusters/<name>/agent.log     the agent's own log
 *     clusters/<name>/jobs/<id>.log a job's output (setup + run, all nodes)
 *     sandboxes/...                 local/sim nodes (provision/local.c)
 *
 * Invariants kept by every function here:
 * - A cluster row is INIT only while the skyc process in owner_pid is
 *   launching it; rt_reconcile() tears down INIT clusters whose owner died.
 * - An UP cluster has one agent (agent_pid) that alone starts, reaps and
 *   kills its jobs; CLI commands write requests (new PENDING jobs, cancel
 *   flags, autostop settings) to the state and wake it with SIGUSR1.
 * - down: the agent is stopped (killing the jobs' process groups on every
 *   node), every node terminated, the row deleted and the history entry
 *   closed with its cost; the cluster's logs go with it.
 */
#ifndef SKYC_RUNTIME_RUNTIME_H
#define SKYC_RUNTIME_RUNTIME_H

#include "core/common.h"
#include "core/error.h"
#include "provision/provider.h"
#include "state/state.h"

#include <signal.h>

/* A cluster with its nodes and (when opened) its provider. */
struct rt_cluster {
    struct state_cluster c;
    struct state_node *nodes;
    size_t nnodes;
    struct provider prov;
    bool prov_open;
};

/* Load name (SKYC_E_NOT_FOUND naming it when missing) and open its
 * provider when open_provider. */
enum skyc_err rt_cluster_load(struct state *st, const char *name,
                              bool open_provider, struct rt_cluster *rc,
                              struct skyc_error *err);
void rt_cluster_release(struct rt_cluster *rc);
/* A provider_node view of a stored node: borrowed strings, never freed. */
void rt_node_view(const struct state_node *sn, struct provider_node *pn);

char *rt_cluster_dir(const char *name);
char *rt_job_log_path(const char *cluster, long id);

/* Whether pid is the running agent of cluster (not a reused pid). */
bool rt_agent_alive(long pid, const char *cluster);
/* Start the cluster's agent, detached, and record its pid in the row. */
enum skyc_err rt_agent_spawn(struct state *st, struct state_cluster *c,
                             struct skyc_error *err);
/* Wake the agent to look at the state again (no-op when it is gone). */
void rt_agent_wake(const struct state_cluster *c);
/* SIGKILL what the unfinished jobs of cluster run, on every node, now
 * (the agent then sees them end). */
void rt_kill_active_jobs(struct state *st, struct provider *p,
                         const char *cluster);
/* Stop the agent (it kills its running jobs) and wait for it to exit. */
void rt_agent_shutdown(const struct state_cluster *c);

enum skyc_err rt_cluster_down(struct state *st, struct rt_cluster *rc,
                              struct skyc_error *err);
enum skyc_err rt_cluster_stop(struct state *st, struct rt_cluster *rc,
                              struct skyc_error *err);
enum skyc_err rt_cluster_start(struct state *st, struct rt_cluster *rc,
                               struct skyc_error *err);

/*
 * Make the state match what exists: tear down INIT clusters whose launching
 * process died; for UP clusters whose agent died, fail their unfinished
 * jobs and start a new agent. Notes what it did on `notes` (may be NULL).
 */
enum skyc_err rt_reconcile(struct state *st, FILE *notes,
                           struct skyc_error *err);
/*
 * rt_reconcile(), and for UP clusters also ask the provider for node state:
 * a node PREEMPTED makes the cluster PREEMPTED (agent stopped, unfinished
 * jobs FAILED, billing paused; `skyc down` removes it). Providers whose
 * status() is remote (ssh) are asked only when refresh is set. STOPPED
 * clusters cost no provider call.
 */
enum skyc_err rt_reconcile_refresh(struct state *st, FILE *notes,
                                   bool refresh, struct skyc_error *err);
/* The same for one cluster (its row as just read), with the node check
 * on providers whose status() is local. */
void rt_reconcile_cluster(struct state *st, const struct state_cluster *c,
                          FILE *notes);

/*
 * Copy a job's log to out; with follow, keep going until the job ends
 * (or *stop becomes non-zero). *status gets the job's final status when it
 * ended (caller frees), else NULL; *exit_code its code.
 */
enum skyc_err rt_tail_job(struct state *st, const char *cluster, long id,
                          bool follow, FILE *out, volatile sig_atomic_t *stop,
                          char **status, int *exit_code,
                          struct skyc_error *err);

/* The agent process of one cluster (`skyc agent NAME`); returns an exit
 * code. */
int rt_agent_main(const char *cluster);

/* What `skyc launch` / `skyc exec` do. */
struct rt_launch_opts {
    const char *task;     /* a task YAML file, or an inline command */
    const char *cluster;  /* NULL = a generated name (launch only) */
    const char *provider; /* NULL = the cluster's, else "local" */
    const char *catalog;  /* --catalog DIR for catalog providers */
    bool exec;            /* skip provisioning and setup */
    bool detach;          /* submit and return, no log streaming */
    bool retry_until_up;
    double idle_minutes; /* autostop, < 0 = off */
    bool autostop_down;
    const char *const *env; /* extra "NAME=value" (--env), NULL-terminated */
    /* Managed jobs (jobs/) steer where a new cluster goes; zero = as the
     * task says. They replace the task's own use_spot/region/zone. */
    int spot;                 /* 0 = the task's, 1 = on-demand, 2 = spot */
    const char *region;       /* pin to this region, NULL = any */
    const char *zone;         /* pin to this zone, NULL = any */
    const char *avoid_region; /* never plan this region, NULL = none */
};
/*
 * Launch (or exec) and stream the job's log to stdout. Returns SKYC_OK when
 * the job succeeded; when it failed, SKYC_E_JOB_FAILED with *job_exit set
 * to the job's own exit code (the CLI exits with it).
 */
enum skyc_err rt_launch(const struct rt_launch_opts *o, int *job_exit,
                        struct skyc_error *err);

/* ---- node-level work (node.c) ------------------------------------------ */

struct task;
/* A task's envs and secrets, then extra "NAME=value" strings (which win),
 * as the JSON object a job's envs column holds. Caller frees. */
char *rt_task_envs(const struct task *t, const char *const *extra);
/*
 * The environment of a process on node `rank` of rc: envs_json's pairs,
 * then SKYC_NODE_RANK/NODE_IPS/NUM_NODES/CLUSTER and SkyPilot's names
 * (SKYC_JOB_ID and SKYPILOT_TASK_ID only when job_id > 0). A
 * NULL-terminated array freed with rt_env_free().
 */
char **rt_node_env(const struct rt_cluster *rc, const char *envs_json,
                   size_t rank, long job_id, double gpus);
void rt_env_free(char **env);

/* Replace one node of an existing cluster (managed jobs, after a node of a
 * multi-node cluster was preempted or lost). */
struct rt_replace_opts {
    const char *task;    /* the task YAML the cluster runs (relative paths
                          * as from where it was launched: chdir first) */
    const char *cluster;
    long rank;           /* the node to replace */
    int spot;            /* 0 = as the lost node, 1 = on-demand, 2 = spot */
    const char *const *env;  /* extra "NAME=value" for setup, or NULL */
    const char *setup_log;   /* the new node's setup output (appended) */
    const char *reason;      /* "preempted", for the agent log */
};
struct rt_replaced {
    char *old_id, *new_id; /* provider ids of the lost and the new node */
    char *zone;            /* of the new node, NULL = none */
    bool spot;
    double node_price;     /* the new node's $/h */
    double hourly_price;   /* the repaired cluster's $/h */
};
void rt_replaced_release(struct rt_replaced *r);
/*
 * Start a node for rank o->rank in the lost node's zone and instance type
 * (provider add_node: never another zone), record it in place of the lost
 * one (which is terminated), copy workdir and file_mounts to it, run the
 * task's setup on it alone when the cluster's setup already ran, and bring
 * the cluster back UP with a new agent. The other nodes keep their ids and
 * files; what ran on them is stopped (the caller resubmits the job to all
 * ranks). The cluster may be UP or PREEMPTED (a reconcile got there first).
 * While it works the cluster is INIT owned by this process, so a crash
 * leaves something rt_reconcile() tears down whole, never a leak.
 * Errors: SKYC_E_INFEASIBLE when the provider has no add_node; the
 * provider's classified error (SKYC_E_CAPACITY: no room in that zone) with
 * the cluster left as it was; SKYC_E_JOB_FAILED when setup failed on the
 * new node (the cluster is UP with it). On success the caller releases
 * *out.
 */
enum skyc_err rt_node_replace(const struct rt_replace_opts *o,
                              struct rt_replaced *out,
                              struct skyc_error *err);

/* A small stable hash of a string (FNV-1a 64) as 16 hex digits. */
void rt_hash_hex(const char *s, char out[17]);

#endif
