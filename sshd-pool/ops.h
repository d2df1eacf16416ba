/*
 * ops.h - the only things sshd-pool runs on workers: typed operations, each building its exact
 * command line (spec/dispatcher.md 5.7-5.13) from validated, single-quoted values. There is no
 * "run this string" entry point; the boot probe command is fixed at ops_new (operator config).
 *
 * Outcomes passed to callbacks: OPS_OK; OPS_EXIT (the remote command exited non-zero, see
 * r->exit_status / r->err); OPS_BAD_SECRET; OPS_UNSAFE_DIR; or a negative errno from the session
 * layer (r->status, r->error says why). r is always non-NULL and belongs to the session layer.
 */
#ifndef ADC_OPS_H
#define ADC_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sess.h"

enum ops_outcome {
	OPS_OK = 0,
	OPS_EXIT = 1,	    /* ran, exited non-zero (or by a signal) */
	OPS_BAD_SECRET = 2, /* identity check: the worker's secret differs; connection dropped */
	OPS_UNSAFE_DIR = 3, /* deploy refused: directory or file not owned by the user or root */
	OPS_ALREADY = 4,    /* deploy: this hash is already installed on this worker (no cb) */
};

struct ops_conf {
	const char *boot_probe_command; /* BootProbeCommand, run verbatim, no sudo; "" = "true" */
	const char *crunch_run_command; /* CrunchRunCommand when nothing is deployed ("crunch-run") */
	const char *deploy_dir;		/* DeployRunnerDirectory ("/tmp/arvados-crunch-run") */
	const char *runner_hash;	/* md5 of DeployRunnerBinary; NULL/"" = nothing deployed */
	const char *runtime_engine;	/* RuntimeEngine ("docker") */
	const char *imds_url;  /* instance metadata base URL for the run probe's spot check;
			       * NULL/"" = none (proto_ssh_valid_imds_url) */
	const char *imds_kind; /* with imds_url: "ec2" or "azure", which check runs (refused
				* otherwise, proto_ssh_valid_imds_kind) */
	const char *const *crunch_run_args; /* CrunchRunArgumentsList */
	size_t ncrunch_run_args;
	uint64_t verify_timeout_ms, boot_timeout_ms, probe_timeout_ms, deploy_timeout_ms,
		start_timeout_ms, kill_timeout_ms; /* 0: the session default */
	bool heartbeat; /* -deadman-timeout: the run probe touches the heartbeat (deadman.h) first */
};

struct ops;
typedef void (*ops_cb)(int outcome, struct sess_result *r, void *arg);

/* Validates every field (why says which is bad). 0, -EINVAL, -ENOMEM. */
int ops_new(const struct ops_conf *conf, struct ops **out, char *why, size_t whylen);
void ops_free(struct ops *o);
/* The runner as used in commands: <deploy_dir>/crunch-run~<hash>, or crunch_run_command. */
const char *ops_runner(const struct ops *o);

/* For every op: 0 = cb will be called once; <0 = refused before anything was sent (-EINVAL for
 * an invalid argument, -EPERM for an unverified worker, -EBUSY, -ENOMEM), cb never called. */

/* `[sudo ]cat /var/run/arvados-instance-secret`, allowed before the host key is pinned; stdout
 * must equal secret exactly (constant-time compare). Equal: the connection's host key is pinned
 * (r->host_key). Different: OPS_BAD_SECRET and the connection is closed. */
int
ops_verify(struct ops *o, struct sess *s, const uint8_t *secret, size_t len, ops_cb cb, void *arg);
/* BootProbeCommand, verbatim, no sudo. */
int ops_boot_probe(struct ops *o, struct sess *s, ops_cb cb, void *arg);
/* Install the runner read from fd (a regular file; borrowed, dup'ed) as
 * <deploy_dir>/crunch-run~<md5> (5.8): `md5sum` check first, then the install script with the
 * binary on stdin. md5 must be the file's md5 (checked here, -EINVAL otherwise; a read error
 * of fd is returned as its -errno). Returns
 * OPS_ALREADY (no callback) when this session already installed it; -EBUSY while another deploy
 * of this session runs. */
int ops_deploy(struct ops *o, struct sess *s, int fd, const char *md5, ops_cb cb, void *arg);
/* `[sudo ]<runner> --list[ --stdin-prices]`, prices (JSON) on stdin when len > 0. With spot
 * (only when the conf has an imds_url, else -EINVAL), the spot check runs first, in the same
 * command, and prints one line before crunch-run's (ops_cmd_spot_check). */
int ops_run_probe(struct ops *o, struct sess *s, const uint8_t *prices, size_t len, bool spot,
		  ops_cb cb, void *arg);
/* `[sudo ]<runner> --detach --stdin-config '--runtime-engine=<e>' '<arg>'... '<uuid>'`, payload
 * (the JSON config) on stdin. */
int ops_start(struct ops *o, struct sess *s, const char *uuid, const uint8_t *payload, size_t len,
	      ops_cb cb, void *arg);
/* `[sudo ]<runner> --kill <signal> '<uuid>'` */
int ops_kill(struct ops *o, struct sess *s, const char *uuid, int signal, ops_cb cb, void *arg);

/* Build a command line without running it (tests, logs). Caller frees. NULL + *err on error. */
char *ops_cmd_verify(const char *user, int *err);
char *ops_cmd_run_probe(const struct ops *o, const char *user, int prices, bool spot, int *err);
char *ops_cmd_start(const struct ops *o, const char *user, const char *uuid, int *err);
char *ops_cmd_kill(const struct ops *o, const char *user, const char *uuid, int sig, int *err);
char *ops_cmd_deploy_check(const struct ops *o, const char *user, const char *md5, int *err);
char *ops_cmd_deploy_install(const struct ops *o, const char *user, const char *md5, int *err);

#endif
