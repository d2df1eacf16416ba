/*
 * stale_locks.c - spec/dispatcher.md 2.9, once, after the first successful poll and before
 * the first pass: containers we hold Locked that no worker runs are unlocked, but only once
 * the workers of unknown state (adopted after a restart) have been probed or
 * StaleLockTimeout has passed. The list is recomputed from the views at the moment of the
 * decision (sched_stale_locks, fix of weakness 2). Waits on the pool's on_change wake-ups (kick) and a
 * timer; never blocks the loop.
 */
#include "sched_driver_internal.h"

#include <errno.h>
#include <string.h>

#include "log.h"

static void
stale_locks_unlocked(void *arg, const char *uuid, int err, const char *error)
{
	struct sched_driver *d = arg;

	if (err != 0)
		log_kv_err(LOG_LVL_WARN, "Unlock failed", error ? error : "",
			   LF_STR("ContainerUUID", uuid));
	sched_driver_kick(d);
}

static void
stale_locks_finish(struct sched_driver *d, bool unlock)
{
	if (unlock && sd_input(d) == 0 && sched_stale_locks(&d->in, &d->sync) == 0) {
		for (size_t i = 0; i < d->sync.n; i++) {
			const char *uuid = d->ctrs[d->sync.d[i].ctr].uuid;
			int r = queue_unlock(d->o.queue, uuid, stale_locks_unlocked, d);
			if (r != 0)
				log_kv_err(LOG_LVL_WARN, "Unlock failed", strerror(-r),
					   LF_STR("ContainerUUID", uuid));
		}
		sched_result_clear(&d->sync);
	}
	uv_timer_stop(&d->stale_timer);
	log_kv(LOG_LVL_INFO, "FixStaleLocks finished, starting scheduling.",
	       LF_INT("DurationMs", (pool_now(d->o.pool) - d->stale_started) / 1000000));
	sd_begin_run(d);
}

static void
stale_locks_timeout(uv_timer_t *t)
{
	struct sched_driver *d = t->data;

	if (d->phase != SDP_STALE)
		return;
	if (!pool_loaded(d->o.pool))
		uv_timer_start(&d->stale_timer, stale_locks_timeout, 100, 0);
	else if (d->stale_started == 0)
		stale_locks_check(d);
	else /* only what no worker can be running: none may still be unknown (see
		 * sched_driver_input.c, which holds such containers back until then) */
		stale_locks_finish(d, d->stale_had_unknown && pool_count_unknown(d->o.pool) == 0);
}

void
stale_locks_check(struct sched_driver *d)
{
	if (d->phase != SDP_STALE || !pool_loaded(d->o.pool))
		return;
	if (d->stale_started == 0) {
		d->stale_started = pool_now(d->o.pool);
		d->stale_had_unknown = pool_count_unknown(d->o.pool) > 0;
		uint64_t ms = (uint64_t)(d->o.cluster->containers.stale_lock_timeout / 1000000);
		uv_timer_start(&d->stale_timer, stale_locks_timeout, ms ? ms : 1, 0);
	}
	/* No unknown worker at the start: nothing is unlocked here; Locked containers are
	 * scheduled by the normal loop (the lock is our token's). */
	if (!d->stale_had_unknown) {
		stale_locks_finish(d, false);
		return;
	}
	if (pool_count_unknown(d->o.pool) == 0) {
		stale_locks_finish(d, true);
		return;
	}
	if (sd_input(d) == 0 && sched_stale_locks(&d->in, &d->sync) == 0 && d->sync.n == 0) {
		stale_locks_finish(d, false); /* nothing stale: return at once */
		return;
	}
	sched_result_clear(&d->sync);
}

void
stale_locks_begin(struct sched_driver *d)
{
	log_msgf(LOG_LVL_INFO, "%s", "FixStaleLocks starting.");
	d->stale_started = 0;
	/* Waits for the pool's first instance list: checked at each pool on_change wake-up. */
	if (!pool_loaded(d->o.pool))
		uv_timer_start(&d->stale_timer, stale_locks_timeout, 100, 0);
	stale_locks_check(d);
}
