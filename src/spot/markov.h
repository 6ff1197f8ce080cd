/*
 * markov.h - ours: the expected-cost-optimal policy for a two-state Markov
 * model of a zone's spot availability.
 *
 * The model: whether spot flips (a spot run ends, or an outage ends) from
 * one tick to the next depends on the current state and on how long it has
 * lasted, up to SPOT_MK_AGES ticks: a semi-Markov chain with age-dependent
 * hazards, estimated from the zone's past traces (spot_markov_fit). Runs
 * and outages on real traces are heavy-tailed - most flicker for a tick,
 * the ones that lasted keep lasting - and the ages capture that. Backward
 * induction over (tick, progress, instance, pending overhead, spot now) -
 * the same grid and tick semantics as the omniscient optimum - gives the
 * action of least expected cost. A deadline miss costs infinity, and every
 * outage or preemption has positive probability in the model, so the table
 * never takes a risk that could miss the deadline on any trace: it keeps an
 * on-demand fallback within reach by construction.
 *
 * The table is built once per (job, tick, zone model) and read by
 * spot_decide() through spot_policy.markov; decide() stays a pure lookup.
 */
#ifndef SKYC_SPOT_MARKOV_H
#define SKYC_SPOT_MARKOV_H

#include "core/common.h"
#include "core/error.h"
#include "spot/sim.h"

#define SPOT_MK_AGES 6

/* hazard[a][g]: P(spot state a flips at the next tick | lasted g+1 ticks) */
struct spot_markov_model {
    double hazard[2][SPOT_MK_AGES];
};

struct spot_markov {
    double gap, overhead, duration, deadline; /* the job it was built for */
    struct spot_markov_model model;
    int64_t unit;  /* progress unit, seconds */
    int64_t P;     /* progress levels: duration / unit */
    int L, S;      /* pending levels, states per progress level */
    int64_t T;     /* ticks to the deadline */
    int64_t per;   /* progress units in one whole tick */
    /* act: for each tick t, progress p in [lo(t), hi(t)] (the band that can
     * be reached by t and still finish), state, availability x age ->
     * enum spot_kind (255: no action meets the deadline); off[t] is where
     * tick t's band starts. Outside the band, on-demand. */
    uint8_t *act;
    size_t *off;
    double expected; /* expected cost from the start (idle, spot unknown) */
    bool any_zone;   /* the model is of "spot in some zone" (mz-markov) */
};

/* Hazards (with a light prior) from windows of one zone; with several
 * zones, of "spot in some zone". */
void spot_markov_fit(const struct spot_window *w, size_t n,
                     struct spot_markov_model *mm);

/* Build the table. Fails like spot_optimum on a too fine grid. */
enum skyc_err spot_markov_build(struct spot_markov *m,
                                const struct spot_job *job, double gap,
                                const struct spot_markov_model *mm,
                                struct skyc_error *err);
void spot_markov_release(struct spot_markov *m);


/*
 * Evaluate the markov policy on w[0..n-1] with two-fold cross-fitting: the
 * model for the even-numbered windows is fitted on the odd ones and the
 * reverse, so no window is decided with a model that saw it (a lone window
 * gets the bare prior). With any_zone, mz-markov over all the windows'
 * zones. (Windows of
 * one set may overlap in time; only the two transition rates carry over.)
 */
enum skyc_err spot_eval_markov(const struct spot_job *job,
                               const struct spot_window *w, size_t n,
                               bool any_zone, struct spot_run *runs,
                               struct skyc_error *err);

#endif
