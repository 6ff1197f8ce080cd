/*
 * Unit tests of transfer/grid and transfer/plan: grid parsing and its
 * errors, hand-computed plans on tiny grids (direct vs relay, integer
 * connections, NIC caps, VM limit, budget mode, Pareto curve), and a
 * property test against brute force over every integer VM and connection
 * assignment on small random grids.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "transfer/grid.h"
#include "transfer/plan.h"

#include <setjmp.h>
#include <cmocka.h>

#define K (8.0 / 3600.0) /* $/h per VM -> $/GB at 1 Gbps */

struct tiny {
    const char *a, *b;
    double gbps, price;
};

/* Build a grid from (src, dst, Gbps, $/GB) rows. */
static void make_grid(struct transfer_grid *g, const struct tiny *rows,
                      size_t n)
{
    struct strbuf t = STRBUF_INIT, c = STRBUF_INIT;
    struct skyc_error err = {0};
    transfer_grid_init(g);
    strbuf_addstr(&t, "src_region,dst_region,throughput_sent\n");
    strbuf_addstr(&c, "src,dest,cost\n");
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&t, "%s,%s,%.17g\n", rows[i].a, rows[i].b,
                    rows[i].gbps * TRANSFER_GBIT);
        strbuf_addf(&c, "%s,%s,%.17g\n", rows[i].a, rows[i].b,
                    rows[i].price);
    }
    assert_int_equal(
        transfer_grid_parse_throughput(g, "t.csv", t.buf, t.len, &err), 0);
    assert_int_equal(transfer_grid_parse_price(g, "c.csv", c.buf, c.len, &err),
                     0);
    strbuf_release(&t);
    strbuf_release(&c);
}

static bool close_to(double a, double b)
{
    return fabs(a - b) <= 1e-6 * SKYC_MAX(1, fabs(b));
}
#define assert_close(a, b)                                                     \
    do {                                                                       \
        double a_ = (a), b_ = (b);                                             \
        if (!close_to(a_, b_))                                                 \
            fail_msg("%s = %.9f, want %.9f", #a, a_, b_);                      \
    } while (0)

/* aws:a -> gcp:c direct at 2 Gbps for $0.09, or via aws:b (5 + 5 Gbps) for
 * $0.02 + $0.09. */
static const struct tiny three[] = {
    {"aws:a", "gcp:c", 2, 0.09}, {"aws:a", "aws:b", 5, 0.02},
    {"aws:b", "gcp:c", 5, 0.09}, {"gcp:c", "aws:a", 2, 0.12},
    {"aws:b", "aws:a", 5, 0.02}, {"gcp:c", "aws:b", 5, 0.12},
};

static struct transfer_request request(const struct transfer_grid *g,
                                       const double *price)
{
    struct transfer_request r = {0};
    r.src = (uint32_t)transfer_grid_find(g, "aws:a");
    r.dst = (uint32_t)transfer_grid_find(g, "gcp:c");
    r.max_vms = 1;
    r.vm_price_h = price;
    return r;
}

static const struct transfer_edge *edge(const struct transfer_grid *g,
                                        const struct transfer_plan *p,
                                        const char *a, const char *b)
{
    for (size_t i = 0; i < p->nedges; i++)
        if (!strcmp(g->regions[p->edges[i].from], a) &&
            !strcmp(g->regions[p->edges[i].to], b))
            return &p->edges[i];
    return NULL;
}

static void test_direct_when_it_suffices(void **state)
{
    (void)state;
    struct transfer_grid g;
    make_grid(&g, three, ARRAY_SIZE(three));
    double price[3] = {1, 1, 1};
    struct transfer_request r = request(&g, price);
    r.goal = TRANSFER_GOAL_TPUT;
    r.tput_gbps = 2;
    struct transfer_plan p;
    struct skyc_error err = {0};
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_true(p.proven_optimal);
    assert_int_equal(p.nedges, 1);
    const struct transfer_edge *e = edge(&g, &p, "aws:a", "gcp:c");
    assert_non_null(e);
    assert_int_equal(e->conns, 64); /* 2 of 2 Gbps at 64 connections */
    assert_int_equal(p.ngateways, 2);
    assert_int_equal(p.vms, 2);
    assert_close(p.tput_gbps, 2);
    assert_close(p.egress_per_gb, 0.09);
    assert_close(p.vm_per_gb, K * 2 / 2);
    transfer_plan_release(&p);
    transfer_grid_release(&g);
}

static void test_relay_with_integer_connections(void **state)
{
    (void)state;
    struct transfer_grid g;
    make_grid(&g, three, ARRAY_SIZE(three));
    double price[3] = {1, 1, 1};
    struct transfer_request r = request(&g, price);
    r.goal = TRANSFER_GOAL_TPUT;
    r.tput_gbps = 4;
    struct transfer_plan p;
    struct skyc_error err = {0};
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    /*
     * 64 connections leave aws:a: direct takes 32 per Gbps, the relay 12.8.
     * Fractional connections would allow f_direct = 2/3; with integers the
     * most is 21 connections = 0.65625 Gbps, 3.34375 Gbps over 43
     * connections through aws:b.
     */
    const struct transfer_edge *d = edge(&g, &p, "aws:a", "gcp:c");
    const struct transfer_edge *r1 = edge(&g, &p, "aws:a", "aws:b");
    const struct transfer_edge *r2 = edge(&g, &p, "aws:b", "gcp:c");
    assert_non_null(d);
    assert_non_null(r1);
    assert_non_null(r2);
    assert_close(d->gbps, 0.65625);
    assert_int_equal(d->conns, 21);
    assert_close(r1->gbps, 3.34375);
    assert_int_equal(r1->conns, 43);
    assert_true(d->conns + r1->conns <= 64);
    assert_int_equal(p.ngateways, 3);
    assert_true(p.gateways[1].relay);
    assert_string_equal(g.regions[p.gateways[0].region], "aws:a");
    assert_string_equal(g.regions[p.gateways[2].region], "gcp:c");
    assert_close(p.cost_per_gb,
                 (0.09 * 0.65625 + 0.11 * 3.34375 + 3 * K) / 4);
    /* Skyplane's fractional model would send 2/3 Gbps direct */
    assert_close(p.fractional_cost_per_gb,
                 (0.09 * 2.0 / 3 + 0.11 * 10.0 / 3 + 3 * K) / 4);
    transfer_plan_release(&p);
    transfer_grid_release(&g);
}

static void test_cheap_relay_beats_direct(void **state)
{
    (void)state;
    /* direct costs 0.12; via aws:b 0.02 + 0.05: relay wins when VMs are
     * cheap, loses when a relay VM costs more than the saving */
    const struct tiny rows[] = {
        {"aws:a", "gcp:c", 4, 0.12}, {"aws:a", "aws:b", 5, 0.02},
        {"aws:b", "gcp:c", 5, 0.05}};
    struct transfer_grid g;
    make_grid(&g, rows, ARRAY_SIZE(rows));
    double cheap[3] = {1, 1, 1};
    struct transfer_request r = request(&g, cheap);
    r.goal = TRANSFER_GOAL_TPUT;
    r.tput_gbps = 4;
    struct transfer_plan p;
    struct skyc_error err = {0};
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_null(edge(&g, &p, "aws:a", "gcp:c"));
    assert_non_null(edge(&g, &p, "aws:b", "gcp:c"));
    assert_close(p.cost_per_gb, 0.07 + 3 * K / 4);
    transfer_plan_release(&p);
    /* a relay VM at $200/h costs 200*K/4 = $0.11/GB > the $0.05 saved */
    uint32_t b = (uint32_t)transfer_grid_find(&g, "aws:b");
    double dear[3] = {1, 1, 1};
    dear[b] = 200;
    r.vm_price_h = dear;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_int_equal(p.nedges, 1);
    assert_non_null(edge(&g, &p, "aws:a", "gcp:c"));
    assert_close(p.cost_per_gb, 0.12 + 2 * K / 4);
    transfer_plan_release(&p);
    transfer_grid_release(&g);
}

static void test_nic_cap_binds(void **state)
{
    (void)state;
    /* the grid says 8 Gbps, but an AWS VM sends at most 5 */
    const struct tiny rows[] = {{"aws:a", "gcp:c", 8, 0.09}};
    struct transfer_grid g;
    make_grid(&g, rows, 1);
    double price[2] = {1, 1};
    struct transfer_request r = request(&g, price);
    r.goal = TRANSFER_GOAL_MAX;
    struct transfer_plan p;
    struct skyc_error err = {0};
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 5);
    assert_int_equal(p.edges[0].conns, 40); /* ceil(64 * 5 / 8) */
    transfer_plan_release(&p);
    /* two VMs per region: 10 Gbps, ingress 16 on GCP does not bind */
    r.max_vms = 2;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 10);
    assert_int_equal(p.vms, 4);
    transfer_plan_release(&p);
    /* above the cap: infeasible, and the message says the most */
    r.max_vms = 1;
    r.goal = TRANSFER_GOAL_TPUT;
    r.tput_gbps = 6;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err),
                     SKYC_E_INFEASIBLE);
    assert_non_null(strstr(err.msg, "the most is 5.000 Gbps"));
    transfer_grid_release(&g);

    /* Azure sends 16 per VM, an AWS VM receives only 10 */
    const struct tiny in_rows[] = {{"azure:a", "aws:c", 14, 0.0875}};
    make_grid(&g, in_rows, 1);
    r.src = (uint32_t)transfer_grid_find(&g, "azure:a");
    r.dst = (uint32_t)transfer_grid_find(&g, "aws:c");
    r.goal = TRANSFER_GOAL_MAX;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 10);
    transfer_plan_release(&p);
    transfer_grid_release(&g);
}

static void test_vm_limit_binds(void **state)
{
    (void)state;
    struct transfer_grid g;
    make_grid(&g, three, ARRAY_SIZE(three));
    double price[3] = {1, 1, 1};
    struct transfer_request r = request(&g, price);
    r.goal = TRANSFER_GOAL_MAX;
    r.direct_only = true;
    struct transfer_plan p;
    struct skyc_error err = {0};
    for (int vms = 1; vms <= 3; vms++) {
        r.max_vms = vms;
        assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
        assert_close(p.tput_gbps, 2.0 * vms); /* 64 connections per VM */
        assert_int_equal(p.edges[0].conns, 64 * vms);
        assert_int_equal(p.gateways[0].vms, vms);
        transfer_plan_release(&p);
    }
    /* with the relay and one VM each: 5 Gbps, the AWS egress cap */
    r.direct_only = false;
    r.max_vms = 1;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 5);
    transfer_plan_release(&p);
    transfer_grid_release(&g);
}

static void test_budget_mode(void **state)
{
    (void)state;
    struct transfer_grid g;
    make_grid(&g, three, ARRAY_SIZE(three));
    double price[3] = {1, 1, 1};
    struct transfer_request r = request(&g, price);
    r.goal = TRANSFER_GOAL_BUDGET;
    struct transfer_plan p;
    struct skyc_error err = {0};
    /* $0.0923/GB: direct at 2 Gbps costs 0.09 + K = 0.09222; any relayed
     * flow adds $0.02/GB on it plus a VM: above budget */
    r.max_cost_per_gb = 0.0923;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 2);
    assert_int_equal(p.nedges, 1);
    assert_true(p.cost_per_gb <= 0.0923);
    transfer_plan_release(&p);
    /* a loose budget: the maximum, 5 Gbps all through the relay */
    r.max_cost_per_gb = 0.2;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err), SKYC_OK);
    assert_close(p.tput_gbps, 5);
    assert_close(p.cost_per_gb, 0.11 + 3 * K / 5);
    transfer_plan_release(&p);
    /* below any egress price: infeasible, with the cheapest path named */
    r.max_cost_per_gb = 0.05;
    assert_int_equal(transfer_plan_solve(&g, &r, &p, &err),
                     SKYC_E_INFEASIBLE);
    assert_non_null(strstr(err.msg, "at least $0.0900/GB"));
    transfer_grid_release(&g);
}

static void test_pareto_monotone(void **state)
{
    (void)state;
    struct transfer_grid g;
    make_grid(&g, three, ARRAY_SIZE(three));
    double price[3] = {1, 1, 1};
    struct transfer_request r = request(&g, price);
    r.max_vms = 2;
    r.conns_per_vm = 8; /* every connection moved is a step: keep it short */
    struct transfer_front fr;
    struct skyc_error err = {0};
    assert_int_equal(transfer_pareto(&g, &r, 0, 0, &fr, &err), SKYC_OK);
    size_t n = fr.npoints;
    const struct transfer_plan *pts = fr.points;
    assert_true(n >= 3);
    assert_true(fr.proven);
    for (size_t i = 1; i < n; i++) {
        assert_true(pts[i].tput_gbps > pts[i - 1].tput_gbps);
        assert_true(pts[i].cost_per_gb > pts[i - 1].cost_per_gb);
    }
    for (size_t i = 0; i < n; i++)
        assert_close(pts[i].cost_per_gb, fr.curve_cost[i]);
    assert_close(pts[n - 1].tput_gbps, 10); /* 2 AWS VMs x 5 Gbps */
    /* the direct path's best (4 Gbps, 2 VMs a side) is the first point */
    assert_close(pts[0].tput_gbps, 4);
    assert_int_equal(pts[0].nedges, 1);
    assert_close(pts[0].cost_per_gb, 0.09 + 4 * K / 4);
    /* arcs: cost/GB rising with T, a + b/T with b < 0 */
    assert_true(fr.narcs >= 1);
    for (size_t i = 0; i < fr.narcs; i++) {
        assert_true(fr.arcs[i].b < 0);
        assert_true(fr.arcs[i].to_gbps > fr.arcs[i].from_gbps);
    }
    /* a range: only points inside it */
    struct transfer_front sub;
    assert_int_equal(transfer_pareto(&g, &r, 5, 6, &sub, &err), SKYC_OK);
    assert_true(sub.npoints >= 1);
    for (size_t i = 0; i < sub.npoints; i++)
        assert_true(sub.points[i].tput_gbps >= 5 - 1e-6 &&
                    sub.points[i].tput_gbps <= 6 + 1e-6);
    assert_close(sub.points[sub.npoints - 1].tput_gbps, 6);
    transfer_front_release(&sub);
    transfer_front_release(&fr);
    transfer_grid_release(&g);
}

/* ---- brute force ---- */

struct bf {
    size_t n; /* regions; 0 = src, n-1 = dst */
    double cap[8][8], price[8][8], vmp[8];
    enum transfer_cloud cloud[8];
};

/*
 * Min-cost flow of value t from 0 to n-1 with edge capacities ecap and
 * per-node throughput caps, by successive shortest paths (Bellman-Ford) on
 * the node-split graph. Returns the cost, or INFINITY when t is too much.
 */
static double min_cost_flow_segs(size_t n, double ecap[8][8],
                                 double price[8][8], const double *ncap,
                                 double t, double *pushed, double segs[][2],
                                 size_t *nseg)
{
    /* nodes: 2i = in(i), 2i+1 = out(i); arcs: in->out cap ncap, out(i) ->
     * in(j) cap ecap */
    size_t V = 2 * n;
    double cap[16][16] = {{0}}, cost[16][16] = {{0}};
    for (size_t i = 0; i < n; i++) {
        cap[2 * i][2 * i + 1] = ncap[i];
        for (size_t j = 0; j < n; j++)
            if (i != j && ecap[i][j] > 0) {
                cap[2 * i + 1][2 * j] = ecap[i][j];
                cost[2 * i + 1][2 * j] = price[i][j];
                cost[2 * j][2 * i + 1] = -price[i][j];
            }
    }
    double flow[16][16] = {{0}}, total = 0, left = t;
    size_t s = 0, d = 2 * (n - 1) + 1;
    while (left > 1e-12) {
        double dist[16];
        int prev[16];
        for (size_t v = 0; v < V; v++) {
            dist[v] = INFINITY;
            prev[v] = -1;
        }
        dist[s] = 0;
        for (size_t it = 0; it < V; it++)
            for (size_t u = 0; u < V; u++)
                for (size_t v = 0; v < V; v++) {
                    double res = cap[u][v] - flow[u][v] + flow[v][u];
                    if (res > 1e-12 && dist[u] + cost[u][v] < dist[v] - 1e-15) {
                        dist[v] = dist[u] + cost[u][v];
                        prev[v] = (int)u;
                    }
                }
        if (isinf(dist[d])) {
            *pushed = t - left;
            return INFINITY;
        }
        double push = left;
        for (size_t v = d; v != s; v = (size_t)prev[v]) {
            size_t u = (size_t)prev[v];
            push = SKYC_MIN(push, cap[u][v] - flow[u][v] + flow[v][u]);
        }
        for (size_t v = d; v != s; v = (size_t)prev[v]) {
            size_t u = (size_t)prev[v];
            double back = SKYC_MIN(push, flow[v][u]);
            flow[v][u] -= back;
            flow[u][v] += push - back;
        }
        total += push * dist[d];
        left -= push;
        if (segs && *nseg < 64) {
            segs[*nseg][0] = push;
            segs[*nseg][1] = dist[d];
            (*nseg)++;
        }
    }
    *pushed = t;
    return total;
}

static double min_cost_flow(size_t n, double ecap[8][8], double price[8][8],
                            const double *ncap, double t, double *pushed)
{
    return min_cost_flow_segs(n, ecap, price, ncap, t, pushed, NULL, NULL);
}

struct bf_search {
    const struct bf *b;
    int C, N;
    double t;
    int nv[8];
    int conn[8][8];
    int outc[8], inc[8];
    double best;
    double tmax; /* the most any assignment carries */
    /* curve mode: the least cost rate at each of ns throughputs */
    const double *ts;
    double *cbf;
    size_t ns;
};

static void bf_edges(struct bf_search *s, size_t k)
{
    const struct bf *b = s->b;
    size_t n = b->n;
    /* edge k over pairs (i, j), i != j, i != dst, j != src */
    size_t idx = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            if (i == j || i == n - 1 || j == 0 || b->cap[i][j] <= 0)
                continue;
            if (idx++ != k)
                continue;
            int most = s->C * SKYC_MIN(s->nv[i], s->nv[j]);
            for (int c = 0; c <= most; c++) {
                if (s->outc[i] + c > s->C * s->nv[i] ||
                    s->inc[j] + c > s->C * s->nv[j])
                    break;
                s->conn[i][j] = c;
                s->outc[i] += c;
                s->inc[j] += c;
                bf_edges(s, k + 1);
                s->outc[i] -= c;
                s->inc[j] -= c;
            }
            s->conn[i][j] = 0;
            return;
        }
    /* every edge assigned */
    double ecap[8][8] = {{0}}, ncap[8];
    double vm = 0;
    for (size_t i = 0; i < n; i++) {
        /* the NIC caps, written out independently of grid.c */
        enum transfer_cloud c = b->cloud[i];
        double e = (c == TRANSFER_AWS ? 5 : c == TRANSFER_GCP ? 7 : 16) *
                   s->nv[i];
        double in = (c == TRANSFER_AWS ? 10 : 16) * s->nv[i];
        ncap[i] = i == 0 ? e : i == n - 1 ? in : SKYC_MIN(e, in);
        vm += K * b->vmp[i] * s->nv[i];
        for (size_t j = 0; j < n; j++)
            ecap[i][j] = b->cap[i][j] * s->conn[i][j] / s->C;
    }
    double pushed;
    if (s->ts) {
        double segs[64][2];
        size_t nseg = 0;
        min_cost_flow_segs(n, ecap, (double(*)[8])b->price, ncap, 1e9,
                           &pushed, segs, &nseg);
        if (pushed > s->tmax)
            s->tmax = pushed;
        /* exactly what the segments carry (1e9 - left would round) */
        pushed = 0;
        for (size_t q = 0; q < nseg; q++)
            pushed += segs[q][0];
        if (pushed > s->tmax)
            s->tmax = pushed;
        for (size_t m = 0; m < s->ns; m++) {
            double left = s->ts[m], v = vm;
            if (left > pushed * (1 + 1e-12))
                continue;
            for (size_t q = 0; q < nseg && left > 0; q++) {
                double take = SKYC_MIN(left, segs[q][0]);
                v += take * segs[q][1];
                left -= take;
            }
            if (v < s->cbf[m])
                s->cbf[m] = v;
        }
        return;
    }
    double f = min_cost_flow(n, ecap, (double(*)[8])b->price, ncap, s->t,
                             &pushed);
    if (f + vm < s->best)
        s->best = f + vm;
    min_cost_flow(n, ecap, (double(*)[8])b->price, ncap, 1e9, &pushed);
    if (pushed > s->tmax)
        s->tmax = pushed;
}

static void bf_vms(struct bf_search *s, size_t i)
{
    if (i == s->b->n) {
        bf_edges(s, 0);
        return;
    }
    for (int v = 0; v <= s->N; v++) {
        s->nv[i] = v;
        bf_vms(s, i + 1);
    }
}

static double frand(double lo, double hi)
{
    return lo + (hi - lo) * (double)rand() / RAND_MAX;
}

static void test_against_brute_force(void **state)
{
    (void)state;
    static const char *const names[] = {"aws:r0", "gcp:r1", "azure:r2",
                                        "aws:r3"};
    srand(12345);
    int checked = 0, infeasible = 0, max_checked = 0;
    for (int round = 0; round < 36; round++) {
        struct bf b = {.n = 4};
        int C = round % 2 ? 1 : 2, N = round % 2 ? 2 : 1;
        struct tiny rows[16];
        size_t nrows = 0;
        static const enum transfer_cloud clouds[] = {TRANSFER_AWS, TRANSFER_GCP,
                                                     TRANSFER_AZURE,
                                                     TRANSFER_AWS};
        for (size_t i = 0; i < b.n; i++) {
            b.cloud[i] = clouds[i];
            b.vmp[i] = frand(0.2, 40);
            for (size_t j = 0; j < b.n; j++) {
                if (i == j)
                    continue;
                /* some links missing */
                if (rand() % 5 == 0 && !(i == 0 && j == 3))
                    continue;
                b.cap[i][j] = frand(0.5, 9);
                b.price[i][j] = frand(0, 0.15);
                rows[nrows++] = (struct tiny){names[i], names[j], b.cap[i][j],
                                              b.price[i][j]};
            }
        }
        struct transfer_grid g;
        make_grid(&g, rows, nrows);
        /* the grid orders regions by appearance: map back */
        double price[4];
        int map[4];
        for (size_t i = 0; i < 4; i++) {
            map[i] = transfer_grid_find(&g, names[i]);
            assert_true(map[i] >= 0);
            price[map[i]] = b.vmp[i];
        }
        struct bf_search s = {.b = &b, .C = C, .N = N, .best = INFINITY};
        s.t = frand(0.3, 12);
        bf_vms(&s, 0);
        struct transfer_request r = {.src = (uint32_t)map[0],
                                     .dst = (uint32_t)map[3],
                                     .goal = TRANSFER_GOAL_TPUT,
                                     .tput_gbps = s.t, .max_vms = N,
                                     .conns_per_vm = C, .vm_price_h = price};
        struct transfer_plan p;
        struct skyc_error err = {0};
        enum skyc_err rc = transfer_plan_solve(&g, &r, &p, &err);
        if (isinf(s.best)) {
            if (rc != SKYC_E_INFEASIBLE)
                fail_msg("round %d: brute force says infeasible at %.4f, "
                         "planner rc %d cost %.6f",
                         round, s.t, rc, p.cost_per_gb);
            infeasible++;
        } else {
            if (rc != SKYC_OK)
                fail_msg("round %d: planner failed (%s), brute force %.6f",
                         round, err.msg, s.best / s.t);
            if (!close_to(p.cost_per_gb, s.best / s.t))
                fail_msg("round %d (C=%d N=%d t=%.4f): planner $%.8f/GB, "
                         "brute force $%.8f/GB",
                         round, C, N, s.t, p.cost_per_gb, s.best / s.t);
            assert_true(p.proven_optimal);
            if (p.fractional_cost_per_gb > p.cost_per_gb + 1e-7)
                fail_msg("round %d: fractional %.9f above integer %.9f", round,
                         p.fractional_cost_per_gb, p.cost_per_gb);
            /* the plan itself respects the integer caps */
            for (size_t e = 0; e < p.nedges; e++)
                assert_true(p.edges[e].gbps <=
                            p.edges[e].grid_gbps * p.edges[e].conns / C +
                                1e-6);
            checked++;
        }
        transfer_plan_release(&p);
        /* the maximum throughput, too */
        r.goal = TRANSFER_GOAL_MAX;
        rc = transfer_plan_solve(&g, &r, &p, &err);
        if (s.tmax <= 1e-9) {
            assert_int_equal(rc, SKYC_E_INFEASIBLE);
        } else {
            assert_int_equal(rc, SKYC_OK);
            if (!(fabs(p.tput_gbps - s.tmax) <= 1e-6 * SKYC_MAX(1, s.tmax)))
                fail_msg("round %d: planner max %.9f Gbps, brute force %.9f",
                         round, p.tput_gbps, s.tmax);
            assert_true(p.proven_optimal);
            max_checked++;
        }
        transfer_plan_release(&p);
        transfer_grid_release(&g);
    }
    /* both kinds of outcome were exercised */
    assert_true(max_checked >= 20);
    assert_true(checked >= 10);
    assert_true(infeasible >= 3);
}

/*
 * The exact Pareto curve against brute force: every integer VM and
 * connection assignment of small random grids, each one's least cost at
 * 400 throughputs (and at every point and arc of the planner's curve).
 * The curve's points and arcs have the brute-force $/GB, nothing beats
 * them, and every brute-force (T, $/GB) is matched or beaten by the curve
 * at T or above; each point is what the single-goal mode (--tput) plans.
 */
static void test_pareto_against_brute_force(void **state)
{
    (void)state;
    static const char *const names[] = {"aws:r0", "gcp:r1", "azure:r2",
                                        "aws:r3"};
    srand(777);
    int rounds_with_arcs = 0;
    for (int round = 0; round < 4; round++) {
        struct bf b = {.n = 4};
        int C = round % 2 ? 1 : 2, N = round % 2 ? 2 : 1;
        struct tiny rows[16];
        size_t nrows = 0;
        static const enum transfer_cloud clouds[] = {
            TRANSFER_AWS, TRANSFER_GCP, TRANSFER_AZURE, TRANSFER_AWS};
        for (size_t i = 0; i < b.n; i++) {
            b.cloud[i] = clouds[i];
            b.vmp[i] = frand(0.2, 40);
            for (size_t j = 0; j < b.n; j++) {
                if (i == j || (rand() % 5 == 0 && !(i == 0 && j == 3)))
                    continue;
                b.cap[i][j] = frand(0.5, 9);
                b.price[i][j] = frand(0, 0.15);
                rows[nrows++] = (struct tiny){names[i], names[j],
                                              b.cap[i][j], b.price[i][j]};
            }
        }
        struct transfer_grid g;
        make_grid(&g, rows, nrows);
        double price[4];
        int map[4];
        for (size_t i = 0; i < 4; i++) {
            map[i] = transfer_grid_find(&g, names[i]);
            price[map[i]] = b.vmp[i];
        }
        struct transfer_request r = {.src = (uint32_t)map[0],
                                     .dst = (uint32_t)map[3],
                                     .max_vms = N, .conns_per_vm = C,
                                     .vm_price_h = price};
        struct transfer_front fr;
        struct skyc_error err = {0};
        assert_int_equal(transfer_pareto(&g, &r, 0, 0, &fr, &err), SKYC_OK);
        assert_true(fr.proven);
        assert_true(fr.npoints >= 1);
        double tmax = fr.points[fr.npoints - 1].tput_gbps;
        /* samples: a fine grid, the points, the arcs' ends and middles */
        size_t ns = 0, cap = 400 + 4 * (fr.npoints + fr.narcs) + 8;
        double *ts = xcalloc(cap, sizeof(*ts)), *cbf = xcalloc(cap, sizeof(*cbf));
        for (int k = 1; k <= 400; k++)
            ts[ns++] = tmax * 1.02 * k / 400;
        size_t pfirst = ns;
        for (size_t k = 0; k < fr.npoints; k++)
            ts[ns++] = fr.points[k].tput_gbps;
        size_t afirst = ns;
        for (size_t k = 0; k < fr.narcs; k++) {
            const struct transfer_arc *a = &fr.arcs[k];
            ts[ns++] = a->from_gbps + (a->to_gbps - a->from_gbps) * 1e-3;
            ts[ns++] = (a->from_gbps + a->to_gbps) / 2;
            ts[ns++] = a->to_gbps - (a->to_gbps - a->from_gbps) * 1e-3;
        }
        for (size_t k = 0; k < ns; k++)
            cbf[k] = INFINITY;
        struct bf_search s = {.b = &b, .C = C, .N = N, .best = INFINITY,
                              .ts = ts, .cbf = cbf, .ns = ns};
        bf_vms(&s, 0);
        if (!(fabs(tmax - s.tmax) <= 1e-6 * SKYC_MAX(1, s.tmax)))
            fail_msg("round %d: curve ends at %.9f Gbps, brute force max %.9f",
                     round, tmax, s.tmax);
        /* the points: brute-force cost, single-goal plans agree */
        for (size_t k = 0; k < fr.npoints; k++) {
            double t = fr.points[k].tput_gbps, want = cbf[pfirst + k] / t;
            if (!(fabs(fr.curve_cost[k] - want) <= 1e-6 * want))
                fail_msg("round %d: point %.9f Gbps: curve $%.9f/GB, brute "
                         "force $%.9f/GB", round, t, fr.curve_cost[k], want);
            assert_close(fr.points[k].cost_per_gb, fr.curve_cost[k]);
        }
        /* the arcs: a + b/T is the brute-force $/GB inside them */
        for (size_t k = 0; k < fr.narcs; k++)
            for (int q = 0; q < 3; q++) {
                double t = ts[afirst + 3 * k + (size_t)q];
                double want = cbf[afirst + 3 * k + (size_t)q] / t;
                double got = fr.arcs[k].a + fr.arcs[k].b / t;
                if (!(fabs(got - want) <= 1e-6 * want))
                    fail_msg("round %d: arc at %.9f Gbps: $%.9f/GB, brute "
                             "force $%.9f/GB", round, t, got, want);
            }
        /* nothing beats a point or an arc's middle from above */
        for (size_t k = pfirst; k < ns; k++) {
            double t = ts[k], f = cbf[k] / t;
            for (size_t q = 0; q < ns; q++)
                if (ts[q] > t * (1 + 1e-9) && cbf[q] / ts[q] <= f * (1 - 1e-7))
                    fail_msg("round %d: %.9f Gbps at $%.9f/GB beats the "
                             "curve's %.9f Gbps at $%.9f/GB",
                             round, ts[q], cbf[q] / ts[q], t, f);
        }
        /* and the curve matches or beats every brute-force point */
        for (size_t k = 0; k < 400; k++) {
            double t = ts[k], f = cbf[k] / t, best = INFINITY;
            if (!isfinite(f))
                continue;
            for (size_t q = 0; q < fr.npoints; q++)
                if (fr.points[q].tput_gbps >= t * (1 - 1e-9))
                    best = SKYC_MIN(best, fr.curve_cost[q]);
            for (size_t q = 0; q < fr.narcs; q++) {
                const struct transfer_arc *a = &fr.arcs[q];
                if (a->to_gbps >= t)
                    best = SKYC_MIN(best, a->a + a->b / SKYC_MAX(t, a->from_gbps));
            }
            if (!(best <= f * (1 + 1e-7)))
                fail_msg("round %d: brute force %.9f Gbps at $%.9f/GB is not "
                         "matched by the curve (best $%.9f/GB at or above)",
                         round, t, f, best);
        }
        rounds_with_arcs += fr.narcs > 0;
        free(ts);
        free(cbf);
        transfer_front_release(&fr);
        transfer_grid_release(&g);
    }
    assert_true(rounds_with_arcs >= 1);
}

/* ---- grid files ---- */

static enum skyc_err parse(const char *text, struct skyc_error *err)
{
    struct transfer_grid g;
    transfer_grid_init(&g);
    enum skyc_err rc =
        transfer_grid_parse_throughput(&g, "grid.csv", text, strlen(text), err);
    transfer_grid_release(&g);
    return rc;
}

static void test_grid_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"src_region,dst_region\naws:a,aws:b\n",
         "grid.csv:1:1: no 'throughput_sent' column"},
        {"src_region,dst_region,throughput_sent\naws:a,aws:b,1e9\n"
         "aws:a,gcp:b,fast\n",
         "grid.csv:3:13: throughput_sent 'fast' is not a non-negative number"},
        {"src_region,dst_region,throughput_sent\naws:a,aws:b,-5\n",
         "grid.csv:2:13: throughput_sent '-5' is not"},
        {"src_region,dst_region,throughput_sent\nibm:a,aws:b,5\n",
         "grid.csv:2:1: src_region 'ibm:a' is not a region key"},
        {"src_region,dst_region,throughput_sent\naws:a,nocolon,5\n",
         "grid.csv:2:7: dst_region 'nocolon' is not a region key"},
        {"src_region,dst_region,throughput_sent\n", "no usable PREMIUM rows"},
        {"src_region,dst_region,throughput_sent\n\"aws:a,aws:b,5\n",
         "grid.csv:2: unterminated quoted field"},
        {"", "grid.csv"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct skyc_error err = {0};
        assert_int_equal(parse(cases[i].text, &err), SKYC_E_INPUT);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
    }
    /* a price grid with a bad number names its line */
    struct transfer_grid g;
    make_grid(&g, three, 2);
    const char *bad = "src,dest,cost\naws:a,gcp:c,0.09\naws:a,aws:b,cheap\n";
    struct skyc_error err = {0};
    assert_int_equal(
        transfer_grid_parse_price(&g, "cost.csv", bad, strlen(bad), &err),
        SKYC_E_INPUT);
    assert_non_null(strstr(err.msg, "cost.csv:3:13: cost 'cheap'"));
    transfer_grid_release(&g);
}

static void test_grid_tiers_duplicates_and_find(void **state)
{
    (void)state;
    const char *t =
        "src_region,src_tier,dst_region,dst_tier,throughput_sent,success\n"
        "aws:us-east-1,PREMIUM,gcp:us-west1-a,STANDARD,1073741824,True\n"
        "aws:us-east-1,PREMIUM,gcp:us-west1-a,PREMIUM,2147483648,True\n"
        "aws:us-east-1,PREMIUM,gcp:us-west1-a,PREMIUM,4294967296,True\n"
        "gcp:us-west1-a,PREMIUM,aws:us-east-1,PREMIUM,1073741824,False\n"
        "gcp:us-west1-b,PREMIUM,aws:us-east-1,PREMIUM,3221225472,True\n";
    struct transfer_grid g;
    struct skyc_error err = {0};
    transfer_grid_init(&g);
    assert_int_equal(
        transfer_grid_parse_throughput(&g, "t.csv", t, strlen(t), &err), 0);
    assert_int_equal(g.n, 3);
    int a = transfer_grid_find(&g, "aws:us-east-1");
    int b = transfer_grid_find(&g, "gcp:us-west1-a");
    assert_true(a >= 0 && b >= 0);
    /* STANDARD skipped, the first PREMIUM row wins: 2^31 bit/s = 2 Gbps */
    assert_close(g.gbps[a * 3 + b], 2.0);
    /* success=False skipped */
    assert_true(isnan(g.gbps[b * 3 + a]));
    assert_int_equal(transfer_grid_find(&g, "aws/us-east-1"), a);
    assert_int_equal(transfer_grid_find(&g, "GCP:us-west1"), b);
    assert_int_equal(transfer_grid_find(&g, "gcp:us-west2"), -1);
    transfer_grid_release(&g);
}

static void test_real_grid(void **state)
{
    (void)state;
    struct transfer_grid g;
    struct skyc_error err = {0};
    enum skyc_err rc = transfer_grid_load(&g, NULL, NULL, &err);
    if (rc)
        fail_msg("the shared Skyplane grid must be present: %s", err.msg);
    assert_int_equal(g.n, 71);
    assert_int_equal(g.throughput_rows, 4970);
    int a = transfer_grid_find(&g, "aws:us-east-2");
    int b = transfer_grid_find(&g, "azure:eastus");
    assert_true(a >= 0 && b >= 0);
    /* the first row of the file: 4967291935.167428 bit/s, $0.09/GB */
    assert_close(g.gbps[(size_t)a * g.n + (size_t)b],
                 4967291935.167428 / 1073741824.0);
    assert_close(g.price[(size_t)a * g.n + (size_t)b], 0.09);
    transfer_grid_release(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_direct_when_it_suffices),
        cmocka_unit_test(test_relay_with_integer_connections),
        cmocka_unit_test(test_cheap_relay_beats_direct),
        cmocka_unit_test(test_nic_cap_binds),
        cmocka_unit_test(test_vm_limit_binds),
        cmocka_unit_test(test_budget_mode),
        cmocka_unit_test(test_pareto_monotone),
        cmocka_unit_test(test_against_brute_force),
        cmocka_unit_test(test_pareto_against_brute_force),
        cmocka_unit_test(test_grid_errors),
        cmocka_unit_test(test_grid_tiers_duplicates_and_find),
        cmocka_unit_test(test_real_grid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
