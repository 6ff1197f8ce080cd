/*
 * placement.c - the placement problem's container and its exact solvers
 * other than the MILP: forest dynamic programming and brute force.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "optimizer/placement.h"

void placement_init(struct placement *p, size_t n, const size_t *nlabels)
{
    memset(p, 0, sizeof(*p));
    p->n = n;
    p->nlabels = xcalloc(n ? n : 1, sizeof(*p->nlabels));
    p->unary = xcalloc(n ? n : 1, sizeof(*p->unary));
    for (size_t v = 0; v < n; v++) {
        p->nlabels[v] = nlabels[v];
        p->unary[v] = xcalloc(nlabels[v] ? nlabels[v] : 1, sizeof(double));
    }
}

struct placement_edge *placement_add_edge(struct placement *p, size_t from,
                                          size_t to)
{
    p->edges = xreallocarray(p->edges, p->nedges + 1, sizeof(*p->edges));
    struct placement_edge *e = &p->edges[p->nedges++];
    e->from = from;
    e->to = to;
    size_t cells = p->nlabels[from] * p->nlabels[to];
    e->pair = xcalloc(cells ? cells : 1, sizeof(double));
    return e;
}

void placement_release(struct placement *p)
{
    for (size_t v = 0; v < p->n; v++)
        free(p->unary[v]);
    for (size_t e = 0; e < p->nedges; e++)
        free(p->edges[e].pair);
    free(p->unary);
    free(p->nlabels);
    free(p->edges);
    memset(p, 0, sizeof(*p));
}

double placement_cost(const struct placement *p, const size_t *labels)
{
    double sum = 0;
    for (size_t v = 0; v < p->n; v++)
        sum += p->unary[v][labels[v]];
    for (size_t i = 0; i < p->nedges; i++) {
        const struct placement_edge *e = &p->edges[i];
        sum += e->pair[labels[e->from] * p->nlabels[e->to] + labels[e->to]];
    }
    return sum;
}

/* Union-find over tasks, to detect cycles in the undirected graph. */
static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

bool placement_is_forest(const struct placement *p)
{
    size_t *parent = xcalloc(p->n ? p->n : 1, sizeof(*parent));
    for (size_t v = 0; v < p->n; v++)
        parent[v] = v;
    bool forest = true;
    for (size_t i = 0; i < p->nedges && forest; i++) {
        size_t a = uf_find(parent, p->edges[i].from);
        size_t b = uf_find(parent, p->edges[i].to);
        if (a == b)
            forest = false; /* a cycle, or a repeated edge */
        else
            parent[a] = b;
    }
    free(parent);
    return forest;
}

/*
 * Forest DP. Root every tree, visit children before parents (post-order of
 * a DFS), and keep for each task v and label a the least cost of v's
 * subtree with v at a. A child c joined to its parent v by edge e adds
 * min over b of (sub[c][b] + pair(a, b)) to sub[v][a].
 */
enum skyc_err placement_solve_dp(const struct placement *p, size_t *labels,
                                 double *objective, struct skyc_error *err)
{
    size_t n = p->n;
    if (!placement_is_forest(p))
        return skyc_fail(err, SKYC_E_INTERNAL,
                         "dp solver called on a graph with a cycle");
    for (size_t v = 0; v < n; v++)
        if (!p->nlabels[v])
            return skyc_fail(err, SKYC_E_INFEASIBLE, "task %zu has no labels",
                             v);

    /* adjacency: for each task, its incident edge indexes */
    size_t *deg = xcalloc(n + 1, sizeof(*deg));
    for (size_t i = 0; i < p->nedges; i++) {
        deg[p->edges[i].from + 1]++;
        deg[p->edges[i].to + 1]++;
    }
    for (size_t v = 0; v < n; v++)
        deg[v + 1] += deg[v];
    size_t *adj = xcalloc(2 * p->nedges + 1, sizeof(*adj));
    size_t *fill = xcalloc(n + 1, sizeof(*fill));
    for (size_t i = 0; i < p->nedges; i++) {
        adj[deg[p->edges[i].from] + fill[p->edges[i].from]++] = i;
        adj[deg[p->edges[i].to] + fill[p->edges[i].to]++] = i;
    }

    double **sub = xcalloc(n, sizeof(*sub));
    /* best[c][a]: the child's best label given its parent is at a */
    size_t **best = xcalloc(n, sizeof(*best));
    size_t *parent_edge = xcalloc(n, sizeof(*parent_edge));
    size_t *order = xcalloc(n, sizeof(*order));
    size_t *stack = xcalloc(n, sizeof(*stack));
    bool *seen = xcalloc(n, sizeof(*seen));
    size_t norder = 0;

    for (size_t root = 0; root < n; root++) {
        if (seen[root])
            continue;
        size_t top = 0;
        stack[top++] = root;
        seen[root] = true;
        parent_edge[root] = SIZE_MAX;
        while (top) { /* preorder; reversed below for post-order */
            size_t v = stack[--top];
            order[norder++] = v;
            for (size_t k = deg[v]; k < deg[v + 1]; k++) {
                const struct placement_edge *e = &p->edges[adj[k]];
                size_t w = e->from == v ? e->to : e->from;
                if (seen[w])
                    continue;
                seen[w] = true;
                parent_edge[w] = adj[k];
                stack[top++] = w;
            }
        }
    }
    for (size_t v = 0; v < n; v++) {
        sub[v] = xcalloc(p->nlabels[v], sizeof(double));
        memcpy(sub[v], p->unary[v], p->nlabels[v] * sizeof(double));
    }
    for (size_t k = norder; k-- > 0;) {
        size_t c = order[k];
        if (parent_edge[c] == SIZE_MAX)
            continue;
        const struct placement_edge *e = &p->edges[parent_edge[c]];
        size_t v = e->from == c ? e->to : e->from;
        bool c_is_to = e->to == c;
        size_t nv = p->nlabels[v], nc = p->nlabels[c];
        best[c] = xcalloc(nv, sizeof(size_t));
        for (size_t a = 0; a < nv; a++) {
            double m = INFINITY;
            size_t arg = 0;
            for (size_t b = 0; b < nc; b++) {
                double pc = c_is_to ? e->pair[a * nc + b] : e->pair[b * nv + a];
                double val = sub[c][b] + pc;
                if (val < m) {
                    m = val;
                    arg = b;
                }
            }
            sub[v][a] += m;
            best[c][a] = arg;
        }
    }
    /* read labels top-down: roots first (preorder) */
    double total = 0;
    for (size_t k = 0; k < norder; k++) {
        size_t v = order[k];
        if (parent_edge[v] == SIZE_MAX) {
            size_t arg = 0;
            for (size_t a = 1; a < p->nlabels[v]; a++)
                if (sub[v][a] < sub[v][arg])
                    arg = a;
            labels[v] = arg;
            total += sub[v][arg];
        } else {
            const struct placement_edge *e = &p->edges[parent_edge[v]];
            size_t par = e->from == v ? e->to : e->from;
            labels[v] = best[v][labels[par]];
        }
    }
    *objective = total;
    for (size_t v = 0; v < n; v++) {
        free(sub[v]);
        free(best[v]);
    }
    free(sub);
    free(best);
    free(parent_edge);
    free(order);
    free(stack);
    free(seen);
    free(deg);
    free(adj);
    free(fill);
    return SKYC_OK;
}

enum skyc_err placement_solve_brute(const struct placement *p,
                                    size_t *labels, double *objective,
                                    struct skyc_error *err)
{
    double combos = 1;
    for (size_t v = 0; v < p->n; v++) {
        if (!p->nlabels[v])
            return skyc_fail(err, SKYC_E_INFEASIBLE, "task %zu has no labels",
                             v);
        combos *= (double)p->nlabels[v];
    }
    if (combos > 5e7)
        return skyc_fail(err, SKYC_E_SOLVER,
                         "brute force over %.0f placements is too many",
                         combos);
    size_t *cur = xcalloc(p->n ? p->n : 1, sizeof(*cur));
    double best = INFINITY;
    for (;;) {
        double c = placement_cost(p, cur);
        if (c < best) {
            best = c;
            memcpy(labels, cur, p->n * sizeof(*cur));
        }
        size_t v = 0;
        while (v < p->n && ++cur[v] == p->nlabels[v])
            cur[v++] = 0;
        if (v == p->n)
            break;
    }
    free(cur);
    *objective = best;
    return SKYC_OK;
}
