/* ops_internal.h - struct ops, shared by ops.c (config, command lines) and ops_run.c (running). */
#ifndef ADC_OPS_INTERNAL_H
#define ADC_OPS_INTERNAL_H

#include "ops.h"

struct ops {
	char *boot_probe_command, *deploy_dir, *runtime_engine, *runner;
	char *imds_url;	 /* NULL: no spot check (ops_conf.imds_url) */
	bool imds_azure; /* the spot check reads Azure's Scheduled Events, not EC2's notice */
	char **args;
	size_t nargs;
	struct ops_conf t; /* timeouts, heartbeat: the strings above are this struct's own */
};

#endif
