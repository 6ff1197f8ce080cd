/*
 * policy.c - the online spot policies. Each is a pure function of the state:
 * whatever a policy "remembers" (being on on-demand, having crossed the
 * safety net) is read back from state->current and the progress numbers, so
 * the controller can restart and decide again from persisted state alone.
 */
#include "core/common.h"
#include "spot/policy.h"

static const char *const policy_names[SPOT_POL_COUNT] = {
    [SPOT_POL_OD] = "od",           [SPOT_POL_GREEDY] = "greedy",
    [SPOT_POL_SLICED] = "sliced",   [SPOT_POL_UP] = "up",
    [SPOT_POL_ADAPTIVE] = "adaptive", [SPOT_POL_MZ_UP] = "mz-up",
    [SPOT_POL_MZ_ADAPTIVE] = "mz-adaptive", [SPOT_POL_MARKOV] = "markov",
    [SPOT_POL_MZ_MARKOV] = "mz-markov",
    [SPOT_POL_OPTIMAL] = "optimal",
};

const char *spot_kind_name(enum spot_kind k)
{
    switch (k) {
    case SPOT_SPOT:
        return "spot";
    case SPOT_OD:
        return "on-demand";
    default:
        return "idle";
    }
}

const char *spot_policy_name(enum spot_policy_id id)
{
    return (unsigned)id < SPOT_POL_COUNT ? policy_names[id] : "unknown";
}

bool spot_policy_by_name(const char *name, enum spot_policy_id *id)
{
    for (int i = 0; i < SPOT_POL_COUNT; i++)
        if (!strcmp(name, policy_names[i])) {
            *id = (enum spot_policy_id)i;
            return true;
        }
    return false;
}

bool spot_policy_multizone(enum spot_policy_id id)
{
    return id == SPOT_POL_MZ_UP || id == SPOT_POL_MZ_ADAPTIVE ||
           id == SPOT_POL_MZ_MARKOV;
}

void spot_policy_init(struct spot_policy *p, enum spot_policy_id id)
{
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->up = (struct spot_up_rules){true, true, true, true};
    p->slice = 6 * 3600.0;
    /* adaptive: uniform progress, but leave on-demand for any spot while
     * the slack covers the changeovers, if spot runs seen so far average
     * four changeovers or more (1.4% below up at D=60h, d=0.2h) */
    p->enter = 1;
    p->idle = INFINITY;
    p->leave = 0;
    p->streak = 1;
    p->runlen = 4;
}

bool spot_policy_set(struct spot_policy *p, const char *name, double value)
{
    if (!isfinite(value) || value < 0)
        return false;
    if (!strcmp(name, "slice") && value > 0)
        p->slice = value * 3600;
    else if (!strcmp(name, "enter") && value <= 10)
        p->enter = value;
    else if (!strcmp(name, "idle"))
        p->idle = value > 10 ? INFINITY : value;
    else if (!strcmp(name, "leave") && value <= 10)
        p->leave = value;
    else if (!strcmp(name, "uweight") && value <= 10)
        p->uweight = value;
    else if (!strcmp(name, "runlen") && value <= 1000)
        p->runlen = value;
    else if (!strcmp(name, "streak") && value <= 1000)
        p->streak = value;
    else
        return false;
    return true;
}

/* Whole decision intervals left before the deadline, in seconds. */
static double time_left(const struct spot_state *s)
{
    double r = s->deadline - s->elapsed;
    if (s->gap > 0)
        r = floor(r / s->gap + 1e-9) * s->gap;
    return r;
}

static double work_left(const struct spot_state *s)
{
    return s->work_total - s->work_done;
}

/* Time the remaining work plus extra takes, rounded up to intervals. */
static double need_time(const struct spot_state *s, double extra)
{
    double w = work_left(s) + extra;
    if (s->gap > 0)
        w = ceil(w / s->gap - 1e-9) * s->gap;
    return w;
}

bool spot_must_go_od(const struct spot_state *s, double extra)
{
    return need_time(s, s->overhead + extra) >= time_left(s);
}

/* A zone with spot now: the current one first, else the one whose spot
 * has been up longest (runs that lasted tend to last), else the lowest. */
static int spot_zone(const struct spot_state *s, bool any_zone)
{
    if (s->zone >= 0 && s->zone < s->nzones && s->avail[s->zone])
        return s->zone;
    if (!any_zone)
        return -1;
    int best = -1;
    for (int z = 0; z < s->nzones; z++)
        if (s->avail[z] &&
            (best < 0 || (s->streak && s->streak[z] > s->streak[best])))
            best = z;
    return best;
}

static struct spot_action act(enum spot_kind k, int zone)
{
    return (struct spot_action){k, zone};
}

/*
 * The end-game guard every spot policy shares: when a fresh start could no
 * longer finish in time, a running spot instance keeps going (it may finish
 * before a preemption) and anything else goes on-demand to the end.
 */
static bool endgame(const struct spot_state *s, double extra,
                    struct spot_action *out)
{
    if (!spot_must_go_od(s, extra))
        return false;
    if (s->current == SPOT_SPOT && s->pending <= 0 && extra <= 0)
        *out = act(SPOT_SPOT, s->zone);
    else
        *out = act(SPOT_OD, s->zone);
    return true;
}

static struct spot_action decide_greedy(const struct spot_state *s)
{
    struct spot_action a;
    if (s->current == SPOT_OD)
        return act(SPOT_OD, s->zone);
    if (endgame(s, 0, &a))
        return a;
    int z = spot_zone(s, false);
    return z >= 0 ? act(SPOT_SPOT, z) : act(SPOT_NONE, s->zone);
}

static struct spot_action decide_sliced(const struct spot_policy *p,
                                        const struct spot_state *s)
{
    struct spot_action a;
    if (endgame(s, 0, &a))
        return a;
    int z = spot_zone(s, false);
    if (z >= 0)
        return act(SPOT_SPOT, z);
    double T = p->slice > 0 ? p->slice : s->deadline;
    double i = floor(s->elapsed / T + 1e-9);
    double end = SKYC_MIN((i + 1) * T, s->deadline);
    double target = SKYC_MIN(s->work_total, end * s->work_total / s->deadline);
    double need = target - s->work_done;
    if (need <= 0)
        return act(SPOT_NONE, s->zone);
    double start = s->current == SPOT_OD ? 0 : s->overhead;
    if (s->current == SPOT_OD || need + start >= end - s->elapsed - s->gap)
        return act(SPOT_OD, s->zone);
    return act(SPOT_NONE, s->zone);
}

/* Uniform progress: expected progress at time t is t * C / D. */
static double line(const struct spot_state *s, double t)
{
    return t * s->work_total / s->deadline;
}

static struct spot_action decide_up(const struct spot_policy *p,
                                    const struct spot_state *s, bool zones)
{
    const struct spot_up_rules *r = &p->up;
    struct spot_action a;
    double d = s->overhead;
    /* safety net: idle or on-demand with R < C + 2d -> on-demand to the end */
    if (r->safety && s->current != SPOT_SPOT && spot_must_go_od(s, d))
        return act(SPOT_OD, s->zone);
    if (endgame(s, 0, &a))
        return a;
    bool behind = s->work_done < line(s, s->elapsed);
    int z = spot_zone(s, zones);
    if (s->current == SPOT_SPOT)
        return act(SPOT_SPOT, s->zone); /* exploitation: ride it out */
    if (s->current == SPOT_OD) {
        /* hysteresis: leave on-demand only for spot, and only once ahead of
         * the line at t + 2d (without it: once not behind) */
        bool ahead = r->hysteresis
                         ? s->work_done >= line(s, s->elapsed + 2 * d)
                         : !behind;
        if (z >= 0 && ahead)
            return act(SPOT_SPOT, z);
        return act(SPOT_OD, s->zone);
    }
    if (z >= 0 && (r->risks || !behind))
        return act(SPOT_SPOT, z);
    if (r->uniform && behind)
        return act(SPOT_OD, s->zone);
    return act(SPOT_NONE, s->zone);
}

/* Slack: time that can still be lost (idle or overhead) and finish. */
static double slack(const struct spot_state *s)
{
    return time_left(s) - work_left(s);
}

/* The share of time spot was down so far, blended with an even prior
 * worth six hours of history. */
static double outage_share(const struct spot_state *s, int zone)
{
    const double prior = 0.5, pw = 6 * 3600.0;
    if (!s->seen_avail || !s->seen || zone < 0 || zone >= s->nzones)
        return prior;
    double w = (double)s->seen * s->gap;
    double u = 1 - (double)s->seen_avail[zone] / (double)s->seen;
    return (u * w + prior * pw) / (w + pw);
}

/* Mean length of the spot runs seen in zone z so far (seconds); the
 * current run counts. Without history: infinity. */
static double mean_run(const struct spot_state *s, int z)
{
    if (!s->seen_avail || !s->seen_runs || z < 0 || !s->seen_runs[z])
        return INFINITY;
    return (double)s->seen_avail[z] / (double)s->seen_runs[z] * s->gap;
}

/*
 * Ours: see README. Thresholds on the slack, relative to the slack line of
 * uniform progress.
 */
static struct spot_action decide_adaptive(const struct spot_policy *p,
                                          const struct spot_state *s,
                                          bool zones)
{
    struct spot_action a;
    double d = s->overhead;
    if (s->current != SPOT_SPOT && spot_must_go_od(s, d))
        return act(SPOT_OD, s->zone);
    if (endgame(s, 0, &a))
        return a;
    double sl = slack(s);
    double line_slack =
        time_left(s) * (s->deadline - s->work_total) / s->deadline;
    double margin = 2 * d * s->work_total / s->deadline;
    int z = spot_zone(s, zones);
    if (s->current == SPOT_SPOT)
        return act(SPOT_SPOT, s->zone);
    if (s->current == SPOT_OD) {
        bool steady = z >= 0 && (!s->streak || s->streak[z] >= p->streak);
        bool ahead = sl >= line_slack + margin; /* uniform progress's rule */
        if (z >= 0 && ahead)
            return act(SPOT_SPOT, z);
        if (steady && mean_run(s, z) >= p->runlen * d &&
            sl >= p->leave * line_slack + margin)
            return act(SPOT_SPOT, z);
        if (z < 0 && sl > p->idle * line_slack + margin)
            return act(SPOT_NONE, s->zone);
        return act(SPOT_OD, s->zone);
    }
    if (z >= 0)
        return act(SPOT_SPOT, z);
    double thr = p->enter * line_slack;
    if (p->uweight > 0)
        thr = SKYC_MAX(thr, p->uweight * outage_share(s, s->zone) *
                                time_left(s));
    return sl < thr ? act(SPOT_OD, s->zone) : act(SPOT_NONE, s->zone);
}

struct spot_action spot_decide(const struct spot_policy *p,
                               const struct spot_state *s)
{
    if (s->work_done >= s->work_total)
        return act(SPOT_NONE, s->zone); /* thrifty: idle once done */
    switch (p->id) {
    case SPOT_POL_GREEDY:
        return decide_greedy(s);
    case SPOT_POL_SLICED:
        return decide_sliced(p, s);
    case SPOT_POL_UP:
        return decide_up(p, s, false);
    case SPOT_POL_MZ_UP:
        return decide_up(p, s, true);
    case SPOT_POL_ADAPTIVE:
        return decide_adaptive(p, s, false);
    case SPOT_POL_MZ_ADAPTIVE:
        return decide_adaptive(p, s, true);
    case SPOT_POL_MARKOV:
    case SPOT_POL_MZ_MARKOV: {
        bool mz = p->id == SPOT_POL_MZ_MARKOV;
        int k = p->markov ? spot_markov_lookup(p->markov, s) : -1;
        if (k < 0)
            return decide_up(p, s, mz);
        if (k != SPOT_SPOT)
            return act((enum spot_kind)k, s->zone);
        int z = spot_zone(s, mz);
        return z >= 0 ? act(SPOT_SPOT, z) : act(SPOT_NONE, s->zone);
    }
    default:
        return act(SPOT_OD, s->zone);
    }
}
