/*
 * task.c - loading a task YAML file into a DAG: documents, edges (a chain or
 * depends_on), and the topological order. Fields live in task_fields.c and
 * task_resources.c; libyaml helpers in task_yaml.c.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/strbuf.h"
#include "core/suggest.h"
#include "task/task.h"
#include "task/task_parse.h"

struct loader {
    struct task_dag *dag;
    struct task_side *side; /* parallel to dag->tasks */
    size_t alloc;
    bool any_depends;
    struct skyc_error *err;
};

static void side_release(struct loader *l)
{
    for (size_t i = 0; i < l->dag->ntasks; i++)
        free(l->side[i].dep_marks);
    free(l->side);
    l->side = NULL;
}

void task_dag_release(struct task_dag *dag)
{
    if (!dag)
        return;
    for (size_t i = 0; i < dag->ntasks; i++)
        task_release(&dag->tasks[i]);
    free(dag->tasks);
    free(dag->edges);
    free(dag->path);
    memset(dag, 0, sizeof(*dag));
}

static enum skyc_err fail_at(struct loader *l, struct task_mark m,
                             const char *fmt, ...) SKYC_PRINTF(3, 4);
static enum skyc_err fail_at(struct loader *l, struct task_mark m,
                             const char *fmt, ...)
{
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return skyc_fail(l->err, SKYC_E_INPUT, "%s:%u:%u: %s", l->dag->path,
                     m.line, m.col, what);
}

static ssize_t find_task(const struct task_dag *dag, const char *name)
{
    for (size_t i = 0; i < dag->ntasks; i++)
        if (dag->tasks[i].name && !strcmp(dag->tasks[i].name, name))
            return (ssize_t)i;
    return -1;
}

/* Parse one loaded document and append its task. */
static enum skyc_err add_document(struct loader *l, yaml_document_t *doc,
                                  size_t *visits)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    struct yctx c = {l->dag->path, doc, l->err, *visits};
    if (y_is_null(root))
        return SKYC_OK; /* an empty "---" document */
    ALLOC_GROW(l->dag->tasks, l->dag->ntasks + 1, l->alloc);
    l->side = xreallocarray(l->side, l->alloc, sizeof(*l->side));
    struct task *t = &l->dag->tasks[l->dag->ntasks];
    struct task_side *side = &l->side[l->dag->ntasks];
    memset(t, 0, sizeof(*t));
    memset(side, 0, sizeof(*side));
    l->dag->ntasks++;
    enum skyc_err rc = task_parse(&c, root, t, side);
    *visits = c.visits;
    if (rc)
        return rc;
    if (t->name) {
        size_t self = l->dag->ntasks - 1;
        for (size_t i = 0; i < self; i++)
            if (l->dag->tasks[i].name && !strcmp(l->dag->tasks[i].name,
                                                 t->name))
                return fail_at(l, side->name_mark,
                               "name: duplicate task name '%s' (first at "
                               "%u:%u)",
                               t->name, l->side[i].name_mark.line,
                               l->side[i].name_mark.col);
    }
    if (t->ndepends_on)
        l->any_depends = true;
    return SKYC_OK;
}

static void add_edge(struct task_dag *dag, size_t *alloc, size_t from,
                     size_t to)
{
    for (size_t i = 0; i < dag->nedges; i++)
        if (dag->edges[i].from == from && dag->edges[i].to == to)
            return;
    ALLOC_GROW(dag->edges, dag->nedges + 1, *alloc);
    dag->edges[dag->nedges].from = from;
    dag->edges[dag->nedges].to = to;
    dag->nedges++;
}

/* Edges from depends_on, with did-you-mean for unknown names. */
static enum skyc_err resolve_depends(struct loader *l)
{
    struct task_dag *dag = l->dag;
    size_t alloc = 0;
    const char **names = xcalloc(dag->ntasks + 1, sizeof(*names));
    size_t nnames = 0;
    enum skyc_err rc = SKYC_OK;
    for (size_t i = 0; i < dag->ntasks; i++)
        if (dag->tasks[i].name)
            names[nnames++] = dag->tasks[i].name;
    for (size_t i = 0; i < dag->ntasks && !rc; i++) {
        const struct task *t = &dag->tasks[i];
        for (size_t j = 0; j < t->ndepends_on && !rc; j++) {
            const char *want = t->depends_on[j];
            struct task_mark m = l->side[i].dep_marks[j];
            ssize_t from = find_task(dag, want);
            if (from < 0) {
                const char *near = suggest_nearest(want, names);
                if (near)
                    rc = fail_at(l, m, "depends_on: no task named '%s' (did "
                                       "you mean '%s'?)",
                                 want, near);
                else
                    rc = fail_at(l, m, "depends_on: no task named '%s'",
                                 want);
            } else if ((size_t)from == i) {
                rc = fail_at(l, m, "depends_on: cycle %s -> %s", want, want);
            } else {
                add_edge(dag, &alloc, (size_t)from, i);
            }
        }
    }
    free(names);
    return rc;
}

/* Report one cycle among the tasks not yet ordered (done[i] == false). */
static enum skyc_err report_cycle(struct loader *l, const bool *done)
{
    struct task_dag *dag = l->dag;
    size_t n = dag->ntasks;
    size_t *next = xcalloc(n, sizeof(*next)); /* a remaining predecessor */
    size_t *seen = xcalloc(n, sizeof(*seen)); /* step first visited + 1 */
    size_t start = 0;
    while (done[start])
        start++;
    for (size_t e = 0; e < dag->nedges; e++)
        if (!done[dag->edges[e].from] && !done[dag->edges[e].to])
            next[dag->edges[e].to] = dag->edges[e].from;
    /* every remaining task has a remaining predecessor: walk back */
    size_t cur = start, step = 1;
    while (!seen[cur]) {
        seen[cur] = step++;
        cur = next[cur];
    }
    /* cur starts the cycle; walking predecessors lists it backwards */
    size_t *cyc = xcalloc(n + 1, sizeof(*cyc));
    size_t len = 0, x = cur;
    do {
        cyc[len++] = x;
        x = next[x];
    } while (x != cur);
    /* print forwards, starting at the task written first */
    size_t first = 0;
    for (size_t k = 1; k < len; k++)
        if (cyc[len - 1 - k] < cyc[len - 1 - first])
            first = k;
    struct strbuf sb = STRBUF_INIT;
    char buf[32];
    for (size_t k = 0; k <= len; k++) {
        size_t idx = cyc[len - 1 - (first + k) % len];
        strbuf_addf(&sb, "%s%s", k ? " -> " : "",
                    task_display_name(dag, idx, buf, sizeof(buf)));
    }
    enum skyc_err rc = fail_at(l, dag->tasks[cyc[len - 1 - first]].mark,
                               "depends_on: cycle %s", sb.buf);
    strbuf_release(&sb);
    free(cyc);
    free(seen);
    free(next);
    return rc;
}

/* Reorder tasks so that every edge goes forward; stable otherwise. */
static enum skyc_err topo_sort(struct loader *l)
{
    struct task_dag *dag = l->dag;
    size_t n = dag->ntasks;
    enum skyc_err rc = SKYC_OK;
    bool *done = xcalloc(n ? n : 1, sizeof(*done));
    size_t *indeg = xcalloc(n ? n : 1, sizeof(*indeg));
    size_t *order = xcalloc(n ? n : 1, sizeof(*order));
    size_t *pos = xcalloc(n ? n : 1, sizeof(*pos));
    for (size_t e = 0; e < dag->nedges; e++)
        indeg[dag->edges[e].to]++;
    for (size_t k = 0; k < n; k++) {
        size_t pick = n;
        for (size_t i = 0; i < n && pick == n; i++)
            if (!done[i] && !indeg[i])
                pick = i;
        if (pick == n) {
            rc = report_cycle(l, done);
            goto out;
        }
        done[pick] = true;
        order[k] = pick;
        pos[pick] = k;
        for (size_t e = 0; e < dag->nedges; e++)
            if (dag->edges[e].from == pick)
                indeg[dag->edges[e].to]--;
    }
    struct task *sorted = xcalloc(n ? n : 1, sizeof(*sorted));
    struct task_side *sside = xcalloc(n ? n : 1, sizeof(*sside));
    for (size_t k = 0; k < n; k++) {
        sorted[k] = dag->tasks[order[k]];
        sside[k] = l->side[order[k]];
    }
    free(dag->tasks);
    free(l->side);
    dag->tasks = sorted;
    l->side = sside;
    for (size_t e = 0; e < dag->nedges; e++) {
        dag->edges[e].from = pos[dag->edges[e].from];
        dag->edges[e].to = pos[dag->edges[e].to];
    }
    /* edges sorted by (from, to) for stable output */
    for (size_t i = 1; i < dag->nedges; i++) {
        struct task_edge e = dag->edges[i];
        size_t j = i;
        while (j > 0 && (dag->edges[j - 1].from > e.from ||
                         (dag->edges[j - 1].from == e.from &&
                          dag->edges[j - 1].to > e.to))) {
            dag->edges[j] = dag->edges[j - 1];
            j--;
        }
        dag->edges[j] = e;
    }
out:
    free(pos);
    free(order);
    free(indeg);
    free(done);
    return rc;
}

static enum skyc_err build_edges(struct loader *l)
{
    struct task_dag *dag = l->dag;
    if (!l->any_depends) {
        size_t alloc = 0;
        for (size_t i = 0; i + 1 < dag->ntasks; i++)
            add_edge(dag, &alloc, i, i + 1);
        return SKYC_OK;
    }
    if (resolve_depends(l))
        return SKYC_E_INPUT;
    return topo_sort(l);
}

static enum skyc_err load(struct task_dag *dag, const char *text, size_t len,
                          const char *name, struct skyc_error *err)
{
    struct loader l = {dag, NULL, 0, false, err};
    yaml_parser_t parser;
    enum skyc_err rc = SKYC_E_INPUT;
    size_t visits = 0;
    bool parser_ready = false;
    dag->path = xstrdup(name);
    if (y_prescan(text, len, name, err))
        goto out;
    if (!yaml_parser_initialize(&parser)) {
        rc = skyc_fail(err, SKYC_E_INTERNAL, "cannot initialise libyaml");
        goto out;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_document_t doc;
        if (!yaml_parser_load(&parser, &doc)) {
            y_parser_fail(&parser, name, text, len, err);
            goto out;
        }
        if (!yaml_document_get_root_node(&doc)) { /* end of the stream */
            yaml_document_delete(&doc);
            break;
        }
        enum skyc_err drc = add_document(&l, &doc, &visits);
        yaml_document_delete(&doc);
        if (drc)
            goto out;
    }
    if (!dag->ntasks) {
        skyc_fail(err, SKYC_E_INPUT, "%s:1:1: no task in the file (it is "
                                     "empty or has only empty documents)",
                  name);
        goto out;
    }
    if (build_edges(&l))
        goto out;
    rc = SKYC_OK;
out:
    if (parser_ready)
        yaml_parser_delete(&parser);
    side_release(&l);
    if (rc)
        task_dag_release(dag);
    return rc;
}

enum skyc_err task_dag_load_string(struct task_dag *dag, const char *text,
                                   size_t len, const char *name,
                                   struct skyc_error *err)
{
    struct skyc_error local = {0};
    memset(dag, 0, sizeof(*dag));
    enum skyc_err rc = load(dag, text, len, name ? name : "<string>",
                            err ? err : &local);
    return rc;
}

enum skyc_err task_dag_load_file(struct task_dag *dag, const char *path,
                                 struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    memset(dag, 0, sizeof(*dag));
    if (strbuf_read_file(&sb, path) < 0) {
        int e = errno;
        strbuf_release(&sb);
        return skyc_fail(err, e == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                         "cannot read task file '%s' (%s)", path,
                         strerror(e));
    }
    enum skyc_err rc = task_dag_load_string(dag, sb.buf, sb.len, path, err);
    strbuf_release(&sb);
    return rc;
}

const char *task_display_name(const struct task_dag *dag, size_t i,
                              char *buf, size_t size)
{
    if (i < dag->ntasks && dag->tasks[i].name)
        return dag->tasks[i].name;
    snprintf(buf, size, "task-%zu", i);
    return buf;
}

double task_output_gb(const struct task *t)
{
    double sum = 0;
    for (size_t i = 0; i < t->noutputs; i++)
        sum += t->outputs[i].gb;
    return sum;
}
