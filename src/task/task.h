/*
 * task.h - a task YAML file (SkyPilot's schema) as a DAG of tasks.
 *
 * The contract:
 * - task_dag_load_file()/task_dag_load_string() parse one file with libyaml.
 *   Several "---" documents form a pipeline (each task depends on the one
 *   before) unless any document has `depends_on:`, in which case the edges
 *   are exactly those the depends_on lists name (a general DAG).
 * - On failure they return SKYC_E_INPUT (or SKYC_E_IO / SKYC_E_NOT_FOUND for
 *   an unreadable / missing file) and err->msg reads
 *   "FILE:LINE:COL: what is wrong (hint)", naming the field, with the nearest
 *   valid key for a typo. The dag is then empty and needs no release, but
 *   task_dag_release() on it is harmless.
 * - On success the dag owns every string and array in it;
 *   task_dag_release() frees them all. Nothing in a loaded dag is NULL except
 *   where a field's comment says "NULL = unset".
 * - tasks[] is in topological order: every edge goes from a lower index to a
 *   higher one. Cycles, unknown or duplicate task names are errors.
 */
#ifndef SKYC_TASK_TASK_H
#define SKYC_TASK_TASK_H

#include "core/common.h"
#include "core/error.h"

/* Where something was written: 1-based line and column. */
struct task_mark {
    unsigned line, col;
};

struct task_kv {
    char *key;
    char *value;
};

/* An input or output of a task: `{path: GB}`. */
struct task_data {
    char *path;
    double gb;
};

enum task_amount_kind {
    TASK_AMOUNT_ANY = 0,  /* not given */
    TASK_AMOUNT_EXACT,    /* "8" */
    TASK_AMOUNT_AT_LEAST, /* "8+" */
    TASK_AMOUNT_PER_CPU,  /* memory only: "4x" = 4 GB per vCPU, at least */
};

struct task_amount {
    enum task_amount_kind kind;
    double value;
};

/*
 * One concrete set of requirements. A task has one or more: any_of/ordered
 * entries and accelerator lists/maps are expanded by the parser into
 * separate alternatives, each a full copy with the base fields merged in.
 */
struct task_resources {
    char *cloud;         /* lower-case ("gcp"); NULL = any */
    char *region;        /* NULL = any */
    char *zone;          /* NULL = any */
    char *instance_type; /* NULL = any */
    struct task_amount cpus;
    struct task_amount memory_gb;
    char *accelerator;        /* as written ("a100"); NULL = none */
    double accelerator_count; /* > 0 when accelerator is set */
    bool use_spot;
    double disk_size_gb; /* 0 = default */
    char *disk_tier;     /* NULL = default */
    char **ports;        /* "8080" or "10000-10010" */
    size_t nports;
    char *image_id; /* NULL = default */
    struct task_kv *labels;
    size_t nlabels;
    double max_hourly_cost; /* 0 = no limit */
    char *job_recovery;     /* strategy name; NULL = default */
    long max_restarts_on_errors;
    long *recover_on_exit_codes;
    size_t nrecover_on_exit_codes;
    struct task_mark mark; /* where these resources were written */
};

struct task {
    char *name; /* NULL = unnamed (shown as "task-<index>") */
    char *workdir; /* NULL = unset */
    long num_nodes; /* >= 1 */
    struct task_resources *resources; /* >= 1 alternative */
    size_t nresources;
    /* true: alternatives are in order of preference (take the first that
     * fits); false: any of them, the cheapest wins. */
    bool resources_ordered;
    struct task_kv *envs;
    size_t nenvs;
    struct task_kv *secrets;
    size_t nsecrets;
    struct task_kv *file_mounts; /* key = remote path, value = source */
    size_t nfile_mounts;
    char *setup; /* NULL = none */
    char *run;   /* NULL = none */
    struct task_data *inputs;
    size_t ninputs;
    struct task_data *outputs;
    size_t noutputs;
    double estimated_hours; /* 0 = not given */
    char **depends_on;      /* names as written */
    size_t ndepends_on;
    struct task_mark mark; /* start of the task's document */
};

struct task_edge {
    size_t from, to; /* indexes into tasks[] */
};

struct task_dag {
    char *path; /* the file name used in messages */
    struct task *tasks;
    size_t ntasks;
    struct task_edge *edges;
    size_t nedges;
};

enum skyc_err task_dag_load_file(struct task_dag *dag, const char *path,
                                 struct skyc_error *err);
/* Parse text (len bytes, need not be NUL-terminated); name is for messages. */
enum skyc_err task_dag_load_string(struct task_dag *dag, const char *text,
                                   size_t len, const char *name,
                                   struct skyc_error *err);
void task_dag_release(struct task_dag *dag);

/* The name shown for task i: its name, or "task-<i>". Static or owned. */
const char *task_display_name(const struct task_dag *dag, size_t i,
                              char *buf, size_t size);

/* Total GB of a task's outputs (the data its dependents receive). */
double task_output_gb(const struct task *t);

/*
 * The provider an alternative names as its cloud: "local", "ssh" or "sim"
 * (the emulated cloud, which mirrors every catalog cloud), else NULL (a
 * catalog cloud, or none). Such a cloud does not narrow catalog offerings.
 */
const char *task_resources_provider(const struct task_resources *r);

#endif
