/* queue_ops.c - lock, unlock, cancel and set-runtime-error (spec 2.6), one operation in flight
 * per container (4.5): a second request while one runs gets -EBUSY at once. */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_client.h"
#include "dispatch_gate.h"

static const char *const queue_ops_names[] = {
	[QOP_NONE] = "",
	[QOP_LOCK] = "lock",
	[QOP_UNLOCK] = "unlock",
	[QOP_CANCEL] = "cancel",
	[QOP_RUNTIME_ERROR] = "set runtime error",
	[QOP_CANCEL_UNSAT] = "cancel unsatisfiable",
};

/* container={"state":"Cancelled"} or container={"runtime_status":{"error":text}}. */
static int
queue_ops_container_param(struct api_params *p, enum queue_call call, const char *text)
{
	cJSON *c = cJSON_CreateObject(), *rs;
	int rc = -ENOMEM;

	if (c == NULL)
		return -ENOMEM;
	if (call == QCALL_CANCEL) {
		if (cJSON_AddStringToObject(c, "state", "Cancelled") == NULL)
			goto out;
	} else if ((rs = cJSON_AddObjectToObject(c, "runtime_status")) == NULL ||
		   cJSON_AddStringToObject(rs, "error", text ? text : "") == NULL) {
		goto out;
	}
	rc = api_params_add_json(p, "container", c);
out:
	cJSON_Delete(c);
	return rc;
}

int
queue_ops_send(struct queue *q, const char *uuid, enum queue_call call, const char *text, api_cb cb,
	       void *arg)
{
	struct api_params *p = api_params_new();
	char path[64 + QUEUE_UUID_MAX];
	const char *method = "PUT";
	int rc = -ENOMEM;

	if (p == NULL)
		return -ENOMEM;
	snprintf(path, sizeof(path), "arvados/v1/containers/%s%s", uuid,
		 call == QCALL_LOCK	? "/lock"
		 : call == QCALL_UNLOCK ? "/unlock"
					: "");
	switch (call) {
	case QCALL_LOCK:
	case QCALL_UNLOCK:
		method = "POST";
		break;
	case QCALL_CANCEL:
		if (queue_ops_container_param(p, call, NULL) != 0)
			goto out;
		break;
	case QCALL_RUNTIME_ERROR:
		/* the caller ignores the body: the reference client then asks for uuid only */
		if (queue_ops_container_param(p, call, text) != 0 ||
		    api_params_add_str(p, "select", "[\"uuid\"]") != 0)
			goto out;
		break;
	case QCALL_STATE:
		method = "GET";
		if (api_params_add_str(p, "select", "[\"state\"]") != 0)
			goto out;
		break;
	}
	rc = api_call(q->api, method, path, p, cb, arg);
out:
	api_params_free(p);
	return rc;
}

static void
queue_ops_done(void *arg, struct api_result *res)
{
	struct queue_req *r = arg;
	struct queue *q = queue_req_queue(r);
	struct queue_ent *e = q ? queue_get(q, r->uuid) : NULL;

	if (e != NULL && e->op == r->op)
		e->op = QOP_NONE;
	/* The API server's lock adds one to lock_count, but its answer selects only uuid,
	 * state, priority, auth_uuid and locked_by_uuid: count it here until the next poll
	 * brings the record (the spot fallback's attempts, sched_driver_input.c). */
	if (q != NULL && res->err == 0 && r->op == QOP_LOCK && e != NULL)
		e->lock_count++;
	if (q != NULL && res->err == 0 && r->op != QOP_RUNTIME_ERROR && e != NULL)
		queue_apply_op_response(q, e, res->body);
	if (q != NULL && res->err != 0)
		log_kv_err(LOG_LVL_DEBUG, "container operation failed", res->error,
			   LF_STR("ContainerUUID", r->uuid), LF_STR("Op", queue_ops_names[r->op]));
	if (q != NULL)
		queue_cancel_unsat_maybe(q, e);
	if (r->cb != NULL)
		r->cb(r->arg, r->uuid, q == NULL && res->err == 0 ? -ECANCELED : res->err,
		      res->error);
	queue_req_free(r);
}

static int
queue_ops_start(struct queue *q, const char *uuid, enum queue_op op, enum queue_call call,
		const char *text, queue_op_cb cb, void *arg)
{
	struct queue_ent *e;
	struct queue_req *r;
	int rc;

	if (q->closing)
		return -ECANCELED;
	if (!dispatch_gate_open())
		return -EAGAIN; /* standby (issue 15) */
	if ((e = queue_get(q, uuid)) == NULL)
		return -ENOENT;
	if (e->op != QOP_NONE) {
		log_kv(LOG_LVL_DEBUG, "uuidLock not available", LF_STR("ContainerUUID", uuid),
		       LF_STR("Op", queue_ops_names[e->op]));
		return -EBUSY;
	}
	if ((r = queue_req_new(q, uuid, op)) == NULL)
		return -ENOMEM;
	r->cb = cb;
	r->arg = arg;
	if ((rc = queue_ops_send(q, uuid, call, text, queue_ops_done, r)) != 0) {
		queue_req_free(r);
		return rc;
	}
	e->op = op;
	return 0;
}

int
queue_lock(struct queue *q, const char *uuid, queue_op_cb cb, void *arg)
{
	return queue_ops_start(q, uuid, QOP_LOCK, QCALL_LOCK, NULL, cb, arg);
}

int
queue_unlock(struct queue *q, const char *uuid, queue_op_cb cb, void *arg)
{
	return queue_ops_start(q, uuid, QOP_UNLOCK, QCALL_UNLOCK, NULL, cb, arg);
}

int
queue_cancel(struct queue *q, const char *uuid, queue_op_cb cb, void *arg)
{
	return queue_ops_start(q, uuid, QOP_CANCEL, QCALL_CANCEL, NULL, cb, arg);
}

int
queue_set_runtime_error(struct queue *q, const char *uuid, const char *text, queue_op_cb cb,
			void *arg)
{
	return queue_ops_start(q, uuid, QOP_RUNTIME_ERROR, QCALL_RUNTIME_ERROR, text, cb, arg);
}
