/*
 * azure_destroy.c - the Azure driver's Destroy (VM, NIC, OS disk or VHD blob per
 * instance) and SetTags.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

/* ---- Destroy ---- */

struct az_destroy {
	struct azure_driver *d;
	size_t n, left;
	char **ids;
	struct drv_error *errs;
	drv_destroy_cb cb;
	void *arg;
};

struct az_del1 {
	struct az_destroy *p;
	size_t i;
	char name[128];
	int step; /* 0 VM, 1 NIC, 2 disk */
};

static void
az_del1_done(struct az_del1 *x)
{
	struct az_destroy *p = x->p;

	free(x);
	if (--p->left > 0)
		return;
	p->d->ops--;
	p->cb(p->arg, p->n, (const char *const *)p->ids, p->errs);
	for (size_t i = 0; i < p->n; i++)
		free(p->ids[i]);
	free(p->ids);
	free(p->errs);
	free(p);
}

static void
az_del1_early(void *arg, const struct az_result *r)
{
	(void)r;
	az_del1_done(arg);
}

static void
az_del1_blob(void *arg, long status, const char *body, size_t len, const struct drv_error *e)
{
	struct az_del1 *x = arg;

	(void)status;
	(void)body;
	(void)len;
	if (e->text[0])
		log_kv(LOG_LVL_WARN, "Error deleting blob", LF_STR("name", x->name),
		       LF_STR("error", e->text));
	az_del1_done(x);
}

static void
az_del1_step(void *arg, const struct az_result *r)
{
	struct az_del1 *x = arg;
	struct azure_driver *d = x->p->d;
	char url[1024], res[160];

	if (x->step == 0 && r->err.cls != DRV_OK) {
		x->p->errs[x->i] = r->err;
		az_del1_done(x);
		return;
	}
	if (x->step > 0 && r->err.cls != DRV_OK)
		log_kv(LOG_LVL_WARN, x->step == 1 ? "Error deleting NIC" : "Error deleting disk",
		       LF_STR("name", x->name), LF_STR("error", r->err.text));
	x->step++;
	/* Beyond the reference: our VM's NIC and OS disk (or VHD blob, once its lease is gone
	 * with the VM) go with it (names of our scheme), instead of waiting for the GC. */
	if (x->step == 3 && az_has_prefix(d, x->name) && d->blob_base[0] && d->blob_key) {
		char suffix[400];

		snprintf(suffix, sizeof(suffix), "/%s/%s-os.vhd", d->p.blob_container, x->name);
		if (az_blob(d, "DELETE", suffix, NULL, az_del1_blob, x) == 0)
			return;
	}
	if (x->step > 2 || !az_has_prefix(d, x->name)) {
		az_del1_done(x);
		return;
	}
	snprintf(res, sizeof(res), x->step == 1 ? "%s-nic" : "%s-os", x->name);
	if ((x->step == 1
		     ? az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Network",
				  "networkInterfaces", res, AZ_API_NETWORK)
		     : az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Compute",
				  "disks", res, AZ_API_COMPUTE)) < 0 ||
	    az_call(d, "DELETE", url, NULL,
		    (x->step == 1 ? AZ_LRO : 0) | AZ_OK_404 | AZ_NO_CLASSIFY,
		    x->step == 1 ? "NIC DELETE" : "disk DELETE", NULL, az_del1_step, x) < 0)
		az_del1_done(x);
}

int
az_destroy(struct drv *dd, const char *const *ids, size_t n, drv_destroy_cb cb, void *arg)
{
	struct azure_driver *d = az_d(dd);
	struct az_destroy *p = calloc(1, sizeof(*p));
	char url[1024];

	if (!p || n == 0) {
		free(p);
		return n == 0 ? -EINVAL : -ENOMEM;
	}
	p->d = d;
	p->n = p->left = n;
	p->cb = cb;
	p->arg = arg;
	p->ids = calloc(n, sizeof(*p->ids));
	p->errs = calloc(n, sizeof(*p->errs));
	if (!p->ids || !p->errs)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (!(p->ids[i] = strdup(ids[i])))
			goto nomem;
	d->ops++;
	for (size_t i = 0; i < n; i++) {
		struct az_del1 *x = calloc(1, sizeof(*x));
		const char *name = az_vm_name_of(d, p->ids[i]);

		if (!x) {
			drv_error_set(&p->errs[i], DRV_ERR_OTHER, "out of memory");
		} else if (!name) {
			drv_error_set(&p->errs[i], DRV_ERR_OTHER,
				      "Destroy: %.200s is not a VM of resource group %.100s",
				      p->ids[i], d->p.resource_group);
		} else {
			x->p = p;
			x->i = i;
			snprintf(x->name, sizeof(x->name), "%s", name);
			if (az_res_url(d, url, sizeof(url), d->p.resource_group,
				       "Microsoft.Compute", "virtualMachines", name,
				       AZ_API_COMPUTE) == 0 &&
			    az_call(d, "DELETE", url, NULL, AZ_LRO | AZ_OK_404, "VM DELETE", NULL,
				    az_del1_step, x) == 0)
				continue;
			drv_error_set(&p->errs[i], DRV_ERR_OTHER, "out of memory");
		}
		/* Answer this id from the loop, like the others. */
		if (x) {
			x->p = p;
			x->i = i;
			if (az_fail_later(d, &p->errs[i], az_del1_early, x) == 0)
				continue;
			free(x);
		}
		p->left--; /* cannot defer: counted as answered (ENOMEM) */
	}
	if (p->left == 0) {
		/* Nothing could be deferred at all (out of memory): callback must still come
		 * from the loop; give up with -ENOMEM instead. */
		d->ops--;
		goto nomem;
	}
	return 0;
nomem:
	if (p->ids)
		for (size_t i = 0; i < n; i++)
			free(p->ids[i]);
	free(p->ids);
	free(p->errs);
	free(p);
	return -ENOMEM;
}

/* ---- SetTags ---- */

struct az_tags_op {
	struct azure_driver *d;
	char name[128];
	struct drv_tags tags;
	drv_done_cb cb;
	void *arg;
};

static void
az_tags_end(struct az_tags_op *t, const struct drv_error *err)
{
	struct drv_error ok = { .cls = DRV_OK };

	t->d->ops--;
	t->cb(t->arg, err ? err : &ok);
	drv_tags_free(&t->tags);
	free(t);
}

static void
az_tags_on_put(void *arg, const struct az_result *r)
{
	az_tags_end(arg, r->err.cls != DRV_OK ? &r->err : NULL);
}

static void
az_tags_on_get(void *arg, const struct az_result *r)
{
	struct az_tags_op *t = arg;
	struct azure_vm v;
	cJSON *body, *tags;
	char url[1024], *text;
	struct drv_error e;

	if (r->err.cls != DRV_OK) {
		az_tags_end(t, &r->err);
		return;
	}
	if (azure_vm_read(r->doc, &v) < 0) {
		drv_error_set(&e, DRV_ERR_OTHER, "VM GET: the answer is not a VM");
		az_tags_end(t, &e);
		return;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "location", v.location ? v.location : t->d->p.location);
	tags = v.tags ? cJSON_Duplicate(v.tags, 1) : cJSON_CreateObject();
	cJSON_AddItemToObject(body, "tags", tags);
	for (size_t i = 0; i < t->tags.n; i++) {
		cJSON_DeleteItemFromObjectCaseSensitive(tags, t->tags.v[i].key);
		cJSON_AddStringToObject(tags, t->tags.v[i].key, t->tags.v[i].value);
	}
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if (!text ||
	    az_res_url(t->d, url, sizeof(url), t->d->p.resource_group, "Microsoft.Compute",
		       "virtualMachines", t->name, AZ_API_COMPUTE) < 0 ||
	    az_call(t->d, "PUT", url, text, AZ_LRO, "VM PUT tags", NULL, az_tags_on_put, t) < 0) {
		free(text);
		drv_error_set(&e, DRV_ERR_OTHER, "VM PUT tags: out of memory");
		az_tags_end(t, &e);
		return;
	}
	free(text);
}

int
az_set_tags(struct drv *dd, const char *id, const struct drv_tags *tags, drv_done_cb cb, void *arg)
{
	struct azure_driver *d = az_d(dd);
	struct az_tags_op *t;
	const char *name = az_vm_name_of(d, id);
	char url[1024];
	struct drv_error e;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->d = d;
	t->cb = cb;
	t->arg = arg;
	if (drv_tags_copy(&t->tags, tags) < 0) {
		free(t);
		return -ENOMEM;
	}
	d->ops++;
	if (!name) {
		drv_error_set(&e, DRV_ERR_OTHER,
			      "SetTags: %.200s is not a VM of resource group %.100s", id ? id : "",
			      d->p.resource_group);
		if (az_fail_later(d, &e, az_tags_on_put, t) < 0)
			goto nomem;
		return 0;
	}
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Compute",
		       "virtualMachines", name, AZ_API_COMPUTE) < 0 ||
	    az_call(d, "GET", url, NULL, 0, "VM GET", NULL, az_tags_on_get, t) < 0)
		goto nomem;
	return 0;
nomem:
	d->ops--;
	drv_tags_free(&t->tags);
	free(t);
	return -ENOMEM;
}
