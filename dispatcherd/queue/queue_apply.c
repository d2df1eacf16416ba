/* queue_apply.c - applying records to the mirror (spec 2.4, 2.5): one list item at a time, as
 * pages arrive, so that a poll of 100,000 containers never holds more than one page of JSON.
 * An unchanged record costs a hash lookup and a hash of three small subtrees; the instance
 * type choice is only recomputed when the fields it depends on change. */
#include "queue_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "rfc3339.h"

#define QUEUE_ERR_DECODE "error decoding container record: "
#define QUEUE_ERR_MOUNTS "error getting mounts from container record: "

/* created_at never changes: parsed once, when the entry does not have it yet (0 while it did
 * not parse; the management API then shows Go's zero time). */
static void
queue_apply_created_at(struct queue_ent *e, const cJSON *item)
{
	int64_t ns;
	int32_t off;

	if (e->created_at_ns == 0 &&
	    rfc3339_parse(
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "created_at")), &ns,
		    &off) == 0) {
		e->created_at_ns = ns;
		e->created_at_off = (int16_t)(off / 60);
	}
}

static void
queue_apply_unusable(struct queue *q, struct queue_ent *e, const char *prefix, const char *err)
{
	char buf[ITYPES_ERR_MAX + 64];

	snprintf(buf, sizeof(buf), "%s%s", prefix, err);
	if (e->fit != QFIT_NONE || e->fit_error == NULL || strcmp(e->fit_error, buf) != 0)
		log_kv_err(LOG_LVL_WARN, "container record cannot be used", buf,
			   LF_STR("ContainerUUID", e->uuid),
			   LF_STR("State", queue_state_name(e->state)));
	queue_ent_set_none(q, e, buf);
	queue_cancel_unsat_maybe(q, e);
}

/* "a, b, c" of the candidate names, for the log. */
static void
queue_apply_names(struct queue *q, const struct itypes_choice *c, char *buf, size_t n)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < c->n && pos + 1 < n; i++) {
		int w = snprintf(buf + pos, n - pos, "%s%s", i ? ", " : "",
				 itypes_choice_type(q->itypes, c, i)->name);

		if (w < 0)
			break;
		pos += (size_t)w;
	}
	if (pos >= n && n > 4)
		memcpy(buf + n - 4, "...", 4);
}

static void
queue_apply_chosen(struct queue *q, struct queue_ent *e, struct itypes_choice *c, bool first)
{
	char names[512];

	if (first && log_enabled(LOG_LVL_INFO))
		queue_apply_names(q, c, names, sizeof(names)); /* before c is shared and freed */
	if (queue_choice_set(&q->choices, e, c) != 0) {
		e->spec_hash = 0; /* out of memory: the next poll tries again */
		return;
	}
	if (e->fit == QFIT_NONE && q->unsatisfiable > 0)
		q->unsatisfiable--;
	e->fit = QFIT_OK;
	free(e->fit_error);
	e->fit_error = NULL;
	e->cancel_tries = 0;
	if (first && log_enabled(LOG_LVL_INFO)) {
		log_kv(LOG_LVL_INFO, "adding container to queue", LF_STR("ContainerUUID", e->uuid),
		       LF_STR("State", queue_state_name(e->state)), LF_INT("Priority", e->priority),
		       LF_STR("InstanceTypes", names));
	}
}

static void
queue_apply_choose_from(struct queue *q, struct queue_ent *e, struct ctres *r, bool first)
{
	struct itypes_choice c = { 0 };
	char err[ITYPES_ERR_MAX];
	int rc;

	r->tmp_capacity = e->tmp_capacity;
	r->tmp_overflow = e->tmp_overflow;
	rc = itypes_choose(q->itypes, r, &c, err, sizeof(err));
	if (rc == 0) {
		queue_apply_chosen(q, e, &c, first);
		return;
	}
	if (rc < 0) {
		/* out of memory: leave it pending, the next poll tries again */
		e->spec_hash = 0;
		return;
	}
	if (e->fit != QFIT_NONE || e->fit_error == NULL || strcmp(e->fit_error, err) != 0) {
		if (e->state == QST_QUEUED || e->state == QST_LOCKED)
			log_kv_err(LOG_LVL_WARN, "cancel container with no suitable instance type",
				   err, LF_STR("ContainerUUID", e->uuid));
		else
			log_kv_err(LOG_LVL_WARN,
				   "no instance type fits container; keeping it without "
				   "candidates",
				   err, LF_STR("ContainerUUID", e->uuid),
				   LF_STR("State", queue_state_name(e->state)));
	}
	queue_ent_set_none(q, e, err);
	queue_cancel_unsat_maybe(q, e);
}

void
queue_apply_choose(struct queue *q, struct queue_ent *e)
{
	struct ctres r;

	if (e->pending == NULL)
		return;
	r = *queue_spec_get(e->pending);
	queue_apply_choose_from(q, e, &r, true);
	if (e->fit != QFIT_PENDING) {
		free(e->pending);
		e->pending = NULL;
	}
}

void
queue_apply_mounts(struct queue *q, struct queue_ent *e, const cJSON *body)
{
	struct ctres r;
	char err[ITYPES_ERR_MAX];

	if (e->pending == NULL)
		return;
	r = *queue_spec_get(e->pending);
	if (ctres_parse_mounts(cJSON_GetObjectItemCaseSensitive(body, "mounts"), &r, err,
			       sizeof(err)) != 0) {
		queue_apply_unusable(q, e, QUEUE_ERR_MOUNTS, err);
		return;
	}
	e->tmp_capacity = r.tmp_capacity;
	e->tmp_overflow = r.tmp_overflow;
	e->mounts_known = true;
	queue_apply_choose(q, e);
}

/* The requirements changed (or are new): parse them; choose now if the mounts are known,
 * else keep them until the mounts fetch returns. */
static int
queue_apply_spec(struct queue *q, struct queue_ent *e, const cJSON *item)
{
	struct ctres r;
	char err[ITYPES_ERR_MAX];
	int rc = ctres_parse(item, &r, err, sizeof(err));

	if (rc < 0)
		return rc;
	if (rc == CTRES_EMOUNTS) {
		queue_apply_unusable(q, e, QUEUE_ERR_MOUNTS, err);
		return 0;
	}
	if (rc != 0) {
		queue_apply_unusable(q, e, QUEUE_ERR_DECODE, err);
		return 0;
	}
	if (e->mounts_known) {
		queue_apply_choose_from(q, e, &r, e->fit == QFIT_PENDING);
	} else {
		void *saved = queue_spec_save(&r);

		if (saved == NULL) {
			ctres_release(&r);
			return -ENOMEM;
		}
		free(e->pending);
		e->pending = saved;
		if (e->fit == QFIT_NONE && q->unsatisfiable > 0)
			q->unsatisfiable--;
		e->fit = QFIT_PENDING;
		queue_mounts_enqueue(q, e);
	}
	ctres_release(&r);
	return 0;
}

/* lock_count, when the record has it (the list select asks for it only with the spot
 * fallback). */
static void
queue_apply_lock_count(struct queue_ent *e, const cJSON *item)
{
	int64_t n;

	if (api_json_get_int64(item, "lock_count", &n) == 0)
		e->lock_count = n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* state, priority, supervisor; false when the record does not say what it must. */
static bool
queue_apply_fields(struct queue_ent *e, const cJSON *item, const char **why)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(item, "state");
	const cJSON *sp = cJSON_GetObjectItemCaseSensitive(item, "scheduling_parameters");
	const cJSON *sup = cJSON_IsObject(sp) ? cJSON_GetObjectItemCaseSensitive(sp, "supervisor")
					      : NULL;
	enum queue_state s = queue_state_parse(cJSON_GetStringValue(st));
	int64_t prio = 0;
	int rc = api_json_get_int64(item, "priority", &prio);

	if (s == QST_UNKNOWN) {
		*why = "json: state is not one of Queued, Locked, Running, Complete, Cancelled";
		return false;
	}
	e->state = s;
	if (rc != 0 && rc != -ENOENT) {
		*why = "json: cannot unmarshal priority into Go struct field Container.priority "
		       "of type int64";
		return false;
	}
	if (e->priority != prio)
		e->priority = prio;
	e->supervisor = cJSON_IsTrue(sup);
	queue_apply_lock_count(e, item);
	queue_apply_created_at(e, item);
	return true;
}

struct queue_ent *
queue_ent_detached_new(const cJSON *record, bool locked_by_me)
{
	const char *uuid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(record, "uuid"));
	const char *why = NULL;
	struct queue_ent *e;

	if (uuid == NULL || uuid[0] == '\0' || strlen(uuid) >= QUEUE_UUID_MAX ||
	    (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->uuid, sizeof(e->uuid), "%s", uuid);
	e->choice = &queue_no_choice;
	e->first_seen_ms = queue_wall_ms();
	e->locked_by_me = locked_by_me;
	if (!queue_apply_fields(e, record, &why) || queue_rec_update(NULL, e, record) != 0) {
		free(e);
		return NULL;
	}
	return e;
}

void
queue_ent_detached_free(struct queue_ent *e)
{
	if (e != NULL)
		queue_ent_free(e);
}

int
queue_apply_item(struct queue *q, const cJSON *item, enum queue_src src)
{
	const char *uuid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "uuid"));
	const char *why = NULL;
	struct queue_ent *e;
	int64_t old_prio;
	uint64_t h;

	if (uuid == NULL || uuid[0] == '\0' || strlen(uuid) >= QUEUE_UUID_MAX) {
		queue_cond_fail(&q->record_err, -EBADMSG, LOG_LVL_WARN,
				"skipping a container record without a usable uuid", "bad uuid",
				NULL);
		return 0;
	}
	e = queue_get(q, uuid);
	if (e != NULL && e->dno) {
		e->seen_gen = q->poll.gen; /* changed locally during this poll: keep ours */
		return 0;
	}
	if (e == NULL && (e = queue_ent_new(q, uuid)) == NULL)
		return -ENOMEM;
	e->seen_gen = q->poll.gen;
	old_prio = e->priority;
	e->locked_by_me = src == QSRC_MINE;
	if (!queue_apply_fields(e, item, &why)) {
		e->spec_hash = 0;
		queue_apply_unusable(q, e, QUEUE_ERR_DECODE, why);
		return 0;
	}
	if (old_prio != e->priority)
		queue_view_moved(q, e);
	h = queue_spec_hash(item);
	if ((h != e->spec_hash || e->rec == NULL) && queue_rec_update(&q->recs, e, item) != 0)
		return -ENOMEM;
	if (h != e->spec_hash || (e->fit == QFIT_PENDING && e->pending == NULL)) {
		e->spec_hash = h;
		return queue_apply_spec(q, e, item);
	}
	if (e->fit == QFIT_NONE)
		queue_cancel_unsat_maybe(q, e);
	return 0;
}

void
queue_apply_op_response(struct queue *q, struct queue_ent *e, const cJSON *body)
{
	const cJSON *lb = cJSON_GetObjectItemCaseSensitive(body, "locked_by_uuid");
	enum queue_state s = queue_state_parse(
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(body, "state")));
	int64_t prio;

	if (s != QST_UNKNOWN)
		e->state = s;
	if (api_json_get_int64(body, "priority", &prio) == 0 && prio != e->priority) {
		e->priority = prio;
		queue_view_moved(q, e);
	}
	if (cJSON_IsNull(lb) || lb == NULL)
		e->locked_by_me = false;
	else if (cJSON_IsString(lb))
		e->locked_by_me = q->identity != NULL && strcmp(lb->valuestring, q->identity) == 0;
	if (q->poll.step != QSTEP_IDLE)
		e->dno = true;
	queue_changed(q);
}
