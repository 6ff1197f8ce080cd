/*
 * ssh.c - the ssh provider behind provider.h (see ssh.h): a pool of
 * existing hosts, the system ssh for commands and rsync for files.
 *
 * Local state under the state dir (default $XDG_STATE_HOME/skyc/ssh):
 *   claims/<host name>   id=, dir=, state= of the node using the host
 *   procs/<node id>/     spawn records of the local ssh clients
 *                        (sim_spawn.h) and <pid>.tag naming the remote pid
 *                        file
 *   known_hosts          host keys seen (accept-new)
 * On the host, <dir> = <workdir_root>/<cluster>-<rank> holds work/ (the
 * node's workdir) and procs/<tag>.pid (process groups started there).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "provision/sim_spawn.h"
#include "provision/ssh.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

struct ssh_ctx {
    struct ssh_config cfg;
    char *dir, *claims, *procs, *known_hosts, *control_dir;
};

struct claim {
    char id[256], dir[2048], state[32];
};

struct argv {
    char **v;
    size_t n, alloc;
};

static void argv_push(struct argv *a, const char *s)
{
    ALLOC_GROW(a->v, a->n + 2, a->alloc);
    a->v[a->n++] = xstrdup(s);
    a->v[a->n] = NULL;
}

static void argv_release(struct argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static const struct ssh_host *host_by_name(const struct ssh_ctx *c,
                                           const char *name)
{
    for (size_t i = 0; i < c->cfg.nhosts; i++)
        if (!strcmp(c->cfg.hosts[i].name, name))
            return &c->cfg.hosts[i];
    return NULL;
}

/* The host of a node id "<cluster>-<rank>@<host name>". */
static const struct ssh_host *host_of(const struct ssh_ctx *c, const char *id)
{
    const char *at = id ? strrchr(id, '@') : NULL;
    return at ? host_by_name(c, at + 1) : NULL;
}

static char *expand_local(const char *path)
{
    if (path[0] == '~' && (path[1] == '/' || !path[1])) {
        const char *home = getenv("HOME");
        return xasprintf("%s%s", home ? home : "", path + 1);
    }
    return xstrdup(path);
}

/* ssh options shared by ssh and rsync -e, without the program name. */
static void ssh_opts(const struct ssh_ctx *c, const struct ssh_host *h,
                     struct argv *a)
{
    char buf[4200];
    argv_push(a, "-o");
    argv_push(a, "BatchMode=yes");
    argv_push(a, "-o");
    argv_push(a, "StrictHostKeyChecking=accept-new");
    argv_push(a, "-o");
    snprintf(buf, sizeof(buf), "UserKnownHostsFile=%s", c->known_hosts);
    argv_push(a, buf);
    argv_push(a, "-o");
    snprintf(buf, sizeof(buf), "ConnectTimeout=%ld", c->cfg.connect_timeout);
    argv_push(a, buf);
    argv_push(a, "-o");
    argv_push(a, "LogLevel=ERROR");
    argv_push(a, "-o");
    argv_push(a, "ServerAliveInterval=15");
    /* One connection per host, reused for a minute: each command after the
     * first skips the key exchange. Unix socket paths are short. */
    if (strlen(c->control_dir) + 45 < 104) {
        argv_push(a, "-o");
        argv_push(a, "ControlMaster=auto");
        argv_push(a, "-o");
        snprintf(buf, sizeof(buf), "ControlPath=%s/%%C", c->control_dir);
        argv_push(a, buf);
        argv_push(a, "-o");
        argv_push(a, "ControlPersist=60");
    }
    for (size_t i = 0; i < c->cfg.noptions; i++) {
        argv_push(a, "-o");
        argv_push(a, c->cfg.options[i]);
    }
    if (h->port) {
        snprintf(buf, sizeof(buf), "%ld", h->port);
        argv_push(a, "-p");
        argv_push(a, buf);
    }
    if (h->identity_file) {
        char *id = expand_local(h->identity_file);
        argv_push(a, "-i");
        argv_push(a, id);
        free(id);
    }
    if (h->user) {
        argv_push(a, "-l");
        argv_push(a, h->user);
    }
}

static void ssh_argv(const struct ssh_ctx *c, const struct ssh_host *h,
                     const char *script, struct argv *a)
{
    argv_push(a, "ssh");
    ssh_opts(c, h, a);
    argv_push(a, h->host);
    argv_push(a, script);
}

/* Classify a failed ssh run (exit 255) by ssh's own words. */
static enum skyc_err ssh_failure(const struct ssh_host *h, int code,
                                 struct strbuf *out, const char *doing,
                                 struct skyc_error *err)
{
    while (out->len && (out->buf[out->len - 1] == '\n' ||
                        out->buf[out->len - 1] == '\r'))
        strbuf_setlen(out, out->len - 1);
    const char *o = out->buf;
    enum skyc_err code_class = SKYC_E_FAILED;
    const char *what = "failed";
    if (code == 124) {
        code_class = SKYC_E_NETWORK;
        what = "did not answer in time";
    } else if (code == 255 && (strstr(o, "Permission denied") ||
                               strstr(o, "Host key verification failed") ||
                               strstr(o, "Too many authentication"))) {
        code_class = SKYC_E_AUTH;
        what = "rejected the login";
    } else if (code == 255 && strstr(o, "Connection refused")) {
        code_class = SKYC_E_NETWORK;
        what = "refused the SSH connection";
    } else if (code == 255) {
        code_class = SKYC_E_NETWORK;
        what = "could not be reached over SSH";
    }
    const char *nl = strrchr(o, '\n');
    char addr[300];
    if (h->port)
        snprintf(addr, sizeof(addr), "%s:%ld", h->host, h->port);
    else
        snprintf(addr, sizeof(addr), "%s", h->host);
    return skyc_fail(err, code_class,
                     "ssh: host '%s' (%s) %s while %s (exit %d): %s%s",
                     h->name, addr, what, doing, code, nl ? nl + 1 : o,
                     code_class == SKYC_E_AUTH
                         ? " (check user and identity_file in the ssh config)"
                         : "");
}

/* Run a script on the host; *code its exit code (255 = ssh failed). */
static enum skyc_err remote(const struct ssh_ctx *c, const struct ssh_host *h,
                            const char *script, struct strbuf *out, int *code,
                            struct skyc_error *err)
{
    struct argv a = {0};
    ssh_argv(c, h, script, &a);
    enum skyc_err rc = run_capture((const char *const *)a.v, out, code,
                                   (double)c->cfg.connect_timeout + 60, err);
    argv_release(&a);
    return rc;
}

/* ---- claims ---------------------------------------------------------------- */

static char *claim_path(const struct ssh_ctx *c, const struct ssh_host *h)
{
    return path_join(c->claims, h->name);
}

static bool claim_read(const struct ssh_ctx *c, const struct ssh_host *h,
                       struct claim *cl)
{
    char *path = claim_path(c, h);
    struct strbuf sb = STRBUF_INIT;
    bool ok = strbuf_read_file(&sb, path) == 0;
    memset(cl, 0, sizeof(*cl));
    for (char *line = sb.buf; ok && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        if (!strncmp(line, "id=", 3))
            snprintf(cl->id, sizeof(cl->id), "%s", line + 3);
        else if (!strncmp(line, "dir=", 4))
            snprintf(cl->dir, sizeof(cl->dir), "%s", line + 4);
        else if (!strncmp(line, "state=", 6))
            snprintf(cl->state, sizeof(cl->state), "%s", line + 6);
        if (!nl)
            break;
        line = nl + 1;
    }
    strbuf_release(&sb);
    free(path);
    return ok;
}

static int claim_write(const struct ssh_ctx *c, const struct ssh_host *h,
                       const struct claim *cl, bool exclusive)
{
    char *path = claim_path(c, h);
    char *tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
    int rc = -1;
    if (exclusive) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
            goto out;
        close(fd);
    }
    FILE *f = fopen(tmp, "w");
    if (!f)
        goto out;
    fprintf(f, "id=%s\ndir=%s\nstate=%s\n", cl->id, cl->dir, cl->state);
    if (fclose(f) == 0 && rename(tmp, path) == 0)
        rc = 0;
out:
    unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

static void claim_drop(const struct ssh_ctx *c, const struct ssh_host *h)
{
    char *path = claim_path(c, h);
    unlink(path);
    free(path);
}

/* The claim of a node, when the node still holds its host. */
static bool node_claim(const struct ssh_ctx *c, const char *id,
                       const struct ssh_host **h, struct claim *cl)
{
    *h = host_of(c, id);
    return *h && claim_read(c, *h, cl) && !strcmp(cl->id, id);
}

/* ---- remote scripts -------------------------------------------------------- */

/* A remote path for the shell: "~/x" -> "$HOME"/'x', else quoted. */
static void remote_path(struct strbuf *sb, const char *path)
{
    if (path[0] == '~' && (path[1] == '/' || !path[1])) {
        strbuf_addstr(sb, "\"$HOME\"");
        if (path[1])
            shell_quote(sb, path + 1);
    } else
        shell_quote(sb, path);
}

/* Kill every process group recorded under the remote node dir. */
static void kill_script(struct strbuf *sb, const char *dir, int signo)
{
    strbuf_addstr(sb, "for f in ");
    shell_quote(sb, dir);
    strbuf_addf(sb, "/procs/*.pid; do [ -f \"$f\" ] && "
                    "kill -%d -- -\"$(cat \"$f\")\" 2>/dev/null; done; ",
                signo);
}

static void cleanup_remote(const struct ssh_ctx *c, const struct ssh_host *h,
                           const char *dir)
{
    if (!*dir)
        return;
    struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
    int code;
    kill_script(&sb, dir, SIGKILL);
    strbuf_addstr(&sb, "rm -rf ");
    shell_quote(&sb, dir);
    remote(c, h, sb.buf, &out, &code, NULL);
    strbuf_release(&sb);
    strbuf_release(&out);
}

/* ---- provider ops ---------------------------------------------------------- */

static bool fits(const struct ssh_host *h, const struct provider_request *r)
{
    if (r->region && (!h->region || strcmp(h->region, r->region)))
        return false;
    if (r->instance_type && strcmp(r->instance_type, h->name))
        return false;
    if (r->cpus > 0 && h->cpus > 0 && h->cpus + 1e-9 < r->cpus)
        return false;
    if (r->gpus > 0 && h->gpus + 1e-9 < r->gpus)
        return false;
    if (r->accelerator &&
        (!h->accelerator || strcasecmp(h->accelerator, r->accelerator)))
        return false;
    return true;
}

static bool valid_cluster(const char *s)
{
    if (!s || !*s || strlen(s) > 63 || s[0] == '.' || s[0] == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

static enum skyc_err ssh_terminate(struct provider *p,
                                   struct provider_node *node,
                                   struct skyc_error *err);

static enum skyc_err ssh_provision(struct provider *p,
                                   const struct provider_request *req,
                                   struct provider_node **out, size_t *nout,
                                   struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    enum skyc_err rc = SKYC_E_FAILED;
    struct provider_node *nodes = NULL;
    size_t made = 0, fit = 0;
    struct strbuf sb = STRBUF_INIT, outb = STRBUF_INIT;
    enum skyc_err host_rc = SKYC_OK; /* the first unreachable host's class */
    struct strbuf busy = STRBUF_INIT;
    size_t nbusy = 0;
    struct skyc_error host_err = {0};

    *out = NULL;
    *nout = 0;
    if (!valid_cluster(req->cluster)) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "ssh: bad cluster name '%s' (letters, digits, '-', "
                       "'_', '.'; at most 63)",
                       req->cluster ? req->cluster : "");
        goto out;
    }
    if (req->cloud && strcmp(req->cloud, "ssh")) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "ssh: cannot provision cloud '%s' (the ssh provider "
                       "serves cloud 'ssh')",
                       req->cloud);
        goto out;
    }
    if (req->num_nodes < 1) {
        rc = skyc_fail(err, SKYC_E_INPUT, "ssh: num_nodes must be >= 1");
        goto out;
    }
    nodes = xcalloc(req->num_nodes, sizeof(*nodes));
    for (size_t i = 0; i < c->cfg.nhosts && made < req->num_nodes; i++) {
        const struct ssh_host *h = &c->cfg.hosts[i];
        if (!fits(h, req))
            continue;
        fit++;
        struct claim cl;
        memset(&cl, 0, sizeof(cl));
        snprintf(cl.id, sizeof(cl.id), "%s-%zu@%s", req->cluster, made,
                 h->name);
        snprintf(cl.state, sizeof(cl.state), "pending");
        if (claim_write(c, h, &cl, true) < 0) { /* busy */
            struct claim other;
            if (nbusy++ < 3 && claim_read(c, h, &other))
                strbuf_addf(&busy, "%s%s by '%s'", nbusy > 1 ? ", " : "",
                            h->name, other.id);
            continue;
        }
        /* Make the node dir on the host; learn its absolute path. */
        strbuf_reset(&sb);
        strbuf_reset(&outb);
        strbuf_addstr(&sb, "d=");
        remote_path(&sb, h->workdir_root);
        strbuf_addf(&sb, "/%s-%zu && mkdir -p \"$d/work\" \"$d/procs\" && "
                         "cd \"$d\" && pwd",
                    req->cluster, made);
        int code;
        if ((rc = remote(c, h, sb.buf, &outb, &code, err))) {
            claim_drop(c, h);
            goto out;
        }
        if (code) {
            /* Unreachable or refusing: remember why, try the next host. */
            struct skyc_error he = {0};
            enum skyc_err hc = ssh_failure(h, code, &outb,
                                           "preparing the node", &he);
            claim_drop(c, h);
            if (!host_rc) {
                host_rc = hc;
                host_err = he;
            }
            continue;
        }
        strbuf_setlen(&outb, strcspn(outb.buf, "\r\n"));
        if (outb.buf[0] != '/') {
            rc = skyc_fail(err, SKYC_E_FAILED,
                           "ssh: host '%s' gave no node directory (got '%s')",
                           h->name, outb.buf);
            claim_drop(c, h);
            goto out;
        }
        snprintf(cl.dir, sizeof(cl.dir), "%s", outb.buf);
        snprintf(cl.state, sizeof(cl.state), "running");
        claim_write(c, h, &cl, false);
        struct provider_node *n = &nodes[made++];
        n->id = xstrdup(cl.id);
        n->ip = xstrdup(h->host);
        n->workdir = xasprintf("%s/work", cl.dir);
        n->region = h->region ? xstrdup(h->region) : NULL;
        n->zone = NULL;
        n->instance_type = xstrdup(h->name);
        n->spot = false;
        n->hourly_price = h->hourly_price;
        n->cpus = h->cpus;
        n->gpus = h->gpus;
        n->state = NODE_RUNNING;
    }
    if (made < req->num_nodes && host_rc) {
        rc = skyc_fail(err, host_rc, "%s (%zu of %zu node%s found)",
                       host_err.msg, made, req->num_nodes,
                       req->num_nodes == 1 ? "" : "s");
        goto out;
    }
    if (made < req->num_nodes) {
        rc = skyc_fail(err, SKYC_E_CAPACITY,
                       "ssh: %zu node%s asked, but only %zu of the %zu "
                       "fitting host%s (of %zu in %s) %s free%s%s%s%s",
                       req->num_nodes, req->num_nodes == 1 ? "" : "s", made,
                       fit, fit == 1 ? "" : "s", c->cfg.nhosts,
                       c->cfg.path ? c->cfg.path : "the ssh config",
                       made == 1 ? "is" : "are", nbusy ? " (in use: " : "",
                       busy.buf, nbusy > 3 ? ", ..." : "",
                       nbusy ? "; 'skyc down' frees them)" : "");
        goto out;
    }
    *out = nodes;
    *nout = made;
    nodes = NULL;
    rc = SKYC_OK;
out:
    if (nodes) {
        for (size_t i = 0; i < made; i++)
            ssh_terminate(p, &nodes[i], NULL);
        provider_nodes_free(nodes, req->num_nodes);
    }
    strbuf_release(&sb);
    strbuf_release(&outb);
    strbuf_release(&busy);
    return rc;
}

static enum skyc_err ssh_status(struct provider *p, struct provider_node *node,
                                struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    if (!node_claim(c, node->id, &h, &cl)) {
        node->state = NODE_TERMINATED;
        return SKYC_OK;
    }
    struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
    int code;
    strbuf_addstr(&sb, "test -d ");
    shell_quote(&sb, cl.dir);
    enum skyc_err rc = remote(c, h, sb.buf, &out, &code, err);
    if (!rc && code == 255)
        rc = ssh_failure(h, code, &out, "checking the node", err);
    else if (!rc)
        node->state = code ? NODE_TERMINATED
                      : !strcmp(cl.state, "stopped") ? NODE_STOPPED
                                                     : NODE_RUNNING;
    strbuf_release(&sb);
    strbuf_release(&out);
    return rc;
}

static enum skyc_err set_state(struct provider *p, struct provider_node *node,
                               bool stop, struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    if (!node_claim(c, node->id, &h, &cl))
        return skyc_fail(err, SKYC_E_NOT_FOUND, "ssh: no node '%s'",
                         node->id ? node->id : "");
    if (stop) {
        struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
        int code;
        kill_script(&sb, cl.dir, SIGKILL);
        strbuf_addstr(&sb, "true");
        enum skyc_err rc = remote(c, h, sb.buf, &out, &code, err);
        if (!rc && code)
            rc = ssh_failure(h, code, &out, "stopping the node", err);
        strbuf_release(&sb);
        strbuf_release(&out);
        if (rc)
            return rc;
    }
    snprintf(cl.state, sizeof(cl.state), "%s", stop ? "stopped" : "running");
    if (claim_write(c, h, &cl, false) < 0)
        return skyc_fail(err, SKYC_E_IO, "ssh: cannot update the claim of "
                                         "'%s': %s",
                         h->name, strerror(errno));
    node->state = stop ? NODE_STOPPED : NODE_RUNNING;
    return SKYC_OK;
}

/* The existing hosts cannot be powered off: stop kills the node's work. */
static enum skyc_err ssh_stop(struct provider *p, struct provider_node *node,
                              struct skyc_error *err)
{
    return set_state(p, node, true, err);
}

static enum skyc_err ssh_start(struct provider *p, struct provider_node *node,
                               struct skyc_error *err)
{
    return set_state(p, node, false, err);
}

static enum skyc_err ssh_terminate(struct provider *p,
                                   struct provider_node *node,
                                   struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    if (node_claim(c, node->id, &h, &cl)) {
        cleanup_remote(c, h, cl.dir);
        claim_drop(c, h);
    }
    if (node->id) {
        char *procs = path_join(c->procs, node->id);
        remove_tree(procs);
        free(procs);
    }
    node->state = NODE_TERMINATED;
    (void)err;
    return SKYC_OK;
}

/* Free every host a claim of this cluster holds, pending ones included. */
static enum skyc_err ssh_terminate_cluster(struct provider *p,
                                           const char *cluster,
                                           struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    size_t n = cluster ? strlen(cluster) : 0;
    for (size_t i = 0; n && i < c->cfg.nhosts; i++) {
        const struct ssh_host *h = &c->cfg.hosts[i];
        struct claim cl;
        if (!claim_read(c, h, &cl) || strncmp(cl.id, cluster, n) ||
            cl.id[n] != '-')
            continue;
        const char *q = cl.id + n + 1;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q == cl.id + n + 1 || *q != '@')
            continue;
        struct provider_node node = {.id = cl.id};
        ssh_terminate(p, &node, err);
    }
    return SKYC_OK;
}

static enum skyc_err need_running(struct ssh_ctx *c,
                                  const struct provider_node *node,
                                  const struct ssh_host **h, struct claim *cl,
                                  struct skyc_error *err)
{
    if (!node_claim(c, node->id, h, cl))
        return skyc_fail(err, SKYC_E_NOT_FOUND, "ssh: no node '%s'",
                         node->id ? node->id : "");
    if (strcmp(cl->state, "running"))
        return skyc_fail(err, SKYC_E_FAILED, "ssh: node '%s' is %s", node->id,
                         cl->state);
    return SKYC_OK;
}

static enum skyc_err ssh_run(struct provider *p,
                             const struct provider_node *node,
                             const char *const *argv, const char *const *env,
                             const char *cwd, const char *log_path,
                             struct provider_proc *proc,
                             struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    enum skyc_err rc;
    struct strbuf sb = STRBUF_INIT;
    struct argv a = {0};
    char *rec = NULL;
    memset(proc, 0, sizeof(*proc));
    if ((rc = need_running(c, node, &h, &cl, err)))
        goto out;
    if (!argv || !argv[0]) {
        rc = skyc_fail(err, SKYC_E_INTERNAL, "ssh: empty command");
        goto out;
    }
    char tag[40];
    snprintf(tag, sizeof(tag), "%lx%lx", (long)getpid(),
             (long)(clock_wall() * 1e6));
    /* cd; env; the command in its own session; record its pgid; wait. */
    strbuf_addstr(&sb, "cd ");
    shell_quote(&sb, cl.dir);
    strbuf_addstr(&sb, "/work || exit 126; ");
    if (cwd && *cwd) {
        strbuf_addstr(&sb, "cd ");
        remote_path(&sb, cwd);
        strbuf_addstr(&sb, " || exit 126; ");
    }
    for (size_t i = 0; env && env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        if (!eq || eq == env[i])
            continue;
        strbuf_addf(&sb, "export %.*s=", (int)(eq - env[i]), env[i]);
        shell_quote(&sb, eq + 1);
        strbuf_addstr(&sb, "; ");
    }
    strbuf_addstr(&sb, "setsid");
    for (size_t i = 0; argv[i]; i++) {
        strbuf_addch(&sb, ' ');
        shell_quote(&sb, argv[i]);
    }
    strbuf_addstr(&sb, " </dev/null & pid=$!; echo $pid > ");
    shell_quote(&sb, cl.dir);
    strbuf_addf(&sb, "/procs/%s.pid; wait $pid; rc=$?; rm -f ", tag);
    shell_quote(&sb, cl.dir);
    strbuf_addf(&sb, "/procs/%s.pid; exit $rc", tag);
    ssh_argv(c, h, sb.buf, &a);
    rec = path_join(c->procs, node->id);
    long pid;
    if ((rc = spawn_detached((const char *const *)a.v, NULL, NULL, log_path,
                             rec, &pid, err)))
        goto out;
    char *tagpath = xasprintf("%s/%ld.tag", rec, pid);
    FILE *f = fopen(tagpath, "w");
    if (f) {
        fprintf(f, "%s\n", tag);
        fclose(f);
    }
    free(tagpath);
    proc->pid = pid;
    proc->node_id = xstrdup(node->id);
out:
    strbuf_release(&sb);
    argv_release(&a);
    free(rec);
    return rc;
}

static enum skyc_err ssh_wait(struct provider *p,
                              const struct provider_proc *proc, int timeout_ms,
                              bool *done, int *exit_code,
                              struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    if (!proc->node_id)
        return skyc_fail(err, SKYC_E_NOT_FOUND, "ssh: bad process handle");
    char *rec = path_join(c->procs, proc->node_id);
    enum skyc_err rc = spawn_wait(rec, proc->pid, timeout_ms, done, exit_code,
                                  NULL, NULL, err);
    free(rec);
    return rc;
}

static enum skyc_err ssh_kill(struct provider *p,
                              const struct provider_proc *proc, int signo,
                              struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    enum skyc_err rc = SKYC_OK;
    if (!proc->node_id || !node_claim(c, proc->node_id, &h, &cl))
        return SKYC_OK; /* the node is gone, and its processes with it */
    char *tagpath = xasprintf("%s/%s/%ld.tag", c->procs, proc->node_id,
                              proc->pid);
    struct strbuf tag = STRBUF_INIT, sb = STRBUF_INIT, out = STRBUF_INIT;
    if (strbuf_read_file(&tag, tagpath) == 0) {
        strbuf_setlen(&tag, strcspn(tag.buf, "\r\n"));
        int code;
        strbuf_addstr(&sb, "f=");
        shell_quote(&sb, cl.dir);
        strbuf_addf(&sb, "/procs/%s.pid; [ -f \"$f\" ] || exit 0; "
                         "kill -%d -- -\"$(cat \"$f\")\" 2>/dev/null; exit 0",
                    tag.buf, signo);
        rc = remote(c, h, sb.buf, &out, &code, err);
        if (!rc && code)
            rc = ssh_failure(h, code, &out, "signalling a job", err);
    }
    strbuf_release(&tag);
    strbuf_release(&sb);
    strbuf_release(&out);
    free(tagpath);
    return rc;
}

/* A node path as rsync's remote side: relative to the workdir. */
static char *rsync_remote(const struct ssh_host *h, const struct claim *cl,
                          const char *path, bool dir)
{
    const char *p = path && *path ? path : "";
    char *where;
    if (p[0] == '~' && (p[1] == '/' || !p[1]))
        where = xstrdup(p[1] ? p + 2 : ""); /* rsync: relative = home */
    else if (p[0] == '/')
        where = xstrdup(p);
    else
        where = *p ? xasprintf("%s/work/%s", cl->dir, p)
                   : xasprintf("%s/work", cl->dir);
    char *r = xasprintf("%s%s%s:%s%s", h->user ? h->user : "",
                        h->user ? "@" : "", h->host, where,
                        dir && *where ? "/" : "");
    free(where);
    return r;
}

static enum skyc_err rsync_run(const struct ssh_ctx *c,
                               const struct ssh_host *h, const char *src,
                               const char *dst, struct skyc_error *err)
{
    struct argv opts = {0}, a = {0};
    struct strbuf e = STRBUF_INIT, out = STRBUF_INIT;
    enum skyc_err rc;
    ssh_opts(c, h, &opts);
    strbuf_addstr(&e, "ssh");
    for (size_t i = 0; i < opts.n; i++) {
        strbuf_addch(&e, ' ');
        shell_quote(&e, opts.v[i]);
    }
    argv_push(&a, "rsync");
    argv_push(&a, "-a");
    argv_push(&a, "--mkpath");
    argv_push(&a, "-e");
    argv_push(&a, e.buf);
    argv_push(&a, src);
    argv_push(&a, dst);
    int code;
    rc = run_capture((const char *const *)a.v, &out, &code, 3600, err);
    if (!rc && code) {
        while (out.len && out.buf[out.len - 1] == '\n')
            strbuf_setlen(&out, out.len - 1);
        const char *first = out.buf;
        rc = skyc_fail(err, code == 255 || code == 12 ? SKYC_E_NETWORK
                                                      : SKYC_E_IO,
                       "ssh: rsync '%s' to '%s' on host '%s' failed (exit "
                       "%d): %.300s",
                       src, dst, h->name, code, first);
    }
    argv_release(&opts);
    argv_release(&a);
    strbuf_release(&e);
    strbuf_release(&out);
    return rc;
}

static enum skyc_err ssh_copy_to(struct provider *p,
                                 const struct provider_node *node,
                                 const char *local_path, const char *npath,
                                 struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    enum skyc_err rc;
    if ((rc = need_running(c, node, &h, &cl, err)))
        return rc;
    bool dir = path_is_dir(local_path);
    if (!dir && !path_is_file(local_path))
        return skyc_fail(err, SKYC_E_NOT_FOUND,
                         "no such file or directory '%s'", local_path);
    char *src = dir ? xasprintf("%s/", local_path) : xstrdup(local_path);
    char *dst = rsync_remote(h, &cl, npath, dir);
    rc = rsync_run(c, h, src, dst, err);
    free(src);
    free(dst);
    return rc;
}

static enum skyc_err ssh_copy_from(struct provider *p,
                                   const struct provider_node *node,
                                   const char *npath, const char *local_path,
                                   struct skyc_error *err)
{
    struct ssh_ctx *c = p->ctx;
    const struct ssh_host *h;
    struct claim cl;
    enum skyc_err rc;
    if ((rc = need_running(c, node, &h, &cl, err)))
        return rc;
    /* A trailing '/' on the node path copies a directory's contents. */
    char *src = rsync_remote(h, &cl, npath, false);
    rc = rsync_run(c, h, src, local_path, err);
    free(src);
    return rc;
}

static void ssh_release(struct provider *p)
{
    struct ssh_ctx *c = p->ctx;
    if (!c)
        return;
    ssh_config_release(&c->cfg);
    free(c->dir);
    free(c->claims);
    free(c->procs);
    free(c->known_hosts);
    free(c->control_dir);
    free(c);
    p->ctx = NULL;
}

static const struct provider_ops ssh_ops = {
    .name = "ssh",
    .provision = ssh_provision,
    .status = ssh_status,
    .status_remote = true,
    .stop = ssh_stop,
    .start = ssh_start,
    .terminate = ssh_terminate,
    .run = ssh_run,
    .wait = ssh_wait,
    .kill = ssh_kill,
    .copy_to = ssh_copy_to,
    .copy_from = ssh_copy_from,
    .terminate_cluster = ssh_terminate_cluster,
    .release = ssh_release,
};

enum skyc_err provider_ssh_open_with(struct provider *p,
                                     const struct ssh_options *opts,
                                     struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_FAILED;
    struct ssh_ctx *c = xcalloc(1, sizeof(*c));
    char *path = NULL;
    struct strbuf sb = STRBUF_INIT;
    memset(p, 0, sizeof(*p));
    ssh_config_init(&c->cfg);
    if (opts && opts->config_path)
        path = xstrdup(opts->config_path);
    else if (getenv("SKYC_SSH_CONFIG") && *getenv("SKYC_SSH_CONFIG"))
        path = xstrdup(getenv("SKYC_SSH_CONFIG"));
    else {
        char *cdir = path_config_dir();
        path = path_join(cdir, "ssh.yaml");
        free(cdir);
    }
    if (strbuf_read_file(&sb, path) < 0) {
        rc = skyc_fail(err, errno == ENOENT ? SKYC_E_NOT_FOUND : SKYC_E_IO,
                       "ssh: cannot read the host pool '%s': %s (write one "
                       "with a 'hosts:' list, see README)",
                       path, strerror(errno));
        goto out;
    }
    if ((rc = ssh_config_parse(path, sb.buf, sb.len, &c->cfg, err)))
        goto out;
    if (opts && opts->state_dir)
        c->dir = xstrdup(opts->state_dir);
    else {
        char *sdir = path_state_dir();
        c->dir = path_join(sdir, "ssh");
        free(sdir);
    }
    c->claims = path_join(c->dir, "claims");
    c->procs = path_join(c->dir, "procs");
    c->known_hosts = path_join(c->dir, "known_hosts");
    c->control_dir = path_join(c->dir, "cm");
    if (path_mkdir_p(c->claims, 0755) < 0 || path_mkdir_p(c->procs, 0755) < 0 ||
        path_mkdir_p(c->control_dir, 0700) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "ssh: cannot create '%s': %s", c->dir,
                       strerror(errno));
        goto out;
    }
    p->ops = &ssh_ops;
    p->ctx = c;
    c = NULL;
    rc = SKYC_OK;
out:
    if (c) {
        struct provider tmp = {&ssh_ops, c};
        ssh_release(&tmp);
    }
    free(path);
    strbuf_release(&sb);
    return rc;
}

enum skyc_err provider_ssh_open(struct provider *p, struct skyc_error *err)
{
    return provider_ssh_open_with(p, NULL, err);
}
