/* db.c - shared SQLite bind/column helpers (see db.h). */
#include "core/common.h"
#include "core/alloc.h"
#include "state/db.h"

#include <math.h>

void db_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

void db_bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

char *db_col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? xstrdup((const char *)t) : NULL;
}

double db_col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL
               ? NAN
               : sqlite3_column_double(s, i);
}

uint64_t db_data_version(sqlite3 *db)
{
    /* the pragma (unlike SQLITE_FCNTL_DATA_VERSION) starts a read
     * transaction, so it sees commits made since the last statement */
    sqlite3_stmt *s = NULL;
    uint64_t v = 0;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        v = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}
