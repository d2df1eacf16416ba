/* cli.h - the command line of arvados-dispatch-cloud (spec 1.1: Go flag syntax). */
#ifndef ADC_CLI_H
#define ADC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum cli_command { CLI_RUN = 0, CLI_CONFIG_CHECK, CLI_INSTANCE };

struct cli_opts {
	enum cli_command command;
	const char *config_path; /* NULL: $ARVADOS_CONFIG, else /etc/arvados/config.yml */
	bool version, help;
	bool insecure_no_sandbox; /* run the children without their sandbox (loudly) */
	bool require_landlock;	  /* a kernel without Landlock is fatal, not a warning */
	const char *cloudd_path;  /* NULL: beside the executable, else ADC_LIBEXECDIR */
	const char *sshd_pool_path;
	const char *cloudd_user; /* NULL: the sandbox's default user per role */
	const char *sshd_pool_user;
	const char *max_hourly_spend;	 /* -max-hourly-spend as given; NULL: not given */
	double max_hourly_spend_dollars; /* parsed: the budget cap, 0 = off */
	const char *deadman_timeout;	 /* -deadman-timeout as given; NULL: not given */
	int64_t deadman_timeout_ns;	 /* parsed: the dead-man's switch, 0 = off */
	/* Spot to on-demand fallback (docs/SCHEDULER.md): as given (NULL: not given), parsed. */
	const char *spot_fallback_price_factor;
	const char *spot_fallback_after_attempts;
	double spot_fallback_factor;	 /* on-demand price <= this x the spot choice's; 0 = off */
	unsigned spot_fallback_attempts; /* also fall back after this many attempts; 0 = not */
	int sub_argc;			 /* CLI_INSTANCE: the arguments after "instance" */
	char **sub_argv;
	/* -spot-interruption-notices, and -instance-metadata-url (cli_parse sets its default). */
	bool spot_notices;
	const char *imds_url;
};

/* Parse argv. Returns 0, or 2 after printing the problem to err (usage error: exit 2). */
int cli_parse(int argc, char **argv, struct cli_opts *o, FILE *err);
void cli_usage(FILE *f, const char *prog);

#endif
