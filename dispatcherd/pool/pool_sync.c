/* pool_sync.c - the instance-list sync and adoption after a restart (5.6). */
#include "pool_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pool_listop {
	struct pool_cloudop op;
	struct pool *p;
	int64_t t0;
};

static void
pool_sync_rearm(struct pool *p)
{
	uint64_t ms = pool_ms(p->vm->sync_interval);

	p->syncing = false;
	if (!p->closing)
		uv_timer_start(&p->sync_timer, pool_sync_timer_cb, ms ? ms : 1, 0);
}

static int
pool_type_index(const struct pool *p, const char *name, uint32_t *t)
{
	for (size_t i = 0; name && i < p->cl->n_instance_types; i++) {
		if (strcmp(p->cl->instance_types[i].name, name) == 0) {
			*t = (uint32_t)i;
			return 0;
		}
	}
	return -1;
}

/* The behaviour of an adopted instance: from its tag; an unrecognised type drains unless held. */
static void
pool_sync_behaviour(struct pool_worker *w, const char *tag)
{
	w->idle = SCHED_IDLE_RUN;
	if (pool_idle_parse(tag, &w->idle) < 0)
		w->idle = SCHED_IDLE_RUN;
	if (!w->type_known && w->idle != SCHED_IDLE_HOLD) {
		char msg[160];

		w->idle = SCHED_IDLE_DRAIN;
		snprintf(msg, sizeof(msg),
			 "draining instance that was tagged with an unrecognized InstanceType and "
			 "IdleBehavior = %s",
			 tag ? tag : "");
		log_kv(LOG_LVL_INFO, msg, POOL_WF(w));
	}
}

struct pool_worker *
pool_sync_add(struct pool *p, const struct pool_instance *inst, const struct pool_pending *pend)
{
	const char *tname = pool_tag_get(inst, p->key_type);
	struct pool_worker *w = pool_worker_add(p, inst->id);
	int64_t now = pool_now(p);

	if (!w)
		return NULL;
	if (pend) {
		w->type = pend->type;
		w->type_known = true;
		tname = p->cl->instance_types[pend->type].name;
	} else {
		w->type_known = pool_type_index(p, tname, &w->type) == 0;
	}
	w->type_name = strdup(tname ? tname : "");
	if (!w->type_name || pool_worker_set_instance(w, inst) < 0) {
		pool_worker_remove(p, w);
		return NULL;
	}
	if (pend && !w->secret)
		w->secret = strdup(pend->secret); /* a driver that returns no tags */
	w->state = pend ? SCHED_W_BOOTING : SCHED_W_UNKNOWN;
	pool_sync_behaviour(w, pool_tag_get(inst, p->key_idle));
	w->appeared = w->probed = w->updated = w->busy = now;
	log_kv(LOG_LVL_INFO, "instance appeared in cloud", POOL_WF(w),
	       LF_STR("State", pool_state_name(w->state)),
	       LF_STR("IdleBehavior", pool_idle_name(w->idle)));
	return w;
}

static void
pool_sync_known(struct pool *p, struct pool_worker *w, const struct pool_instance *inst)
{
	int64_t now = pool_now(p);

	if (pool_worker_set_instance(w, inst) < 0)
		return; /* keep the old data; retried at the next sync */
	w->updated = now;
	pool_tags_save(w);
	if (w->state == SCHED_W_SHUTDOWN && now - w->destroyed >= p->vm->timeout_shutdown) {
		log_kv(LOG_LVL_INFO, "worker still listed after shutdown; retrying", POOL_WF(w),
		       LF_STR("State", pool_state_name(w->state)));
		pool_destroy(w);
	}
}

static bool
pool_sync_gone(struct pool *p, int64_t t0)
{
	bool changed = false;
	int64_t now = pool_now(p);

	for (size_t i = p->n_workers; i-- > 0;) {
		struct pool_worker *w = p->workers[i];

		if (w->updated > t0)
			continue;
		const char *st = pool_state_name(w->state);

		log_kv(LOG_LVL_INFO, "instance disappeared in cloud", POOL_WF(w));
		pool_boot_outcome(w, "disappeared");
		if (p->m_disappeared)
			metrics_add(p->m_disappeared, (const char *const[]){ st }, 1);
		/* fix (weakness 13): measured from the first destroy request, not the last retry */
		if (w->first_destroy)
			pool_metrics_observe(p, p->m_gone, NULL,
					     (double)(now - w->first_destroy) / 1e9);
		pool_worker_remove(p, w);
		changed = true;
	}
	return changed;
}

static void
pool_sync_apply(struct pool *p, int64_t t0, const struct pool_instance *list, size_t n)
{
	bool changed = false;

	for (size_t i = 0; i < n; i++) {
		struct pool_worker *w = pool_worker_find(p, list[i].id);

		if (w) {
			pool_sync_known(p, w, &list[i]);
			continue;
		}
		ssize_t j = pool_pending_find(p, pool_tag_get(&list[i], p->key_secret));

		changed |= pool_sync_add(p, &list[i], j >= 0 ? &p->pending[j] : NULL) != NULL;
	}
	changed |= pool_sync_gone(p, t0);
	if (p->quota_threshold > 0 && (int64_t)(p->n_workers + p->n_pending) < p->quota_threshold) {
		p->quota_threshold = 0;
		changed = true;
	}
	if (!p->loaded) {
		p->loaded = true;
		log_kv(LOG_LVL_INFO, "loaded initial instance list", LF_INT("N", p->n_workers));
		changed = true;
	}
	if (changed)
		pool_changed(p);
}

static void
pool_list_done(void *arg, const struct pool_cloud_err *err, const struct pool_instance *list,
	       size_t n)
{
	struct pool_listop *op = arg;
	struct pool *p = op->p;

	if (!pool_call_end(p)) {
		pool_count_op(p, "List", err->kind != POOL_CLOUD_OK);
		p->sync_failed = err->kind != POOL_CLOUD_OK;
		if (err->kind != POOL_CLOUD_OK) {
			pool_throttle_error(p, &p->list_throttle_until, err, "list instances");
			log_kv_err(LOG_LVL_WARN, "sync failed", err->message, LF_END);
		} else {
			pool_sync_apply(p, op->t0, list, n);
		}
		pool_sync_rearm(p);
	}
	free(op);
	pool_maybe_free(p);
}

static void
pool_list_run(struct pool *p, struct pool_cloudop *o)
{
	struct pool_listop *op = (struct pool_listop *)o;
	struct pool_cloud_err e = { .kind = POOL_CLOUD_OTHER,
				    .message = "cloud port refused the call" };

	op->t0 = pool_now(p); /* T0: workers not updated after this and not listed are gone */
	pool_call_begin(p);
	if (p->o.cloud.list(p->o.cloud.ctx, p->key_set_id, p->set_id, pool_list_done, op) < 0)
		pool_list_done(op, &e, NULL, 0);
}

static void
pool_list_drop(struct pool *p, struct pool_cloudop *o)
{
	(void)p;
	free(o);
}

void
pool_cloud_ready(struct pool *p)
{
	if (p == NULL || p->closing || p->syncing || !p->sync_failed)
		return;
	uv_timer_start(&p->sync_timer, pool_sync_timer_cb, 0, 0);
}

void
pool_sync_timer_cb(uv_timer_t *t)
{
	struct pool *p = t->data;
	struct pool_listop *op;
	int64_t now = pool_now(p);

	if (p->closing || p->syncing)
		return;
	if (p->list_throttle_until > now) {
		char msg[128];

		snprintf(msg, sizeof(msg), "remote calls are suspended for %.3fs, until %lld",
			 (double)(p->list_throttle_until - now) / 1e9,
			 (long long)(p->list_throttle_until / POOL_SECOND));
		log_kv_err(LOG_LVL_WARN, "sync failed", msg, LF_END);
		pool_sync_rearm(p);
		return;
	}
	if (!(op = calloc(1, sizeof(*op)))) {
		pool_sync_rearm(p);
		return;
	}
	op->p = p;
	op->op.run = pool_list_run;
	op->op.drop = pool_list_drop;
	p->syncing = true;
	pool_cloudop_submit(p, &op->op, false);
}
