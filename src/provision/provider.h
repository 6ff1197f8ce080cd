/*
 * provider.h - the one interface every place that runs tasks implements:
 * this machine (local), a pool of SSH hosts (ssh), the emulated multi-region
 * cloud (sim), and later real cloud APIs.
 *
 * A provider is a table of functions (struct provider_ops) plus an opaque
 * context it owns. Callers (runtime/, the failover loop) only see this file;
 * they never include a provider's own header.
 *
 * Contracts:
 * - A provider never prints. Every failure is returned as an enum skyc_err
 *   classified for failover and described in err:
 *     SKYC_E_CAPACITY  no capacity for this (region, zone, type, spot) now:
 *                      block the zone (or the region when zone is NULL)
 *     SKYC_E_QUOTA     a quota of this account/region: block the region
 *     SKYC_E_AUTH      credentials or permission: block the whole cloud
 *     anything else    other: block this offering only
 * - provision() is all-or-nothing: on failure it has released every node it
 *   started, so nothing leaks. On success the caller owns the returned
 *   struct provider_node array (provider_nodes_free()).
 * - Node handles are plain data that survive process restarts: the runtime
 *   stores them in state/ and hands them back to status/run/copy/terminate
 *   in a later skyc process. `id` is unique within the provider.
 * - terminate() of a node that no longer exists succeeds (idempotent), so
 *   reconciliation after a crash can always clean up.
 * - run() starts argv on one node in its own process group with env added
 *   to the environment and cwd relative to the node's work directory; its
 *   stdout+stderr go to log_path (a file on the machine running skyc,
 *   appended). It returns at once with a pid-like handle that wait/kill use.
 *   Blocking waits are the caller's choice (provider_wait).
 */
#ifndef SKYC_PROVISION_PROVIDER_H
#define SKYC_PROVISION_PROVIDER_H

#include "core/common.h"
#include "core/error.h"

/* Where and on what to provision. Strings are borrowed for the call. */
struct provider_request {
    const char *cluster;       /* cluster name, for labels and dirs */
    size_t num_nodes;          /* >= 1 */
    const char *cloud;         /* "local", "ssh", "sim:gcp", ... */
    const char *region;        /* NULL = provider's choice */
    const char *zone;          /* NULL = provider's choice */
    const char *instance_type; /* NULL = provider's choice */
    bool spot;
    double cpus;  /* needed per node, 0 = any */
    double gpus;  /* needed per node, 0 = none */
    const char *accelerator; /* canonical name ("A100"), or NULL */
};

enum provider_node_state {
    NODE_PENDING,
    NODE_RUNNING,
    NODE_STOPPED,
    NODE_PREEMPTED, /* a spot node the provider took back */
    NODE_TERMINATED, /* gone: terminated, or never existed */
};

const char *provider_node_state_name(enum provider_node_state s);

/* One node. Every string is owned by the node (provider_nodes_free). */
struct provider_node {
    char *id;      /* provider-unique handle, stored in state/ */
    char *ip;      /* address other nodes reach it at ("127.0.0.1") */
    char *workdir; /* the node's work directory (path on the node) */
    char *region, *zone, *instance_type;
    bool spot;
    double hourly_price; /* $/h for this node, NaN when unknown */
    enum provider_node_state state;
    /* What a job may use on the node (the agent's accounting); 0 = unknown,
     * which the agent treats as no limit. */
    double cpus, gpus;
};

void provider_node_release(struct provider_node *n);
void provider_nodes_free(struct provider_node *nodes, size_t n);

/* A started command on a node. */
struct provider_proc {
    long pid;  /* process (group) id on the node, > 0 */
    char *node_id;
};

struct provider;

struct provider_ops {
    const char *name; /* "local", "ssh", "sim" */
    /* status() costs a network round trip (ssh): `skyc status` asks it
     * only with --refresh. false = a local file or process check. */
    bool status_remote;

    /* Start num_nodes nodes; all or nothing (see the top of this file). */
    enum skyc_err (*provision)(struct provider *p,
                               const struct provider_request *req,
                               struct provider_node **nodes, size_t *n,
                               struct skyc_error *err);
    /* Refresh node->state (and ip) from the provider. */
    enum skyc_err (*status)(struct provider *p, struct provider_node *node,
                            struct skyc_error *err);
    enum skyc_err (*stop)(struct provider *p, struct provider_node *node,
                          struct skyc_error *err);
    enum skyc_err (*start)(struct provider *p, struct provider_node *node,
                           struct skyc_error *err);
    /* Idempotent: a node already gone is success. */
    enum skyc_err (*terminate)(struct provider *p, struct provider_node *node,
                               struct skyc_error *err);

    /* env is NULL-terminated "NAME=value" strings, or NULL. */
    enum skyc_err (*run)(struct provider *p, const struct provider_node *node,
                         const char *const *argv, const char *const *env,
                         const char *cwd, const char *log_path,
                         struct provider_proc *proc, struct skyc_error *err);
    /*
     * Wait up to timeout_ms (-1 forever, 0 poll) for proc; *done tells
     * whether it ended, *exit_code its code (128+signal when killed).
     */
    enum skyc_err (*wait)(struct provider *p, const struct provider_proc *proc,
                          int timeout_ms, bool *done, int *exit_code,
                          struct skyc_error *err);
    /* Signal proc's whole process group. */
    enum skyc_err (*kill)(struct provider *p, const struct provider_proc *proc,
                          int signo, struct skyc_error *err);

    /* Copy a local path (file or directory, recursively) to the node, or
     * back; node_path is relative to the node's workdir unless absolute. */
    enum skyc_err (*copy_to)(struct provider *p,
                             const struct provider_node *node,
                             const char *local_path, const char *node_path,
                             struct skyc_error *err);
    enum skyc_err (*copy_from)(struct provider *p,
                               const struct provider_node *node,
                               const char *node_path, const char *local_path,
                               struct skyc_error *err);

    /*
     * Optional (NULL = the provider cannot grow a cluster it made): start
     * ONE more node for the existing cluster req->cluster, to stand in for
     * node `rank` (one that was preempted or lost). Contract:
     * - placement is exact, never widened: req->region and req->zone (when
     *   set) and req->instance_type are where the node goes; a shortage
     *   there is SKYC_E_CAPACITY (the caller decides whether another zone,
     *   i.e. a whole new cluster, is acceptable); req->num_nodes is ignored
     * - all or nothing, errors classified as for provision(); on failure
     *   nothing was started
     * - the other nodes of the cluster are not touched (same ids, same
     *   processes); the new node has a new id (never the lost node's), a
     *   name terminate_cluster() knows, and the lost node is NOT
     *   terminated here: the caller terminates it (idempotent)
     * - it is billed from its start, like any node (hourly_price)
     * On success the caller owns *node (provider_node_release()).
     */
    enum skyc_err (*add_node)(struct provider *p,
                              const struct provider_request *req, long rank,
                              struct provider_node *node,
                              struct skyc_error *err);

    /*
     * Optional (NULL = not offered): remove everything the provider holds
     * for this cluster name, including nodes no handle was returned for
     * (a skyc killed inside provision()). Idempotent. Reconciliation calls
     * it after terminating the recorded nodes.
     */
    enum skyc_err (*terminate_cluster)(struct provider *p, const char *cluster,
                                       struct skyc_error *err);

    /* Free the provider's context (not the nodes). */
    void (*release)(struct provider *p);
};

struct provider {
    const struct provider_ops *ops;
    void *ctx; /* owned by the provider */
};

void provider_proc_release(struct provider_proc *proc);

/*
 * Open a provider by name ("local", "ssh", "sim"), reading its config from
 * the skyc config dir where it has one. On success the caller owns *p and
 * calls provider_close().
 */
enum skyc_err provider_open(const char *name, struct provider *p,
                            struct skyc_error *err);
void provider_close(struct provider *p);

#endif
