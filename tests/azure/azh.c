/* azh.c - see azh.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azh.h"

long azh_gc_interval_ms = -1;
static struct azh *azh_started; /* for azh_reset */

int
azh_start(struct azh *h, const char *const *args)
{
	FILE *f;
	const cJSON *env;
	char *txt;

	memset(h, 0, sizeof(*h));
	azh_started = h;
	uv_loop_init(&h->loop);
	if (fake_start(&h->f, FAKE_AZURE_PY, args) < 0)
		return -1;
	env = cJSON_GetObjectItem(h->f.info, "environment");
	snprintf(h->envfile, sizeof(h->envfile), "%s/azure-env.json", h->f.dir);
	f = fopen(h->envfile, "w");
	txt = cJSON_Print(env);
	if (!f || !txt) {
		if (f)
			fclose(f);
		free(txt);
		return -1;
	}
	fputs(txt, f);
	fclose(f);
	free(txt);
	return 0;
}

void
azh_stop(struct azh *h)
{
	fake_stop(&h->f);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_loop_close(&h->loop);
}

cJSON *
azh_params(struct azh *h, const char *extra_json)
{
	cJSON *p = cJSON_Parse(
		"{\"SubscriptionID\":\"sub-1\",\"TenantID\":\"tenant-1\","
		"\"ClientID\":\"client-1\",\"ClientSecret\":\"s3cr3t-client\","
		"\"CloudEnvironment\":\"AzureStackCloud\",\"Location\":\"centralus\","
		"\"ResourceGroup\":\"rg1\",\"Network\":\"vnet1\",\"Subnet\":\"subnet1\","
		"\"DeleteDanglingResourcesAfter\":\"20s\"}");
	cJSON *x = extra_json ? cJSON_Parse(extra_json) : NULL, *it;

	(void)h;
	cJSON_ArrayForEach(it, x)
	{
		cJSON_DeleteItemFromObject(p, it->string);
		cJSON_AddItemToObject(p, it->string, cJSON_Duplicate(it, 1));
	}
	cJSON_Delete(x);
	return p;
}

struct drv *
azh_driver(struct azh *h, const char *extra_json)
{
	cJSON *p = azh_params(h, extra_json);
	struct azure_driver_opts o = {
		.instance_set_id = AZH_SET_ID,
		.env_file = h->envfile,
		.ca_file = h->f.ca,
		.timeout_ms = 20000,
		.lro_timeout_ms = 30000,
		.poll_default_ms = 50,
		.gc_interval_ms = azh_gc_interval_ms,
	};
	struct drv *d = NULL;
	char err[512];

	if (azure_driver_new(&h->loop, p, &o, &d, err, sizeof(err)) < 0) {
		fprintf(stderr, "azure_driver_new: %s\n", err);
		d = NULL;
	}
	cJSON_Delete(p);
	return d;
}

static void
azh_on_create(void *arg, const struct drv_error *e, const struct drv_instance *i)
{
	struct op_result *r = arg;

	r->done = true;
	if (e && e->cls != DRV_OK) {
		r->failed = true;
		r->err = *e;
	}
	if (i) {
		r->inst.id = strdup(i->id);
		r->inst.provider_type = strdup(i->provider_type);
		r->inst.address = strdup(i->address);
		r->inst.subnet_id = strdup(i->subnet_id);
		r->inst.state = strdup(i->state);
		r->inst.az = strdup(i->az);
		r->inst.spot = i->spot;
		drv_tags_copy(&r->inst.tags, &i->tags);
	}
}

int
azh_create_start(struct drv *d, const struct drv_itype *t, const char *image,
		 const struct drv_tags *tags, const char *pubkey, struct op_result *r)
{
	memset(r, 0, sizeof(*r));
	return d->ops->create(d, t, image, tags, AZH_INIT, pubkey, azh_on_create, r);
}

void
azh_wait(struct azh *h, struct op_result *r)
{
	while (!r->done)
		uv_run(&h->loop, UV_RUN_ONCE);
}

int
azh_create(struct azh *h, struct drv *d, const struct drv_itype *t, const char *image,
	   const struct drv_tags *tags, const char *pubkey, struct op_result *r)
{
	int rc = azh_create_start(d, t, image, tags, pubkey, r);

	if (rc == 0)
		azh_wait(h, r);
	return rc;
}

cJSON *
azh_state(struct azh *h)
{
	return fake_ctl(&h->f, "GET", "/_fake/state", NULL);
}

cJSON *
azh_requests(struct azh *h, cJSON **root)
{
	*root = fake_ctl(&h->f, "GET", "/_fake/requests", NULL);
	return cJSON_GetObjectItem(*root, "requests");
}

int
azh_count(struct azh *h, const char *method, const char *path_part)
{
	cJSON *root, *reqs = azh_requests(h, &root), *it;
	int n = 0;

	cJSON_ArrayForEach(it, reqs)
	{
		const char *m = cJSON_GetStringValue(cJSON_GetObjectItem(it, "method"));
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(it, "path"));

		if ((!method || (m && strcmp(m, method) == 0)) &&
		    (!path_part || (p && strstr(p, path_part))))
			n++;
	}
	cJSON_Delete(root);
	return n;
}

int
azh_fault(struct azh *h, const char *json)
{
	return fake_ctl0(&h->f, "POST", "/_fake/faults", json);
}

int
azh_count_op(struct azh *h, const char *op)
{
	cJSON *root, *reqs = azh_requests(h, &root), *it;
	int n = 0;

	cJSON_ArrayForEach(it, reqs)
	{
		const char *o = cJSON_GetStringValue(cJSON_GetObjectItem(it, "op"));

		n += o && strcmp(o, op) == 0;
	}
	cJSON_Delete(root);
	return n;
}

int
azh_reset(void **st)
{
	(void)st;
	return azh_started ? fake_ctl0(&azh_started->f, "POST", "/_fake/reset", NULL) : -1;
}

struct drv_tags
azh_tags(void)
{
	struct drv_tags t = { 0 };

	drv_tags_add(&t, "ArvadosInstanceSetID", AZH_SET_ID);
	drv_tags_add(&t, "ArvadosInstanceType", "small");
	drv_tags_add(&t, "ArvadosInstanceSecret", "0123456789abcdef0123456789abcdef01234567");
	return t;
}

void
azh_keep_alive(uv_timer_t *t)
{
	(void)t;
}
