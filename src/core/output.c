#include "core/common.h"
#include "core/alloc.h"
#include "core/output.h"
#include "core/strbuf.h"

#include <unistd.h>

void table_init(struct table *t)
{
    memset(t, 0, sizeof(*t));
}

void table_release(struct table *t)
{
    for (size_t i = 0; i < t->ncols; i++)
        free(t->cols[i].header);
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cols);
    free(t->cells);
    free(t->highlight);
    table_init(t);
}

void table_add_col(struct table *t, const char *header, enum table_align a)
{
    ALLOC_GROW(t->cols, t->ncols + 1, t->cols_alloc);
    t->cols[t->ncols].header = xstrdup(header);
    t->cols[t->ncols].align = a;
    t->ncols++;
}

void table_add_row(struct table *t)
{
    size_t need = (t->nrows + 1) * t->ncols;
    ALLOC_GROW(t->cells, need, t->cells_alloc);
    for (size_t i = t->nrows * t->ncols; i < need; i++)
        t->cells[i] = NULL;
    ALLOC_GROW(t->highlight, t->nrows + 1, t->highlight_alloc);
    t->highlight[t->nrows] = false;
    t->nrows++;
}

void table_cell(struct table *t, const char *text)
{
    if (!t->nrows)
        table_add_row(t);
    char **row = t->cells + (t->nrows - 1) * t->ncols;
    for (size_t i = 0; i < t->ncols; i++) {
        if (!row[i]) {
            row[i] = xstrdup(text ? text : "-");
            return;
        }
    }
}

void table_cellf(struct table *t, const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    strbuf_vaddf(&sb, fmt, ap);
    va_end(ap);
    table_cell(t, sb.buf);
    strbuf_release(&sb);
}

void table_highlight_row(struct table *t)
{
    if (t->nrows)
        t->highlight[t->nrows - 1] = true;
}

bool output_use_color(FILE *out)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    return isatty(fileno(out));
}

/* Display width of a UTF-8 string: count code points, not bytes. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void table_print(const struct table *t, FILE *out)
{
    if (!t->ncols)
        return;
    bool color = output_use_color(out);
    size_t *width = xcalloc(t->ncols, sizeof(*width));
    for (size_t c = 0; c < t->ncols; c++)
        width[c] = display_width(t->cols[c].header);
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            size_t w = display_width(cell ? cell : "-");
            if (w > width[c])
                width[c] = w;
        }

    for (long r = -1; r < (long)t->nrows; r++) {
        struct strbuf line = STRBUF_INIT;
        for (size_t c = 0; c < t->ncols; c++) {
            const char *cell = r < 0 ? t->cols[c].header
                                     : t->cells[(size_t)r * t->ncols + c];
            if (!cell)
                cell = "-";
            size_t pad = width[c] - display_width(cell);
            bool last = c + 1 == t->ncols;
            if (t->cols[c].align == TABLE_RIGHT)
                strbuf_addchars(&line, ' ', pad);
            strbuf_addstr(&line, cell);
            if (t->cols[c].align == TABLE_LEFT && !last)
                strbuf_addchars(&line, ' ', pad);
            if (!last)
                strbuf_addstr(&line, "  ");
        }
        while (line.len && line.buf[line.len - 1] == ' ')
            strbuf_setlen(&line, line.len - 1);
        bool hl = r >= 0 && t->highlight[r];
        if (color && r < 0)
            fprintf(out, "\033[1m%s\033[0m\n", line.buf);
        else if (color && hl)
            fprintf(out, "\033[32m%s\033[0m\n", line.buf);
        else
            fprintf(out, "%s\n", line.buf);
        strbuf_release(&line);
    }
    free(width);
}

void output_json_to(const json_t *v, FILE *out)
{
    json_dumpf(v, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    fputc('\n', out);
}

void output_json(json_t *v)
{
    output_json_to(v, stdout);
    json_decref(v);
}

json_t *json_number_or_null(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}
