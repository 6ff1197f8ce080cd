/*
 * recovery.c - where a managed job's next cluster goes (jobs.h).
 *
 * FAILOVER: the region it was preempted in first (spot may come back
 * there; the runtime's failover tries its other zones), then anywhere.
 * EAGER_NEXT_REGION: block the preempted region for the next launch (the
 * optimizer never plans it), then anywhere if nothing else has capacity.
 * DEADLINE: spot_decide() of the spot policy engine at every decision point.
 */
#include "core/common.h"
#include "jobs/jobs.h"
#include "spot/policy.h"

#include <math.h>

void mjob_plan_recovery(const struct mjob *j, const char *lost_region,
                        int attempt, struct mjob_plan *p)
{
    memset(p, 0, sizeof(*p));
    p->spot = 0; /* the task's choice */
    if (!lost_region || attempt > 0) {
        p->why = lost_region ? "anywhere" : "first launch";
        return;
    }
    if (!strcmp(j->strategy, MJOB_EAGER)) {
        p->avoid_region = lost_region;
        p->why = "next region";
    } else {
        p->region = lost_region;
        p->why = "same region";
    }
}

const char *mjob_loss_name(enum mjob_loss l)
{
    switch (l) {
    case MJOB_LOSS_NONE:
        return "none";
    case MJOB_LOSS_USER:
        return "user failure";
    case MJOB_LOSS_NODES:
        return "lost node";
    case MJOB_LOSS_CLUSTER:
        return "lost cluster";
    }
    return "?";
}

enum mjob_loss mjob_classify(const enum provider_node_state *states, size_t n,
                             bool job_failed, size_t *nlost)
{
    size_t lost = 0;
    for (size_t i = 0; i < n; i++)
        lost += states[i] == NODE_PREEMPTED || states[i] == NODE_TERMINATED;
    *nlost = lost;
    if (n == 0 || lost == n)
        return MJOB_LOSS_CLUSTER;
    if (lost)
        return MJOB_LOSS_NODES;
    return job_failed ? MJOB_LOSS_USER : MJOB_LOSS_NONE;
}

void mjob_plan_node_loss(const struct mjob *j, enum mjob_loss loss,
                         size_t nnodes, size_t nlost, bool can_replace,
                         int policy_kind, bool policy_same_zone,
                         struct mjob_node_plan *p)
{
    memset(p, 0, sizeof(*p));
    if (loss != MJOB_LOSS_NODES || nlost == 0 || nlost >= nnodes) {
        p->why = "the whole cluster was lost";
        return;
    }
    if (nnodes < 2) {
        p->why = "a single-node cluster";
        return;
    }
    if (!can_replace) {
        p->why = "the provider cannot replace one node";
        return;
    }
    if (!strcmp(j->strategy, MJOB_EAGER)) {
        p->why = "EAGER_NEXT_REGION moves the whole cluster";
        return;
    }
    if (!strcmp(j->strategy, MJOB_DEADLINE)) {
        if (policy_kind != SPOT_SPOT) {
            p->why = policy_kind == SPOT_OD ? "policy: on-demand"
                                            : "policy: wait for spot";
            return;
        }
        if (!policy_same_zone) {
            p->why = "policy: spot in another zone";
            return;
        }
        p->replace = true;
        p->spot = 2;
        p->why = "policy: spot in the same zone";
        return;
    }
    p->replace = true;
    p->spot = 0;
    p->why = "same zone";
}

int mjob_decide(const struct mjob *j, const struct mjob_zone *zones,
                int nzones, int cur_kind, int cur_zone, double elapsed,
                double work_done, double gap, double overhead,
                double pending, uint32_t seen, int *zone_out)
{
    struct spot_policy pol;
    enum spot_policy_id id = SPOT_POL_UP;
    if (j->policy)
        spot_policy_by_name(j->policy, &id);
    spot_policy_init(&pol, id);
    bool avail[SPOT_MAX_ZONES];
    uint32_t streak[SPOT_MAX_ZONES], sa[SPOT_MAX_ZONES], sr[SPOT_MAX_ZONES];
    if (nzones > SPOT_MAX_ZONES)
        nzones = SPOT_MAX_ZONES;
    double ratio = 0;
    for (int z = 0; z < nzones; z++) {
        avail[z] = zones[z].avail;
        streak[z] = zones[z].streak;
        sa[z] = zones[z].seen_avail;
        sr[z] = zones[z].seen_runs;
    }
    if (nzones > 0 && zones[0].spot_price > 0 && zones[0].od_price > 0)
        ratio = zones[0].od_price / zones[0].spot_price;
    if (!(ratio > 1))
        ratio = 3; /* the paper's k when prices are unknown */
    /* single-zone policies look at the zone the job is in */
    int base = cur_zone >= 0 && cur_zone < nzones ? cur_zone : 0;
    struct spot_state s = {
        .elapsed = elapsed,
        .deadline = j->deadline_s,
        .work_total = j->work_s,
        .work_done = work_done,
        .overhead = overhead,
        .pending = pending,
        .gap = gap,
        .current = (enum spot_kind)cur_kind,
        .zone = spot_policy_multizone(id) ? base : 0,
        .nzones = spot_policy_multizone(id) ? (nzones > 0 ? nzones : 1) : 1,
        .avail = spot_policy_multizone(id) ? avail : &avail[base],
        .price_ratio = ratio,
        .streak = spot_policy_multizone(id) ? streak : &streak[base],
        .seen_avail = spot_policy_multizone(id) ? sa : &sa[base],
        .seen_runs = spot_policy_multizone(id) ? sr : &sr[base],
        .seen = seen,
    };
    if (nzones == 0) {
        avail[0] = false;
        streak[0] = sa[0] = sr[0] = 0;
        s.avail = avail;
        s.streak = streak;
        s.seen_avail = sa;
        s.seen_runs = sr;
    }
    struct spot_action a = spot_decide(&pol, &s);
    *zone_out = spot_policy_multizone(id) ? a.zone : base;
    if (a.kind != SPOT_SPOT)
        *zone_out = base;
    return (int)a.kind;
}
