/*
 * azure_driver.c - the Azure driver object behind struct drv: resource URLs and names,
 * instances from VMs, the local operations, creation and freeing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "azure_int.h"
#include "log.h"
#include "util.h"

struct azure_driver *
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
const char *
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

bool
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

int
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

bool
az_tags_match(const struct drv_instance *i, const struct drv_tags *filter)
{
	for (size_t k = 0; filter && k < filter->n; k++) {
		const char *v = drv_tags_get(&i->tags, filter->v[k].key);

		if (!v || strcmp(v, filter->v[k].value) != 0)
			return false;
	}
	return true;
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
	az_regs_free(d);
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
