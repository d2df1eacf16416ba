/*
 * ec2_errors.h - EC2 error classification (spec 2.6) and the throttle backoff states.
 *
 * The code tables are exactly those of 2.6. The classes map to struct drv_error; the
 * backoff is the one the dispatcher honours through earliest_retry_ms (the driver itself
 * never retries).
 */
#ifndef ADC_EC2_ERRORS_H
#define ADC_EC2_ERRORS_H

#include <stdbool.h>
#include <stdint.h>

#include "drv.h"

/* One per call kind ("create", "instances"): d in ms, 0 initially. */
struct ec2_backoff {
	int64_t d_ms;
};

enum ec2_err_kind {
	EC2_ERRK_THROTTLE = 1,
	EC2_ERRK_QUOTA,
	EC2_ERRK_CAPACITY_GROUP, /* VcpuLimitExceeded */
	EC2_ERRK_CAPACITY_TYPE, /* InsufficientInstanceCapacity, Unsupported "requested instance type" */
	EC2_ERRK_OTHER,
};

enum ec2_err_kind ec2_err_kind(const char *code, const char *message);
/* Drives subnet failover only (2.6, "Subnet-specific"). */
bool ec2_err_subnet_specific(const char *code, const char *message);

/*
 * Sets e->cls and its properties from e->code / message, updating b as 2.6 says (throttle:
 * d = d*3/2 + 1 s clamped to [1 s, 60 s]; other: reset; quota/capacity: untouched).
 * b may be NULL (calls whose errors are never classified by the reference still get a class
 * here, but no backoff state). now_ms is wall-clock ms since the epoch.
 */
void
ec2_err_classify(struct drv_error *e, const char *message, struct ec2_backoff *b, int64_t now_ms);

/* A successful call of that kind (only "instances" resets on success, see docs). */
void ec2_backoff_reset(struct ec2_backoff *b);

#endif
