/* queue_mounts.c - fetching the mounts of newly seen containers (spec 2.5: GET
 * containers/<uuid> select=["mounts"]) in the background: a FIFO of entries, at most
 * mounts_concurrency requests in flight, so that polls, locks and unlocks never wait behind
 * thousands of mounts requests in the API client's queue (weakness 16: the reference holds
 * the queue lock through all of them). Failures pause the fetching with a back-off and are
 * logged once per condition. */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "api_client.h"

#define QUEUE_MOUNTS_BACKOFF_MIN_MS 500u
#define QUEUE_MOUNTS_BACKOFF_MAX_MS 30000u

void
queue_mounts_enqueue(struct queue *q, struct queue_ent *e)
{
	if (e->in_mounts_queue || e->mounts_busy)
		return;
	e->mq_next = NULL;
	e->mq_prev = q->mq_tail;
	if (q->mq_tail != NULL)
		q->mq_tail->mq_next = e;
	else
		q->mq_head = e;
	q->mq_tail = e;
	e->in_mounts_queue = true;
	q->mq_len++;
}

void
queue_mounts_unlink(struct queue *q, struct queue_ent *e)
{
	if (!e->in_mounts_queue)
		return;
	if (e->mq_prev != NULL)
		e->mq_prev->mq_next = e->mq_next;
	else
		q->mq_head = e->mq_next;
	if (e->mq_next != NULL)
		e->mq_next->mq_prev = e->mq_prev;
	else
		q->mq_tail = e->mq_prev;
	e->mq_next = e->mq_prev = NULL;
	e->in_mounts_queue = false;
	q->mq_len--;
}

static void
queue_mounts_done(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q = queue_req_queue(r);
	struct queue_ent *e;

	if (q == NULL)
		goto out;
	q->mounts_in_flight--;
	e = queue_get(q, r->uuid);
	if (e != NULL)
		e->mounts_busy = false;
	if (res->err != 0) {
		uint64_t d = QUEUE_MOUNTS_BACKOFF_MIN_MS
			     << (q->mounts_failures < 6 ? q->mounts_failures : 6);

		q->mounts_failures++;
		q->mounts_hold_until = queue_mono_ms() + (d < QUEUE_MOUNTS_BACKOFF_MAX_MS
								  ? d
								  : QUEUE_MOUNTS_BACKOFF_MAX_MS);
		queue_cond_fail(&q->mounts_err, queue_cond_key(res->err, res->status), LOG_LVL_WARN,
				"error getting mounts", res->error, r->uuid);
		if (e != NULL && e->fit == QFIT_PENDING)
			queue_mounts_enqueue(q, e); /* retried after the back-off */
	} else {
		q->mounts_failures = 0;
		queue_cond_ok(&q->mounts_err, "getting mounts works again");
		if (e != NULL && e->fit == QFIT_PENDING) {
			queue_apply_mounts(q, e, res->body);
			queue_changed(q);
		}
	}
	queue_mounts_kick(q);
out:
	queue_req_free(r);
}

static int
queue_mounts_fetch(struct queue *q, struct queue_ent *e)
{
	struct api_params *p = api_params_new();
	struct queue_req *r = queue_req_new(q, e->uuid, QOP_NONE);
	char path[64 + QUEUE_UUID_MAX];
	int rc = -ENOMEM;

	if (p == NULL || r == NULL || api_params_add_str(p, "select", "[\"mounts\"]") != 0)
		goto fail;
	snprintf(path, sizeof(path), "arvados/v1/containers/%s", e->uuid);
	if ((rc = api_call(q->api, "GET", path, p, queue_mounts_done, r)) != 0)
		goto fail;
	api_params_free(p);
	e->mounts_busy = true;
	q->mounts_in_flight++;
	return 0;
fail:
	api_params_free(p);
	queue_req_free(r);
	return rc;
}

static void
queue_mounts_timer_cb(uv_timer_t *t)
{
	queue_mounts_kick(t->data);
}

void
queue_mounts_kick(struct queue *q)
{
	uint64_t now = queue_mono_ms();

	if (q->closing)
		return;
	if (q->mq_head != NULL && now < q->mounts_hold_until) {
		if (!uv_is_active((uv_handle_t *)&q->mounts_timer))
			uv_timer_start(&q->mounts_timer, queue_mounts_timer_cb,
				       q->mounts_hold_until - now, 0);
		return;
	}
	while (q->mq_head != NULL && q->mounts_in_flight < q->mounts_concurrency) {
		struct queue_ent *e = q->mq_head;

		queue_mounts_unlink(q, e);
		if (queue_mounts_fetch(q, e) != 0) {
			/* could not even start (out of memory): try again shortly */
			queue_mounts_enqueue(q, e);
			q->mounts_hold_until = now + QUEUE_MOUNTS_BACKOFF_MIN_MS;
			uv_timer_start(&q->mounts_timer, queue_mounts_timer_cb,
				       QUEUE_MOUNTS_BACKOFF_MIN_MS, 0);
			return;
		}
	}
}
