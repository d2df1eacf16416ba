/* pool_gate.c - the pool's side of dispatch_gate.h. */
#include "pool_gate.h"
#include "dispatch_gate.h"
#include "pool_internal.h"

/* While we stood by, the active dispatcher owned the tags and may have held or drained
 * instances: as an adoption after a restart (5.6), each worker's IdleBehavior is taken from its
 * last listed tags (an instance of an unknown type stays drained unless held). Otherwise the
 * next sync would write our stale behaviour over theirs. */
static void
pool_gate_idle_from_tags(struct pool_worker *w)
{
	enum sched_idle b;

	if (pool_idle_parse(pool_worker_tag(w, w->p->key_idle), &b) < 0 || b == w->idle)
		return;
	if (!w->type_known && b != SCHED_IDLE_HOLD)
		return;
	/* A spot interruption notice we read stands (pool_spot.c): the instance is going, so it
	 * stays drained whatever the other dispatcher left in the tag (a hold is still taken). */
	if (w->spot_action != NULL && b == SCHED_IDLE_RUN)
		return;
	log_kv(LOG_LVL_INFO, "idle behavior taken from the instance's tags", POOL_WF(w),
	       LF_STR("IdleBehavior", pool_idle_name(b)));
	w->idle = b;
}

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

		if (w->state != SCHED_W_SHUTDOWN)
			pool_gate_idle_from_tags(w);
		if (w->state != SCHED_W_IDLE && w->state != SCHED_W_RUNNING)
			continue;
		w->state = SCHED_W_UNKNOWN;
		w->appeared = w->probed = w->updated = now;
	}
	pool_probe_timer_cb(&p->probe_timer); /* a probe round now */
	pool_kill_timer_cb(&p->kill_timer);   /* kill steps that waited; re-arms itself */
	pool_changed(p);
}
