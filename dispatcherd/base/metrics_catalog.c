/*
 * metrics_catalog.c - the section 8 table as data, and the series pre-created at 0.
 *
 * Unlabelled counters, gauges and summaries always have their one series (the Go client renders
 * them from the start); labelled families get series only where the reference pre-creates them
 * or where the set of label values is known at start-up (instance categories, configured types,
 * request queues).
 */
#include "metrics_catalog.h"

#include <errno.h>
#include <stddef.h>

struct cat_entry {
	enum metric_type type;
	const char *name;
	const char *help;
	const char *labels[METRICS_MAX_LABELS];
};

#define P MET_PREFIX
static const struct cat_entry catalog[] = {
	{ METRIC_COUNTER,
	  P "driver_operations",
	  "number of cloud driver operations, by type and outcome",
	  { "operation", "error" } },
	{ METRIC_GAUGE,
	  P "queue_entries",
	  "number of active container entries in the queue",
	  { "state", "instance_type" } },
	{ METRIC_GAUGE,
	  P "containers_allocated_not_started",
	  "number of containers allocated to a worker but not started yet (worker is booting)",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "containers_not_allocated_over_quota",
	  "number of containers not allocated to a worker because the system has hit a quota",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "containers_longest_wait_time_seconds",
	  "current longest wait time of any container since it was queued",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "last_503_time",
	  "time of most recent 503 error received from API server (unix time, 0 if never)",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "max_concurrent_containers",
	  "maximum number of containers the dispatcher will run at once (0 = unlimited)",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "at_quota",
	  "1 if the cloud provider's instance quota has been reached",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "containers_running",
	  "number of containers reported running by cloud VMs",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "probe_age_seconds_max",
	  "maximum number of seconds since an instance's most recent successful probe",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "probe_age_seconds_median",
	  "median number of seconds since an instance's most recent successful probe",
	  { 0 } },
	{ METRIC_GAUGE,
	  P "instances_total",
	  "number of cloud VMs",
	  { "category", "instance_type" } },
	{ METRIC_GAUGE, P "instances_price", "price of cloud VMs", { "category" } },
	{ METRIC_GAUGE, P "vcpus_total", "total cores on all cloud VMs", { "category" } },
	{ METRIC_GAUGE, P "memory_bytes_total", "total memory on all cloud VMs", { "category" } },
	{ METRIC_COUNTER,
	  P "boot_outcomes",
	  "boot attempts that succeeded or failed",
	  { "outcome" } },
	{ METRIC_COUNTER,
	  P "instances_disappeared",
	  "number of times an instance has disappeared unexpectedly, by state",
	  { "state" } },
	{ METRIC_SUMMARY,
	  P "instances_time_to_ssh_seconds",
	  "number of seconds between instance creation and the first successful SSH connection",
	  { 0 } },
	{ METRIC_SUMMARY,
	  P "instances_time_to_ready_for_container_seconds",
	  "number of seconds between the first successful SSH connection and ready to run a "
	  "container",
	  { 0 } },
	{ METRIC_SUMMARY,
	  P "instances_time_from_shutdown_request_to_disappearance_seconds",
	  "number of seconds between the last shutdown request and the instance disappearing",
	  { 0 } },
	{ METRIC_SUMMARY,
	  P "containers_time_from_queue_to_crunch_run_seconds",
	  "number of seconds between a container's creation and crunch-run starting it",
	  { 0 } },
	{ METRIC_SUMMARY,
	  P "instances_run_probe_duration_seconds",
	  "number of seconds per runProbe call",
	  { "outcome" } },
	{ METRIC_GAUGE,
	  "arvados_config_source_timestamp_seconds",
	  "timestamp of the config file's modification time",
	  { "sha256" } },
	{ METRIC_GAUGE,
	  "arvados_config_load_timestamp_seconds",
	  "time the config file was loaded",
	  { "sha256" } },
	{ METRIC_GAUGE,
	  "arvados_version_running",
	  "indicates the version of this service",
	  { "version" } },
	{ METRIC_SUMMARY,
	  MET_REQUEST_DURATION,
	  "summary of request duration",
	  { "code", "method" } },
	{ METRIC_SUMMARY, MET_TIME_TO_STATUS, "summary of request TTFB", { "code", "method" } },
	{ METRIC_GAUGE, MET_MAX_ACTIVE_AGE, "age of the oldest active request", { 0 } },
	{ METRIC_GAUGE,
	  "arvados_max_abandoned_request_age_seconds",
	  "age of the oldest abandoned request (client disconnected while the handler ran)",
	  { 0 } },
	{ METRIC_GAUGE, MET_CONCURRENT_REQUESTS, "number of requests in progress", { "queue" } },
	{ METRIC_GAUGE,
	  "arvados_max_concurrent_requests",
	  "maximum number of concurrent requests",
	  { "queue" } },
	{ METRIC_GAUGE,
	  "arvados_max_queued_requests",
	  "maximum number of queued requests",
	  { "queue" } },
	{ METRIC_GAUGE,
	  "arvados_queued_requests",
	  "number of requests in queue",
	  { "queue", "priority" } },
	{ METRIC_SUMMARY,
	  "arvados_queue_delay_seconds",
	  "queue delay of requests that were served",
	  { "queue", "priority" } },
	{ METRIC_SUMMARY,
	  "arvados_queue_timeout_seconds",
	  "queue delay of requests that timed out in the queue",
	  { "queue", "priority" } },
};

static const struct cat_entry catalog_ec2[] = {
	{ METRIC_GAUGE, P "ec2_instances", "number of instances running", { "subnet_id" } },
	{ METRIC_COUNTER,
	  P "ec2_instance_starts_total",
	  "number of attempts to start a new instance",
	  { "subnet_id", "success" } },
};

/* The budget cap (an addition, -max-hourly-spend): registered only when it is on. */
static const struct cat_entry catalog_budget[] = {
	{ METRIC_GAUGE,
	  MET_HOURLY_SPEND,
	  "hourly price of the booting, idle and running cloud VMs (spot at its current price)",
	  { 0 } },
	{ METRIC_GAUGE,
	  MET_HOURLY_SPEND_CAP,
	  "maximum hourly spend: no VM is created beyond it (-max-hourly-spend)",
	  { 0 } },
};
/* Spot interruption notices (an addition, -spot-interruption-notices): only when on. */
static const struct cat_entry catalog_spot[] = {
	{ METRIC_COUNTER,
	  MET_SPOT_INTERRUPTIONS,
	  "number of instances that got a spot interruption notice (drained when it came)",
	  { "action" } },
};
#undef P

static size_t
entry_nlabels(const struct cat_entry *e)
{
	size_t n = 0;
	while (n < METRICS_MAX_LABELS && e->labels[n])
		n++;
	return n;
}

static int
register_table(struct metrics_registry *r, const struct cat_entry *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t nl = entry_nlabels(&t[i]);
		struct metric_family *f = metrics_register(r, t[i].type, t[i].name, t[i].help, nl,
							   nl ? t[i].labels : NULL);
		if (!f)
			return -errno;
		if (nl == 0 && metrics_touch(f, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Pre-create every combination of the given value lists for a family (up to two labels). */
static int
touch_grid(struct metrics_registry *r, const char *name, const char *const *a, size_t na,
	   const char *const *b, size_t nb)
{
	struct metric_family *f = metrics_find(r, name);
	if (!f)
		return -ENOENT;
	for (size_t i = 0; i < na; i++) {
		for (size_t j = 0; j < (b ? nb : 1); j++) {
			const char *v[2] = { a[i], b ? b[j] : NULL };
			int rc = metrics_touch(f, v);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static int
set_one(struct metrics_registry *r, const char *name, const char *l1, const char *l2, double v)
{
	const char *vals[2] = { l1, l2 };
	return metrics_set(metrics_find(r, name), vals, v);
}

static const char *const ops[] = { "Create", "List", "Destroy", "SetTags" };
static const char *const errs[] = { "0", "1" };
static const char *const outcomes[] = { "success", "failure", "aborted", "disappeared" };
static const char *const states[] = { "unknown", "booting", "idle", "running", "shutdown" };
static const char *const categories[] = { "inuse", "hold", "booting", "unknown", "idle" };
static const char *const probe_outcomes[] = { "success", "fail" };
static const char *const queues[] = { "api", "tunnel" };
static const char *const priorities[] = { "low", "normal", "high" };
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int
touch_pool(struct metrics_registry *r, const struct metrics_catalog_init *in)
{
	int rc = 0;
	rc = rc ? rc : touch_grid(r, MET_PREFIX "driver_operations", ops, N(ops), errs, N(errs));
	rc = rc ? rc : touch_grid(r, MET_PREFIX "boot_outcomes", outcomes, N(outcomes), NULL, 0);
	rc = rc ? rc
		: touch_grid(r, MET_PREFIX "instances_disappeared", states, N(states), NULL, 0);
	rc = rc ? rc
		: touch_grid(r, MET_PREFIX "instances_run_probe_duration_seconds", probe_outcomes,
			     N(probe_outcomes), NULL, 0);
	if (in->n_instance_types)
		rc = rc ? rc
			: touch_grid(r, MET_INSTANCES_TOTAL, categories, N(categories),
				     in->instance_types, in->n_instance_types);
	rc = rc ? rc
		: touch_grid(r, MET_PREFIX "instances_price", categories, N(categories), NULL, 0);
	rc = rc ? rc : touch_grid(r, MET_PREFIX "vcpus_total", categories, N(categories), NULL, 0);
	rc = rc ? rc
		: touch_grid(r, MET_PREFIX "memory_bytes_total", categories, N(categories), NULL,
			     0);
	return rc;
}

static int
touch_generic(struct metrics_registry *r, const struct metrics_catalog_init *in)
{
	int rc = 0;
	rc = rc ? rc : touch_grid(r, MET_CONCURRENT_REQUESTS, queues, N(queues), NULL, 0);
	rc = rc ? rc
		: touch_grid(r, "arvados_queued_requests", queues, N(queues), priorities,
			     N(priorities));
	rc = rc ? rc
		: set_one(r, "arvados_max_concurrent_requests", "api", NULL,
			  (double)in->max_concurrent_requests);
	rc = rc ? rc
		: set_one(r, "arvados_max_concurrent_requests", "tunnel", NULL,
			  (double)in->max_gateway_tunnels);
	rc = rc ? rc
		: set_one(r, "arvados_max_queued_requests", "api", NULL,
			  (double)in->max_queued_requests);
	rc = rc ? rc : set_one(r, "arvados_max_queued_requests", "tunnel", NULL, 0);
	if (!rc && in->version)
		rc = set_one(r, "arvados_version_running", in->version, NULL, 1);
	if (!rc && in->config_sha256) {
		rc = set_one(r, "arvados_config_source_timestamp_seconds", in->config_sha256, NULL,
			     in->config_source_time);
		rc = rc ? rc
			: set_one(r, "arvados_config_load_timestamp_seconds", in->config_sha256,
				  NULL, in->config_load_time);
	}
	return rc;
}

int
metrics_catalog_register(struct metrics_registry *r, const struct metrics_catalog_init *in)
{
	int rc = register_table(r, catalog, N(catalog));
	if (!rc && in->ec2)
		rc = register_table(r, catalog_ec2, N(catalog_ec2));
	if (!rc && in->budget)
		rc = register_table(r, catalog_budget, N(catalog_budget));
	if (!rc && in->spot_notices) {
		/* EC2's three actions, and "other" for anything else a worker printed; Azure's
		 * one notice, Preempt (docs/POOL.md "Spot interruption notices"). */
		static const char *const ec2[] = { "terminate", "stop", "hibernate", "other" };
		static const char *const azure[] = { "preempt" };

		rc = register_table(r, catalog_spot, N(catalog_spot));
		rc = rc ? rc
			: touch_grid(r, MET_SPOT_INTERRUPTIONS, in->spot_azure ? azure : ec2,
				     in->spot_azure ? N(azure) : N(ec2), NULL, 0);
	}
	rc = rc ? rc : touch_pool(r, in);
	rc = rc ? rc : touch_generic(r, in);
	if (!rc && in->process)
		rc = metrics_process_register(r);
	return rc;
}
