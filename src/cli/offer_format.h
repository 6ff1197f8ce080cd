/*
 * offer_format.h - how the CLI shows one catalog offering, in tables and in
 * JSON, shared by `optimize`/`launch --dryrun` and `show-gpus`.
 */
#ifndef SKYC_CLI_OFFER_FORMAT_H
#define SKYC_CLI_OFFER_FORMAT_H

#include "core/common.h"
#include "core/output.h"
#include "catalog/catalog.h"

/* "A100:8", or "-" when the offering has no accelerator, into buf. */
const char *offer_gpus(const struct catalog *cat,
                       const struct catalog_offering *o, char *buf,
                       size_t size);

/*
 * A number cell that shows "-" for NaN: with decimals >= 0 as "%.*f",
 * otherwise as "%g"; suffix (may be "") follows the number.
 */
void offer_cell_number(struct table *t, double v, int decimals,
                       const char *suffix);

/* A JSON object describing offering o (new reference). */
json_t *offer_json(const struct catalog *cat, const struct catalog_offering *o);

#endif
