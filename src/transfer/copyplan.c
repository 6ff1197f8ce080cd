/*
 * copyplan.c - plan files for `skyc cp --plan`: the planner's JSON mapped
 * onto gateway addresses, or the hand-written list of paths (copy.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "transfer/copy.h"

#include <jansson.h>
#include <math.h>
#include <unistd.h>

#define MAX_REGIONS 64
#define MAX_EDGES 512
#define MAX_ADDRS 16

struct pedge {
    int from, to;
    double gbps, left;
    long conns;
};

struct pplan {
    const char *region[MAX_REGIONS];
    size_t nregions;
    struct pedge e[MAX_EDGES];
    size_t nedges;
    /* gateway addresses per region (owned) */
    char *addr[MAX_REGIONS][MAX_ADDRS];
    size_t naddr[MAX_REGIONS];
};

static int region_find(struct pplan *p, const char *name, bool add)
{
    for (size_t i = 0; i < p->nregions; i++)
        if (!strcmp(p->region[i], name))
            return (int)i;
    if (!add || p->nregions == MAX_REGIONS)
        return -1;
    p->region[p->nregions] = name;
    return (int)p->nregions++;
}

static bool valid_addr(const char *a, size_t n)
{
    const char *colon = NULL;
    for (size_t i = 0; i < n; i++)
        if (a[i] == ':')
            colon = a + i;
    if (!colon || colon == a || colon + 1 == a + n)
        return false;
    for (const char *q = colon + 1; q < a + n; q++)
        if (*q < '0' || *q > '9')
            return false;
    return a + n - colon - 1 <= 5;
}

/* "REGION=HOST:PORT[,HOST:PORT...]" -> p->addr[region]. */
static enum skyc_err add_gateway(struct pplan *p, const char *spec,
                                 struct skyc_error *err)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return skyc_fail(err, SKYC_E_USAGE,
                         "bad --gateway '%s' (want REGION=HOST:PORT, e.g. "
                         "aws:us-east-1=10.0.0.5:7700)",
                         spec);
    char *name = xstrndup(spec, (size_t)(eq - spec));
    int r = region_find(p, name, false);
    if (r < 0) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < p->nregions; i++)
            strbuf_addf(&sb, "%s%s", i ? ", " : "", p->region[i]);
        skyc_fail(err, SKYC_E_USAGE,
                  "--gateway %s: the plan has no region '%s' (its regions: "
                  "%s)",
                  spec, name, sb.buf);
        strbuf_release(&sb);
        free(name);
        return SKYC_E_USAGE;
    }
    free(name);
    const char *s = eq + 1;
    while (*s) {
        size_t n = strcspn(s, ",");
        if (!valid_addr(s, n))
            return skyc_fail(err, SKYC_E_USAGE,
                             "bad --gateway '%s': '%.*s' is not HOST:PORT",
                             spec, (int)n, s);
        if (p->naddr[r] == MAX_ADDRS)
            return skyc_fail(err, SKYC_E_USAGE,
                             "--gateway: at most %d addresses for %s",
                             MAX_ADDRS, p->region[r]);
        p->addr[r][p->naddr[r]++] = xstrndup(s, n);
        s += n;
        if (*s == ',')
            s++;
    }
    return SKYC_OK;
}

/* Depth-first search for a route src -> dst over edges with flow left,
 * visiting each region at most once per search (linear time; in a plan
 * with cycles a route may be missed, its flow then goes unused); route[]
 * gets edge indices. */
static bool find_route(const struct pplan *p, int at, int dst, bool *seen,
                       size_t *route, size_t *len)
{
    if (at == dst)
        return true;
    if (*len >= MAX_ADDRS - 1)
        return false; /* at most 16 hops with a source gateway */
    seen[at] = true;
    for (size_t k = 0; k < p->nedges; k++) {
        const struct pedge *e = &p->e[k];
        if (e->from != at || seen[e->to] || e->left <= 1e-9)
            continue;
        route[(*len)++] = k;
        if (find_route(p, e->to, dst, seen, route, len))
            return true;
        (*len)--;
    }
    return false;
}

struct route {
    size_t edge[MAX_ADDRS];
    size_t len;
    double gbps, share; /* share: connections wanted (real) */
    int conns;
};

/* Largest-remainder split of max(n, min(cap, round(sum))) connections over
 * the n routes' shares, each at least 1 and at most 64. */
static void apportion(struct route *r, size_t n, int cap)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += r[i].share;
    int want = (int)lround(sum);
    if (want > cap)
        want = cap;
    if (want < (int)n)
        want = (int)n;
    double scale = sum > 0 ? want / sum : 0;
    int got = 0;
    for (size_t i = 0; i < n; i++) {
        r[i].conns = (int)floor(r[i].share * scale);
        if (r[i].conns < 1)
            r[i].conns = 1;
        if (r[i].conns > 64)
            r[i].conns = 64;
        got += r[i].conns;
    }
    while (got > want) { /* the ones raised to 1 came out of the rest */
        size_t big = 0;
        for (size_t i = 1; i < n; i++)
            if (r[i].conns > r[big].conns)
                big = i;
        r[big].conns--;
        got--;
    }
    while (got < want) {
        size_t best = n;
        double bestf = -1;
        for (size_t i = 0; i < n; i++) {
            double f = r[i].share * scale - r[i].conns;
            if (r[i].conns < 64 && f > bestf) {
                bestf = f;
                best = i;
            }
        }
        if (best == n)
            break;
        r[best].conns++;
        got++;
    }
}

static enum skyc_err from_planner(const char *name, json_t *root,
                                  const char *const *gateways,
                                  size_t ngateways, int max_conns,
                                  struct sender_path **out, size_t *nout,
                                  struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct pplan *p = xcalloc(1, sizeof(*p));
    struct route routes[COPY_PLAN_MAX_PATHS];
    size_t nroutes = 0;
    struct sender_path *paths = NULL;
    size_t n = 0;
    const char *src = json_string_value(json_object_get(root, "src"));
    const char *dst = json_string_value(json_object_get(root, "dst"));
    json_t *edges = json_object_get(json_object_get(root, "plan"), "edges");
    if (!src || !dst || !json_is_array(edges)) {
        skyc_fail(err, rc, "%s: a planner plan needs \"src\", \"dst\" and "
                  "\"plan\": {\"edges\": [...]} (the output of `skyc "
                  "transfer plan SRC DST --json`)", name);
        goto out;
    }
    if (!strcmp(src, dst)) {
        skyc_fail(err, rc, "%s: src and dst are both %s", name, src);
        goto out;
    }
    region_find(p, src, true);
    region_find(p, dst, true);
    if (json_array_size(edges) > MAX_EDGES) {
        skyc_fail(err, rc, "%s: plan.edges has more than %d edges", name,
                  MAX_EDGES);
        goto out;
    }
    for (size_t k = 0; k < json_array_size(edges); k++) {
        json_t *e = json_array_get(edges, k);
        const char *f = json_string_value(json_object_get(e, "from"));
        const char *t = json_string_value(json_object_get(e, "to"));
        json_t *g = json_object_get(e, "gbps");
        json_t *c = json_object_get(e, "connections");
        if (!f || !t || !json_is_number(g) || !json_is_integer(c) ||
            !(json_number_value(g) >= 0) || !isfinite(json_number_value(g)) ||
            json_integer_value(c) < 0 || json_integer_value(c) > 1 << 20) {
            skyc_fail(err, rc, "%s: plan.edges[%zu] needs \"from\", \"to\", "
                      "\"gbps\" >= 0 and integer \"connections\" >= 0",
                      name, k);
            goto out;
        }
        struct pedge *pe = &p->e[p->nedges++];
        pe->from = region_find(p, f, true);
        pe->to = region_find(p, t, true);
        if (pe->from < 0 || pe->to < 0) {
            skyc_fail(err, rc, "%s: more than %d regions in the plan", name,
                      MAX_REGIONS);
            goto out;
        }
        pe->gbps = pe->left = json_number_value(g);
        pe->conns = (long)json_integer_value(c);
        if (pe->conns == 0)
            pe->left = 0; /* no connections carry no flow */
    }
    for (size_t i = 0; i < ngateways; i++)
        if ((rc = add_gateway(p, gateways[i], err)) != SKYC_OK)
            goto out;
    rc = SKYC_E_INPUT;
    /* flow decomposition: peel off src -> dst routes, bottleneck first */
    while (nroutes < COPY_PLAN_MAX_PATHS) {
        bool seen[MAX_REGIONS] = {0};
        struct route *r = &routes[nroutes];
        r->len = 0;
        if (!find_route(p, 0, 1, seen, r->edge, &r->len))
            break;
        double b = INFINITY;
        for (size_t j = 0; j < r->len; j++)
            b = fmin(b, p->e[r->edge[j]].left);
        for (size_t j = 0; j < r->len; j++)
            p->e[r->edge[j]].left -= b;
        const struct pedge *first = &p->e[r->edge[0]];
        r->gbps = b;
        r->share = (double)first->conns * b / first->gbps;
        nroutes++;
    }
    if (!nroutes) {
        skyc_fail(err, rc, "%s: the plan moves nothing from %s to %s (no "
                  "edges with flow join them)", name, src, dst);
        goto out;
    }
    apportion(routes, nroutes, max_conns);
    /* map regions to addresses; a region with k addresses splits the
     * route into k sub-paths, hop i of sub-path j on address j mod k */
    paths = xcalloc(nroutes * MAX_ADDRS, sizeof(*paths));
    for (size_t i = 0; i < nroutes; i++) {
        struct route *r = &routes[i];
        int regs[MAX_ADDRS + 1];
        size_t nregs = 0, k = 1;
        if (p->naddr[0])
            regs[nregs++] = 0;
        for (size_t j = 0; j < r->len; j++)
            regs[nregs++] = p->e[r->edge[j]].to;
        for (size_t j = 0; j < nregs; j++) {
            int g = regs[j];
            if (!p->naddr[g]) {
                struct strbuf sb = STRBUF_INIT;
                strbuf_addstr(&sb, src);
                for (size_t q = 0; q < r->len; q++)
                    strbuf_addf(&sb, " -> %s", p->region[p->e[r->edge[q]].to]);
                skyc_fail(err, SKYC_E_USAGE,
                          "%s: no gateway address for %s (%s on the path "
                          "%s); add --gateway %s=HOST:PORT",
                          name, p->region[g], g == 1 ? "the destination"
                                                     : "a relay",
                          sb.buf, p->region[g]);
                strbuf_release(&sb);
                rc = SKYC_E_USAGE;
                goto out;
            }
            if (p->naddr[g] > k)
                k = p->naddr[g];
        }
        if (k > (size_t)r->conns)
            k = (size_t)r->conns;
        for (size_t s = 0; s < k; s++) {
            struct sender_path *sp = &paths[n++];
            sp->hops = xcalloc(nregs, sizeof(char *));
            for (size_t j = 0; j < nregs; j++)
                sp->hops[sp->nhops++] =
                    xstrdup(p->addr[regs[j]][s % p->naddr[regs[j]]]);
            sp->conns = r->conns / (int)k + ((int)s < r->conns % (int)k ? 1 : 0);
        }
    }
    *out = paths;
    *nout = n;
    paths = NULL;
    n = 0;
    rc = SKYC_OK;
out:
    copy_paths_free(paths, n);
    for (size_t i = 0; i < MAX_REGIONS; i++)
        for (size_t j = 0; j < p->naddr[i]; j++)
            free(p->addr[i][j]);
    free(p);
    return rc;
}

static enum skyc_err from_paths(const char *name, json_t *root,
                                struct sender_path **out, size_t *nout,
                                struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    struct sender_path *paths = NULL;
    size_t n = 0;
    json_t *ps = json_object_get(root, "paths");
    if (!json_is_array(ps) || json_array_size(ps) == 0 ||
        json_array_size(ps) > 256) {
        skyc_fail(err, rc, "%s: want the output of `skyc transfer plan ... "
                  "--json`, or {\"paths\": [{\"hops\": [\"HOST:PORT\", "
                  "...], \"connections\": N}, ...]}", name);
        goto out;
    }
    paths = xcalloc(json_array_size(ps), sizeof(*paths));
    for (size_t i = 0; i < json_array_size(ps); i++) {
        json_t *p = json_array_get(ps, i);
        json_t *hops = json_object_get(p, "hops");
        json_t *conns = json_object_get(p, "connections");
        if (!json_is_array(hops) || json_array_size(hops) == 0 ||
            json_array_size(hops) > 16) {
            skyc_fail(err, rc, "%s: paths[%zu].hops must list 1 to 16 "
                      "gateway addresses", name, i);
            goto out;
        }
        struct sender_path *sp = &paths[n++];
        sp->hops = xcalloc(json_array_size(hops), sizeof(char *));
        for (size_t j = 0; j < json_array_size(hops); j++) {
            const char *h = json_string_value(json_array_get(hops, j));
            if (!h) {
                skyc_fail(err, rc, "%s: paths[%zu].hops[%zu] is not a "
                          "string", name, i, j);
                goto out;
            }
            sp->hops[sp->nhops++] = xstrdup(h);
        }
        json_t *kt = json_object_get(p, "key_to");
        if (kt && !json_is_string(kt)) {
            skyc_fail(err, rc, "%s: paths[%zu].key_to must be \"HOST:PORT\"",
                      name, i);
            goto out;
        }
        if (kt)
            sp->key_to = xstrdup(json_string_value(kt));
        sp->conns = 8;
        if (conns) {
            if (!json_is_integer(conns) || json_integer_value(conns) < 1 ||
                json_integer_value(conns) > 64) {
                skyc_fail(err, rc, "%s: paths[%zu].connections must be an "
                          "integer from 1 to 64", name, i);
                goto out;
            }
            sp->conns = (int)json_integer_value(conns);
        }
    }
    *out = paths;
    *nout = n;
    paths = NULL;
    n = 0;
    rc = SKYC_OK;
out:
    copy_paths_free(paths, n);
    return rc;
}

enum skyc_err copy_plan_parse(const char *name, const char *text, size_t len,
                              const char *const *gateways, size_t ngateways,
                              int max_conns, struct sender_path **out,
                              size_t *nout, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_INPUT;
    json_error_t je;
    *out = NULL;
    *nout = 0;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root) {
        skyc_fail(err, rc, "%s:%d:%d: %s", name, je.line, je.column, je.text);
        goto out;
    }
    if (json_object_get(root, "pareto")) {
        skyc_fail(err, rc, "%s: a Pareto curve, not one plan; re-run `skyc "
                  "transfer plan` with --tput or --max-cost", name);
        goto out;
    }
    if (json_object_get(root, "plan")) {
        rc = from_planner(name, root, gateways, ngateways,
                          max_conns > 0 ? max_conns : COPY_PLAN_MAX_CONNS,
                          out, nout, err);
        goto out;
    }
    if (ngateways) {
        skyc_fail(err, SKYC_E_USAGE, "%s: --gateway maps a planner plan's "
                  "regions; this plan lists its hops itself", name);
        rc = SKYC_E_USAGE;
        goto out;
    }
    rc = from_paths(name, root, out, nout, err);
out:
    json_decref(root);
    return rc;
}

enum skyc_err copy_plan_load(const char *file, const char *const *gateways,
                             size_t ngateways, int max_conns,
                             struct sender_path **out, size_t *nout,
                             struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    enum skyc_err rc;
    *out = NULL;
    *nout = 0;
    if (strbuf_read_file(&sb, file) != 0)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "cannot read plan %s: %s",
                       file, strerror(errno));
    else
        rc = copy_plan_parse(file, sb.buf, sb.len, gateways, ngateways,
                             max_conns, out, nout, err);
    strbuf_release(&sb);
    return rc;
}
