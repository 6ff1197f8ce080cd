/*
 * trace.h - spot availability traces: reading both public formats.
 *
 * Both are JSON objects {"metadata": {"gap_seconds": G, ...}, "data": [...]}
 * with one integer per tick of G seconds, but with OPPOSITE polarity:
 *
 *  - TRACE_WINDOW, the Can't-Be-Late simulator-ready windows
 *    (adrs-cant-be-late-windows): 1 = spot UNAVAILABLE (preempted), 0 =
 *    available. Recognised by a "generator" key or metadata.start_time.
 *  - TRACE_COUNT, the raw skypilot-org/spot-traces files: each value is the
 *    NUMBER of spot instances available; spot counts as available when at
 *    least `nodes` are (1 by default).
 *
 * A loaded trace owns its arrays; spot_trace_release() frees them. Errors
 * name the file and, for JSON syntax, line:col; for values, data[index].
 */
#ifndef SKYC_SPOT_TRACE_H
#define SKYC_SPOT_TRACE_H

#include "core/common.h"
#include "core/error.h"

enum trace_format { TRACE_AUTO, TRACE_WINDOW, TRACE_COUNT };

struct spot_trace {
    char *path;       /* the file it came from (or the name given) */
    enum trace_format format;
    double gap;       /* seconds per tick, > 0 */
    size_t n;         /* ticks */
    uint8_t *avail;   /* avail[i] = 1 when spot is available at tick i */
};

struct trace_read_opts {
    enum trace_format format; /* TRACE_AUTO: detect per file */
    int nodes;                /* TRACE_COUNT: instances needed (>= 1) */
};

/* Parse one trace from memory; name is used in messages. */
enum skyc_err spot_trace_parse(struct spot_trace *t, const char *text,
                               size_t len, const char *name,
                               const struct trace_read_opts *o,
                               struct skyc_error *err);
/* Read one trace file. */
enum skyc_err spot_trace_load(struct spot_trace *t, const char *path,
                              const struct trace_read_opts *o,
                              struct skyc_error *err);
void spot_trace_release(struct spot_trace *t);

/* "auto", "window", "count" -> format; false on anything else. */
bool trace_format_by_name(const char *s, enum trace_format *f);
const char *trace_format_name(enum trace_format f);

/*
 * A trace set: the traces of one zone (and instance type). For window
 * files, one set is one directory of windows (sorted by their numeric file
 * names); a long TRACE_COUNT file is a set on its own, cut into windows by
 * the simulator.
 */
struct trace_set {
    char *name;               /* "us-west-2a_v100_1" */
    struct spot_trace *traces;
    size_t n, alloc;
};

struct trace_sets {
    struct trace_set *sets;
    size_t n, alloc;
};

/*
 * Load every *.json under dir (recursively), grouped into sets. Sets are
 * sorted by name. Fails on the first malformed file, naming it.
 */
enum skyc_err trace_sets_load(struct trace_sets *ts, const char *dir,
                              const struct trace_read_opts *o,
                              struct skyc_error *err);
void trace_sets_release(struct trace_sets *ts);

#endif
