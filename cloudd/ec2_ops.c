/* ec2_ops.c - the EC2 driver object: construction, Destroy (batched TerminateInstances),
 * SetTags (CreateTags), and the local operations (address, user, prices, quota group). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_driver.h"

#define EC2_TERMINATE_BATCH 1000

/* ---- Destroy ---- */

struct ec2_dop {
	struct ec2_driver *d;
	char **ids;
	struct drv_error *errs;
	size_t n;
	size_t *batch; /* indexes of the ids in the call in flight */
	size_t n_batch;
	size_t next; /* first id not yet sent */
	bool resent; /* the NotFound follow-up was sent for this batch */
	drv_destroy_cb cb;
	void *arg;
};

static void ec2_dop_send(struct ec2_dop *o);

static void
ec2_dop_end(struct ec2_dop *o)
{
	o->cb(o->arg, o->n, (const char *const *)o->ids, o->errs);
	for (size_t i = 0; i < o->n; i++)
		free(o->ids[i]);
	free(o->ids);
	free(o->errs);
	free(o->batch);
	free(o);
}

static void
ec2_dop_next(struct ec2_dop *o)
{
	if (o->next >= o->n) {
		ec2_dop_end(o);
		return;
	}
	o->n_batch = 0;
	o->resent = false;
	while (o->next < o->n && o->n_batch < EC2_TERMINATE_BATCH)
		o->batch[o->n_batch++] = o->next++;
	ec2_dop_send(o);
}

static void
ec2_dop_on_answer(void *arg, const struct ec2_reply *r)
{
	struct ec2_dop *o = arg;
	struct drv_error e = r->err;
	size_t keep = 0;

	if (e.cls == DRV_OK) {
		ec2_dop_next(o);
		return;
	}
	ec2_err_classify(&e, r->message, NULL, ec2_wall_ms());
	/* EC2 fails the whole call when any id is unknown and names the unknown ones: those
	 * get the error, the others go out once more (a new call, not a retry of this one). */
	if (!o->resent && strcmp(e.code, "InvalidInstanceID.NotFound") == 0) {
		for (size_t i = 0; i < o->n_batch; i++) {
			size_t k = o->batch[i];

			if (strstr(r->message, o->ids[k]))
				o->errs[k] = e;
			else
				o->batch[keep++] = k;
		}
		if (keep && keep < o->n_batch) {
			o->n_batch = keep;
			o->resent = true;
			ec2_dop_send(o);
			return;
		}
	}
	for (size_t i = 0; i < o->n_batch; i++)
		o->errs[o->batch[i]] = e;
	ec2_dop_next(o);
}

static void
ec2_dop_send(struct ec2_dop *o)
{
	struct ec2_query q;

	ec2_query_init(&q, "TerminateInstances");
	for (size_t i = 0; i < o->n_batch; i++)
		ec2_query_addf(&q, o->ids[o->batch[i]], "InstanceId.%zu", i + 1);
	if (ec2_query_done(&q) < 0 || ec2_call(o->d->cl, "TerminateInstances", &q,
					       (double)o->n_batch, ec2_dop_on_answer, o) < 0) {
		/* cannot happen after the first call without ENOMEM; report and stop */
		for (size_t i = 0; i < o->n_batch; i++)
			drv_error_set(&o->errs[o->batch[i]], DRV_ERR_OTHER,
				      "TerminateInstances: out of memory");
		o->next = o->n;
		ec2_dop_end(o);
	}
}

static int
ec2_destroy(struct drv *dv, const char *const *ids, size_t n, drv_destroy_cb cb, void *arg)
{
	struct ec2_dop *o;
	struct ec2_query q;

	if (!n || !cb)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->d = (struct ec2_driver *)dv;
	o->cb = cb;
	o->arg = arg;
	o->n = n;
	o->ids = calloc(n, sizeof(*o->ids));
	o->errs = calloc(n, sizeof(*o->errs));
	o->batch = calloc(n < EC2_TERMINATE_BATCH ? n : EC2_TERMINATE_BATCH, sizeof(*o->batch));
	for (size_t i = 0; o->ids && i < n; i++)
		if (!(o->ids[i] = strdup(ids[i])))
			break;
	if (!o->ids || !o->errs || !o->batch || !o->ids[n - 1]) {
		for (size_t i = 0; o->ids && i < n; i++)
			free(o->ids[i]);
		free(o->ids);
		free(o->errs);
		free(o->batch);
		free(o);
		return -ENOMEM;
	}
	/* First batch sent here so that a failure to start is reported to the caller. */
	while (o->next < n && o->n_batch < EC2_TERMINATE_BATCH)
		o->batch[o->n_batch++] = o->next++;
	ec2_query_init(&q, "TerminateInstances");
	for (size_t i = 0; i < o->n_batch; i++)
		ec2_query_addf(&q, o->ids[o->batch[i]], "InstanceId.%zu", i + 1);
	if (ec2_query_done(&q) < 0 || ec2_call(o->d->cl, "TerminateInstances", &q,
					       (double)o->n_batch, ec2_dop_on_answer, o) < 0) {
		for (size_t i = 0; i < n; i++)
			free(o->ids[i]);
		free(o->ids);
		free(o->errs);
		free(o->batch);
		free(o);
		return -ENOMEM;
	}
	return 0;
}

/* ---- SetTags ---- */

struct ec2_top {
	drv_done_cb cb;
	void *arg;
};

static void
ec2_top_on_answer(void *arg, const struct ec2_reply *r)
{
	struct ec2_top *t = arg;
	struct drv_error e = r->err;

	if (e.cls == DRV_OK) {
		t->cb(t->arg, NULL);
	} else {
		ec2_err_classify(&e, r->message, NULL, ec2_wall_ms());
		t->cb(t->arg, &e);
	}
	free(t);
}

static int
ec2_set_tags(struct drv *dv, const char *id, const struct drv_tags *tags, drv_done_cb cb, void *arg)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;
	struct ec2_top *t;
	struct ec2_query q;

	if (!id || !tags || !cb)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->cb = cb;
	t->arg = arg;
	ec2_query_init(&q, "CreateTags");
	ec2_query_add(&q, "ResourceId.1", id);
	for (size_t i = 0; i < tags->n; i++) {
		ec2_query_addf(&q, tags->v[i].key, "Tag.%zu.Key", i + 1);
		ec2_query_addf(&q, tags->v[i].value, "Tag.%zu.Value", i + 1);
	}
	if (ec2_query_done(&q) < 0 ||
	    ec2_call(d->cl, "CreateTags", &q, 0, ec2_top_on_answer, t) < 0) {
		free(t);
		return -ENOMEM;
	}
	return 0;
}

/* ---- local operations ---- */

static const char *
ec2_address(struct drv *d, const struct drv_instance *inst)
{
	(void)d;
	return inst->address ? inst->address : "";
}

static const char *
ec2_remote_user(struct drv *dv)
{
	return ((struct ec2_driver *)dv)->p.admin_user;
}

static int
ec2_price_history(struct drv *dv, const struct drv_instance *inst, const struct drv_itype *t,
		  struct drv_price **out, size_t *n)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;
	int64_t gib = t->added_scratch > 0 ? (t->added_scratch + (1LL << 30) - 1) >> 30 : 0;

	*out = NULL;
	*n = 0;
	if (!inst->spot || !inst->az || !inst->az[0] || d->p.spot_interval_s <= 0)
		return 0;
	return ec2_spot_history(&d->spot, inst->provider_type, inst->az,
				d->p.ebs_price * (double)gib / 30.0 / 24.0, out, n);
}

static int
ec2_qgroup(struct drv *dv, const struct drv_itype *t, char *buf, size_t len)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;
	const char *pt = t->provider_type && *t->provider_type ? t->provider_type : t->name;

	return ec2_quota_group(d->p.qg, d->p.n_qg, pt, t->preemptible, buf, len);
}

static void
ec2_free(struct drv *dv)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;

	if (!d)
		return;
	ec2_client_free(d->cl);
	ec2_params_free(&d->p);
	free(d->stats);
	free(d->kp);
	ec2_spot_free(&d->spot);
	free(d);
}

static const struct drv_ops ec2_drv_ops = {
	.create = ec2_create,
	.list = ec2_list,
	.destroy = ec2_destroy,
	.set_tags = ec2_set_tags,
	.address = ec2_address,
	.remote_user = ec2_remote_user,
	.price_history = ec2_price_history,
	.quota_group = ec2_qgroup,
	.free = ec2_free,
};

int
ec2_driver_new(uv_loop_t *loop, const cJSON *params, const struct ec2_driver_opts *o,
	       struct drv **out, char *err, size_t errlen)
{
	static const struct ec2_driver_opts none;
	struct ec2_driver *d = calloc(1, sizeof(*d));
	struct ec2_client_cfg cc;
	int rc;

	if (!o)
		o = &none;
	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->drv.ops = &ec2_drv_ops;
	d->loop = loop;
	d->max_results = o->max_results == 0 ? 1000 : o->max_results;
	rc = ec2_params_parse(params, &d->p, err, errlen);
	if (rc) {
		free(d);
		return rc;
	}
	d->n_stats = d->p.n_subnets ? d->p.n_subnets : 1;
	d->stats = calloc(d->n_stats, sizeof(*d->stats));
	if (!d->stats) {
		snprintf(err, errlen, "out of memory");
		ec2_free(&d->drv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_stats; i++)
		d->stats[i].subnet_id = d->p.n_subnets ? d->p.subnets[i] : "";
	memset(&cc, 0, sizeof(cc));
	cc.region = d->p.region;
	cc.endpoint = o->endpoint;
	cc.ca_file = o->ca_file;
	cc.ca_pem = o->ca_pem;
	cc.ca_pem_len = o->ca_pem_len;
	cc.env = o->env;
	cc.akid = d->p.akid;
	cc.secret = d->p.secret;
	cc.connect_timeout_ms = o->connect_timeout_ms;
	cc.timeout_ms = o->timeout_ms;
	cc.max_body = o->max_body;
	rc = ec2_client_new(loop, &cc, &d->cl, err, errlen);
	if (rc) {
		ec2_free(&d->drv);
		return rc;
	}
	ec2_pace_enable(ec2_client_pace(d->cl), !o->no_pace);
	*out = &d->drv;
	return 0;
}

size_t
ec2_driver_stats(struct drv *dv, const struct ec2_subnet_stats **out)
{
	struct ec2_driver *d = (struct ec2_driver *)dv;

	*out = d->stats;
	return d->n_stats;
}

struct ec2_pace *
ec2_driver_pace(struct drv *dv)
{
	return ec2_client_pace(((struct ec2_driver *)dv)->cl);
}

size_t
ec2_driver_active(struct drv *dv)
{
	return ec2_client_active(((struct ec2_driver *)dv)->cl);
}
