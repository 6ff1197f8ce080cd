/*
 * state.h - skyc's state: one SQLite database (WAL, STRICT tables) at
 * $XDG_STATE_HOME/skyc/state.db holding clusters, their nodes, each
 * cluster's jobs, and the launch history with what each cluster cost.
 *
 * Contracts:
 * - Several skyc processes (CLI commands, one agent per cluster) use the
 *   database at once. Each call is one statement or one transaction; writers
 *   wait up to 10 s for the lock (busy timeout) and then fail with
 *   SKYC_E_STATE. Read-modify-write sequences go between state_begin() and
 *   state_commit() (BEGIN IMMEDIATE), so two launches never race.
 * - Records returned by the get and list calls are owned by the caller and freed with
 *   the matching release (arrays: the list_free call). String fields are NULL
 *   only where their comment says so.
 * - Times are Unix seconds (double). NaN stands for "not yet" in times and
 *   "unknown" in prices.
 * - No plane writes another plane's tables: the runtime owns clusters,
 *   nodes, jobs, history and attempts.
 */
#ifndef SKYC_STATE_STATE_H
#define SKYC_STATE_STATE_H

#include "core/common.h"
#include "core/error.h"

struct sqlite3;

struct state {
    struct sqlite3 *db;
    char *path;
};

/* Open (creating the file and schema when missing). */
enum skyc_err state_open(struct state *st, struct skyc_error *err);
/* Open a database at an explicit path (tests). */
enum skyc_err state_open_path(struct state *st, const char *path,
                              struct skyc_error *err);
void state_close(struct state *st);

enum skyc_err state_begin(struct state *st, struct skyc_error *err);
enum skyc_err state_commit(struct state *st, struct skyc_error *err);
void state_rollback(struct state *st);

double state_now(void);

/* Cluster statuses. */
#define CLUSTER_INIT "INIT"
#define CLUSTER_UP "UP"
#define CLUSTER_STOPPED "STOPPED"
/* a node was taken back by the provider (spot); only `down` applies */
#define CLUSTER_PREEMPTED "PREEMPTED"

struct state_cluster {
    char *name;
    char *provider; /* "local", "sim", "ssh" */
    char *status;   /* CLUSTER_* */
    long num_nodes;
    char *cloud, *region, *zone, *instance_type; /* NULL = unknown yet */
    bool spot;
    double hourly_price; /* whole cluster, $/h */
    double cpus, gpus;   /* per node, 0 = unknown (no limit) */
    double launched_at, updated_at;
    long agent_pid;  /* 0 = none */
    long owner_pid;  /* the skyc process launching it while INIT */
    char *setup_hash; /* NULL = setup never ran */
    double autostop_minutes; /* < 0 = off */
    bool autostop_down;
    long history_id;
};
void state_cluster_release(struct state_cluster *c);
void state_cluster_list_free(struct state_cluster *c, size_t n);

/* SKYC_E_NOT_FOUND when there is no such cluster. */
enum skyc_err state_cluster_get(struct state *st, const char *name,
                                struct state_cluster *c,
                                struct skyc_error *err);
enum skyc_err state_cluster_list(struct state *st, struct state_cluster **cs,
                                 size_t *n, struct skyc_error *err);
/* Only the INIT and UP clusters (what reconciliation looks at). */
enum skyc_err state_cluster_list_live(struct state *st,
                                      struct state_cluster **cs, size_t *n,
                                      struct skyc_error *err);
/* SKYC_E_STATE when the name is taken. */
enum skyc_err state_cluster_insert(struct state *st,
                                   const struct state_cluster *c,
                                   struct skyc_error *err);
/* Write every field of c to its row (by name). */
enum skyc_err state_cluster_update(struct state *st,
                                   const struct state_cluster *c,
                                   struct skyc_error *err);
/* Delete the cluster with its nodes and jobs (history stays). */
enum skyc_err state_cluster_delete(struct state *st, const char *name,
                                   struct skyc_error *err);

struct state_node {
    long rank;
    char *id, *ip, *workdir, *region, *zone, *instance_type;
    bool spot;
    double hourly_price, cpus, gpus;
};
void state_nodes_free(struct state_node *n, size_t count);
/* Replace the cluster's nodes. */
enum skyc_err state_nodes_set(struct state *st, const char *cluster,
                              const struct state_node *nodes, size_t n,
                              struct skyc_error *err);
enum skyc_err state_nodes_get(struct state *st, const char *cluster,
                              struct state_node **nodes, size_t *n,
                              struct skyc_error *err);

/* Job statuses, in the order a job goes through them. */
#define JOB_PENDING "PENDING"
#define JOB_SETTING_UP "SETTING_UP"
#define JOB_RUNNING "RUNNING"
#define JOB_SUCCEEDED "SUCCEEDED"
#define JOB_FAILED "FAILED"
#define JOB_FAILED_SETUP "FAILED_SETUP"
#define JOB_CANCELLED "CANCELLED"
bool job_status_terminal(const char *status);

struct state_job {
    char *cluster;
    long id; /* 1, 2, ... per cluster */
    char *name;   /* NULL = unnamed */
    char *status; /* JOB_* */
    double submitted_at, started_at, ended_at;
    int exit_code; /* -1 = none yet */
    double cpus, gpus; /* per node */
    long num_nodes;
    char *run;   /* shell script; NULL = none */
    char *setup; /* run before `run` on every node; NULL = none */
    char *envs;  /* JSON object of extra environment */
    char *log_path;
    char *procs; /* JSON array [{"node": id, "pid": n}], NULL = none */
    bool cancel_requested;
};
void state_job_release(struct state_job *j);
void state_job_list_free(struct state_job *j, size_t n);

/* Insert j as a new job of j->cluster, setting j->id. */
enum skyc_err state_job_add(struct state *st, struct state_job *j,
                            struct skyc_error *err);
enum skyc_err state_job_get(struct state *st, const char *cluster, long id,
                            struct state_job *j, struct skyc_error *err);
/* All jobs of a cluster by id; only_active keeps non-terminal ones. */
enum skyc_err state_job_list(struct state *st, const char *cluster,
                             bool only_active, struct state_job **jobs,
                             size_t *n, struct skyc_error *err);
/* Write status, times, exit code, procs and the cancel flag. */
enum skyc_err state_job_update(struct state *st, const struct state_job *j,
                               struct skyc_error *err);
/*
 * Move a job from `from` to `to` only if it is still in `from`; *moved says
 * whether it was (so an agent never overrides a cancel, and the reverse).
 */
enum skyc_err state_job_transition(struct state *st, const char *cluster,
                                   long id, const char *from, const char *to,
                                   bool *moved, struct skyc_error *err);
/* Ask for a running job to be cancelled (the agent acts on it). */
enum skyc_err state_job_request_cancel(struct state *st, const char *cluster,
                                       long id, struct skyc_error *err);
/* The highest job id of a cluster, 0 when it has none. */
enum skyc_err state_job_last_id(struct state *st, const char *cluster,
                                long *id, struct skyc_error *err);

/* One launch of a cluster, kept after it is torn down, for cost-report. */
struct state_history {
    long id;
    char *cluster, *provider;
    char *cloud, *region, *instance_type; /* NULL = unknown */
    bool spot;
    long num_nodes;
    double hourly_price;  /* whole cluster $/h, NaN = unknown */
    double launched_at;
    double ended_at;      /* NaN while the cluster exists */
    double billed_seconds; /* accumulated running time, stops excluded */
    double running_since; /* NaN while stopped or ended */
    char *status;         /* last cluster status, or "TERMINATED" */
};
void state_history_release(struct state_history *h);
void state_history_list_free(struct state_history *h, size_t n);
enum skyc_err state_history_add(struct state *st, struct state_history *h,
                                struct skyc_error *err);
enum skyc_err state_history_get(struct state *st, long id,
                                struct state_history *h,
                                struct skyc_error *err);
enum skyc_err state_history_update(struct state *st,
                                   const struct state_history *h,
                                   struct skyc_error *err);
enum skyc_err state_history_list(struct state *st, struct state_history **hs,
                                 size_t *n, struct skyc_error *err);
/* Seconds billed up to now (billed + the current running stretch). */
double state_history_seconds(const struct state_history *h, double now);

/* One provisioning attempt of a launch (the failover history). */
struct state_attempt {
    long history_id, seq;
    char *cloud, *region, *zone, *instance_type; /* NULL = any */
    bool spot;
    char *result; /* "OK" or the error name ("CAPACITY") */
    char *message; /* NULL when OK */
    double at;
};
void state_attempt_list_free(struct state_attempt *a, size_t n);
enum skyc_err state_attempt_add(struct state *st, const struct state_attempt *a,
                                struct skyc_error *err);
enum skyc_err state_attempt_list(struct state *st, long history_id,
                                 struct state_attempt **as, size_t *n,
                                 struct skyc_error *err);

#endif
