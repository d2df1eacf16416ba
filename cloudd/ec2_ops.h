/*
 * ec2_ops.h - the EC2 driver (spec section 2) behind struct drv (drv.h).
 *
 * Construction reads the environment (credentials, endpoint, CA bundle) and the CA file, so
 * it runs before the sandbox; afterwards the driver needs only the network.
 */
#ifndef ADC_EC2_OPS_H
#define ADC_EC2_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "drv.h"
#include "ec2_creds.h"

struct ec2_driver_opts {
	const char *endpoint;	 /* NULL: AWS_ENDPOINT_URL_EC2 / AWS_ENDPOINT_URL / region */
	const char *ca_file;	 /* NULL: AWS_CA_BUNDLE */
	long connect_timeout_ms; /* 0: 30 s */
	long timeout_ms;	 /* 0: 5 min */
	int max_results;	 /* DescribeInstances page size; 0: 1000; <0: not sent */
	bool no_pace;		 /* turn the client-side token buckets off */
	size_t max_body;	 /* largest answer accepted; 0: 64 MiB */
	const uint8_t *ca_pem;	 /* CA bundle read before the sandbox; wins over ca_file */
	size_t ca_pem_len;
	const struct ec2_env_keys *env; /* env credentials handed over; NULL: getenv */
};

/* 0 and *out; or negative errno with the reason in err (never a secret). */
int ec2_driver_new(uv_loop_t *loop, const cJSON *driver_params, const struct ec2_driver_opts *o,
		   struct drv **out, char *err, size_t errlen);

/* RunInstances outcomes per subnet ("" when none configured), as the metric
 * arvados_dispatchcloud_ec2_instance_starts_total{subnet_id,success} counts them, and
 * arvados_dispatchcloud_ec2_instances{subnet_id} from the last list. */
struct ec2_subnet_stats {
	const char *subnet_id;
	uint64_t starts_ok, starts_fail;
	uint64_t instances;
};
size_t ec2_driver_stats(struct drv *d, const struct ec2_subnet_stats **out);

/* Create with an idempotency key: RunInstances ClientTokens are derived from it and the
 * subnet, so a Create re-issued with the same key (after a timeout) cannot launch twice,
 * while each subnet attempt still gets its own token. key NULL: random per attempt. */
int ec2_create_keyed(struct drv *d, const struct drv_itype *t, const char *image_id,
		     const struct drv_tags *tags, const char *init_command, const char *public_key,
		     const char *key, drv_create_cb cb, void *arg);

struct ec2_pace *ec2_driver_pace(struct drv *d);
/* Calls in flight (for orderly shutdown: free once 0). */
size_t ec2_driver_active(struct drv *d);

#endif
