/* queue.c - the queue's lifecycle, the on_change wake-up and accessors. See queue.h; the
 * sorted view is in queue_view.c, polling in queue_poll.c, state-changing calls in
 * queue_ops.c. */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_client.h"

static const char *const queue_state_names[] = {
	[QST_UNKNOWN] = "",	   [QST_QUEUED] = "Queued",	[QST_LOCKED] = "Locked",
	[QST_RUNNING] = "Running", [QST_COMPLETE] = "Complete", [QST_CANCELLED] = "Cancelled",
};

const char *
queue_state_name(enum queue_state s)
{
	return (unsigned)s <= QST_CANCELLED ? queue_state_names[s] : "";
}

enum queue_state
queue_state_parse(const char *s)
{
	for (int i = QST_QUEUED; i <= QST_CANCELLED; i++)
		if (s != NULL && strcmp(s, queue_state_names[i]) == 0)
			return (enum queue_state)i;
	return QST_UNKNOWN;
}

uint64_t
queue_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t
queue_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
queue_wake_cb(uv_async_t *h)
{
	struct queue *q = h->data;

	if (q->on_change != NULL && !q->closing)
		q->on_change(q->on_change_ctx);
}

/* uv_async_send coalesces: many changes before the loop runs give one wake-up. */
void
queue_changed(struct queue *q)
{
	if (!q->closing)
		uv_async_send(&q->wake);
}

struct queue_req *
queue_req_new(struct queue *q, const char *uuid, enum queue_op op)
{
	struct queue_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->life = q->life;
	q->life->refs++;
	if (uuid != NULL)
		snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	r->op = op;
	return r;
}

struct queue *
queue_req_queue(const struct queue_req *r)
{
	return r->life->q;
}

void
queue_req_free(struct queue_req *r)
{
	if (r == NULL)
		return;
	if (--r->life->refs == 0 && r->life->q == NULL)
		free(r->life);
	free(r->text);
	free(r);
}

int
queue_new(const struct queue_opts *o, struct queue **out)
{
	struct queue *q = calloc(1, sizeof(*q));
	int64_t pi;
	int rc;

	*out = NULL;
	if (q == NULL || (q->life = calloc(1, sizeof(*q->life))) == NULL) {
		free(q);
		return -ENOMEM;
	}
	q->life->q = q;
	q->loop = o->loop;
	q->api = o->api;
	q->cluster = o->cluster;
	q->itypes = o->itypes;
	q->mounts_concurrency = o->mounts_concurrency ? o->mounts_concurrency
						      : QUEUE_MOUNTS_CONCURRENCY;
	q->list_limit = o->list_limit ? o->list_limit : 1000;
	q->mounts_batch = o->mounts_batch ? o->mounts_batch : QUEUE_MOUNTS_BATCH;
	q->select_lock_count = o->select_lock_count;
	q->on_change = o->on_change;
	q->on_change_ctx = o->on_change_ctx;
	q->poll_cb = o->on_poll;
	q->poll_cb_arg = o->on_poll_ctx;
	pi = o->cluster->containers.cloudvms.poll_interval / 1000000;
	q->poll_interval_ms = pi > 0 ? (uint64_t)pi : 0;
	if ((rc = uv_async_init(o->loop, &q->wake, queue_wake_cb)) != 0) {
		free(q->life);
		free(q);
		return rc;
	}
	q->wake.data = q;
	uv_timer_init(o->loop, &q->poll_timer);
	uv_timer_init(o->loop, &q->mounts_timer);
	q->poll_timer.data = q->mounts_timer.data = q;
	q->open_handles = 3;
	*out = q;
	return 0;
}

int
queue_start(struct queue *q)
{
	if (q->started)
		return 0;
	q->started = true;
	queue_poll_schedule(q, 0);
	return 0;
}

struct queue_ent *
queue_get(const struct queue *q, const char *uuid)
{
	return queue_map_get(&q->map, uuid, queue_map_hash(uuid));
}

size_t
queue_count(const struct queue *q)
{
	return q->map.n;
}

const char *
queue_identity(const struct queue *q)
{
	return q->identity;
}

uint64_t
queue_threshold_ms(const struct queue *q)
{
	return q->threshold_ms;
}

void
queue_stats(const struct queue *q, struct queue_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->polls_ok = q->polls_ok;
	s->polls_failed = q->polls_failed;
	s->last_poll_ms = q->threshold_ms;
	s->last_poll_duration_ms = q->last_poll_duration_ms;
	s->last_poll_requests = q->last_poll_requests;
	s->have_identity = q->identity != NULL;
	s->entries = q->map.n;
	s->pending_mounts = q->mq_len;
	s->mounts_in_flight = q->mounts_in_flight;
	s->unsatisfiable = q->unsatisfiable;
	s->records = q->recs.n;
	s->choices = q->choices.n;
	s->last_503_ms = api_client_last_503(q->api);
}

int
queue_forget(struct queue *q, const char *uuid)
{
	struct queue_ent *e = queue_get(q, uuid);

	if (e == NULL)
		return -ENOENT;
	if (e->op != QOP_NONE)
		return -EBUSY;
	queue_ent_remove(q, e);
	queue_changed(q);
	return 0;
}

void
queue_reap(struct queue *q)
{
	while (q->removed != NULL) {
		struct queue_ent *e = q->removed;

		q->removed = e->mq_next;
		queue_ent_free(e);
	}
}

static void
queue_handle_closed(uv_handle_t *h)
{
	struct queue *q = h->data;

	if (--q->open_handles > 0)
		return;
	if (q->closed != NULL)
		q->closed(q->closed_arg);
	free(q);
}

void
queue_free(struct queue *q, void (*closed)(void *arg), void *arg)
{
	if (q == NULL)
		return;
	q->closing = true;
	q->closed = closed;
	q->closed_arg = arg;
	q->life->q = NULL;
	if (q->life->refs == 0)
		free(q->life);
	q->life = NULL;
	queue_poll_free(q);
	queue_reap(q);
	for (size_t i = 0; i < q->map.cap; i++)
		if (q->map.slot[i] != NULL)
			queue_ent_free(q->map.slot[i]);
	queue_map_free(&q->map);
	queue_intern_free(&q->recs);
	queue_intern_free(&q->choices);
	free(q->view);
	free(q->view_tmp);
	free(q->view_new);
	free(q->identity);
	uv_close((uv_handle_t *)&q->wake, queue_handle_closed);
	uv_close((uv_handle_t *)&q->poll_timer, queue_handle_closed);
	uv_close((uv_handle_t *)&q->mounts_timer, queue_handle_closed);
}
