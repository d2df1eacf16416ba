/*
 * helper_setup.h - what cloudd and sshd-pool are started with, built from the config: their
 * secrets as file descriptors and their init messages. One implementation for the
 * dispatcher's boot (boot_helpers.c) and the cloudtest subcommand (cloudtest_helpers.c),
 * with the checks of their init answers; each caller logs its own errors.
 */
#ifndef ADC_HELPER_SETUP_H
#define ADC_HELPER_SETUP_H

#include "config.h"
#include "proto.h"

/* cloudd's secret blob: {"DriverParameters": <config>, "Env": {AWS_* taken from our own
 * environment}} (cloudd/cloudd.c reads it), in a sealed memfd. The fd, or -errno. */
int helper_cloud_secret_fd(const struct cfg_secrets *s);

/* The dispatch key: a file:// key opened (never read: the bytes go straight to sshd-pool),
 * an inline one copied into a sealed memfd. The fd; -errno when the file cannot be opened or
 * the memfd made; -ENOKEY when no key is configured. Logs nothing. */
int helper_key_fd(const struct cfg_secrets *s);

/* cloudd's init: the driver, InstanceSetID and ResourceTags (the secret rides as the fd). */
int helper_cloud_init_encode(struct proto_wbuf *w, const struct cfg_cluster *cfg,
			     const char *instance_set_id);

/* sshd-pool's init: boot_probe_command (the configured BootProbeCommand, or cloudtest's
 * -command), runner_md5 ("" = nothing deployed), heartbeat (-deadman-timeout: the run
 * probe touches the heartbeat) and imds_url (the instance metadata URL of the spot checks;
 * "" = none); the key rides as the fd. */
int helper_ssh_init_encode(struct proto_wbuf *w, const struct cfg_cluster *cfg,
			   const char *boot_probe_command, const char *runner_md5, bool heartbeat,
			   const char *imds_url, const char *imds_kind);

/* The helpers' init answers, read the same way by the dispatcher and cloudtest: 0 ready;
 * CHILD_INIT_PERMANENT when the helper refused for good (PROTO_E_PERMANENT: bad key,
 * DriverParameters, driver), -1 otherwise, with why filled in (the helper's message names the
 * key or setting). helper_ssh_check_init hands the public key line to *public_key (freeing what
 * was there) when public_key is not NULL. */
int helper_cloud_check_init(const struct proto_msg *m, char *why, size_t len);
int helper_ssh_check_init(const struct proto_msg *m, char *why, size_t len, char **public_key);

#endif
