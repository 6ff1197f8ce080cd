/*
 * trace.h - object-store access traces: reading them and generating them.
 *
 * The format is SkyStore's (../shared/data/skystore/traces): a CSV with the
 * header `timestamp,op,issue_region,obj_key,size` (`data_id` is accepted for
 * `obj_key`; columns are found by name), one request per line:
 *   timestamp     "YYYY-MM-DD HH:MM:SS[.fff]" (UTC; a 'T' may replace the
 *                 space, a final 'Z' is allowed) or seconds as a number
 *   op            write | read | delete  (put and get are accepted too)
 *   issue_region  the region the client is in, "cloud:region"
 *   obj_key       the object's key, 1 to 1024 bytes
 *   size          bytes, a whole number (ignored for read and delete)
 * Timestamps must not go backwards. A bad line is an SKYC_E_INPUT error
 * "FILE:LINE: what is wrong (how to fix)".
 *
 * A struct store_trace owns every event, region name and key; it is
 * released with store_trace_release(). Region and key numbers are indexes
 * into regions[] and keys[], in order of first appearance.
 */
#ifndef SKYC_STORE_TRACE_H
#define SKYC_STORE_TRACE_H

#include "core/common.h"
#include "core/error.h"
#include "core/strmap.h"

enum store_op { STORE_OP_WRITE, STORE_OP_READ, STORE_OP_DELETE };

struct store_event {
    double t;      /* seconds since the epoch (or the trace's own zero) */
    uint64_t size; /* bytes */
    uint32_t key;  /* keys[] index */
    uint16_t region; /* regions[] index */
    uint8_t op;      /* enum store_op */
};

struct store_trace {
    struct store_event *ev;
    size_t n, alloc;
    const char **regions;    /* owned by region_index's arena */
    unsigned *region_line;   /* line of each region's first use (0: generated) */
    size_t nregions, regions_alloc;
    const char **keys;       /* owned by key_index's arena */
    size_t nkeys, keys_alloc;
    struct strmap region_index, key_index;
    char *name; /* file name for messages */
};

void store_trace_init(struct store_trace *t);
void store_trace_release(struct store_trace *t);

/* Parse CSV text; name is used in messages. On failure t is left empty. */
enum skyc_err store_trace_parse(struct store_trace *t, const char *name,
                                const char *text, size_t len,
                                struct skyc_error *err);

/* Read and parse a file. SKYC_E_NOT_FOUND when it cannot be read. */
enum skyc_err store_trace_load(struct store_trace *t, const char *path,
                               struct skyc_error *err);

/* Write t as CSV in the format above (whole-second UTC timestamps). */
enum skyc_err store_trace_write(const struct store_trace *t, const char *path,
                                struct skyc_error *err);

/*
 * The trace generator. Deterministic for a given seed and parameters.
 *   - events arrive as a Poisson process over about `days`, one per region
 *     with rates modulated by the region's diurnal phase: a peak at 14:00
 *     local time (UTC offset guessed from the region name), relative
 *     amplitude `diurnal` (0 = flat, <1);
 *   - a fraction `write_ratio` of requests are writes: new objects until
 *     `objects` exist, then overwrites of popular objects; a new object is
 *     homed in the region that writes it, sized log-uniformly in
 *     [min_size, max_size];
 *   - popularity: each object has a Zipf(`zipf`) weight 1/rank^zipf, the
 *     ranks shuffled over the objects (so popularity is unrelated to age);
 *   - reads: with probability `raw` one of the 16 most recent writes
 *     (read-after-write); otherwise, with probability `locality`, an object
 *     homed in the reader's region, else any object written so far; both in
 *     proportion to popularity.
 */
struct store_gen_params {
    uint64_t seed;
    size_t events;
    size_t objects;
    const char *const *regions;
    size_t nregions;
    double start; /* epoch seconds of the first event */
    double days;
    double zipf;
    double locality;
    double write_ratio;
    double raw;
    double diurnal;
    double min_size, max_size; /* bytes */
};

/* Defaults: 100k events, 10k objects, 4 regions over three clouds, 7 days,
 * zipf 1.1, locality 0.7, 10% writes, raw 0.2, diurnal 0.5, 1 MB-256 MB. */
void store_gen_defaults(struct store_gen_params *p);

/* Fill t (released first). SKYC_E_USAGE for out-of-range parameters. */
enum skyc_err store_trace_generate(struct store_trace *t,
                                   const struct store_gen_params *p,
                                   struct skyc_error *err);

/* Parse "2023-12-03 18:04:56[.5]" or a number of seconds; false on junk. */
bool store_parse_timestamp(const char *s, double *out);

/* Format whole seconds as "YYYY-MM-DD HH:MM:SS" (UTC) into buf (>= 20). */
void store_format_timestamp(double t, char *buf, size_t size);

#endif
