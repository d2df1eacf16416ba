/* ec2_create.c - Create: key pair resolution (2.3), RunInstances (2.4.1), subnet failover
 * (2.4.3) with a ClientToken per subnet attempt, error classification (2.6). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_driver.h"
#include "ec2_keypair.h"
#include "ec2_sign.h"

struct ec2_cop {
	struct ec2_driver *d;
	char *ptype, *image, *user_data, *pubkey, *key, *keyname;
	double price;
	bool preemptible;
	int64_t added_scratch;
	struct drv_tags tags;
	struct ec2_fps fps;
	size_t start, k;
	struct drv_error cap_err;
	bool have_cap;
	char qg[64];
	drv_create_cb cb;
	void *arg;
	uv_timer_t defer;
	struct drv_error early;
};

static void
ec2_cop_closed(uv_handle_t *h)
{
	struct ec2_cop *c = h->data;

	free(c->ptype);
	free(c->image);
	free(c->user_data);
	free(c->pubkey);
	free(c->key);
	free(c->keyname);
	drv_tags_free(&c->tags);
	free(c);
}

static void
ec2_cop_finish(struct ec2_cop *c, const struct drv_error *e, const struct drv_instance *inst)
{
	c->cb(c->arg, e, inst);
	uv_close((uv_handle_t *)&c->defer, ec2_cop_closed);
}

static void
ec2_cop_on_defer(uv_timer_t *t)
{
	struct ec2_cop *c = t->data;

	ec2_cop_finish(c, &c->early, NULL);
}

/* An unclassified failure, delivered from the loop. */
static void
ec2_cop_fail(struct ec2_cop *c, const char *text)
{
	char copy[sizeof(c->early.text)];

	snprintf(copy, sizeof(copy), "%.*s", (int)sizeof(copy) - 1,
		 text); /* text may be c->early.text itself */
	drv_error_set(&c->early, DRV_ERR_OTHER, "%s", copy);
	uv_timer_start(&c->defer, ec2_cop_on_defer, 0, 0);
}

static void
ec2_cop_describe_err(struct ec2_cop *c, struct drv_error *e)
{
	snprintf(e->instance_type, sizeof(e->instance_type), "%s", c->ptype);
	snprintf(e->quota_group, sizeof(e->quota_group), "%s", c->qg);
	e->spot = c->preemptible;
}

static void ec2_run_attempt(struct ec2_cop *c);

static void
ec2_cop_on_run(void *arg, const struct ec2_reply *r)
{
	struct ec2_cop *c = arg;
	struct ec2_driver *d = c->d;
	size_t n = d->p.n_subnets, idx = n ? (c->start + c->k) % n : 0;
	const struct ec2_xnode *item = ec2_xml_path(r->root, "instancesSet/item");
	struct drv_instance inst;
	struct drv_error e = r->err;

	if (r->err.cls == DRV_OK && item) {
		d->stats[idx].starts_ok++;
		d->subnet_cur = idx;
		if (ec2_instance_parse(item, &c->tags, &inst) == 0) {
			/* design.md: the back-off resets after a success (the reference does not) */
			ec2_backoff_reset(&d->bo_create);
			ec2_cop_finish(c, NULL, &inst);
			drv_instance_free(&inst);
			return;
		}
		drv_error_set(&e, DRV_ERR_OTHER, "RunInstances: answer has no usable instance");
	} else if (r->err.cls == DRV_OK) {
		drv_error_set(&e, DRV_ERR_OTHER, "RunInstances: answer has no instance");
		d->stats[idx].starts_fail++;
	} else {
		d->stats[idx].starts_fail++;
	}
	ec2_cop_describe_err(c, &e);
	switch (ec2_err_kind(e.code, r->message)) {
	case EC2_ERRK_CAPACITY_GROUP:
	case EC2_ERRK_CAPACITY_TYPE:
		c->cap_err = e;
		ec2_err_classify(&c->cap_err, r->message, NULL, ec2_wall_ms());
		c->have_cap = true;
		break;
	default:
		break;
	}
	if (ec2_err_subnet_specific(e.code, r->message) && n && c->k + 1 < n) {
		c->k++;
		ec2_run_attempt(c);
		return;
	}
	d->subnet_cur = idx;
	if (c->have_cap) {
		e = c->cap_err;
	} else {
		ec2_err_classify(&e, r->message, &d->bo_create, ec2_wall_ms());
	}
	ec2_cop_finish(c, &e, NULL);
}

/* ClientToken: derived from the caller's key and the subnet (same on a re-issued Create,
 * different per subnet attempt), else a fresh UUID per attempt. */
static int
ec2_client_token(const struct ec2_cop *c, const char *subnet, char *buf, size_t len)
{
	char *s = NULL, h[65];

	if (!c->key)
		return ec2_random_token(buf, len);
	if (asprintf(&s, "%s/%s", c->key, subnet) < 0)
		return -ENOMEM;
	ec2_sha256_hex(s, strlen(s), h);
	free(s);
	snprintf(buf, len, "%.32s", h);
	return 0;
}

static void
ec2_run_query(struct ec2_cop *c, struct ec2_query *q, const char *subnet, const char *token)
{
	struct ec2_driver *d = c->d;
	char num[64];

	ec2_query_init(q, "RunInstances");
	ec2_query_add(q, "ImageId", c->image);
	ec2_query_add(q, "InstanceType", c->ptype);
	ec2_query_add(q, "MinCount", "1");
	ec2_query_add(q, "MaxCount", "1");
	ec2_query_add(q, "NetworkInterface.1.DeviceIndex", "0");
	ec2_query_add(q, "NetworkInterface.1.AssociatePublicIpAddress", "false");
	ec2_query_add(q, "NetworkInterface.1.DeleteOnTermination", "true");
	for (size_t i = 0; i < d->p.n_sgs; i++)
		ec2_query_addf(q, d->p.sgs[i], "NetworkInterface.1.SecurityGroupId.%zu", i + 1);
	if (*subnet)
		ec2_query_add(q, "NetworkInterface.1.SubnetId", subnet);
	ec2_query_add(q, "DisableApiTermination", "false");
	ec2_query_add(q, "InstanceInitiatedShutdownBehavior", "terminate");
	if (c->tags.n)
		ec2_query_add(q, "TagSpecification.1.ResourceType", "instance");
	for (size_t i = 0; i < c->tags.n; i++) {
		ec2_query_addf(q, c->tags.v[i].key, "TagSpecification.1.Tag.%zu.Key", i + 1);
		ec2_query_addf(q, c->tags.v[i].value, "TagSpecification.1.Tag.%zu.Value", i + 1);
	}
	ec2_query_add(q, "MetadataOptions.HttpEndpoint", "enabled");
	ec2_query_add(q, "MetadataOptions.HttpTokens", "required");
	ec2_query_add(q, "UserData", c->user_data);
	if (c->keyname)
		ec2_query_add(q, "KeyName", c->keyname);
	if (c->added_scratch > 0) {
		int64_t gib = (c->added_scratch + (1LL << 30) - 1) >> 30;

		snprintf(num, sizeof(num), "%lld", (long long)gib);
		ec2_query_add(q, "BlockDeviceMapping.1.DeviceName", "/dev/xvdt");
		ec2_query_add(q, "BlockDeviceMapping.1.Ebs.VolumeSize", num);
		ec2_query_add(q, "BlockDeviceMapping.1.Ebs.VolumeType", d->p.ebs_type);
		ec2_query_add(q, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
	}
	if (c->preemptible) {
		ec2_query_add(q, "InstanceMarketOptions.MarketType", "spot");
		ec2_query_add(q, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
			      "terminate");
		/* 9: a MaxPrice of 0 fails every launch; no price means "up to on-demand" */
		if (c->price > 0) {
			ec2_format_price(c->price, num, sizeof(num));
			ec2_query_add(q, "InstanceMarketOptions.SpotOptions.MaxPrice", num);
		}
	}
	if (d->p.iam_profile[0])
		ec2_query_add(q, "IamInstanceProfile.Name", d->p.iam_profile);
	ec2_query_add(q, "ClientToken", token);
}

static void
ec2_run_attempt(struct ec2_cop *c)
{
	struct ec2_driver *d = c->d;
	size_t n = d->p.n_subnets;
	const char *subnet = n ? d->p.subnets[(c->start + c->k) % n] : "";
	char token[72];
	struct ec2_query q;

	if (ec2_client_token(c, subnet, token, sizeof(token)) < 0) {
		ec2_cop_fail(c, "RunInstances: cannot make a ClientToken");
		return;
	}
	ec2_run_query(c, &q, subnet, token);
	if (ec2_query_done(&q) < 0 || ec2_call(d->cl, "RunInstances", &q, 1, ec2_cop_on_run, c) < 0)
		ec2_cop_fail(c, "RunInstances: out of memory");
}

static int
ec2_kp_remember(struct ec2_driver *d, const char *fp0, const char *name)
{
	struct ec2_kp_cache *n = realloc(d->kp, (d->n_kp + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	d->kp = n;
	snprintf(n[d->n_kp].fp0, sizeof(n[d->n_kp].fp0), "%s", fp0);
	snprintf(n[d->n_kp].name, sizeof(n[d->n_kp].name), "%s", name);
	d->n_kp++;
	return 0;
}

static void
ec2_cop_use_key(struct ec2_cop *c, const char *name, bool remember)
{
	c->keyname = strdup(name);
	if (!c->keyname || (remember && ec2_kp_remember(c->d, c->fps.fp[0], name) < 0)) {
		ec2_cop_fail(c, "Could not import keypair: out of memory");
		return;
	}
	ec2_run_attempt(c);
}

static void
ec2_cop_on_import(void *arg, const struct ec2_reply *r)
{
	struct ec2_cop *c = arg;
	char name[200];

	snprintf(name, sizeof(name), "arvados-dispatch-keypair-%s", c->fps.fp[0]);
	/* The name is a function of the fingerprint: a Duplicate is another dispatcher's
	 * import of this very key (9: the reference fails Create on that race). */
	if (r->err.cls == DRV_OK || strcmp(r->err.code, "InvalidKeyPair.Duplicate") == 0) {
		ec2_cop_use_key(c, name, true);
		return;
	}
	char msg[sizeof(r->err.text) + 64];

	snprintf(msg, sizeof(msg), "Could not import keypair: %s", r->err.text);
	ec2_cop_fail(c, msg);
}

static void
ec2_cop_on_describe_kp(void *arg, const struct ec2_reply *r)
{
	struct ec2_cop *c = arg;
	const char *name = ec2_xml_text(r->root, "keySet/item/keyName");
	struct ec2_query q;
	char *line = NULL, *b64 = NULL, kn[200];

	if (r->err.cls != DRV_OK) {
		char msg[sizeof(r->err.text) + 64];

		snprintf(msg, sizeof(msg), "Could not search for keypair: %s", r->err.text);
		ec2_cop_fail(c, msg);
		return;
	}
	if (name && *name) {
		/* Cached too, unlike the reference (9: DescribeKeyPairs repeated per Create). */
		ec2_cop_use_key(c, name, true);
		return;
	}
	snprintf(kn, sizeof(kn), "arvados-dispatch-keypair-%s", c->fps.fp[0]);
	if (asprintf(&line, "%s\n", c->pubkey) < 0 || ec2_base64(line, strlen(line), &b64) < 0) {
		free(line);
		ec2_cop_fail(c, "Could not import keypair: out of memory");
		return;
	}
	free(line);
	ec2_query_init(&q, "ImportKeyPair");
	ec2_query_add(&q, "KeyName", kn);
	ec2_query_add(&q, "PublicKeyMaterial", b64);
	free(b64);
	if (ec2_query_done(&q) < 0 ||
	    ec2_call(c->d->cl, "ImportKeyPair", &q, 0, ec2_cop_on_import, c) < 0)
		ec2_cop_fail(c, "Could not import keypair: out of memory");
}

static void
ec2_cop_resolve_key(struct ec2_cop *c)
{
	struct ec2_driver *d = c->d;
	char err[200];
	struct ec2_query q;

	if (ec2_key_fingerprints(c->pubkey, &c->fps, err, sizeof(err)) < 0) {
		ec2_cop_fail(c, err);
		return;
	}
	for (size_t i = 0; i < d->n_kp; i++) {
		if (strcmp(d->kp[i].fp0, c->fps.fp[0]) == 0) {
			c->keyname = strdup(d->kp[i].name);
			if (!c->keyname)
				ec2_cop_fail(c, "out of memory");
			else
				ec2_run_attempt(c);
			return;
		}
	}
	ec2_query_init(&q, "DescribeKeyPairs");
	ec2_query_add(&q, "Filter.1.Name", "fingerprint");
	ec2_query_add(&q, "Filter.1.Value.1", c->fps.fp[0]);
	ec2_query_add(&q, "Filter.1.Value.2", c->fps.fp[1]);
	if (ec2_query_done(&q) < 0 ||
	    ec2_call(d->cl, "DescribeKeyPairs", &q, 0, ec2_cop_on_describe_kp, c) < 0)
		ec2_cop_fail(c, "Could not search for keypair: out of memory");
}

static int
ec2_cop_new(struct ec2_driver *d, const struct drv_itype *t, const char *image_id,
	    const struct drv_tags *tags, const char *init_command, const char *public_key,
	    const char *key, struct ec2_cop **out)
{
	struct ec2_cop *c = calloc(1, sizeof(*c));
	char *script = NULL;
	const char *pt = t->provider_type && *t->provider_type ? t->provider_type : t->name;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->ptype = strdup(pt);
	c->image = strdup(image_id);
	c->price = t->price;
	c->preemptible = t->preemptible;
	c->added_scratch = t->added_scratch;
	if (public_key && *public_key)
		c->pubkey = strndup(public_key, strcspn(public_key, "\r\n"));
	if (key)
		c->key = strdup(key);
	if (asprintf(&script, "#!/bin/sh\n%s\n", init_command) < 0)
		script = NULL;
	if (!c->ptype || !c->image || !script || (public_key && *public_key && !c->pubkey) ||
	    (key && !c->key) || drv_tags_copy(&c->tags, tags) < 0 ||
	    ec2_base64(script, strlen(script), &c->user_data) < 0) {
		free(script);
		free(c->ptype);
		free(c->image);
		free(c->pubkey);
		free(c->key);
		drv_tags_free(&c->tags);
		free(c->user_data);
		free(c);
		return -ENOMEM;
	}
	free(script);
	ec2_quota_group(d->p.qg, d->p.n_qg, c->ptype, c->preemptible, c->qg, sizeof(c->qg));
	uv_timer_init(d->loop, &c->defer);
	c->defer.data = c;
	*out = c;
	return 0;
}

int
ec2_create_keyed(struct drv *dv, const struct drv_itype *t, const char *image_id,
		 const struct drv_tags *tags, const char *init_command, const char *public_key,
		 const char *key, drv_create_cb cb, void *arg)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;
	struct ec2_cop *c;
	int rc;

	if (!t || !image_id || !init_command || !cb)
		return -EINVAL;
	rc = ec2_cop_new(d, t, image_id, tags, init_command, public_key, key, &c);
	if (rc)
		return rc;
	c->cb = cb;
	c->arg = arg;
	c->start = d->subnet_cur;
	if (c->pubkey)
		ec2_cop_resolve_key(c);
	else
		ec2_run_attempt(c);
	return 0;
}

int
ec2_create(struct drv *d, const struct drv_itype *t, const char *image_id,
	   const struct drv_tags *tags, const char *init_command, const char *public_key,
	   drv_create_cb cb, void *arg)
{
	return ec2_create_keyed(d, t, image_id, tags, init_command, public_key, NULL, cb, arg);
}
