/*
 * config_cluster.c - the cluster-level, Containers and Containers.CloudVMs keys of spec 1.3,
 * read with their defaults, then the "fallback" column applied (a zero or negative value
 * means the fallback, so the rest of the program never sees a nonsensical interval).
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define NS_SEC 1000000000LL

static int
cluster_read_strs(struct cfg_ctx *x)
{
	struct cfg_cluster *c = x->c;
	struct cfg_cloudvms *v = &c->containers.cloudvms;
	int rc = 0;

	rc |= cfg_get_str(x, "SystemRootToken", &c->system_root_token);
	rc |= cfg_get_str(x, "ManagementToken", &c->management_token);
	rc |= cfg_get_str(x, "Services.Controller.ExternalURL", &c->controller_external_url);
	rc |= cfg_get_str(x, "TLS.Certificate", &c->tls_certificate);
	rc |= cfg_get_str(x, "TLS.Key", &c->tls_key);
	rc |= cfg_get_str(x, "SystemLogs.Format", &c->log_format);
	rc |= cfg_get_str(x, "SystemLogs.LogLevel", &c->log_level);
	rc |= cfg_get_str(x, "Containers.CrunchRunCommand", &c->containers.crunch_run_command);
	rc |= cfg_get_str(x, "Containers.RuntimeEngine", &c->containers.runtime_engine);
	rc |= cfg_get_str(x, "Containers.LocalKeepLogsToContainerLog",
			  &c->containers.local_keep_logs_to_container_log);
	rc |= cfg_get_str(x, "Containers.CloudVMs.Driver", &v->driver);
	rc |= cfg_get_str(x, "Containers.CloudVMs.ImageID", &v->image_id);
	rc |= cfg_get_str(x, "Containers.CloudVMs.InstanceInitCommand", &v->instance_init_command);
	rc |= cfg_get_str(x, "Containers.CloudVMs.SSHPort", &v->ssh_port);
	rc |= cfg_get_str(x, "Containers.CloudVMs.BootProbeCommand", &v->boot_probe_command);
	rc |= cfg_get_str(x, "Containers.CloudVMs.DeployRunnerBinary", &v->deploy_runner_binary);
	rc |= cfg_get_str(x, "Containers.CloudVMs.DeployRunnerDirectory",
			  &v->deploy_runner_directory);
	rc |= cfg_get_str(x, "Containers.CloudVMs.TagKeyPrefix", &v->tag_key_prefix);
	return rc;
}

static int
cluster_read_numbers(struct cfg_ctx *x)
{
	struct cfg_cluster *c = x->c;
	struct cfg_containers *k = &c->containers;
	struct cfg_cloudvms *v = &k->cloudvms;
	int rc = 0;

	rc |= cfg_get_bool(x, "TLS.Insecure", &c->tls_insecure);
	rc |= cfg_get_int(x, "API.MaxConcurrentRequests", &c->api_max_concurrent_requests);
	rc |= cfg_get_int(x, "API.MaxQueuedRequests", &c->api_max_queued_requests);
	rc |= cfg_get_duration(x, "API.RequestTimeout", &c->api_request_timeout);
	rc |= cfg_get_bytesize(x, "Containers.ReserveExtraRAM", &k->reserve_extra_ram);
	rc |= cfg_get_int(x, "Containers.LocalKeepBlobBuffersPerVCPU",
			  &k->local_keep_blob_buffers_per_vcpu);
	rc |= cfg_get_float(x, "Containers.MaximumPriceFactor", &k->maximum_price_factor);
	rc |= cfg_get_duration(x, "Containers.StaleLockTimeout", &k->stale_lock_timeout);
	rc |= cfg_get_float(x, "Containers.PreemptiblePriceFactor", &k->preemptible_price_factor);
	rc |= cfg_get_int(x, "Containers.MaxDispatchAttempts", &k->max_dispatch_attempts);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.PollInterval", &v->poll_interval);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.SyncInterval", &v->sync_interval);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.ProbeInterval", &v->probe_interval);
	rc |= cfg_get_float(x, "Containers.CloudVMs.MaxProbesPerSecond", &v->max_probes_per_second);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutIdle", &v->timeout_idle);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutBooting", &v->timeout_booting);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutProbe", &v->timeout_probe);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutShutdown", &v->timeout_shutdown);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutTERM", &v->timeout_term);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutSignal", &v->timeout_signal);
	rc |= cfg_get_duration(x, "Containers.CloudVMs.TimeoutStaleRunLock",
			       &v->timeout_stale_run_lock);
	rc |= cfg_get_float(x, "Containers.CloudVMs.MaxCloudOpsPerSecond",
			    &v->max_cloud_ops_per_second);
	rc |= cfg_get_int(x, "Containers.CloudVMs.MaxConcurrentInstanceCreateOps",
			  &v->max_concurrent_instance_create_ops);
	rc |= cfg_get_int(x, "Containers.CloudVMs.MaxInstances", &v->max_instances);
	rc |= cfg_get_int(x, "Containers.CloudVMs.MaxRunningContainersPerInstance",
			  &v->max_running_containers_per_instance);
	rc |= cfg_get_int(x, "Containers.CloudVMs.InitialQuotaEstimate",
			  &v->initial_quota_estimate);
	rc |= cfg_get_float(x, "Containers.CloudVMs.SupervisorFraction", &v->supervisor_fraction);
	rc |= cfg_get_bool(x, "Containers.CloudVMs.DeployPublicKey", &v->deploy_public_key);
	rc |= cfg_get_bool(x, "Containers.CloudVMs.Enable", &v->enable);
	return rc;
}

static void
fb_dur(cfg_duration_ns *d, cfg_duration_ns fallback)
{
	if (*d <= 0)
		*d = fallback;
}

static int
fb_str(char **s, const char *fallback)
{
	if (*s && **s)
		return 0;
	free(*s);
	*s = strdup(fallback);
	return *s ? 0 : -1;
}

/* Spec 1.3's "fallback" column. */
static int
cluster_fallbacks(struct cfg_cluster *c)
{
	struct cfg_containers *k = &c->containers;
	struct cfg_cloudvms *v = &k->cloudvms;

	fb_dur(&v->sync_interval, 60 * NS_SEC);
	fb_dur(&v->probe_interval, 10 * NS_SEC);
	fb_dur(&v->timeout_idle, 60 * NS_SEC);
	fb_dur(&v->timeout_booting, 600 * NS_SEC);
	fb_dur(&v->timeout_probe, 600 * NS_SEC);
	fb_dur(&v->timeout_shutdown, 10 * NS_SEC);
	fb_dur(&v->timeout_term, 120 * NS_SEC);
	fb_dur(&v->timeout_signal, 5 * NS_SEC);
	fb_dur(&v->timeout_stale_run_lock, 5 * NS_SEC);
	if (v->max_probes_per_second <= 0)
		v->max_probes_per_second = 10;
	/* 0 = unlimited / no limit / start at MaxInstances: negative means the same. */
	if (v->max_cloud_ops_per_second < 0)
		v->max_cloud_ops_per_second = 0;
	if (v->max_concurrent_instance_create_ops < 0)
		v->max_concurrent_instance_create_ops = 0;
	if (v->max_instances < 0)
		v->max_instances = 0;
	if (v->max_running_containers_per_instance < 0)
		v->max_running_containers_per_instance = 0;
	if (v->initial_quota_estimate < 0)
		v->initial_quota_estimate = 0;
	if (v->supervisor_fraction < 0)
		v->supervisor_fraction = 0;
	if (k->maximum_price_factor < 1)
		k->maximum_price_factor = 1;
	return fb_str(&v->ssh_port, "ssh") | fb_str(&v->boot_probe_command, "true");
}

/* Containers.CrunchRunArgumentsList: a sequence of strings. */
static int
cluster_read_args(struct cfg_ctx *x)
{
	const char *rel = "Containers.CrunchRunArgumentsList";
	struct fy_node *k = NULL, *seq = cfg_lookup(x->cluster, rel, &k), *item;
	struct cfg_containers *c = &x->c->containers;
	void *it = NULL;
	int n, rc = 0;

	if (cfg_node_is_null(seq))
		return 0;
	if (fy_node_get_type(seq) != FYNT_SEQUENCE) {
		cfg_report(x, true, rel, k, seq, "expected a list of strings");
		return -1;
	}
	n = fy_node_sequence_item_count(seq);
	c->crunch_run_arguments = calloc((size_t)n + 1, sizeof(char *));
	if (!c->crunch_run_arguments)
		return -1;
	while ((item = fy_node_sequence_iterate(seq, &it))) {
		char *s = NULL;
		if (cfg_node_str(x, rel, k, item, &s) < 0) {
			rc = -1;
			continue;
		}
		c->crunch_run_arguments[c->n_crunch_run_arguments++] = s;
	}
	return rc;
}

/* Containers.CloudVMs.ResourceTags: a mapping of tag name to string. */
static int
cluster_read_tags(struct cfg_ctx *x)
{
	const char *rel = "Containers.CloudVMs.ResourceTags";
	struct fy_node *k = NULL, *map = cfg_lookup(x->cluster, rel, &k);
	struct cfg_cloudvms *v = &x->c->containers.cloudvms;
	struct fy_node_pair *p;
	void *it = NULL;
	int n, rc = 0;

	if (cfg_node_is_null(map))
		return 0;
	if (fy_node_get_type(map) != FYNT_MAPPING) {
		cfg_report(x, true, rel, k, map, "expected a mapping of tag names to values");
		return -1;
	}
	n = fy_node_mapping_item_count(map);
	v->resource_tag_keys = calloc((size_t)n + 1, sizeof(char *));
	v->resource_tag_values = calloc((size_t)n + 1, sizeof(char *));
	if (!v->resource_tag_keys || !v->resource_tag_values)
		return -1;
	while ((p = fy_node_mapping_iterate(map, &it))) {
		char *name = cfg_scalar_dup(fy_node_pair_key(p)), *val = NULL;
		if (!name ||
		    cfg_node_str(x, rel, fy_node_pair_key(p), fy_node_pair_value(p), &val) < 0) {
			free(name);
			rc = -1;
			continue;
		}
		v->resource_tag_keys[v->n_resource_tags] = name;
		v->resource_tag_values[v->n_resource_tags++] = val;
	}
	return rc;
}

/* Services.DispatchCloud.InternalURLs: URL -> {ListenURL: ...} (value may be empty). */
static int
cluster_read_internal_urls(struct cfg_ctx *x)
{
	const char *rel = "Services.DispatchCloud.InternalURLs";
	struct fy_node *k = NULL, *map = cfg_lookup(x->cluster, rel, &k);
	struct cfg_cluster *c = x->c;
	struct fy_node_pair *p;
	void *it = NULL;
	int rc = 0;

	if (cfg_node_is_null(map))
		return 0;
	if (fy_node_get_type(map) != FYNT_MAPPING) {
		cfg_report(x, true, rel, k, map, "expected a mapping of URLs");
		return -1;
	}
	c->dispatch_internal_urls = calloc((size_t)fy_node_mapping_item_count(map) + 1,
					   sizeof(*c->dispatch_internal_urls));
	if (!c->dispatch_internal_urls)
		return -1;
	while ((p = fy_node_mapping_iterate(map, &it))) {
		struct cfg_internal_url *u =
			&c->dispatch_internal_urls[c->n_dispatch_internal_urls];
		struct fy_node *lk = NULL,
			       *lv = cfg_lookup(fy_node_pair_value(p), "ListenURL", &lk);
		char *url = cfg_scalar_dup(fy_node_pair_key(p)), *listen = strdup("");

		if (!url || !listen || (lv && cfg_node_str(x, rel, lk, lv, &listen) < 0)) {
			free(url);
			free(listen);
			rc = -1;
			continue;
		}
		u->url = url;
		u->listen_url = listen;
		c->n_dispatch_internal_urls++;
	}
	return rc;
}

int
cfg_read_cluster(struct cfg_ctx *x)
{
	int rc = 0;

	rc |= cluster_read_strs(x);
	rc |= cluster_read_numbers(x);
	rc |= cluster_read_args(x);
	rc |= cluster_read_tags(x);
	rc |= cluster_read_internal_urls(x);
	rc |= cluster_fallbacks(x->c);
	return rc ? -1 : 0;
}
