/*
 * config_check.h - what start-up would refuse after loading the config, checked up front so
 * that `arvados-dispatch-cloud config-check` catches it, each error naming the key and its
 * file:line like the loader's own (docs/CONFIG.md, "config-check"):
 *   - Containers.CloudVMs.Driver: unknown, or not supported yet (azure);
 *   - Containers.CloudVMs.DriverParameters the driver rejects (cloudd's own check,
 *     cloudd/drv_check.h: EC2 without Region, ...);
 *   - Containers.DispatchPrivateKey: missing, unreadable, or not parsed by libssh (sshd-pool's
 *     own parser, sshpool_key.c; the text is wiped afterwards);
 *   - Containers.CloudVMs.DeployRunnerBinary that cannot be found or opened;
 *   - CrunchRunCommand, DeployRunnerDirectory, RuntimeEngine, CrunchRunArgumentsList that
 *     sshd-pool would refuse (its own check, ops.c).
 * A running dispatcher checks all but the secrets here (with_secrets false): it never parses
 * the secrets itself, and the helpers refuse those for good
 * (PROTO_E_PERMANENT), which stops it with exit status 1.
 */
#ifndef ADC_CONFIG_CHECK_H
#define ADC_CONFIG_CHECK_H

#include <stdbool.h>

#include "config.h"

/* Adds an error diag per problem; returns how many were added (0: all good). */
int config_check_startup(const struct cfg_cluster *c, struct cfg_diags *d, bool with_secrets);

#endif
