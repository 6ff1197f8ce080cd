/*
 * sim.h - the emulated multi-region cloud ("sim"), LocalStack-style.
 *
 * Regions, zones, instance types and prices come from the catalog; an
 * instance is a local sandbox (a directory under $XDG_STATE_HOME/skyc/sim
 * whose processes run on this machine). Callers use it through provider.h
 * (provider_open("sim")); this header is for provider.c, tests and the fuzz
 * target.
 *
 * Cloud names: "sim" emulates every catalog cloud the config enables (all by
 * default); "sim:gcp" (any catalog cloud after the colon) restricts a request
 * to one. Regions and zones keep their catalog names ("us-central1-a").
 *
 * Faults come from a YAML config (default $SKYC_SIM_CONFIG, else
 * $XDG_CONFIG_HOME/skyc/sim.yaml when it exists; none = no faults):
 *
 *   time_scale: 2880        # sim seconds per wall second (48 h in 60 s)
 *   clouds: [gcp, aws]      # emulated clouds (default: all)
 *   faults:                 # provision errors, first match wins
 *     - zone: us-central1-a # match on cloud/region/zone/instance_type/spot
 *       error: capacity     # capacity | quota | auth | other
 *       times: 2            # only the first N matching attempts (default all)
 *       max_nodes: 4        # or: only beyond 4 live matching nodes (a pool)
 *   preemptions:            # spot nodes taken back this long after start
 *     - region: us-west-2
 *       after: 30m          # sim time (a duration: 90s, 30m, 2h)
 *       rank: 1             # only node rank 1 of a cluster (default: all)
 *       times: 1            # only the first N matching nodes (default all)
 *   spot_traces:            # spot capacity and preemptions from a trace
 *     - zone: us-west-2a
 *       file: /path/trace.json   # relative to the config file's directory
 *       format: availability     # value = instances available (skypilot-org
 *                                # spot-traces), or "unavailable": 1 = no
 *                                # spot (Can't-Be-Late windows); default:
 *                                # "unavailable" when metadata has start_time
 *       start_tick: 0
 *
 * The sim clock: sim time = (wall - epoch) x time_scale, where epoch is the
 * first use of the state directory (file sim/epoch). A trace's tick at sim
 * time t is start_tick + t / gap_seconds, wrapping at the trace's end. A spot
 * provision in a zone fails with SKYC_E_CAPACITY while the trace has fewer
 * instances available than nodes asked; node rank r of a spot cluster is
 * preempted at the first later tick with at most r available. Preemption
 * kills every process of the node and leaves it NODE_PREEMPTED (the other
 * nodes of its cluster keep running: one node can be lost alone); a watcher
 * process per spot node does it on time even while no skyc runs, and every
 * provider call re-checks it.
 *
 * The trace reader here is the sim's own (sim_trace_parse): it keeps the
 * instance counts of the skypilot-org files, which rank preemption needs;
 * spot/trace.c (the spot plane's) reduces them to available or not.
 *
 * add_node (provider.h) starts one node for an existing cluster in exactly
 * the zone asked: the same faults apply (asked = 1 node), and a spot trace
 * must show more than `rank` instances available (the count a rank-r node
 * needs to stay up); the new node's preemption time follows its rank.
 *
 * Error classes (provider.h): injected faults give their class; asking for a
 * cloud the sim does not emulate, or an offering the catalog lacks, is
 * SKYC_E_INFEASIBLE (block the offering).
 */
#ifndef SKYC_PROVISION_SIM_H
#define SKYC_PROVISION_SIM_H

#include "core/common.h"
#include "core/error.h"
#include "catalog/catalog.h"
#include "provision/provider.h"

/* Which offerings a config rule applies to; NULL / -1 = any. */
struct sim_match {
    int cloud; /* enum cloud or -1 */
    char *region, *zone, *instance_type;
    int spot; /* -1 any, 0 on-demand, 1 spot */
};

struct sim_fault {
    struct sim_match m;
    enum skyc_err code; /* CAPACITY, QUOTA, AUTH or FAILED (other) */
    long times;         /* fail the first N matching attempts; 0 = always */
    bool has_max_nodes; /* only when the matching live nodes plus the ask */
    long max_nodes;     /* would exceed max_nodes (a capacity pool) */
    unsigned line;      /* in the config, keys the attempt counter */
};

struct sim_preempt {
    struct sim_match m;
    double after_s; /* sim seconds after the node started */
    long rank;      /* only nodes of this rank in their cluster; -1 = any */
    long times;     /* only the first N matching nodes started; 0 = all */
    unsigned line;  /* in the config, keys the node counter */
};

/* A spot trace normalised to "instances available" per tick. */
struct sim_trace {
    char *path;
    double gap_s;  /* > 0 */
    int *avail;    /* n values >= 0 */
    size_t n;      /* >= 1 */
};

struct sim_trace_rule {
    struct sim_match m;
    long start_tick;
    struct sim_trace trace;
};

struct sim_config {
    char *path;        /* file read, or NULL for the defaults */
    double time_scale; /* > 0, default 1 */
    bool clouds[CLOUD_COUNT];
    struct sim_fault *faults;
    size_t nfaults;
    struct sim_preempt *preempts;
    size_t npreempts;
    struct sim_trace_rule *traces;
    size_t ntraces;
};

/* Defaults: time_scale 1, every cloud, no faults. */
void sim_config_init(struct sim_config *cfg);
void sim_config_release(struct sim_config *cfg);

/*
 * Parse a config from text; name is used in "name:line:col: what" errors
 * (SKYC_E_INPUT) and to resolve relative trace paths. Traces are read (a
 * missing or bad trace file is SKYC_E_INPUT naming it). On failure cfg is
 * released.
 */
enum skyc_err sim_config_parse(const char *name, const char *text, size_t len,
                               struct sim_config *cfg, struct skyc_error *err);
/* Read and parse a config file (SKYC_E_NOT_FOUND when missing). */
enum skyc_err sim_config_load(const char *path, struct sim_config *cfg,
                              struct skyc_error *err);

/*
 * Read a spot trace JSON ({"metadata": {"gap_seconds": G}, "data": [...]})
 * from text. polarity: 1 = values count available instances, 0 = 1 means
 * unavailable, -1 = detect (metadata.start_time present -> unavailable).
 */
enum skyc_err sim_trace_parse(const char *name, const char *text, size_t len,
                              int polarity, struct sim_trace *tr,
                              struct skyc_error *err);
void sim_trace_release(struct sim_trace *tr);

/* Instances available at tick (wrapping). */
int sim_trace_at(const struct sim_trace *tr, long tick);

struct sim_options {
    const char *config_path; /* NULL = $SKYC_SIM_CONFIG or the default */
    const char *state_dir;   /* NULL = $XDG_STATE_HOME/skyc/sim */
    struct catalog *cat;     /* borrowed; NULL = load the default catalog */
};

/*
 * Open the sim provider. A bad config is SKYC_E_INPUT with file:line:col.
 * On success the caller owns *p (provider_close()). provider_sim_open() is
 * provider_open("sim")'s constructor: every option at its default.
 */
enum skyc_err provider_sim_open_with(struct provider *p,
                                     const struct sim_options *opts,
                                     struct skyc_error *err);
enum skyc_err provider_sim_open(struct provider *p, struct skyc_error *err);

/* The sim clock of an open sim provider, in sim seconds. */
double sim_provider_now(const struct provider *p);
/* The config an open sim provider uses (path NULL = defaults). */
const struct sim_config *sim_provider_config(const struct provider *p);

/* One emulated instance, for `skyc sim nodes`. */
struct sim_node_info {
    char *id, *cloud, *region, *zone, *instance_type; /* zone NULL: none */
    bool spot;
    double hourly_price;
    double created, preempt_at; /* wall seconds; preempt_at < 0 = never */
    size_t procs;               /* processes still running on it */
    enum provider_node_state state;
};
void sim_node_infos_free(struct sim_node_info *v, size_t n);
/*
 * Every instance of an open sim provider, by id, after applying any
 * preemption that is due. The caller frees *out.
 */
enum skyc_err sim_provider_nodes(struct provider *p, struct sim_node_info **out,
                                 size_t *n, struct skyc_error *err);

#endif
