/*
 * cloudc.h - the parent's typed API to cloudd's cloud verbs (proto_cloud.h), sent through
 * child_chan() of the cloudd child.
 *
 * Each call encodes its request and returns 0 once it is queued; its callback then runs
 * exactly once (list: one part callback per answer part carrying instances, then exactly
 * one done callback), never from inside the call. Every outcome arrives as a
 * struct proto_cloud_err:
 *   - PROTO_OK;
 *   - PROTO_E_FAILED with the driver's class (rate-limit + earliest retry, quota, capacity
 *     with its scope and spot flag, other) and text;
 *   - PROTO_E_RETRY (class other): cloudd died or restarted while the request was in
 *     flight; nothing is known of its effect, the request may be sent again (creates are
 *     idempotent with a key);
 *   - PROTO_E_TIMEOUT (class other): the deadline passed;
 *   - PROTO_E_INVALID: cloudd refused the request, or its answer was malformed.
 * While cloudd is not ready (down, restarting, initialising) a call fails at once: it
 * returns -EAGAIN (retryable) and no callback runs. Other returns: -EINVAL (a field over
 * its bound), -ENOMEM. Everything handed to a callback is valid only during the call.
 */
#ifndef ADC_CLOUDC_H
#define ADC_CLOUDC_H

#include <stddef.h>
#include <stdint.h>

#include "child.h"
#include "proto_cloud.h"

typedef void (*cloudc_create_cb)(void *arg, const struct proto_cloud_err *err,
				 const struct proto_cloud_inst *inst);
typedef void (*cloudc_part_cb)(void *arg, const struct proto_cloud_inst *insts, size_t n);
typedef void (*cloudc_done_cb)(void *arg, const struct proto_cloud_err *err);
/* err: the request as a whole; then one outcome per id (n == 0 when err failed early). */
typedef void (*cloudc_destroy_cb)(void *arg, const struct proto_cloud_err *err, size_t n,
				  char *const *ids, const struct proto_cloud_err *errs);
typedef void (*cloudc_prices_cb)(void *arg, const struct proto_cloud_err *err,
				 const struct proto_cloud_price *v, size_t n);
typedef void (*cloudc_qgroup_cb)(void *arg, const struct proto_cloud_err *err, const char *group);
/* v: one entry per subnet the driver counts (none for drivers without counters); starts
 * are the RunInstances outcomes since the previous stats answer of this cloudd. */
typedef void (*cloudc_stats_cb)(void *arg, const struct proto_cloud_err *err,
				const struct proto_cloud_subnet_stats *v, size_t n);

int cloudc_create(struct child *c, const struct proto_cloud_create *req, uint32_t timeout_ms,
		  cloudc_create_cb cb, void *arg);
int cloudc_list(struct child *c, const struct proto_cloud_tags *filter, uint32_t timeout_ms,
		cloudc_part_cb part, cloudc_done_cb done, void *arg);
/* n in 1..PROTO_MAX_DESTROY_IDS. */
int cloudc_destroy(struct child *c, const char *const *ids, size_t n, uint32_t timeout_ms,
		   cloudc_destroy_cb cb, void *arg);
int cloudc_set_tags(struct child *c, const char *id, const struct proto_cloud_tags *tags,
		    uint32_t timeout_ms, cloudc_done_cb cb, void *arg);
int cloudc_price_history(struct child *c, const struct proto_cloud_prices *req, uint32_t timeout_ms,
			 cloudc_prices_cb cb, void *arg);
int cloudc_quota_group(struct child *c, const struct proto_cloud_itype *itype, uint32_t timeout_ms,
		       cloudc_qgroup_cb cb, void *arg);
int cloudc_stats(struct child *c, uint32_t timeout_ms, cloudc_stats_cb cb, void *arg);

#endif
