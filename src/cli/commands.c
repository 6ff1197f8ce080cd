/*
 * commands.c - the rows of the top-level command table. Add a command by
 * writing cmd_<name>.c, declaring its handler in cli.h and adding a row here.
 */
#include "core/common.h"
#include "cli/cli.h"

const struct cli_command cli_commands[] = {
    /* compute: plan */
    {"launch", cmd_launch, "Launch a task (--dryrun: show the plan only)"},
    {"optimize", cmd_optimize, "Plan where a task or DAG runs cheapest"},
    {"show-gpus", cmd_show_gpus, "List GPU offerings and their prices"},
    {"task", cmd_task, "Check task YAML files"},
    {"catalog", cmd_catalog, "Inspect or refresh the price catalogs"},
    /* compute: clusters */
    {"exec", cmd_exec, "Run a task on an existing cluster (no setup)"},
    {"status", cmd_status, "Show clusters"},
    {"queue", cmd_queue, "Show a cluster's job queue"},
    {"logs", cmd_logs, "Print (-f: follow) a job's logs"},
    {"cancel", cmd_cancel, "Cancel jobs on a cluster"},
    {"stop", cmd_stop, "Stop clusters (keep their nodes' disks)"},
    {"start", cmd_start, "Restart stopped clusters"},
    {"down", cmd_down, "Tear clusters down"},
    {"autostop", cmd_autostop, "Stop or tear down a cluster when idle"},
    {"cost-report", cmd_cost_report, "What every cluster cost, past and present"},
    {"failover-history", cmd_failover_history, "Where each launch tried to provision, and why it moved on"},
    {"sim", cmd_sim, "Inspect the emulated cloud: instances, fault config, clock"},
    /* managed jobs and spot */
    {"jobs", cmd_jobs, "Managed jobs: kept running through preemptions, to a deadline"},
    {"spot", cmd_spot, "Simulate deadline-aware spot policies on traces"},
    /* transfer */
    {"transfer", cmd_transfer, "Plan transfers between regions (Skyplane-style)"},
    {"cp", cmd_cp, "Copy files through gateways, checksummed and resumable"},
    {"sync", cmd_sync, "Copy only the files that differ"},
    {"gateway", cmd_gateway, "Run a data-plane gateway (relay or last hop)"},
    /* storage */
    {"store", cmd_store, "S3-compatible object store: serve, sim, cost"},
    /* the rest */
    {"agent", cmd_agent, "(internal) a cluster's agent, started by launch"},
    {"help", cmd_help, "Show help for skyc or one command"},
    {"version", cmd_version, "Print skyc's version"},
    {NULL, NULL, NULL},
};
