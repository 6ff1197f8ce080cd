/*
 * cmd_jobs.c - `skyc jobs launch|queue|logs|cancel|controller`: managed
 * jobs (jobs/jobs.h) that the controller keeps running through preemptions
 * and user errors.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "core/units.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "jobs/jobs.h"
#include "provision/sim.h"
#include "runtime/runtime.h"
#include "spot/policy.h"
#include "task/task.h"

#include <ctype.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>

/* The provider clocks the controller bills in (see jobs.h), one sim per
 * set of job settings (a job's SKYC_SIM_CONFIG sets its time scale). */
struct clocks {
    struct {
        char *env;
        struct provider sim;
    } v[8];
    size_t n;
    char *own; /* this command's settings, put back after each open */
};

static double provider_clock(struct clocks *k, const struct mjob *j)
{
    if (strcmp(j->provider, "sim"))
        return state_now();
    const char *env = j->env ? j->env : "";
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->v[i].env, env))
            return sim_provider_now(&k->v[i].sim);
    if (k->n == ARRAY_SIZE(k->v))
        return sim_provider_now(&k->v[0].sim);
    if (!k->own)
        k->own = jobs_env_snapshot();
    jobs_env_apply(j->env);
    struct skyc_error e = {0};
    enum skyc_err r = provider_open("sim", &k->v[k->n].sim, &e);
    jobs_env_apply(k->own);
    if (r)
        return state_now();
    k->v[k->n].env = xstrdup(env);
    return sim_provider_now(&k->v[k->n++].sim);
}

static void clocks_release(struct clocks *k)
{
    for (size_t i = 0; i < k->n; i++) {
        provider_close(&k->v[i].sim);
        free(k->v[i].env);
    }
    free(k->own);
    memset(k, 0, sizeof(*k));
}

static enum skyc_err copy_file(const char *from, const char *to,
                               struct skyc_error *err)
{
    struct strbuf sb = STRBUF_INIT;
    enum skyc_err rc = SKYC_OK;
    if (strbuf_read_file(&sb, from)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot read '%s': %s", from,
                       strerror(errno));
        goto out;
    }
    FILE *f = fopen(to, "w");
    if (!f || fwrite(sb.buf, 1, sb.len, f) != sb.len) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot write '%s': %s", to,
                       strerror(errno));
        if (f)
            fclose(f);
        goto out;
    }
    if (fclose(f))
        rc = skyc_fail(err, SKYC_E_IO, "cannot write '%s'", to);
out:
    strbuf_release(&sb);
    return rc;
}

static enum skyc_err jobs_launch(int argc, const char **argv,
                                 struct skyc_error *err)
{
    const char *const usage[] = {
        "skyc jobs launch [-n NAME] [--deadline 60h --work 48h] [--policy P] "
        "TASK.yaml",
        NULL};
    const char *name = NULL, *policy = NULL, *provider = "sim";
    double deadline_h = 0, work_h = 0;
    const struct option opts[] = {
        OPT_STRING('n', "name", &name, "NAME", "a name for the job"),
        OPT_HOURS(0, "deadline", &deadline_h, "H",
                  "finish by this long after submission (deadline-aware mode)"),
        OPT_HOURS(0, "work", &work_h, "H",
                  "compute the job needs (default: the task's estimated_hours)"),
        OPT_STRING(0, "policy", &policy, "P",
                   "spot policy of the deadline-aware mode (default up)"),
        OPT_STRING(0, "provider", &provider, "NAME",
                   "where clusters go (default sim)"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n != 1)
        return skyc_fail(err, SKYC_E_USAGE, "expected one task YAML file");
    struct task_dag dag = {0};
    struct mjob j = {0};
    struct jobs_db db = {0};
    char cwd[4096];
    enum skyc_err rc;
    if ((rc = task_dag_load_file(&dag, argv[0], err)))
        goto out;
    if (dag.ntasks != 1) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "%s has %zu tasks; a managed job runs one task",
                       dag.path, dag.ntasks);
        goto out;
    }
    const struct task *t = &dag.tasks[0];
    const struct task_resources *r = &t->resources[0];
    enum spot_policy_id pid;
    if (policy && (!spot_policy_by_name(policy, &pid) ||
                   pid == SPOT_POL_OPTIMAL)) {
        rc = skyc_fail(err, SKYC_E_USAGE,
                       "unknown --policy '%s' (use od, greedy, sliced, up, "
                       "adaptive, mz-up or mz-adaptive)",
                       policy);
        goto out;
    }
    if (deadline_h < 0 || work_h < 0) {
        rc = skyc_fail(err, SKYC_E_USAGE, "durations must be positive");
        goto out;
    }
    j.name = xstrdup(name ? name : t->name ? t->name : "");
    if (!*j.name) {
        free(j.name);
        j.name = NULL;
    }
    j.cwd = xstrdup(getcwd(cwd, sizeof(cwd)) ? cwd : "/");
    j.provider = xstrdup(provider);
    j.status = xstrdup(MJOB_PENDING);
    if (deadline_h > 0 || policy) {
        if (!(deadline_h > 0)) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "--policy needs --deadline (the deadline-aware "
                           "mode)");
            goto out;
        }
        j.work_s = (work_h > 0 ? work_h : t->estimated_hours) * 3600;
        if (!(j.work_s > 0)) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "--deadline needs to know the work: pass --work "
                           "48h or set estimated_hours in %s",
                           dag.path);
            goto out;
        }
        if (j.work_s > deadline_h * 3600) {
            rc = skyc_fail(err, SKYC_E_DEADLINE,
                           "the job needs %.4g h but the deadline is %.4g h "
                           "away; even on-demand cannot make it",
                           j.work_s / 3600, deadline_h);
            goto out;
        }
        j.deadline_s = deadline_h * 3600;
        j.strategy = xstrdup(MJOB_DEADLINE);
        j.policy = xstrdup(policy ? policy : "up");
    } else {
        const char *s = r->job_recovery ? r->job_recovery : MJOB_FAILOVER;
        char up[64];
        size_t k = 0;
        for (; s[k] && k + 1 < sizeof(up); k++)
            up[k] = s[k] == '-' ? '_' : (char)toupper((unsigned char)s[k]);
        up[k] = '\0';
        if (strcmp(up, MJOB_FAILOVER) && strcmp(up, MJOB_EAGER)) {
            rc = skyc_fail(err, SKYC_E_INPUT,
                           "%s:%u: job_recovery '%s' is not a strategy (use "
                           "FAILOVER or EAGER_NEXT_REGION, or --deadline for "
                           "the deadline-aware mode)",
                           dag.path, r->mark.line, s);
            goto out;
        }
        j.strategy = xstrdup(up);
        j.work_s = work_h * 3600;
    }
    j.max_restarts = r->max_restarts_on_errors;
    if (r->nrecover_on_exit_codes) {
        struct strbuf sb = STRBUF_INIT;
        for (size_t i = 0; i < r->nrecover_on_exit_codes; i++)
            strbuf_addf(&sb, "%s%ld", i ? "," : "",
                        r->recover_on_exit_codes[i]);
        j.recover_codes = strbuf_detach(&sb, NULL);
    }
    j.task = xstrdup(argv[0]);
    j.hourly = j.od_hourly = NAN;
    j.ended_at = j.sim_launched = j.sim_running = NAN;
    j.submitted_at = state_now();
    /* the controller converts submitted_at to the provider clock when it
     * first sees the job: no provider (nor its catalog) is opened here */
    j.sim_submitted = MJOB_CLOCK_UNSET;
    j.env = jobs_env_snapshot();
    if ((rc = jobs_db_open(&db, err)) || (rc = jobs_db_begin(&db, err)))
        goto out;
    /* one transaction: the controller never sees a half-made row */
    {
        char *dir = NULL, *ck = NULL, *copy = NULL;
        if ((rc = jobs_db_add(&db, &j, err)))
            goto abort;
        dir = jobs_dir(j.id);
        ck = jobs_checkpoint_dir(j.id);
        copy = path_join(dir, "task.yaml");
        path_mkdir_p(ck, 0700);
        if ((rc = copy_file(argv[0], copy, err)))
            goto abort;
        free(j.task);
        j.task = copy;
        copy = NULL;
        /* its SUBMITTED event is the controller's, with the clock */
        if ((rc = jobs_db_update(&db, &j, err)))
            goto abort;
        rc = jobs_db_commit(&db, err);
    abort:
        if (rc)
            jobs_db_rollback(&db);
        free(copy);
        free(ck);
        free(dir);
        if (rc)
            goto out;
    }
    if ((rc = jobs_controller_ensure(err)))
        goto out;
    jobs_controller_wake();
    fprintf(stderr,
            "Managed job %ld submitted (%s). Watch it: skyc jobs queue; "
            "skyc jobs logs -f %ld\n",
            j.id, j.strategy, j.id);
    printf("%ld\n", j.id);
out:
    if (db.db)
        jobs_db_close(&db);
    mjob_release(&j);
    task_dag_release(&dag);
    return rc;
}

static char *where_of(const struct mjob *j)
{
    if (!j->cluster)
        return xstrdup("-");
    return xasprintf("%s %s/%s", j->spot ? "spot" : "on-demand",
                     j->region ? j->region : "-", j->zone ? j->zone : "-");
}

static json_t *job_json(const struct mjob *j, double now)
{
    double od;
    double cost = mjob_cost_now(j, now, &od);
    return json_pack(
        "{s:I, s:s?, s:s, s:s, s:s?, s:I, s:I, s:I, s:s?, s:b, s:s?, s:s?, "
        "s:o, s:o, s:o, s:o, s:f, s:o, s:o, s:s?, s:s?}",
        "id", (json_int_t)j->id, "name", j->name, "status", j->status,
        "strategy", j->strategy, "policy", j->policy, "launches",
        (json_int_t)j->launches, "preemptions", (json_int_t)j->preemptions,
        "restarts", (json_int_t)j->restarts, "cluster", j->cluster, "spot",
        j->spot, "region", j->region, "zone", j->zone, "cost",
        json_real(cost), "od_cost", json_number_or_null(od), "hourly",
        json_number_or_null(j->cluster ? j->hourly : NAN), "run_hours",
        json_real(mjob_run_now(j, now) / 3600), "submitted_at",
        j->submitted_at, "ended_at", json_number_or_null(j->ended_at),
        "deadline_hours",
        j->deadline_s > 0 ? json_real(j->deadline_s / 3600) : json_null(),
        "message", j->message, "tearing_down",
        j->teardown ? j->teardown : j->retiring);
}

static json_t *events_json(const struct mjob_event *ev, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:I, s:f, s:f, s:s, s:s?, s:s, s:f}", "seq",
                         (json_int_t)ev[i].seq, "at", ev[i].at, "sim_at",
                         ev[i].sim_at, "kind", ev[i].kind, "cluster",
                         ev[i].cluster, "detail", ev[i].detail, "cost",
                         ev[i].cost));
    return a;
}

static enum skyc_err jobs_queue(int argc, const char **argv,
                                struct skyc_error *err)
{
    const char *const usage[] = {"skyc jobs queue [--json] [-s]",
                                 "skyc jobs queue [--json] ID   (its history)",
                                 NULL};
    bool json = false, skip = false;
    const struct option opts[] = {
        OPT_FLAG('s', "skip-finished", &skip, "only unfinished jobs"),
        OPT_FLAG(0, "json", &json, "print JSON"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n > 1)
        return skyc_fail(err, SKYC_E_USAGE, "expected at most one job id");
    long id = 0;
    if (n == 1 && !parse_long_range(argv[0], 1, LONG_MAX, &id))
        return skyc_fail(err, SKYC_E_USAGE,
                         "job id must be a positive number, got '%s'",
                         argv[0]);
    struct jobs_db db;
    struct mjob *js = NULL;
    size_t nj = 0;
    struct mjob one = {0};
    struct mjob_event *ev = NULL;
    size_t nev = 0;
    struct clocks clk = {0};
    enum skyc_err rc = jobs_db_open(&db, err);
    if (rc)
        return rc;
    if (id) {
        if ((rc = jobs_db_get(&db, id, &one, err)) ||
            (rc = jobs_db_events(&db, id, &ev, &nev, err)))
            goto out;
        double now = provider_clock(&clk, &one);
        if (json) {
            json_t *o = job_json(&one, now);
            json_object_set_new(o, "events", events_json(ev, nev));
            output_json(o);
            goto out;
        }
        double od;
        double cost = mjob_cost_now(&one, now, &od);
        printf("Managed job %ld%s%s%s: %s (%s%s%s)\n", one.id,
               one.name ? " '" : "", one.name ? one.name : "",
               one.name ? "'" : "", one.status, one.strategy,
               one.policy ? " " : "", one.policy ? one.policy : "");
        printf("Spent $%.4f; all on-demand $%.4f; %ld launch%s, %ld "
               "preemption%s, %ld restart%s\n",
               cost, isnan(od) ? 0 : od, one.launches,
               one.launches == 1 ? "" : "es", one.preemptions,
               one.preemptions == 1 ? "" : "s", one.restarts,
               one.restarts == 1 ? "" : "s");
        struct table t;
        table_init(&t);
        table_add_col(&t, "#", TABLE_RIGHT);
        table_add_col(&t, "SIM_HOURS", TABLE_RIGHT);
        table_add_col(&t, "EVENT", TABLE_LEFT);
        table_add_col(&t, "CLUSTER", TABLE_LEFT);
        table_add_col(&t, "SPENT", TABLE_RIGHT);
        table_add_col(&t, "DETAIL", TABLE_LEFT);
        for (size_t i = 0; i < nev; i++) {
            table_add_row(&t);
            table_cellf(&t, "%ld", ev[i].seq);
            table_cellf(&t, "%.2f", (ev[i].sim_at - one.sim_submitted) / 3600);
            table_cell(&t, ev[i].kind);
            table_cell(&t, ev[i].cluster ? ev[i].cluster : "-");
            table_cellf(&t, "$%.4f", ev[i].cost);
            table_cell(&t, ev[i].detail);
        }
        table_print(&t, stdout);
        table_release(&t);
        goto out;
    }
    if ((rc = jobs_db_list(&db, skip, &js, &nj, err)))
        goto out;
    bool active = false;
    for (size_t i = 0; i < nj && !active; i++)
        active = !mjob_status_terminal(js[i].status);
    if (active && jobs_controller_pid() == 0) {
        /* it died (kill -9, reboot): bring it back to resume watching */
        struct skyc_error e = {0};
        if (jobs_controller_ensure(&e))
            fprintf(stderr, "skyc: warning: %s\n", e.msg);
        else
            fprintf(stderr, "skyc: note: restarted the jobs controller\n");
    }
    if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < nj; i++)
            json_array_append_new(
                a, job_json(&js[i], provider_clock(&clk, &js[i])));
        output_json(a);
        goto out;
    }
    struct table t;
    table_init(&t);
    table_add_col(&t, "ID", TABLE_RIGHT);
    table_add_col(&t, "NAME", TABLE_LEFT);
    table_add_col(&t, "STATUS", TABLE_LEFT);
    table_add_col(&t, "RECOVERY", TABLE_LEFT);
    table_add_col(&t, "LAUNCHES", TABLE_RIGHT);
    table_add_col(&t, "PREEMPT", TABLE_RIGHT);
    table_add_col(&t, "RESTARTS", TABLE_RIGHT);
    table_add_col(&t, "RUNNING ON", TABLE_LEFT);
    table_add_col(&t, "SPENT", TABLE_RIGHT);
    table_add_col(&t, "ALL-OD", TABLE_RIGHT);
    table_add_col(&t, "MESSAGE", TABLE_LEFT);
    for (size_t i = 0; i < nj; i++) {
        const struct mjob *j = &js[i];
        double now = provider_clock(&clk, j), od;
        double cost = mjob_cost_now(j, now, &od);
        char *w = where_of(j);
        table_add_row(&t);
        table_cellf(&t, "%ld", j->id);
        table_cell(&t, j->name ? j->name : "-");
        table_cell(&t, j->status);
        if (j->policy)
            table_cellf(&t, "%s/%s", j->strategy, j->policy);
        else
            table_cell(&t, j->strategy);
        table_cellf(&t, "%ld", j->launches);
        table_cellf(&t, "%ld", j->preemptions);
        table_cellf(&t, "%ld", j->restarts);
        table_cell(&t, w);
        table_cellf(&t, "$%.4f", cost);
        if (isnan(od))
            table_cell(&t, "-");
        else
            table_cellf(&t, "$%.4f", od);
        table_cell(&t, j->message ? j->message : "-");
        free(w);
    }
    table_print(&t, stdout);
    table_release(&t);
    if (!nj)
        fprintf(stderr, "No managed jobs. Submit one: skyc jobs launch "
                        "TASK.yaml\n");
out:
    clocks_release(&clk);
    mjob_events_free(ev, nev);
    mjob_release(&one);
    mjob_list_free(js, nj);
    jobs_db_close(&db);
    return rc;
}

static volatile sig_atomic_t logs_stop;

static void on_logs_sigint(int sig)
{
    (void)sig;
    logs_stop = 1;
}

/* Keys ("CLUSTER JOB") already streamed live, skipped in the archive. */
struct streamed {
    char **keys;
    size_t n, alloc;
};

static bool streamed_has(const struct streamed *s, const char *key)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i], key))
            return true;
    return false;
}

/* Print the archive from *off on, skipping sections streamed live. */
static void drain_archive(const char *path, size_t *off, bool *skip,
                          const struct streamed *s)
{
    struct strbuf sb = STRBUF_INIT;
    if (strbuf_read_file(&sb, path) || sb.len <= *off) {
        strbuf_release(&sb);
        return;
    }
    const char *p = sb.buf + *off, *end = sb.buf + sb.len;
    size_t hl = strlen(MJOB_LOG_HEADER);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a partial line: next time */
        size_t len = (size_t)(nl - p) + 1;
        if (len > hl && !strncmp(p, MJOB_LOG_HEADER, hl)) {
            char *key = xstrndup(p + hl, len - hl - 1);
            *skip = streamed_has(s, key);
            free(key);
        } else if (!*skip)
            fwrite(p, 1, len, stdout);
        p = nl + 1;
    }
    *off = (size_t)(p - sb.buf);
    fflush(stdout);
    strbuf_release(&sb);
}

static enum skyc_err jobs_logs(int argc, const char **argv,
                               struct skyc_error *err)
{
    const char *const usage[] = {"skyc jobs logs [-f] ID", NULL};
    bool follow = false;
    const struct option opts[] = {
        OPT_FLAG('f', "follow", &follow,
                 "keep printing until the job ends, across relaunches"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    long id;
    if (n != 1 || !parse_long_range(argv[0], 1, LONG_MAX, &id))
        return skyc_fail(err, SKYC_E_USAGE, "expected one managed job id");
    struct jobs_db db;
    struct state st = {0};
    struct mjob j = {0};
    struct streamed s = {0};
    enum skyc_err rc = jobs_db_open(&db, err);
    if (rc)
        return rc;
    if ((rc = jobs_db_get(&db, id, &j, err)) || (rc = state_open(&st, err)))
        goto out;
    struct sigaction sa = {.sa_handler = on_logs_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    logs_stop = 0;
    char *dir = jobs_dir(id);
    char *arch = path_join(dir, "job.log");
    free(dir);
    size_t off = 0;
    bool skip = false;
    for (;;) {
        drain_archive(arch, &off, &skip, &s);
        mjob_release(&j);
        if ((rc = jobs_db_get(&db, id, &j, err)))
            break;
        if (mjob_status_terminal(j.status) || logs_stop) {
            drain_archive(arch, &off, &skip, &s);
            break;
        }
        char key[128];
        if (j.cluster && j.cluster_job > 0 &&
            !strcmp(j.status, MJOB_RUNNING)) {
            snprintf(key, sizeof(key), "%s %ld", j.cluster, j.cluster_job);
            if (!streamed_has(&s, key)) {
                char *status = NULL;
                int code;
                struct skyc_error e = {0};
                if (rt_tail_job(&st, j.cluster, j.cluster_job, follow, stdout,
                                &logs_stop, &status, &code, &e) == SKYC_OK &&
                    (status || follow)) {
                    ALLOC_GROW(s.keys, s.n + 1, s.alloc);
                    s.keys[s.n++] = xstrdup(key);
                }
                free(status);
                fflush(stdout);
            }
        }
        if (!follow)
            break;
        usleep(100000);
    }
    sigaction(SIGINT, &old, NULL);
    free(arch);
    if (!rc && follow && mjob_status_terminal(j.status))
        fprintf(stderr, "Managed job %ld: %s%s%s\n", id, j.status,
                j.message ? " - " : "", j.message ? j.message : "");
out:
    for (size_t i = 0; i < s.n; i++)
        free(s.keys[i]);
    free(s.keys);
    mjob_release(&j);
    if (st.db)
        state_close(&st);
    jobs_db_close(&db);
    return rc;
}

static enum skyc_err jobs_cancel(int argc, const char **argv,
                                 struct skyc_error *err)
{
    const char *const usage[] = {"skyc jobs cancel ID...", NULL};
    const struct option opts[] = {OPT_END()};
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n < 1)
        return skyc_fail(err, SKYC_E_USAGE, "expected managed job ids");
    struct jobs_db db;
    enum skyc_err rc = jobs_db_open(&db, err);
    if (rc)
        return rc;
    long *ids = xcalloc((size_t)n, sizeof(*ids));
    for (int i = 0; i < n; i++) {
        struct mjob j;
        if (!parse_long_range(argv[i], 1, LONG_MAX, &ids[i])) {
            rc = skyc_fail(err, SKYC_E_USAGE,
                           "job id must be a positive number, got '%s'",
                           argv[i]);
            goto out;
        }
        if ((rc = jobs_db_get(&db, ids[i], &j, err)))
            goto out;
        bool done = mjob_status_terminal(j.status);
        if (done)
            fprintf(stderr, "Managed job %ld already %s.\n", ids[i], j.status);
        mjob_release(&j);
        if (done)
            ids[i] = 0;
        else if ((rc = jobs_db_request_cancel(&db, ids[i], err)))
            goto out;
    }
    if ((rc = jobs_controller_ensure(err)))
        goto out;
    jobs_controller_wake();
    /* the controller cancels and tears the cluster down; wait for both
     * (bounded) */
    for (int i = 0; i < n; i++) {
        if (!ids[i])
            continue;
        struct mjob j = {0};
        for (int tries = 0; tries < 600; tries++) {
            mjob_release(&j);
            if (jobs_db_get(&db, ids[i], &j, NULL) ||
                (mjob_status_terminal(j.status) && !j.retiring && !j.teardown))
                break;
            usleep(50000);
        }
        if (j.status && mjob_status_terminal(j.status) && !j.retiring &&
            !j.teardown)
            fprintf(stderr, "Managed job %ld: %s.\n", ids[i], j.status);
        else if (j.status && mjob_status_terminal(j.status))
            rc = skyc_fail(err, SKYC_E_FAILED,
                           "managed job %ld is %s but its cluster '%s' is "
                           "still being torn down after 30 s (the "
                           "controller keeps at it)",
                           ids[i], j.status,
                           j.teardown ? j.teardown : j.retiring);
        else
            rc = skyc_fail(err, SKYC_E_FAILED,
                           "managed job %ld is still %s after 30 s (the "
                           "controller will finish cancelling it)",
                           ids[i], j.status ? j.status : "unknown");
        mjob_release(&j);
    }
out:
    free(ids);
    jobs_db_close(&db);
    return rc;
}

static enum skyc_err jobs_controller(int argc, const char **argv,
                                     struct skyc_error *err)
{
    const char *const usage[] = {"skyc jobs controller [--foreground]",
                                 NULL};
    bool fg = false;
    const struct option opts[] = {
        OPT_FLAG(0, "foreground", &fg,
                 "log to stderr and never exit when idle (systemd)"),
        OPT_END(),
    };
    int n = parse_options(argc, argv, opts, usage, err);
    if (n < 0)
        return n == PARSE_OPT_HELP ? SKYC_OK : SKYC_E_USAGE;
    if (n)
        return skyc_fail(err, SKYC_E_USAGE, "unexpected argument '%s'",
                         argv[0]);
    return jobs_controller_main(fg) ? SKYC_E_FAILED : SKYC_OK;
}

static const struct cli_command jobs_commands[] = {
    {"launch", jobs_launch, "Submit a managed job (kept running to the end)"},
    {"queue", jobs_queue, "Show managed jobs, or one job's history"},
    {"logs", jobs_logs, "Print (-f: follow) a managed job's output"},
    {"cancel", jobs_cancel, "Cancel managed jobs and tear their clusters down"},
    {"controller", jobs_controller, "(internal) the controller daemon"},
    {NULL, NULL, NULL},
};

enum skyc_err cmd_jobs(int argc, const char **argv, struct skyc_error *err)
{
    return cli_dispatch("skyc jobs", jobs_commands, argc - 1, argv + 1, err);
}
