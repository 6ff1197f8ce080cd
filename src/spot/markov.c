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

void spot_markov_fit(const struct spot_window *w, size_t n,
                     struct spot_markov_model *mm)
{
    double seen[2][SPOT_MK_AGES], flips[2][SPOT_MK_AGES];
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++) {
            seen[a][g] = 2; /* a light prior: one flip in two */
            flips[a][g] = 1;
        }
    for (size_t i = 0; i < n; i++) {
        int age = 0;
        for (size_t t = 0; t + 1 < w[i].n; t++) {
            int a = w[i].avail[0][t] != 0, b = w[i].avail[0][t + 1] != 0;
            if (t > 0 && (w[i].avail[0][t - 1] != 0) == a)
                age = SKYC_MIN(age + 1, SPOT_MK_AGES - 1);
            else
                age = 0;
            seen[a][age]++;
            flips[a][age] += a != b;
        }
    }
    for (int a = 0; a < 2; a++)
        for (int g = 0; g < SPOT_MK_AGES; g++)
            mm->hazard[a][g] = flips[a][g] / seen[a][g];
}

void spot_markov_release(struct spot_markov *m)
{
    free(m->act);
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
    m->act = xmalloc(cells * (size_t)T);
    memset(m->act, 255, cells * (size_t)T);
    V = xmalloc(cells * sizeof(*V));
    Vn = xmalloc(cells * sizeof(*Vn));
    for (size_t i = 0; i < cells; i++)
        Vn[i] = V[i] = INFINITY; /* boundary T, not done: a miss */
    const double cs = job->spot_price * (double)gap / 3600;
    const double co = job->od_price * (double)gap / 3600;
    const int64_t per = gap / u;
#define IDX(p, s, ag) (((size_t)(p) * (size_t)S + (size_t)(s)) * (size_t)A + (size_t)(ag))
    for (int64_t t = T - 1; t >= 0; t--) {
        int64_t lo = SKYC_MAX(0, P - (T - t) * per);
        int64_t hi = SKYC_MIN(P - 1, t * per);
        for (int64_t p = lo; p <= hi + per && p < P; p++)
            for (size_t k = 0; k < (size_t)S * (size_t)A; k++)
                V[(size_t)p * (size_t)S * (size_t)A + k] = INFINITY;
        uint8_t *at = m->act + (size_t)t * cells;
        for (int64_t p = lo; p <= hi; p++)
            for (int s = 0; s < S; s++)
                for (int ag = 0; ag < A; ag++) {
                    int a = ag / K, g = ag % K;
                    double h = mm->hazard[a][g];
                    /* next: same state one tick older, or flipped at age 0 */
                    int same = a * K + SKYC_MIN(g + 1, K - 1);
                    int flip = (1 - a) * K;
                    double best = INFINITY;
                    int bk = 255;
                    for (int kind = 0; kind < 3; kind++) {
                        int64_t np;
                        int ns;
                        double c;
                        if (kind == SPOT_NONE) {
                            np = p;
                            ns = 0;
                            c = 0;
                        } else {
                            if (kind == SPOT_SPOT && !a)
                                continue;
                            int base = kind == SPOT_SPOT ? 1 : 2 + L;
                            int j = s >= base && s <= base + L ? s - base : 0;
                            np = p + prog[j];
                            ns = base + nxt[j];
                            c = kind == SPOT_SPOT ? cs : co;
                        }
                        double ev = 0;
                        if (np < P) {
                            double vs = Vn[IDX(np, ns, same)];
                            double vf = Vn[IDX(np, ns, flip)];
                            /* a zero-probability branch does not count */
                            ev = (h < 1 ? (1 - h) * vs : 0) +
                                 (h > 0 ? h * vf : 0);
                        }
                        if (c + ev < best) {
                            best = c + ev;
                            bk = kind;
                        }
                    }
                    V[IDX(p, s, ag)] = best;
                    at[IDX(p, s, ag)] = (uint8_t)bk;
                }
        double *tmp = V;
        V = Vn;
        Vn = tmp;
    }
    /* start: idle, spot state unknown -> an even mix of fresh states */
    m->expected = 0.5 * Vn[IDX(0, 0, K)] + 0.5 * Vn[IDX(0, 0, 0)];
#undef IDX
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
    int g = run ? (int)SKYC_MIN(run - 1, (uint32_t)SPOT_MK_AGES - 1)
                : SPOT_MK_AGES - 1;
    size_t A = 2 * SPOT_MK_AGES;
    uint8_t k = m->act[(((size_t)t * (size_t)m->P + (size_t)p) * (size_t)m->S +
                        (size_t)st) * A + (size_t)(a * SPOT_MK_AGES + g)];
    return k == 255 ? SPOT_OD : k;
}

enum skyc_err spot_eval_markov(const struct spot_job *job,
                               const struct spot_window *w, size_t n,
                               struct spot_run *runs, struct skyc_error *err)
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
        /* fit on the other half (on itself when there is no other) */
        int o = nh[1 - h] ? 1 - h : h;
        struct spot_markov_model mm;
        spot_markov_fit(half[o], nh[o], &mm);
        struct spot_markov m;
        rc = spot_markov_build(&m, job, w[0].gap, &mm, err);
        if (rc)
            break;
        struct spot_policy p;
        spot_policy_init(&p, SPOT_POL_MARKOV);
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
