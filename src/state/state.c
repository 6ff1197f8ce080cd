/*
 * state.c - the SQLite side of state.h: schema, WAL, busy timeout, and
 * one function per read or write.
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/paths.h"
#include "state/state.h"
#include "state/db.h"

#include <sqlite3.h>
#include <sys/time.h>

#define SCHEMA_VERSION 1

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS clusters ("
    " name TEXT PRIMARY KEY, provider TEXT NOT NULL, status TEXT NOT NULL,"
    " num_nodes INTEGER NOT NULL, cloud TEXT, region TEXT, zone TEXT,"
    " instance_type TEXT, spot INTEGER NOT NULL, hourly_price REAL,"
    " cpus REAL NOT NULL, gpus REAL NOT NULL, launched_at REAL NOT NULL,"
    " updated_at REAL NOT NULL, agent_pid INTEGER NOT NULL,"
    " owner_pid INTEGER NOT NULL, setup_hash TEXT,"
    " autostop_minutes REAL NOT NULL, autostop_down INTEGER NOT NULL,"
    " history_id INTEGER NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS nodes ("
    " cluster TEXT NOT NULL, rank INTEGER NOT NULL, id TEXT NOT NULL,"
    " ip TEXT, workdir TEXT, region TEXT, zone TEXT, instance_type TEXT,"
    " spot INTEGER NOT NULL, hourly_price REAL, cpus REAL NOT NULL,"
    " gpus REAL NOT NULL, PRIMARY KEY (cluster, rank)) STRICT;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " cluster TEXT NOT NULL, id INTEGER NOT NULL, name TEXT,"
    " status TEXT NOT NULL, submitted_at REAL NOT NULL, started_at REAL,"
    " ended_at REAL, exit_code INTEGER NOT NULL, cpus REAL NOT NULL,"
    " gpus REAL NOT NULL, num_nodes INTEGER NOT NULL, run TEXT, setup TEXT,"
    " envs TEXT NOT NULL, log_path TEXT NOT NULL, procs TEXT,"
    " cancel_requested INTEGER NOT NULL, PRIMARY KEY (cluster, id)) STRICT;"
    "CREATE TABLE IF NOT EXISTS history ("
    " id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, provider TEXT NOT NULL,"
    " cloud TEXT, region TEXT, instance_type TEXT, spot INTEGER NOT NULL,"
    " num_nodes INTEGER NOT NULL, hourly_price REAL,"
    " launched_at REAL NOT NULL, ended_at REAL,"
    " billed_seconds REAL NOT NULL, running_since REAL,"
    " status TEXT NOT NULL) STRICT;"
    "CREATE TABLE IF NOT EXISTS attempts ("
    " history_id INTEGER NOT NULL, seq INTEGER NOT NULL, cloud TEXT,"
    " region TEXT, zone TEXT, instance_type TEXT, spot INTEGER NOT NULL,"
    " result TEXT NOT NULL, message TEXT, at REAL NOT NULL,"
    " PRIMARY KEY (history_id, seq)) STRICT;";

double state_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static enum skyc_err db_fail(struct state *st, struct skyc_error *err,
                             const char *what)
{
    int code = sqlite3_errcode(st->db);
    return skyc_fail(err, SKYC_E_STATE, "state database '%s': %s: %s%s",
                     st->path, what, sqlite3_errmsg(st->db),
                     code == SQLITE_BUSY || code == SQLITE_LOCKED
                         ? " (another skyc holds it; retry)"
                         : "");
}

static enum skyc_err exec_sql(struct state *st, const char *sql,
                              struct skyc_error *err)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(st, err, "exec");
    return SKYC_OK;
}

enum skyc_err state_open_path(struct state *st, const char *path,
                              struct skyc_error *err)
{
    enum skyc_err rc;
    memset(st, 0, sizeof(*st));
    st->path = xstrdup(path);
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = skyc_fail(err, SKYC_E_STATE, "cannot open state database '%s': %s",
                       path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 10000);
    int version = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version == SCHEMA_VERSION) {
        if ((rc = exec_sql(st, "PRAGMA synchronous=NORMAL", err)))
            goto fail;
        return SKYC_OK;
    }
    if (version > SCHEMA_VERSION) {
        rc = skyc_fail(err, SKYC_E_STATE,
                       "state database '%s' has schema %d, newer than this "
                       "skyc (%d); upgrade skyc",
                       path, version, SCHEMA_VERSION);
        goto fail;
    }
    if ((rc = exec_sql(st, "PRAGMA journal_mode=WAL", err)) ||
        (rc = exec_sql(st, "PRAGMA synchronous=NORMAL", err)) ||
        (rc = state_begin(st, err)))
        goto fail;
    if ((rc = exec_sql(st, schema, err)) ||
        (rc = exec_sql(st, "PRAGMA user_version=1", err))) {
        state_rollback(st);
        goto fail;
    }
    if ((rc = state_commit(st, err)))
        goto fail;
    return SKYC_OK;
fail:
    state_close(st);
    return rc;
}

enum skyc_err state_open(struct state *st, struct skyc_error *err)
{
    char *dir = path_state_dir();
    enum skyc_err rc;
    if (path_mkdir_p(dir, 0700)) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot create '%s': %s", dir,
                       strerror(errno));
        free(dir);
        memset(st, 0, sizeof(*st));
        return rc;
    }
    char *path = path_join(dir, "state.db");
    rc = state_open_path(st, path, err);
    free(path);
    free(dir);
    return rc;
}

void state_close(struct state *st)
{
    if (st->db)
        sqlite3_close(st->db);
    free(st->path);
    memset(st, 0, sizeof(*st));
}

enum skyc_err state_begin(struct state *st, struct skyc_error *err)
{
    return exec_sql(st, "BEGIN IMMEDIATE", err);
}

enum skyc_err state_commit(struct state *st, struct skyc_error *err)
{
    return exec_sql(st, "COMMIT", err);
}

void state_rollback(struct state *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- binding helpers ---------------------------------------------------- */

static sqlite3_stmt *prep(struct state *st, const char *sql,
                          struct skyc_error *err)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(st, err, "prepare");
        return NULL;
    }
    return s;
}

/* Step a write statement to completion and finalize it. */
static enum skyc_err step_done(struct state *st, sqlite3_stmt *s,
                               struct skyc_error *err, const char *what)
{
    enum skyc_err rc = SKYC_OK;
    if (!s)
        return SKYC_E_STATE;
    if (sqlite3_step(s) != SQLITE_DONE)
        rc = db_fail(st, err, what);
    sqlite3_finalize(s);
    return rc;
}

/* --- clusters ------------------------------------------------------------ */

#define CLUSTER_COLS                                                           \
    "name, provider, status, num_nodes, cloud, region, zone, instance_type,"   \
    " spot, hourly_price, cpus, gpus, launched_at, updated_at, agent_pid,"     \
    " owner_pid, setup_hash, autostop_minutes, autostop_down, history_id"

void state_cluster_release(struct state_cluster *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->provider);
    free(c->status);
    free(c->cloud);
    free(c->region);
    free(c->zone);
    free(c->instance_type);
    free(c->setup_hash);
    memset(c, 0, sizeof(*c));
}

void state_cluster_list_free(struct state_cluster *c, size_t n)
{
    for (size_t i = 0; c && i < n; i++)
        state_cluster_release(&c[i]);
    free(c);
}

static void cluster_bind(sqlite3_stmt *s, const struct state_cluster *c)
{
    db_bind_text(s, 1, c->name);
    db_bind_text(s, 2, c->provider);
    db_bind_text(s, 3, c->status);
    sqlite3_bind_int64(s, 4, c->num_nodes);
    db_bind_text(s, 5, c->cloud);
    db_bind_text(s, 6, c->region);
    db_bind_text(s, 7, c->zone);
    db_bind_text(s, 8, c->instance_type);
    sqlite3_bind_int(s, 9, c->spot);
    db_bind_real(s, 10, c->hourly_price);
    sqlite3_bind_double(s, 11, c->cpus);
    sqlite3_bind_double(s, 12, c->gpus);
    sqlite3_bind_double(s, 13, c->launched_at);
    sqlite3_bind_double(s, 14, c->updated_at);
    sqlite3_bind_int64(s, 15, c->agent_pid);
    sqlite3_bind_int64(s, 16, c->owner_pid);
    db_bind_text(s, 17, c->setup_hash);
    sqlite3_bind_double(s, 18, c->autostop_minutes);
    sqlite3_bind_int(s, 19, c->autostop_down);
    sqlite3_bind_int64(s, 20, c->history_id);
}

static void cluster_read(sqlite3_stmt *s, struct state_cluster *c)
{
    c->name = db_col_text(s, 0);
    c->provider = db_col_text(s, 1);
    c->status = db_col_text(s, 2);
    c->num_nodes = (long)sqlite3_column_int64(s, 3);
    c->cloud = db_col_text(s, 4);
    c->region = db_col_text(s, 5);
    c->zone = db_col_text(s, 6);
    c->instance_type = db_col_text(s, 7);
    c->spot = sqlite3_column_int(s, 8);
    c->hourly_price = db_col_real(s, 9);
    c->cpus = sqlite3_column_double(s, 10);
    c->gpus = sqlite3_column_double(s, 11);
    c->launched_at = sqlite3_column_double(s, 12);
    c->updated_at = sqlite3_column_double(s, 13);
    c->agent_pid = (long)sqlite3_column_int64(s, 14);
    c->owner_pid = (long)sqlite3_column_int64(s, 15);
    c->setup_hash = db_col_text(s, 16);
    c->autostop_minutes = sqlite3_column_double(s, 17);
    c->autostop_down = sqlite3_column_int(s, 18);
    c->history_id = (long)sqlite3_column_int64(s, 19);
}

enum skyc_err state_cluster_get(struct state *st, const char *name,
                                struct state_cluster *c,
                                struct skyc_error *err)
{
    memset(c, 0, sizeof(*c));
    sqlite3_stmt *s =
        prep(st, "SELECT " CLUSTER_COLS " FROM clusters WHERE name = ?", err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, name);
    enum skyc_err rc = SKYC_OK;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        cluster_read(s, c);
    else if (r == SQLITE_DONE)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "no cluster named '%s' (see 'skyc status')", name);
    else
        rc = db_fail(st, err, "read cluster");
    sqlite3_finalize(s);
    return rc;
}

static enum skyc_err list_clusters(struct state *st, const char *sql,
                                   struct state_cluster **cs, size_t *n,
                                   struct skyc_error *err)
{
    *cs = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(st, sql, err);
    if (!s)
        return SKYC_E_STATE;
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*cs, *n + 1, alloc);
        memset(&(*cs)[*n], 0, sizeof(**cs));
        cluster_read(s, &(*cs)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        state_cluster_list_free(*cs, *n);
        *cs = NULL;
        *n = 0;
        return db_fail(st, err, "list clusters");
    }
    return SKYC_OK;
}

enum skyc_err state_cluster_list(struct state *st, struct state_cluster **cs,
                                 size_t *n, struct skyc_error *err)
{
    return list_clusters(
        st, "SELECT " CLUSTER_COLS " FROM clusters ORDER BY launched_at, name",
        cs, n, err);
}

enum skyc_err state_cluster_list_live(struct state *st,
                                      struct state_cluster **cs, size_t *n,
                                      struct skyc_error *err)
{
    return list_clusters(st,
                         "SELECT " CLUSTER_COLS " FROM clusters WHERE status"
                         " IN ('INIT', 'UP') ORDER BY launched_at, name",
                         cs, n, err);
}

enum skyc_err state_cluster_insert(struct state *st,
                                   const struct state_cluster *c,
                                   struct skyc_error *err)
{
    sqlite3_stmt *s = prep(st,
                           "INSERT INTO clusters (" CLUSTER_COLS
                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           err);
    if (!s)
        return SKYC_E_STATE;
    cluster_bind(s, c);
    enum skyc_err rc = SKYC_OK;
    int r = sqlite3_step(s);
    if (r == SQLITE_CONSTRAINT)
        rc = skyc_fail(err, SKYC_E_STATE, "cluster '%s' already exists",
                       c->name);
    else if (r != SQLITE_DONE)
        rc = db_fail(st, err, "insert cluster");
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err state_cluster_update(struct state *st,
                                   const struct state_cluster *c,
                                   struct skyc_error *err)
{
    sqlite3_stmt *s = prep(
        st,
        "UPDATE clusters SET provider=?2, status=?3, num_nodes=?4, cloud=?5,"
        " region=?6, zone=?7, instance_type=?8, spot=?9, hourly_price=?10,"
        " cpus=?11, gpus=?12, launched_at=?13, updated_at=?14, agent_pid=?15,"
        " owner_pid=?16, setup_hash=?17, autostop_minutes=?18,"
        " autostop_down=?19, history_id=?20 WHERE name=?1",
        err);
    if (!s)
        return SKYC_E_STATE;
    cluster_bind(s, c);
    return step_done(st, s, err, "update cluster");
}

enum skyc_err state_cluster_delete(struct state *st, const char *name,
                                   struct skyc_error *err)
{
    static const char *const sql[] = {
        "DELETE FROM jobs WHERE cluster = ?",
        "DELETE FROM nodes WHERE cluster = ?",
        "DELETE FROM clusters WHERE name = ?",
    };
    enum skyc_err rc;
    if ((rc = state_begin(st, err)))
        return rc;
    for (size_t i = 0; i < ARRAY_SIZE(sql); i++) {
        sqlite3_stmt *s = prep(st, sql[i], err);
        if (s)
            db_bind_text(s, 1, name);
        if ((rc = step_done(st, s, err, "delete cluster"))) {
            state_rollback(st);
            return rc;
        }
    }
    return state_commit(st, err);
}

/* --- nodes --------------------------------------------------------------- */

void state_nodes_free(struct state_node *n, size_t count)
{
    for (size_t i = 0; n && i < count; i++) {
        free(n[i].id);
        free(n[i].ip);
        free(n[i].workdir);
        free(n[i].region);
        free(n[i].zone);
        free(n[i].instance_type);
    }
    free(n);
}

enum skyc_err state_nodes_set(struct state *st, const char *cluster,
                              const struct state_node *nodes, size_t n,
                              struct skyc_error *err)
{
    enum skyc_err rc;
    bool own_tx = sqlite3_get_autocommit(st->db);
    if (own_tx && (rc = state_begin(st, err)))
        return rc;
    sqlite3_stmt *s = prep(st, "DELETE FROM nodes WHERE cluster = ?", err);
    if (s)
        db_bind_text(s, 1, cluster);
    if ((rc = step_done(st, s, err, "replace nodes")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct state_node *x = &nodes[i];
        s = prep(st,
                 "INSERT INTO nodes (cluster, rank, id, ip, workdir, region,"
                 " zone, instance_type, spot, hourly_price, cpus, gpus)"
                 " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                 err);
        if (s) {
            db_bind_text(s, 1, cluster);
            sqlite3_bind_int64(s, 2, x->rank);
            db_bind_text(s, 3, x->id);
            db_bind_text(s, 4, x->ip);
            db_bind_text(s, 5, x->workdir);
            db_bind_text(s, 6, x->region);
            db_bind_text(s, 7, x->zone);
            db_bind_text(s, 8, x->instance_type);
            sqlite3_bind_int(s, 9, x->spot);
            db_bind_real(s, 10, x->hourly_price);
            sqlite3_bind_double(s, 11, x->cpus);
            sqlite3_bind_double(s, 12, x->gpus);
        }
        if ((rc = step_done(st, s, err, "insert node")))
            goto out;
    }
out:
    if (own_tx) {
        if (rc)
            state_rollback(st);
        else
            rc = state_commit(st, err);
    }
    return rc;
}

enum skyc_err state_nodes_get(struct state *st, const char *cluster,
                              struct state_node **nodes, size_t *n,
                              struct skyc_error *err)
{
    *nodes = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(
        st,
        "SELECT rank, id, ip, workdir, region, zone, instance_type, spot,"
        " hourly_price, cpus, gpus FROM nodes WHERE cluster = ? ORDER BY rank",
        err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*nodes, *n + 1, alloc);
        struct state_node *x = &(*nodes)[(*n)++];
        x->rank = (long)sqlite3_column_int64(s, 0);
        x->id = db_col_text(s, 1);
        x->ip = db_col_text(s, 2);
        x->workdir = db_col_text(s, 3);
        x->region = db_col_text(s, 4);
        x->zone = db_col_text(s, 5);
        x->instance_type = db_col_text(s, 6);
        x->spot = sqlite3_column_int(s, 7);
        x->hourly_price = db_col_real(s, 8);
        x->cpus = sqlite3_column_double(s, 9);
        x->gpus = sqlite3_column_double(s, 10);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        state_nodes_free(*nodes, *n);
        *nodes = NULL;
        *n = 0;
        return db_fail(st, err, "read nodes");
    }
    return SKYC_OK;
}

/* --- jobs ---------------------------------------------------------------- */

bool job_status_terminal(const char *status)
{
    return !strcmp(status, JOB_SUCCEEDED) || !strcmp(status, JOB_FAILED) ||
           !strcmp(status, JOB_FAILED_SETUP) || !strcmp(status, JOB_CANCELLED);
}

void state_job_release(struct state_job *j)
{
    if (!j)
        return;
    free(j->cluster);
    free(j->name);
    free(j->status);
    free(j->run);
    free(j->setup);
    free(j->envs);
    free(j->log_path);
    free(j->procs);
    memset(j, 0, sizeof(*j));
}

void state_job_list_free(struct state_job *j, size_t n)
{
    for (size_t i = 0; j && i < n; i++)
        state_job_release(&j[i]);
    free(j);
}

#define JOB_COLS                                                               \
    "cluster, id, name, status, submitted_at, started_at, ended_at,"           \
    " exit_code, cpus, gpus, num_nodes, run, setup, envs, log_path, procs,"    \
    " cancel_requested"

static void job_read(sqlite3_stmt *s, struct state_job *j)
{
    j->cluster = db_col_text(s, 0);
    j->id = (long)sqlite3_column_int64(s, 1);
    j->name = db_col_text(s, 2);
    j->status = db_col_text(s, 3);
    j->submitted_at = sqlite3_column_double(s, 4);
    j->started_at = db_col_real(s, 5);
    j->ended_at = db_col_real(s, 6);
    j->exit_code = sqlite3_column_int(s, 7);
    j->cpus = sqlite3_column_double(s, 8);
    j->gpus = sqlite3_column_double(s, 9);
    j->num_nodes = (long)sqlite3_column_int64(s, 10);
    j->run = db_col_text(s, 11);
    j->setup = db_col_text(s, 12);
    j->envs = db_col_text(s, 13);
    j->log_path = db_col_text(s, 14);
    j->procs = db_col_text(s, 15);
    j->cancel_requested = sqlite3_column_int(s, 16);
}

enum skyc_err state_job_last_id(struct state *st, const char *cluster,
                                long *id, struct skyc_error *err)
{
    *id = 0;
    sqlite3_stmt *s =
        prep(st, "SELECT COALESCE(MAX(id), 0) FROM jobs WHERE cluster = ?", err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    enum skyc_err rc = SKYC_OK;
    if (sqlite3_step(s) == SQLITE_ROW)
        *id = (long)sqlite3_column_int64(s, 0);
    else
        rc = db_fail(st, err, "read jobs");
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err state_job_add(struct state *st, struct state_job *j,
                            struct skyc_error *err)
{
    enum skyc_err rc;
    bool own_tx = sqlite3_get_autocommit(st->db);
    if (own_tx && (rc = state_begin(st, err)))
        return rc;
    long last;
    if ((rc = state_job_last_id(st, j->cluster, &last, err)))
        goto out;
    j->id = last + 1;
    sqlite3_stmt *s = prep(st,
                           "INSERT INTO jobs (" JOB_COLS
                           ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           err);
    if (s) {
        db_bind_text(s, 1, j->cluster);
        sqlite3_bind_int64(s, 2, j->id);
        db_bind_text(s, 3, j->name);
        db_bind_text(s, 4, j->status);
        sqlite3_bind_double(s, 5, j->submitted_at);
        db_bind_real(s, 6, j->started_at);
        db_bind_real(s, 7, j->ended_at);
        sqlite3_bind_int(s, 8, j->exit_code);
        sqlite3_bind_double(s, 9, j->cpus);
        sqlite3_bind_double(s, 10, j->gpus);
        sqlite3_bind_int64(s, 11, j->num_nodes);
        db_bind_text(s, 12, j->run);
        db_bind_text(s, 13, j->setup);
        db_bind_text(s, 14, j->envs ? j->envs : "{}");
        db_bind_text(s, 15, j->log_path ? j->log_path : "");
        db_bind_text(s, 16, j->procs);
        sqlite3_bind_int(s, 17, j->cancel_requested);
    }
    rc = step_done(st, s, err, "insert job");
out:
    if (own_tx) {
        if (rc)
            state_rollback(st);
        else
            rc = state_commit(st, err);
    }
    return rc;
}

enum skyc_err state_job_get(struct state *st, const char *cluster, long id,
                            struct state_job *j, struct skyc_error *err)
{
    memset(j, 0, sizeof(*j));
    sqlite3_stmt *s = prep(
        st, "SELECT " JOB_COLS " FROM jobs WHERE cluster = ? AND id = ?", err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    sqlite3_bind_int64(s, 2, id);
    enum skyc_err rc = SKYC_OK;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        job_read(s, j);
    else if (r == SQLITE_DONE)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND,
                       "cluster '%s' has no job %ld (see 'skyc queue %s')",
                       cluster, id, cluster);
    else
        rc = db_fail(st, err, "read job");
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err state_job_list(struct state *st, const char *cluster,
                             bool only_active, struct state_job **jobs,
                             size_t *n, struct skyc_error *err)
{
    *jobs = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(
        st,
        only_active
            ? "SELECT " JOB_COLS " FROM jobs WHERE cluster = ? AND status IN"
              " ('PENDING', 'SETTING_UP', 'RUNNING') ORDER BY id"
            : "SELECT " JOB_COLS " FROM jobs WHERE cluster = ? ORDER BY id",
        err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*jobs, *n + 1, alloc);
        memset(&(*jobs)[*n], 0, sizeof(**jobs));
        job_read(s, &(*jobs)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        state_job_list_free(*jobs, *n);
        *jobs = NULL;
        *n = 0;
        return db_fail(st, err, "list jobs");
    }
    return SKYC_OK;
}

enum skyc_err state_job_update(struct state *st, const struct state_job *j,
                               struct skyc_error *err)
{
    sqlite3_stmt *s = prep(st,
                           "UPDATE jobs SET status=?3, started_at=?4,"
                           " ended_at=?5, exit_code=?6, procs=?7,"
                           " cancel_requested=?8 WHERE cluster=?1 AND id=?2",
                           err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, j->cluster);
    sqlite3_bind_int64(s, 2, j->id);
    db_bind_text(s, 3, j->status);
    db_bind_real(s, 4, j->started_at);
    db_bind_real(s, 5, j->ended_at);
    sqlite3_bind_int(s, 6, j->exit_code);
    db_bind_text(s, 7, j->procs);
    sqlite3_bind_int(s, 8, j->cancel_requested);
    return step_done(st, s, err, "update job");
}

enum skyc_err state_job_transition(struct state *st, const char *cluster,
                                   long id, const char *from, const char *to,
                                   bool *moved, struct skyc_error *err)
{
    *moved = false;
    bool end = job_status_terminal(to);
    sqlite3_stmt *s = prep(
        st,
        end ? "UPDATE jobs SET status=?4, ended_at=?5 WHERE cluster=?1 AND"
              " id=?2 AND status=?3"
            : "UPDATE jobs SET status=?4, started_at=?5 WHERE cluster=?1 AND"
              " id=?2 AND status=?3",
        err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    sqlite3_bind_int64(s, 2, id);
    db_bind_text(s, 3, from);
    db_bind_text(s, 4, to);
    sqlite3_bind_double(s, 5, state_now());
    enum skyc_err rc = step_done(st, s, err, "update job");
    if (!rc)
        *moved = sqlite3_changes(st->db) > 0;
    return rc;
}

enum skyc_err state_job_request_cancel(struct state *st, const char *cluster,
                                       long id, struct skyc_error *err)
{
    sqlite3_stmt *s = prep(st,
                           "UPDATE jobs SET cancel_requested=1 WHERE"
                           " cluster=? AND id=?",
                           err);
    if (!s)
        return SKYC_E_STATE;
    db_bind_text(s, 1, cluster);
    sqlite3_bind_int64(s, 2, id);
    return step_done(st, s, err, "cancel job");
}

/* --- history ------------------------------------------------------------- */

void state_history_release(struct state_history *h)
{
    if (!h)
        return;
    free(h->cluster);
    free(h->provider);
    free(h->cloud);
    free(h->region);
    free(h->instance_type);
    free(h->status);
    memset(h, 0, sizeof(*h));
}

void state_history_list_free(struct state_history *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++)
        state_history_release(&h[i]);
    free(h);
}

#define HISTORY_COLS                                                           \
    "id, cluster, provider, cloud, region, instance_type, spot, num_nodes,"    \
    " hourly_price, launched_at, ended_at, billed_seconds, running_since,"     \
    " status"

static void history_bind(sqlite3_stmt *s, const struct state_history *h)
{
    db_bind_text(s, 2, h->cluster);
    db_bind_text(s, 3, h->provider);
    db_bind_text(s, 4, h->cloud);
    db_bind_text(s, 5, h->region);
    db_bind_text(s, 6, h->instance_type);
    sqlite3_bind_int(s, 7, h->spot);
    sqlite3_bind_int64(s, 8, h->num_nodes);
    db_bind_real(s, 9, h->hourly_price);
    sqlite3_bind_double(s, 10, h->launched_at);
    db_bind_real(s, 11, h->ended_at);
    sqlite3_bind_double(s, 12, h->billed_seconds);
    db_bind_real(s, 13, h->running_since);
    db_bind_text(s, 14, h->status);
}

static void history_read(sqlite3_stmt *s, struct state_history *h)
{
    h->id = (long)sqlite3_column_int64(s, 0);
    h->cluster = db_col_text(s, 1);
    h->provider = db_col_text(s, 2);
    h->cloud = db_col_text(s, 3);
    h->region = db_col_text(s, 4);
    h->instance_type = db_col_text(s, 5);
    h->spot = sqlite3_column_int(s, 6);
    h->num_nodes = (long)sqlite3_column_int64(s, 7);
    h->hourly_price = db_col_real(s, 8);
    h->launched_at = sqlite3_column_double(s, 9);
    h->ended_at = db_col_real(s, 10);
    h->billed_seconds = sqlite3_column_double(s, 11);
    h->running_since = db_col_real(s, 12);
    h->status = db_col_text(s, 13);
}

enum skyc_err state_history_add(struct state *st, struct state_history *h,
                                struct skyc_error *err)
{
    sqlite3_stmt *s = prep(st,
                           "INSERT INTO history (" HISTORY_COLS
                           ") VALUES (NULL,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,"
                           "?12,?13,?14)",
                           err);
    if (!s)
        return SKYC_E_STATE;
    history_bind(s, h);
    enum skyc_err rc = step_done(st, s, err, "insert history");
    if (!rc)
        h->id = (long)sqlite3_last_insert_rowid(st->db);
    return rc;
}

enum skyc_err state_history_update(struct state *st,
                                   const struct state_history *h,
                                   struct skyc_error *err)
{
    sqlite3_stmt *s = prep(
        st,
        "UPDATE history SET cluster=?2, provider=?3, cloud=?4, region=?5,"
        " instance_type=?6, spot=?7, num_nodes=?8, hourly_price=?9,"
        " launched_at=?10, ended_at=?11, billed_seconds=?12,"
        " running_since=?13, status=?14 WHERE id=?1",
        err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, h->id);
    history_bind(s, h);
    return step_done(st, s, err, "update history");
}

enum skyc_err state_history_get(struct state *st, long id,
                                struct state_history *h,
                                struct skyc_error *err)
{
    memset(h, 0, sizeof(*h));
    sqlite3_stmt *s =
        prep(st, "SELECT " HISTORY_COLS " FROM history WHERE id = ?", err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, id);
    enum skyc_err rc = SKYC_OK;
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW)
        history_read(s, h);
    else if (r == SQLITE_DONE)
        rc = skyc_fail(err, SKYC_E_NOT_FOUND, "no launch history entry %ld",
                       id);
    else
        rc = db_fail(st, err, "read history");
    sqlite3_finalize(s);
    return rc;
}

enum skyc_err state_history_list(struct state *st, struct state_history **hs,
                                 size_t *n, struct skyc_error *err)
{
    *hs = NULL;
    *n = 0;
    sqlite3_stmt *s =
        prep(st, "SELECT " HISTORY_COLS " FROM history ORDER BY id", err);
    if (!s)
        return SKYC_E_STATE;
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*hs, *n + 1, alloc);
        memset(&(*hs)[*n], 0, sizeof(**hs));
        history_read(s, &(*hs)[(*n)++]);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        state_history_list_free(*hs, *n);
        *hs = NULL;
        *n = 0;
        return db_fail(st, err, "list history");
    }
    return SKYC_OK;
}

double state_history_seconds(const struct state_history *h, double now)
{
    double s = h->billed_seconds;
    if (!isnan(h->running_since) && now > h->running_since)
        s += now - h->running_since;
    return s;
}

/* --- attempts ------------------------------------------------------------ */

void state_attempt_list_free(struct state_attempt *a, size_t n)
{
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].cloud);
        free(a[i].region);
        free(a[i].zone);
        free(a[i].instance_type);
        free(a[i].result);
        free(a[i].message);
    }
    free(a);
}

enum skyc_err state_attempt_add(struct state *st, const struct state_attempt *a,
                                struct skyc_error *err)
{
    sqlite3_stmt *s = prep(
        st,
        "INSERT INTO attempts (history_id, seq, cloud, region, zone,"
        " instance_type, spot, result, message, at) VALUES (?1, (SELECT"
        " COALESCE(MAX(seq), 0) + 1 FROM attempts WHERE history_id = ?1),"
        " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, a->history_id);
    db_bind_text(s, 2, a->cloud);
    db_bind_text(s, 3, a->region);
    db_bind_text(s, 4, a->zone);
    db_bind_text(s, 5, a->instance_type);
    sqlite3_bind_int(s, 6, a->spot);
    db_bind_text(s, 7, a->result ? a->result : "OK");
    db_bind_text(s, 8, a->message);
    sqlite3_bind_double(s, 9, isnan(a->at) || a->at == 0 ? state_now() : a->at);
    return step_done(st, s, err, "insert attempt");
}

enum skyc_err state_attempt_list(struct state *st, long history_id,
                                 struct state_attempt **as, size_t *n,
                                 struct skyc_error *err)
{
    *as = NULL;
    *n = 0;
    sqlite3_stmt *s = prep(st,
                           "SELECT history_id, seq, cloud, region, zone,"
                           " instance_type, spot, result, message, at FROM"
                           " attempts WHERE history_id = ? ORDER BY seq",
                           err);
    if (!s)
        return SKYC_E_STATE;
    sqlite3_bind_int64(s, 1, history_id);
    size_t alloc = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        ALLOC_GROW(*as, *n + 1, alloc);
        struct state_attempt *a = &(*as)[(*n)++];
        a->history_id = (long)sqlite3_column_int64(s, 0);
        a->seq = (long)sqlite3_column_int64(s, 1);
        a->cloud = db_col_text(s, 2);
        a->region = db_col_text(s, 3);
        a->zone = db_col_text(s, 4);
        a->instance_type = db_col_text(s, 5);
        a->spot = sqlite3_column_int(s, 6);
        a->result = db_col_text(s, 7);
        a->message = db_col_text(s, 8);
        a->at = sqlite3_column_double(s, 9);
    }
    sqlite3_finalize(s);
    if (r != SQLITE_DONE) {
        state_attempt_list_free(*as, *n);
        *as = NULL;
        *n = 0;
        return db_fail(st, err, "list attempts");
    }
    return SKYC_OK;
}
