/*
 * policy.h - the spot policy engine: decide(policy, state) -> action.
 *
 * Pure functions, no I/O, no clocks, no allocation: the trace simulator
 * (spot/sim.h) and the managed-jobs controller feed a struct spot_state and
 * act on the struct spot_action that comes back. Nothing here knows about
 * traces or ticks beyond the decision interval the caller reports in
 * state->gap (the controller passes its polling interval).
 *
 * The model (Wu et al., "Can't Be Late", NSDI'24): a job needs work_total
 * seconds of compute by deadline; at any moment it is idle, on spot (cheap,
 * may be preempted) or on on-demand (price k > 1). Every switch onto a new
 * instance costs a changeover delay `overhead` (no progress, billed at the
 * new instance's price); going idle is free.
 *
 * All times are seconds (doubles holding whole seconds, so tick arithmetic is
 * exact). The caller owns the state and the arrays it points to; decide()
 * only reads them.
 */
#ifndef SKYC_SPOT_POLICY_H
#define SKYC_SPOT_POLICY_H

#include "core/common.h"

struct spot_markov;

enum spot_kind { SPOT_NONE = 0, SPOT_SPOT = 1, SPOT_OD = 2 };

/* "idle", "spot", "on-demand". Never NULL. */
const char *spot_kind_name(enum spot_kind k);

#define SPOT_MAX_ZONES 16

struct spot_state {
    double elapsed;    /* t: seconds since the job was submitted */
    double deadline;   /* D: seconds from submission to the deadline */
    double work_total; /* C: seconds of compute the job needs */
    double work_done;  /* seconds of compute done so far */
    double overhead;   /* d: changeover delay of a new instance */
    double pending;    /* restart overhead still to pay on the current one */
    double gap;        /* the decision interval (the caller's tick) */
    /* What runs now, after any preemption the caller has observed (a
     * preempted spot instance is SPOT_NONE here). */
    enum spot_kind current;
    int zone;           /* zone of the current instance (or the last one) */
    int nzones;         /* 1..SPOT_MAX_ZONES */
    const bool *avail;  /* avail[z]: spot obtainable in zone z right now */
    double price_ratio; /* k = on-demand price / spot price, > 1 */
    /* Optional history: streak[z] = consecutive decision points, up to and
     * including now, at which zone z had spot (0 = none now). NULL when the
     * caller keeps no history; policies then assume a long streak. */
    const uint32_t *streak;
    /* Optional: outage[z] = consecutive decision points, up to and
     * including now, at which zone z had no spot (0 = spot now). */
    const uint32_t *outage;
    /* Optional history over the job so far, per zone (NULL = none): decision
     * points with spot, and spot runs (outage -> spot transitions) begun;
     * seen = decision points so far, including now. */
    const uint32_t *seen_avail, *seen_runs;
    uint32_t seen;
    /* Optional: the same streaks for "spot in some zone" (0 when unknown). */
    uint32_t any_streak, any_outage;
};

struct spot_action {
    enum spot_kind kind;
    int zone;
};

enum spot_policy_id {
    SPOT_POL_OD,       /* on-demand the whole time (the baseline) */
    SPOT_POL_GREEDY,   /* spot when available, else wait; safety net */
    SPOT_POL_SLICED,   /* time-sliced: per-slice uniform quota */
    SPOT_POL_UP,       /* uniform progress with the paper's rules */
    SPOT_POL_ADAPTIVE, /* ours: paces on-demand by learned availability */
    SPOT_POL_MZ_UP,    /* uniform progress over several zones */
    SPOT_POL_MZ_ADAPTIVE, /* ours over several zones */
    SPOT_POL_MARKOV,   /* ours: optimal for a Markov model of the zone */
    SPOT_POL_MZ_MARKOV, /* ours over several zones (model of "any zone") */
    SPOT_POL_OPTIMAL,  /* omniscient; not decidable online (spot/optimum.h) */
    SPOT_POL_COUNT
};

/* Uniform Progress rule switches (all true = the paper's policy). */
struct spot_up_rules {
    bool uniform;    /* idle and behind t*C/D -> on-demand */
    bool risks;      /* take spot whenever available, even when behind */
    bool hysteresis; /* on on-demand: stay until ahead of the line at t+2d */
    bool safety;     /* idle/on-demand and R < C + 2d -> on-demand to the end */
};

struct spot_policy {
    enum spot_policy_id id;
    struct spot_up_rules up;
    double slice;      /* time-sliced: slice length, seconds */
    /* adaptive (ours): thresholds as fractions of uniform progress's
     * slack line R * (D - C) / D (uniform progress is enter = 1, idle =
     * infinity, leave = 1, streak = 1) */
    double enter;  /* idle, no spot: on-demand when slack < enter * line */
    double idle;   /* on-demand, no spot: idle when slack > idle * line + 2d */
    double leave;  /* on-demand, spot: spot when slack > leave * line + 2d */
    double streak; /* ... and spot has been up for this many ticks */
    double runlen; /* ... and spot runs seen so far average >= runlen * d */
    double uweight; /* idle, no spot: also on-demand when slack < uweight *
                       (learned outage share) * R */
    /* markov (ours): the decision table spot/markov.h builds; borrowed.
     * Without one, or off its grid, markov decides like uniform progress. */
    const struct spot_markov *markov;
};

/*
 * Set one tunable parameter by name ("slice" in hours, "enter", "idle",
 * "leave", "streak", "runlen", "uweight"); false when the name is unknown
 * or the value out of range.
 */
bool spot_policy_set(struct spot_policy *p, const char *name, double value);

/* The defaults of a policy (the paper's rules for UP). */
void spot_policy_init(struct spot_policy *p, enum spot_policy_id id);

/* Look a policy up by its CLI name ("up", "greedy", ...); false if none. */
bool spot_policy_by_name(const char *name, enum spot_policy_id *id);
/* The CLI name of a policy. Never NULL. */
const char *spot_policy_name(enum spot_policy_id id);
/* Whether the policy uses several zones' availability. */
bool spot_policy_multizone(enum spot_policy_id id);

/*
 * The markov table's decision for s: SPOT_NONE/SPOT_SPOT/SPOT_OD, or -1 when
 * s is off the table's grid (another job, tick or zone). See spot/markov.h.
 */
int spot_markov_lookup(const struct spot_markov *m, const struct spot_state *s);

/*
 * The decision for the next interval. Returns SPOT_SPOT only in a zone whose
 * avail[] is true; SPOT_NONE once work_done >= work_total (thrifty rule).
 * SPOT_POL_OPTIMAL is not an online policy and decides like SPOT_POL_OD.
 */
struct spot_action spot_decide(const struct spot_policy *p,
                               const struct spot_state *s);

/*
 * The safety-net test shared by the policies: whether, starting a new
 * instance now (paying `overhead` plus `extra` seconds of margin), the job
 * needs on-demand from here on to meet the deadline, with both sides rounded
 * to whole decision intervals as the simulator bills them.
 */
bool spot_must_go_od(const struct spot_state *s, double extra);

#endif
