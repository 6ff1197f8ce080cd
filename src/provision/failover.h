/*
 * failover.h - provision a cluster for a task, trying again elsewhere when
 * a provider says no.
 *
 * The launch path (runtime/launch.c) calls provision_with_failover() once
 * per launch. It tries req->first (for catalog providers such as sim the
 * optimizer's choice; for local/ssh the task's needs), and on a classified
 * failure (provider.h) blocks what the error class says:
 *     SKYC_E_CAPACITY  the zone (the region when the attempt had no zone)
 *     SKYC_E_QUOTA     the region
 *     SKYC_E_AUTH      the whole cloud
 *     anything else    that offering only (cloud, zone, type, spot)
 * then re-optimises with req->cat/req->params plus the blocked list
 * (struct opt_block) and tries the next cheapest candidate. Providers
 * without a catalog (req->cat NULL) have nothing else to try.
 *
 * When every candidate is blocked: without retry_until_up the call fails
 * with the last attempt's class (CAPACITY when the last failure was a
 * shortage; INFEASIBLE when no candidate existed at all) and a message that
 * lists what was blocked and suggests --retry-until-up. With retry_until_up
 * the blocked list is cleared (auth blocks stay: credentials do not come
 * back by waiting) and the loop starts over from req->first after a backoff
 * that doubles from backoff_initial_s up to backoff_max_s, until it
 * succeeds, *interrupted is set, or max_rounds rounds have run.
 *
 * Contract:
 * - On success res->nodes holds every node (owned by res) and res->attempts
 *   lists every attempt in order, the last one the success; res->chosen is
 *   a copy of the request that succeeded (strings owned by res).
 * - On failure no node is left running (provider_ops.provision is all or
 *   nothing), res->attempts still lists what was tried, and the return value
 *   is the classified error described above.
 * - *req->interrupted (when not NULL) becoming non-zero stops the loop with
 *   SKYC_E_INTERRUPTED between attempts and during backoff.
 * - failover_result_release() frees everything in res.
 */
#ifndef SKYC_PROVISION_FAILOVER_H
#define SKYC_PROVISION_FAILOVER_H

#include "core/common.h"
#include "core/error.h"
#include "provision/provider.h"

#include <jansson.h>
#include <signal.h>

struct catalog;
struct task_dag;
struct opt_params;
struct table;
struct failover_attempt;

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
    /* Backoff of --retry-until-up; 0 = defaults (1 s doubling to 60 s). */
    double backoff_initial_s, backoff_max_s;
    /* Rounds of --retry-until-up; 0 = no limit. */
    long max_rounds;
    /* Called after every attempt (for progress on stderr), or NULL. */
    void (*on_attempt)(const struct failover_attempt *a, void *arg);
    void *on_attempt_arg;
};

struct failover_attempt {
    char *cloud, *region, *zone, *instance_type; /* NULL = provider's choice */
    bool spot;
    enum skyc_err code; /* SKYC_OK for the attempt that succeeded */
    char *message;      /* NULL when it succeeded */
    char *blocked;      /* what the failure blocked ("zone aws/us-east-1/
                           us-east-1a"), NULL when nothing */
    double hourly;      /* $/h per node of the offering, NaN when unknown */
    double at;          /* wall clock (Unix seconds) of the attempt */
    long round;         /* 1 + number of --retry-until-up restarts before */
};

struct failover_result {
    struct provider_node *nodes;
    size_t nnodes;
    struct failover_attempt *attempts;
    size_t nattempts, attempts_alloc;
    struct provider_request chosen; /* strings owned by res */
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

/*
 * The failover history for the CLI: a table (#, INFRA, INSTANCE, SPOT,
 * $/HR, RESULT, BLOCKED) added to t (initialised by the caller), and the
 * same as a JSON array (new reference).
 */
void failover_history_table(const struct failover_result *res,
                            struct table *t);
json_t *failover_history_json(const struct failover_result *res);

/*
 * What a failed attempt at (cloud, region, zone, type, spot) with this
 * error class blocks, in the words of failover_attempt.blocked ("zone
 * sim:aws/us-east-1/us-east-1a"); NULL when nothing (fatal classes, or a
 * cloud that is not a catalog cloud). Caller frees.
 */
char *failover_blocked_text(const char *cloud, const char *region,
                            const char *zone, const char *instance_type,
                            bool spot, enum skyc_err code);

#endif
