/*
 * markov.c - backward induction for the Markov-model policy (markov.h).
 * The grid (progress unit, pending levels) is the optimum's.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "spot/markov.h"

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int any_avail(const struct spot_window *w, size_t t)
{
    for (int z = 0; z < w->nzones; z++)
        if (w->avail[z][t])
            return 1;
    return 0;
}

void spot_markov_fit(const struct spot_window *w, size_t n,
                     struct spot_markov_model *mm)
{
    double seen[2][SPOT_MK_AGES], flips[2][SPOT_MK_AGES];
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++) {
            seen[a][g] = 2; /* a light prior: one flip in two */
            flips[a][g] = 1;
        }
#define ANY(i, t) any_avail(&w[i], t)
    for (size_t i = 0; i < n; i++) {
        int age = 0;
        for (size_t t = 0; t + 1 < w[i].n; t++) {
            int a = ANY(i, t), b = ANY(i, t + 1);
            if (t > 0 && ANY(i, t - 1) == a)
                age = SKYC_MIN(age + 1, SPOT_MK_AGES - 1);
            else
                age = 0;
            seen[a][age]++;
            flips[a][age] += a != b;
        }
    }
#undef ANY
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++)
            mm->hazard[a][g] = flips[a][g] / seen[a][g];
}

void spot_markov_release(struct spot_markov *m)
{
    free(m->act);
    free(m->off);
    memset(m, 0, sizeof(*m));
}

#define MK_MAX_CELLS (256u * 1000 * 1000)

enum skyc_err spot_markov_build(struct spot_markov *m,
                                const struct spot_job *job, double gap_s,
                                const struct spot_markov_model *mm,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INFEASIBLE;
    double *V = NULL, *Vn = NULL;
    memset(m, 0, sizeof(*m));
    int64_t gap = llround(gap_s), d = llround(job->overhead),
            C = llround(job->duration);
    int64_t T = (int64_t)floor(job->deadline / gap_s + 1e-9);
    bool probs = true;
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++)
            probs &= mm->hazard[a][g] >= 0 && mm->hazard[a][g] <= 1;
    if (gap <= 0 || C <= 0 || d < 0 || T <= 0 || !probs) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "the markov policy needs a positive tick, duration "
                       "and deadline and probabilities in [0, 1]");
        goto out;
    }
    int64_t u = gcd64(gcd64(gap, C), d ? d : gap);
    int64_t P = C / u;
    int L = d > 0 ? (int)((d + gap - 1) / gap) : 0;
    int S = 1 + 2 * (L + 1);
    const int K = SPOT_MK_AGES, A = 2 * SPOT_MK_AGES;
    size_t cells = (size_t)P * (size_t)S * (size_t)A;
    if (S > 255 || (double)cells * (double)T > MK_MAX_CELLS) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "the markov policy's table is too large (tick %" PRId64
                       " s, overhead %" PRId64 " s, duration %" PRId64
                       " s share a %" PRId64 " s unit); use an overhead "
                       "and a duration in whole ticks, e.g. --overhead "
                       "%.4fh",
                       gap, d, C, u,
                       (double)(((d + gap / 2) / gap) * gap) / 3600);
        goto out;
    }
    int prog[128], nxt[128];
    for (int j = 0; j <= L; j++) {
        int64_t pend = j < L ? d - (int64_t)j * gap : 0;
        prog[j] = (int)((gap - SKYC_MIN(pend, gap)) / u);
        nxt[j] = pend > gap ? j + 1 : L;
    }
    const int64_t per = gap / u;
    const size_t row = (size_t)S * (size_t)A; /* entries per progress level */
    m->off = xmalloc(((size_t)T + 1) * sizeof(*m->off));
    size_t total = 0;
    for (int64_t t = 0; t < T; t++) {
        int64_t lo = SKYC_MAX(0, P - (T - t) * per);
        int64_t hi = SKYC_MIN(P - 1, t * per);
        m->off[t] = total;
        if (hi >= lo)
            total += (size_t)(hi - lo + 1) * row;
    }
    m->off[T] = total;
    m->act = xmalloc(total ? total : 1);
    V = xmalloc(cells * sizeof(*V));
    Vn = xmalloc(cells * sizeof(*Vn));
    for (size_t i = 0; i < cells; i++)
        Vn[i] = V[i] = INFINITY; /* boundary T, not done: a miss */
    const double cs = job->spot_price * (double)gap / 3600;
    const double co = job->od_price * (double)gap / 3600;
    const int spb = 1, odb = 2 + L; /* first spot / on-demand state */
    /* per availability x age: the hazard, and the next state's index when
     * it holds (one tick older) or flips (age 0 of the other) */
    double haz[2 * SPOT_MK_AGES];
    int same[2 * SPOT_MK_AGES], flip[2 * SPOT_MK_AGES];
    for (int ag = 0; ag < A; ag++) {
        int a = ag / K, g = ag % K;
        haz[ag] = mm->hazard[a][g];
        same[ag] = a * K + SKYC_MIN(g + 1, K - 1);
        flip[ag] = (1 - a) * K;
    }
#define IDX(p, s, ag) (((size_t)(p) * (size_t)S + (size_t)(s)) * (size_t)A + (size_t)(ag))
    for (int64_t t = T - 1; t >= 0; t--) {
        int64_t lo = SKYC_MAX(0, P - (T - t) * per);
        int64_t hi = SKYC_MIN(P - 1, t * per);
        for (int64_t p = lo; p <= hi + per && p < P; p++)
            for (size_t k = 0; k < row; k++)
                V[(size_t)p * row + k] = INFINITY;
        uint8_t *at = m->act + m->off[t];
        for (int64_t p = lo; p <= hi; p++) {
            /* the rows of the next layer each action leads to (NULL: done) */
#define ROW(np, ns) ((np) >= P ? NULL : Vn + ((size_t)(np) * (size_t)S + (size_t)(ns)) * (size_t)A)
            const double *r_none = ROW(p, 0);
            const double *r_od0 = ROW(p + prog[0], odb + nxt[0]);
            const double *r_sp0 = ROW(p + prog[0], spb + nxt[0]);
            for (int s = 0; s < S; s++) {
                const double *r_od = r_od0, *r_sp = r_sp0;
                if (s >= odb)
                    r_od = ROW(p + prog[s - odb], odb + nxt[s - odb]);
                else if (s >= spb)
                    r_sp = ROW(p + prog[s - spb], spb + nxt[s - spb]);
                double *vrow = V + ((size_t)p * (size_t)S + (size_t)s) * (size_t)A;
                uint8_t *arow = at + ((size_t)(p - lo) * (size_t)S + (size_t)s) *
                                         (size_t)A;
                for (int ag = 0; ag < A; ag++) {
                    const double h = haz[ag];
                    const int sm = same[ag], fl = flip[ag];
#define EV(r)                                                                  \
    (!(r) ? 0 : (h < 1 ? (1 - h) * (r)[sm] : 0) + (h > 0 ? h * (r)[fl] : 0))
                    double best = EV(r_none);
                    int bk = SPOT_NONE;
                    if (ag >= K) { /* spot now */
                        double sp = cs + EV(r_sp);
                        if (sp < best) {
                            best = sp;
                            bk = SPOT_SPOT;
                        }
                    }
                    double od = co + EV(r_od);
                    if (od < best) {
                        best = od;
                        bk = SPOT_OD;
                    }
#undef EV
                    if (best == INFINITY)
                        bk = 255;
                    vrow[ag] = best;
                    arow[ag] = (uint8_t)bk;
                }
            }
#undef ROW
        }
        double *tmp = V;
        V = Vn;
        Vn = tmp;
    }
    /* start: idle, spot state unknown -> an even mix of fresh states */
    m->expected = 0.5 * Vn[IDX(0, 0, K)] + 0.5 * Vn[IDX(0, 0, 0)];
#undef IDX
    m->per = per;
    m->gap = (double)gap;
    m->overhead = (double)d;
    m->duration = (double)C;
    m->deadline = job->deadline;
    m->model = *mm;
    m->unit = u;
    m->P = P;
    m->L = L;
    m->S = S;
    m->T = T;
    rc = SKYC_OK;
out:
    free(V);
    free(Vn);
    if (rc)
        spot_markov_release(m);
    return rc;
}

int spot_markov_lookup(const struct spot_markov *m, const struct spot_state *s)
{
    if (!m->act || s->gap != m->gap || s->overhead != m->overhead ||
        s->work_total != m->duration || s->deadline != m->deadline)
        return -1;
    double tf = s->elapsed / m->gap;
    int64_t t = llround(tf);
    if (fabs(tf - (double)t) > 1e-6 || t < 0 || t >= m->T)
        return -1;
    double pf = s->work_done / (double)m->unit;
    int64_t p = (int64_t)floor(pf + 1e-9);
    if (p < 0 || p >= m->P || fabs(pf - (double)p) > 1e-6)
        return -1;
    int st = 0;
    if (s->current != SPOT_NONE) {
        int j = m->L;
        if (s->pending > 0) {
            double jf = (m->overhead - s->pending) / m->gap;
            j = (int)llround(jf);
            if (fabs(jf - j) > 1e-6 || j < 0 || j >= m->L)
                return -1;
        }
        st = (s->current == SPOT_SPOT ? 1 : 2 + m->L) + j;
    }
    int z = s->zone >= 0 && s->zone < s->nzones ? s->zone : 0;
    int a = s->avail[z] != 0;
    /* how long the current state has lasted; unknown -> the oldest age */
    uint32_t run = a ? (s->streak ? s->streak[z] : 0)
                     : (s->outage ? s->outage[z] : 0);
    if (m->any_zone) {
        a = 0;
        for (int k = 0; k < s->nzones; k++)
            a |= s->avail[k] != 0;
        run = a ? s->any_streak : s->any_outage;
    }
    int g = run ? (int)SKYC_MIN(run - 1, (uint32_t)SPOT_MK_AGES - 1)
                : SPOT_MK_AGES - 1;
    size_t A = 2 * SPOT_MK_AGES;
    int64_t lo = SKYC_MAX(0, m->P - (m->T - t) * m->per);
    int64_t hi = SKYC_MIN(m->P - 1, t * m->per);
    if (p < lo || p > hi)
        return SPOT_OD; /* cannot finish from here: on-demand at least tries */
    uint8_t k = m->act[m->off[t] + ((size_t)(p - lo) * (size_t)m->S +
                                    (size_t)st) * A +
                       (size_t)(a * SPOT_MK_AGES + g)];
    return k == 255 ? SPOT_OD : k;
}

enum skyc_err spot_eval_markov(const struct spot_job *job,
                               const struct spot_window *w, size_t n,
                               bool any_zone, struct spot_run *runs,
                               struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    struct spot_window *half[2];
    size_t nh[2] = {0, 0};
    half[0] = xcalloc(n / 2 + 1, sizeof(**half));
    half[1] = xcalloc(n / 2 + 1, sizeof(**half));
    for (size_t i = 0; i < n; i++)
        half[i % 2][nh[i % 2]++] = w[i];
    for (int h = 0; h < 2 && !rc; h++) {
        if (!nh[h])
            continue;
        /* fit on the other half (the bare prior when there is none) */
        struct spot_markov_model mm;
        spot_markov_fit(half[1 - h], nh[1 - h], &mm);
        struct spot_markov m;
        rc = spot_markov_build(&m, job, w[0].gap, &mm, err);
        if (rc)
            break;
        m.any_zone = any_zone;
        struct spot_policy p;
        spot_policy_init(&p, any_zone ? SPOT_POL_MZ_MARKOV : SPOT_POL_MARKOV);
        p.markov = &m;
        for (size_t i = 0; i < nh[h]; i++)
            spot_simulate(&p, job, &half[h][i], &runs[2 * i + (size_t)h], NULL,
                          0, NULL);
        spot_markov_release(&m);
    }
    free(half[0]);
    free(half[1]);
    return rc;
}
