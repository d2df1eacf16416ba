/*
 * config_worker.c - the cluster config that workers receive (crunch-run's stdin "Cluster"):
 * the defaults this loader knows, deep-merged with everything the file has for the cluster
 * (file wins, a null does not override), with the original key names; InstanceTypes as
 * loaded (twins, computed values); minus what a worker must never hold: the driver's
 * credentials, the dispatcher's SSH key, the management token and the database connection.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "util.h"

/* Move every non-null member of src into dst, recursing where both are objects. */
static void
worker_merge(cJSON *dst, cJSON *src)
{
	cJSON *item;

	while ((item = src->child) != NULL) {
		cJSON *d;
		cJSON_DetachItemViaPointer(src, item);
		if (cJSON_IsNull(item)) {
			cfg_json_wipe_delete(item);
			continue;
		}
		d = cJSON_GetObjectItemCaseSensitive(dst, item->string);
		if (d && cJSON_IsObject(d) && cJSON_IsObject(item)) {
			worker_merge(d, item);
			cfg_json_wipe_delete(item);
		} else if (d) {
			cJSON *old = cJSON_DetachItemViaPointer(dst, d);
			cfg_json_wipe_delete(old);
			cJSON_AddItemToObject(dst, item->string, item);
		} else {
			cJSON_AddItemToObject(dst, item->string, item);
		}
	}
}

static void
worker_add_i64(cJSON *o, const char *k, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	cJSON_AddRawToObject(o, k, buf);
}

static cJSON *
worker_itype(const struct cfg_instance_type *t)
{
	static const char *const stacks[] = { "", "cuda", "rocm" };
	cJSON *o = cJSON_CreateObject(), *g = cJSON_CreateObject();

	if (!o || !g) {
		cJSON_Delete(o);
		cJSON_Delete(g);
		return NULL;
	}
	cJSON_AddStringToObject(o, "ProviderType", t->provider_type);
	worker_add_i64(o, "VCPUs", t->vcpus);
	worker_add_i64(o, "RAM", t->ram);
	worker_add_i64(o, "IncludedScratch", t->included_scratch);
	worker_add_i64(o, "AddedScratch", t->added_scratch);
	cJSON_AddNumberToObject(o, "Price", t->price);
	cJSON_AddBoolToObject(o, "Preemptible", t->preemptible);
	cJSON_AddStringToObject(g, "Stack", stacks[t->gpu.stack]);
	cJSON_AddStringToObject(g, "DriverVersion", t->gpu.driver_version);
	cJSON_AddStringToObject(g, "HardwareTarget", t->gpu.hardware_target);
	worker_add_i64(g, "DeviceCount", t->gpu.device_count);
	worker_add_i64(g, "VRAM", t->gpu.vram);
	cJSON_AddItemToObject(o, "GPU", g);
	return o;
}

static int
worker_itypes(cJSON *root, const struct cfg_cluster *c)
{
	cJSON *m = cJSON_CreateObject();

	if (!m)
		return -1;
	for (size_t i = 0; i < c->n_instance_types; i++) {
		cJSON *t = worker_itype(&c->instance_types[i]);
		if (!t) {
			cJSON_Delete(m);
			return -1;
		}
		cJSON_AddItemToObject(m, c->instance_types[i].name, t);
	}
	cfg_json_wipe_delete(cJSON_DetachItemFromObjectCaseSensitive(root, "InstanceTypes"));
	cJSON_AddItemToObject(root, "InstanceTypes", m);
	return 0;
}

static void
worker_drop(cJSON *root, const char *section, const char *sub, const char *key)
{
	cJSON *o = root;

	if (section)
		o = cJSON_GetObjectItemCaseSensitive(o, section);
	if (o && sub)
		o = cJSON_GetObjectItemCaseSensitive(o, sub);
	if (o && cJSON_IsObject(o))
		cfg_json_wipe_delete(cJSON_DetachItemFromObjectCaseSensitive(o, key));
}

int
cfg_build_worker_json(struct cfg_ctx *x)
{
	cJSON *root = cfg_yaml_to_json(x->defaults), *file = cfg_yaml_to_json(x->cluster);
	int rc = -1;

	if (root && file && cJSON_IsObject(root) && cJSON_IsObject(file)) {
		worker_merge(root, file);
		worker_drop(root, "Containers", "CloudVMs", "DriverParameters");
		worker_drop(root, "Containers", NULL, "DispatchPrivateKey");
		worker_drop(root, NULL, NULL, "ManagementToken");
		worker_drop(root, "PostgreSQL", NULL, "Connection");
		if (worker_itypes(root, x->c) == 0) {
			x->c->worker_cluster_json = cJSON_PrintUnformatted(root);
			rc = x->c->worker_cluster_json ? 0 : -1;
		}
	}
	cfg_json_wipe_delete(root);
	cfg_json_wipe_delete(file);
	return rc;
}
