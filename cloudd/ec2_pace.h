/*
 * ec2_pace.h - client-side token buckets mirroring EC2's request and resource buckets, so
 * the driver sends no call EC2 would throttle instead of learning the limit from 503s.
 *
 * This is pacing, not retrying: a call waits here (in FIFO order per bucket set) until the
 * buckets it needs hold enough tokens, then goes out once. Defaults are AWS's published
 * account buckets (RunInstances 5 + 2/s and 1000 + 2/s instances, TerminateInstances
 * 100 + 5/s and 1000 + 20/s instances, other mutating 200 + 10/s, Describe* 100 + 20/s).
 * A throttled answer empties the buckets of that call (the account is shared; the cloud's
 * view wins). Refill runs at `margin` (default 0.99) of the nominal rate (clock-rate differences), and
 * 0.2 s of refill (at least one token) is kept in reserve for arrival jitter.
 */
#ifndef ADC_EC2_PACE_H
#define ADC_EC2_PACE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct ec2_bucket {
	double capacity;
	double refill; /* tokens per second */
	double tokens;
	uint64_t last_ms; /* monotonic */
};

enum ec2_pace_cat {
	EC2_PACE_RUN,
	EC2_PACE_TERMINATE,
	EC2_PACE_MUTATE,
	EC2_PACE_DESCRIBE,
	EC2_PACE_NCAT
};

struct ec2_pace;

typedef void (*ec2_pace_cb)(void *arg);

int ec2_pace_new(uv_loop_t *loop, struct ec2_pace **out);
/* Cancels nothing: the queue must be empty. Closes the timer (loop must run after). */
void ec2_pace_free(struct ec2_pace *p);
void ec2_pace_enable(struct ec2_pace *p, bool on);
void ec2_pace_set_margin(struct ec2_pace *p, double margin);
/* Override one category's buckets (resource capacity/refill ignored for DESCRIBE/MUTATE). */
void ec2_pace_set(struct ec2_pace *p, enum ec2_pace_cat cat, double cap, double refill,
		  double res_cap, double res_refill);
enum ec2_pace_cat ec2_pace_category(const char *action);
/* Run cb when cat's buckets allow (res = resource tokens, e.g. instance count). cb may run
 * before this returns. 0 or -ENOMEM. */
int
ec2_pace_acquire(struct ec2_pace *p, enum ec2_pace_cat cat, double res, ec2_pace_cb cb, void *arg);
/* EC2 said the call was throttled: the cloud's buckets are empty now. */
void ec2_pace_throttled(struct ec2_pace *p, enum ec2_pace_cat cat);

#endif
