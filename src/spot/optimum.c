/*
 * optimum.c - the exact omniscient optimum by dynamic programming.
 *
 * State at a tick boundary: progress p (in units u = gcd(tick, d, C)), and
 * what ran in the interval before: idle, or spot/on-demand at pending
 * overhead level j (level j < L means d - j*tick seconds still to pay,
 * level L means none; L = ceil(d / tick)). From each state the schedule
 * picks idle, on-demand, or spot when the trace has it; keeping the same
 * instance continues its level, anything else starts at level 0. Layers
 * hold the least cost of each state; the first boundary where p reaches C
 * ends the job. Only p reachable by tick t and p that can still finish by
 * the deadline are visited, so one 92-hour window is a few million
 * relaxations.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "spot/sim.h"

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

struct bp {
    uint8_t s;      /* predecessor state */
    uint16_t dp;    /* progress gained, units */
};

#define OPT_MAX_CELLS (64u * 1000 * 1000)

enum skyc_err spot_optimum(const struct spot_job *job,
                           const struct spot_window *w, struct spot_run *out,
                           struct spot_tick *timeline, size_t cap,
                           size_t *ntl, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INFEASIBLE;
    double *cost = NULL, *next = NULL, *sw = NULL, *nsw = NULL;
    struct bp *bps = NULL;
    memset(out, 0, sizeof(*out));
    if (ntl)
        *ntl = 0;
    int64_t gap = llround(w->gap), d = llround(job->overhead),
            C = llround(job->duration);
    int64_t T = (int64_t)floor(job->deadline / w->gap + 1e-9);
    if (gap <= 0 || C <= 0 || d < 0) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "the optimum needs a positive tick and duration");
        goto out;
    }
    int64_t u = gcd64(gcd64(gap, C), d ? d : gap);
    int64_t P = C / u;
    int L = d > 0 ? (int)((d + gap - 1) / gap) : 0;
    int S = 1 + 2 * (L + 1);
    if (S > 255 || gap / u > 65535 || (double)(P + 1) * S > OPT_MAX_CELLS ||
        (timeline && (double)(P + 1) * S * (double)T > 4 * OPT_MAX_CELLS)) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "the optimum's state space is too large (tick %" PRId64
                       " s, overhead %" PRId64 " s, duration %" PRId64
                       " s share a %" PRId64 " s unit); use an overhead "
                       "and a duration in whole ticks, e.g. --overhead "
                       "%.4fh",
                       gap, d, C, u,
                       (double)(((d + gap / 2) / gap) * gap) / 3600);
        goto out;
    }
    if ((C + d + gap - 1) / gap > T) {
        rc = skyc_fail(err, SKYC_E_DEADLINE,
                       "even on-demand cannot finish %.2f h of work with "
                       "%.2f h overhead by the %.2f h deadline",
                       (double)C / 3600, (double)d / 3600,
                       job->deadline / 3600);
        goto out;
    }
    /* per level j: progress units of one interval and the next level */
    int prog[128], nxt[128];
    for (int j = 0; j <= L; j++) {
        int64_t pend = j < L ? d - (int64_t)j * gap : 0;
        prog[j] = (int)((gap - SKYC_MIN(pend, gap)) / u);
        nxt[j] = pend > gap ? j + 1 : L;
    }
    size_t cells = (size_t)(P + 1) * (size_t)S;
    cost = xmalloc(cells * sizeof(*cost));
    next = xmalloc(cells * sizeof(*next));
    sw = xmalloc(cells * sizeof(*sw));
    nsw = xmalloc(cells * sizeof(*nsw));
    if (timeline)
        bps = xmalloc((size_t)T * cells * sizeof(*bps));
    for (size_t i = 0; i < cells; i++)
        cost[i] = INFINITY;
    cost[0] = 0; /* p = 0, idle */
    sw[0] = 0;
    const double cs = job->spot_price * (double)gap / 3600;
    const double co = job->od_price * (double)gap / 3600;
    const int64_t per = gap / u; /* units per full interval */
    double best = INFINITY, best_sw = 0;
    int64_t best_t = -1, best_p = 0;
    int best_s = 0, best_ns = 0;
    /*
     * Bound: the cheapest online schedule that meets the deadline is an
     * upper bound on the optimum, and the rest of the work billed at the
     * spot price a lower bound on what any state still has to pay; states
     * whose cost plus that bound exceeds the upper bound cannot be on an
     * optimal schedule and are not kept (ties are, so the optimum stays).
     */
    double ub = INFINITY;
    {
        static const enum spot_policy_id cands[] = {SPOT_POL_UP,
                                                    SPOT_POL_GREEDY,
                                                    SPOT_POL_OD};
        struct spot_window w0 = *w;
        w0.nzones = 1;
        for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
            struct spot_policy pol;
            struct spot_run r;
            spot_policy_init(&pol, cands[i]);
            spot_simulate(&pol, job, &w0, &r, NULL, 0, NULL);
            if (!r.missed && r.cost < ub)
                ub = r.cost;
        }
        ub += 1e-9 * (1 + ub);
    }
    const double lb_unit = job->spot_price * (double)u / 3600;
#define PRUNED(cost, np) ((cost) + (double)(P - (np)) * lb_unit > ub)
    for (int64_t t = 0; t < T; t++) {
        bool av = (size_t)t < w->n && w->avail[0][t];
        int64_t hi = SKYC_MIN(P - 1, t * per);
        int64_t lo = P - (T - t) * per;
        if (lo < 0)
            lo = 0;
        /* the next layer only needs clearing where this one can reach */
        int64_t nhi = SKYC_MIN(P, (t + 1) * per);
        for (int64_t p = lo; p <= nhi; p++)
            for (int s = 0; s < S; s++)
                next[p * S + s] = INFINITY;
        struct bp *bl = bps ? bps + (size_t)t * cells : NULL;
        for (int64_t p = lo; p <= hi; p++) {
            for (int s = 0; s < S; s++) {
                double c = cost[p * S + s];
                if (c == INFINITY)
                    continue;
                double spw = sw[p * S + s];
                /* idle */
                size_t k = (size_t)p * S;
                if (!PRUNED(c, p) && c < next[k]) {
                    next[k] = c;
                    nsw[k] = spw;
                    if (bl)
                        bl[k] = (struct bp){(uint8_t)s, 0};
                }
                for (int kind = 0; kind < 2; kind++) { /* 0 spot, 1 od */
                    if (kind == 0 && !av)
                        continue;
                    int base = 1 + kind * (L + 1);
                    int j = s >= base && s <= base + L ? s - base : 0;
                    int64_t np = p + prog[j];
                    double nc = c + (kind ? co : cs);
                    double nspw = spw + (kind ? 0 : (double)prog[j]);
                    int ns = base + nxt[j];
                    if (np >= P) {
                        if (nc < best) {
                            best = nc;
                            best_sw = spw + (kind ? 0 : (double)(P - p));
                            best_t = t;
                            best_p = p;
                            best_s = s;
                            best_ns = ns;
                        }
                        continue;
                    }
                    if (PRUNED(nc, np))
                        continue;
                    k = (size_t)np * S + (size_t)ns;
                    if (nc < next[k]) {
                        next[k] = nc;
                        nsw[k] = nspw;
                        if (bl)
                            bl[k] = (struct bp){(uint8_t)s,
                                                (uint16_t)prog[j]};
                    }
                }
            }
        }
        /* stale cells outside [lo, nhi] of `next` are never read: the next
         * tick reads p in [lo', hi'] with lo' >= lo and hi' <= nhi */
        double *tmp = cost;
        cost = next;
        next = tmp;
        tmp = sw;
        sw = nsw;
        nsw = tmp;
    }
#undef PRUNED
    if (best_t < 0) {
        rc = skyc_fail(err, SKYC_E_DEADLINE,
                       "no schedule finishes by the deadline");
        goto out;
    }
    out->cost = best;
    out->spot_work = best_sw * (double)u;
    if (out->spot_work > (double)C)
        out->spot_work = (double)C;
    out->od_work = (double)C - out->spot_work;
    out->finish = (double)(best_t + 1) * (double)gap;
    out->missed = false;
    if (timeline) {
        /* walk back from the finishing transition */
        int64_t t = best_t, p = best_p;
        int s = best_s, ns = best_ns;
        size_t n = (size_t)best_t + 1;
        while (t >= 0) {
            int kind = ns == 0 ? SPOT_NONE : ns <= L + 1 ? SPOT_SPOT : SPOT_OD;
            if ((size_t)t < cap)
                timeline[t] = (struct spot_tick){
                    (uint8_t)kind, 0,
                    (uint8_t)((size_t)t < w->n && w->avail[0][t]),
                    (float)(t == best_t ? (double)C
                                        : (double)(p + 0) * (double)u)};
            if (t == 0)
                break;
            /* state s at boundary t came from bps[t-1] */
            struct bp b = bps[(size_t)(t - 1) * cells + (size_t)p * S + s];
            ns = s;
            s = b.s;
            p -= b.dp;
            t--;
            /* timeline[t].done must be progress after interval t */
        }
        /* fix the done values: progress after interval t is the p of the
         * boundary t+1; recompute forwards from kinds and levels */
        double done = 0, pend = 0;
        enum spot_kind last = SPOT_NONE;
        for (size_t i = 0; i < n && i < cap; i++) {
            enum spot_kind k = timeline[i].kind;
            if (k != SPOT_NONE && k != last)
                pend = (double)d;
            if (k == SPOT_NONE)
                pend = 0;
            if (k != SPOT_NONE) {
                double pr = (double)gap - SKYC_MIN(pend, (double)gap);
                pend = SKYC_MAX(pend - (double)gap, 0);
                done = SKYC_MIN(done + pr, (double)C);
                if (k == SPOT_SPOT)
                    out->spot_billed += (double)gap;
                else
                    out->od_billed += (double)gap;
                if (last != k)
                    out->changeovers++;
            }
            last = k;
            timeline[i].done = (float)done;
        }
        if (ntl)
            *ntl = SKYC_MIN(n, cap);
    }
    rc = SKYC_OK;
out:
    free(cost);
    free(next);
    free(sw);
    free(nsw);
    free(bps);
    return rc;
}
