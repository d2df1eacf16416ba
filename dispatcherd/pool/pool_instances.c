/* pool_instances.c - the instance views (5.1), whole or a slice at a time. */
#include "pool_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"

struct pool_view_row {
	const char *id, *type;
	cJSON *obj;
};

static int
pool_row_cmp(const void *a, const void *b)
{
	const struct pool_view_row *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c ? c : strcmp(x->type, y->type);
}

static int
pool_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted running_container_uuids (running and starting); [] when none (design: never null). */
static cJSON *
pool_view_uuids(const struct pool_worker *w)
{
	const char **u = calloc(w->n_run + 1, sizeof(*u));
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; u && i < w->n_run; i++)
		u[i] = w->run[i]->uuid;
	if (u && w->n_run)
		qsort(u, w->n_run, sizeof(*u), pool_str_cmp);
	for (size_t i = 0; u && a && i < w->n_run; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(u[i]));
	free(u);
	return a;
}

static cJSON *
pool_view(const struct pool *p, const struct pool_worker *w, const struct pool_pending *pend)
{
	cJSON *o = cJSON_CreateObject();
	const struct cfg_instance_type *it = w ? pool_itype(p, w)
					       : &p->cl->instance_types[pend->type];
	char busy[48] = "0001-01-01T00:00:00Z";

	if (!o)
		return NULL;
	if (w)
		rfc3339_format(w->busy, 0, busy, sizeof(busy));
	cJSON_AddStringToObject(o, "instance", w ? w->id : "");
	cJSON_AddStringToObject(o, "address", w && w->address ? w->address : "");
	cJSON_AddNumberToObject(o, "price", it ? it->price : 0);
	cJSON_AddStringToObject(o, "arvados_instance_type",
				it ? it->name : (w->type_name ? w->type_name : ""));
	cJSON_AddStringToObject(o, "provider_instance_type", it ? it->provider_type : "");
	cJSON_AddStringToObject(o, "last_container_uuid", w ? w->last_uuid : "");
	cJSON_AddStringToObject(o, "last_busy", busy);
	cJSON_AddItemToObject(o, "running_container_uuids",
			      w ? pool_view_uuids(w) : cJSON_CreateArray());
	cJSON_AddStringToObject(o, "worker_state", pool_state_name(w ? w->state : SCHED_W_BOOTING));
	cJSON_AddStringToObject(o, "idle_behavior", pool_idle_name(w ? w->idle : SCHED_IDLE_RUN));
	/* An addition, only on an instance that got a spot interruption notice (pool_spot.c):
	 * the other views keep exactly the fields of spec 7.2. */
	if (w && w->spot_action) {
		cJSON *n = cJSON_AddObjectToObject(o, "spot_interruption");
		char seen[48];

		rfc3339_format(w->spot_seen, 0, seen, sizeof(seen));
		cJSON_AddStringToObject(n, "action", w->spot_action);
		cJSON_AddStringToObject(n, "time", w->spot_time ? w->spot_time : "");
		cJSON_AddStringToObject(n, "noticed_at", seen);
	}
	return o;
}

cJSON *
pool_instances_json(struct pool *p)
{
	size_t n = p->n_workers + p->n_pending;
	struct pool_view_row *rows = calloc(n + 1, sizeof(*rows));
	cJSON *a = cJSON_CreateArray();
	bool ok = rows && a;

	for (size_t i = 0; ok && i < p->n_workers; i++) {
		struct pool_worker *w = p->workers[i];

		rows[i] = (struct pool_view_row){ w->id, w->type_name ? w->type_name : "",
						  pool_view(p, w, NULL) };
		ok = rows[i].obj != NULL;
	}
	for (size_t i = 0; ok && i < p->n_pending; i++) {
		struct pool_view_row *r = &rows[p->n_workers + i];

		*r = (struct pool_view_row){ "", p->cl->instance_types[p->pending[i].type].name,
					     pool_view(p, NULL, &p->pending[i]) };
		ok = r->obj != NULL;
	}
	if (ok)
		qsort(rows, n, sizeof(*rows), pool_row_cmp);
	for (size_t i = 0; rows && i < n; i++) {
		if (ok)
			cJSON_AddItemToArray(a, rows[i].obj);
		else
			cJSON_Delete(rows[i].obj);
	}
	free(rows);
	if (!ok) {
		cJSON_Delete(a);
		return NULL;
	}
	return a;
}

/*
 * The incremental form: the snapshot is the sorted list of instance IDs and
 * copies of the pending creates, taken in one turn; each view is built in a later turn from
 * the worker as it is then (a worker gone meanwhile is left out). Workers are looked up by
 * ID, never kept by pointer: one may be freed between two turns.
 */
struct pool_snap_row {
	char *id;	  /* NULL: a pending create */
	const char *type; /* sort key, valid during open only */
	struct pool_pending pend;
};

struct pool_snap {
	size_t n;
	struct pool_snap_row rows[];
};

static int
pool_snap_cmp(const void *a, const void *b)
{
	const struct pool_snap_row *x = a, *y = b;
	int c = strcmp(x->id ? x->id : "", y->id ? y->id : "");

	return c ? c : strcmp(x->type, y->type);
}

void
pool_instances_close(struct pool_snap *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		free(s->rows[i].id);
	free(s);
}

int
pool_instances_open(struct pool *p, struct pool_snap **snap, size_t *n)
{
	size_t want = p->n_workers + p->n_pending;
	struct pool_snap *s = malloc(sizeof(*s) + (want + 1) * sizeof(s->rows[0]));

	if (s == NULL)
		return -ENOMEM;
	s->n = 0;
	for (size_t i = 0; i < p->n_workers; i++, s->n++) {
		struct pool_worker *w = p->workers[i];

		s->rows[i] = (struct pool_snap_row){ .id = strdup(w->id),
						     .type = w->type_name ? w->type_name : "" };
		if (s->rows[i].id == NULL) {
			pool_instances_close(s);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < p->n_pending; i++, s->n++)
		s->rows[s->n] = (struct pool_snap_row){
			NULL, p->cl->instance_types[p->pending[i].type].name, p->pending[i]
		};
	qsort(s->rows, s->n, sizeof(s->rows[0]), pool_snap_cmp);
	*snap = s;
	*n = s->n;
	return 0;
}

int
pool_instances_entry(struct pool *p, const struct pool_snap *s, size_t i, cJSON **out)
{
	const struct pool_snap_row *r = &s->rows[i];
	struct pool_worker *w = r->id ? pool_worker_find(p, r->id) : NULL;

	*out = NULL;
	if (r->id != NULL && (w == NULL || w->removed))
		return 0;
	*out = r->id ? pool_view(p, w, NULL) : pool_view(p, NULL, &r->pend);
	return *out ? 0 : -ENOMEM;
}
