/* pool_gate.c - the pool's side of dispatch_gate.h. */
#include "pool_gate.h"
#include "dispatch_gate.h"
#include "pool_internal.h"

void
pool_gate_resume(struct pool *p)
{
	int64_t now;

	if (p == NULL || p->closing)
		return;
	now = pool_now(p);
	/* While we stood by, another dispatcher may have started or ended containers on any of
	 * our instances: what we knew is stale. As after a restart (5.6), each worker in service
	 * is unknown until its next probe; the boot and idle clocks restart now, so none is shut
	 * down for the time we spent in standby. */
	for (size_t i = 0; i < p->n_workers; i++) {
		struct pool_worker *w = p->workers[i];

		if (w->state != SCHED_W_IDLE && w->state != SCHED_W_RUNNING)
			continue;
		w->state = SCHED_W_UNKNOWN;
		w->appeared = w->probed = w->updated = now;
	}
	pool_probe_timer_cb(&p->probe_timer); /* a probe round now */
	pool_kill_timer_cb(&p->kill_timer);   /* kill steps that waited; re-arms itself */
	pool_changed(p);
}
