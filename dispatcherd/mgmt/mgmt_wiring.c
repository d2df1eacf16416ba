/* mgmt_wiring.c - see mgmt_wiring.h. The queue entry object of spec 7.2: the container
 * object from the queue's compact copy of the selected attributes (queue_rec.c), the
 * instance types as crunch-run receives them (pool_itype_json), first_seen_at and the
 * latest pass's scheduling status. */
#include "mgmt_wiring.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rfc3339.h"

static void
mgmt_wiring_time(cJSON *o, const char *name, int64_t ms)
{
	char buf[RFC3339_MAX];

	rfc3339_format(ms * 1000000, 0, buf, sizeof(buf));
	cJSON_AddStringToObject(o, name, buf);
}

static cJSON *
mgmt_wiring_entry(struct mgmt_wiring *w, const struct queue_ent *e)
{
	char status[SCHED_STATUS_MAX];
	cJSON *o = cJSON_CreateObject(), *c, *res, *types;

	if (o == NULL)
		return NULL;
	if ((c = queue_ent_container_json(e, queue_identity(w->queue))) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddItemToObject(o, "container", c);
	res = cJSON_AddObjectToObject(o, "instance_resources");
	cJSON_AddNumberToObject(res, "VCPUs", (double)e->choice->need.vcpus);
	cJSON_AddNumberToObject(res, "RAM", (double)e->choice->need.ram);
	cJSON_AddNumberToObject(res, "Scratch", (double)e->choice->need.scratch);
	cJSON_AddNumberToObject(res, "GPUs", (double)e->choice->need.gpus);
	cJSON_AddNumberToObject(res, "GPUVRAM", (double)e->choice->need.gpu_vram);
	types = cJSON_AddArrayToObject(o, "instance_types");
	for (uint32_t i = 0; e->fit == QFIT_OK && i < e->choice->n; i++)
		cJSON_AddItemToArray(
			types, pool_itype_json(&w->cluster->instance_types[e->choice->idx[i]]));
	mgmt_wiring_time(o, "first_seen_at", (int64_t)e->first_seen_ms);
	if (sched_driver_status(w->sched, e->uuid, status, sizeof(status)) != 0)
		status[0] = '\0';
	cJSON_AddStringToObject(o, "scheduling_status", status);
	return o;
}

static int
mgmt_wiring_list_containers(void *ctx, cJSON **items)
{
	struct mgmt_wiring *w = ctx;
	struct queue_ent *const *v;
	size_t n;

	*items = NULL;
	if (!sched_driver_has_passed(w->sched))
		return 0; /* no pass yet: sent as [] */
	v = queue_view(w->queue, &n);
	if ((*items = cJSON_CreateArray()) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *e = mgmt_wiring_entry(w, v[i]);
		if (e == NULL)
			return -ENOMEM;
		cJSON_AddItemToArray(*items, e);
	}
	return 0;
}

/*
 * The incremental form (mgmt_list_src): the snapshot is the uuids in scheduler order (one
 * memcpy each), taken in one turn; each entry is built in a later turn from the queue as it
 * is then (a container gone meanwhile is left out). Entry pointers are valid for one turn
 * only (queue.h), so entries are looked up again by uuid.
 */
struct mgmt_wiring_snap {
	size_t n;
	char uuid[][QUEUE_UUID_MAX];
};

static int
mgmt_wiring_containers_open(void *ctx, void **snap, size_t *n)
{
	struct mgmt_wiring *w = ctx;
	struct queue_ent *const *v;
	struct mgmt_wiring_snap *s;
	size_t k = 0;

	*snap = NULL;
	*n = 0;
	if (!sched_driver_has_passed(w->sched))
		return 0; /* no pass yet: sent as [] */
	v = queue_view(w->queue, &k);
	if ((s = malloc(sizeof(*s) + (k + 1) * QUEUE_UUID_MAX)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++)
		memcpy(s->uuid[i], v[i]->uuid, QUEUE_UUID_MAX);
	s->n = k;
	*snap = s;
	*n = k;
	return 0;
}

static int
mgmt_wiring_containers_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	struct mgmt_wiring *w = ctx;
	struct mgmt_wiring_snap *s = snap;
	const struct queue_ent *e = queue_get(w->queue, s->uuid[i]);

	*out = e ? mgmt_wiring_entry(w, e) : NULL;
	return e && !*out ? -ENOMEM : 0;
}

static void
mgmt_wiring_containers_close(void *ctx, void *snap)
{
	(void)ctx;
	free(snap);
}

static int
mgmt_wiring_instances_open(void *ctx, void **snap, size_t *n)
{
	return mgmt_pool_list_open(((struct mgmt_wiring *)ctx)->pool, snap, n);
}

static int
mgmt_wiring_instances_entry(void *ctx, void *snap, size_t i, cJSON **out)
{
	return mgmt_pool_list_entry(((struct mgmt_wiring *)ctx)->pool, snap, i, out);
}

static void
mgmt_wiring_instances_close(void *ctx, void *snap)
{
	mgmt_pool_list_close(((struct mgmt_wiring *)ctx)->pool, snap);
}

static int
mgmt_wiring_get_container(void *ctx, const char *uuid, cJSON **entry)
{
	struct mgmt_wiring *w = ctx;
	const struct queue_ent *e = queue_get(w->queue, uuid);

	*entry = NULL;
	if (e == NULL || !sched_driver_has_passed(w->sched))
		return MGMT_NOT_FOUND;
	return (*entry = mgmt_wiring_entry(w, e)) != NULL ? 0 : -ENOMEM;
}

static int
mgmt_wiring_kill_container(void *ctx, const char *uuid, const char *reason)
{
	struct mgmt_wiring *w = ctx;

	return mgmt_pool_kill_container(w->pool, uuid, reason);
}

static int
mgmt_wiring_list_instances(void *ctx, cJSON **items)
{
	struct mgmt_wiring *w = ctx;

	return mgmt_pool_list_instances(w->pool, items);
}

static int
mgmt_wiring_instance_action(void *ctx, enum mgmt_instance_action a, const char *id,
			    const char *reason)
{
	struct mgmt_wiring *w = ctx;
	int r = mgmt_pool_instance_action(w->pool, a, id, reason);

	sched_driver_kick(w->sched);
	return r;
}

void
mgmt_wiring_init(struct mgmt_wiring *w)
{
	w->providers = (struct mgmt_providers){
		.ctx = w,
		.list_containers = mgmt_wiring_list_containers,
		.get_container = mgmt_wiring_get_container,
		.kill_container = mgmt_wiring_kill_container,
		.list_instances = mgmt_wiring_list_instances,
		.instance_action = mgmt_wiring_instance_action,
		.containers_src = { mgmt_wiring_containers_open, mgmt_wiring_containers_entry,
				    mgmt_wiring_containers_close },
		.instances_src = { mgmt_wiring_instances_open, mgmt_wiring_instances_entry,
				   mgmt_wiring_instances_close },
	};
}
