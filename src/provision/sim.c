/*
 * sim.c - the emulated multi-region cloud behind provider.h (see sim.h).
 *
 * Layout under the state dir (default $XDG_STATE_HOME/skyc/sim):
 *   epoch                 wall time of the sim clock's zero
 *   faults/L<line>        attempts counted for a fault rule with times: N
 *   nodes/<id>/meta       key=value: cloud, region, zone, type, spot, ...
 *   nodes/<id>/state      running | stopped | preempted
 *   nodes/<id>/work/      the node's work directory
 *   nodes/<id>/procs/     spawn records (sim_spawn.h) and <pgid>.pid
 *   nodes/<id>/watcher    pid of the preemption watcher (spot nodes)
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "provision/sim.h"
#include "provision/sim_spawn.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct sim_ctx {
    struct sim_config cfg;
    struct catalog own_cat;
    struct catalog *cat;
    bool cat_loaded;
    char *dir;
    double epoch;
};

struct node_meta {
    char cloud[32], region[128], zone[128], type[128];
    bool spot;
    double price, cpus, gpus;
    long rank;
    double created, preempt_at; /* wall seconds; preempt_at < 0 = never */
};

static struct sim_ctx *ctx_of(struct provider *p)
{
    return p->ctx;
}

static double sim_now(const struct sim_ctx *c)
{
    return (clock_wall() - c->epoch) * c->cfg.time_scale;
}

double sim_provider_now(const struct provider *p)
{
    return sim_now(p->ctx);
}

const struct sim_config *sim_provider_config(const struct provider *p)
{
    return &((const struct sim_ctx *)p->ctx)->cfg;
}

static bool valid_name(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' ||
              *s == '.'))
            return false;
    return true;
}

static char *node_dir(const struct sim_ctx *c, const char *id)
{
    return xasprintf("%s/nodes/%s", c->dir, id);
}

/* ---- meta and state files ---------------------------------------------- */

static int write_text(const char *path, const char *text)
{
    char *tmp = xasprintf("%s.tmp", path);
    int rc = -1;
    FILE *f = fopen(tmp, "w");
    if (f) {
        bool ok = fputs(text, f) >= 0;
        ok = fclose(f) == 0 && ok;
        rc = ok && rename(tmp, path) == 0 ? 0 : -1;
    }
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static int meta_write(const char *dir, const struct node_meta *m)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb,
                "cloud=%s\nregion=%s\nzone=%s\ntype=%s\nspot=%d\nprice=%.17g\n"
                "cpus=%.17g\ngpus=%.17g\nrank=%ld\ncreated=%.17g\n"
                "preempt_at=%.17g\n",
                m->cloud, m->region, m->zone, m->type, m->spot ? 1 : 0,
                m->price, m->cpus, m->gpus, m->rank, m->created,
                m->preempt_at);
    char *path = path_join(dir, "meta");
    int rc = write_text(path, sb.buf);
    free(path);
    strbuf_release(&sb);
    return rc;
}

static void copy_field(char *dst, size_t size, const char *v)
{
    snprintf(dst, size, "%s", v);
}

/* false when the node does not exist (or its meta is unreadable). */
static bool meta_read(const char *dir, struct node_meta *m)
{
    char *path = path_join(dir, "meta");
    struct strbuf sb = STRBUF_INIT;
    bool ok = strbuf_read_file(&sb, path) == 0;
    free(path);
    memset(m, 0, sizeof(*m));
    m->preempt_at = -1;
    m->price = NAN;
    char *line = sb.buf;
    while (ok && *line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        char *eq = strchr(line, '=');
        if (eq) {
            *eq = 0;
            const char *k = line, *v = eq + 1;
            if (!strcmp(k, "cloud"))
                copy_field(m->cloud, sizeof(m->cloud), v);
            else if (!strcmp(k, "region"))
                copy_field(m->region, sizeof(m->region), v);
            else if (!strcmp(k, "zone"))
                copy_field(m->zone, sizeof(m->zone), v);
            else if (!strcmp(k, "type"))
                copy_field(m->type, sizeof(m->type), v);
            else if (!strcmp(k, "spot"))
                m->spot = atoi(v) != 0;
            else if (!strcmp(k, "price"))
                m->price = strtod(v, NULL);
            else if (!strcmp(k, "cpus"))
                m->cpus = strtod(v, NULL);
            else if (!strcmp(k, "gpus"))
                m->gpus = strtod(v, NULL);
            else if (!strcmp(k, "rank"))
                m->rank = strtol(v, NULL, 10);
            else if (!strcmp(k, "created"))
                m->created = strtod(v, NULL);
            else if (!strcmp(k, "preempt_at"))
                m->preempt_at = strtod(v, NULL);
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    strbuf_release(&sb);
    return ok;
}

static enum provider_node_state state_read(const char *dir)
{
    char *path = path_join(dir, "state");
    struct strbuf sb = STRBUF_INIT;
    enum provider_node_state s = NODE_TERMINATED;
    if (strbuf_read_file(&sb, path) == 0) {
        if (!strncmp(sb.buf, "running", 7))
            s = NODE_RUNNING;
        else if (!strncmp(sb.buf, "stopped", 7))
            s = NODE_STOPPED;
        else if (!strncmp(sb.buf, "preempted", 9))
            s = NODE_PREEMPTED;
    }
    strbuf_release(&sb);
    free(path);
    return s;
}

static int state_write(const char *dir, const char *s)
{
    char *path = path_join(dir, "state");
    int rc = write_text(path, s);
    free(path);
    return rc;
}

/* ---- processes of a node ------------------------------------------------ */

/* Kill every process group started on the node (SIGKILL). */
static void kill_node_procs(const char *dir, int signo)
{
    char *procs = path_join(dir, "procs");
    DIR *d = opendir(procs);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".shim"))
            continue;
        long pgid = strtol(e->d_name, NULL, 10);
        if (pgid > 1)
            kill((pid_t)-pgid, signo);
    }
    if (d)
        closedir(d);
    free(procs);
}

/* Wait (bounded) for the shims of a node to record their exits. */
static void settle_node_procs(const char *dir, int timeout_ms)
{
    char *procs = path_join(dir, "procs");
    double deadline = clock_wall() + timeout_ms / 1e3;
    for (;;) {
        bool any = false;
        DIR *d = opendir(procs);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len >= 6 && !strcmp(e->d_name + len - 5, ".shim"))
                any = true;
        }
        if (d)
            closedir(d);
        if (!any || clock_wall() >= deadline)
            break;
        usleep(2000);
    }
    free(procs);
}

static void preempt_node(const char *dir)
{
    state_write(dir, "preempted\n");
    kill_node_procs(dir, SIGKILL);
}

/* Apply a due preemption; returns the node's state afterwards. */
static enum provider_node_state refresh(const char *dir)
{
    enum provider_node_state s = state_read(dir);
    struct node_meta m;
    if (s == NODE_RUNNING && meta_read(dir, &m) && m.preempt_at >= 0 &&
        clock_wall() >= m.preempt_at) {
        preempt_node(dir);
        s = NODE_PREEMPTED;
    }
    return s;
}

/*
 * A watcher per spot node with a preemption time: a detached process that
 * sleeps until then and preempts the node, or exits when the node goes.
 */
static void start_watcher(const char *dir, double at)
{
    char *wpath = path_join(dir, "watcher");
    char *spath = path_join(dir, "state");
    pid_t mid = fork();
    if (mid == 0) {
        setsid();
        pid_t w = fork();
        if (w != 0)
            _exit(w < 0 ? 1 : 0);
        int fd0 = open("/dev/null", O_RDWR);
        if (fd0 >= 0) {
            dup2(fd0, 0);
            dup2(fd0, 1);
            dup2(fd0, 2);
        }
        closefrom(3);
        char num[32];
        snprintf(num, sizeof(num), "%ld\n", (long)getpid());
        FILE *f = fopen(wpath, "w");
        if (f) {
            fputs(num, f);
            fclose(f);
        }
        for (;;) {
            double left = at - clock_wall();
            if (access(spath, F_OK) < 0)
                _exit(0); /* terminated */
            if (left <= 0)
                break;
            usleep((useconds_t)(SKYC_MIN(left, 0.2) * 1e6) + 1000);
        }
        if (state_read(dir) == NODE_RUNNING)
            preempt_node(dir);
        _exit(0);
    }
    if (mid > 0)
        while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
            ;
    free(wpath);
    free(spath);
}

static void stop_watcher(const char *dir)
{
    char *wpath = path_join(dir, "watcher");
    FILE *f = fopen(wpath, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    if (pid > 1)
        kill((pid_t)pid, SIGKILL);
    free(wpath);
}

/* ---- matching offerings and rules --------------------------------------- */

static bool match_ok(const struct sim_match *m, int cloud, const char *region,
                     const char *zone, const char *type, bool spot)
{
    if (m->cloud >= 0 && m->cloud != cloud)
        return false;
    if (m->region && strcmp(m->region, region))
        return false;
    if (m->zone && (!zone || strcmp(m->zone, zone)))
        return false;
    if (m->instance_type && strcmp(m->instance_type, type))
        return false;
    if (m->spot >= 0 && m->spot != (int)spot)
        return false;
    return true;
}

/* Live nodes matching a rule (for max_nodes). */
static long live_matching(const struct sim_ctx *c, const struct sim_match *m)
{
    char *nodes = path_join(c->dir, "nodes");
    DIR *d = opendir(nodes);
    struct dirent *e;
    long n = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *dir = path_join(nodes, e->d_name);
        struct node_meta nm;
        enum provider_node_state s = state_read(dir);
        if ((s == NODE_RUNNING || s == NODE_STOPPED) && meta_read(dir, &nm) &&
            match_ok(m, cloud_parse(nm.cloud), nm.region,
                     nm.zone[0] ? nm.zone : NULL, nm.type, nm.spot))
            n++;
        free(dir);
    }
    if (d)
        closedir(d);
    free(nodes);
    return n;
}

/*
 * Count one use of a rule limited to `times` uses (file faults/<kind><line>,
 * under an flock, so concurrent skyc processes count each use once); true
 * when this use is within the limit.
 */
static bool rule_counts(struct sim_ctx *c, char kind, unsigned line,
                        long times)
{
    char *dir = path_join(c->dir, "faults");
    char *path = xasprintf("%s/%c%u", dir, kind, line);
    bool fires = true;
    path_mkdir_p(dir, 0755);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0 && flock(fd, LOCK_EX) == 0) {
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        long count = n > 0 ? strtol(buf, NULL, 10) : 0;
        fires = count < times;
        if (fires) {
            int len = snprintf(buf, sizeof(buf), "%ld\n", count + 1);
            if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)len, 0) < 0)
                fires = true;
        }
    }
    if (fd >= 0)
        close(fd);
    free(path);
    free(dir);
    return fires;
}

/* Count an attempt against a fault with times: N; true = it fires. */
static bool fault_fires(struct sim_ctx *c, const struct sim_fault *f,
                        size_t asked)
{
    if (f->has_max_nodes &&
        live_matching(c, &f->m) + (long)asked <= f->max_nodes)
        return false;
    if (!f->times)
        return true;
    return rule_counts(c, 'L', f->line, f->times);
}

static const char *config_name(const struct sim_ctx *c)
{
    if (!c->cfg.path)
        return "sim config";
    const char *s = strrchr(c->cfg.path, '/');
    return s ? s + 1 : c->cfg.path;
}

static const struct sim_trace_rule *trace_for(const struct sim_ctx *c,
                                              int cloud, const char *region,
                                              const char *zone,
                                              const char *type)
{
    for (size_t i = 0; i < c->cfg.ntraces; i++)
        if (match_ok(&c->cfg.traces[i].m, cloud, region, zone, type, true))
            return &c->cfg.traces[i];
    return NULL;
}

static long trace_tick(const struct sim_ctx *c, const struct sim_trace_rule *r)
{
    return r->start_tick + (long)floor(sim_now(c) / r->trace.gap_s);
}

/* Wall time a spot node of this rank is preempted at, or -1 for never. */
static double preempt_time(struct sim_ctx *c, int cloud,
                           const char *region, const char *zone,
                           const char *type, long rank, double created)
{
    double at = -1;
    for (size_t i = 0; i < c->cfg.npreempts; i++) {
        const struct sim_preempt *pr = &c->cfg.preempts[i];
        if (!match_ok(&pr->m, cloud, region, zone, type, true) ||
            (pr->rank >= 0 && pr->rank != rank))
            continue;
        if (pr->times && !rule_counts(c, 'P', pr->line, pr->times))
            continue; /* used up: the next rule may apply */
        at = created + pr->after_s / c->cfg.time_scale;
        break;
    }
    const struct sim_trace_rule *r = trace_for(c, cloud, region, zone, type);
    if (r) {
        long t0 = trace_tick(c, r);
        for (long k = t0 + 1; k <= t0 + (long)r->trace.n; k++) {
            if (sim_trace_at(&r->trace, k) <= rank) {
                double sim_t = (double)(k - r->start_tick) * r->trace.gap_s;
                double wall = c->epoch + sim_t / c->cfg.time_scale;
                if (at < 0 || wall < at)
                    at = wall;
                break;
            }
        }
    }
    return at;
}

/* Parse "sim" / "sim:gcp" into the allowed clouds. */
static enum skyc_err parse_cloud(const struct sim_ctx *c, const char *name,
                                 bool allowed[CLOUD_COUNT],
                                 struct skyc_error *err)
{
    for (size_t i = 0; i < CLOUD_COUNT; i++)
        allowed[i] = c->cfg.clouds[i];
    if (!name || !strcmp(name, "sim"))
        return SKYC_OK;
    if (strncmp(name, "sim:", 4))
        return skyc_fail(err, SKYC_E_INFEASIBLE,
                         "sim: cannot provision cloud '%s' (use 'sim' or "
                         "'sim:<cloud>', e.g. 'sim:gcp')",
                         name);
    int cl = cloud_parse(name + 4);
    if (cl < 0)
        return skyc_fail(err, SKYC_E_INFEASIBLE,
                         "sim: unknown cloud '%s' (known: aws, gcp, azure, "
                         "lambda, vast)",
                         name + 4);
    if (!c->cfg.clouds[cl]) /* like a cloud without credentials */
        return skyc_fail(err, SKYC_E_AUTH,
                         "sim: cloud '%s' is not enabled (see clouds: in %s)",
                         name + 4, config_name(c));
    for (size_t i = 0; i < CLOUD_COUNT; i++)
        allowed[i] = (int)i == cl;
    return SKYC_OK;
}

/* The cheapest catalog offering fitting req, or NULL. */
static const struct catalog_offering *
pick_offer(const struct sim_ctx *c, const struct provider_request *req,
           const bool allowed[CLOUD_COUNT])
{
    const struct catalog *cat = c->cat;
    const struct catalog_offering *best = NULL;
    double best_price = INFINITY;
    uint32_t accel = req->accelerator
                         ? catalog_accel_index(cat, req->accelerator)
                         : CATALOG_NONE;
    if (req->accelerator && accel == CATALOG_NONE)
        return NULL;
    for (size_t i = 0; i < cat->noffers; i++) {
        const struct catalog_offering *o = &cat->offers[i];
        if (!allowed[o->cloud])
            continue;
        if (req->region && strcmp(cat->regions[o->region].name, req->region))
            continue;
        if (req->zone && (o->zone == CATALOG_NONE ||
                          strcmp(cat->zones[o->zone].name, req->zone)))
            continue;
        if (req->instance_type &&
            strcmp(cat->names[o->instance], req->instance_type))
            continue;
        if (accel != CATALOG_NONE &&
            (o->accel != accel || o->accel_count + 1e-9 < req->gpus))
            continue;
        if (!req->accelerator && req->gpus > 0 &&
            (o->accel == CATALOG_NONE || o->accel_count + 1e-9 < req->gpus))
            continue;
        if (req->cpus > 0 && !(o->vcpus + 1e-9 >= req->cpus))
            continue;
        double price = req->spot ? o->spot_price : o->price;
        if (isnan(price))
            continue;
        if (price < best_price) {
            best = o;
            best_price = price;
        }
    }
    return best;
}

static void describe_req(struct strbuf *sb, const struct provider_request *r)
{
    strbuf_addf(sb, "%s", r->cloud ? r->cloud : "sim");
    if (r->region)
        strbuf_addf(sb, "/%s", r->region);
    if (r->zone)
        strbuf_addf(sb, "/%s", r->zone);
    if (r->instance_type)
        strbuf_addf(sb, " %s", r->instance_type);
    if (r->accelerator)
        strbuf_addf(sb, " %s:%g", r->accelerator, r->gpus);
    if (r->spot)
        strbuf_addstr(sb, " [spot]");
}

/* ---- provider ops -------------------------------------------------------- */

static enum skyc_err sim_terminate(struct provider *p,
                                   struct provider_node *node,
                                   struct skyc_error *err);

/* "cloud/region/zone type [spot]" of an offering, for messages. */
static void offer_text(const struct sim_ctx *c, const struct catalog_offering *o,
                       bool spot, char *buf, size_t size)
{
    const struct catalog *cat = c->cat;
    const char *zone = o->zone == CATALOG_NONE ? NULL : cat->zones[o->zone].name;
    snprintf(buf, size, "%s/%s%s%s %s%s", cloud_name((enum cloud)o->cloud),
             cat->regions[o->region].name, zone ? "/" : "", zone ? zone : "",
             cat->names[o->instance], spot ? " [spot]" : "");
}

/*
 * Whether `asked` nodes of offering o can start now: injected faults, then
 * (spot) the trace, which must show at least `need` instances available.
 */
static enum skyc_err check_capacity(struct sim_ctx *c,
                                    const struct catalog_offering *o,
                                    bool spot, size_t asked, long need,
                                    struct skyc_error *err)
{
    const struct catalog *cat = c->cat;
    const char *region = cat->regions[o->region].name;
    const char *zone = o->zone == CATALOG_NONE ? NULL : cat->zones[o->zone].name;
    const char *type = cat->names[o->instance];
    char infra[512];
    offer_text(c, o, spot, infra, sizeof(infra));
    for (size_t i = 0; i < c->cfg.nfaults; i++) {
        const struct sim_fault *f = &c->cfg.faults[i];
        if (!match_ok(&f->m, o->cloud, region, zone, type, spot))
            continue;
        if (!fault_fires(c, f, asked))
            continue;
        const char *what_err = f->code == SKYC_E_CAPACITY ? "capacity shortage"
                               : f->code == SKYC_E_QUOTA  ? "quota exceeded"
                               : f->code == SKYC_E_AUTH
                                   ? "authentication failure"
                                   : "provisioning failure";
        return skyc_fail(err, f->code, "sim: injected %s in %s (%s:%u)",
                         what_err, infra, config_name(c), f->line);
    }
    if (spot) {
        const struct sim_trace_rule *r = trace_for(c, o->cloud, region, zone,
                                                   type);
        if (r) {
            long tick = trace_tick(c, r);
            int avail = sim_trace_at(&r->trace, tick);
            if ((long)avail < need)
                return skyc_fail(err, SKYC_E_CAPACITY,
                                 "sim: no spot capacity in %s (trace %s tick "
                                 "%ld: %d available, %ld %s)",
                                 infra, r->trace.path, tick, avail, need,
                                 (long)asked == need ? "asked" : "needed");
        }
    }
    return SKYC_OK;
}

/*
 * Create node `rank` of cluster on offering o, id "<cluster>-<tag>-<rank>"
 * (the shape terminate_cluster() recognises). On failure nothing is left
 * on disk and *n holds only what must be released.
 */
static enum skyc_err make_node(struct sim_ctx *c, const char *cluster,
                               unsigned tag, long rank,
                               const struct catalog_offering *o, bool spot,
                               struct provider_node *n, struct skyc_error *err)
{
    const struct catalog *cat = c->cat;
    const char *cloud = cloud_name((enum cloud)o->cloud);
    const char *region = cat->regions[o->region].name;
    const char *zone = o->zone == CATALOG_NONE ? NULL : cat->zones[o->zone].name;
    const char *type = cat->names[o->instance];
    enum skyc_err rc = SKYC_OK;
    n->id = xasprintf("%s-%08x-%ld", cluster, tag, rank);
    char *dir = node_dir(c, n->id);
    char *work = path_join(dir, "work");
    char *procs = path_join(dir, "procs");
    char *home = path_join(dir, "home");
    n->ip = xstrdup("127.0.0.1");
    n->workdir = work;
    n->region = xstrdup(region);
    n->zone = zone ? xstrdup(zone) : NULL;
    n->instance_type = xstrdup(type);
    n->spot = spot;
    n->hourly_price = spot ? o->spot_price : o->price;
    n->cpus = isnan(o->vcpus) ? 0 : o->vcpus;
    n->gpus = o->accel == CATALOG_NONE ? 0 : o->accel_count;
    n->state = NODE_RUNNING;
    struct node_meta m = {0};
    copy_field(m.cloud, sizeof(m.cloud), cloud);
    copy_field(m.region, sizeof(m.region), region);
    copy_field(m.zone, sizeof(m.zone), zone ? zone : "");
    copy_field(m.type, sizeof(m.type), type);
    m.spot = spot;
    m.price = n->hourly_price;
    m.cpus = n->cpus;
    m.gpus = n->gpus;
    m.rank = rank;
    m.created = clock_wall();
    m.preempt_at = spot ? preempt_time(c, o->cloud, region, zone, type, rank,
                                       m.created)
                        : -1;
    bool ok = path_mkdir_p(work, 0755) == 0 && path_mkdir_p(procs, 0755) == 0 &&
              path_mkdir_p(home, 0755) == 0 && meta_write(dir, &m) == 0 &&
              state_write(dir, "running\n") == 0;
    if (!ok)
        rc = skyc_fail(err, SKYC_E_IO, "sim: cannot create node '%s': %s",
                       dir, strerror(errno));
    else if (m.preempt_at >= 0)
        start_watcher(dir, m.preempt_at);
    free(procs);
    free(home);
    free(dir);
    return rc;
}

static unsigned new_tag(void)
{
    static unsigned seq;
    return ((unsigned)getpid() * 2654435761u) ^
           (unsigned)(uint64_t)(clock_wall() * 1e6) ^ (++seq * 40503u);
}

static enum skyc_err sim_provision(struct provider *p,
                                   const struct provider_request *req,
                                   struct provider_node **out, size_t *nout,
                                   struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_E_FAILED;
    bool allowed[CLOUD_COUNT];
    struct provider_node *nodes = NULL;
    size_t made = 0;
    struct strbuf what = STRBUF_INIT;

    *out = NULL;
    *nout = 0;
    if (!valid_name(req->cluster)) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "sim: bad cluster name '%s' (letters, digits, '-', "
                       "'_', '.'; at most 64)",
                       req->cluster ? req->cluster : "");
        goto out;
    }
    if (req->num_nodes < 1 || req->num_nodes > 1024) {
        rc = skyc_fail(err, SKYC_E_INPUT, "sim: num_nodes must be 1..1024");
        goto out;
    }
    if ((rc = parse_cloud(c, req->cloud, allowed, err)))
        goto out;
    describe_req(&what, req);
    const struct catalog_offering *o = pick_offer(c, req, allowed);
    if (!o) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "sim: no catalog offering matches %s", what.buf);
        goto out;
    }
    if ((rc = check_capacity(c, o, req->spot, req->num_nodes,
                             (long)req->num_nodes, err)))
        goto out;

    char *nodes_dir = path_join(c->dir, "nodes");
    path_mkdir_p(nodes_dir, 0755);
    free(nodes_dir);
    unsigned tag = new_tag();
    nodes = xcalloc(req->num_nodes, sizeof(*nodes));
    for (size_t i = 0; i < req->num_nodes; i++) {
        made = i + 1;
        if ((rc = make_node(c, req->cluster, tag, (long)i, o, req->spot,
                            &nodes[i], err)))
            goto out;
    }
    *out = nodes;
    *nout = req->num_nodes;
    nodes = NULL;
    rc = SKYC_OK;
out:
    if (nodes) {
        for (size_t i = 0; i < made; i++)
            sim_terminate(p, &nodes[i], NULL);
        provider_nodes_free(nodes, made);
    }
    strbuf_release(&what);
    return rc;
}

static enum skyc_err sim_add_node(struct provider *p,
                                  const struct provider_request *req,
                                  long rank, struct provider_node *node,
                                  struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_E_FAILED;
    bool allowed[CLOUD_COUNT];
    struct strbuf what = STRBUF_INIT;
    memset(node, 0, sizeof(*node));
    if (!valid_name(req->cluster)) {
        rc = skyc_fail(err, SKYC_E_INPUT,
                       "sim: bad cluster name '%s' (letters, digits, '-', "
                       "'_', '.'; at most 64)",
                       req->cluster ? req->cluster : "");
        goto out;
    }
    if (rank < 0 || rank > 1023) {
        rc = skyc_fail(err, SKYC_E_INPUT, "sim: node rank must be 0..1023");
        goto out;
    }
    if ((rc = parse_cloud(c, req->cloud, allowed, err)))
        goto out;
    describe_req(&what, req);
    const struct catalog_offering *o = pick_offer(c, req, allowed);
    if (!o) {
        rc = skyc_fail(err, SKYC_E_INFEASIBLE,
                       "sim: no catalog offering matches %s", what.buf);
        goto out;
    }
    /* a rank-r spot node stays up while more than r are available */
    if ((rc = check_capacity(c, o, req->spot, 1, rank + 1, err)))
        goto out;
    char *nodes_dir = path_join(c->dir, "nodes");
    path_mkdir_p(nodes_dir, 0755);
    free(nodes_dir);
    if ((rc = make_node(c, req->cluster, new_tag(), rank, o, req->spot, node,
                        err))) {
        sim_terminate(p, node, NULL);
        provider_node_release(node);
        goto out;
    }
    rc = SKYC_OK;
out:
    strbuf_release(&what);
    return rc;
}

static enum skyc_err sim_status(struct provider *p, struct provider_node *node,
                                struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    if (!valid_name(node->id)) {
        node->state = NODE_TERMINATED;
        return SKYC_OK;
    }
    char *dir = node_dir(c, node->id);
    node->state = refresh(dir);
    if (node->state != NODE_TERMINATED && !node->ip)
        node->ip = xstrdup("127.0.0.1");
    free(dir);
    return SKYC_OK;
}

static enum skyc_err sim_stop(struct provider *p, struct provider_node *node,
                              struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_E_NOT_FOUND;
    char *dir = valid_name(node->id) ? node_dir(c, node->id) : NULL;
    struct node_meta m;
    enum provider_node_state s = dir ? refresh(dir) : NODE_TERMINATED;
    if (s == NODE_TERMINATED || !meta_read(dir, &m)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "sim: no node '%s'", node->id);
        goto out;
    }
    if (m.spot) {
        rc = skyc_fail(err, SKYC_E_FAILED,
                       "sim: spot node '%s' cannot be stopped (terminate it "
                       "instead)",
                       node->id);
        goto out;
    }
    if (s == NODE_RUNNING) {
        kill_node_procs(dir, SIGKILL);
        settle_node_procs(dir, 1000);
        state_write(dir, "stopped\n");
    }
    node->state = NODE_STOPPED;
    rc = SKYC_OK;
out:
    free(dir);
    return rc;
}

static enum skyc_err sim_start(struct provider *p, struct provider_node *node,
                               struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_E_NOT_FOUND;
    char *dir = valid_name(node->id) ? node_dir(c, node->id) : NULL;
    enum provider_node_state s = dir ? refresh(dir) : NODE_TERMINATED;
    if (s == NODE_TERMINATED) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "sim: no node '%s'", node->id);
        goto out;
    }
    if (s == NODE_PREEMPTED) {
        rc = skyc_fail(err, SKYC_E_CAPACITY,
                       "sim: node '%s' was preempted and cannot be started",
                       node->id);
        goto out;
    }
    if (s == NODE_STOPPED && state_write(dir, "running\n") < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "sim: cannot start '%s': %s", node->id,
                       strerror(errno));
        goto out;
    }
    node->state = NODE_RUNNING;
    rc = SKYC_OK;
out:
    free(dir);
    return rc;
}

static enum skyc_err sim_terminate(struct provider *p,
                                   struct provider_node *node,
                                   struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_OK;
    if (!valid_name(node->id)) {
        node->state = NODE_TERMINATED;
        return SKYC_OK;
    }
    char *dir = node_dir(c, node->id);
    if (path_is_dir(dir)) {
        stop_watcher(dir);
        char *state = path_join(dir, "state");
        unlink(state); /* tells a watcher the node is gone */
        free(state);
        kill_node_procs(dir, SIGKILL);
        settle_node_procs(dir, 1000);
        if (remove_tree(dir) < 0)
            rc = skyc_fail(err, SKYC_E_IO, "sim: cannot remove '%s': %s", dir,
                           strerror(errno));
    }
    if (rc == SKYC_OK)
        node->state = NODE_TERMINATED;
    free(dir);
    return rc;
}

/*
 * A node path on this machine, as the local provider maps them: relative to
 * the workdir; "~/x" under the node's home/; other absolute paths under its
 * fs/, so file_mounts never write outside the sandbox.
 */
/* Whether node id "<cluster>-<8 hex>-<rank>" belongs to cluster. */
static bool id_of_cluster(const char *id, const char *cluster)
{
    size_t n = strlen(cluster);
    if (strncmp(id, cluster, n) || id[n] != '-')
        return false;
    const char *p = id + n + 1;
    for (int i = 0; i < 8; i++, p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    if (*p++ != '-' || !*p)
        return false;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    return true;
}

static enum skyc_err sim_terminate_cluster(struct provider *p,
                                           const char *cluster,
                                           struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    enum skyc_err rc = SKYC_OK;
    if (!valid_name(cluster))
        return SKYC_OK; /* it never had nodes */
    char *nodes = path_join(c->dir, "nodes");
    DIR *d = opendir(nodes);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!id_of_cluster(e->d_name, cluster))
            continue;
        struct provider_node n = {.id = e->d_name};
        enum skyc_err r = sim_terminate(p, &n, err);
        if (r && !rc)
            rc = r;
    }
    if (d)
        closedir(d);
    free(nodes);
    return rc;
}

static char *node_path(const struct sim_ctx *c,
                       const struct provider_node *node, const char *path)
{
    if (!path || !*path)
        return xstrdup(node->workdir);
    char *dir = node_dir(c, node->id);
    char *r;
    size_t n = strlen(dir);
    if (path[0] == '~' && (path[1] == '/' || !path[1]))
        r = xasprintf("%s/home%s", dir, path + 1);
    else if (path[0] == '/')
        r = !strncmp(path, dir, n) && (path[n] == '/' || !path[n])
                ? xstrdup(path)
                : xasprintf("%s/fs%s", dir, path);
    else
        r = path_join(node->workdir, path);
    free(dir);
    return r;
}

/* The node must be RUNNING for run and copy. */
static enum skyc_err need_running(struct sim_ctx *c,
                                  const struct provider_node *node, char **dir,
                                  struct skyc_error *err)
{
    *dir = NULL;
    if (!valid_name(node->id))
        return skyc_fail(err, SKYC_E_NOT_FOUND, "sim: no node '%s'",
                         node->id ? node->id : "");
    char *d = node_dir(c, node->id);
    enum provider_node_state s = refresh(d);
    if (s != NODE_RUNNING) {
        enum skyc_err rc = skyc_fail(
            err, s == NODE_TERMINATED ? SKYC_E_NOT_FOUND : SKYC_E_FAILED,
            "sim: node '%s' is %s", node->id, provider_node_state_name(s));
        free(d);
        return rc;
    }
    *dir = d;
    return SKYC_OK;
}

static enum skyc_err sim_run(struct provider *p,
                             const struct provider_node *node,
                             const char *const *argv, const char *const *env,
                             const char *cwd, const char *log_path,
                             struct provider_proc *proc,
                             struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    char *dir = NULL, *procs = NULL, *wd = NULL, *home = NULL;
    const char **envv = NULL;
    enum skyc_err rc;
    memset(proc, 0, sizeof(*proc));
    if ((rc = need_running(c, node, &dir, err)))
        goto out;
    procs = path_join(dir, "procs");
    wd = !cwd || !*cwd ? xstrdup(node->workdir)
         : cwd[0] == '/' ? xstrdup(cwd)
                         : path_join(node->workdir, cwd);
    size_t nenv = 0;
    while (env && env[nenv])
        nenv++;
    home = xasprintf("HOME=%s/home", dir);
    envv = xcalloc(nenv + 2, sizeof(*envv));
    envv[0] = home;
    for (size_t i = 0; i < nenv; i++)
        envv[i + 1] = env[i];
    long pid;
    if ((rc = spawn_detached(argv, envv, wd, log_path, procs, &pid, err)))
        goto out;
    proc->pid = pid;
    proc->node_id = xstrdup(node->id);
    /* A preemption that landed while we spawned still kills it. */
    if (refresh(dir) != NODE_RUNNING)
        kill((pid_t)-pid, SIGKILL);
out:
    free(dir);
    free(procs);
    free(wd);
    free(home);
    free(envv);
    return rc;
}

struct alive_arg {
    char *dir;
};

static bool node_alive(void *arg)
{
    struct alive_arg *a = arg;
    return refresh(a->dir) == NODE_RUNNING || path_is_dir(a->dir);
}

static enum skyc_err sim_wait(struct provider *p,
                              const struct provider_proc *proc, int timeout_ms,
                              bool *done, int *exit_code,
                              struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    *done = false;
    *exit_code = -1;
    if (!proc->node_id || !valid_name(proc->node_id))
        return skyc_fail(err, SKYC_E_NOT_FOUND, "sim: bad process handle");
    struct alive_arg a = {node_dir(c, proc->node_id)};
    char *procs = path_join(a.dir, "procs");
    enum skyc_err rc = spawn_wait(procs, proc->pid, timeout_ms, done,
                                  exit_code, node_alive, &a, err);
    free(procs);
    free(a.dir);
    return rc;
}

static enum skyc_err sim_kill(struct provider *p,
                              const struct provider_proc *proc, int signo,
                              struct skyc_error *err)
{
    if (proc->pid <= 1)
        return skyc_fail(err, SKYC_E_INTERNAL, "sim: bad process id %ld",
                         proc->pid);
    if (kill((pid_t)-proc->pid, signo) < 0 && errno != ESRCH)
        return skyc_fail(err, SKYC_E_IO, "sim: kill %ld: %s", proc->pid,
                         strerror(errno));
    return SKYC_OK;
}

/* rsync -a SRC DST; a directory's contents go into DST. */
static enum skyc_err rsync_local(const char *src, const char *dst,
                                 struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_IO;
    struct strbuf out = STRBUF_INIT;
    bool is_dir = path_is_dir(src);
    char *from = is_dir ? xasprintf("%s/", src) : xstrdup(src);
    char *parent = xstrdup(dst);
    char *slash = strrchr(parent, '/');
    if (is_dir)
        path_mkdir_p(dst, 0755);
    else if (slash && slash != parent) {
        *slash = 0;
        path_mkdir_p(parent, 0755);
    }
    if (!is_dir && !path_is_file(src)) {
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "no such file or directory '%s'",
                       src);
        goto out;
    }
    const char *argv[] = {"rsync", "-a", from, dst, NULL};
    int code;
    if ((rc = run_capture(argv, &out, &code, 600, err)))
        goto out;
    if (code) {
        strbuf_setlen(&out, strcspn(out.buf, "\n"));
        rc = skyc_fail(err, SKYC_E_IO, "rsync '%s' to '%s' failed (exit %d): %s",
                       src, dst, code, out.buf);
        goto out;
    }
    rc = SKYC_OK;
out:
    strbuf_release(&out);
    free(from);
    free(parent);
    return rc;
}

static enum skyc_err sim_copy_to(struct provider *p,
                                 const struct provider_node *node,
                                 const char *local_path, const char *npath,
                                 struct skyc_error *err)
{
    char *dir = NULL, *dst = NULL;
    enum skyc_err rc;
    if ((rc = need_running(ctx_of(p), node, &dir, err)))
        goto out;
    dst = node_path(ctx_of(p), node, npath);
    rc = rsync_local(local_path, dst, err);
out:
    free(dir);
    free(dst);
    return rc;
}

static enum skyc_err sim_copy_from(struct provider *p,
                                   const struct provider_node *node,
                                   const char *npath, const char *local_path,
                                   struct skyc_error *err)
{
    char *dir = NULL, *src = NULL;
    enum skyc_err rc;
    if ((rc = need_running(ctx_of(p), node, &dir, err)))
        goto out;
    src = node_path(ctx_of(p), node, npath);
    rc = rsync_local(src, local_path, err);
out:
    free(dir);
    free(src);
    return rc;
}

void sim_node_infos_free(struct sim_node_info *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].id);
        free(v[i].cloud);
        free(v[i].region);
        free(v[i].zone);
        free(v[i].instance_type);
    }
    free(v);
}

static size_t running_procs(const char *dir)
{
    char *procs = path_join(dir, "procs");
    DIR *d = opendir(procs);
    struct dirent *e;
    size_t n = 0;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len >= 6 && !strcmp(e->d_name + len - 5, ".shim"))
            n++;
    }
    if (d)
        closedir(d);
    free(procs);
    return n;
}

static int info_cmp(const void *a, const void *b)
{
    return strcmp(((const struct sim_node_info *)a)->id,
                  ((const struct sim_node_info *)b)->id);
}

enum skyc_err sim_provider_nodes(struct provider *p, struct sim_node_info **out,
                                 size_t *nout, struct skyc_error *err)
{
    struct sim_ctx *c = ctx_of(p);
    char *nodes = path_join(c->dir, "nodes");
    DIR *d = opendir(nodes);
    struct dirent *e;
    struct sim_node_info *v = NULL;
    size_t n = 0, alloc = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !valid_name(e->d_name))
            continue;
        char *dir = path_join(nodes, e->d_name);
        struct node_meta m;
        enum provider_node_state s = refresh(dir);
        if (s != NODE_TERMINATED && meta_read(dir, &m)) {
            ALLOC_GROW(v, n + 1, alloc);
            struct sim_node_info *x = &v[n++];
            x->id = xstrdup(e->d_name);
            x->cloud = xstrdup(m.cloud);
            x->region = xstrdup(m.region);
            x->zone = m.zone[0] ? xstrdup(m.zone) : NULL;
            x->instance_type = xstrdup(m.type);
            x->spot = m.spot;
            x->hourly_price = m.price;
            x->created = m.created;
            x->preempt_at = m.preempt_at;
            x->procs = running_procs(dir);
            x->state = s;
        }
        free(dir);
    }
    if (d)
        closedir(d);
    free(nodes);
    if (n)
        qsort(v, n, sizeof(*v), info_cmp);
    *out = v;
    *nout = n;
    (void)err;
    return SKYC_OK;
}

static void sim_release(struct provider *p)
{
    struct sim_ctx *c = ctx_of(p);
    if (!c)
        return;
    sim_config_release(&c->cfg);
    if (c->cat_loaded)
        catalog_release(&c->own_cat);
    free(c->dir);
    free(c);
    p->ctx = NULL;
}

static const struct provider_ops sim_ops = {
    .name = "sim",
    .provision = sim_provision,
    .add_node = sim_add_node,
    .status = sim_status,
    .stop = sim_stop,
    .start = sim_start,
    .terminate = sim_terminate,
    .run = sim_run,
    .wait = sim_wait,
    .kill = sim_kill,
    .copy_to = sim_copy_to,
    .copy_from = sim_copy_from,
    .terminate_cluster = sim_terminate_cluster,
    .release = sim_release,
};

/* Read (or create) the sim clock's epoch. */
static enum skyc_err load_epoch(struct sim_ctx *c, struct skyc_error *err)
{
    char *path = path_join(c->dir, "epoch");
    enum skyc_err rc = SKYC_E_IO;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "sim: cannot open '%s': %s", path,
                       strerror(errno));
        goto out;
    }
    char buf[64] = {0};
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    double e = n > 0 ? strtod(buf, NULL) : 0;
    if (!(e > 0)) {
        e = clock_wall();
        int len = snprintf(buf, sizeof(buf), "%.17g\n", e);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len) {
            rc = skyc_fail(err, SKYC_E_IO, "sim: cannot write '%s': %s", path,
                           strerror(errno));
            goto out;
        }
    }
    c->epoch = e;
    rc = SKYC_OK;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

enum skyc_err provider_sim_open_with(struct provider *p,
                                     const struct sim_options *opts,
                                     struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_FAILED;
    struct sim_ctx *c = xcalloc(1, sizeof(*c));
    char *cfg_path = NULL;
    memset(p, 0, sizeof(*p));
    sim_config_init(&c->cfg);

    if (opts && opts->config_path)
        cfg_path = xstrdup(opts->config_path);
    else if (getenv("SKYC_SIM_CONFIG") && *getenv("SKYC_SIM_CONFIG"))
        cfg_path = xstrdup(getenv("SKYC_SIM_CONFIG"));
    else {
        char *cdir = path_config_dir();
        char *def = path_join(cdir, "sim.yaml");
        free(cdir);
        if (path_is_file(def))
            cfg_path = def;
        else
            free(def);
    }
    if (cfg_path && (rc = sim_config_load(cfg_path, &c->cfg, err)))
        goto out;

    if (opts && opts->state_dir)
        c->dir = xstrdup(opts->state_dir);
    else {
        char *sdir = path_state_dir();
        c->dir = path_join(sdir, "sim");
        free(sdir);
    }
    if (path_mkdir_p(c->dir, 0755) < 0) {
        rc = skyc_fail(err, SKYC_E_IO, "sim: cannot create '%s': %s", c->dir,
                       strerror(errno));
        goto out;
    }
    if ((rc = load_epoch(c, err)))
        goto out;

    if (opts && opts->cat)
        c->cat = opts->cat;
    else {
        struct catalog_options copts = {0};
        if ((rc = catalog_load(&c->own_cat, &copts, err)))
            goto out;
        c->cat_loaded = true;
        c->cat = &c->own_cat;
    }
    p->ops = &sim_ops;
    p->ctx = c;
    c = NULL;
    rc = SKYC_OK;
out:
    if (c) {
        struct provider tmp = {&sim_ops, c};
        sim_release(&tmp);
    }
    free(cfg_path);
    return rc;
}

enum skyc_err provider_sim_open(struct provider *p, struct skyc_error *err)
{
    return provider_sim_open_with(p, NULL, err);
}
