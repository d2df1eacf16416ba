/* sched_driver_gate.c - the scheduler's side of dispatch_gate.h. */
#include "sched_driver_gate.h"
#include "dispatch_gate.h"
#include "sched_driver_internal.h"

void
sched_driver_gate_pause(struct sched_driver *d)
{
	if (d == NULL || d->phase == SDP_CLOSED)
		return;
	uv_timer_stop(&d->tick);
	uv_timer_stop(&d->kick);
	uv_timer_stop(&d->stale_timer);
	d->kick_pending = false;
	/* Back to the first phase: kicks are ignored, and sched_driver_poll_done (which checks
	 * the gate) moves on only once the gate is open again. */
	d->phase = SDP_WAIT_POLL;
}

void
sched_driver_gate_resume(struct sched_driver *d)
{
	if (d == NULL || d->phase != SDP_WAIT_POLL)
		return;
	/* A fresh poll, then 2.9 (stale locks, waiting for the workers' probes), then passes. */
	queue_poll_now(d->o.queue);
}
