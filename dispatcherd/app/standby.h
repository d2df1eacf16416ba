/*
 * standby.h - one dispatcher per cluster (issue 15): the PostgreSQL advisory lock (pglock.h)
 * drives the dispatch gate (dispatch_gate.h).
 *
 * With PostgreSQL.Connection (a host or a dbname) configured, the process starts in standby
 * and seeks the lock at once; the management server, /metrics and READY=1 do not wait for it
 * (STATUS="standby: lock held by ADDR"). Holding it opens the gate: the pool re-probes its
 * workers and the scheduler starts as after a restart. Losing it closes the gate at once and
 * pauses the scheduler; nothing is destroyed or unlocked. The gauge
 * arvados_dispatchcloud_active is 1 while dispatching, 0 in standby.
 *
 * Without a connection the gate stays open (the reference would refuse to start); one warning
 * says so.
 */
#ifndef ADC_STANDBY_H
#define ADC_STANDBY_H

#include <uv.h>

#include "config.h"
#include "metrics.h"
#include "pool.h"
#include "sched_driver.h"

struct standby;

/* Before the config is wiped (it copies the connection). NULL *out with 0: no lock (gate
 * open). -1: a bad connection config, logged at fatal level. Nothing runs until
 * standby_start. */
int standby_init(struct standby **out, uv_loop_t *loop, const struct cfg_cluster *cfg,
		 struct metrics_registry *metrics);
/* Seek the lock: after the sandbox, whose Landlock confines only the threads that exist
 * then and later (the host name lookup starts libuv's threadpool). NULL is fine. */
void standby_start(struct standby *s);
/* Once the pool and the scheduler exist (either may be NULL). */
void standby_attach(struct standby *s, struct pool *pool, struct sched_driver *sched);
/* On shutdown: the connection is closed (the server frees the lock). NULL is fine. */
void standby_close(struct standby *s);

#endif
