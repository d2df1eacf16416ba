/*
 * api_limiter.h - the outgoing concurrency limiter of spec/dispatcher.md 2.2 (the reference's
 * sdk/go/arvados/limiter.go), as plain state with the clock passed in, so that it can be tested
 * deterministically.
 *
 * Starts at API_LIMITER_INITIAL concurrent requests. A 503 (reported while the request still
 * counts as in flight): if unlimited so far, limit := in-flight; then, unless inside a quiet
 * period, halve the limit (rounding up) and start no new request for API_LIMITER_QUIET_MS.
 * A 2xx/3xx: limit += max(1, limit/10), capped at 2 x in-flight and at max_limit when > 0.
 */
#ifndef ADC_API_LIMITER_H
#define ADC_API_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

#define API_LIMITER_INITIAL  8
#define API_LIMITER_QUIET_MS 1000

struct api_limiter {
	int64_t limit;	   /* 0 = unlimited */
	int64_t max_limit; /* API.MaxConcurrentRequests / 4; 0 = no cap */
	int64_t in_flight;
	uint64_t quiet_until;	/* ms on the caller's clock; no new request before */
	int64_t peak_limit;	/* highest limit ever set (tests, metrics) */
	int64_t peak_in_flight; /* highest in-flight count ever reached */
};

/* max_concurrent_requests is the config's API.MaxConcurrentRequests (0 = none). */
void api_limiter_init(struct api_limiter *l, int64_t max_concurrent_requests);

/* May a new request start now? */
bool api_limiter_may_start(const struct api_limiter *l, uint64_t now_ms);
/* When refused only by the quiet period: ms until it ends; 0 otherwise. */
uint64_t api_limiter_wait_ms(const struct api_limiter *l, uint64_t now_ms);

/* A request starts (call only after may_start said yes) / ends (after report). */
void api_limiter_acquire(struct api_limiter *l);
void api_limiter_release(struct api_limiter *l);

/* The outcome of a request still counted in flight: its HTTP status, or 0 when it got no
 * response. Returns true when it was a 503 (the caller records the time: spec 4.3). */
bool api_limiter_report(struct api_limiter *l, long status, uint64_t now_ms);

#endif
