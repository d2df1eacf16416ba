/* pool_shutdown.c - shutdown rules and destroy (5.12), and the 5.5 shutdown requests. */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "dispatch_gate.h"

struct pool_destroyop {
	struct pool_cloudop op;
	struct pool_worker *w;
};

static void
pool_destroy_done(void *arg, const struct pool_cloud_err *err)
{
	struct pool_destroyop *op = arg;
	struct pool *p = op->w->p;

	if (!pool_call_end(p)) {
		pool_count_op(p, "Destroy", err->kind != POOL_CLOUD_OK);
		if (err->kind != POOL_CLOUD_OK)
			log_kv_err(LOG_LVL_WARN, "shutdown failed", err->message, POOL_WF(op->w));
	}
	pool_worker_unref(op->w);
	free(op);
	pool_maybe_free(p);
}

static void
pool_destroy_run(struct pool *p, struct pool_cloudop *o)
{
	struct pool_destroyop *op = (struct pool_destroyop *)o;
	struct pool_cloud_err e = { .kind = POOL_CLOUD_OTHER,
				    .message = "cloud port refused the call" };

	pool_call_begin(p);
	if (p->o.cloud.destroy(p->o.cloud.ctx, op->w->id, pool_destroy_done, op) < 0)
		pool_destroy_done(op, &e);
}

static void
pool_destroy_drop(struct pool *p, struct pool_cloudop *o)
{
	struct pool_destroyop *op = (struct pool_destroyop *)o;

	(void)p;
	pool_worker_unref(op->w);
	free(op);
}

/* Destroy in the background (not rate-limited by throttles; paced by MaxCloudOpsPerSecond). */
void
pool_destroy(struct pool_worker *w)
{
	struct pool_destroyop *op;
	int64_t now = pool_now(w->p);

	if (!dispatch_gate_open())
		return; /* standby: the sync retries it once active (issue 15) */
	op = calloc(1, sizeof(*op));
	w->destroyed = now;
	if (!w->first_destroy)
		w->first_destroy = now;
	if (!op) {
		log_kv_err(LOG_LVL_WARN, "shutdown failed", "out of memory", POOL_WF(w));
		return; /* retried by the next sync */
	}
	op->w = w;
	op->op.run = pool_destroy_run;
	op->op.drop = pool_destroy_drop;
	pool_worker_ref(w);
	pool_cloudop_submit(w->p, &op->op, false);
}

/* Shut down: updated := destroyed := now, state shutdown, notify, destroy. */
void
pool_worker_shutdown(struct pool_worker *w)
{
	w->updated = pool_now(w->p);
	w->state = SCHED_W_SHUTDOWN;
	pool_destroy(w);
	pool_notify(w->p);
}

static bool
pool_all_gave_up(const struct pool_worker *w)
{
	for (size_t i = 0; i < w->n_run; i++)
		if (!w->run[i]->given_up)
			return false;
	return true;
}

/* 5.12 eligibility; never on hold. */
static bool
pool_eligible(const struct pool_worker *w, int64_t now)
{
	const struct cfg_cloudvms *vm = w->p->vm;

	if (w->idle == SCHED_IDLE_HOLD)
		return false;
	switch (w->state) {
	case SCHED_W_BOOTING:
		return w->idle == SCHED_IDLE_DRAIN;
	case SCHED_W_IDLE:
		return w->idle == SCHED_IDLE_DRAIN || now - w->busy >= vm->timeout_idle;
	case SCHED_W_RUNNING:
		return w->idle == SCHED_IDLE_DRAIN && pool_all_gave_up(w);
	case SCHED_W_UNKNOWN:
		/* fix (weakness 9): an adopted worker whose run probe shows live containers is
		 * not "unbooted": its runners keep it, as the probe-failure path already does. */
		return w->n_run == 0 && now - w->appeared >= vm->timeout_booting;
	default:
		return false;
	}
}

bool
pool_shutdown_if_idle(struct pool_worker *w)
{
	int64_t now = pool_now(w->p);
	char idle[32];

	if (w->removed || !pool_eligible(w, now))
		return false;
	snprintf(idle, sizeof(idle), "%.3fs", (double)(now - w->busy) / 1e9);
	log_kv(LOG_LVL_INFO, "shutdown worker", POOL_WF(w),
	       LF_STR("State", pool_state_name(w->state)), LF_STR("IdleDuration", idle),
	       LF_STR("IdleBehavior", pool_idle_name(w->idle)));
	pool_boot_outcome(w, "aborted");
	pool_worker_shutdown(w);
	return true;
}

bool
pool_shutdown_worker(struct pool *p, const char *id)
{
	struct pool_worker *w = pool_worker_find(p, id);

	if (!w || w->idle == SCHED_IDLE_HOLD ||
	    (w->state != SCHED_W_BOOTING && w->state != SCHED_W_IDLE))
		return false;
	log_kv(LOG_LVL_INFO, "shutdown requested", POOL_WF(w));
	log_kv(LOG_LVL_INFO, "shutting down", POOL_WF(w), LF_STR("Reason", "over quota"));
	pool_boot_outcome(w, "aborted");
	pool_worker_shutdown(w);
	return true;
}

int
pool_kill_instance(struct pool *p, const char *id, const char *reason)
{
	struct pool_worker *w = pool_worker_find(p, id);

	if (!w)
		return POOL_NOT_FOUND;
	log_kv(LOG_LVL_INFO, "shutting down", POOL_WF(w), LF_STR("Reason", reason ? reason : ""));
	pool_boot_outcome(w, "aborted");
	if (w->state != SCHED_W_SHUTDOWN)
		pool_worker_shutdown(w);
	else
		pool_destroy(w);
	return 0;
}

int
pool_set_idle_behavior(struct pool *p, const char *id, enum sched_idle b)
{
	struct pool_worker *w = pool_worker_find(p, id);

	if (!w)
		return POOL_NOT_FOUND;
	log_kv(LOG_LVL_INFO, "set idle behavior", POOL_WF(w),
	       LF_STR("IdleBehavior", pool_idle_name(b)));
	w->idle = b;
	pool_tags_save(w);
	if (!pool_shutdown_if_idle(w))
		pool_notify(p);
	return 0;
}
