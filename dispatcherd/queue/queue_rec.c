/* queue_rec.c - the container attributes the list calls select (spec 2.3), kept so that the
 * management API can show the queue entry object of spec 7.2 without another API call and
 * without keeping the JSON tree: numbers and flags in the struct, the strings
 * (container_image, the GPU strings, hardware_target and partitions) packed NUL-separated
 * after it. Containers whose records are the same share one (queue_intern.c). created_at,
 * different for each container, is in the entry (created_at_ns, created_at_off). Rebuilt only
 * when the fields the instance-type choice depends on change (the same hash, queue_spec.c).
 *
 * Rendering follows Go's encoding of arvados.Container: every attribute present, in the
 * struct's order, with its zero value when the dispatcher does not select it ("", 0, false,
 * null for nil slices, maps and pointers, 0001-01-01T00:00:00Z for a zero time.Time), and
 * created_at as Go prints the time.Time it decoded (RFC3339Nano: the controller's trailing
 * zeros trimmed). */
#include "queue_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "api_json.h"
#include "rfc3339.h"

enum {
	QREC_API = 1,
	QREC_PREEMPTIBLE = 2,
	QREC_SUPERVISOR = 4,
	QREC_HW_ARRAY = 8,    /* gpu.hardware_target was an array (else null) */
	QREC_PART_ARRAY = 16, /* scheduling_parameters.partitions was an array */
};

struct queue_rec {
	struct queue_shared sh; /* queue_intern.c; the content is from ram on */
	int64_t ram, vcpus, keep_cache_ram, keep_cache_disk;
	int64_t gpu_device_count, gpu_vram, max_run_time;
	uint16_t n_hw, n_part;
	uint8_t flags;
	char str[]; /* container_image, stack, driver_version, hw..., part... */
};

#define QREC_CONTENT offsetof(struct queue_rec, ram)

#define QREC_ZERO_TIME "0001-01-01T00:00:00Z"
#define QREC_MAX_LIST  1024 /* strings kept per list; more is not a real container */

static const cJSON *
qrec_obj(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsObject(v) ? v : NULL;
}

static const char *
qrec_str(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));

	return s != NULL ? s : "";
}

static int64_t
qrec_int(const cJSON *o, const char *k)
{
	int64_t v = 0;

	if (o == NULL || api_json_get_int64(o, k, &v) != 0)
		return 0;
	return v;
}

/* Size of the string members of array a (NULL/non-array: 0), counting n. */
static size_t
qrec_list_size(const cJSON *a, uint16_t *n)
{
	size_t sz = 0;
	const cJSON *c;

	*n = 0;
	cJSON_ArrayForEach(c, a)
	{
		if (*n >= QREC_MAX_LIST)
			break;
		sz += strlen(cJSON_IsString(c) ? c->valuestring : "") + 1;
		(*n)++;
	}
	return sz;
}

static char *
qrec_put(char *p, const char *s)
{
	size_t l = strlen(s) + 1;

	memcpy(p, s, l);
	return p + l;
}

static char *
qrec_put_list(char *p, const cJSON *a, uint16_t n)
{
	const cJSON *c;
	uint16_t i = 0;

	cJSON_ArrayForEach(c, a)
	{
		if (i++ >= n)
			break;
		p = qrec_put(p, cJSON_IsString(c) ? c->valuestring : "");
	}
	return p;
}

int
queue_rec_update(struct queue_intern *set, struct queue_ent *e, const cJSON *item)
{
	const cJSON *rc = qrec_obj(item, "runtime_constraints");
	const cJSON *gpu = qrec_obj(rc, "gpu");
	const cJSON *sp = qrec_obj(item, "scheduling_parameters");
	const cJSON *hw = cJSON_GetObjectItemCaseSensitive(gpu, "hardware_target");
	const cJSON *part = cJSON_GetObjectItemCaseSensitive(sp, "partitions");
	const char *image = qrec_str(item, "container_image");
	const char *stack = qrec_str(gpu, "stack"), *drv = qrec_str(gpu, "driver_version");
	uint16_t n_hw = 0, n_part = 0;
	size_t sz = strlen(image) + strlen(stack) + strlen(drv) + 3;
	struct queue_rec *r;
	struct queue_shared *sh;
	char *p;

	if (!cJSON_IsArray(hw))
		hw = NULL;
	if (!cJSON_IsArray(part))
		part = NULL;
	sz += qrec_list_size(hw, &n_hw) + qrec_list_size(part, &n_part);
	if ((r = calloc(1, sizeof(*r) + sz)) == NULL) /* zeroed: padding is compared too */
		return -ENOMEM;
	r->ram = qrec_int(rc, "ram");
	r->vcpus = qrec_int(rc, "vcpus");
	r->keep_cache_ram = qrec_int(rc, "keep_cache_ram");
	r->keep_cache_disk = qrec_int(rc, "keep_cache_disk");
	r->gpu_device_count = qrec_int(gpu, "device_count");
	r->gpu_vram = qrec_int(gpu, "vram");
	r->max_run_time = qrec_int(sp, "max_run_time");
	r->flags = (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rc, "API")) ? QREC_API : 0) |
		   (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sp, "preemptible"))
			    ? QREC_PREEMPTIBLE
			    : 0) |
		   (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sp, "supervisor"))
			    ? QREC_SUPERVISOR
			    : 0) |
		   (hw != NULL ? QREC_HW_ARRAY : 0) | (part != NULL ? QREC_PART_ARRAY : 0);
	r->n_hw = n_hw;
	r->n_part = n_part;
	p = qrec_put(r->str, image);
	p = qrec_put(p, stack);
	p = qrec_put(p, drv);
	p = qrec_put_list(p, hw, n_hw);
	qrec_put_list(p, part, n_part);
	sh = queue_intern(set, &r->sh, QREC_CONTENT, (uint32_t)(sizeof(*r) - QREC_CONTENT + sz));
	if (sh == NULL)
		return -ENOMEM;
	queue_rec_free(e);
	e->rec = (struct queue_rec *)sh;
	return 0;
}

void
queue_rec_free(struct queue_ent *e)
{
	if (e->rec != NULL)
		queue_unshare(&e->rec->sh);
	e->rec = NULL;
}

static const char *
qrec_next(const char *s)
{
	return s + strlen(s) + 1;
}

/* Adds a JSON array of the n strings from *s on (advancing *s), or null without the flag. */
static void
qrec_add_list(cJSON *o, const char *name, bool present, const char **s, uint16_t n)
{
	cJSON *a;

	if (!present) {
		cJSON_AddNullToObject(o, name);
		return;
	}
	a = cJSON_AddArrayToObject(o, name);
	for (uint16_t i = 0; i < n; i++, *s = qrec_next(*s))
		cJSON_AddItemToArray(a, cJSON_CreateString(*s));
}

static void
qrec_add_int(cJSON *o, const char *name, int64_t v)
{
	cJSON_AddItemToObject(o, name, api_json_new_int64(v));
}

cJSON *
queue_ent_container_json(const struct queue_ent *e, const char *identity)
{
	static const struct queue_rec zero = { 0 };
	static const char zero_str[8] = { 0 };
	const struct queue_rec *r = e->rec != NULL ? e->rec : &zero;
	const char *s = e->rec != NULL ? r->str : zero_str;
	const char *image, *stack, *drv;
	char created[RFC3339_MAX] = QREC_ZERO_TIME;
	cJSON *c = cJSON_CreateObject(), *rc, *gpu, *sp;

	if (c == NULL)
		return NULL;
	if (e->created_at_ns != 0)
		rfc3339_format(e->created_at_ns, (int32_t)e->created_at_off * 60, created,
			       sizeof(created));
	image = s;
	stack = qrec_next(image);
	drv = qrec_next(stack);
	s = qrec_next(drv);
	cJSON_AddStringToObject(c, "uuid", e->uuid);
	cJSON_AddStringToObject(c, "etag", "");
	cJSON_AddStringToObject(c, "created_at", created);
	cJSON_AddStringToObject(c, "modified_by_user_uuid", "");
	cJSON_AddStringToObject(c, "modified_at", QREC_ZERO_TIME);
	cJSON_AddNullToObject(c, "command");
	cJSON_AddStringToObject(c, "container_image", image);
	cJSON_AddStringToObject(c, "cwd", "");
	cJSON_AddNullToObject(c, "environment");
	cJSON_AddStringToObject(c, "locked_by_uuid",
				e->locked_by_me && identity != NULL ? identity : "");
	cJSON_AddNumberToObject(c, "lock_count", 0);
	cJSON_AddNullToObject(c, "mounts");
	cJSON_AddStringToObject(c, "output", "");
	cJSON_AddStringToObject(c, "output_path", "");
	cJSON_AddNullToObject(c, "output_glob");
	qrec_add_int(c, "priority", e->priority);
	rc = cJSON_AddObjectToObject(c, "runtime_constraints");
	cJSON_AddBoolToObject(rc, "API", (r->flags & QREC_API) != 0);
	qrec_add_int(rc, "ram", r->ram);
	qrec_add_int(rc, "vcpus", r->vcpus);
	qrec_add_int(rc, "keep_cache_ram", r->keep_cache_ram);
	qrec_add_int(rc, "keep_cache_disk", r->keep_cache_disk);
	gpu = cJSON_AddObjectToObject(rc, "gpu");
	cJSON_AddStringToObject(gpu, "stack", stack);
	cJSON_AddStringToObject(gpu, "driver_version", drv);
	qrec_add_list(gpu, "hardware_target", (r->flags & QREC_HW_ARRAY) != 0, &s, r->n_hw);
	qrec_add_int(gpu, "device_count", r->gpu_device_count);
	qrec_add_int(gpu, "vram", r->gpu_vram);
	cJSON_AddStringToObject(c, "state", queue_state_name(e->state));
	sp = cJSON_AddObjectToObject(c, "scheduling_parameters");
	qrec_add_list(sp, "partitions", (r->flags & QREC_PART_ARRAY) != 0, &s, r->n_part);
	cJSON_AddBoolToObject(sp, "preemptible", (r->flags & QREC_PREEMPTIBLE) != 0);
	qrec_add_int(sp, "max_run_time", r->max_run_time);
	cJSON_AddBoolToObject(sp, "supervisor", (r->flags & QREC_SUPERVISOR) != 0);
	cJSON_AddNumberToObject(c, "exit_code", 0);
	cJSON_AddNullToObject(c, "runtime_status");
	cJSON_AddNullToObject(c, "started_at");
	cJSON_AddNullToObject(c, "finished_at");
	cJSON_AddStringToObject(c, "gateway_address", "");
	cJSON_AddBoolToObject(c, "interactive_session_started", false);
	cJSON_AddNullToObject(c, "output_storage_classes");
	cJSON_AddStringToObject(c, "runtime_user_uuid", "");
	cJSON_AddNullToObject(c, "runtime_auth_scopes");
	cJSON_AddStringToObject(c, "runtime_token", "");
	cJSON_AddStringToObject(c, "auth_uuid", "");
	cJSON_AddStringToObject(c, "log", "");
	cJSON_AddNumberToObject(c, "cost", 0);
	cJSON_AddNumberToObject(c, "subrequests_cost", 0);
	cJSON_AddBoolToObject(c, "service", false);
	cJSON_AddNullToObject(c, "published_ports");
	return c;
}
