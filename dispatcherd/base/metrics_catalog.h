/*
 * metrics_catalog.h - every metric of spec/dispatcher.md section 8, registered once at start-up
 * with its type, labels and HELP text, plus the series the reference pre-creates at 0.
 *
 * The pool, the scheduler, the queue and the driver wrapper feed the values later by name
 * (metrics_find + metrics_set/add/observe); until then they stay 0, as in a dispatcher that has
 * not finished its first pass.
 */
#ifndef ADC_METRICS_CATALOG_H
#define ADC_METRICS_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

/* Names the HTTP server and the pool use, so a typo is a compile error. */
#define MET_PREFIX		"arvados_dispatchcloud_"
#define MET_CONTAINERS_RUNNING	MET_PREFIX "containers_running"
#define MET_AT_QUOTA		MET_PREFIX "at_quota"
#define MET_INSTANCES_TOTAL	MET_PREFIX "instances_total"
#define MET_REQUEST_DURATION	"request_duration_seconds"
#define MET_TIME_TO_STATUS	"time_to_status_seconds"
#define MET_CONCURRENT_REQUESTS "arvados_concurrent_requests"
#define MET_MAX_ACTIVE_AGE	"arvados_max_active_request_age_seconds"
#define MET_HOURLY_SPEND	MET_PREFIX "hourly_spend_dollars"
#define MET_HOURLY_SPEND_CAP	MET_PREFIX "hourly_spend_cap_dollars"
#define MET_SPOT_INTERRUPTIONS	MET_PREFIX "spot_interruptions_total"

struct metrics_catalog_init {
	const char *version;		   /* arvados_version_running{version} */
	const char *config_sha256;	   /* hex digest of the config file, NULL when unknown */
	double config_source_time;	   /* unix time of the file's mtime */
	double config_load_time;	   /* unix time it was loaded */
	const char *const *instance_types; /* configured type names, for instances_total */
	size_t n_instance_types;
	int64_t max_concurrent_requests; /* API.MaxConcurrentRequests */
	int64_t max_queued_requests;	 /* API.MaxQueuedRequests */
	int64_t max_gateway_tunnels;	 /* API.MaxGatewayTunnels */
	bool ec2;			 /* register the ec2 driver's own two families */
	bool process;			 /* add process_* from /proc/self (an addition, see docs) */
	bool budget; /* -max-hourly-spend given: the two budget gauges (an addition) */
	/* -spot-interruption-notices: the interruptions counter (an addition), with EC2's action
	 * labels, or Azure's "preempt" when spot_azure */
	bool spot_notices;
	bool spot_azure;
};

/* Register everything. 0, or a negative errno (a name clash is a bug: -EEXIST). */
int metrics_catalog_register(struct metrics_registry *r, const struct metrics_catalog_init *init);

/* process_* collector (metrics_process.c): registers the families and a collect hook. */
int metrics_process_register(struct metrics_registry *r);

#endif
