/*
 * provider.c - provider_open() dispatch and the plain-data helpers of
 * provider.h.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "provision/provider.h"
#include "provision/providers.h"

static const struct {
    const char *name;
    enum skyc_err (*open)(struct provider *p, struct skyc_error *err);
} provider_table[] = {
    {"local", provider_local_open},
    {"sim", provider_sim_open},
    {"ssh", provider_ssh_open},
};

const char *provider_node_state_name(enum provider_node_state s)
{
    switch (s) {
    case NODE_PENDING:
        return "PENDING";
    case NODE_RUNNING:
        return "RUNNING";
    case NODE_STOPPED:
        return "STOPPED";
    case NODE_PREEMPTED:
        return "PREEMPTED";
    case NODE_TERMINATED:
        return "TERMINATED";
    }
    return "UNKNOWN";
}

void provider_node_release(struct provider_node *n)
{
    if (!n)
        return;
    free(n->id);
    free(n->ip);
    free(n->workdir);
    free(n->region);
    free(n->zone);
    free(n->instance_type);
    memset(n, 0, sizeof(*n));
}

void provider_nodes_free(struct provider_node *nodes, size_t n)
{
    for (size_t i = 0; nodes && i < n; i++)
        provider_node_release(&nodes[i]);
    free(nodes);
}

void provider_proc_release(struct provider_proc *proc)
{
    if (!proc)
        return;
    FREE_AND_NULL(proc->node_id);
    proc->pid = 0;
}

enum skyc_err provider_open(const char *name, struct provider *p,
                            struct skyc_error *err)
{
    memset(p, 0, sizeof(*p));
    /* "sim:gcp" and the like name the provider before the colon. */
    size_t len = strcspn(name, ":");
    for (size_t i = 0; i < ARRAY_SIZE(provider_table); i++)
        if (strlen(provider_table[i].name) == len &&
            !strncmp(provider_table[i].name, name, len))
            return provider_table[i].open(p, err);
    struct strbuf_names {
        char s[256];
    } names = {{0}};
    size_t off = 0;
    for (size_t i = 0; i < ARRAY_SIZE(provider_table) && off < 200; i++)
        off += (size_t)snprintf(names.s + off, sizeof(names.s) - off, "%s%s",
                                i ? ", " : "", provider_table[i].name);
    return skyc_fail(err, SKYC_E_USAGE, "unknown provider '%s' (choose %s)",
                     name, names.s);
}

void provider_close(struct provider *p)
{
    if (p && p->ops && p->ops->release)
        p->ops->release(p);
    if (p)
        memset(p, 0, sizeof(*p));
}
