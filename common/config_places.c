/*
 * config_places.c - where a few keys are in the file, kept in the loaded cluster so that checks
 * made after loading (the driver and its parameters, the dispatch key, the runner binary: see
 * dispatcherd/config_check.c) name the key and its file:line as the loader's own errors do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "config_internal.h"

static const char *const cfg_placed_paths[CFG_AT_N] = {
	[CFG_AT_DRIVER] = "Containers.CloudVMs.Driver",
	[CFG_AT_DRIVER_PARAMETERS] = "Containers.CloudVMs.DriverParameters",
	[CFG_AT_DISPATCH_KEY] = "Containers.DispatchPrivateKey",
	[CFG_AT_DEPLOY_RUNNER] = "Containers.CloudVMs.DeployRunnerBinary",
	[CFG_AT_DEPLOY_DIRECTORY] = "Containers.CloudVMs.DeployRunnerDirectory",
	[CFG_AT_CRUNCH_RUN_COMMAND] = "Containers.CrunchRunCommand",
	[CFG_AT_RUNTIME_ENGINE] = "Containers.RuntimeEngine",
	[CFG_AT_CRUNCH_RUN_ARGS] = "Containers.CrunchRunArgumentsList",
};

const char *
cfg_placed_key_path(enum cfg_placed_key k)
{
	return k < CFG_AT_N ? cfg_placed_paths[k] : "";
}

void
cfg_record_places(struct cfg_ctx *x)
{
	for (int i = 0; i < CFG_AT_N; i++) {
		struct fy_node *k = NULL, *v = cfg_lookup(x->cluster, cfg_placed_paths[i], &k);
		struct cfg_place *at = &x->c->at[i];

		cfg_node_pos(k, v, &at->line, &at->column);
		if (at->line == 0)
			cfg_node_pos(x->cluster_key, NULL, &at->line, &at->column);
	}
}

int
cfg_diag_error_at(struct cfg_diags *d, const struct cfg_cluster *c, enum cfg_placed_key k,
		  const char *fmt, ...)
{
	char *path = NULL, *msg = NULL;
	va_list ap;
	int r;

	if (k >= CFG_AT_N)
		return -EINVAL;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg = NULL;
	if (asprintf(&path, "Clusters.%s.%s", c->cluster_id ? c->cluster_id : "",
		     cfg_placed_paths[k]) < 0)
		path = NULL;
	r = cfg_diag_add(d, true, path, c->source_path, c->at[k].line, c->at[k].column, "%s",
			 msg ? msg : "(out of memory)");
	free(msg);
	free(path);
	return r;
}
