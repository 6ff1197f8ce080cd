/*
 * local.c - the `local` provider: nodes are sandbox directories on this
 * machine, under $XDG_STATE_HOME/skyc/sandboxes/<cluster>/node-<rank>/:
 *
 *     workdir/   the node's work directory (the task's workdir lands here)
 *     home/      $HOME of commands run on the node; "~/x" paths land here
 *     fs/        absolute node paths ("/data") land under here, so a task's
 *                file_mounts never write outside the sandbox
 *     pids/      one empty file per started process group, so terminate()
 *                and stop() can kill what still runs, even from another
 *                skyc process after a crash
 *     stopped    present while the node is stopped
 *
 * Node ids are "<cluster>/node-<rank>", ip 127.0.0.1, price 0. A node
 * offers this machine's CPUs and no GPUs, so a request for GPUs fails with
 * SKYC_E_CAPACITY (use the sim provider to rehearse GPU plans).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "provision/provider.h"
#include "provision/providers.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct local_ctx {
    char *root; /* .../sandboxes */
};

static char *node_dir(const struct local_ctx *c, const char *id)
{
    return path_join(c->root, id);
}

static int rm_rf(const char *path)
{
    return path_remove_tree(path);
}

static bool valid_cluster_name(const char *s)
{
    if (!s || !*s || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
            return false;
    return s[0] != '.';
}

/* Signal every recorded process group of the node; forget dead ones. */
static void kill_recorded(const char *dir, int signo)
{
    char *pids = path_join(dir, "pids");
    DIR *d = opendir(pids);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (*end || pid <= 1)
                continue;
            if (kill((pid_t)-pid, signo) && errno == ESRCH) {
                char *f = path_join(pids, e->d_name);
                unlink(f);
                free(f);
            }
        }
        closedir(d);
    }
    free(pids);
}

static bool any_recorded_alive(const char *dir)
{
    char *pids = path_join(dir, "pids");
    DIR *d = opendir(pids);
    bool alive = false;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) && !alive) {
            char *end;
            long pid = strtol(e->d_name, &end, 10);
            if (!*end && pid > 1 && !kill((pid_t)-pid, 0))
                alive = true;
        }
        closedir(d);
    }
    free(pids);
    return alive;
}

/* SIGTERM, up to 2 s grace, then SIGKILL. */
static void kill_all(const char *dir)
{
    kill_recorded(dir, SIGTERM);
    for (int i = 0; i < 200 && any_recorded_alive(dir); i++) {
        /* reap our own children so they stop counting as alive */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        usleep(10000);
    }
    kill_recorded(dir, SIGKILL);
}

static enum skyc_err local_terminate(struct provider *p,
                                     struct provider_node *node,
                                     struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    enum skyc_err rc = SKYC_OK;
    char *dir = node_dir(c, node->id);
    kill_all(dir);
    if (rm_rf(dir))
        rc = skyc_fail(err, SKYC_E_IO, "cannot remove sandbox '%s': %s", dir,
                       strerror(errno));
    else {
        /* drop the cluster's directory once its last node is gone */
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            rmdir(dir);
        }
        node->state = NODE_TERMINATED;
    }
    free(dir);
    return rc;
}

/* A sandbox for node id ("<cluster>/node-<rank>[.<generation>]"). */
static enum skyc_err make_node(struct local_ctx *c, char *id,
                               struct provider_node *n, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    n->id = id;
    char *dir = node_dir(c, n->id);
    static const char *const subdirs[] = {"workdir", "home", "fs", "pids"};
    rm_rf(dir); /* a leftover of a crashed launch */
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
        char *s = path_join(dir, subdirs[i]);
        int r = path_mkdir_p(s, 0700);
        int e = errno;
        free(s);
        if (r) {
            skyc_fail(err, SKYC_E_IO, "cannot create sandbox '%s': %s", dir,
                      strerror(e));
            goto out;
        }
    }
    n->ip = xstrdup("127.0.0.1");
    n->workdir = path_join(dir, "workdir");
    n->region = xstrdup("local");
    n->zone = xstrdup("local");
    n->instance_type = xstrdup("local");
    n->spot = false;
    n->hourly_price = 0;
    n->state = NODE_RUNNING;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    n->cpus = ncpu > 0 ? (double)ncpu : 1;
    n->gpus = 0;
    rc = SKYC_OK;
out:
    free(dir);
    return rc;
}

static enum skyc_err local_provision(struct provider *p,
                                     const struct provider_request *req,
                                     struct provider_node **nodes, size_t *n,
                                     struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    struct provider_node *out = NULL;
    size_t made = 0;
    enum skyc_err rc;
    *nodes = NULL;
    *n = 0;
    if (!valid_cluster_name(req->cluster)) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "invalid cluster name '%s' (use letters, digits, '-', "
                       "'_' and '.', at most 63)",
                       req->cluster ? req->cluster : "");
        goto out;
    }
    if (req->num_nodes < 1 || req->num_nodes > 64) {
        rc = skyc_fail(err, SKYC_E_CAPACITY,
                       "local gives 1 to 64 nodes, asked for %zu",
                       req->num_nodes);
        goto out;
    }
    if (req->gpus > 0 || req->accelerator) {
        rc = skyc_fail(err, SKYC_E_CAPACITY,
                       "this machine has no %s GPUs (rehearse GPU plans with "
                       "--provider sim)",
                       req->accelerator ? req->accelerator : "");
        goto out;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (req->cpus > (double)(ncpu > 0 ? ncpu : 1)) {
        rc = skyc_fail(err, SKYC_E_CAPACITY,
                       "this machine has %ld CPUs, the task needs %g per node",
                       ncpu, req->cpus);
        goto out;
    }
    out = xcalloc(req->num_nodes, sizeof(*out));
    for (made = 0; made < req->num_nodes; made++)
        if ((rc = make_node(c, xasprintf("%s/node-%zu", req->cluster, made),
                            &out[made], err))) {
            made++;
            goto out;
        }
    *nodes = out;
    *n = made;
    out = NULL;
    rc = SKYC_OK;
out:
    for (size_t i = 0; out && i < made; i++)
        local_terminate(p, &out[i], NULL);
    provider_nodes_free(out, made);
    return rc;
}

/*
 * provider.h add_node: a new sandbox for node `rank` of an existing
 * cluster, named node-<rank>.<generation> (a new id, never the lost one's;
 * terminate_cluster removes every node-* of the cluster).
 */
static enum skyc_err local_add_node(struct provider *p,
                                    const struct provider_request *req,
                                    long rank, struct provider_node *node,
                                    struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    memset(node, 0, sizeof(*node));
    if (!valid_cluster_name(req->cluster))
        return skyc_fail(err, SKYC_E_USAGE,
                         "invalid cluster name '%s' (use letters, digits, '-', "
                         "'_' and '.', at most 63)",
                         req->cluster ? req->cluster : "");
    if (rank < 0 || rank > 63)
        return skyc_fail(err, SKYC_E_CAPACITY,
                         "local gives nodes of rank 0 to 63, asked for %ld",
                         rank);
    if (req->gpus > 0 || req->accelerator)
        return skyc_fail(err, SKYC_E_CAPACITY, "this machine has no GPUs");
    char *id = NULL;
    for (int gen = 1; gen < 10000 && !id; gen++) {
        char *cand = xasprintf("%s/node-%ld.%d", req->cluster, rank, gen);
        char *dir = node_dir(c, cand);
        if (!path_is_dir(dir))
            id = cand;
        else
            free(cand);
        free(dir);
    }
    if (!id)
        return skyc_fail(err, SKYC_E_CAPACITY,
                         "no free sandbox name for node %ld of '%s'", rank,
                         req->cluster);
    enum skyc_err rc = make_node(c, id, node, err);
    if (rc) {
        local_terminate(p, node, NULL);
        provider_node_release(node);
    }
    return rc;
}

static char *marker(struct local_ctx *c, const char *id)
{
    char *dir = node_dir(c, id);
    char *m = path_join(dir, "stopped");
    free(dir);
    return m;
}

static enum skyc_err local_status(struct provider *p,
                                  struct provider_node *node,
                                  struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    char *dir = node_dir(c, node->id);
    char *m = marker(c, node->id);
    if (!path_is_dir(dir))
        node->state = NODE_TERMINATED;
    else
        node->state = access(m, F_OK) ? NODE_RUNNING : NODE_STOPPED;
    free(dir);
    free(m);
    return SKYC_OK;
}

static enum skyc_err local_stop(struct provider *p, struct provider_node *node,
                                struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    enum skyc_err rc = SKYC_OK;
    char *dir = node_dir(c, node->id);
    char *m = marker(c, node->id);
    if (!path_is_dir(dir)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "node '%s' no longer exists",
                       node->id);
        goto out;
    }
    kill_all(dir);
    int fd = open(m, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot stop '%s': %s", node->id,
                       strerror(errno));
        goto out;
    }
    close(fd);
    node->state = NODE_STOPPED;
out:
    free(dir);
    free(m);
    return rc;
}

static enum skyc_err local_start(struct provider *p, struct provider_node *node,
                                 struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    enum skyc_err rc = SKYC_OK;
    char *dir = node_dir(c, node->id);
    char *m = marker(c, node->id);
    if (!path_is_dir(dir))
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "node '%s' no longer exists (its sandbox '%s' is gone)",
                       node->id, dir);
    else {
        unlink(m);
        node->state = NODE_RUNNING;
    }
    free(dir);
    free(m);
    return rc;
}

static enum skyc_err local_run(struct provider *p,
                               const struct provider_node *node,
                               const char *const *argv, const char *const *env,
                               const char *cwd, const char *log_path,
                               struct provider_proc *proc,
                               struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    enum skyc_err rc = SKYC_OK;
    char *dir = node_dir(c, node->id);
    char *home = path_join(dir, "home");
    char *wd = !cwd || !*cwd ? xstrdup(node->workdir)
               : cwd[0] == '/'  ? xstrdup(cwd)
                                : path_join(node->workdir, cwd);
    memset(proc, 0, sizeof(*proc));
    if (!path_is_dir(dir)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "node '%s' no longer exists",
                       node->id);
        goto out;
    }
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                     0600);
    if (logfd < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot open log '%s': %s", log_path,
                       strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        rc = skyc_fail(err, SKYC_E_IO, "cannot start a process: %s",
                       strerror(errno));
        goto out;
    }
    if (pid == 0) {
        setpgid(0, 0);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        if (chdir(wd)) {
            dprintf(2, "skyc: error: cannot enter '%s': %s\n", wd,
                    strerror(errno));
            _exit(126);
        }
        setenv("HOME", home, 1);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "skyc: error: cannot run '%s': %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(logfd);
    char *pf = xasprintf("%s/pids/%ld", dir, (long)pid);
    int fd = open(pf, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    free(pf);
    proc->pid = pid;
    proc->node_id = xstrdup(node->id);
out:
    free(dir);
    free(home);
    free(wd);
    return rc;
}

static void forget_pid(struct local_ctx *c, const struct provider_proc *proc)
{
    char *pf = xasprintf("%s/%s/pids/%ld", c->root, proc->node_id, proc->pid);
    unlink(pf);
    free(pf);
}

static enum skyc_err local_wait(struct provider *p,
                                const struct provider_proc *proc,
                                int timeout_ms, bool *done, int *exit_code,
                                struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    *done = false;
    *exit_code = -1;
    for (;;) {
        int st;
        pid_t r = waitpid((pid_t)proc->pid, &st, WNOHANG);
        if (r == (pid_t)proc->pid) {
            *done = true;
            *exit_code = WIFEXITED(st)     ? WEXITSTATUS(st)
                         : WIFSIGNALED(st) ? 128 + WTERMSIG(st)
                                           : 255;
            break;
        }
        if (r < 0 && errno == ECHILD) {
            /* not our child (another skyc process started it): all we can
             * know is whether it still runs */
            if (kill((pid_t)proc->pid, 0) && errno == ESRCH) {
                *done = true;
                *exit_code = 255;
                break;
            }
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double ms = (double)(now.tv_sec - t0.tv_sec) * 1e3 +
                    (double)(now.tv_nsec - t0.tv_nsec) / 1e6;
        if (timeout_ms >= 0 && ms >= timeout_ms)
            break;
        usleep(2000);
    }
    if (*done) {
        /* the leader is gone; the group may live on (background children),
         * so the pid file stays until the group is empty */
        if (kill((pid_t)-proc->pid, 0) && errno == ESRCH)
            forget_pid(c, proc);
    }
    return SKYC_OK;
}

static enum skyc_err local_kill(struct provider *p,
                                const struct provider_proc *proc, int signo,
                                struct skyc_error *err)
{
    if (proc->pid <= 1)
        return skyc_fail(err, SKYC_E_INTERNAL, "bad process id %ld",
                         proc->pid);
    if (kill((pid_t)-proc->pid, signo) && errno != ESRCH)
        return skyc_fail(err, SKYC_E_IO, "cannot signal process group %ld: %s",
                         proc->pid, strerror(errno));
    return SKYC_OK;
}

/* Where node_path of a node lives on this machine (see the top). */
static char *resolve(struct local_ctx *c, const struct provider_node *node,
                     const char *node_path)
{
    char *dir = node_dir(c, node->id);
    char *r;
    if (node_path[0] == '~' && (node_path[1] == '/' || !node_path[1]))
        r = xasprintf("%s/home%s", dir, node_path + 1);
    else if (node_path[0] == '/') {
        size_t n = strlen(dir);
        if (!strncmp(node_path, dir, n) &&
            (node_path[n] == '/' || !node_path[n]))
            r = xstrdup(node_path);
        else
            r = xasprintf("%s/fs%s", dir, node_path);
    } else
        r = path_join(node->workdir, node_path);
    free(dir);
    return r;
}

/* Run rsync -a from src to dst; directories copy their contents. */
static enum skyc_err rsync(const char *src, const char *dst,
                           struct skyc_error *err)
{
    enum skyc_err rc = SKYC_OK;
    bool dir = path_is_dir(src);
    char *s = dir ? xasprintf("%s/", src) : xstrdup(src);
    char *d = dir ? xasprintf("%s/", dst) : xstrdup(dst);
    char *parent = xstrdup(dst);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        path_mkdir_p(parent, 0700);
    }
    if (access(src, F_OK)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "no such file or directory '%s'",
                       src);
        goto out;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC)) {
        rc = skyc_fail(err, SKYC_E_IO, "pipe: %s", strerror(errno));
        goto out;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 2);
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            dup2(nul, 0);
            dup2(nul, 1);
        }
        const char *argv[] = {"rsync", "-a", s, d, NULL};
        execvp("rsync", (char *const *)argv);
        dprintf(2, "cannot run rsync: %s", strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    char buf[512];
    size_t len = 0;
    ssize_t r;
    while ((r = read(pfd[0], buf + len, sizeof(buf) - 1 - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    if (len && buf[len - 1] == '\n')
        buf[len - 1] = '\0';
    close(pfd[0]);
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
        WEXITSTATUS(st))
        rc = skyc_fail(err, SKYC_E_IO, "rsync '%s' to '%s' failed: %s", src,
                       dst, len ? buf : "exit status non-zero");
out:
    free(s);
    free(d);
    free(parent);
    return rc;
}

static enum skyc_err local_copy_to(struct provider *p,
                                   const struct provider_node *node,
                                   const char *local_path,
                                   const char *node_path,
                                   struct skyc_error *err)
{
    char *dst = resolve(p->ctx, node, node_path);
    enum skyc_err rc = rsync(local_path, dst, err);
    free(dst);
    return rc;
}

static enum skyc_err local_copy_from(struct provider *p,
                                     const struct provider_node *node,
                                     const char *node_path,
                                     const char *local_path,
                                     struct skyc_error *err)
{
    char *src = resolve(p->ctx, node, node_path);
    enum skyc_err rc = rsync(src, local_path, err);
    free(src);
    return rc;
}

static enum skyc_err local_terminate_cluster(struct provider *p,
                                             const char *cluster,
                                             struct skyc_error *err)
{
    struct local_ctx *c = p->ctx;
    if (!valid_cluster_name(cluster))
        return skyc_fail(err, SKYC_E_USAGE, "invalid cluster name '%s'",
                         cluster);
    char *dir = path_join(c->root, cluster);
    enum skyc_err rc = SKYC_OK;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (!strncmp(e->d_name, "node-", 5)) {
                char *nd = path_join(dir, e->d_name);
                kill_all(nd);
                free(nd);
            }
        closedir(d);
    }
    if (path_remove_tree(dir))
        rc = skyc_fail(err, SKYC_E_IO, "cannot remove '%s': %s", dir,
                       strerror(errno));
    free(dir);
    return rc;
}

static void local_release(struct provider *p)
{
    struct local_ctx *c = p->ctx;
    if (c)
        free(c->root);
    free(c);
    p->ctx = NULL;
}

static const struct provider_ops local_ops = {
    .name = "local",
    .provision = local_provision,
    .status = local_status,
    .stop = local_stop,
    .start = local_start,
    .terminate = local_terminate,
    .run = local_run,
    .wait = local_wait,
    .kill = local_kill,
    .copy_to = local_copy_to,
    .copy_from = local_copy_from,
    .terminate_cluster = local_terminate_cluster,
    .add_node = local_add_node,
    .release = local_release,
};

enum skyc_err provider_local_open(struct provider *p, struct skyc_error *err)
{
    struct local_ctx *c = xcalloc(1, sizeof(*c));
    char *state = path_state_dir();
    c->root = path_join(state, "sandboxes");
    free(state);
    if (path_mkdir_p(c->root, 0700)) {
        enum skyc_err rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s",
                                     c->root, strerror(errno));
        free(c->root);
        free(c);
        return rc;
    }
    p->ops = &local_ops;
    p->ctx = c;
    return SKYC_OK;
}
