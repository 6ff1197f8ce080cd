/*
 * failover.c - the first version of provision_with_failover(): one attempt
 * at the plan's choice (see failover.h for the contract a fuller loop keeps).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "provision/failover.h"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void failover_record(struct failover_result *res,
                     const struct provider_request *r, enum skyc_err code,
                     const char *message)
{
    ALLOC_GROW(res->attempts, res->nattempts + 1, res->attempts_alloc);
    struct failover_attempt *a = &res->attempts[res->nattempts++];
    a->cloud = dup_or_null(r->cloud);
    a->region = dup_or_null(r->region);
    a->zone = dup_or_null(r->zone);
    a->instance_type = dup_or_null(r->instance_type);
    a->spot = r->spot;
    a->code = code;
    a->message = code == SKYC_OK ? NULL : dup_or_null(message);
}

void failover_result_release(struct failover_result *res)
{
    provider_nodes_free(res->nodes, res->nnodes);
    for (size_t i = 0; i < res->nattempts; i++) {
        struct failover_attempt *a = &res->attempts[i];
        free(a->cloud);
        free(a->region);
        free(a->zone);
        free(a->instance_type);
        free(a->message);
    }
    free(res->attempts);
    memset(res, 0, sizeof(*res));
}

enum skyc_err provision_with_failover(struct provider *p,
                                      const struct failover_request *req,
                                      struct failover_result *res,
                                      struct skyc_error *err)
{
    struct skyc_error e = {0};
    if (req->interrupted && *req->interrupted)
        return skyc_fail(err, SKYC_E_INTERRUPTED, "interrupted");
    enum skyc_err rc = p->ops->provision(p, &req->first, &res->nodes,
                                         &res->nnodes, &e);
    failover_record(res, &req->first, rc, e.msg);
    if (rc)
        return skyc_fail(err, rc, "%s", e.msg);
    return SKYC_OK;
}
