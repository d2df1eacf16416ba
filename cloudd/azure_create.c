/*
 * azure_ops.c - the Azure driver object: Create (3.5), Instances (3.6), Destroy, SetTags,
 * dangling NIC clean-up (3.8), behind struct drv.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <mbedtls/base64.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

#define AZ_MAX_NIC_DELETES 4

static struct azure_driver *
az_d(struct drv *d)
{
	return (struct azure_driver *)d;
}

/* <arm>/subscriptions/<sub>/resourceGroups/<rg>/providers/<prov>/<kind>[/<name>]?api-version=
 * with every segment escaped. 0 or -ENOSPC/-ENOMEM. */
int
az_res_url(struct azure_driver *d, char *buf, size_t len, const char *rg, const char *prov,
	   const char *kind, const char *name, const char *api)
{
	char *s = curl_easy_escape(NULL, d->p.subscription, 0);
	char *g = curl_easy_escape(NULL, rg, 0);
	char *n = name ? curl_easy_escape(NULL, name, 0) : NULL;
	int r = 0;

	if (!s || !g || (name && !n))
		r = -ENOMEM;
	else if ((size_t)snprintf(buf, len,
				  "%s/subscriptions/%s/resourceGroups/%s/providers/%s/%s%s%s"
				  "?api-version=%s",
				  d->env.arm, s, g, prov, kind, n ? "/" : "", n ? n : "",
				  api) >= len)
		r = -ENOSPC;
	curl_free(s);
	curl_free(g);
	curl_free(n);
	return r;
}

/* The ARM id prefix of our VMs: /subscriptions/<sub>/resourceGroups/<rg>/providers/
 * Microsoft.Compute/virtualMachines/ */
static void
az_vm_id_prefix(struct azure_driver *d, char *buf, size_t len)
{
	snprintf(buf, len,
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/"
		 "virtualMachines/",
		 d->p.subscription, d->p.resource_group);
}

/* The VM name of an id of our resource group, or NULL when it is not one. */
static const char *
az_vm_name_of(struct azure_driver *d, const char *id)
{
	char pre[512];
	size_t n;

	az_vm_id_prefix(d, pre, sizeof(pre));
	n = strlen(pre);
	if (!id || strncasecmp(id, pre, n) != 0 || id[n] == 0 || strlen(id + n) > 80 ||
	    strpbrk(id + n, "/?#%& "))
		return NULL;
	return id + n;
}

static bool
az_has_prefix(struct azure_driver *d, const char *name)
{
	return name && strncmp(name, d->prefix, strlen(d->prefix)) == 0;
}

/* ---- instances ---- */

static const char *
az_state(const char *ps)
{
	if (!ps || strcasecmp(ps, "Succeeded") == 0)
		return "running";
	if (strcasecmp(ps, "Creating") == 0 || strcasecmp(ps, "Updating") == 0)
		return "pending";
	if (strcasecmp(ps, "Deleting") == 0)
		return "stopping";
	return "stopped"; /* Failed, Canceled: never boots; the pool destroys it */
}

static int
az_inst_from_vm(const struct azure_vm *v, const char *ip, struct drv_instance *o)
{
	const cJSON *t;

	memset(o, 0, sizeof(*o));
	o->id = strdup(v->id);
	o->provider_type = strdup(v->size ? v->size : "");
	o->address = strdup(ip ? ip : "");
	o->subnet_id = strdup("");
	o->state = strdup(az_state(v->state));
	o->az = strdup("");
	o->spot = v->priority && strcasecmp(v->priority, "Spot") == 0;
	if (!o->id || !o->provider_type || !o->address || !o->subnet_id || !o->state || !o->az)
		goto nomem;
	cJSON_ArrayForEach(t, v->tags)
	{
		if (cJSON_IsString(t) && t->string &&
		    drv_tags_add(&o->tags, t->string, t->valuestring) < 0)
			goto nomem;
	}
	return 0;
nomem:
	drv_instance_free(o);
	return -ENOMEM;
}

static bool
az_tags_match(const struct drv_instance *i, const struct drv_tags *filter)
{
	for (size_t k = 0; filter && k < filter->n; k++) {
		const char *v = drv_tags_get(&i->tags, filter->v[k].key);

		if (!v || strcmp(v, filter->v[k].value) != 0)
			return false;
	}
	return true;
}

/* ---- Create ---- */

struct az_create {
	struct azure_driver *d;
	struct drv_itype it;
	char it_name[64], it_ptype[64];
	char name[128];
	char *image_id, *init, *pubkey;
	cJSON *tags;
	char *nic_id, *nic_ip;
	bool vhd; /* unmanaged image: the OS disk is a blob <N>-os.vhd */
	struct drv_error err;
	drv_create_cb cb;
	void *arg;
};

static void
az_create_free(struct az_create *c)
{
	free(c->image_id);
	free(c->init);
	free(c->pubkey);
	cJSON_Delete(c->tags);
	free(c->nic_id);
	free(c->nic_ip);
	free(c);
}

static void
az_create_finish(struct az_create *c, const struct drv_error *err, const struct drv_instance *i)
{
	c->d->ops--;
	c->cb(c->arg, err, i);
	az_create_free(c);
}

static void
az_create_after_blob_delete(void *arg, long status, const char *body, size_t len,
			    const struct drv_error *e)
{
	struct az_create *c = arg;

	(void)status;
	(void)body;
	(void)len;
	if (e->text[0])
		log_kv(LOG_LVL_WARN, "Error deleting blob", LF_STR("VM", c->name),
		       LF_STR("error", e->text));
	az_create_finish(c, &c->err, NULL);
}

static void
az_create_after_nic_delete(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;
	char suffix[400];

	if (r->err.cls != DRV_OK)
		log_kv(LOG_LVL_WARN, "azure: cannot delete the NIC of a failed create",
		       LF_STR("NIC", c->name), LF_STR("error", r->err.text));
	/* The VHD blob, if the VM got as far as making it (delete-if-exists: 404 is fine). */
	snprintf(suffix, sizeof(suffix), "/%s/%s-os.vhd", c->d->p.blob_container, c->name);
	if (c->vhd && c->d->blob_key &&
	    az_blob(c->d, "DELETE", suffix, NULL, az_create_after_blob_delete, c) == 0)
		return;
	az_create_finish(c, &c->err, NULL);
}

static void
az_create_delete_nic(struct az_create *c)
{
	char url[1024], nic[160];

	snprintf(nic, sizeof(nic), "%s-nic", c->name);
	if (az_res_url(c->d, url, sizeof(url), c->d->p.resource_group, "Microsoft.Network",
		       "networkInterfaces", nic, AZ_API_NETWORK) < 0 ||
	    az_call(c->d, "DELETE", url, NULL, AZ_LRO | AZ_OK_404 | AZ_NO_CLASSIFY, "NIC DELETE",
		    NULL, az_create_after_nic_delete, c) < 0)
		az_create_finish(c, &c->err, NULL);
}

static void
az_log_deleted(void *arg, const struct az_result *r)
{
	char *name = arg;

	if (r->err.cls != DRV_OK)
		log_kv(LOG_LVL_WARN, "Error deleting disk", LF_STR("disk", name),
		       LF_STR("error", r->err.text));
	free(name);
}

/* The OS disk <vm>-os in ResourceGroup, where it was made (not awaited; GC's job if it fails). */
static void
az_delete_os_disk(struct azure_driver *d, const char *vm)
{
	char url[1024], *disk = malloc(strlen(vm) + 4);

	if (!disk)
		return;
	sprintf(disk, "%s-os", vm);
	if (az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Compute", "disks", disk,
		       AZ_API_COMPUTE) < 0 ||
	    az_call(d, "DELETE", url, NULL, AZ_OK_404 | AZ_NO_CLASSIFY, "disk DELETE", NULL,
		    az_log_deleted, disk) < 0)
		free(disk);
}

static void
az_create_after_vm_delete(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;

	if (r->err.cls != DRV_OK) {
		log_kv(LOG_LVL_WARN, "azure: cannot delete a VM whose create failed",
		       LF_STR("VM", c->name), LF_STR("error", r->err.text));
		az_create_finish(c, &c->err, NULL);
		return;
	}
	az_delete_os_disk(c->d, c->name);
	az_create_delete_nic(c);
}

static void
az_create_on_vm(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;
	struct azure_vm v;
	struct drv_instance inst;
	char url[1024];

	if (r->err.cls != DRV_OK) {
		c->err = r->err;
		log_kv(LOG_LVL_WARN, "azure: VM create failed", LF_STR("VM", c->name),
		       LF_STR("error", r->err.text));
		if (r->err.http_status >= 400) {
			/* Refused at once: no VM exists, only the NIC. */
			az_create_delete_nic(c);
			return;
		}
		/* Failed asynchronously (or unknown): the VM resource may exist in state
		 * Failed, holding the NIC; delete it first. */
		if (az_res_url(c->d, url, sizeof(url), c->d->p.resource_group, "Microsoft.Compute",
			       "virtualMachines", c->name, AZ_API_COMPUTE) < 0 ||
		    az_call(c->d, "DELETE", url, NULL, AZ_LRO | AZ_OK_404 | AZ_NO_CLASSIFY,
			    "VM DELETE", NULL, az_create_after_vm_delete, c) < 0)
			az_create_delete_nic(c);
		return;
	}
	if (azure_vm_read(r->doc, &v) < 0) {
		drv_error_set(&c->err, DRV_ERR_OTHER, "VM PUT: the final VM has no id or name");
		az_create_finish(c, &c->err, NULL);
		return;
	}
	if (az_inst_from_vm(&v, c->nic_ip, &inst) < 0) {
		drv_error_set(&c->err, DRV_ERR_OTHER, "out of memory");
		az_create_finish(c, &c->err, NULL);
		return;
	}
	az_create_finish(c, NULL, &inst);
	drv_instance_free(&inst);
}

static char *
az_b64(const char *s)
{
	size_t n = strlen(s), olen = 0;
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	if (!out || mbedtls_base64_encode((unsigned char *)out, 4 * ((n + 2) / 3) + 1, &olen,
					  (const unsigned char *)s, n) != 0) {
		free(out);
		return NULL;
	}
	out[olen] = 0;
	return out;
}

static char *
az_vm_body(struct az_create *c)
{
	struct azure_driver *d = c->d;
	cJSON *root = cJSON_CreateObject(), *props, *x, *y, *z;
	char img[1024], path[300], *script = NULL, *b64 = NULL, *out = NULL;
	size_t n;

	if (!root)
		return NULL;
	if (*d->p.gallery)
		snprintf(
			img, sizeof(img),
			"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/galleries/"
			"%s/images/%s/versions/%s",
			d->p.subscription, d->p.image_rg, d->p.gallery, c->image_id,
			d->p.gallery_version);
	else
		snprintf(
			img, sizeof(img),
			"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/images/%s",
			d->p.subscription, d->p.image_rg, c->image_id);
	n = strlen(c->init) + 16;
	if (!(script = malloc(n)))
		goto out;
	snprintf(script, n, "#!/bin/sh\n%s\n", c->init);
	if (!(b64 = az_b64(script)))
		goto out;
	cJSON_AddStringToObject(root, "location", d->p.location);
	cJSON_AddItemToObject(root, "tags", cJSON_Duplicate(c->tags, 1));
	props = cJSON_AddObjectToObject(root, "properties");
	x = cJSON_AddObjectToObject(props, "hardwareProfile");
	cJSON_AddStringToObject(x, "vmSize", c->it_ptype);
	x = cJSON_AddObjectToObject(props, "storageProfile");
	if (!c->vhd)
		cJSON_AddStringToObject(cJSON_AddObjectToObject(x, "imageReference"), "id", img);
	y = cJSON_AddObjectToObject(x, "osDisk");
	cJSON_AddStringToObject(y, "osType", "Linux");
	snprintf(path, sizeof(path), "%s-os", c->name);
	cJSON_AddStringToObject(y, "name", path);
	cJSON_AddStringToObject(y, "createOption", "FromImage");
	if (c->vhd) {
		char vhd[700];

		if (az_vhd_url(d, c->name, vhd, sizeof(vhd)) < 0)
			goto out;
		cJSON_AddStringToObject(cJSON_AddObjectToObject(y, "image"), "uri", c->image_id);
		cJSON_AddStringToObject(cJSON_AddObjectToObject(y, "vhd"), "uri", vhd);
	}
	x = cJSON_AddObjectToObject(props, "networkProfile");
	y = cJSON_AddArrayToObject(x, "networkInterfaces");
	z = cJSON_CreateObject();
	cJSON_AddItemToArray(y, z);
	cJSON_AddStringToObject(z, "id", c->nic_id);
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(z, "properties"), "primary", 1);
	x = cJSON_AddObjectToObject(props, "osProfile");
	cJSON_AddStringToObject(x, "computerName", c->name);
	cJSON_AddStringToObject(x, "adminUsername", d->p.admin_user);
	cJSON_AddStringToObject(x, "customData", b64);
	y = cJSON_AddObjectToObject(x, "linuxConfiguration");
	cJSON_AddBoolToObject(y, "disablePasswordAuthentication", 1);
	if (c->pubkey) {
		z = cJSON_AddArrayToObject(cJSON_AddObjectToObject(y, "ssh"), "publicKeys");
		x = cJSON_CreateObject();
		cJSON_AddItemToArray(z, x);
		snprintf(path, sizeof(path), "/home/%s/.ssh/authorized_keys", d->p.admin_user);
		cJSON_AddStringToObject(x, "path", path);
		cJSON_AddStringToObject(x, "keyData", c->pubkey);
	}
	if (c->it.preemptible) {
		cJSON_AddStringToObject(props, "priority", "Spot");
		cJSON_AddStringToObject(props, "evictionPolicy", "Delete");
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(props, "billingProfile"),
					"maxPrice", -1);
	}
	out = cJSON_PrintUnformatted(root);
out:
	free(script);
	free(b64);
	cJSON_Delete(root);
	return out;
}

static void
az_create_on_nic(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;
	struct azure_nic n;
	char url[1024], *body;

	if (r->err.cls != DRV_OK) {
		c->err = r->err;
		if (r->err.http_status >= 400) {
			az_create_finish(c, &c->err, NULL);
			return;
		}
		az_create_delete_nic(c); /* it may exist in state Failed */
		return;
	}
	if (azure_nic_read(r->doc, &n) < 0 || !(c->nic_id = strdup(n.id)) ||
	    !(c->nic_ip = strdup(n.ip ? n.ip : ""))) {
		drv_error_set(&c->err, DRV_ERR_OTHER, "NIC PUT: the final NIC has no id");
		az_create_delete_nic(c);
		return;
	}
	body = az_vm_body(c);
	if (!body ||
	    az_res_url(c->d, url, sizeof(url), c->d->p.resource_group, "Microsoft.Compute",
		       "virtualMachines", c->name, AZ_API_COMPUTE) < 0 ||
	    az_call(c->d, "PUT", url, body, AZ_LRO | AZ_FINAL_GET, "VM PUT", &c->it,
		    az_create_on_vm, c) < 0) {
		free(body);
		drv_error_set(&c->err, DRV_ERR_OTHER, "VM PUT: out of memory");
		az_create_delete_nic(c);
		return;
	}
	free(body);
}

static void
az_on_early_create(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;

	az_create_finish(c, &r->err, NULL);
}

static int
az_random_suffix(char *buf, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char r[32];

	if (n > sizeof(r) || getrandom(r, n, 0) != (ssize_t)n)
		return -EIO;
	for (size_t i = 0; i < n; i++)
		buf[i] = al[r[i] % 36];
	buf[n] = 0;
	return 0;
}

static void
az_created_at(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

static char *
az_nic_body(struct az_create *c)
{
	struct azure_driver *d = c->d;
	cJSON *root = cJSON_CreateObject(), *ipc, *x;
	char subnet[1024];
	char *out;

	if (!root)
		return NULL;
	/* lowercase "virtualnetworks" as the reference sends it (ARM is case-insensitive) */
	snprintf(subnet, sizeof(subnet),
		 "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualnetworks/"
		 "%s/subnets/%s",
		 d->p.subscription, d->p.network_rg, d->p.network, d->p.subnet);
	cJSON_AddStringToObject(root, "location", d->p.location);
	cJSON_AddItemToObject(root, "tags", cJSON_Duplicate(c->tags, 1));
	ipc = cJSON_AddArrayToObject(cJSON_AddObjectToObject(root, "properties"),
				     "ipConfigurations");
	x = cJSON_CreateObject();
	cJSON_AddItemToArray(ipc, x);
	cJSON_AddStringToObject(x, "name", "ip1");
	x = cJSON_AddObjectToObject(x, "properties");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(x, "subnet"), "id", subnet);
	cJSON_AddStringToObject(x, "privateIPAllocationMethod", "Dynamic");
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return out;
}

static int az_create_nic(struct az_create *c);
static void az_create_keyed(void *arg, const struct az_result *r);

static int
az_create(struct drv *dd, const struct drv_itype *t, const char *image_id,
	  const struct drv_tags *tags, const char *init_command, const char *public_key,
	  drv_create_cb cb, void *arg)
{
	struct azure_driver *d = az_d(dd);
	struct az_create *c = calloc(1, sizeof(*c));
	char suffix[16], when[64];
	struct drv_error e;
	size_t kl;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->it_name, sizeof(c->it_name), "%s", t->name ? t->name : "");
	snprintf(c->it_ptype, sizeof(c->it_ptype), "%s",
		 t->provider_type && *t->provider_type ? t->provider_type : c->it_name);
	c->it = *t;
	c->it.name = c->it_name;
	c->it.provider_type = c->it_ptype;
	c->image_id = strdup(image_id ? image_id : "");
	c->init = strdup(init_command ? init_command : "");
	if (public_key && *public_key) {
		kl = strlen(public_key);
		if ((c->pubkey = malloc(kl + 2))) {
			memcpy(c->pubkey, public_key, kl + 1);
			if (public_key[kl - 1] != '\n')
				strcat(c->pubkey, "\n");
		}
	}
	c->tags = cJSON_CreateObject();
	if (!c->image_id || !c->init || (public_key && *public_key && !c->pubkey) || !c->tags ||
	    az_random_suffix(suffix, 15) < 0) {
		az_create_free(c);
		return -ENOMEM;
	}
	d->ops++;
	memset(&e, 0, sizeof(e));
	if (t->added_scratch > 0)
		drv_error_set(&e, DRV_ERR_OTHER,
			      "cannot create instance type \"%s\": driver does not implement "
			      "non-zero AddedScratch (%lld)",
			      c->it_name, (long long)t->added_scratch);
	else if ((*d->p.gallery != 0) != (*d->p.gallery_version != 0))
		drv_error_set(&e, DRV_ERR_OTHER,
			      "Invalid configuration: SharedImageGalleryName and "
			      "SharedImageGalleryImageVersion must be set together");
	else if ((c->vhd = strncmp(c->image_id, "http://", 7) == 0 ||
			   strncmp(c->image_id, "https://", 8) == 0) &&
		 !d->blob_base[0])
		drv_error_set(&e, DRV_ERR_OTHER,
			      "Invalid configuration: can't configure unmanaged image URL without "
			      "StorageAccount and BlobContainer");
	else if (!*c->image_id)
		drv_error_set(&e, DRV_ERR_OTHER, "Invalid configuration: ImageID is empty");
	if (e.text[0]) {
		if (az_fail_later(d, &e, az_on_early_create, c) < 0) {
			d->ops--;
			az_create_free(c);
			return -ENOMEM;
		}
		return 0;
	}
	snprintf(c->name, sizeof(c->name), "%.100s%.15s", d->prefix, suffix);
	for (size_t i = 0; tags && i < tags->n; i++)
		cJSON_AddStringToObject(c->tags, tags->v[i].key, tags->v[i].value);
	az_created_at(when, sizeof(when));
	cJSON_DeleteItemFromObjectCaseSensitive(c->tags, "created-at");
	cJSON_AddStringToObject(c->tags, "created-at", when);
	if (c->vhd) {
		log_kv(LOG_LVL_WARN, "azure: unmanaged VHD images are deprecated by Azure",
		       LF_STR("ImageID", c->image_id));
		if (az_storage_key(d, az_create_keyed, c) < 0) {
			d->ops--;
			az_create_free(c);
			return -ENOMEM;
		}
		return 0;
	}
	if (az_create_nic(c) < 0) {
		d->ops--;
		az_create_free(c);
		return -ENOMEM;
	}
	return 0;
}

static int
az_create_nic(struct az_create *c)
{
	struct azure_driver *d = c->d;
	char url[1024], *body;

	body = az_nic_body(c);
	char nicname[160];

	snprintf(nicname, sizeof(nicname), "%s-nic", c->name);
	if (!body ||
	    az_res_url(d, url, sizeof(url), d->p.resource_group, "Microsoft.Network",
		       "networkInterfaces", nicname, AZ_API_NETWORK) < 0 ||
	    az_call(d, "PUT", url, body, AZ_LRO | AZ_FINAL_GET, "NIC PUT", &c->it, az_create_on_nic,
		    c) < 0) {
		free(body);
		return -ENOMEM; /* c untouched: the caller cleans up */
	}
	free(body);
	return 0;
}

/* The storage account key is known (or could not be had: Create fails as the reference's
 * instance set does). */
static void
az_create_keyed(void *arg, const struct az_result *r)
{
	struct az_create *c = arg;
	struct drv_error e;

	if (r->err.cls != DRV_OK) {
		az_create_finish(c, &r->err, NULL);
		return;
	}
	if (az_create_nic(c) < 0) {
		drv_error_set(&e, DRV_ERR_OTHER, "NIC PUT: out of memory");
		az_create_finish(c, &e, NULL);
	}
}

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
static void
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

static int
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

static int
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
		for (size_t i = 0; i < n; i++)
			free(p->ids[i]);
		free(p->ids);
		free(p->errs);
		free(p);
		return -ENOMEM;
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

static int
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
static void
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

static void
az_gc_closed(uv_handle_t *h)
{
	free(h);
}

/* ---- local operations ---- */

static const char *
az_address(struct drv *d, const struct drv_instance *inst)
{
	(void)d;
	return inst->address ? inst->address : "";
}

static const char *
az_remote_user(struct drv *d)
{
	return az_d(d)->p.admin_user;
}

static int
az_price_history(struct drv *d, const struct drv_instance *inst, const struct drv_itype *t,
		 struct drv_price **out, size_t *n)
{
	(void)d;
	(void)inst;
	(void)t;
	*out = NULL;
	*n = 0;
	return 0;
}

/* Beyond the reference (""): Azure counts spot and regular vCPUs in separate quotas. */
static int
az_quota_group(struct drv *d, const struct drv_itype *t, char *buf, size_t len)
{
	(void)d;
	return (size_t)snprintf(buf, len, "%s", t->preemptible ? "spot" : "regular") >= len
		       ? -ENOSPC
		       : 0;
}

static void
az_free(struct drv *dd)
{
	struct azure_driver *d = az_d(dd);

	if (!d)
		return;
	if (d->gc_timer) {
		uv_timer_stop(d->gc_timer);
		uv_close((uv_handle_t *)d->gc_timer, az_gc_closed);
	}
	cu_free(d->cu);
	azure_token_free(&d->tok);
	adc_free_secret_str(d->blob_key);
	azure_params_free(&d->p);
	free(d->ca);
	free(d->set_id);
	for (size_t i = 0; i < d->n_nic_deleting; i++)
		free(d->nic_deleting[i]);
	free(d->nic_deleting);
	adc_wipe(d, sizeof(*d));
	free(d);
}

static const struct drv_ops az_ops = {
	.create = az_create,
	.list = az_list,
	.destroy = az_destroy,
	.set_tags = az_set_tags,
	.address = az_address,
	.remote_user = az_remote_user,
	.price_history = az_price_history,
	.quota_group = az_quota_group,
	.free = az_free,
};

size_t
azure_driver_active(struct drv *d)
{
	return az_d(d)->active;
}

void
azure_driver_stats(struct drv *d, struct azure_stats *out)
{
	*out = az_d(d)->stats;
	out->disks_deleted = az_d(d)->disks_deleted;
	out->blobs_deleted = az_d(d)->blobs_deleted;
}

static int
az_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b;
	size_t n;

	*out = NULL;
	if (!f)
		return -errno;
	b = malloc(max + 1);
	if (!b) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(b, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(b);
		return -EFBIG;
	}
	b[n] = 0;
	*out = b;
	*len = n;
	return 0;
}

int
azure_driver_new(uv_loop_t *loop, const cJSON *params, const struct azure_driver_opts *o,
		 struct drv **out, char *err, size_t errlen)
{
	struct azure_driver *d = calloc(1, sizeof(*d));
	struct azure_driver_opts none = { 0 };
	char *envbuf = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (!o)
		o = &none;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->drv.ops = &az_ops;
	d->loop = loop;
	if ((r = azure_params_parse(params, &d->p, err, errlen)) < 0) {
		free(d);
		return r;
	}
	r = -EINVAL;
	if (!o->instance_set_id || !*o->instance_set_id ||
	    strlen(o->instance_set_id) > sizeof(d->prefix) - 16) {
		snprintf(err, errlen, "Azure driver: no InstanceSetID");
		goto fail;
	}
	if (!*d->p.subscription || !*d->p.tenant || !*d->p.client_id || !*d->p.client_secret ||
	    !*d->p.resource_group) {
		snprintf(err, errlen, "Azure DriverParameters: %s is empty",
			 !*d->p.subscription	? "SubscriptionID"
			 : !*d->p.tenant	? "TenantID"
			 : !*d->p.client_id	? "ClientID"
			 : !*d->p.client_secret ? "ClientSecret"
						: "ResourceGroup");
		goto fail;
	}
	if (strcasecmp(d->p.cloud_env, "AzureStackCloud") == 0 && !o->env_json) {
		const char *path = o->env_file ? o->env_file : getenv("AZURE_ENVIRONMENT_FILEPATH");

		if (!path || !*path) {
			snprintf(err, errlen,
				 "CloudEnvironment AzureStackCloud needs "
				 "AZURE_ENVIRONMENT_FILEPATH");
			goto fail;
		}
		if ((r = az_read_file(path, 1 << 20, &envbuf, &len)) < 0) {
			snprintf(err, errlen, "cannot read the Azure environment file %.200s: %s",
				 path, strerror(-r));
			goto fail;
		}
		r = -EINVAL;
	}
	if (azure_env_resolve(d->p.cloud_env, o->env_json ? o->env_json : envbuf, &d->env, err,
			      errlen) < 0)
		goto fail;
	free(envbuf);
	envbuf = NULL;
	if (o->ca_pem && o->ca_pem_len) {
		if (!(d->ca = malloc(o->ca_pem_len)))
			goto nomem;
		memcpy(d->ca, o->ca_pem, o->ca_pem_len);
		d->ca_len = o->ca_pem_len;
	} else if (o->ca_file && *o->ca_file) {
		if ((r = az_read_file(o->ca_file, 16 << 20, (char **)&d->ca, &d->ca_len)) < 0) {
			snprintf(err, errlen, "cannot read the CA bundle %.200s: %s", o->ca_file,
				 strerror(-r));
			goto fail;
		}
	}
	if ((*d->p.storage_account != 0) != (*d->p.blob_container != 0))
		log_kv(LOG_LVL_ERROR,
		       "azure: StorageAccount and BlobContainer must be set together; unmanaged "
		       "VHD support is off",
		       LF_STR("StorageAccount", d->p.storage_account),
		       LF_STR("BlobContainer", d->p.blob_container));
	snprintf(d->prefix, sizeof(d->prefix), "compute-%s-", o->instance_set_id);
	if (*d->p.storage_account && *d->p.blob_container) {
		if (d->env.blob_endpoint[0])
			snprintf(d->blob_base, sizeof(d->blob_base), "%s", d->env.blob_endpoint);
		else
			snprintf(d->blob_base, sizeof(d->blob_base), "https://%.100s.blob.%.150s",
				 d->p.storage_account, d->env.storage_suffix);
		size_t bl = strlen(d->blob_base);

		while (bl > 0 && d->blob_base[bl - 1] == '/')
			d->blob_base[--bl] = 0;
	}
	d->set_id = strdup(o->instance_set_id);
	d->connect_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 30000;
	d->total_ms = o->timeout_ms > 0 ? o->timeout_ms : 300000;
	d->lro_ms = o->lro_timeout_ms > 0 ? o->lro_timeout_ms : 900000;
	d->poll_default_ms = o->poll_default_ms > 0 ? o->poll_default_ms : 10000;
	d->max_body = o->max_body ? o->max_body : (64u << 20);
	if (!d->set_id || cu_new(loop, &d->cu) < 0)
		goto nomem;
	if (o->gc_interval_ms >= 0) {
		long iv = o->gc_interval_ms > 0 ? o->gc_interval_ms : 300000;

		if (!(d->gc_timer = malloc(sizeof(*d->gc_timer)))) {
			cu_free(d->cu);
			goto nomem;
		}
		uv_timer_init(loop, d->gc_timer);
		d->gc_timer->data = d;
		uv_timer_start(d->gc_timer, az_gc_tick, (uint64_t)iv, (uint64_t)iv);
		uv_unref((uv_handle_t *)d->gc_timer); /* never keeps the loop alive alone */
	}
	*out = &d->drv;
	return 0;
nomem:
	r = -ENOMEM;
	snprintf(err, errlen, "out of memory");
fail:
	free(envbuf);
	free(d->ca);
	free(d->set_id);
	azure_params_free(&d->p);
	free(d);
	return r;
}

int
azure_preload(struct azure_preload *p, char *err, size_t errlen)
{
	const char *env = getenv("AZURE_ENVIRONMENT_FILEPATH"), *ca = getenv("SSL_CERT_FILE");
	size_t len;
	int r;

	memset(p, 0, sizeof(*p));
	if (env && *env && (r = az_read_file(env, 1 << 20, &p->env_json, &len)) < 0) {
		snprintf(err, errlen, "cannot read AZURE_ENVIRONMENT_FILEPATH %.200s: %s", env,
			 strerror(-r));
		return -1;
	}
	if (ca && *ca &&
	    (r = az_read_file(ca, 16 << 20, (char **)&p->ca_pem, &p->ca_pem_len)) < 0) {
		snprintf(err, errlen, "cannot read SSL_CERT_FILE %.200s: %s", ca, strerror(-r));
		azure_preload_free(p);
		return -1;
	}
	return 0;
}

void
azure_preload_free(struct azure_preload *p)
{
	free(p->env_json);
	free(p->ca_pem);
	memset(p, 0, sizeof(*p));
}
