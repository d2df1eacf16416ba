/*
 * azure_dangling.c - clean-up of dangling resources (3.8): NICs with no VM, found by
 * Instances, and the managed-disk garbage collection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

#define AZ_MAX_NIC_DELETES 4

static void
az_nic_deleted(void *arg, const struct az_result *r)
{
	char *name = arg;
	struct azure_driver *d = *(struct azure_driver **)name;
	const char *n = name + sizeof(struct azure_driver *);

	if (r->err.cls != DRV_OK)
		log_kv(LOG_LVL_WARN, "Error deleting NIC", LF_STR("NIC", n),
		       LF_STR("error", r->err.text));
	else
		log_kv(LOG_LVL_INFO, "Deleted NIC", LF_STR("NIC", n));
	for (size_t i = 0; i < d->n_nic_deleting; i++) {
		if (d->nic_deleting[i] == name) {
			d->nic_deleting[i] = d->nic_deleting[--d->n_nic_deleting];
			break;
		}
	}
	free(name);
}

/* A NIC of ours with no VM, older than DeleteDanglingResourcesAfter: delete it (3.8),
 * at most AZ_MAX_NIC_DELETES at a time, never twice at once. */
void
az_maybe_delete_nic(struct azure_driver *d, const struct azure_nic *n)
{
	int64_t created;
	char url[1024], **nv, *rec;
	size_t hl = sizeof(struct azure_driver *);

	if (!az_has_prefix(d, n->name) || n->vm_id || !n->created_at ||
	    azure_parse_rfc3339(n->created_at, &created) < 0 ||
	    az_now_ms() / 1000 - created < d->p.dangling_after_s ||
	    d->n_nic_deleting >= AZ_MAX_NIC_DELETES)
		return;
	for (size_t i = 0; i < d->n_nic_deleting; i++)
		if (strcmp(d->nic_deleting[i] + hl, n->name) == 0)
			return;
	if (az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Network",
		       "networkInterfaces", n->name, AZ_API_NETWORK) < 0)
		return;
	rec = malloc(hl + strlen(n->name) + 1);
	nv = realloc(d->nic_deleting, (d->n_nic_deleting + 1) * sizeof(*nv));
	if (!rec || !nv) {
		free(rec);
		if (nv)
			d->nic_deleting = nv;
		return;
	}
	d->nic_deleting = nv;
	memcpy(rec, &d, hl);
	strcpy(rec + hl, n->name);
	log_kv(LOG_LVL_INFO,
	       "Will delete NIC because it is older than DeleteDanglingResourcesAfter",
	       LF_STR("NIC", n->name),
	       LF_INT("DeleteDanglingResourcesAfter", d->p.dangling_after_s));
	if (az_call(d, "DELETE", url, NULL, AZ_OK_404 | AZ_NO_CLASSIFY, "NIC DELETE", NULL,
		    az_nic_deleted, rec) < 0) {
		free(rec);
		return;
	}
	d->nic_deleting[d->n_nic_deleting++] = rec;
}

/* ---- managed-disk garbage collection (3.8) ---- */

struct az_gc_list {
	struct azure_driver *d;
	char rg[200];
};

static void
az_gc_deleted(void *arg, const struct az_result *r)
{
	char *name = arg;
	struct azure_driver *d = *(struct azure_driver **)name;
	const char *n = name + sizeof(struct azure_driver *);

	d->gc_inflight--;
	if (r->err.cls != DRV_OK) {
		log_kv(LOG_LVL_WARN, "Error deleting disk", LF_STR("disk", n),
		       LF_STR("error", r->err.text));
	} else {
		d->disks_deleted++;
		log_kv(LOG_LVL_INFO, "Deleted disk", LF_STR("disk", n));
	}
	free(name);
}

static void
az_gc_disk(struct azure_driver *d, const char *rg, const cJSON *disk)
{
	const cJSON *props = cJSON_GetObjectItemCaseSensitive(disk, "properties");
	const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(disk, "name"));
	const char *state =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "diskState"));
	const char *when =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(props, "timeCreated"));
	size_t hl = sizeof(struct azure_driver *), nl;
	int64_t created;
	char url[1024], *rec;

	if (!name || !state || !az_has_prefix(d, name) || (nl = strlen(name)) < 3 ||
	    strcmp(name + nl - 3, "-os") != 0 || strcasecmp(state, "Unattached") != 0 || !when ||
	    azure_parse_rfc3339(when, &created) < 0 ||
	    az_now_ms() / 1000 - created < d->p.dangling_after_s || d->gc_inflight >= 8)
		return;
	if (az_res_url(d, url, sizeof(url), rg, "Microsoft.Compute", "disks", name,
		       AZ_API_COMPUTE) < 0 ||
	    !(rec = malloc(hl + nl + 1)))
		return;
	memcpy(rec, &d, hl);
	memcpy(rec + hl, name, nl + 1);
	log_kv(LOG_LVL_INFO,
	       "Will delete disk because it is older than DeleteDanglingResourcesAfter",
	       LF_STR("disk", name), LF_INT("DeleteDanglingResourcesAfter", d->p.dangling_after_s));
	if (az_call(d, "DELETE", url, NULL, AZ_OK_404 | AZ_NO_CLASSIFY, "disk DELETE", NULL,
		    az_gc_deleted, rec) < 0) {
		free(rec);
		return;
	}
	d->gc_inflight++;
}

static void
az_gc_on_page(void *arg, const struct az_result *r)
{
	struct az_gc_list *g = arg;
	struct azure_driver *d = g->d;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->doc, "value"), *it;
	const char *next =
		cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->doc, "nextLink"));

	d->gc_inflight--;
	if (r->err.cls != DRV_OK) {
		log_kv(LOG_LVL_WARN, "azure: disk list failed", LF_STR("error", r->err.text));
		free(g);
		return;
	}
	cJSON_ArrayForEach(it, v) az_gc_disk(d, g->rg, it);
	if (next && *next && strncmp(next, d->env.arm, strlen(d->env.arm)) == 0 &&
	    az_call(d, "GET", next, NULL, AZ_NO_CLASSIFY, "disk list", NULL, az_gc_on_page, g) ==
		    0) {
		d->gc_inflight++;
		return;
	}
	free(g);
}

static void
az_gc_list(struct azure_driver *d, const char *rg)
{
	struct az_gc_list *g = calloc(1, sizeof(*g));
	char url[1024];

	if (!g)
		return;
	g->d = d;
	snprintf(g->rg, sizeof(g->rg), "%s", rg);
	if (az_res_url(d, url, sizeof(url), rg, "Microsoft.Compute", "disks", NULL,
		       AZ_API_COMPUTE) < 0 ||
	    az_call(d, "GET", url, NULL, AZ_NO_CLASSIFY, "disk list", NULL, az_gc_on_page, g) < 0) {
		free(g);
		return;
	}
	d->gc_inflight++;
}

/* Each tick: unattached "<prefix>...-os" disks older than DeleteDanglingResourcesAfter, in
 * ResourceGroup (where the VMs' OS disks are made) and, as the reference looks there, in
 * ImageResourceGroup when it differs. A tick is skipped while the previous one runs. */
void
az_gc_tick(uv_timer_t *t)
{
	struct azure_driver *d = t->data;

	az_blob_gc(d);
	if (d->gc_inflight > 0)
		return;
	az_gc_list(d, d->p.resource_group);
	if (strcmp(d->p.image_rg, d->p.resource_group) != 0)
		az_gc_list(d, d->p.image_rg);
}

void
az_gc_closed(uv_handle_t *h)
{
	free(h);
}
