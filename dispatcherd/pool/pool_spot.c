/*
 * pool_spot.c - acting on a spot interruption notice (-spot-interruption-notices, an addition;
 * docs/POOL.md "Spot interruption notices"). The run probe of a preemptible worker also reads
 * EC2's instance-action notice (sshd-pool/ops.c); a worker with one takes no new container
 * (drained at once, like the management API's drain, kept in its idle-behavior tag), is shut
 * down as soon as it is idle, and the scheduler creates its replacement (sched/sched_spot.c).
 */
#include "pool_internal.h"
#include "pool_spot_parse.h"

#include <stdlib.h>
#include <string.h>

bool
pool_spot_wanted(const struct pool_worker *w)
{
	const struct cfg_instance_type *it = pool_itype(w->p, w);

	return w->p->o.spot_notices && it != NULL && it->preemptible && w->spot_action == NULL;
}

static void
pool_spot_notice(struct pool_worker *w, const struct pool_spot *s)
{
	struct pool *p = w->p;

	w->spot_action = strdup(s->action);
	w->spot_time = strdup(s->time);
	if (w->spot_action == NULL) {
		free(w->spot_time);
		w->spot_time = NULL;
		return; /* seen again at the next probe */
	}
	w->spot_seen = pool_now(p);
	log_kv(LOG_LVL_WARN, "spot interruption notice: draining instance", POOL_WF(w),
	       LF_STR("Action", s->action), LF_STR("Time", s->time),
	       LF_INT("RunningContainers", w->n_run));
	if (p->m_spot)
		metrics_add(p->m_spot, (const char *const[]){ s->action }, 1);
	/* An operator's hold stays (it places nothing either, and he asked to keep it). */
	if (w->idle == SCHED_IDLE_RUN) {
		w->idle = SCHED_IDLE_DRAIN;
		pool_tags_save(w);
	}
	pool_shutdown_if_idle(w);
	pool_changed(p);
}

void
pool_spot_apply(struct pool_worker *w, const struct pool_spot *s)
{
	enum pool_spot_kind last = (enum pool_spot_kind)w->spot_last;

	w->spot_last = (uint8_t)s->kind;
	switch (s->kind) {
	case POOL_SPOT_NOTICE:
		pool_spot_notice(w, s);
		break;
	case POOL_SPOT_NONE:
		break;
	case POOL_SPOT_NO_CURL:
		if (last != POOL_SPOT_NO_CURL)
			log_kv(LOG_LVL_WARN,
			       "spot check: no curl on the worker, its interruption notice cannot "
			       "be seen",
			       POOL_WF(w));
		break;
	case POOL_SPOT_ERROR:
	case POOL_SPOT_MISSING:
		if (last != s->kind)
			log_kv_err(LOG_LVL_WARN, "spot check failed", s->why, POOL_WF(w));
		break;
	}
}
