/*
 * jobs.h - managed jobs: a job that skyc keeps running through spot
 * preemptions, shortages and user errors, to its deadline, at least cost.
 *
 * Pieces:
 *   jobs_env.c    the settings each job runs with (its submitter's).
 *   jobs_db.c     the jobs plane's own SQLite file, $XDG_STATE_HOME/skyc/
 *                 jobs.db (WAL, STRICT): tables `mjobs` (one row per managed
 *                 job) and `mjob_events` (its history: every launch,
 *                 preemption, switch, restart). No other plane writes them,
 *                 and the jobs plane only reads the runtime's tables
 *                 (state/state.h) - clusters are made and torn down through
 *                 runtime/runtime.h.
 *   recovery.c    where the next launch goes: FAILOVER, EAGER_NEXT_REGION,
 *                 and the deadline-aware mode that asks the spot policy
 *                 engine (spot/policy.h, the code `skyc spot sim` runs).
 *   controller.c  the per-user controller daemon (`skyc jobs controller`),
 *                 started on demand by `skyc jobs launch`; one at a time
 *                 (an flock on jobs/controller.lock).
 *
 * Crash safety: every decision is written to jobs.db before it is acted
 * on. The cluster name of a launch is recorded before the launch starts, so
 * a controller killed at any moment finds on restart either a healthy
 * cluster (it resumes watching, no relaunch), an INIT cluster whose launcher
 * died (the runtime's reconcile tears it down, the job is relaunched), or no
 * cluster (relaunched). The controller's launch workers die with it, so
 * their launches are such INIT clusters. A cluster to tear down (replaced,
 * or of a finished job) is on disk (`retiring`, then `teardown`) until it
 * is gone, so clusters of finished jobs are always torn down.
 *
 * Times: `at` fields are wall-clock Unix seconds; `sim_*` fields and the
 * deadline are provider-clock seconds (the sim's scaled clock, wall time for
 * other providers), which is what bills and deadlines are counted in.
 */
#ifndef SKYC_JOBS_JOBS_H
#define SKYC_JOBS_JOBS_H

#include "core/common.h"
#include "core/error.h"
#include "provision/provider.h"

struct sqlite3;

#define MJOB_PENDING "PENDING"
#define MJOB_STARTING "STARTING"
#define MJOB_RUNNING "RUNNING"
#define MJOB_RECOVERING "RECOVERING"
#define MJOB_SUCCEEDED "SUCCEEDED"
#define MJOB_FAILED "FAILED"
#define MJOB_FAILED_SETUP "FAILED_SETUP"
#define MJOB_FAILED_NO_RESOURCE "FAILED_NO_RESOURCE"
#define MJOB_CANCELLED "CANCELLED"
bool mjob_status_terminal(const char *status);

/* Recovery strategies (resources.job_recovery, or --strategy). */
#define MJOB_FAILOVER "FAILOVER"
#define MJOB_EAGER "EAGER_NEXT_REGION"
#define MJOB_DEADLINE "DEADLINE"

/* sim_submitted of a job the controller has not seen yet. */
#define MJOB_CLOCK_UNSET (-1.0)

struct mjob {
    long id;
    char *name;     /* NULL = unnamed */
    char *task;     /* the task file, copied into the job's directory */
    char *cwd;      /* where it was submitted (relative workdirs) */
    char *provider; /* "sim", "local", ... */
    char *status;   /* MJOB_* */
    char *strategy; /* MJOB_FAILOVER / MJOB_EAGER / MJOB_DEADLINE */
    char *policy;   /* spot policy name for MJOB_DEADLINE, else NULL */
    double deadline_s; /* provider seconds from submission, 0 = none */
    double work_s;     /* seconds of compute the job needs, 0 = unknown */
    long max_restarts; /* on user errors */
    char *recover_codes; /* "3,42": exit codes always recovered, NULL none */
    long restarts;       /* user-error restarts so far */
    long launches;       /* clusters launched so far */
    long preemptions;
    char *cluster;    /* the current (or being launched) cluster, NULL none */
    long cluster_job; /* the runtime job id on it, 0 = not submitted */
    bool spot;        /* what the current cluster is */
    char *region, *zone; /* of the current cluster, NULL = unknown */
    double hourly;    /* $/h of the current cluster, NaN = unknown */
    double od_hourly; /* $/h on-demand for the same offering, NaN unknown */
    char *avoid_region; /* EAGER_NEXT_REGION: block this one next launch */
    double submitted_at, ended_at; /* wall */
    double sim_submitted;  /* provider clock at submission; MJOB_CLOCK_UNSET
                              until the controller first sees the job */
    double sim_launched;   /* provider clock when the cluster was asked for */
    double sim_running;    /* provider clock when its job started, NaN */
    double run_s;  /* provider seconds of run time on finished clusters */
    double cost;   /* $ of finished clusters */
    bool cancel_requested;
    char *message; /* why it ended or what it waits for, NULL none */
    long controller_pid; /* the controller that last touched it */
    char *retiring; /* a cluster being torn down (replaced by a switch or
                       a recovery, or of a finished job), NULL none */
    char *teardown; /* clusters to tear down, space-separated, NULL none:
                       retiring (and a finished job's cluster) moves here
                       in the same row update, and a worker's teardown
                       removes its name */
    char *env;      /* the settings at submission: a JSON object of the
                       variables jobs_env_snapshot() keeps, NULL = the
                       controller's own (rows from before it existed) */
};
void mjob_release(struct mjob *j);
void mjob_list_free(struct mjob *j, size_t n);

struct mjob_event {
    long job_id, seq;
    double at, sim_at;
    char *kind;    /* SUBMITTED LAUNCH LAUNCH_FAILED RUNNING PREEMPTED ... */
    char *cluster; /* NULL = none */
    char *detail;
    double cost;   /* $ spent so far at this event */
};
void mjob_events_free(struct mjob_event *e, size_t n);

struct jobs_db {
    struct sqlite3 *db;
    char *path;
};

/* Open $XDG_STATE_HOME/skyc/jobs.db (creating file and tables). */
enum skyc_err jobs_db_open(struct jobs_db *db, struct skyc_error *err);
void jobs_db_close(struct jobs_db *db);

/* Insert j (sets j->id). */
enum skyc_err jobs_db_add(struct jobs_db *db, struct mjob *j,
                          struct skyc_error *err);
/* Write every field of j. */
enum skyc_err jobs_db_update(struct jobs_db *db, const struct mjob *j,
                             struct skyc_error *err);
/* SKYC_E_NOT_FOUND naming the id when missing. */
enum skyc_err jobs_db_get(struct jobs_db *db, long id, struct mjob *j,
                          struct skyc_error *err);
/* All jobs by id, or only the unfinished ones. */
enum skyc_err jobs_db_list(struct jobs_db *db, bool only_active,
                           struct mjob **js, size_t *n,
                           struct skyc_error *err);
/*
 * The controller's incremental read: unfinished jobs (and finished ones
 * whose cluster is still being torn down) with an id above after_id, plus
 * unfinished jobs at or below it with a cancel request. after_id 0 = all.
 * ("Finished" counts a job as unfinished while retiring or teardown is
 * set.)
 */
enum skyc_err jobs_db_list_work(struct jobs_db *db, long after_id,
                                struct mjob **js, size_t *n,
                                struct skyc_error *err);
/* A write transaction (BEGIN IMMEDIATE); commit rolls back on failure. */
enum skyc_err jobs_db_begin(struct jobs_db *db, struct skyc_error *err);
enum skyc_err jobs_db_commit(struct jobs_db *db, struct skyc_error *err);
void jobs_db_rollback(struct jobs_db *db);
enum skyc_err jobs_db_request_cancel(struct jobs_db *db, long id,
                                     struct skyc_error *err);
enum skyc_err jobs_db_event(struct jobs_db *db, long job_id, double sim_at,
                            const char *kind, const char *cluster,
                            double cost, struct skyc_error *err,
                            const char *fmt, ...)
    SKYC_PRINTF(8, 9);
enum skyc_err jobs_db_events(struct jobs_db *db, long job_id,
                             struct mjob_event **ev, size_t *n,
                             struct skyc_error *err);

/* The job's directory ($XDG_STATE_HOME/skyc/jobs/<id>), its checkpoint
 * directory (SKYC_CHECKPOINT_DIR, kept across relaunches) and the
 * controller's files. Caller frees. */
char *jobs_dir(long id);
char *jobs_checkpoint_dir(long id);
char *jobs_controller_log(void);
/* jobs/<id>/job.log holds the output of every finished cluster job of the
 * managed job, each after a line MJOB_LOG_HEADER "CLUSTER JOB_ID". */
#define MJOB_LOG_HEADER "==> skyc managed job log: "

/* The cost so far of a job: finished clusters plus the current one up to
 * sim_now; *od the all-on-demand cost of the same run time. */
double mjob_cost_now(const struct mjob *j, double sim_now, double *od);
/* Provider seconds of run time so far (finished clusters + current). */
double mjob_run_now(const struct mjob *j, double sim_now);

/* ---- per-job settings (jobs_env.c) -------------------------------------- */

/*
 * A managed job runs with the settings of the command that submitted it,
 * whichever command started the controller: the environment variables
 * named by jobs_env_kept() (SKYC_* except the controller's own SKYC_JOBS_*
 * knobs, PATH, XDG_CONFIG_HOME, XDG_CACHE_HOME, XDG_DATA_HOME) are
 * snapshot at submission into mjobs.env, and the controller applies them
 * (and enters the job's submission directory) for everything it does for
 * that job: planning, launches, provider and catalog look-ups.
 */
bool jobs_env_kept(const char *name, size_t len);
/* The kept variables of this process as a JSON object (caller frees). */
char *jobs_env_snapshot(void);
/* Make this process's kept variables exactly those of snapshot (NULL or
 * invalid: leave them as they are). */
void jobs_env_apply(const char *snapshot);

/* ---- the controller ---------------------------------------------------- */

/* Start the controller daemon unless one runs; SKYC_OK when one runs. */
enum skyc_err jobs_controller_ensure(struct skyc_error *err);
/* Wake the controller to look at the jobs again (no-op when none runs). */
void jobs_controller_wake(void);
/* The pid of the running controller, 0 when none. */
long jobs_controller_pid(void);
/* `skyc jobs controller`: the daemon itself; returns an exit code. With
 * foreground it logs to stderr (systemd), else to the controller log. */
int jobs_controller_main(bool foreground);

/* ---- recovery ---------------------------------------------------------- */

/* Where the next launch of a job goes (strings borrowed from the job or
 * static). want_spot: 1 on-demand, 2 spot, 0 the task's choice. */
struct mjob_plan {
    int spot;
    const char *region, *zone, *avoid_region;
    bool wait; /* deadline mode: launch nothing now */
    const char *why; /* for the event log */
};

/*
 * The next launch after a preemption (or the first one) for FAILOVER and
 * EAGER_NEXT_REGION. `attempt` counts failed tries of this recovery: 0 =
 * the strategy's preferred place, 1 = anywhere.
 */
void mjob_plan_recovery(const struct mjob *j, const char *lost_region,
                        int attempt, struct mjob_plan *p);

/* ---- a lost node vs a lost cluster vs a user failure -------------------- */

enum mjob_loss {
    MJOB_LOSS_NONE,    /* every node up and the job not failed */
    MJOB_LOSS_USER,    /* the job failed on a healthy cluster: user error */
    MJOB_LOSS_NODES,   /* some nodes lost, the others healthy */
    MJOB_LOSS_CLUSTER, /* every node lost, or the cluster itself gone */
};
const char *mjob_loss_name(enum mjob_loss l);

/*
 * Classify what the controller saw: states[r] is the provider's state of
 * node rank r (n = 0: the cluster is gone). A node PREEMPTED or TERMINATED
 * is lost (*nlost counts them); job_failed says the cluster job ended
 * non-zero. A lost node outranks the job's exit: a job killed with its node
 * is not the user's fault.
 */
enum mjob_loss mjob_classify(const enum provider_node_state *states, size_t n,
                             bool job_failed, size_t *nlost);

/* After MJOB_LOSS_NODES: replace the lost nodes in place, or relaunch. */
struct mjob_node_plan {
    bool replace;    /* false = relaunch the whole cluster */
    int spot;        /* the replacement: 0 as the lost node, 1 od, 2 spot */
    const char *why; /* static, for the event log */
};
/*
 * Replacement happens only for a multi-node cluster that kept some nodes,
 * on a provider offering add_node (can_replace), in the lost node's zone
 * (a cluster never spans zones). Per strategy: FAILOVER replaces in place
 * (same zone first is its rule); EAGER_NEXT_REGION leaves the region, so it
 * relaunches the whole cluster elsewhere; DEADLINE follows the policy's
 * answer for this decision point (policy_kind SPOT_*, policy_same_zone:
 * it named the cluster's zone): spot there = replace with spot, anything
 * else (another zone, on-demand for the whole job, wait) = relaunch.
 */
void mjob_plan_node_loss(const struct mjob *j, enum mjob_loss loss,
                         size_t nnodes, size_t nlost, bool can_replace,
                         int policy_kind, bool policy_same_zone,
                         struct mjob_node_plan *p);

/* What the deadline-aware mode knows at a decision point. */
struct mjob_zone {
    char *region, *zone;
    double spot_price, od_price; /* $/h per node */
    bool avail;                  /* spot believed obtainable now */
    uint32_t streak, seen_avail, seen_runs;
};

/*
 * Ask the spot policy engine (spot/policy.h) what to run for the next
 * interval. cur_kind/cur_zone describe what runs now (SPOT_NONE after a
 * preemption); work_done and elapsed are provider seconds. The result names
 * zones[*zone_out] when it is spot, else *zone_out = cur_zone.
 */
int mjob_decide(const struct mjob *j, const struct mjob_zone *zones,
                int nzones, int cur_kind, int cur_zone, double elapsed,
                double work_done, double gap, double overhead,
                double pending, uint32_t seen, int *zone_out);

#endif
