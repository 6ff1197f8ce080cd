/*
 * db.h - the small SQLite helpers every table module of skyc shares
 * (state/state.c for clusters and jobs, jobs/jobs_db.c for managed jobs).
 *
 * NULL strings and NaN numbers are stored as SQL NULL and read back as
 * NULL / NaN, so "unknown" survives a round trip. Bound text is copied by
 * SQLite (SQLITE_TRANSIENT); db_col_text() returns a new string the caller
 * frees.
 */
#ifndef SKYC_STATE_DB_H
#define SKYC_STATE_DB_H

#include "core/common.h"

#include <sqlite3.h>

void db_bind_text(sqlite3_stmt *s, int i, const char *v);
void db_bind_real(sqlite3_stmt *s, int i, double v);
char *db_col_text(sqlite3_stmt *s, int i);
double db_col_real(sqlite3_stmt *s, int i);
/* SQLite's data version of the main database: it changes whenever another
 * connection commits a change (never for this connection's own writes),
 * so a poller can skip its reads while it stays the same (the PRAGMA of
 * that name). 0 on error. */
uint64_t db_data_version(sqlite3 *db);

#endif
