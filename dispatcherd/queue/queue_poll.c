/* queue_poll.c - one poll of the API server (spec 2.1, 2.3, 2.4, 2.7), as a chain of
 * asynchronous list calls:
 *
 *   identity  GET api_client_authorizations/current, until it succeeds once;
 *   mine      filters [["locked_by_uuid","=",A]], order=uuid, uuid paging;
 *   available filters [["state","=","Queued"],["priority",">","0"]], order=uuid, uuid paging,
 *             to the end (weakness 14: the reference pages by offset under "priority desc"
 *             and stops after ~100; see docs/QUEUE.md for why uuid keyset paging);
 *   missing   cached non-final entries seen by neither, re-fetched with ["uuid","in",[...]].
 *
 * Each page is applied as it arrives (queue_apply.c). Removal of entries no list returned,
 * and the threshold T, happen only when every step succeeded. A page shorter than the limit
 * the server echoes ends a list, which saves the reference's extra empty-page request.
 */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "api_identity.h"
#include "api_json.h"

#define QUEUE_SELECT                                                \
	"[\"uuid\",\"state\",\"priority\",\"runtime_constraints\"," \
	"\"container_image\",\"scheduling_parameters\",\"created_at\"]"

static void queue_poll_step(struct queue *q, enum queue_step step);
static void queue_poll_begin(struct queue *q);

static uint64_t
queue_poll_retry_ms(const struct queue *q)
{
	uint64_t d = q->poll_interval_ms / 10;

	return d > 1000 ? d : 1000;
}

static void
queue_poll_timer_cb(uv_timer_t *t)
{
	queue_poll_begin(t->data);
}

void
queue_poll_schedule(struct queue *q, uint64_t delay_ms)
{
	if (!q->closing)
		uv_timer_start(&q->poll_timer, queue_poll_timer_cb, delay_ms, 0);
}

void
queue_poll_now(struct queue *q)
{
	if (q->poll.step != QSTEP_IDLE)
		q->poll.again = true;
	else if (q->started)
		queue_poll_schedule(q, 0);
}

static void
queue_poll_clear(struct queue *q)
{
	free(q->poll.missing);
	free(q->poll.batch_seen);
	q->poll.missing = NULL;
	q->poll.batch_seen = NULL;
	q->poll.n_missing = q->poll.missing_pos = q->poll.batch_len = 0;
	q->poll.step = QSTEP_IDLE;
	for (size_t i = 0; i < q->map.cap; i++)
		if (q->map.slot[i] != NULL)
			q->map.slot[i]->dno = false;
}

void
queue_poll_free(struct queue *q)
{
	free(q->poll.missing);
	free(q->poll.batch_seen);
	q->poll.missing = NULL;
	q->poll.batch_seen = NULL;
}

static void
queue_poll_next(struct queue *q, bool ok)
{
	uint64_t delay;

	if (q->poll_cb != NULL)
		q->poll_cb(q->poll_cb_arg, ok);
	if (q->closing)
		return;
	if (q->poll.again) {
		q->poll.again = false;
		delay = 0;
	} else if (q->polls_ok == 0) {
		delay = queue_poll_retry_ms(q);
	} else {
		/* from the end of this poll (2.7); 0 would spin on a fast server */
		delay = q->poll_interval_ms > 100 ? q->poll_interval_ms : 100;
	}
	queue_poll_schedule(q, delay);
}

static void
queue_poll_fail(struct queue *q, int err, long status, const char *text)
{
	char buf[128];

	q->polls_failed++;
	q->consecutive_failures++;
	if (queue_cond_fail(&q->poll_err, queue_cond_key(err, status), LOG_LVL_ERROR,
			    "error updating queue", text, NULL) &&
	    q->polls_ok == 0) {
		snprintf(buf, sizeof(buf), "waiting %.1fs before retry",
			 (double)queue_poll_retry_ms(q) / 1000.0);
		log_kv(LOG_LVL_INFO, buf, LF_INT("Failures", q->consecutive_failures));
	}
	queue_poll_clear(q);
	queue_poll_next(q, false);
}

/* Drop what no list returned (2.4), then publish: threshold T, on_change wake-up. */
static void
queue_poll_finish(struct queue *q)
{
	struct queue_ent **gone = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < q->map.cap; i++) {
		struct queue_ent *e = q->map.slot[i];

		if (e == NULL || e->seen_gen == q->poll.gen || e->dno)
			continue;
		if (n == cap) {
			struct queue_ent **g = realloc(gone, (cap = cap * 2 + 64) * sizeof(*g));

			if (g == NULL)
				break; /* dropped by a later poll */
			gone = g;
		}
		gone[n++] = e;
	}
	for (size_t i = 0; i < n; i++) {
		log_kv(LOG_LVL_INFO, "dropping container from queue",
		       LF_STR("ContainerUUID", gone[i]->uuid),
		       LF_STR("State", queue_state_name(gone[i]->state)));
		queue_ent_remove(q, gone[i]);
	}
	free(gone);
	q->threshold_ms = q->poll.started_wall_ms;
	q->polls_ok++;
	q->consecutive_failures = 0;
	q->last_poll_duration_ms = queue_mono_ms() - q->poll.started_mono_ms;
	q->last_poll_requests = q->poll.requests;
	queue_cond_ok(&q->poll_err, "queue poll succeeded again");
	queue_poll_clear(q);
	queue_changed(q);
	queue_mounts_kick(q);
	queue_poll_next(q, true);
}

static cJSON *
queue_poll_filters(struct queue *q)
{
	cJSON *f = cJSON_CreateArray(), *t = NULL;
	struct queue_poll *p = &q->poll;

	if (f == NULL)
		return NULL;
	if (p->step == QSTEP_MINE) {
		const char *v[] = { "locked_by_uuid", "=", q->identity };

		cJSON_AddItemToArray(f, cJSON_CreateStringArray(v, 3));
	} else if (p->step == QSTEP_AVAIL) {
		const char *a[] = { "state", "=", "Queued" }, *b[] = { "priority", ">", "0" };

		cJSON_AddItemToArray(f, cJSON_CreateStringArray(a, 3));
		cJSON_AddItemToArray(f, cJSON_CreateStringArray(b, 3));
	} else {
		cJSON *in = cJSON_CreateArray(), *set = cJSON_CreateArray();

		cJSON_AddItemToArray(in, cJSON_CreateString("uuid"));
		cJSON_AddItemToArray(in, cJSON_CreateString("in"));
		for (size_t i = 0; i < p->batch_len; i++)
			cJSON_AddItemToArray(set,
					     cJSON_CreateString(p->missing[p->missing_pos + i]));
		cJSON_AddItemToArray(in, set);
		cJSON_AddItemToArray(f, in);
	}
	if (p->after[0] != '\0') {
		const char *c[] = { "uuid", ">", p->after };

		cJSON_AddItemToArray(f, t = cJSON_CreateStringArray(c, 3));
		if (t == NULL) {
			cJSON_Delete(f);
			return NULL;
		}
	}
	return f;
}

static void queue_poll_page(void *arg, struct api_result *res);

static int
queue_poll_request(struct queue *q)
{
	struct api_params *p = api_params_new();
	cJSON *f = queue_poll_filters(q);
	struct queue_req *r = queue_req_new(q, NULL, QOP_NONE);
	int rc = -ENOMEM;

	if (p == NULL || f == NULL || r == NULL || api_params_add_str(p, "count", "none") != 0 ||
	    api_params_add_json(p, "filters", f) != 0 ||
	    (q->poll.step != QSTEP_MISSING && api_params_add_int(p, "limit", q->list_limit) != 0) ||
	    api_params_add_str(p, "order", "uuid") != 0 ||
	    api_params_add_str(p, "select", QUEUE_SELECT) != 0)
		goto out;
	rc = api_list(q->api, "arvados/v1/containers", p, queue_poll_page, r);
	if (rc == 0) {
		q->poll.requests++;
		r = NULL;
	}
out:
	queue_req_free(r);
	cJSON_Delete(f);
	api_params_free(p);
	return rc;
}

/* Step C's check: every returned uuid must be one we asked for. */
static bool
queue_poll_in_batch(struct queue *q, const char *uuid)
{
	for (size_t i = 0; i < q->poll.batch_len; i++)
		if (strcmp(q->poll.missing[q->poll.missing_pos + i], uuid) == 0) {
			q->poll.batch_seen[i] = true;
			return true;
		}
	return false;
}

static void
queue_poll_batch_done(struct queue *q)
{
	struct queue_poll *p = &q->poll;

	for (size_t i = 0; i < p->batch_len; i++) {
		struct queue_ent *e = p->batch_seen[i]
					      ? NULL
					      : queue_get(q, p->missing[p->missing_pos + i]);

		if (e != NULL && !e->dno) {
			log_kv(LOG_LVL_WARN, "container not found by controller (deleted?)",
			       LF_STR("ContainerUUID", e->uuid));
			queue_ent_remove(q, e);
			queue_changed(q);
		}
	}
	p->missing_pos += p->batch_len;
}

static int
queue_poll_apply_page(struct queue *q, const cJSON *items, const char **last)
{
	static const enum queue_src src[] = {
		[QSTEP_MINE] = QSRC_MINE, [QSTEP_AVAIL] = QSRC_AVAIL, [QSTEP_MISSING] = QSRC_MISSING
	};
	const cJSON *it;
	int rc;

	cJSON_ArrayForEach(it, items)
	{
		const char *u = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "uuid"));

		if (q->poll.step == QSTEP_MISSING && u != NULL && !queue_poll_in_batch(q, u)) {
			log_kv(LOG_LVL_ERROR,
			       "BUG? server response did not match requested filters, "
			       "erroring out rather than risk deadlock",
			       LF_STR("ContainerUUID", u));
			return -EPROTO;
		}
		if ((rc = queue_apply_item(q, it, src[q->poll.step])) != 0)
			return rc;
		if (u != NULL)
			*last = u;
	}
	return 0;
}

static void
queue_poll_page(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q = queue_req_queue(r);
	const cJSON *items;
	const char *last = NULL;
	int64_t limit = 0;
	int n, rc;

	queue_req_free(r);
	if (q == NULL || q->poll.step == QSTEP_IDLE)
		return;
	if (res->err != 0) {
		queue_poll_fail(q, res->err, res->status, res->error);
		return;
	}
	items = cJSON_GetObjectItemCaseSensitive(res->body, "items");
	if (!cJSON_IsArray(items)) {
		queue_poll_fail(q, -EBADMSG, 0, "container list response has no items array");
		return;
	}
	if ((rc = queue_poll_apply_page(q, items, &last)) != 0) {
		queue_poll_fail(
			q, rc, 0,
			rc == -EPROTO ? "BUG? server response did not match "
					"requested filters, erroring out rather than risk deadlock"
				      : "out of memory applying a container list page");
		return;
	}
	queue_mounts_kick(q);
	n = cJSON_GetArraySize(items);
	api_json_get_int64(res->body, "limit", &limit);
	if (n > 0 && last != NULL && (limit <= 0 || n >= limit)) {
		if (strcmp(last, q->poll.after) <= 0) {
			queue_poll_fail(q, -EPROTO, 0,
					"container list paging did not advance "
					"(server ignored the uuid filter?)");
			return;
		}
		snprintf(q->poll.after, sizeof(q->poll.after), "%s", last);
		if ((rc = queue_poll_request(q)) != 0)
			queue_poll_fail(q, rc, 0, "cannot start a container list request");
		return;
	}
	if (q->poll.step == QSTEP_MISSING)
		queue_poll_batch_done(q);
	queue_poll_step(q, q->poll.step == QSTEP_MISSING ? QSTEP_MISSING : q->poll.step + 1);
}

/* Step C's work list: cached, non-final, not marked, seen by neither list. */
static int
queue_poll_collect_missing(struct queue *q)
{
	struct queue_poll *p = &q->poll;
	size_t n = 0;

	for (size_t i = 0; i < q->map.cap; i++) {
		struct queue_ent *e = q->map.slot[i];

		n += e != NULL && e->seen_gen != p->gen && !e->dno && e->state != QST_COMPLETE &&
		     e->state != QST_CANCELLED;
	}
	p->n_missing = p->missing_pos = 0;
	if (n == 0)
		return 0;
	if ((p->missing = malloc(n * sizeof(*p->missing))) == NULL ||
	    (p->batch_seen = calloc(QUEUE_MISSING_BATCH, sizeof(bool))) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < q->map.cap; i++) {
		struct queue_ent *e = q->map.slot[i];

		if (e != NULL && e->seen_gen != p->gen && !e->dno && e->state != QST_COMPLETE &&
		    e->state != QST_CANCELLED)
			memcpy(p->missing[p->n_missing++], e->uuid, QUEUE_UUID_MAX);
	}
	return 0;
}

static void
queue_poll_step(struct queue *q, enum queue_step step)
{
	struct queue_poll *p = &q->poll;
	int rc;

	if (step == QSTEP_MISSING && p->step != QSTEP_MISSING &&
	    (rc = queue_poll_collect_missing(q)) != 0) {
		queue_poll_fail(q, rc, 0, "out of memory");
		return;
	}
	p->step = step;
	p->after[0] = '\0';
	if (step == QSTEP_MISSING) {
		if (p->missing_pos >= p->n_missing) {
			queue_poll_finish(q);
			return;
		}
		p->batch_len = p->n_missing - p->missing_pos;
		if (p->batch_len > QUEUE_MISSING_BATCH)
			p->batch_len = QUEUE_MISSING_BATCH;
		memset(p->batch_seen, 0, QUEUE_MISSING_BATCH * sizeof(bool));
	}
	if ((rc = queue_poll_request(q)) != 0)
		queue_poll_fail(q, rc, 0, "cannot start a container list request");
}

static void
queue_poll_identity_done(void *arg, int err, const char *uuid, const char *error)
{
	struct queue_req *r = arg;
	struct queue *q = queue_req_queue(r);

	queue_req_free(r);
	if (q == NULL || q->poll.step != QSTEP_IDENTITY)
		return;
	if (err != 0) {
		queue_poll_fail(q, err, 0, error);
		return;
	}
	if ((q->identity = strdup(uuid)) == NULL) {
		queue_poll_fail(q, -ENOMEM, 0, "out of memory");
		return;
	}
	log_kv(LOG_LVL_INFO, "dispatcher token identified", LF_STR("AuthUUID", q->identity));
	queue_poll_step(q, QSTEP_MINE);
}

static void
queue_poll_begin(struct queue *q)
{
	struct queue_poll *p = &q->poll;
	struct queue_req *r;
	int rc;

	if (q->closing || p->step != QSTEP_IDLE)
		return;
	p->gen++;
	p->requests = 0;
	p->again = false;
	p->started_wall_ms = queue_wall_ms();
	p->started_mono_ms = queue_mono_ms();
	for (size_t i = 0; i < q->map.cap; i++)
		if (q->map.slot[i] != NULL)
			q->map.slot[i]->dno = false;
	if (q->identity != NULL) {
		queue_poll_step(q, QSTEP_MINE);
		return;
	}
	p->step = QSTEP_IDENTITY;
	if ((r = queue_req_new(q, NULL, QOP_NONE)) == NULL) {
		queue_poll_fail(q, -ENOMEM, 0, "out of memory");
		return;
	}
	p->requests++;
	if ((rc = api_identity_fetch(q->api, queue_poll_identity_done, r)) != 0) {
		queue_req_free(r);
		queue_poll_fail(q, rc, 0, "cannot start the identity request");
	}
}
