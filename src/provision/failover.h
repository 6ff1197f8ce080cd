/*
 * failover.h - provision a cluster for a task, trying again elsewhere when
 * a provider says no.
 *
 * The launch path (runtime/launch.c) calls provision_with_failover() once
 * per launch. This first version tries the plan's choice (req->first) and
 * returns its error; the failover loop proper (block the zone / region /
 * cloud by error class, re-optimise with req->cat and req->params, take the
 * next cheapest, --retry-until-up with backoff) replaces its body behind
 * the same contract:
 *
 * - On success res->nodes holds every node (owned by res) and res->attempts
 *   lists every attempt in order, the last one the success; res->chosen is
 *   a copy of the request that succeeded.
 * - On failure no node is left running (provider_ops.provision is all or
 *   nothing), res->attempts still lists what was tried, and the return value
 *   is the last attempt's classified error.
 * - *req->interrupted (when not NULL) becoming non-zero stops the loop with
 *   SKYC_E_INTERRUPTED between attempts.
 * - failover_result_release() frees everything in res.
 */
#ifndef SKYC_PROVISION_FAILOVER_H
#define SKYC_PROVISION_FAILOVER_H

#include "core/common.h"
#include "core/error.h"
#include "provision/provider.h"

#include <signal.h>

struct catalog;
struct task_dag;
struct opt_params;

struct failover_request {
    /* The first place to try: for catalog providers (sim) the optimizer's
     * choice; for local/ssh the task's needs with cloud/region NULL. */
    struct provider_request first;
    /* For re-optimising (NULL for providers without a catalog). The dag's
     * task `task` is the one being launched. */
    struct catalog *cat;
    const struct task_dag *dag;
    size_t task;
    const struct opt_params *params;
    bool retry_until_up;
    volatile sig_atomic_t *interrupted;
};

struct failover_attempt {
    char *cloud, *region, *zone, *instance_type; /* NULL = provider's choice */
    bool spot;
    enum skyc_err code; /* SKYC_OK for the attempt that succeeded */
    char *message;      /* NULL when it succeeded */
};

struct failover_result {
    struct provider_node *nodes;
    size_t nnodes;
    struct failover_attempt *attempts;
    size_t nattempts, attempts_alloc;
};

enum skyc_err provision_with_failover(struct provider *p,
                                      const struct failover_request *req,
                                      struct failover_result *res,
                                      struct skyc_error *err);
/* Append an attempt (copies every string). */
void failover_record(struct failover_result *res,
                     const struct provider_request *r, enum skyc_err code,
                     const char *message);
void failover_result_release(struct failover_result *res);

#endif
