/* pool_tags.c - instance tags (5.4): written at create, read back at sync, re-asserted. */
#include "pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch_gate.h"

static char *
pool_key(const char *prefix, const char *name)
{
	size_t n = strlen(prefix) + strlen(name) + 1;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s%s", prefix, name);
	return k;
}

int
pool_tags_init(struct pool *p)
{
	const char *pre = p->vm->tag_key_prefix ? p->vm->tag_key_prefix : "Arvados";

	p->key_set_id = pool_key(pre, "InstanceSetID");
	p->key_type = pool_key(pre, "InstanceType");
	p->key_idle = pool_key(pre, "IdleBehavior");
	p->key_secret = pool_key(pre, "InstanceSecret");
	if (!p->key_set_id || !p->key_type || !p->key_idle || !p->key_secret)
		return -ENOMEM;
	return 0;
}

const char *
pool_tag_get(const struct pool_instance *inst, const char *key)
{
	for (size_t i = 0; i < inst->n_tags; i++)
		if (inst->tags[i].key && strcmp(inst->tags[i].key, key) == 0)
			return inst->tags[i].value;
	return NULL;
}

const char *
pool_worker_tag(const struct pool_worker *w, const char *key)
{
	for (size_t i = 0; i < w->n_tags; i++)
		if (strcmp(w->tag_k[i], key) == 0)
			return w->tag_v[i];
	return NULL;
}

/* The 5.4 tags, then every ResourceTags entry; the array borrows its strings. */
int
pool_tags_for_create(const struct pool *p, uint32_t type, const char *secret, struct pool_tag **out,
		     size_t *n)
{
	size_t nr = p->vm->n_resource_tags;
	struct pool_tag *t = calloc(4 + nr, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t[0] = (struct pool_tag){ p->key_set_id, p->set_id };
	t[1] = (struct pool_tag){ p->key_type, p->cl->instance_types[type].name };
	t[2] = (struct pool_tag){ p->key_idle, "run" };
	t[3] = (struct pool_tag){ p->key_secret, secret };
	for (size_t i = 0; i < nr; i++)
		t[4 + i] = (struct pool_tag){ p->vm->resource_tag_keys[i],
					      p->vm->resource_tag_values[i] };
	*out = t;
	*n = 4 + nr;
	return 0;
}

struct pool_tagop {
	struct pool_cloudop op;
	struct pool_worker *w;
	enum sched_idle idle;
};

static bool
pool_tags_current(const struct pool_worker *w)
{
	const char *t = pool_worker_tag(w, w->p->key_type);
	const char *b = pool_worker_tag(w, w->p->key_idle);

	return t && b && strcmp(t, w->type_name ? w->type_name : "") == 0 &&
	       strcmp(b, pool_idle_name(w->idle)) == 0;
}

static void
pool_tags_done(void *arg, const struct pool_cloud_err *err)
{
	struct pool_tagop *op = arg;
	struct pool_worker *w = op->w;
	struct pool *p = w->p;

	if (!pool_call_end(p)) {
		pool_count_op(p, "SetTags", err->kind != POOL_CLOUD_OK);
		if (err->kind != POOL_CLOUD_OK) {
			log_kv_err(LOG_LVL_WARN, "error updating tags", err->message, POOL_WF(w));
		} else {
			w->tags_written_at = pool_now(p);
			w->tags_written_idle = op->idle;
		}
	}
	pool_worker_unref(w);
	free(op);
	pool_maybe_free(p);
}

static void
pool_tags_run(struct pool *p, struct pool_cloudop *o)
{
	struct pool_tagop *op = (struct pool_tagop *)o;
	struct pool_worker *w = op->w;
	struct pool_tag *t = calloc(w->n_tags + 2, sizeof(*t));
	size_t n = 0;
	struct pool_cloud_err e = { .kind = POOL_CLOUD_OTHER, .message = "out of memory" };
	int rc = -ENOMEM;

	w->tags_queued = false;
	if (w->removed || w->state == SCHED_W_SHUTDOWN || pool_tags_current(w) ||
	    !dispatch_gate_open()) {
		free(t);
		pool_worker_unref(w);
		free(op);
		return;
	}
	op->idle = w->idle;
	pool_call_begin(p);
	if (t) {
		/* The whole map, with the type and behaviour replaced (added if missing). */
		for (size_t i = 0; i < w->n_tags; i++)
			if (strcmp(w->tag_k[i], p->key_type) && strcmp(w->tag_k[i], p->key_idle))
				t[n++] = (struct pool_tag){ w->tag_k[i], w->tag_v[i] };
		t[n++] = (struct pool_tag){ p->key_type, w->type_name ? w->type_name : "" };
		t[n++] = (struct pool_tag){ p->key_idle, pool_idle_name(w->idle) };
		rc = p->o.cloud.set_tags(p->o.cloud.ctx, w->id, t, n, pool_tags_done, op);
		free(t);
		e.message = "cloud port refused the call";
	}
	if (rc < 0)
		pool_tags_done(op, &e); /* as if the call had failed */
}

static void
pool_tags_drop(struct pool *p, struct pool_cloudop *o)
{
	struct pool_tagop *op = (struct pool_tagop *)o;

	(void)p;
	pool_worker_unref(op->w);
	free(op);
}

/*
 * "saveTags" (5.4). Deviation (weakness 18): one write per worker is queued at a time, behind
 * create/list/destroy on the cloud-ops ticker, and a listing that still shows the old values
 * within two SyncIntervals of a successful write is taken as the driver's stale view, not
 * rewritten again.
 * Standby (issue 15, base/dispatch_gate.h): nothing is written, here nor when a queued write
 * comes up; the active dispatcher owns the tags (it may hold or drain an instance), and
 * pool_gate_resume takes the behaviours from them when this one becomes active.
 */
void
pool_tags_save(struct pool_worker *w)
{
	struct pool *p = w->p;
	struct pool_tagop *op;
	int64_t window = 2 * p->vm->sync_interval;

	if (w->removed || w->tags_queued || pool_tags_current(w) || !dispatch_gate_open())
		return;
	if (w->tags_written_at && w->tags_written_idle == w->idle &&
	    pool_now(p) - w->tags_written_at < window)
		return;
	if (!(op = calloc(1, sizeof(*op)))) {
		log_kv(LOG_LVL_WARN, "error updating tags", POOL_WF(w));
		return;
	}
	op->op.run = pool_tags_run;
	op->op.drop = pool_tags_drop;
	op->w = w;
	pool_worker_ref(w);
	w->tags_queued = true;
	pool_cloudop_submit(p, &op->op, true);
}
