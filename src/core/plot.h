/*
 * plot.h - small SVG charts: line series on x/y axes, optional horizontal
 * bands of coloured spans under the chart (timelines), a vertical marker.
 *
 * A struct plot owns copies of every string and point added; plot_release()
 * frees them. Nothing is drawn until plot_write_svg(), which writes a
 * self-contained SVG 1.1 file (no scripts, no external fonts).
 */
#ifndef SKYC_CORE_PLOT_H
#define SKYC_CORE_PLOT_H

#include "core/common.h"
#include "core/error.h"

/* Span styles of a band; PLOT_SPAN_EMPTY is not drawn. */
enum plot_span { PLOT_SPAN_EMPTY = 0, PLOT_SPAN_A, PLOT_SPAN_B, PLOT_SPAN_C };

struct plot_series {
    char *name;
    double *x, *y;
    size_t n, alloc;
};

struct plot_span_rec {
    double x0, x1;
    enum plot_span style;
};

struct plot_band {
    char *name;
    struct plot_span_rec *spans;
    size_t n, alloc;
};

struct plot {
    char *title, *xlabel, *ylabel;
    struct plot_series *series;
    size_t nseries, series_alloc;
    struct plot_band *bands;
    size_t nbands, bands_alloc;
    char *span_label[4]; /* legend text per style, NULL = none */
    double vline;        /* NaN = none */
    char *vline_label;
};

void plot_init(struct plot *p, const char *title, const char *xlabel,
               const char *ylabel);
void plot_release(struct plot *p);
/* A new line series; returns its index. */
size_t plot_add_series(struct plot *p, const char *name);
void plot_add_point(struct plot *p, size_t series, double x, double y);
/* A new band (a row of spans under the chart); returns its index. */
size_t plot_add_band(struct plot *p, const char *name);
/* Colour [x0, x1) of a band; adjacent spans of one style merge. */
void plot_band_span(struct plot *p, size_t band, double x0, double x1,
                    enum plot_span style);
/* Legend text for a span style. */
void plot_span_legend(struct plot *p, enum plot_span style, const char *text);
void plot_set_vline(struct plot *p, double x, const char *label);

/* Write the SVG to path. IO errors name the file. */
enum skyc_err plot_write_svg(const struct plot *p, const char *path,
                             struct skyc_error *err);
/* The SVG as text (caller frees). */
char *plot_svg_string(const struct plot *p);

#endif
