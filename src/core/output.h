/*
 * output.h - the one way skyc prints tables and JSON.
 *
 * Tables are for humans: columns sized to their widest cell, headers bold
 * only when stdout is a TTY and NO_COLOR is unset. JSON is for scripts:
 * commands build a jansson value and hand it to output_json(), which prints
 * it indented with a final newline and takes ownership of it (decref).
 *
 * A struct table owns copies of every string added to it; table_release()
 * frees them.
 */
#ifndef SKYC_CORE_OUTPUT_H
#define SKYC_CORE_OUTPUT_H

#include "core/common.h"

#include <jansson.h>

enum table_align { TABLE_LEFT, TABLE_RIGHT };

struct table_col {
    char *header;
    enum table_align align;
};

struct table {
    struct table_col *cols;
    size_t ncols, cols_alloc;
    char **cells; /* row-major, nrows * ncols */
    size_t nrows, cells_alloc;
    /* row index -> highlight flag (printed bold/green on a colour TTY) */
    bool *highlight;
    size_t highlight_alloc;
};

void table_init(struct table *t);
void table_release(struct table *t);
void table_add_col(struct table *t, const char *header, enum table_align a);
/* Start a new row; cells are then filled left to right with table_cell*(). */
void table_add_row(struct table *t);
void table_cell(struct table *t, const char *text);
void table_cellf(struct table *t, const char *fmt, ...) SKYC_PRINTF(2, 3);
/* Mark the last added row as highlighted (e.g. the chosen plan). */
void table_highlight_row(struct table *t);
/* Print with two spaces between columns. */
void table_print(const struct table *t, FILE *out);

/* Whether colour escapes may be written to this stream. */
bool output_use_color(FILE *out);

/* Print v as indented JSON to stdout and drop the reference. */
void output_json(json_t *v);
/* Print v as JSON to out without taking ownership. */
void output_json_to(const json_t *v, FILE *out);

/* A JSON number or null when x is NaN (so "no spot price" stays visible). */
json_t *json_number_or_null(double x);

#endif
