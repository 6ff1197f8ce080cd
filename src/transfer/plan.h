/*
 * plan.h - the transfer planner: how many gateway VMs in which regions, and
 * how many TCP connections on which overlay edges, to move data from one
 * region to another (Skyplane, NSDI'23, solved exactly, with integer
 * connections).
 *
 * The model, in Skyplane's units (Gbps = bit/s / 2^30, $/GB from the cost
 * grid), over the regions of a struct transfer_grid:
 *
 *   variables  f[e] >= 0   flow on directed edge e = (i,j), Gbps
 *              c[e] in Z+  TCP connections on e
 *              n[i] in Z+  gateway VMs in region i, n[i] <= max_vms
 *   rows       f[e] <= grid[e] * c[e] / C            (C = conns_per_vm, 64)
 *              sum_out c[i] <= C n[i], sum_in c[i] <= C n[i]
 *              sum_out f[i] <= egress_cap(cloud i) n[i]   (AWS 5, GCP 7,
 *              sum_in  f[i] <= ingress_cap(cloud i) n[i]   Azure 16; in 10/16/16)
 *              flow conservation: src sends T and receives nothing, dst
 *              receives T, every other region forwards what it receives
 *   cost/GB    sum_e price[e] f[e] / T  +  8 sum_i vm_price_h[i] n[i] / (3600 T)
 *
 * i.e. egress for every GB crossing each edge plus the VMs' hourly price for
 * the transfer's duration (data / T). Edges into src and out of dst carry
 * nothing useful and are left out; edges the grid does not measure or price
 * do not exist.
 *
 * Goals: TRANSFER_GOAL_TPUT minimises cost/GB at throughput T (Skyplane's
 * solve_min_cost); TRANSFER_GOAL_BUDGET maximises T subject to cost/GB <=
 * max_cost_per_gb (linear: cost <= B T), then minimises cost at that T;
 * TRANSFER_GOAL_MAX maximises T, then minimises cost at that T. Every MILP
 * goes to CBC through solver/milp.h (LP bounds to Clp through solver/lp.h),
 * and a plan is reported proven optimal only when CBC proves every step of
 * the argument in plan.c (solve_pruned()).
 *
 * The result, struct transfer_plan, is what the data plane consumes: one
 * transfer_gateway per region that runs VMs (source, relays, destination)
 * and one transfer_edge per overlay link with its integer connection count
 * (connections are spread over the sending region's VMs by the data plane).
 * Plans own their arrays; transfer_plan_release() frees them. Region indexes
 * refer to the grid the plan was made from.
 */
#ifndef SKYC_TRANSFER_PLAN_H
#define SKYC_TRANSFER_PLAN_H

#include "core/common.h"
#include "core/error.h"
#include "transfer/grid.h"

struct catalog;

enum transfer_goal {
    TRANSFER_GOAL_TPUT,   /* min cost at tput_gbps */
    TRANSFER_GOAL_BUDGET, /* max throughput with cost/GB <= max_cost_per_gb */
    TRANSFER_GOAL_MAX,    /* max throughput */
};

struct transfer_request {
    uint32_t src, dst;      /* grid region indexes, src != dst */
    enum transfer_goal goal;
    double tput_gbps;       /* TRANSFER_GOAL_TPUT, > 0 */
    double max_cost_per_gb; /* TRANSFER_GOAL_BUDGET, >= 0 */
    int max_vms;            /* per region, >= 1 */
    int conns_per_vm;       /* 0 = 64 (as the grid was measured) */
    const double *vm_price_h; /* grid->n prices, $/hour per VM */
    bool direct_only;       /* only the src -> dst edge (the baseline) */
    double time_limit_s;    /* per CBC solve; 0 = none */
    /*
     * Solve Skyplane's MILP whole with CBC's defaults instead (the
     * benchmark's reference; same answer, slower).
     */
    bool reference;
};

struct transfer_gateway {
    uint32_t region;
    int vms;
    double vm_price_h;
    bool relay; /* neither source nor destination */
};

struct transfer_edge {
    uint32_t from, to;
    double gbps;       /* planned flow */
    int conns;         /* integer TCP connections */
    double grid_gbps;  /* measured at 64 connections, one VM pair */
    double price_per_gb;
};

struct transfer_plan {
    double tput_gbps;     /* delivered to dst */
    double egress_per_gb; /* $/GB */
    double vm_per_gb;     /* $/GB */
    double cost_per_gb;   /* egress + VM */
    double vm_cost_per_h; /* all gateways */
    /*
     * The optimum of Skyplane's own model (fractional connections) at this
     * throughput, $/GB: a lower bound on cost_per_gb, equal to it whenever
     * integer connections cost nothing extra.
     */
    double fractional_cost_per_gb;
    int vms;              /* all gateways */
    struct transfer_gateway *gateways; /* source first, destination last */
    size_t ngateways;
    struct transfer_edge *edges;
    size_t nedges;
    bool proven_optimal;
    double gap;     /* when not proven: (cost - lower bound) / cost, else 0 */
    double solve_s; /* CBC wall time over every solve of this plan */
    long nodes;     /* branch-and-bound nodes */
    int solves;     /* CBC calls */
};

void transfer_plan_init(struct transfer_plan *p);
void transfer_plan_release(struct transfer_plan *p);

/*
 * Plan one transfer. Returns SKYC_OK with the plan; SKYC_E_INFEASIBLE when
 * the goal cannot be met (throughput above what max_vms allows, or a budget
 * below the cheapest plan) with a message saying what can be reached;
 * SKYC_E_USAGE for a bad request; SKYC_E_SOLVER when CBC fails.
 */
enum skyc_err transfer_plan_solve(const struct transfer_grid *g,
                                  const struct transfer_request *req,
                                  struct transfer_plan *plan,
                                  struct skyc_error *err);

/*
 * The exact cost/throughput Pareto curve of the integer problem: every
 * (throughput T, $/GB) that no other integer plan beats in both (at least
 * as fast and no dearer, better in one), for T in [lo, hi] (lo <= 0: down
 * to the slowest such point; hi <= 0 or above the maximum: up to the
 * fastest plan); dominance is among plans with T in that range.
 *
 * The front is a finite set of points and arcs. An arc is a throughput
 * interval on which one configuration (VMs and connections) is optimal and
 * its cheapest flow has a fixed marginal $/GB a and a negative intercept:
 * $/GB = a + b / T, rising with T, every point of it nondominated. The arc
 * starts at a point of the front (from_gbps) and ends at to_gbps, which is
 * a front point itself when to_included (else the arc stops just short of
 * it: there a faster plan is as cheap). How the curve is computed and what
 * "exact" means: see plan.c and the README (lower envelope of the
 * configurations' cost curves, each piece verified by one MILP; exact up
 * to the solvers' 1e-7 relative tolerances).
 */
struct transfer_arc {
    double from_gbps, to_gbps;
    bool to_included;
    double a, b; /* $/GB = a + b / T on the arc */
};

struct transfer_front {
    /* the front's points (isolated points and arc ends), by throughput:
     * strictly rising in both throughput and $/GB; each plan is the
     * single-goal plan (--tput) at that throughput */
    struct transfer_plan *points;
    double *curve_cost; /* per point: $/GB of the curve there (= plan's) */
    size_t npoints;
    struct transfer_arc *arcs; /* by throughput */
    size_t narcs;
    double lo, hi;  /* the throughput range covered */
    int milps;      /* verification MILPs */
    int configs;    /* configurations in the envelope */
    double solve_s; /* solver wall time, all of it */
    bool proven;    /* every MILP proved optimal */
};

void transfer_front_init(struct transfer_front *f);
void transfer_front_release(struct transfer_front *f);

/* SKYC_E_INFEASIBLE when no plan reaches lo or the grid has no path. */
enum skyc_err transfer_pareto(const struct transfer_grid *g,
                              const struct transfer_request *req, double lo,
                              double hi, struct transfer_front *f,
                              struct skyc_error *err);

/*
 * Hourly price of one gateway VM per grid region: the on-demand price of
 * the instance type Skyplane measured with (transfer_gateway_instance())
 * when cat (may be NULL) sells it in that region (the GCP zone's price if
 * listed, else the region's cheapest), else fallback. from_catalog[i] says
 * which (may be NULL).
 */
void transfer_vm_prices(const struct transfer_grid *g,
                        const struct catalog *cat, double fallback,
                        double *price_h, bool *from_catalog);

#endif
