/*
 * providers.h - the constructors behind provider_open(), one per provider.
 * Only provider.c includes this file; add a provider by writing its open
 * function and a row in provider.c's table.
 */
#ifndef SKYC_PROVISION_PROVIDERS_H
#define SKYC_PROVISION_PROVIDERS_H

#include "provision/provider.h"

/* The local provider: sandboxes on this machine (local.c). */
enum skyc_err provider_local_open(struct provider *p, struct skyc_error *err);
/* The emulated multi-region cloud (sim.c, sim.h). */
enum skyc_err provider_sim_open(struct provider *p, struct skyc_error *err);
/* A pool of existing hosts over ssh + rsync (ssh.c, ssh.h). */
enum skyc_err provider_ssh_open(struct provider *p, struct skyc_error *err);

#endif
