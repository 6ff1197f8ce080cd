/*
 * plot.c - SVG line charts with timeline bands (see plot.h).
 */
#include "core/common.h"
#include "core/alloc.h"
#include "core/plot.h"
#include "core/strbuf.h"

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c",
                                      "#9467bd", "#ff7f0e", "#8c564b",
                                      "#e377c2", "#17becf", "#7f7f7f"};
static const char *const span_fill[] = {"none", "#4caf50", "#ff9800",
                                        "#e0e0e0"};

void plot_init(struct plot *p, const char *title, const char *xlabel,
               const char *ylabel)
{
    memset(p, 0, sizeof(*p));
    p->title = xstrdup(title ? title : "");
    p->xlabel = xstrdup(xlabel ? xlabel : "");
    p->ylabel = xstrdup(ylabel ? ylabel : "");
    p->vline = NAN;
}

void plot_release(struct plot *p)
{
    for (size_t i = 0; i < p->nseries; i++) {
        free(p->series[i].name);
        free(p->series[i].x);
        free(p->series[i].y);
    }
    for (size_t i = 0; i < p->nbands; i++) {
        free(p->bands[i].name);
        free(p->bands[i].spans);
    }
    for (size_t i = 0; i < ARRAY_SIZE(p->span_label); i++)
        free(p->span_label[i]);
    free(p->series);
    free(p->bands);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p->vline_label);
    memset(p, 0, sizeof(*p));
}

size_t plot_add_series(struct plot *p, const char *name)
{
    ALLOC_GROW(p->series, p->nseries + 1, p->series_alloc);
    struct plot_series *s = &p->series[p->nseries];
    memset(s, 0, sizeof(*s));
    s->name = xstrdup(name);
    return p->nseries++;
}

void plot_add_point(struct plot *p, size_t series, double x, double y)
{
    if (series >= p->nseries || !isfinite(x) || !isfinite(y))
        return;
    struct plot_series *s = &p->series[series];
    if (s->n + 1 > s->alloc) {
        size_t a = s->alloc;
        ALLOC_GROW(s->x, s->n + 1, a);
        s->y = xreallocarray(s->y, a, sizeof(*s->y));
        s->alloc = a;
    }
    s->x[s->n] = x;
    s->y[s->n++] = y;
}

size_t plot_add_band(struct plot *p, const char *name)
{
    ALLOC_GROW(p->bands, p->nbands + 1, p->bands_alloc);
    struct plot_band *b = &p->bands[p->nbands];
    memset(b, 0, sizeof(*b));
    b->name = xstrdup(name);
    return p->nbands++;
}

void plot_band_span(struct plot *p, size_t band, double x0, double x1,
                    enum plot_span style)
{
    if (band >= p->nbands || !(x1 > x0) || style == PLOT_SPAN_EMPTY)
        return;
    struct plot_band *b = &p->bands[band];
    if (b->n && b->spans[b->n - 1].style == style &&
        fabs(b->spans[b->n - 1].x1 - x0) < 1e-9) {
        b->spans[b->n - 1].x1 = x1;
        return;
    }
    ALLOC_GROW(b->spans, b->n + 1, b->alloc);
    b->spans[b->n++] = (struct plot_span_rec){x0, x1, style};
}

void plot_span_legend(struct plot *p, enum plot_span style, const char *text)
{
    if ((unsigned)style >= ARRAY_SIZE(p->span_label))
        return;
    free(p->span_label[style]);
    p->span_label[style] = text ? xstrdup(text) : NULL;
}

void plot_set_vline(struct plot *p, double x, const char *label)
{
    p->vline = x;
    free(p->vline_label);
    p->vline_label = label ? xstrdup(label) : NULL;
}

static void add_escaped(struct strbuf *sb, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            strbuf_addstr(sb, "&lt;");
            break;
        case '>':
            strbuf_addstr(sb, "&gt;");
            break;
        case '&':
            strbuf_addstr(sb, "&amp;");
            break;
        case '"':
            strbuf_addstr(sb, "&quot;");
            break;
        default:
            strbuf_addch(sb, *s);
        }
    }
}

/* A "nice" tick step for the range (1, 2 or 5 times a power of ten). */
static double nice_step(double range, int want)
{
    if (!(range > 0))
        return 1;
    double raw = range / want, mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

char *plot_svg_string(const struct plot *p)
{
    struct strbuf sb = STRBUF_INIT;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY,
           ymax = -INFINITY;
    for (size_t i = 0; i < p->nseries; i++)
        for (size_t k = 0; k < p->series[i].n; k++) {
            xmin = SKYC_MIN(xmin, p->series[i].x[k]);
            xmax = SKYC_MAX(xmax, p->series[i].x[k]);
            ymin = SKYC_MIN(ymin, p->series[i].y[k]);
            ymax = SKYC_MAX(ymax, p->series[i].y[k]);
        }
    for (size_t i = 0; i < p->nbands; i++)
        for (size_t k = 0; k < p->bands[i].n; k++) {
            xmin = SKYC_MIN(xmin, p->bands[i].spans[k].x0);
            xmax = SKYC_MAX(xmax, p->bands[i].spans[k].x1);
        }
    if (isfinite(p->vline)) {
        xmin = SKYC_MIN(xmin, p->vline);
        xmax = SKYC_MAX(xmax, p->vline);
    }
    if (!isfinite(xmin)) {
        xmin = 0;
        xmax = 1;
    }
    if (!isfinite(ymin)) {
        ymin = 0;
        ymax = 1;
    }
    if (xmax - xmin < 1e-12)
        xmax = xmin + 1;
    if (ymin > 0 && ymin < 0.5 * ymax)
        ymin = 0;
    if (ymax - ymin < 1e-12)
        ymax = ymin + 1;
    double ystep = nice_step(ymax - ymin, 6);
    ymin = floor(ymin / ystep) * ystep;
    ymax = ceil(ymax / ystep) * ystep;
    double xstep = nice_step(xmax - xmin, 10);

    const double W = 960, left = 70, right = 230, top = 40, H = 360;
    const double band_h = 16, band_gap = 4;
    double chart_w = W - left - right;
    double bands_top = top + H + 50;
    double total_h = bands_top + (double)p->nbands * (band_h + band_gap) + 40;
#define X(v) (left + ((v) - xmin) / (xmax - xmin) * chart_w)
#define Y(v) (top + H - ((v) - ymin) / (ymax - ymin) * H)
    strbuf_addf(&sb,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "font-family=\"sans-serif\" font-size=\"12\">\n"
                "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                W, total_h, W, total_h);
    strbuf_addf(&sb, "<text x=\"%.1f\" y=\"22\" font-size=\"15\" "
                     "font-weight=\"bold\">",
                left);
    add_escaped(&sb, p->title);
    strbuf_addstr(&sb, "</text>\n");
    /* grid and axes */
    for (double v = ymin; v <= ymax + ystep * 1e-6; v += ystep) {
        strbuf_addf(&sb,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"end\">%g</text>\n",
                    left, Y(v), left + chart_w, Y(v), left - 6, Y(v) + 4,
                    fabs(v) < ystep * 1e-6 ? 0 : v);
    }
    double x0 = ceil(xmin / xstep) * xstep;
    for (double v = x0; v <= xmax + xstep * 1e-6; v += xstep)
        strbuf_addf(&sb,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"#eee\"/>\n<text x=\"%.1f\" y=\"%.1f\" "
                    "text-anchor=\"middle\">%g</text>\n",
                    X(v), top, X(v), top + H, X(v), top + H + 16,
                    fabs(v) < xstep * 1e-6 ? 0 : v);
    strbuf_addf(&sb,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                "fill=\"none\" stroke=\"#333\"/>\n",
                left, top, chart_w, H);
    strbuf_addf(&sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                left + chart_w / 2, top + H + 34);
    add_escaped(&sb, p->xlabel);
    strbuf_addf(&sb,
                "</text>\n<text transform=\"translate(16,%.1f) rotate(-90)\" "
                "text-anchor=\"middle\">",
                top + H / 2);
    add_escaped(&sb, p->ylabel);
    strbuf_addstr(&sb, "</text>\n");
    if (isfinite(p->vline)) {
        strbuf_addf(&sb,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"#000\" stroke-dasharray=\"4 3\"/>\n",
                    X(p->vline), top, X(p->vline),
                    bands_top + (double)p->nbands * (band_h + band_gap));
        if (p->vline_label) {
            strbuf_addf(&sb, "<text x=\"%.1f\" y=\"%.1f\">", X(p->vline) + 3,
                        top + 12);
            add_escaped(&sb, p->vline_label);
            strbuf_addstr(&sb, "</text>\n");
        }
    }
    /* series */
    for (size_t i = 0; i < p->nseries; i++) {
        const struct plot_series *s = &p->series[i];
        const char *col = palette[i % ARRAY_SIZE(palette)];
        if (s->n) {
            strbuf_addf(&sb,
                        "<polyline fill=\"none\" stroke=\"%s\" "
                        "stroke-width=\"2\" points=\"",
                        col);
            for (size_t k = 0; k < s->n; k++)
                strbuf_addf(&sb, "%s%.1f,%.1f", k ? " " : "", X(s->x[k]),
                            Y(s->y[k]));
            strbuf_addstr(&sb, "\"/>\n");
            if (s->n <= 40)
                for (size_t k = 0; k < s->n; k++)
                    strbuf_addf(&sb,
                                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
                                "fill=\"%s\"/>\n",
                                X(s->x[k]), Y(s->y[k]), col);
        }
        double ly = top + 10 + (double)i * 18;
        strbuf_addf(&sb,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"%s\" stroke-width=\"3\"/>\n<text x=\"%.1f\" "
                    "y=\"%.1f\">",
                    left + chart_w + 12, ly, left + chart_w + 32, ly, col,
                    left + chart_w + 38, ly + 4);
        add_escaped(&sb, s->name);
        strbuf_addstr(&sb, "</text>\n");
    }
    /* bands */
    for (size_t i = 0; i < p->nbands; i++) {
        const struct plot_band *b = &p->bands[i];
        double y = bands_top + (double)i * (band_h + band_gap);
        strbuf_addf(&sb,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n",
                    left, y, chart_w, band_h);
        for (size_t k = 0; k < b->n; k++) {
            const struct plot_span_rec *r = &b->spans[k];
            strbuf_addf(&sb,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" "
                        "height=\"%.1f\" fill=\"%s\"/>\n",
                        X(r->x0), y, X(r->x1) - X(r->x0), band_h,
                        span_fill[r->style & 3]);
        }
        strbuf_addf(&sb, "<text x=\"%.1f\" y=\"%.1f\">", left + chart_w + 8,
                    y + band_h - 4);
        add_escaped(&sb, b->name);
        strbuf_addstr(&sb, "</text>\n");
    }
    /* span legend */
    double lx = left;
    double ly = bands_top + (double)p->nbands * (band_h + band_gap) + 18;
    for (size_t st = 1; st < ARRAY_SIZE(p->span_label); st++) {
        if (!p->span_label[st] || !p->nbands)
            continue;
        strbuf_addf(&sb,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"10\" "
                    "fill=\"%s\"/>\n<text x=\"%.1f\" y=\"%.1f\">",
                    lx, ly - 9, span_fill[st], lx + 18, ly);
        add_escaped(&sb, p->span_label[st]);
        strbuf_addstr(&sb, "</text>\n");
        lx += 30 + 7 * (double)strlen(p->span_label[st]);
    }
#undef X
#undef Y
    strbuf_addstr(&sb, "</svg>\n");
    return strbuf_detach(&sb, NULL);
}

enum skyc_err plot_write_svg(const struct plot *p, const char *path,
                             struct skyc_error *err)
{
    char *svg = plot_svg_string(p);
    enum skyc_err rc = SKYC_OK;
    FILE *f = fopen(path, "w");
    if (!f) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot write plot '%s': %s", path,
                       strerror(errno));
        goto out;
    }
    size_t len = strlen(svg);
    if (fwrite(svg, 1, len, f) != len) {
        rc = skyc_fail(err, SKYC_E_IO, "cannot write plot '%s': %s", path,
                       strerror(errno));
        fclose(f);
        goto out;
    }
    if (fclose(f) != 0)
        rc = skyc_fail(err, SKYC_E_IO, "cannot write plot '%s': %s", path,
                       strerror(errno));
out:
    free(svg);
    return rc;
}
