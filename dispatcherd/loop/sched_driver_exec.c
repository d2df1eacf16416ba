/* sched_driver_exec.c - carrying out the scheduler's decisions: queue operations (lock,
 * unlock, cancel, forget) and pool calls (create, start, shutdown, kill). A queue
 * operation that finds its container's slot busy (4.5, -EBUSY) re-arms the wake-up. */
#include "sched_driver_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define SD_REARM_MS 250

static void sd_rearm_cb(uv_timer_t *t);

static void
sd_rearm(struct sched_driver *d, const char *uuid, const char *op)
{
	log_kv(LOG_LVL_DEBUG, "uuidLock not available", LF_STR("ContainerUUID", uuid),
	       LF_STR("Op", op));
	if (!uv_is_active((uv_handle_t *)&d->kick))
		uv_timer_start(&d->kick, sd_rearm_cb, SD_REARM_MS, 0);
}

static void
sd_rearm_cb(uv_timer_t *t)
{
	struct sched_driver *d = t->data;

	d->kick_pending = false;
	sched_driver_kick(d);
}

static void
sd_lock_done(void *arg, const char *uuid, int err, const char *error)
{
	struct sched_driver *d = arg;

	if (err != 0)
		log_kv_err(LOG_LVL_WARN, "error locking container", error ? error : "",
			   LF_STR("ContainerUUID", uuid));
	else
		log_kv(LOG_LVL_INFO, "container locked", LF_STR("ContainerUUID", uuid));
	sched_driver_kick(d);
}

static void
sd_unlock_done(void *arg, const char *uuid, int err, const char *error)
{
	struct sched_driver *d = arg;

	if (err != 0)
		log_kv_err(LOG_LVL_ERROR, "error requeueing container", error ? error : "",
			   LF_STR("ContainerUUID", uuid));
	sched_driver_kick(d);
}

static void
sd_cancel_done(void *arg, const char *uuid, int err, const char *error)
{
	struct sched_driver *d = arg;

	if (err != 0)
		log_kv_err(LOG_LVL_ERROR, "error cancelling container", error ? error : "",
			   LF_STR("ContainerUUID", uuid));
	sched_driver_kick(d);
}

static void
sd_queue_op(struct sched_driver *d, const char *uuid, const char *op, int r)
{
	if (r == -EBUSY)
		sd_rearm(d, uuid, op);
	else if (r != 0 && r != -ENOENT && r != -ECANCELED)
		log_kv_err(LOG_LVL_WARN, "cannot start container operation", strerror(-r),
			   LF_STR("ContainerUUID", uuid), LF_STR("Op", op));
}

static void
sd_one(struct sched_driver *d, const struct sched_decision *x)
{
	const char *uuid = x->ctr >= 0 ? d->ctrs[x->ctr].uuid : x->uuid;
	const struct sched_ctr *c = x->ctr >= 0 ? &d->ctrs[x->ctr] : NULL;
	const char *wid = x->worker >= 0 ? d->worker_ids[x->worker] : "";
	const char *why = sched_reason_text((enum sched_dreason)x->reason);
	struct sched_memo *m;
	char msg[160];

	switch ((enum sched_dkind)x->kind) {
	case SCHED_D_LOCK:
		sd_queue_op(d, uuid, "lock", queue_lock(d->o.queue, uuid, sd_lock_done, d));
		break;
	case SCHED_D_START:
		if (wid[0] != '\0')
			pool_start(d->o.pool, wid, uuid, c->need, x->keep_buffers, c->created_at);
		break;
	case SCHED_D_CREATE:
		if (!pool_create(d->o.pool, x->type))
			break;
		if (c != NULL)
			log_kv(LOG_LVL_INFO, "creating new instance", LF_STR("ContainerUUID", uuid),
			       LF_STR("InstanceType", d->o.cluster->instance_types[x->type].name));
		else if (wid[0] != '\0') /* sched_spot.c: for a spot-noticed worker's runners */
			log_kv(LOG_LVL_INFO, "creating replacement for spot-interrupted instance",
			       LF_STR("Instance", wid),
			       LF_STR("InstanceType", d->o.cluster->instance_types[x->type].name));
		break;
	case SCHED_D_UNLOCK:
		/* Section 9's texts, which operators grep for: the over-quota unlock has its own
		 * (4.2 step 8), the others say "requeueing locked container because <reason>". */
		if (x->reason == SCHED_R_OVERQUOTA)
			snprintf(msg, sizeof(msg), "%s", why);
		else
			snprintf(msg, sizeof(msg), "requeueing locked container because %s", why);
		log_kv(LOG_LVL_INFO, msg, LF_STR("ContainerUUID", uuid), LF_STR("Reason", why));
		if (x->reason == SCHED_R_OVERQUOTA && (m = sd_memo_get(d, uuid, true)) != NULL)
			m->overquota_unlocked_at = d->in.now;
		sd_queue_op(d, uuid, "unlock", queue_unlock(d->o.queue, uuid, sd_unlock_done, d));
		break;
	case SCHED_D_SHUTDOWN:
		if (wid[0] != '\0')
			pool_shutdown_worker(d->o.pool, wid);
		break;
	case SCHED_D_KILL:
		pool_kill_container(d->o.pool, uuid, why);
		pool_forget_exited(d->o.pool, uuid);
		break;
	case SCHED_D_CANCEL:
		/* What no type fits is cancelled by the queue itself, with the runtime_status
		 * error of 3.5 set first (queue_cancel.c). */
		if (x->reason == SCHED_R_UNSATISFIABLE)
			break;
		snprintf(msg, sizeof(msg), "cancelling container because %s", why);
		log_kv(LOG_LVL_INFO, msg, LF_STR("ContainerUUID", uuid), LF_STR("Reason", why));
		if ((m = sd_memo_get(d, uuid, true)) != NULL)
			m->cancel_tried_at = d->in.now;
		sd_queue_op(d, uuid, "cancel", queue_cancel(d->o.queue, uuid, sd_cancel_done, d));
		break;
	case SCHED_D_FORGET:
		log_kv(LOG_LVL_INFO, why, LF_STR("ContainerUUID", uuid));
		(void)queue_forget(d->o.queue, uuid);
		break;
	case SCHED_D_FALLBACK:
		/* Remembered so that it keeps to it (sched_fallback.c); logged once. */
		if ((m = sd_memo_get(d, uuid, true)) != NULL)
			m->fell_back = x->reason == SCHED_R_FALLBACK_ATTEMPTS ? SCHED_FB_ATTEMPTS
									      : SCHED_FB_CAPACITY;
		log_kv(LOG_LVL_INFO,
		       "falling back from preemptible to non-preemptible instance types",
		       LF_STR("ContainerUUID", uuid), LF_STR("Reason", why));
		break;
	case SCHED_D_BUG_STATE:
		if (!d->bug_logged)
			log_kv(LOG_LVL_ERROR, "BUG: unexpected state",
			       LF_STR("ContainerUUID", uuid));
		d->bug_logged = true;
		break;
	}
}

void
sd_execute(struct sched_driver *d, const struct sched_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		sd_one(d, &r->d[i]);
}
