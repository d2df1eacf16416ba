/*
 * pool_throttle.c - pacing of cloud calls (MaxCloudOpsPerSecond), rate-limit hold-offs
 * (throttle.go), and the one timer that wakes (pool_changed) when a hold expires.
 */
#include "pool_internal.h"

#include <stdio.h>
#include <time.h>

void
pool_count_op(struct pool *p, const char *op, bool error)
{
	if (p->m_ops)
		metrics_add(p->m_ops, (const char *const[]){ op, error ? "1" : "0" }, 1);
}

static int64_t
pool_ops_gap(const struct pool *p)
{
	double r = p->vm->max_cloud_ops_per_second;

	return r > 0 ? (int64_t)(1e9 / r) : 0;
}

static struct pool_cloudop *
pool_ops_pop(struct pool *p)
{
	struct pool_cloudop *op;

	/* Create, list and destroy go first; tag writes use what is left (weakness 18). */
	if ((op = p->ops_head)) {
		if (!(p->ops_head = op->next))
			p->ops_tail = NULL;
	} else if ((op = p->tags_head)) {
		if (!(p->tags_head = op->next))
			p->tags_tail = NULL;
	}
	if (op)
		op->next = NULL;
	return op;
}

/* Run every op the ticker allows now; re-arm for the next one. */
static void
pool_ops_pump(struct pool *p)
{
	int64_t gap = pool_ops_gap(p);

	while (!p->closing && (p->ops_head || p->tags_head)) {
		int64_t now = pool_now(p);

		if (gap && now < p->ops_next_ok) {
			uint64_t ms = pool_ms(p->ops_next_ok - now);

			uv_timer_start(&p->ops_timer, pool_cloudops_tick, ms ? ms : 1, 0);
			return;
		}
		p->ops_next_ok = now + gap;
		struct pool_cloudop *op = pool_ops_pop(p);

		op->run(p, op);
	}
}

void
pool_cloudops_tick(uv_timer_t *t)
{
	pool_ops_pump(t->data);
}

/* Queue a cloud call; with no MaxCloudOpsPerSecond it runs at once (in order). */
void
pool_cloudop_submit(struct pool *p, struct pool_cloudop *op, bool low_priority)
{
	struct pool_cloudop **head = low_priority ? &p->tags_head : &p->ops_head;
	struct pool_cloudop **tail = low_priority ? &p->tags_tail : &p->ops_tail;

	op->next = NULL;
	if (*tail)
		(*tail)->next = op;
	else
		*head = op;
	*tail = op;
	if (!uv_is_active((uv_handle_t *)&p->ops_timer))
		pool_ops_pump(p);
}

void
pool_cloudop_submit_later(struct pool *p, struct pool_cloudop *op)
{
	op->next = NULL;
	if (p->ops_tail)
		p->ops_tail->next = op;
	else
		p->ops_head = op;
	p->ops_tail = op;
	if (!uv_is_active((uv_handle_t *)&p->ops_timer))
		uv_timer_start(&p->ops_timer, pool_cloudops_tick, 0, 0);
}

void
pool_cloudops_drop_all(struct pool *p)
{
	struct pool_cloudop *op;

	while ((op = pool_ops_pop(p)))
		op->drop(p, op);
}

static void
pool_fmt_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / POOL_SECOND);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long long)(ns % POOL_SECOND));
}

/* A rate-limit error with a retry time in the future suspends that kind of call until then. */
void
pool_throttle_error(struct pool *p, int64_t *until, const struct pool_cloud_err *err,
		    const char *call_type)
{
	int64_t now = pool_now(p);
	char at[48], dur[32];

	if (err->kind != POOL_CLOUD_RATE_LIMIT || err->retry_at <= now)
		return;
	*until = err->retry_at;
	pool_fmt_time(err->retry_at, at, sizeof(at));
	snprintf(dur, sizeof(dur), "%.3fs", (double)(err->retry_at - now) / 1e9);
	log_kv(LOG_LVL_INFO, "suspending remote calls due to rate-limit error",
	       LF_STR("CallType", call_type), LF_STR("Duration", dur), LF_STR("ResumeAt", at));
	pool_holds_rearm(p);
}

static void
pool_min_future(int64_t *best, int64_t t, int64_t now)
{
	if (t > now && (*best == 0 || t < *best))
		*best = t;
}

/* One timer for every hold's expiry (quota, capacity, create ops, rate limits): each expiry
 * is a pool on_change wake-up, so the scheduler retries at once. */
void
pool_holds_rearm(struct pool *p)
{
	int64_t now = pool_now(p), next = 0;

	if (p->closing)
		return;
	pool_min_future(&next, p->quota_until, now);
	pool_min_future(&next, p->create_ops_until, now);
	pool_min_future(&next, p->create_throttle_until, now);
	pool_min_future(&next, p->list_throttle_until, now);
	for (size_t i = 0; i < p->n_cap_holds; i++)
		pool_min_future(&next, p->cap_holds[i].until, now);
	if (next) {
		uint64_t ms = pool_ms(next - now);

		uv_timer_start(&p->hold_timer, pool_hold_timer_cb, ms + 1, 0);
	} else {
		uv_timer_stop(&p->hold_timer);
	}
}

void
pool_hold_timer_cb(uv_timer_t *t)
{
	struct pool *p = t->data;

	pool_holds_rearm(p);
	pool_changed(p);
}
