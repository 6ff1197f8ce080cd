/*
 * csv.h - a strict, allocation-light CSV reader for catalog and grid files.
 *
 * RFC 4180 with what real catalogs contain: quoted fields with doubled
 * quotes and embedded commas/newlines, empty cells, CRLF or LF line ends, a
 * UTF-8 BOM, and a missing final newline. The first record is the header;
 * columns are found by name (csv_column()), never by position.
 *
 * The reader works over a caller-owned buffer and never copies it. Field
 * strings returned by csv_next() live in the reader's scratch space and stay
 * valid until the next call to csv_next() or csv_release().
 *
 * Leniency, on purpose: SkyPilot's Azure catalog writes its last column
 * (Generation) unquoted as "V1,V2"; when a record has MORE fields than the
 * header, the extra ones are folded back into the last column, commas
 * included. Fewer fields than the header is an error.
 *
 * Errors: a record with fewer fields than the header, an
 * unterminated quote, or a stray quote inside an unquoted field make
 * csv_next() return -1 with err->msg "NAME:LINE: what is wrong".
 */
#ifndef SKYC_CATALOG_CSV_H
#define SKYC_CATALOG_CSV_H

#include "core/common.h"
#include "core/error.h"
#include "core/strbuf.h"

struct csv_reader {
    const char *name; /* file name for messages (not owned) */
    const char *p, *end;
    unsigned line;      /* line where the current record starts, 1-based */
    unsigned next_line; /* line where the next record starts */
    size_t nheader;
    char **header; /* owned copies of the header names */
    const char **fields;
    size_t nfields, fields_alloc;
    struct strbuf scratch; /* unquoted field text, NUL-separated */
    size_t *offsets;
    size_t offsets_alloc;
};

/*
 * Start reading buf[0..len) and parse the header. Returns 0, or -1 with err
 * set (empty file, malformed header). Call csv_release() in both cases.
 */
int csv_open(struct csv_reader *r, const char *name, const char *buf,
             size_t len, struct skyc_error *err);

/* Index of the named header column (exact match), or -1. */
int csv_column(const struct csv_reader *r, const char *name);

/*
 * Read the next record into r->fields (r->nfields == r->nheader). Returns 1
 * for a record, 0 at the end, -1 on a malformed record (err set). Blank lines
 * are skipped.
 */
int csv_next(struct csv_reader *r, struct skyc_error *err);

void csv_release(struct csv_reader *r);

/*
 * Parse a whole-field number. Empty → NAN with *ok true; junk → *ok false.
 */
double csv_number(const char *field, bool *ok);

#endif
