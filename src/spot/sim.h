/*
 * sim.h - the trace-driven spot simulator and the omniscient optimum.
 *
 * Tick semantics follow the Can't-Be-Late public simulator (sky_spot):
 *  - the policy decides at each tick boundary for the interval that follows;
 *    availability is observed at the boundary, so a spot instance runs the
 *    whole interval [i, i+1) iff the trace says spot at tick i, and a
 *    preemption is seen at the next boundary;
 *  - the progress of an interval is the interval minus any pending restart
 *    overhead (never below zero; capped at the work left);
 *  - starting an instance (from idle, after a preemption, switching type or
 *    zone) sets the pending overhead to d, replacing any still pending; the
 *    overhead is billed at the new instance's price because every interval
 *    is billed whole at the price of what ran in it;
 *  - the job ends at the first boundary where its progress reaches C; it
 *    misses the deadline when that boundary is after D.
 * "Hours on spot / on-demand" below count PROGRESS made on each (they sum to
 * C); billed hours, which include overhead and the last partial interval,
 * are reported apart.
 *
 * Everything here is deterministic and allocation-light: one simulation
 * touches only its window and the optional timeline the caller provides.
 */
#ifndef SKYC_SPOT_SIM_H
#define SKYC_SPOT_SIM_H

#include "core/common.h"
#include "core/error.h"
#include "spot/policy.h"
#include "spot/trace.h"

struct spot_job {
    double duration;   /* C, seconds */
    double deadline;   /* D, seconds */
    double overhead;   /* d, seconds */
    double od_price;   /* $/h */
    double spot_price; /* $/h */
};

/* Several zones' availability over the same ticks (borrowed arrays). */
struct spot_window {
    int nzones;
    double gap; /* seconds */
    size_t n;   /* ticks in every zone; past n spot is unavailable */
    const uint8_t *avail[SPOT_MAX_ZONES];
};

struct spot_run {
    double cost;        /* $ */
    double spot_work;   /* seconds of progress on spot */
    double od_work;     /* seconds of progress on on-demand */
    double spot_billed; /* seconds billed on spot */
    double od_billed;   /* seconds billed on on-demand */
    double finish;      /* seconds from start to the end of the job */
    bool missed;        /* finish > deadline */
    int changeovers;    /* instances started; -1 = not counted */
    int preemptions;
};

/* One interval of a timeline: what ran and the progress after it. */
struct spot_tick {
    uint8_t kind; /* enum spot_kind */
    uint8_t zone;
    uint8_t avail; /* bit z: spot available in zone z at this tick */
    float done;    /* seconds of progress at the end of the interval */
};

/*
 * Run policy p on window w. When timeline is non-NULL it receives one entry
 * per interval up to cap; *ntl (if non-NULL) gets the count written.
 */
void spot_simulate(const struct spot_policy *p, const struct spot_job *job,
                   const struct spot_window *w, struct spot_run *out,
                   struct spot_tick *timeline, size_t cap, size_t *ntl);

/*
 * The exact omniscient optimum on zone 0 of w: the cheapest schedule that
 * finishes by the deadline under the same tick semantics, by dynamic
 * programming over (tick, progress, instance, pending overhead), progress in
 * units of gcd(tick, d, C) seconds. Fails with SKYC_E_DEADLINE when even
 * on-demand cannot finish in time and SKYC_E_INFEASIBLE when the state space
 * would exceed memory (a tiny common unit); a timeline as in spot_simulate.
 */
enum skyc_err spot_optimum(const struct spot_job *job,
                           const struct spot_window *w, struct spot_run *out,
                           struct spot_tick *timeline, size_t cap,
                           size_t *ntl, struct skyc_error *err);

/* Aggregate figures over many runs. */
struct spot_stats {
    size_t runs;
    double mean_cost, std_cost, p90_cost;
    double mean_rel;   /* mean of cost / on-demand cost of the same job */
    double mean_spot_h, mean_od_h;  /* progress hours */
    double mean_spot_billed_h, mean_od_billed_h;
    double mean_changeovers, mean_preemptions; /* NaN: not counted */
    size_t misses;
};

/* The cost of running the job on on-demand only (one start, whole ticks). */
double spot_od_cost(const struct spot_job *job, double gap);

/* Stats of runs[0..n-1]; sorts a copy of the costs for p90. */
void spot_stats_compute(const struct spot_run *runs, size_t n,
                        const struct spot_job *job, double gap,
                        struct spot_stats *st);

/*
 * Windows over aligned trace sets (one set per zone). Window-format sets
 * give their files in order (window i = file i of each set; up to max
 * windows, 0 = all). A set holding one long count trace is cut into `max`
 * windows (300 when 0) of `span` seconds at seeded random starts, the same
 * tick in every zone. The windows borrow the sets' arrays.
 */
enum skyc_err spot_windows_make(const struct trace_set *const *zones, int nz,
                                size_t max, double span, uint64_t seed,
                                struct spot_window **out, size_t *n,
                                struct skyc_error *err);


/*
 * Run policy p (SPOT_POL_OPTIMAL: the DP on zone 0) on each of w[0..n-1],
 * filling runs[0..n-1]. Fails only for the optimum (see spot_optimum).
 */
enum skyc_err spot_eval(const struct spot_policy *p, const struct spot_job *job,
                        const struct spot_window *w, size_t n,
                        struct spot_run *runs, struct skyc_error *err);

#endif
