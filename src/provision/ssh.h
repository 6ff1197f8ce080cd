/*
 * ssh.h - the ssh provider: a pool of existing hosts reached with the
 * system `ssh` and `rsync`, declared in a YAML file (default
 * $SKYC_SSH_CONFIG, else $XDG_CONFIG_HOME/skyc/ssh.yaml):
 *
 *   connect_timeout: 5          # seconds (default 10)
 *   ssh_options: [Ciphers=aes128-ctr]   # extra `ssh -o` options
 *   hosts:
 *     - name: gpu1              # default "host" or "host:port"
 *       host: 10.0.0.5          # address or name (required)
 *       port: 22
 *       user: ubuntu            # default: ssh's default
 *       identity_file: ~/.ssh/id_ed25519
 *       workdir_root: ~/.skyc/nodes     # where node dirs go on the host
 *       labels: {gpus: 2, accelerator: A100, cpus: 16, region: lab}
 *
 * A host serves one node of one cluster at a time; the claim is a file
 * under $XDG_STATE_HOME/skyc/ssh/claims, made atomically (O_EXCL), so two
 * skyc processes never hand out the same host. provision() takes the first
 * free hosts whose labels fit the request (cpus, gpus, accelerator, region
 * = labels.region); too few is SKYC_E_CAPACITY. A host that refuses the
 * connection or does not answer is SKYC_E_NETWORK, rejected keys
 * SKYC_E_AUTH, each naming the host and ssh's own words.
 *
 * Node ids are "<cluster>-<rank>@<host name>"; the node's workdir is
 * <workdir_root>/<cluster>-<rank>/work on the host. Commands run through
 * ssh in their own process group on the host (recorded under the node dir
 * so kill/stop/terminate reach it); the ssh client on this machine is what
 * provider_proc.pid names. Host keys are recorded on first use in
 * $XDG_STATE_HOME/skyc/ssh/known_hosts (StrictHostKeyChecking=accept-new).
 */
#ifndef SKYC_PROVISION_SSH_H
#define SKYC_PROVISION_SSH_H

#include "core/common.h"
#include "core/error.h"
#include "provision/provider.h"

struct ssh_host {
    char *name, *host, *user, *identity_file, *workdir_root, *region;
    char *accelerator;
    long port; /* 0 = ssh's default */
    double cpus, gpus, hourly_price;
};

struct ssh_config {
    char *path;
    struct ssh_host *hosts;
    size_t nhosts;
    char **options; /* extra -o values */
    size_t noptions;
    long connect_timeout;
};

void ssh_config_init(struct ssh_config *cfg);
void ssh_config_release(struct ssh_config *cfg);
/* Parse YAML text; "name:line:col: what" errors (SKYC_E_INPUT). */
enum skyc_err ssh_config_parse(const char *name, const char *text, size_t len,
                               struct ssh_config *cfg, struct skyc_error *err);

struct ssh_options {
    const char *config_path; /* NULL = $SKYC_SSH_CONFIG or the default */
    const char *state_dir;   /* NULL = $XDG_STATE_HOME/skyc/ssh */
};

/*
 * Open the provider; a missing config is SKYC_E_NOT_FOUND saying where to
 * write one, a bad one SKYC_E_INPUT. provider_ssh_open() is
 * provider_open("ssh")'s constructor (defaults).
 */
enum skyc_err provider_ssh_open_with(struct provider *p,
                                     const struct ssh_options *opts,
                                     struct skyc_error *err);
enum skyc_err provider_ssh_open(struct provider *p, struct skyc_error *err);

#endif
