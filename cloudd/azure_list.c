/*
 * azure_list.c - the Azure driver's Instances (3.6): the NIC pages, then the VM pages
 * joined to them by NIC id.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

/* ---- Instances ---- */

struct az_list {
	struct azure_driver *d;
	struct drv_tags filter;
	drv_page_cb page;
	drv_done_cb done;
	void *arg;
	cJSON *ips; /* lowercase NIC id -> private IP */
	bool vms;   /* in the VM pass */
	int nic_pages;
};

static void
az_list_end(struct az_list *l, const struct drv_error *err)
{
	struct drv_error ok = { .cls = DRV_OK };

	l->d->ops--;
	l->done(l->arg, err ? err : &ok);
	drv_tags_free(&l->filter);
	cJSON_Delete(l->ips);
	free(l);
}

static void az_list_on_page(void *arg, const struct az_result *r);

static void
az_list_nics(struct az_list *l, const cJSON *items)
{
	const cJSON *it;
	struct azure_nic n;
	char key[600];

	cJSON_ArrayForEach(it, items)
	{
		if (azure_nic_read(it, &n) < 0)
			continue;
		if (n.ip && strlen(n.id) < sizeof(key)) {
			size_t i;

			for (i = 0; n.id[i]; i++)
				key[i] = (char)tolower((unsigned char)n.id[i]);
			key[i] = 0;
			cJSON_DeleteItemFromObjectCaseSensitive(l->ips, key);
			cJSON_AddStringToObject(l->ips, key, n.ip);
		}
		az_maybe_delete_nic(l->d, &n);
	}
}

static void
az_list_vms(struct az_list *l, const cJSON *items)
{
	const cJSON *it, *ip;
	struct azure_vm v;
	struct drv_instance *out = NULL;
	size_t n = 0, cap = (size_t)cJSON_GetArraySize(items);
	char key[600];

	out = calloc(cap ? cap : 1, sizeof(*out));
	if (!out)
		return;
	cJSON_ArrayForEach(it, items)
	{
		if (azure_vm_read(it, &v) < 0 || n >= cap)
			continue;
		if (v.state && strcasecmp(v.state, "Deleting") == 0)
			continue; /* as EC2 omits shutting-down instances */
		ip = NULL;
		if (v.nic_id && strlen(v.nic_id) < sizeof(key)) {
			size_t i;

			for (i = 0; v.nic_id[i]; i++)
				key[i] = (char)tolower((unsigned char)v.nic_id[i]);
			key[i] = 0;
			ip = cJSON_GetObjectItemCaseSensitive(l->ips, key);
		}
		if (az_inst_from_vm(&v, cJSON_IsString(ip) ? ip->valuestring : "", &out[n]) < 0)
			continue;
		if (!az_tags_match(&out[n], &l->filter)) {
			drv_instance_free(&out[n]);
			continue;
		}
		n++;
	}
	if (n)
		l->page(l->arg, out, n);
	for (size_t i = 0; i < n; i++)
		drv_instance_free(&out[i]);
	free(out);
}

static int
az_list_get(struct az_list *l, const char *url)
{
	return az_call(l->d, "GET", url, NULL, 0, l->vms ? "VM list" : "NIC list", NULL,
		       az_list_on_page, l);
}

static void
az_list_start_vms(struct az_list *l)
{
	char url[1024];
	struct drv_error e;

	l->vms = true;
	if (az_res_url(l->d, url, sizeof(url), l->d->p.resource_group, "Microsoft.Compute",
		       "virtualMachines", NULL, AZ_API_COMPUTE) < 0 ||
	    az_list_get(l, url) < 0) {
		drv_error_set(&e, DRV_ERR_OTHER, "VM list: out of memory");
		az_list_end(l, &e);
	}
}

static void
az_list_on_page(void *arg, const struct az_result *r)
{
	struct az_list *l = arg;
	cJSON *items = NULL;
	char *next = NULL, *body;
	struct drv_error e;

	if (r->err.cls != DRV_OK) {
		if (!l->vms && l->nic_pages > 0) {
			log_kv(LOG_LVL_WARN, "azure: NIC list page failed; using the pages read",
			       LF_STR("error", r->err.text));
			az_list_start_vms(l);
			return;
		}
		az_list_end(l, &r->err);
		return;
	}
	body = r->doc ? cJSON_PrintUnformatted(r->doc) : NULL;
	if (!body || azure_page_parse(body, strlen(body), &items, &next) < 0) {
		free(body);
		drv_error_set(&e, DRV_ERR_OTHER, "%s: the answer is not a list page",
			      l->vms ? "VM list" : "NIC list");
		if (!l->vms && l->nic_pages > 0) {
			az_list_start_vms(l);
			return;
		}
		az_list_end(l, &e);
		return;
	}
	free(body);
	if (l->vms)
		az_list_vms(l, items);
	else {
		l->nic_pages++;
		az_list_nics(l, items);
	}
	cJSON_Delete(items);
	if (next && strncmp(next, l->d->env.arm, strlen(l->d->env.arm)) != 0) {
		/* nextLink must stay on the ARM endpoint the token is for. */
		drv_error_set(&e, DRV_ERR_OTHER, "%s: nextLink leaves the ARM endpoint",
			      l->vms ? "VM list" : "NIC list");
		free(next);
		if (l->vms)
			az_list_end(l, &e);
		else
			az_list_start_vms(l);
		return;
	}
	if (next) {
		if (az_list_get(l, next) < 0) {
			drv_error_set(&e, DRV_ERR_OTHER, "list: out of memory");
			az_list_end(l, &e);
		}
		free(next);
		return;
	}
	if (!l->vms)
		az_list_start_vms(l);
	else
		az_list_end(l, NULL);
}

int
az_list(struct drv *dd, const struct drv_tags *filter, drv_page_cb page, drv_done_cb done,
	void *arg)
{
	struct azure_driver *d = az_d(dd);
	struct az_list *l = calloc(1, sizeof(*l));
	char url[1024];

	if (!l)
		return -ENOMEM;
	l->d = d;
	l->page = page;
	l->done = done;
	l->arg = arg;
	l->ips = cJSON_CreateObject();
	if (!l->ips || drv_tags_copy(&l->filter, filter) < 0 ||
	    az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Network",
		       "networkInterfaces", NULL, AZ_API_NETWORK) < 0 ||
	    az_list_get(l, url) < 0) {
		drv_tags_free(&l->filter);
		cJSON_Delete(l->ips);
		free(l);
		return -ENOMEM;
	}
	d->ops++;
	return 0;
}
