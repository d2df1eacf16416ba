/* queue_mounts.c - fetching the mounts of newly seen containers (spec 2.5) in the
 * background: a FIFO of entries, at most mounts_concurrency requests in flight, so that polls,
 * locks and unlocks never wait behind thousands of mounts requests in the API client's queue
 * (weakness 16: the reference holds the queue lock through all of them).
 *
 * Several new containers go in one list request (filters [["uuid","in",[...]]],
 * select ["uuid","mounts"], limit = the batch size, count=none): up to mounts_batch of them
 * (QUEUE_MOUNTS_BATCH). A lone one gets the reference's GET containers/<uuid>
 * select=["mounts"], and so does a container that a complete batch answer left out (the
 * fallback). A page the server cut short (the limit it echoes is below what was asked, 6.1)
 * leaves the rest for the next batch. Each item's mounts are decoded on their own, so an
 * undecodable one makes that container unusable as a GET would, not the batch. Failures
 * pause the fetching with a back-off and are logged once per condition. */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "api_json.h"

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

/* A request failed: back off, log once per condition. */
static void
queue_mounts_failed(struct queue *q, const struct api_result *res, const char *uuid)
{
	uint64_t d = QUEUE_MOUNTS_BACKOFF_MIN_MS
		     << (q->mounts_failures < 6 ? q->mounts_failures : 6);

	q->mounts_failures++;
	q->mounts_hold_until = queue_mono_ms() +
			       (d < QUEUE_MOUNTS_BACKOFF_MAX_MS ? d : QUEUE_MOUNTS_BACKOFF_MAX_MS);
	queue_cond_fail(&q->mounts_err, queue_cond_key(res->err, res->status), LOG_LVL_WARN,
			"error getting mounts", res->error, uuid);
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
		queue_mounts_failed(q, res, r->uuid);
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

/* One batch in flight: the uuids asked for, sorted (bsearch), and which came back. */
struct queue_mbatch {
	struct queue_req *r; /* the queue's life */
	size_t n;
	bool *seen;
	char uuid[][QUEUE_UUID_MAX];
};

static int
queue_mbatch_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
queue_mbatch_free(struct queue_mbatch *b)
{
	if (b != NULL)
		queue_req_free(b->r);
	free(b);
}

/* The batch's entries go back to the FIFO, unless gone or no longer waiting for mounts;
 * those a complete answer left out are marked for a GET of their own. */
static void
queue_mbatch_requeue(struct queue *q, struct queue_mbatch *b, bool single)
{
	for (size_t i = 0; i < b->n; i++) {
		struct queue_ent *e = b->seen[i] ? NULL : queue_get(q, b->uuid[i]);

		if (e == NULL)
			continue;
		e->mounts_busy = false;
		if (e->fit != QFIT_PENDING)
			continue;
		e->mounts_single = single;
		queue_mounts_enqueue(q, e);
	}
}

/* Applies the items of a batch answer; returns how many there were, or -1 if no array. */
static int
queue_mbatch_apply(struct queue *q, struct queue_mbatch *b, const cJSON *body)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(body, "items"), *it;
	int n = 0;

	if (!cJSON_IsArray(items))
		return -1;
	cJSON_ArrayForEach(it, items)
	{
		const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "uuid"));
		char key[QUEUE_UUID_MAX];
		char(*hit)[QUEUE_UUID_MAX];
		struct queue_ent *e;

		n++;
		if (u == NULL || strlen(u) >= sizeof(key))
			continue;
		snprintf(key, sizeof(key), "%s", u);
		hit = bsearch(key, b->uuid, b->n, sizeof(b->uuid[0]), queue_mbatch_cmp);
		if (hit == NULL || b->seen[hit - b->uuid])
			continue; /* not asked for, or twice: ignored */
		b->seen[hit - b->uuid] = true;
		if ((e = queue_get(q, u)) == NULL)
			continue;
		e->mounts_busy = false;
		if (e->fit == QFIT_PENDING) {
			queue_apply_mounts(q, e, it);
			queue_changed(q);
		}
	}
	return n;
}

static void
queue_mbatch_done(void *arg, struct api_result *res)
{
	struct queue_mbatch *b = arg;
	struct queue *q = queue_req_queue(b->r);
	int64_t limit = 0;
	int n;

	if (q == NULL)
		goto out;
	q->mounts_in_flight--;
	if (res->err == 0 && (n = queue_mbatch_apply(q, b, res->body)) < 0) {
		res->err = -EBADMSG;
		res->error = "container list response has no items array";
	}
	if (res->err != 0) {
		queue_mounts_failed(q, res, NULL);
		queue_mbatch_requeue(q, b, false); /* retried after the back-off */
	} else {
		q->mounts_failures = 0;
		queue_cond_ok(&q->mounts_err, "getting mounts works again");
		api_json_get_int64(res->body, "limit", &limit);
		/* a page cut short (n reached the echoed limit): the rest in another batch;
		 * else what is missing was left out: one GET each */
		queue_mbatch_requeue(q, b, !(limit > 0 && n >= limit && (size_t)n < b->n));
	}
	queue_mounts_kick(q);
out:
	queue_mbatch_free(b);
}

/* One list request for the n entries of ents (already out of the FIFO). */
static int
queue_mbatch_fetch(struct queue *q, struct queue_ent **ents, size_t n)
{
	struct queue_mbatch *b = calloc(1, sizeof(*b) + n * (sizeof(b->uuid[0]) + sizeof(bool)));
	struct api_params *p = api_params_new();
	cJSON *f = cJSON_CreateArray(), *in = cJSON_CreateArray(), *set = cJSON_CreateArray();
	cJSON *list = set;
	int rc = -ENOMEM;

	if (b == NULL || p == NULL || f == NULL || in == NULL || set == NULL)
		goto out;
	b->n = n;
	b->seen = (bool *)&b->uuid[n];
	cJSON_AddItemToArray(f, in);
	cJSON_AddItemToArray(in, cJSON_CreateString("uuid"));
	cJSON_AddItemToArray(in, cJSON_CreateString("in"));
	cJSON_AddItemToArray(in, set);
	in = set = NULL;
	for (size_t i = 0; i < n; i++) {
		memcpy(b->uuid[i], ents[i]->uuid, QUEUE_UUID_MAX);
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(ents[i]->uuid)))
			goto out;
	}
	qsort(b->uuid, n, sizeof(b->uuid[0]), queue_mbatch_cmp);
	if ((b->r = queue_req_new(q, NULL, QOP_NONE)) == NULL ||
	    api_params_add_str(p, "count", "none") != 0 ||
	    api_params_add_json(p, "filters", f) != 0 || api_params_add_int(p, "limit", n) != 0 ||
	    api_params_add_str(p, "select", "[\"uuid\",\"mounts\"]") != 0)
		goto out;
	if ((rc = api_list(q->api, "arvados/v1/containers", p, queue_mbatch_done, b)) != 0)
		goto out;
	b = NULL;
	for (size_t i = 0; i < n; i++)
		ents[i]->mounts_busy = true;
	q->mounts_in_flight++;
out:
	queue_mbatch_free(b);
	cJSON_Delete(f);
	cJSON_Delete(in);
	cJSON_Delete(set);
	api_params_free(p);
	return rc;
}

/* Takes the next request's entries out of the FIFO and sends it. */
static int
queue_mounts_next(struct queue *q)
{
	struct queue_ent *e = q->mq_head, *stack[64], **ents = stack;
	size_t n = 0, max = q->mounts_batch;
	int rc;

	if (e->mounts_single || max <= 1 || q->mq_len == 1) {
		queue_mounts_unlink(q, e);
		if ((rc = queue_mounts_fetch(q, e)) != 0)
			queue_mounts_enqueue(q, e);
		return rc;
	}
	if (max > q->mq_len)
		max = q->mq_len;
	if (max > 64 && (ents = malloc(max * sizeof(*ents))) == NULL)
		return -ENOMEM;
	for (struct queue_ent *next; e != NULL && n < max; e = next) {
		next = e->mq_next;
		if (e->mounts_single)
			continue; /* its GET when it reaches the head */
		queue_mounts_unlink(q, e);
		ents[n++] = e;
	}
	rc = n == 1 ? queue_mounts_fetch(q, ents[0]) : queue_mbatch_fetch(q, ents, n);
	if (rc != 0)
		for (size_t i = 0; i < n; i++)
			queue_mounts_enqueue(q, ents[i]);
	if (ents != stack)
		free(ents);
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
		if (queue_mounts_next(q) != 0) {
			/* could not even start (out of memory): try again shortly */
			q->mounts_hold_until = now + QUEUE_MOUNTS_BACKOFF_MIN_MS;
			uv_timer_start(&q->mounts_timer, queue_mounts_timer_cb,
				       QUEUE_MOUNTS_BACKOFF_MIN_MS, 0);
			return;
		}
	}
}
