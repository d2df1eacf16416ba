/* queue_cancel.c - "cancel unsatisfiable" (spec 2.6): a Queued or Locked container that no
 * instance type fits, or whose record or mounts cannot be decoded, is locked (if Queued), given
 * runtime_status.error and cancelled. Unlike the reference (weakness 11), a failed attempt is
 * retried with an exponential back-off, not on every poll; and a record that does not parse
 * is cancelled the same way instead of failing every poll (reference issue 21314). The
 * container's operation slot is held for the whole sequence. */
#include "queue_internal.h"

#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "dispatch_gate.h"

#define QUEUE_CANCEL_MAX_SHIFT 6

static uint64_t
queue_cancel_backoff_ms(const struct queue *q, unsigned tries)
{
	uint64_t base = q->poll_interval_ms * 3;

	if (base < 1000)
		base = 1000;
	return base << (tries < QUEUE_CANCEL_MAX_SHIFT ? tries : QUEUE_CANCEL_MAX_SHIFT);
}

static void
queue_cancel_finish(struct queue_req *r, bool ok)
{
	struct queue *q = queue_req_queue(r);
	struct queue_ent *e = q ? queue_get(q, r->uuid) : NULL;

	if (e != NULL && e->op == QOP_CANCEL_UNSAT) {
		e->op = QOP_NONE;
		if (!ok) {
			e->retry_at_ms = queue_mono_ms() +
					 queue_cancel_backoff_ms(q, e->cancel_tries);
			if (e->cancel_tries < 255)
				e->cancel_tries++;
		}
	}
	queue_req_free(r);
}

/* The request's queue and entry, or false (and r finished) when either is gone. */
static bool
queue_cancel_ctx(struct queue_req *r, struct queue **q, struct queue_ent **e)
{
	*q = queue_req_queue(r);
	*e = *q ? queue_get(*q, r->uuid) : NULL;
	if (*e == NULL) {
		queue_cancel_finish(r, false);
		return false;
	}
	return true;
}

static void
queue_cancel_checked(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q;
	struct queue_ent *e;
	const char *st = res->err ? NULL
				  : cJSON_GetStringValue(
					    cJSON_GetObjectItemCaseSensitive(res->body, "state"));

	if (!queue_cancel_ctx(r, &q, &e))
		return;
	if (st != NULL && strcmp(st, "Cancelled") == 0) {
		e->state = QST_CANCELLED; /* lost a race with someone else: fine */
		queue_changed(q);
		queue_cancel_finish(r, true);
		return;
	}
	log_kv_err(LOG_LVL_WARN, "error while trying to cancel unsatisfiable container", r->text,
		   LF_STR("ContainerUUID", r->uuid));
	queue_cancel_finish(r, false);
}

static void
queue_cancel_check(struct queue_req *r, struct queue *q, const char *error)
{
	free(r->text);
	r->text = error ? strdup(error) : NULL;
	if (queue_ops_send(q, r->uuid, QCALL_STATE, NULL, queue_cancel_checked, r) != 0)
		queue_cancel_finish(r, false);
}

/* The answer to the runtime_error or cancel step: true to go on; false when the entry is gone
 * (r finished) or the call failed (the container's state is checked: someone else may have
 * cancelled it). */
static bool
queue_cancel_answer(struct queue_req *r, const struct api_result *res, struct queue **q,
		    struct queue_ent **e)
{
	if (!queue_cancel_ctx(r, q, e))
		return false;
	if (res->err != 0) {
		queue_cancel_check(r, *q, res->error);
		return false;
	}
	return true;
}

static void
queue_cancel_cancelled(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q;
	struct queue_ent *e;

	if (!queue_cancel_answer(r, res, &q, &e))
		return;
	queue_apply_op_response(q, e, res->body);
	log_kv(LOG_LVL_INFO, "cancelled unsatisfiable container", LF_STR("ContainerUUID", r->uuid),
	       LF_STR("Reason", e->fit_error ? e->fit_error : ""));
	queue_cancel_finish(r, true);
}

static void
queue_cancel_errset(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q;
	struct queue_ent *e;

	if (!queue_cancel_answer(r, res, &q, &e))
		return;
	if (queue_ops_send(q, r->uuid, QCALL_CANCEL, NULL, queue_cancel_cancelled, r) != 0)
		queue_cancel_finish(r, false);
}

static void
queue_cancel_set_error(struct queue_req *r, struct queue *q, struct queue_ent *e)
{
	if (queue_ops_send(q, r->uuid, QCALL_RUNTIME_ERROR, e->fit_error, queue_cancel_errset, r) !=
	    0)
		queue_cancel_finish(r, false);
}

static void
queue_cancel_locked(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q;
	struct queue_ent *e;

	if (!queue_cancel_ctx(r, &q, &e))
		return;
	if (res->err != 0) {
		log_kv_err(LOG_LVL_WARN, "lock failed", res->error,
			   LF_STR("ContainerUUID", r->uuid));
		queue_cancel_finish(r, false);
		return;
	}
	queue_apply_op_response(q, e, res->body);
	queue_cancel_set_error(r, q, e);
}

void
queue_cancel_unsat_maybe(struct queue *q, struct queue_ent *e)
{
	struct queue_req *r;
	int rc;

	if (e == NULL || q->closing || !dispatch_gate_open() || e->fit != QFIT_NONE ||
	    e->op != QOP_NONE || e->fit_error == NULL || q->identity == NULL)
		return;
	/* Locked by another dispatcher: not ours to cancel (it could not set runtime_status) */
	if (e->state != QST_QUEUED && !(e->state == QST_LOCKED && e->locked_by_me))
		return;
	if (e->retry_at_ms != 0 && queue_mono_ms() < e->retry_at_ms)
		return;
	if ((r = queue_req_new(q, e->uuid, QOP_CANCEL_UNSAT)) == NULL)
		return;
	e->op = QOP_CANCEL_UNSAT;
	if (e->state == QST_QUEUED)
		rc = queue_ops_send(q, e->uuid, QCALL_LOCK, NULL, queue_cancel_locked, r);
	else
		rc = queue_ops_send(q, e->uuid, QCALL_RUNTIME_ERROR, e->fit_error,
				    queue_cancel_errset, r);
	if (rc != 0)
		queue_cancel_finish(r, false);
}
