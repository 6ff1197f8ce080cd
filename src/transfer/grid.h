/*
 * grid.h - Skyplane's measured inter-region grids: throughput and egress price.
 *
 * A transfer grid is the planner's view of the network: a list of region
 * keys ("aws:us-east-1", "azure:eastus", "gcp:us-west1-a" -- Skyplane names
 * GCP zones) and two dense n x n matrices, read from Skyplane's CSV files
 * (see $SKYC_SHARED_DATA/skyplane/SOURCE.md):
 *
 *   throughput_grid_*.csv  src_region,dst_region,throughput_sent (bit/s, one
 *                          VM pair, 64 iperf3 connections); optional
 *                          src_tier/dst_tier (only PREMIUM->PREMIUM rows are
 *                          kept) and success (rows saying False are skipped).
 *   cost_grid_*.csv        src,dest,cost ($/GB); optional src_tier/dest_tier
 *                          (only PREMIUM->PREMIUM kept).
 *
 * Units are Skyplane's so plans compare one to one: gbps[] holds
 * throughput_sent / 2^30 ("Gbps" in Skyplane's solver), price[] holds $/GB
 * as in the cost grid. The first row of a pair wins (Skyplane's rule for the
 * few duplicates in the 2022-01 grid). Regions are those of the throughput
 * grid, in order of first appearance; cost rows naming other regions are
 * ignored.
 *
 * Ownership: struct transfer_grid owns every array and string; release with
 * transfer_grid_release(). Entries are NaN where the grid is silent; the
 * diagonal is NaN in gbps and 0 in price.
 *
 * Errors: malformed CSV, a missing column, a number that does not parse or
 * is negative, a region key that is not "cloud:region" with cloud one of
 * aws/gcp/azure: SKYC_E_INPUT with "FILE:LINE: what (hint)". A missing file:
 * SKYC_E_NOT_FOUND. An empty grid (no usable row): SKYC_E_INPUT.
 */
#ifndef SKYC_TRANSFER_GRID_H
#define SKYC_TRANSFER_GRID_H

#include "core/common.h"
#include "core/error.h"

/* Skyplane's GB constant: its "Gbps" is bit/s divided by this. */
#define TRANSFER_GBIT (1073741824.0)

enum transfer_cloud { TRANSFER_AWS, TRANSFER_GCP, TRANSFER_AZURE };

struct transfer_grid {
    size_t n;
    char **regions;          /* n keys "cloud:region" */
    enum transfer_cloud *cloud; /* n */
    double *gbps;            /* n*n, row = source; NaN where unmeasured */
    double *price;           /* n*n $/GB; NaN where unpriced */
    size_t nalloc;
    size_t throughput_rows;  /* data rows used */
    size_t price_rows;
    char *throughput_source; /* file names read, for reports */
    char *price_source;
};

void transfer_grid_init(struct transfer_grid *g);
void transfer_grid_release(struct transfer_grid *g);

/* Parse throughput grid text into an initialised grid, replacing its
 * contents (name is used in messages). */
enum skyc_err transfer_grid_parse_throughput(struct transfer_grid *g,
                                             const char *name,
                                             const char *buf, size_t len,
                                             struct skyc_error *err);
/* Parse cost grid text into an already filled grid. */
enum skyc_err transfer_grid_parse_price(struct transfer_grid *g,
                                        const char *name, const char *buf,
                                        size_t len, struct skyc_error *err);

/*
 * Load both files. NULL paths mean the shared defaults
 * ($SKYC_SHARED_DATA/skyplane/throughput_grid_2022-11.csv and
 * cost_grid_2022-11.csv).
 */
enum skyc_err transfer_grid_load(struct transfer_grid *g,
                                 const char *throughput_path,
                                 const char *price_path,
                                 struct skyc_error *err);

/*
 * Index of a region by key: "aws:us-east-1", also "aws/us-east-1"; a GCP
 * region without a zone ("gcp:us-west1") finds its first zone in the grid.
 * Case-insensitive. Returns -1 when the grid has no such region.
 */
int transfer_grid_find(const struct transfer_grid *g, const char *key);

/* Per-VM NIC caps in Skyplane Gbps: AWS 5/10, GCP 7/16, Azure 16/16. */
double transfer_egress_cap(enum transfer_cloud c);
double transfer_ingress_cap(enum transfer_cloud c);
/* "aws", "gcp", "azure" */
const char *transfer_cloud_name(enum transfer_cloud c);
/* The VM type Skyplane measured the grid with in this cloud. */
const char *transfer_gateway_instance(enum transfer_cloud c);

#endif
