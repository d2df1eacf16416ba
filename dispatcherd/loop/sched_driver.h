/*
 * sched_driver.h - the scheduler loop (spec/dispatcher.md 4.1): feeds the pure scheduler
 * (scheduler.h) views built from the queue and the pool, and carries out its decisions
 * through queue operations and pool calls.
 *
 * Phases: wait for the queue's first successful poll (the queue retries it, 2.7), then the
 * stale-lock recovery of 2.9 (stale_locks.c), then a pass (4.2) and a sync (4.4) on every
 * queue or pool on_change wake-up, coalesced into one pass per loop iteration, on a periodic
 * tick, and 250 ms after a decision met a busy per-container slot (4.5).
 *
 * Everything runs on the loop. Nothing here destroys an instance or unlocks a container
 * because of a shutdown (spec 1.7): sched_driver_close only stops the timers.
 */
#ifndef ADC_SCHED_DRIVER_H
#define ADC_SCHED_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "metrics.h"
#include "pool.h"
#include "queue.h"
#include "scheduler.h"

struct api_client;
struct sched_driver;

struct sched_driver_opts {
	uv_loop_t *loop;
	const struct cfg_cluster *cluster;
	struct queue *queue;
	struct pool *pool;
	struct api_client *api;		  /* for the latest 503 (4.3) */
	struct metrics_registry *metrics; /* may be NULL */
	uint64_t tick_ms;		  /* periodic pass; 0: 1000 */
	double max_hourly_spend;	  /* budget cap in dollars (-max-hourly-spend); 0: off */
	unsigned spot_fallback_after_attempts; /* -spot-fallback-after-attempts; 0: off */
};

int sched_driver_new(const struct sched_driver_opts *o, struct sched_driver **out);
/* A queue or pool change: one pass soon (coalesced). Safe to call from any callback. */
void sched_driver_kick(struct sched_driver *d);
/* The queue's poll callback (queue_opts.on_poll, through app): the first success starts 2.9. */
void sched_driver_poll_done(void *d, bool ok);
/* Stop the timers; free once their handles are closed (run the loop). */
void sched_driver_close(struct sched_driver *d);

/* Counters for STATUS= and tests. */
struct sched_driver_stats {
	bool scheduling; /* 2.9 done: passes are running */
	uint64_t passes;
	size_t queued, locked, running; /* containers in the queue by state */
	size_t instances;		/* workers (pending creates excluded) */
};
void sched_driver_stats(const struct sched_driver *d, struct sched_driver_stats *s);

/* The statuses of the latest pass, for the management API (mgmt_wiring.c): the status of
 * uuid rendered into buf (4.6); -ENOENT when the last pass did not see it. */
int sched_driver_status(struct sched_driver *d, const char *uuid, char *buf, size_t len);
bool sched_driver_has_passed(const struct sched_driver *d);

#endif
