/*
 * endpoint.c - opening endpoints by spec, and object lists.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "transfer/endpoint.h"

void ep_list_release(struct ep_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].key);
    FREE_AND_NULL(l->v);
    l->n = l->alloc = 0;
}

static int cmp_obj(const void *a, const void *b)
{
    return strcmp(((const struct ep_object *)a)->key,
                  ((const struct ep_object *)b)->key);
}

void ep_list_sort(struct ep_list *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), cmp_obj);
}

enum skyc_err endpoint_open(const char *spec, struct endpoint **ep,
                            struct skyc_error *err)
{
    *ep = NULL;
    if (strncmp(spec, "s3://", 5) == 0)
        return endpoint_s3_open(spec, ep, err);
    if (!*spec)
        return skyc_fail(err, SKYC_E_USAGE, "empty endpoint path");
    return endpoint_local_open(spec, ep, err);
}

void endpoint_free(struct endpoint *ep)
{
    if (ep)
        ep->ops->free(ep);
}
