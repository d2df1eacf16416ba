/* pool_create.c - creating instances (5.5): secrets, holds for quota/capacity, the create call. */
#include "pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "util.h"

struct pool_createop {
	struct pool_cloudop op;
	struct pool *p;
	uint32_t type;
	char secret[POOL_SECRET_HEX + 1];
};

ssize_t
pool_pending_find(const struct pool *p, const char *secret)
{
	for (size_t i = 0; secret && i < p->n_pending; i++)
		if (strcmp(p->pending[i].secret, secret) == 0)
			return (ssize_t)i;
	return -1;
}

void
pool_pending_remove(struct pool *p, size_t i)
{
	adc_wipe(p->pending[i].secret, sizeof(p->pending[i].secret));
	memmove(&p->pending[i], &p->pending[i + 1], (p->n_pending - i - 1) * sizeof(*p->pending));
	p->n_pending--;
}

static void
pool_cap_key(const struct pool *p, const struct cfg_instance_type *it, char *buf, size_t len)
{
	(void)p;
	snprintf(buf, len, "%s%s", it->provider_type, it->preemptible ? "-preemptible" : "");
}

static bool
pool_cap_held(const struct pool *p, const char *key, int64_t now)
{
	for (size_t i = 0; i < p->n_cap_holds; i++)
		if (strcmp(p->cap_holds[i].key, key) == 0 && p->cap_holds[i].until > now)
			return true;
	return false;
}

/* At capacity for type t: "" (all types), t's quota group or t's own key is held. */
bool
pool_capacity_blocked(struct pool *p, uint32_t t)
{
	const struct cfg_instance_type *it = &p->cl->instance_types[t];
	int64_t now = pool_now(p);
	char key[512];

	if (p->n_cap_holds == 0)
		return false;
	pool_cap_key(p, it, key, sizeof(key));
	return pool_cap_held(p, "", now) || pool_cap_held(p, key, now) ||
	       pool_cap_held(
		       p,
		       p->o.cloud.quota_group(p->o.cloud.ctx, it->provider_type, it->preemptible),
		       now);
}

const bool *
pool_type_at_capacity(struct pool *p)
{
	for (size_t t = 0; t < p->cl->n_instance_types; t++)
		p->at_capacity[t] = pool_capacity_blocked(p, (uint32_t)t);
	return p->at_capacity;
}

bool
pool_at_quota(const struct pool *p)
{
	int64_t mi = p->vm->max_instances;

	return p->quota_threshold > 0 || p->quota_until > pool_now(p) ||
	       (mi > 0 && (int64_t)(p->n_workers + p->n_pending) >= mi);
}

bool
pool_create_throttled(const struct pool *p)
{
	int64_t now = pool_now(p);

	return p->create_throttle_until > now || p->create_ops_until > now;
}

bool
pool_runner_unavailable(const struct pool *p)
{
	return p->o.runner_unavailable;
}

static void
pool_hold_capacity(struct pool *p, const char *key, int64_t until)
{
	for (size_t i = 0; i < p->n_cap_holds; i++) {
		if (strcmp(p->cap_holds[i].key, key) == 0) {
			p->cap_holds[i].until = until;
			return;
		}
	}
	struct pool_hold *h = realloc(p->cap_holds, (p->n_cap_holds + 1) * sizeof(*h));
	char *k = strdup(key);

	if (!h || !k) {
		free(k);
		if (h)
			p->cap_holds = h;
		return;
	}
	p->cap_holds = h;
	h[p->n_cap_holds++] = (struct pool_hold){ k, until };
}

static void
pool_capacity_error(struct pool *p, uint32_t t, const struct pool_cloud_err *err)
{
	const struct cfg_instance_type *it = &p->cl->instance_types[t];
	int64_t until = pool_now(p) + POOL_CAPACITY_TTL;
	char key[512] = "", ttl[16];

	if (err->type_specific)
		pool_cap_key(p, it, key, sizeof(key));
	else if (err->quota_group_specific)
		snprintf(
			key, sizeof(key), "%s",
			p->o.cloud.quota_group(p->o.cloud.ctx, it->provider_type, it->preemptible));
	pool_hold_capacity(p, key, until);
	snprintf(ttl, sizeof(ttl), "%llds", (long long)(POOL_CAPACITY_TTL / POOL_SECOND));
	log_kv(LOG_LVL_INFO, "capacity error -- pausing instance create calls",
	       LF_STR("capacityErrorTTL", ttl), LF_STR("capKey", key),
	       LF_INT("atCapacityUntil", until / POOL_SECOND),
	       LF_BOOL("isInstanceTypeSpecific", err->type_specific),
	       LF_BOOL("isInstanceQuotaGroupSpecific", err->quota_group_specific));
}

static void
pool_quota_error(struct pool *p)
{
	int64_t n = (int64_t)(p->n_workers + p->n_pending); /* this create already removed */

	if (n < 1) {
		p->quota_until = pool_now(p) + POOL_QUOTA_TTL;
		log_kv(LOG_LVL_INFO, "quota error with 0 running -- waiting for quotaErrorTTL",
		       LF_STR("quotaErrorTTL", "1m0s"));
	} else if (p->quota_threshold == 0 || n < p->quota_threshold) {
		p->quota_threshold = n;
		p->quota_until = 0;
		log_kv(LOG_LVL_INFO, "quota error -- waiting for next instance shutdown",
		       LF_INT("N", n));
	}
}

static void
pool_create_done(void *arg, const struct pool_cloud_err *err, const struct pool_instance *inst)
{
	struct pool_createop *op = arg;
	struct pool *p = op->p;

	if (pool_call_end(p))
		goto out;
	pool_count_op(p, "Create", err->kind != POOL_CLOUD_OK);
	if (err->kind == POOL_CLOUD_OK && inst) {
		/* Added first (as booting: the pending entry still names its secret), then the
		 * pending entry goes, so no sync sees it as neither. */
		ssize_t j = pool_pending_find(p, op->secret);

		if (!pool_worker_find(p, inst->id))
			pool_sync_add(p, inst, j >= 0 ? &p->pending[j] : NULL);
	}
	ssize_t i = pool_pending_find(p, op->secret);

	if (i >= 0)
		pool_pending_remove(p, (size_t)i);
	if (err->kind != POOL_CLOUD_OK || !inst) {
		log_kv_err(LOG_LVL_ERROR, "create failed", err->message,
			   LF_STR("InstanceType", p->cl->instance_types[op->type].name),
			   LF_BOOL("isCapacityError", err->kind == POOL_CLOUD_CAPACITY),
			   LF_BOOL("isQuotaError", err->kind == POOL_CLOUD_QUOTA));
		if (err->kind == POOL_CLOUD_QUOTA)
			pool_quota_error(p);
		else if (err->kind == POOL_CLOUD_CAPACITY)
			pool_capacity_error(p, op->type, err);
		pool_throttle_error(p, &p->create_throttle_until, err, "create instance");
		pool_holds_rearm(p);
	}
	pool_changed(p);
out:
	adc_wipe(op->secret, sizeof(op->secret));
	free(op);
	pool_maybe_free(p);
}

static void
pool_create_run(struct pool *p, struct pool_cloudop *o)
{
	struct pool_createop *op = (struct pool_createop *)o;
	const struct cfg_instance_type *it = &p->cl->instance_types[op->type];
	const char *init = p->vm->instance_init_command ? p->vm->instance_init_command : "";
	struct pool_cloud_err e = { .kind = POOL_CLOUD_OTHER, .message = "out of memory" };
	struct pool_tag *tags = NULL;
	size_t ntags = 0, len = strlen(init) + 128;
	char *cmd = malloc(len);
	int rc = -ENOMEM;

	pool_call_begin(p);
	if (cmd && pool_tags_for_create(p, op->type, op->secret, &tags, &ntags) == 0) {
		/* 5.5 step 4, exact text. */
		snprintf(cmd, len,
			 "umask 0177 && echo -n \"%s\" >/var/run/arvados-instance-secret\n%s",
			 op->secret, init);
		struct pool_create_req req = {
			.instance_type = it->name,
			.provider_type = it->provider_type,
			.preemptible = it->preemptible,
			.image_id = p->vm->image_id ? p->vm->image_id : "",
			.tags = tags,
			.n_tags = ntags,
			.init_command = cmd,
			.with_public_key = p->vm->deploy_public_key,
		};
		rc = p->o.cloud.create(p->o.cloud.ctx, &req, pool_create_done, op);
		e.message = "cloud port refused the call";
	}
	if (cmd)
		adc_wipe(cmd, strlen(cmd));
	free(cmd);
	free(tags);
	if (rc < 0)
		pool_create_done(op, &e, NULL);
}

static void
pool_create_drop(struct pool *p, struct pool_cloudop *o)
{
	(void)p;
	free(o);
}

static int
pool_new_secret(char out[POOL_SECRET_HEX + 1])
{
	unsigned char b[POOL_SECRET_HEX / 2];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	adc_wipe(b, sizeof(b));
	return 0;
}

static int
pool_pending_add(struct pool *p, uint32_t t, const char *secret)
{
	if (p->n_pending == p->cap_pending) {
		size_t cap = p->cap_pending ? p->cap_pending * 2 : 8;
		struct pool_pending *a = realloc(p->pending, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		p->pending = a;
		p->cap_pending = cap;
	}
	struct pool_pending *e = &p->pending[p->n_pending++];

	memcpy(e->secret, secret, sizeof(e->secret));
	e->type = t;
	e->since = pool_now(p);
	return 0;
}

bool
pool_create(struct pool *p, uint32_t t)
{
	int64_t max_ops = p->vm->max_concurrent_instance_create_ops;
	int64_t mi = p->vm->max_instances;
	struct pool_createop *op;

	if (p->closing || t >= p->cl->n_instance_types || p->o.runner_unavailable ||
	    pool_capacity_blocked(p, t) || pool_at_quota(p) || pool_create_throttled(p))
		return false;
	if (max_ops > 0 && (int64_t)p->n_pending >= max_ops) {
		log_kv(LOG_LVL_INFO, "reached MaxConcurrentInstanceCreateOps",
		       LF_INT("MaxConcurrentInstanceCreateOps", max_ops));
		p->create_ops_until = pool_now(p) + POOL_CREATE_OPS_HOLD;
		pool_holds_rearm(p);
		return false;
	}
	if (!(op = calloc(1, sizeof(*op))))
		return false;
	op->p = p;
	op->type = t;
	op->op.run = pool_create_run;
	op->op.drop = pool_create_drop;
	if (pool_new_secret(op->secret) < 0 || pool_pending_add(p, t, op->secret) < 0) {
		free(op);
		return false;
	}
	if (mi > 0 && (int64_t)(p->n_workers + p->n_pending) == mi) {
		char msg[96];

		snprintf(msg, sizeof(msg), "now at MaxInstances limit of %lld instances",
			 (long long)mi);
		log_kv(LOG_LVL_INFO, msg, LF_INT("MaxInstances", mi));
	}
	pool_cloudop_submit(p, &op->op, false);
	return true;
}
