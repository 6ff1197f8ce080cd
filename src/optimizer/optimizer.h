/*
 * optimizer.h - where and on what to run each task of a DAG, at least cost
 * or time, egress included.
 *
 * Candidates are every feasible (cloud, region, zone, instance type,
 * spot/on-demand) offering of the catalog for each task's resources; cost of
 * a candidate = hourly price x hours (the task's estimated_hours, else
 * params->hours, default 1) x num_nodes. Data between dependent tasks placed
 * in different regions pays egress (GB of the upstream task's outputs x the
 * region pair's $/GB) and takes GB / bandwidth hours. Inputs read from a
 * bucket (s3://, gs://, ...) pay egress when the task runs on another cloud.
 *
 * Which method, when (plan->method; --solver forces one):
 * - "single": one task, its cheapest candidate.
 * - "dp": chains and trees (the undirected graph is a forest), exact
 *   dynamic programming over regions.
 * - "trws": any other DAG (the default there). TRW-S message passing gives a
 *   lower bound and a plan; when the plan's cost is within 1e-9 (relative)
 *   of the bound, the bound is the certificate. On egress-priced DAGs it
 *   nearly always is (100 tasks over all catalogs: about 5 passes, ~0.1 s).
 * - "trws+milp": the bound left a gap. Regions and region pairs whose
 *   reduced cost lifts the bound above the plan's cost are dropped (no
 *   better plan uses them) and CBC solves the local-polytope MILP on the
 *   rest, from the TRW-S plan; CBC's proof is the certificate.
 * - "milp" (--solver milp only): CBC on the full local-polytope MILP after
 *   dead-end elimination; |regions|^2 columns per edge, so only for small
 *   DAGs.
 * plan->proven_optimal is true only with one of those certificates; a
 * solver that stops early (CBC without a proof) reports false.
 *
 * The time objective minimises total hours (task hours + transfer hours),
 * breaking ties by cost at $1 = 1e-6 hours.
 *
 * Ownership: optimizer_plan() fills a caller-provided struct opt_plan that
 * owns its arrays; opt_plan_release() frees them. The plan points into the
 * catalog (offer indexes) and the dag (task indexes): keep both alive while
 * using it.
 */
#ifndef SKYC_OPTIMIZER_OPTIMIZER_H
#define SKYC_OPTIMIZER_OPTIMIZER_H

#include "core/common.h"
#include "core/error.h"
#include "catalog/catalog.h"
#include "task/task.h"

enum opt_objective { OPT_MIN_COST, OPT_MIN_TIME };

enum opt_solver {
    OPT_SOLVER_AUTO,
    OPT_SOLVER_DP,
    OPT_SOLVER_MILP,
    OPT_SOLVER_TRWS,
};

/*
 * A resource the failover loop has ruled out: cloud, and optionally region,
 * zone, instance type (NULL = all). Matching offerings are not candidates.
 */
struct opt_block {
    int cloud; /* enum cloud, or -1 for any */
    const char *region;
    const char *zone;
    const char *instance_type;
    int spot; /* -1 both, 0 on-demand only, 1 spot only */
};

/*
 * The DAG solvers' default budget: certificates come in well under a second
 * on egress-priced DAGs; a pathological one returns its best plan, marked
 * not proven, instead of hanging.
 */
#define OPT_DEFAULT_TIME_LIMIT_S 60.0

struct opt_params {
    enum opt_objective objective;
    enum opt_solver solver;
    double hours;      /* default hours per task, > 0 */
    int cloud;         /* restrict to one cloud, or -1 */
    const char *region; /* restrict to one region name, or NULL */
    const struct opt_block *blocked;
    size_t nblocked;
    size_t runners_up; /* candidates listed per task besides the chosen */
    double time_limit_s; /* solver budget, 0 = none; hit = not proven */
};

void opt_params_init(struct opt_params *p);

struct opt_candidate {
    uint32_t offer; /* index into cat->offers */
    bool spot;
    size_t alt;    /* which of the task's resource alternatives */
    double hourly; /* $/h per node */
    double cost;   /* hourly x hours x nodes */
};

struct opt_task_plan {
    struct opt_candidate chosen;
    double hours;
    double input_egress_cost; /* reading inputs from another cloud */
    size_t ncandidates;       /* feasible candidates considered */
    struct opt_candidate *runners_up; /* best per cloud, cheapest first */
    size_t nrunners_up;
};

struct opt_edge_plan {
    size_t from, to;
    double gb;
    double price_per_gb;
    double cost;
    double hours;
};

struct opt_plan {
    enum opt_objective objective;
    struct opt_task_plan *tasks; /* dag->ntasks */
    size_t ntasks;
    struct opt_edge_plan *edges; /* dag->nedges */
    size_t nedges;
    double compute_cost, egress_cost, total_cost;
    double total_hours;
    const char *method; /* "single", "dp", "trws", "trws+milp", "milp" */
    bool proven_optimal;
    size_t labels_before, labels_after; /* regions considered, pruned */
};

/*
 * Plan every task. Returns SKYC_E_INFEASIBLE with a message naming the task
 * and what ruled its candidates out when a task has none.
 */
enum skyc_err optimizer_plan(struct catalog *cat, const struct task_dag *dag,
                             const struct opt_params *params,
                             struct opt_plan *plan, struct skyc_error *err);
void opt_plan_release(struct opt_plan *plan);

/*
 * All feasible candidates of one task, cheapest first (caller frees *out).
 * Used by the plan, `show-gpus` style listings and tests.
 */
enum skyc_err optimizer_candidates(const struct catalog *cat,
                                   const struct task *t,
                                   const struct opt_params *params,
                                   struct opt_candidate **out, size_t *n,
                                   struct skyc_error *err);

/*
 * Whether tasks a and b get exactly the same candidates (same resource
 * alternatives as far as matching and pricing go, nodes and hours): the
 * planner then scans the catalog once for both.
 */
bool optimizer_same_candidates(const struct task *a, const struct task *b,
                               const struct opt_params *params);

/* Candidates order: cheaper first, then lower offer index. */
bool opt_candidate_before(const struct opt_candidate *x,
                          const struct opt_candidate *y);

/*
 * The same candidates as optimizer_candidates(), unsorted and unstored: fn
 * sees each one (the struct is only valid during the call). The planner uses
 * it to keep one candidate per region without sorting tens of thousands.
 */
typedef void opt_candidate_fn(void *ctx, const struct opt_candidate *c);
void optimizer_candidates_visit(const struct catalog *cat,
                                const struct task *t,
                                const struct opt_params *params,
                                opt_candidate_fn *fn, void *ctx);

#endif
