/*
 * sim.c - the tick loop (sim.h states its semantics), run statistics and
 * windows over trace sets.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "spot/sim.h"

static double price_of(const struct spot_job *job, enum spot_kind k)
{
    return k == SPOT_SPOT ? job->spot_price : k == SPOT_OD ? job->od_price : 0;
}

void spot_simulate(const struct spot_policy *p, const struct spot_job *job,
                   const struct spot_window *w, struct spot_run *out,
                   struct spot_tick *timeline, size_t cap, size_t *ntl)
{
    const double gap = w->gap, C = job->duration, d = job->overhead;
    /* on-demand finishes any job within this many ticks of the deadline */
    const size_t max_ticks =
        (size_t)ceil((job->deadline + C + 2 * d) / gap) + w->n + 4;
    const int nz = w->nzones > 0 && w->nzones <= SPOT_MAX_ZONES ? w->nzones : 1;
    enum spot_kind last = SPOT_NONE;
    int zone = 0;
    double pending = 0, done = 0;
    bool avail[SPOT_MAX_ZONES];
    uint32_t streak[SPOT_MAX_ZONES] = {0}, seen_avail[SPOT_MAX_ZONES] = {0},
             seen_runs[SPOT_MAX_ZONES] = {0}, outage[SPOT_MAX_ZONES] = {0};
    uint32_t any_streak = 0, any_outage = 0;
    size_t tick;
    double ratio = job->spot_price > 0 ? job->od_price / job->spot_price : 3;

    memset(out, 0, sizeof(*out));
    for (tick = 0;; tick++) {
        if (last != SPOT_NONE) { /* realise the interval that just ended */
            double prog = gap - pending;
            if (prog < 0)
                prog = 0;
            pending -= gap - prog;
            if (pending < 1e-9)
                pending = 0;
            if (prog > C - done)
                prog = C - done;
            done += prog;
            if (last == SPOT_SPOT)
                out->spot_work += prog;
            else
                out->od_work += prog;
        }
        if (timeline && tick > 0 && tick - 1 < cap)
            timeline[tick - 1].done = (float)done;
        if (done >= C - 1e-9 || tick >= max_ticks)
            break;
        unsigned mask = 0;
        for (int z = 0; z < nz; z++) {
            avail[z] = tick < w->n && w->avail[z][tick];
            if (avail[z] && !streak[z])
                seen_runs[z]++;
            streak[z] = avail[z] ? streak[z] + 1 : 0;
            outage[z] = avail[z] ? 0 : outage[z] + 1;
            seen_avail[z] += avail[z];
            mask |= (unsigned)avail[z] << z;
        }
        any_streak = mask ? any_streak + 1 : 0;
        any_outage = mask ? 0 : any_outage + 1;
        enum spot_kind cur = last;
        if (last == SPOT_SPOT && !avail[zone]) {
            cur = SPOT_NONE;
            out->preemptions++;
        }
        struct spot_state st = {
            .elapsed = (double)tick * gap,
            .deadline = job->deadline,
            .work_total = C,
            .work_done = done,
            .overhead = d,
            .pending = cur == SPOT_NONE ? 0 : pending,
            .gap = gap,
            .current = cur,
            .zone = zone,
            .nzones = nz,
            .avail = avail,
            .price_ratio = ratio,
            .streak = streak,
            .outage = outage,
            .seen_avail = seen_avail,
            .seen_runs = seen_runs,
            .seen = (uint32_t)tick + 1,
            .any_streak = any_streak,
            .any_outage = any_outage,
        };
        struct spot_action a = spot_decide(p, &st);
        if (a.zone < 0 || a.zone >= nz)
            a.zone = zone;
        if (a.kind == SPOT_SPOT && !avail[a.zone])
            a.kind = SPOT_NONE; /* the provider refuses: nothing runs */
        if (a.kind != SPOT_NONE && (a.kind != cur || a.zone != zone)) {
            pending = d; /* a new start replaces any pending overhead */
            out->changeovers++;
        } else if (a.kind == SPOT_NONE) {
            pending = 0;
        }
        last = a.kind;
        if (a.kind != SPOT_NONE)
            zone = a.zone;
        double bill = price_of(job, last) * gap / 3600;
        out->cost += bill;
        if (last == SPOT_SPOT)
            out->spot_billed += gap;
        else if (last == SPOT_OD)
            out->od_billed += gap;
        if (timeline && tick < cap)
            timeline[tick] = (struct spot_tick){(uint8_t)last, (uint8_t)zone,
                                                (uint8_t)mask, (float)done};
    }
    if (ntl)
        *ntl = SKYC_MIN(tick, cap);
    out->finish = (double)tick * gap;
    out->missed = done < C - 1e-9 || out->finish > job->deadline + 1e-6;
}

double spot_od_cost(const struct spot_job *job, double gap)
{
    double t = ceil((job->duration + job->overhead) / gap - 1e-9) * gap;
    return t / 3600 * job->od_price;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void spot_stats_compute(const struct spot_run *runs, size_t n,
                        const struct spot_job *job, double gap,
                        struct spot_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->runs = n;
    if (!n)
        return;
    double od = spot_od_cost(job, gap);
    double *c = xcalloc(n, sizeof(*c));
    double sum = 0, sq = 0;
    for (size_t i = 0; i < n; i++) {
        c[i] = runs[i].cost;
        sum += runs[i].cost;
        st->mean_rel += runs[i].cost / od;
        st->mean_spot_h += runs[i].spot_work / 3600;
        st->mean_od_h += runs[i].od_work / 3600;
        st->mean_spot_billed_h += runs[i].spot_billed / 3600;
        st->mean_od_billed_h += runs[i].od_billed / 3600;
        st->misses += runs[i].missed;
        st->mean_changeovers += runs[i].changeovers < 0
                                    ? NAN
                                    : (double)runs[i].changeovers;
        st->mean_preemptions += runs[i].preemptions;
    }
    st->mean_cost = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        sq += (c[i] - st->mean_cost) * (c[i] - st->mean_cost);
    st->std_cost = sqrt(sq / (double)n);
    qsort(c, n, sizeof(*c), cmp_double);
    size_t k = (size_t)ceil(0.9 * (double)n);
    st->p90_cost = c[k ? k - 1 : 0];
    st->mean_rel /= (double)n;
    st->mean_spot_h /= (double)n;
    st->mean_od_h /= (double)n;
    st->mean_spot_billed_h /= (double)n;
    st->mean_od_billed_h /= (double)n;
    st->mean_changeovers /= (double)n;
    st->mean_preemptions /= (double)n;
    free(c);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

enum skyc_err spot_windows_make(const struct trace_set *const *zones, int nz,
                                size_t max, double span, uint64_t seed,
                                struct spot_window **out, size_t *n,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct spot_window *w = NULL;
    size_t nw = 0;
    *out = NULL;
    *n = 0;
    if (nz < 1 || nz > SPOT_MAX_ZONES) {
        rc = skyc_fail(err, SKYC_E_USAGE, "between 1 and %d zones, not %d",
                       SPOT_MAX_ZONES, nz);
        goto out;
    }
    bool cut = zones[0]->n == 1 && zones[0]->traces[0].format == TRACE_COUNT;
    double gap = zones[0]->traces[0].gap;
    for (int z = 0; z < nz; z++) {
        if (!zones[z]->n) {
            skyc_fail(err, SKYC_E_INPUT, "trace set '%s' is empty",
                      zones[z]->name);
            goto out;
        }
        bool c = zones[z]->n == 1 && zones[z]->traces[0].format == TRACE_COUNT;
        if (c != cut) {
            skyc_fail(err, SKYC_E_INPUT,
                      "trace sets '%s' and '%s' mix window files and long "
                      "traces; combine sets of one kind",
                      zones[0]->name, zones[z]->name);
            goto out;
        }
        for (size_t i = 0; i < zones[z]->n; i++)
            if (zones[z]->traces[i].gap != gap) {
                skyc_fail(err, SKYC_E_INPUT,
                          "'%s' has %g s ticks but '%s' has %g s; zones "
                          "simulated together need one tick length",
                          zones[z]->traces[i].path, zones[z]->traces[i].gap,
                          zones[0]->traces[0].path, gap);
                goto out;
            }
    }
    if (!cut) {
        nw = zones[0]->n;
        for (int z = 1; z < nz; z++)
            nw = SKYC_MIN(nw, zones[z]->n);
        if (max && max < nw)
            nw = max;
        w = xcalloc(nw, sizeof(*w));
        for (size_t i = 0; i < nw; i++) {
            w[i].nzones = nz;
            w[i].gap = gap;
            w[i].n = SIZE_MAX;
            for (int z = 0; z < nz; z++) {
                w[i].avail[z] = zones[z]->traces[i].avail;
                w[i].n = SKYC_MIN(w[i].n, zones[z]->traces[i].n);
            }
        }
    } else {
        size_t len = SIZE_MAX;
        for (int z = 0; z < nz; z++)
            len = SKYC_MIN(len, zones[z]->traces[0].n);
        size_t need = (size_t)ceil(span / gap);
        if (need >= len) {
            skyc_fail(err, SKYC_E_INPUT,
                      "trace '%s' has %zu ticks (%.1f h), too short for "
                      "%.1f h windows",
                      zones[0]->traces[0].path, len, (double)len * gap / 3600,
                      span / 3600);
            goto out;
        }
        nw = max ? max : 300;
        w = xcalloc(nw, sizeof(*w));
        uint64_t x = seed;
        for (size_t i = 0; i < nw; i++) {
            size_t start = (size_t)(splitmix64(&x) % (len - need + 1));
            w[i].nzones = nz;
            w[i].gap = gap;
            w[i].n = len - start;
            for (int z = 0; z < nz; z++)
                w[i].avail[z] = zones[z]->traces[0].avail + start;
        }
    }
    *out = w;
    *n = nw;
    w = NULL;
    rc = SKYC_OK;
out:
    free(w);
    return rc;
}

enum skyc_err spot_eval(const struct spot_policy *p, const struct spot_job *job,
                        const struct spot_window *w, size_t n,
                        struct spot_run *runs, struct skyc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (p->id == SPOT_POL_OPTIMAL) {
            enum skyc_err rc =
                spot_optimum(job, &w[i], &runs[i], NULL, 0, NULL, err);
            if (rc)
                return rc;
            runs[i].changeovers = -1; /* counted only with a timeline */
        } else {
            spot_simulate(p, job, &w[i], &runs[i], NULL, 0, NULL);
        }
    }
    return SKYC_OK;
}
