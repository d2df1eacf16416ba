/*
 * azure_create.c - the Azure driver's Create (3.5): the NIC, then the VM (their request
 * bodies), and the clean-up of a failed create.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <mbedtls/base64.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

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

int
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
