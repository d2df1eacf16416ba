/* queue_dump.c - the mirrored queue as JSON, in view order (tests; the management API can
 * build on it). Priorities stay exact int64 (api_json). */
#include "queue_internal.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const queue_dump_fit[] = { "pending", "ok", "none" };

/* As raw text: cJSON prints integers of 1e15 and more as doubles. */
static void
queue_dump_int(cJSON *o, const char *name, int64_t v)
{
	char t[24];

	snprintf(t, sizeof(t), "%lld", (long long)v);
	cJSON_AddRawToObject(o, name, t);
}

static cJSON *
queue_dump_ent(struct queue *q, const struct queue_ent *e)
{
	cJSON *o = cJSON_CreateObject(), *types;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "uuid", e->uuid);
	cJSON_AddStringToObject(o, "state", queue_state_name(e->state));
	queue_dump_int(o, "priority", e->priority);
	cJSON_AddStringToObject(o, "fit", queue_dump_fit[e->fit]);
	cJSON_AddBoolToObject(o, "locked_by_me", e->locked_by_me);
	cJSON_AddBoolToObject(o, "supervisor", e->supervisor);
	cJSON_AddBoolToObject(o, "op_in_flight", e->op != QOP_NONE);
	cJSON_AddNumberToObject(o, "first_seen_ms", (double)e->first_seen_ms);
	cJSON_AddNumberToObject(o, "created_at_ms", (double)(e->created_at_ns / 1000000));
	cJSON_AddNumberToObject(o, "cancel_tries", e->cancel_tries);
	cJSON_AddNumberToObject(o, "lock_count", e->lock_count);
	if (e->fit_error != NULL)
		cJSON_AddStringToObject(o, "fit_error", e->fit_error);
	types = cJSON_AddArrayToObject(o, "instance_types");
	for (uint32_t i = 0; e->fit == QFIT_OK && types != NULL && i < e->choice->n; i++)
		cJSON_AddItemToArray(
			types,
			cJSON_CreateString(itypes_choice_type(q->itypes, e->choice, i)->name));
	if (e->fit == QFIT_OK) {
		cJSON *need = cJSON_AddObjectToObject(o, "need");

		queue_dump_int(need, "vcpus", e->choice->need.vcpus);
		queue_dump_int(need, "ram", e->choice->need.ram);
		queue_dump_int(need, "scratch", e->choice->need.scratch);
	}
	return o;
}

char *
queue_dump_json(struct queue *q)
{
	struct queue_stats s;
	struct queue_ent *const *v;
	size_t n;
	cJSON *root = cJSON_CreateObject(), *arr;
	char *out = NULL;

	if (root == NULL)
		return NULL;
	queue_stats(q, &s);
	v = queue_view(q, &n);
	if (q->identity != NULL)
		cJSON_AddStringToObject(root, "identity", q->identity);
	cJSON_AddNumberToObject(root, "polls_ok", (double)s.polls_ok);
	cJSON_AddNumberToObject(root, "polls_failed", (double)s.polls_failed);
	cJSON_AddNumberToObject(root, "threshold_ms", (double)s.last_poll_ms);
	cJSON_AddNumberToObject(root, "last_poll_duration_ms", (double)s.last_poll_duration_ms);
	cJSON_AddNumberToObject(root, "last_poll_requests", (double)s.last_poll_requests);
	cJSON_AddNumberToObject(root, "pending_mounts", (double)s.pending_mounts);
	cJSON_AddNumberToObject(root, "mounts_in_flight", (double)s.mounts_in_flight);
	cJSON_AddNumberToObject(root, "unsatisfiable", (double)s.unsatisfiable);
	cJSON_AddNumberToObject(root, "last_503_ms", (double)s.last_503_ms);
	cJSON_AddNumberToObject(root, "count", (double)n);
	arr = cJSON_AddArrayToObject(root, "entries");
	for (size_t i = 0; arr != NULL && v != NULL && i < n; i++)
		cJSON_AddItemToArray(arr, queue_dump_ent(q, v[i]));
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}
