/*
 * jobs_db.c - the jobs plane's SQLite file (jobs.h): schema, one function
 * per read or write, the job's directories and its cost so far.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "core/strbuf.h"
#include "jobs/jobs.h"
#include "state/state.h"
#include "state/db.h"

#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS mjobs ("
    " id INTEGER PRIMARY KEY, name TEXT, task TEXT NOT NULL, cwd TEXT NOT NULL,"
    " provider TEXT NOT NULL, status TEXT NOT NULL, strategy TEXT NOT NULL,"
    " policy TEXT, deadline_s REAL NOT NULL, work_s REAL NOT NULL,"
    " max_restarts INTEGER NOT NULL, recover_codes TEXT,"
    " restarts INTEGER NOT NULL, launches INTEGER NOT NULL,"
    " preemptions INTEGER NOT NULL, cluster TEXT,"
    " cluster_job INTEGER NOT NULL, spot INTEGER NOT NULL, region TEXT,"
    " zone TEXT, hourly REAL, od_hourly REAL, avoid_region TEXT,"
    " submitted_at REAL NOT NULL, ended_at REAL, sim_submitted REAL NOT NULL,"
    " sim_launched REAL, sim_running REAL, run_s REAL NOT NULL,"
    " cost REAL NOT NULL, cancel_requested INTEGER NOT NULL, message TEXT,"
    " controller_pid INTEGER NOT NULL, retiring TEXT, env TEXT,"
    " teardown TEXT) STRICT;"
    "CREATE TABLE IF NOT EXISTS mjob_events ("
    " job_id INTEGER NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL,"
    " sim_at REAL NOT NULL, kind TEXT NOT NULL, cluster TEXT,"
    " detail TEXT NOT NULL, cost REAL NOT NULL,"
    " PRIMARY KEY (job_id, seq)) STRICT;";

#define MJOB_COLS                                                             \
    "name, task, cwd, provider, status, strategy, policy, deadline_s,"        \
    " work_s, max_restarts, recover_codes, restarts, launches, preemptions,"  \
    " cluster, cluster_job, spot, region, zone, hourly, od_hourly,"           \
    " avoid_region, submitted_at, ended_at, sim_submitted, sim_launched,"     \
    " sim_running, run_s, cost, cancel_requested, message, controller_pid,"                 \
    " retiring, env, teardown"
#define MJOB_NCOLS 35
#define MJOB_TERMINAL_SQL                                                     \
    "('SUCCEEDED','FAILED','FAILED_SETUP','FAILED_NO_RESOURCE','CANCELLED')"

bool mjob_status_terminal(const char *s)
{
    return !strcmp(s, MJOB_SUCCEEDED) || !strcmp(s, MJOB_FAILED) ||
           !strcmp(s, MJOB_FAILED_SETUP) ||
           !strcmp(s, MJOB_FAILED_NO_RESOURCE) || !strcmp(s, MJOB_CANCELLED);
}

void mjob_release(struct mjob *j)
{
    free(j->name);
    free(j->task);
    free(j->cwd);
    free(j->provider);
    free(j->status);
    free(j->strategy);
    free(j->policy);
    free(j->recover_codes);
    free(j->cluster);
    free(j->region);
    free(j->zone);
    free(j->avoid_region);
    free(j->message);
    free(j->retiring);
    free(j->env);
    free(j->teardown);
    memset(j, 0, sizeof(*j));
}

void mjob_list_free(struct mjob *j, size_t n)
{
    for (size_t i = 0; i < n; i++)
        mjob_release(&j[i]);
    free(j);
}

void mjob_events_free(struct mjob_event *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(e[i].kind);
        free(e[i].cluster);
        free(e[i].detail);
    }
    free(e);
}

static enum skyc_err db_fail(struct jobs_db *db, struct skyc_error *err,
                             const char *what)
{
    return skyc_fail(err, SKYC_E_STATE, "jobs database '%s': %s: %s",
                     db->path, what, sqlite3_errmsg(db->db));
}

enum skyc_err jobs_db_open(struct jobs_db *db, struct skyc_error *err)
{
    enum skyc_err rc = SKYC_E_STATE;
    memset(db, 0, sizeof(*db));
    char *dir = path_state_dir();
    if (path_mkdir_p(dir, 0700)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", dir,
                       strerror(errno));
        free(dir);
        return rc;
    }
    db->path = path_join(dir, "jobs.db");
    free(dir);
    if (sqlite3_open_v2(db->path, &db->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = skyc_fail(err, SKYC_E_STATE,
                       "cannot open jobs database '%s': %s", db->path,
                       db->db ? sqlite3_errmsg(db->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db->db, 10000);
    if (sqlite3_exec(db->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) ||
        sqlite3_exec(db->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) ||
        sqlite3_exec(db->db, schema, NULL, NULL, NULL)) {
        rc = db_fail(db, err, "create tables");
        goto fail;
    }
    /* files from before these columns: add them (NULL env = the
     * controller's own settings, as those jobs always had) */
    static const char *const added[][2] = {
        {"SELECT env FROM mjobs LIMIT 0",
         "ALTER TABLE mjobs ADD COLUMN env TEXT"},
        {"SELECT teardown FROM mjobs LIMIT 0",
         "ALTER TABLE mjobs ADD COLUMN teardown TEXT"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(added); i++)
        if (sqlite3_exec(db->db, added[i][0], NULL, NULL, NULL) !=
                SQLITE_OK &&
            sqlite3_exec(db->db, added[i][1], NULL, NULL, NULL) !=
                SQLITE_OK) {
            rc = db_fail(db, err, "add a column");
            goto fail;
        }
    return SKYC_OK;
fail:
    jobs_db_close(db);
    return rc;
}

void jobs_db_close(struct jobs_db *db)
{
    if (db->db)
        sqlite3_close(db->db);
    free(db->path);
    memset(db, 0, sizeof(*db));
}

/* Bind the MJOB_COLS of j at 1..MJOB_NCOLS. */
static void bind_job(sqlite3_stmt *s, const struct mjob *j)
{
    int i = 1;
    db_bind_text(s, i++, j->name);
    db_bind_text(s, i++, j->task);
    db_bind_text(s, i++, j->cwd);
    db_bind_text(s, i++, j->provider);
    db_bind_text(s, i++, j->status);
    db_bind_text(s, i++, j->strategy);
    db_bind_text(s, i++, j->policy);
    sqlite3_bind_double(s, i++, j->deadline_s);
    sqlite3_bind_double(s, i++, j->work_s);
    sqlite3_bind_int64(s, i++, j->max_restarts);
    db_bind_text(s, i++, j->recover_codes);
    sqlite3_bind_int64(s, i++, j->restarts);
    sqlite3_bind_int64(s, i++, j->launches);
    sqlite3_bind_int64(s, i++, j->preemptions);
    db_bind_text(s, i++, j->cluster);
    sqlite3_bind_int64(s, i++, j->cluster_job);
    sqlite3_bind_int64(s, i++, j->spot);
    db_bind_text(s, i++, j->region);
    db_bind_text(s, i++, j->zone);
    db_bind_real(s, i++, j->hourly);
    db_bind_real(s, i++, j->od_hourly);
    db_bind_text(s, i++, j->avoid_region);
    sqlite3_bind_double(s, i++, j->submitted_at);
    db_bind_real(s, i++, j->ended_at);
    sqlite3_bind_double(s, i++, j->sim_submitted);
    db_bind_real(s, i++, j->sim_launched);
    db_bind_real(s, i++, j->sim_running);
    sqlite3_bind_double(s, i++, j->run_s);
    sqlite3_bind_double(s, i++, j->cost);
    sqlite3_bind_int64(s, i++, j->cancel_requested);
    db_bind_text(s, i++, j->message);
    sqlite3_bind_int64(s, i++, j->controller_pid);
    db_bind_text(s, i++, j->retiring);
    db_bind_text(s, i++, j->env);
    db_bind_text(s, i++, j->teardown);
}

/* Read id, MJOB_COLS. */
static void read_job(sqlite3_stmt *s, struct mjob *j)
{
    int i = 0;
    j->id = (long)sqlite3_column_int64(s, i++);
    j->name = db_col_text(s, i++);
    j->task = db_col_text(s, i++);
    j->cwd = db_col_text(s, i++);
    j->provider = db_col_text(s, i++);
    j->status = db_col_text(s, i++);
    j->strategy = db_col_text(s, i++);
    j->policy = db_col_text(s, i++);
    j->deadline_s = sqlite3_column_double(s, i++);
    j->work_s = sqlite3_column_double(s, i++);
    j->max_restarts = (long)sqlite3_column_int64(s, i++);
    j->recover_codes = db_col_text(s, i++);
    j->restarts = (long)sqlite3_column_int64(s, i++);
    j->launches = (long)sqlite3_column_int64(s, i++);
    j->preemptions = (long)sqlite3_column_int64(s, i++);
    j->cluster = db_col_text(s, i++);
    j->cluster_job = (long)sqlite3_column_int64(s, i++);
    j->spot = sqlite3_column_int64(s, i++) != 0;
    j->region = db_col_text(s, i++);
    j->zone = db_col_text(s, i++);
    j->hourly = db_col_real(s, i++);
    j->od_hourly = db_col_real(s, i++);
    j->avoid_region = db_col_text(s, i++);
    j->submitted_at = sqlite3_column_double(s, i++);
    j->ended_at = db_col_real(s, i++);
    j->sim_submitted = sqlite3_column_double(s, i++);
    j->sim_launched = db_col_real(s, i++);
    j->sim_running = db_col_real(s, i++);
    j->run_s = sqlite3_column_double(s, i++);
    j->cost = sqlite3_column_double(s, i++);
    j->cancel_requested = sqlite3_column_int64(s, i++) != 0;
    j->message = db_col_text(s, i++);
    j->controller_pid = (long)sqlite3_column_int64(s, i++);
    j->retiring = db_col_text(s, i++);
    j->env = db_col_text(s, i++);
    j->teardown = db_col_text(s, i++);
}

static sqlite3_stmt *prep(struct jobs_db *db, const char *sql,
                          struct skyc_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(db, err, "prepare");
        return NULL;
    }
    return s;
}

enum skyc_err jobs_db_add(struct jobs_db *db, struct mjob *j,
                          struct skyc_error *err)
{
    sqlite3_stmt *s = prep(db,
                           "INSERT INTO mjobs (" MJOB_COLS ") VALUES (?,?,?,?,"
                           "?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
                           "?,?,?,?,?,?)",
                           err);
    if (!s)
        return SKYC_E_STATE;
    bind_job(s, j);
    enum skyc_err rc = SKYC_OK;
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(db, err, "add job");
    else
        j->id = (long)sqlite3_last_insert_rowid(db->db);
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err jobs_db_update(struct jobs_db *db, const struct mjob *j,
                             struct skyc_error *err)
{
    /* the cancel flag is only ever set by jobs_db_request_cancel */
    sqlite3_stmt *s = prep(
        db,
        "UPDATE mjobs SET (" MJOB_COLS ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,"
        "?,?,?,?,?,?,?,?,?,?,?,?,?,max(cancel_requested, ?),?,?,?,?,?) WHERE id = ?",
        err);
    if (!s)
        return SKYC_E_STATE;
    bind_job(s, j);
    sqlite3_bind_int64(s, MJOB_NCOLS + 1, j->id);
    enum skyc_err rc = SKYC_OK;
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(db, err, "update job");
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err jobs_db_get(struct jobs_db *db, long id, struct mjob *j,
                          struct skyc_error *err)
{
    memset(j, 0, sizeof(*j));
    sqlite3_stmt *s =
        prep(db, "SELECT id, " MJOB_COLS " FROM mjobs WHERE id = ?", err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, id);
    enum skyc_err rc = SKYC_OK;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        read_job(s, j);
    else if (r == SQLITE_DONE)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no managed job %ld (see 'skyc jobs queue')", id);
    else
        rc = db_fail(db, err, "read job");
    sqlite3_finalize(s);
    return rc;
}

/* Run a SELECT id, MJOB_COLS query (bound by bind_after when > 0). */
static enum skyc_err list_query(struct jobs_db *db, const char *sql,
                                long bind_after, struct mjob **js, size_t *n,
                                struct skyc_error *err)
{
    *js = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(db, sql, err);
    if (!s)
        return SKYC_E_STATE;
    if (bind_after >= 0)
        sqlite3_bind_int64(s, 1, bind_after);
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*js, *n + 1, alloc);
        memset(&(*js)[*n], 0, sizeof(**js));
        read_job(s, &(*js)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        mjob_list_free(*js, *n);
        *js = NULL;
        *n = 0;
        return db_fail(db, err, "list jobs");
    }
    return SKYC_OK;
}

enum skyc_err jobs_db_list(struct jobs_db *db, bool only_active,
                           struct mjob **js, size_t *n,
                           struct skyc_error *err)
{
    return list_query(
        db,
        only_active ? "SELECT id, " MJOB_COLS " FROM mjobs WHERE status NOT IN "
                      MJOB_TERMINAL_SQL " ORDER BY id"
                    : "SELECT id, " MJOB_COLS " FROM mjobs ORDER BY id",
        -1, js, n, err);
}

enum skyc_err jobs_db_list_work(struct jobs_db *db, long after_id,
                                struct mjob **js, size_t *n,
                                struct skyc_error *err)
{
    return list_query(
        db,
        "SELECT id, " MJOB_COLS " FROM mjobs WHERE (id > ?1 AND (status NOT"
        " IN " MJOB_TERMINAL_SQL " OR retiring IS NOT NULL OR teardown IS NOT"
        " NULL)) OR (id <= ?1 AND"
        " cancel_requested = 1 AND status NOT IN " MJOB_TERMINAL_SQL
        ") ORDER BY id",
        after_id, js, n, err);
}

enum skyc_err jobs_db_begin(struct jobs_db *db, struct skyc_error *err)
{
    if (sqlite3_exec(db->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
        SQLITE_OK)
        return db_fail(db, err, "begin");
    return SKYC_OK;
}

enum skyc_err jobs_db_commit(struct jobs_db *db, struct skyc_error *err)
{
    if (sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        enum skyc_err rc = db_fail(db, err, "commit");
        jobs_db_rollback(db);
        return rc;
    }
    return SKYC_OK;
}

void jobs_db_rollback(struct jobs_db *db)
{
    sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
}

enum skyc_err jobs_db_request_cancel(struct jobs_db *db, long id,
                                     struct skyc_error *err)
{
    sqlite3_stmt *s =
        prep(db, "UPDATE mjobs SET cancel_requested = 1 WHERE id = ?", err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, id);
    enum skyc_err rc = SKYC_OK;
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(db, err, "cancel job");
    else if (!sqlite3_changes(db->db))
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no managed job %ld (see 'skyc jobs queue')", id);
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err jobs_db_event(struct jobs_db *db, long job_id, double sim_at,
                            const char *kind, const char *cluster,
                            double cost, struct skyc_error *err,
                            const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    enum skyc_err rc = SKYC_OK;
    sqlite3_stmt *s = prep(
        db,
        "INSERT INTO mjob_events (job_id, seq, at, sim_at, kind, cluster,"
        " detail, cost) VALUES (?1, (SELECT coalesce(max(seq), 0) + 1 FROM"
        " mjob_events WHERE job_id = ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
        err);
    if (!s) {
        rc = SKYC_E_STATE;
        goto out;
    }
    sqlite3_bind_int64(s, 1, job_id);
    sqlite3_bind_double(s, 2, state_now());
    sqlite3_bind_double(s, 3, sim_at);
    db_bind_text(s, 4, kind);
    db_bind_text(s, 5, cluster);
    db_bind_text(s, 6, sb.buf);
    sqlite3_bind_double(s, 7, isnan(cost) ? 0 : cost);
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(db, err, "add event");
    sqlite3_finalize(s);
out:
    strbuf_release(&sb);
    return rc;
}

enum skyc_err jobs_db_events(struct jobs_db *db, long job_id,
                             struct mjob_event **ev, size_t *n,
                             struct skyc_error *err)
{
    *ev = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(db,
                           "SELECT seq, at, sim_at, kind, cluster, detail, "
                           "cost FROM mjob_events WHERE job_id = ? ORDER BY "
                           "seq",
                           err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, job_id);
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*ev, *n + 1, alloc);
        struct mjob_event *e = &(*ev)[(*n)++];
        e->job_id = job_id;
        e->seq = (long)sqlite3_column_int64(s, 0);
        e->at = sqlite3_column_double(s, 1);
        e->sim_at = sqlite3_column_double(s, 2);
        e->kind = db_col_text(s, 3);
        e->cluster = db_col_text(s, 4);
        e->detail = db_col_text(s, 5);
        e->cost = sqlite3_column_double(s, 6);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        mjob_events_free(*ev, *n);
        *ev = NULL;
        *n = 0;
        return db_fail(db, err, "list events");
    }
    return SKYC_OK;
}

char *jobs_dir(long id)
{
    char *dir = path_state_dir();
    char *d = xasprintf("%s/jobs/%ld", dir, id);
    free(dir);
    return d;
}

char *jobs_checkpoint_dir(long id)
{
    char *d = jobs_dir(id);
    char *c = path_join(d, "checkpoint");
    free(d);
    return c;
}

char *jobs_controller_log(void)
{
    char *dir = path_state_dir();
    char *d = xasprintf("%s/jobs/controller.log", dir);
    free(dir);
    return d;
}

double mjob_run_now(const struct mjob *j, double sim_now)
{
    double r = j->run_s;
    if (j->cluster && !isnan(j->sim_running) && sim_now > j->sim_running)
        r += sim_now - j->sim_running;
    return r;
}

double mjob_cost_now(const struct mjob *j, double sim_now, double *od)
{
    double c = j->cost;
    if (j->cluster && !isnan(j->sim_launched) && !isnan(j->hourly) &&
        sim_now > j->sim_launched)
        c += j->hourly * (sim_now - j->sim_launched) / 3600.0;
    if (od)
        *od = isnan(j->od_hourly) ? NAN
                                  : j->od_hourly * mjob_run_now(j, sim_now) /
                                        3600.0;
    return c;
}
