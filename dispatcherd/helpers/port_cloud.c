/* port_cloud.c - see port_cloud.h. */
#include "port_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cloudc.h"
#include "util.h"

/* cloudd while it exists (NULL once the dispatcher stops it). */
#define PORT_CLOUD_CHILD(pc)               \
	do {                               \
		if (*(pc)->cloudd == NULL) \
			return -EAGAIN;    \
	} while (0)

/* ---- error blocks ---- */

static void
port_cloud_err(const struct proto_cloud_err *e, struct pool_cloud_err *out)
{
	memset(out, 0, sizeof(*out));
	out->message = e->text != NULL && e->text[0] != '\0' ? e->text : "";
	if (e->status == PROTO_OK) {
		out->kind = POOL_CLOUD_OK;
		return;
	}
	switch (e->status) {
	case PROTO_E_RETRY:
		out->message = "cloudd restarted before answering";
		break;
	case PROTO_E_TIMEOUT:
		out->message = "cloudd did not answer in time";
		break;
	case PROTO_E_INVALID:
		if (out->message[0] == '\0')
			out->message = "cloudd refused the request";
		break;
	default:
		if (out->message[0] == '\0')
			out->message = "cloud call failed";
	}
	out->kind = POOL_CLOUD_OTHER;
	if (e->status != PROTO_E_FAILED)
		return;
	switch (e->cls) {
	case PROTO_CLOUD_RATE_LIMIT:
		out->kind = POOL_CLOUD_RATE_LIMIT;
		out->retry_at = adc_mul_sat(e->earliest_retry_ms, 1000000);
		break;
	case PROTO_CLOUD_QUOTA:
		out->kind = POOL_CLOUD_QUOTA;
		break;
	case PROTO_CLOUD_CAPACITY:
		out->kind = POOL_CLOUD_CAPACITY;
		out->type_specific = e->type_specific;
		out->quota_group_specific = e->quota_group_specific;
		break;
	default:
		break;
	}
}

/* A proto instance as the pool sees it; tags point into inst (valid for the callback). */
static int
port_cloud_inst(const struct proto_cloud_inst *in, struct pool_instance *out)
{
	struct pool_tag *t = NULL;

	if (in->tags.n > 0 && (t = calloc(in->tags.n, sizeof(*t))) == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < in->tags.n; i++) {
		t[i].key = in->tags.keys[i];
		t[i].value = in->tags.values[i];
	}
	*out = (struct pool_instance){
		.id = in->id,
		.address = in->address,
		.remote_user = in->remote_user,
		.host_key = in->host_key,
		.tags = t,
		.n_tags = in->tags.n,
	};
	return 0;
}

static struct proto_cloud_tags
port_cloud_tags(const struct pool_tag *t, size_t n, char **keys, char **values)
{
	for (size_t i = 0; i < n; i++) {
		keys[i] = (char *)t[i].key;
		values[i] = (char *)t[i].value;
	}
	return (struct proto_cloud_tags){ .keys = keys, .values = values, .n = (uint32_t)n };
}

/* ---- create ---- */

struct port_cloud_call {
	struct port_cloud *pc;
	void *cb;
	void *arg;
	/* list: instances gathered from the parts (deep copies; provider_type holds the
	 * Arvados type name from the InstanceType tag) */
	struct proto_cloud_inst *insts;
	size_t n, cap;
	size_t prices_pending; /* price history requests not answered yet */
};

static void
port_cloud_create_done(void *arg, const struct proto_cloud_err *err,
		       const struct proto_cloud_inst *inst)
{
	struct port_cloud_call *c = arg;
	pool_create_cb cb = (pool_create_cb)c->cb;
	struct pool_cloud_err pe;
	struct pool_instance pi;

	port_cloud_err(err, &pe);
	if (pe.kind == POOL_CLOUD_OK && inst != NULL && port_cloud_inst(inst, &pi) == 0) {
		cb(c->arg, &pe, &pi);
		free((void *)pi.tags);
	} else if (pe.kind == POOL_CLOUD_OK) {
		pe = (struct pool_cloud_err){ .kind = POOL_CLOUD_OTHER,
					      .message = "out of memory" };
		cb(c->arg, &pe, NULL);
	} else {
		cb(c->arg, &pe, NULL);
	}
	port_cloud_stats(c->pc); /* a RunInstances attempt was counted (or not) */
	free(c);
}

static const struct cfg_instance_type *
port_cloud_itype(const struct cfg_cluster *cl, const char *name)
{
	for (size_t i = 0; i < cl->n_instance_types; i++)
		if (strcmp(cl->instance_types[i].name, name) == 0)
			return &cl->instance_types[i];
	return NULL;
}

static int
port_cloud_create(void *ctx, const struct pool_create_req *req, pool_create_cb cb, void *arg)
{
	struct port_cloud *pc = ctx;
	PORT_CLOUD_CHILD(pc);
	const struct cfg_instance_type *it = port_cloud_itype(pc->cluster, req->instance_type);
	char **kv = calloc(2 * (req->n_tags + 1), sizeof(char *));
	struct port_cloud_call *c = calloc(1, sizeof(*c));
	int r = -ENOMEM;

	if (kv != NULL && c != NULL) {
		struct proto_cloud_create m = {
			.itype = {
				.name = (char *)req->instance_type,
				.provider_type = (char *)req->provider_type,
				.price = it ? it->price : 0,
				.preemptible = req->preemptible,
				.added_scratch = it ? it->added_scratch : 0,
			},
			.image = (char *)req->image_id,
			.init_command = (char *)req->init_command,
			.public_key = req->with_public_key && pc->public_key != NULL &&
				      *pc->public_key != NULL ? *pc->public_key : "",
			.key = "",
			.tags = port_cloud_tags(req->tags, req->n_tags, kv, kv + req->n_tags + 1),
		};
		c->pc = pc;
		c->cb = (void *)cb;
		c->arg = arg;
		r = cloudc_create(*pc->cloudd, &m, pc->timeout_ms, port_cloud_create_done, c);
	}
	free(kv);
	if (r != 0)
		free(c);
	return r;
}

/* ---- list ---- */

static char *
port_cloud_dup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static void
port_cloud_inst_free(struct proto_cloud_inst *i)
{
	free(i->id);
	free(i->address);
	free(i->remote_user);
	free(i->host_key);
	free(i->az);
	free(i->provider_type);
	for (uint32_t k = 0; k < i->tags.n; k++) {
		free(i->tags.keys[k]);
		free(i->tags.values[k]);
	}
	free(i->tags.keys);
	free(i->tags.values);
}

/* The Arvados instance type named by the instance's InstanceType tag ("" when none). */
static const char *
port_cloud_type_tag(const struct port_cloud *pc, const struct proto_cloud_inst *in)
{
	const char *pre = pc->cluster->containers.cloudvms.tag_key_prefix;
	size_t pl;

	pre = pre != NULL ? pre : "Arvados";
	pl = strlen(pre);
	for (uint32_t k = 0; k < in->tags.n; k++)
		if (strncmp(in->tags.keys[k], pre, pl) == 0 &&
		    strcmp(in->tags.keys[k] + pl, "InstanceType") == 0)
			return in->tags.values[k];
	return "";
}

/* Copy the fields the pool reads, and what a price history lookup needs (spot, az, the
 * Arvados type name in provider_type). -ENOMEM leaves *o freeable. */
static int
port_cloud_inst_copy(const struct port_cloud *pc, const struct proto_cloud_inst *in,
		     struct proto_cloud_inst *o)
{
	memset(o, 0, sizeof(*o));
	o->id = port_cloud_dup(in->id);
	o->address = port_cloud_dup(in->address);
	o->remote_user = port_cloud_dup(in->remote_user);
	o->host_key = port_cloud_dup(in->host_key);
	o->az = port_cloud_dup(in->az);
	o->provider_type = port_cloud_dup(port_cloud_type_tag(pc, in));
	o->spot = in->spot;
	if (o->id == NULL || o->address == NULL || o->remote_user == NULL || o->host_key == NULL ||
	    o->az == NULL || o->provider_type == NULL)
		return -ENOMEM;
	if (in->tags.n == 0)
		return 0;
	o->tags.keys = calloc(in->tags.n, sizeof(char *));
	o->tags.values = calloc(in->tags.n, sizeof(char *));
	if (o->tags.keys == NULL || o->tags.values == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < in->tags.n; k++) {
		o->tags.n = k + 1;
		o->tags.keys[k] = port_cloud_dup(in->tags.keys[k]);
		o->tags.values[k] = port_cloud_dup(in->tags.values[k]);
		if (o->tags.keys[k] == NULL || o->tags.values[k] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
port_cloud_list_part(void *arg, const struct proto_cloud_inst *insts, size_t n)
{
	struct port_cloud_call *c = arg;

	for (size_t i = 0; i < n; i++) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 64;
			void *v = realloc(c->insts, cap * sizeof(*c->insts));
			if (v == NULL)
				return; /* the done callback reports the shortfall */
			c->insts = v;
			c->cap = cap;
		}
		if (port_cloud_inst_copy(c->pc, &insts[i], &c->insts[c->n]) != 0) {
			port_cloud_inst_free(&c->insts[c->n]);
			return;
		}
		c->n++;
	}
}

/* The price history cached for (type, az), or NULL. */
static const struct port_cloud_hist *
port_cloud_hist_find(const struct port_cloud *pc, const char *type, const char *az)
{
	for (size_t i = 0; i < pc->n_hist; i++)
		if (strcmp(pc->hist[i].type, type) == 0 && strcmp(pc->hist[i].az, az) == 0)
			return &pc->hist[i];
	return NULL;
}

static void
port_cloud_list_deliver(struct port_cloud_call *c, struct pool_cloud_err pe)
{
	pool_list_cb cb = (pool_list_cb)c->cb;
	struct pool_instance *v = calloc(c->n + 1, sizeof(*v));
	size_t made = 0;

	if (v == NULL)
		pe = (struct pool_cloud_err){ .kind = POOL_CLOUD_OTHER,
					      .message = "out of memory" };
	for (; v != NULL && made < c->n; made++) {
		const struct proto_cloud_inst *in = &c->insts[made];
		const struct port_cloud_hist *h;

		if (port_cloud_inst(in, &v[made]) != 0)
			break;
		/* 5.7.3: spot instances carry the history of their type and zone */
		if (in->spot &&
		    (h = port_cloud_hist_find(c->pc, in->provider_type, in->az)) != NULL) {
			v[made].prices = h->v;
			v[made].n_prices = h->n;
		}
	}
	if (v != NULL && made < c->n)
		pe = (struct pool_cloud_err){ .kind = POOL_CLOUD_OTHER,
					      .message = "out of memory" };
	if (pe.kind == POOL_CLOUD_OK)
		cb(c->arg, &pe, v, c->n);
	else
		cb(c->arg, &pe, NULL, 0);
	for (size_t i = 0; i < c->n; i++) {
		if (v != NULL && i < made)
			free((void *)v[i].tags);
		port_cloud_inst_free(&c->insts[i]);
	}
	free(v);
	free(c->insts);
	free(c);
}

struct port_cloud_price_req {
	struct port_cloud_call *c;
	size_t hist; /* index into pc->hist (entries are never removed) */
};

static void
port_cloud_price_done(void *arg, const struct proto_cloud_err *err,
		      const struct proto_cloud_price *p, size_t n)
{
	struct port_cloud_price_req *q = arg;
	struct port_cloud_call *c = q->c;
	struct port_cloud_hist *h = &c->pc->hist[q->hist];
	struct pool_price *v;

	/* A failed lookup keeps the last history of that key (cloudd restarting). */
	if (err->status == PROTO_OK && (v = calloc(n + 1, sizeof(*v))) != NULL) {
		for (size_t i = 0; i < n; i++)
			v[i] = (struct pool_price){ adc_mul_sat(p[i].start_time, 1000000000),
						    p[i].price };
		free(h->v);
		h->v = v;
		h->n = n;
	}
	free(q);
	if (--c->prices_pending == 0)
		port_cloud_list_deliver(
			c, (struct pool_cloud_err){ .kind = POOL_CLOUD_OK, .message = "" });
}

/* The history entry for (type, az), made when missing; its index or -1. */
static long
port_cloud_hist_slot(struct port_cloud *pc, const char *type, const char *az)
{
	const struct port_cloud_hist *h = port_cloud_hist_find(pc, type, az);
	struct port_cloud_hist *nh;

	if (h != NULL)
		return h - pc->hist;
	nh = realloc(pc->hist, (pc->n_hist + 1) * sizeof(*nh));
	if (nh == NULL)
		return -1;
	pc->hist = nh;
	nh[pc->n_hist] = (struct port_cloud_hist){ strdup(type), strdup(az), NULL, 0 };
	if (nh[pc->n_hist].type == NULL || nh[pc->n_hist].az == NULL) {
		free(nh[pc->n_hist].type);
		free(nh[pc->n_hist].az);
		return -1;
	}
	return (long)pc->n_hist++;
}

/* One CLOUD_PRICES request per distinct (type, az) of the listed spot instances: cloudd
 * answers from the driver's cache (refreshed by the list itself, at most once per
 * SpotPriceUpdateInterval, spec 2.7), so a sync costs a few local messages. */
static void
port_cloud_fetch_prices(struct port_cloud_call *c)
{
	struct port_cloud *pc = c->pc;

	c->prices_pending = 1; /* held until every request is out */
	for (size_t i = 0; i < c->n; i++) {
		const struct proto_cloud_inst *in = &c->insts[i];
		const struct cfg_instance_type *it = NULL;
		struct port_cloud_price_req *q;
		bool seen = false;
		long slot;

		if (!in->spot || in->az[0] == '\0')
			continue;
		for (size_t k = 0; k < pc->cluster->n_instance_types && it == NULL; k++)
			if (strcmp(pc->cluster->instance_types[k].name, in->provider_type) == 0)
				it = &pc->cluster->instance_types[k];
		for (size_t j = 0; j < i && !seen; j++)
			seen = c->insts[j].spot &&
			       strcmp(c->insts[j].provider_type, in->provider_type) == 0 &&
			       strcmp(c->insts[j].az, in->az) == 0;
		if (it == NULL || seen || (slot = port_cloud_hist_slot(pc, it->name, in->az)) < 0 ||
		    (q = malloc(sizeof(*q))) == NULL)
			continue;
		*q = (struct port_cloud_price_req){ c, (size_t)slot };
		struct proto_cloud_prices m = {
			.itype = {
				.name = it->name, .provider_type = it->provider_type,
				.price = it->price, .preemptible = it->preemptible,
				.added_scratch = it->added_scratch,
			},
			.id = in->id, .az = in->az, .spot = true,
		};
		c->prices_pending++;
		if (*pc->cloudd == NULL || cloudc_price_history(*pc->cloudd, &m, pc->timeout_ms,
								port_cloud_price_done, q) != 0) {
			c->prices_pending--;
			free(q);
		}
	}
	if (--c->prices_pending == 0)
		port_cloud_list_deliver(
			c, (struct pool_cloud_err){ .kind = POOL_CLOUD_OK, .message = "" });
}

static void
port_cloud_list_done(void *arg, const struct proto_cloud_err *err)
{
	struct port_cloud_call *c = arg;
	struct pool_cloud_err pe;

	port_cloud_err(err, &pe);
	port_cloud_stats(c->pc); /* ec2_instances follows every list */
	if (pe.kind == POOL_CLOUD_OK)
		port_cloud_fetch_prices(c);
	else
		port_cloud_list_deliver(c, pe);
}

static int
port_cloud_list(void *ctx, const char *tag_key, const char *tag_value, pool_list_cb cb, void *arg)
{
	struct port_cloud *pc = ctx;
	PORT_CLOUD_CHILD(pc);
	struct port_cloud_call *c = calloc(1, sizeof(*c));
	char *k = (char *)tag_key, *v = (char *)tag_value;
	struct proto_cloud_tags f = { .keys = &k, .values = &v, .n = 1 };
	int r;

	if (c == NULL)
		return -ENOMEM;
	c->pc = pc;
	c->cb = (void *)cb;
	c->arg = arg;
	r = cloudc_list(*pc->cloudd, &f, pc->timeout_ms, port_cloud_list_part, port_cloud_list_done,
			c);
	if (r != 0)
		free(c);
	return r;
}

/* ---- destroy, tags ---- */

static void
port_cloud_destroy_done(void *arg, const struct proto_cloud_err *err, size_t n, char *const *ids,
			const struct proto_cloud_err *errs)
{
	struct port_cloud_call *c = arg;
	struct pool_cloud_err pe;

	(void)ids;
	/* One id per request: its own outcome when there is one, else the request's. */
	port_cloud_err(err->status == PROTO_OK && n == 1 ? &errs[0] : err, &pe);
	((pool_cloud_done_cb)c->cb)(c->arg, &pe);
	free(c);
}

static int
port_cloud_destroy(void *ctx, const char *id, pool_cloud_done_cb cb, void *arg)
{
	struct port_cloud *pc = ctx;
	PORT_CLOUD_CHILD(pc);
	struct port_cloud_call *c = calloc(1, sizeof(*c));
	const char *ids[1] = { id };
	int r;

	if (c == NULL)
		return -ENOMEM;
	c->cb = (void *)cb;
	c->arg = arg;
	r = cloudc_destroy(*pc->cloudd, ids, 1, pc->timeout_ms, port_cloud_destroy_done, c);
	if (r != 0)
		free(c);
	return r;
}

/* Several ids in one request: each outcome goes back in the order of the request's ids
 * (matched by id; an id the answer does not mention gets the request's outcome). */
struct port_cloud_dcall {
	pool_destroy_many_cb cb;
	void *arg;
	size_t n;
	struct pool_cloud_err *errs;
	char *ids[];
};

static void
port_cloud_destroy_many_done(void *arg, const struct proto_cloud_err *err, size_t n,
			     char *const *ids, const struct proto_cloud_err *errs)
{
	struct port_cloud_dcall *c = arg;
	struct pool_cloud_err pe;

	port_cloud_err(err, &pe);
	if (err->status != PROTO_OK || n == 0) {
		c->cb(c->arg, &pe, 0, NULL);
	} else {
		for (size_t i = 0, j = 0; i < c->n; i++) {
			c->errs[i] = pe;
			for (size_t k = 0; k < n; k++, j = (j + 1) % n)
				if (ids[j] != NULL && strcmp(ids[j], c->ids[i]) == 0) {
					port_cloud_err(&errs[j], &c->errs[i]);
					break;
				}
		}
		c->cb(c->arg, &pe, c->n, c->errs);
	}
	free(c);
}

static int
port_cloud_destroy_many(void *ctx, const char *const *ids, size_t n, pool_destroy_many_cb cb,
			void *arg)
{
	struct port_cloud *pc = ctx;
	PORT_CLOUD_CHILD(pc);
	size_t sz = sizeof(struct port_cloud_dcall) +
		    n * (sizeof(char *) + sizeof(struct pool_cloud_err));
	struct port_cloud_dcall *c;
	int r;

	if (n == 0 || n > PROTO_MAX_DESTROY_IDS)
		return -EINVAL;
	if ((c = calloc(1, sz)) == NULL)
		return -ENOMEM;
	c->cb = cb;
	c->arg = arg;
	c->n = n;
	c->errs = (struct pool_cloud_err *)&c->ids[n];
	memcpy(c->ids, ids, n * sizeof(*ids)); /* the pool keeps them alive until cb */
	r = cloudc_destroy(*pc->cloudd, ids, n, pc->timeout_ms, port_cloud_destroy_many_done, c);
	if (r != 0)
		free(c);
	return r;
}

static void
port_cloud_done(void *arg, const struct proto_cloud_err *err)
{
	struct port_cloud_call *c = arg;
	struct pool_cloud_err pe;

	port_cloud_err(err, &pe);
	((pool_cloud_done_cb)c->cb)(c->arg, &pe);
	free(c);
}

/* cloudd merges tags; the pool always sends the whole map, so merging it replaces every
 * key the pool manages (it never deletes one). */
static int
port_cloud_set_tags(void *ctx, const char *id, const struct pool_tag *tags, size_t n,
		    pool_cloud_done_cb cb, void *arg)
{
	struct port_cloud *pc = ctx;
	PORT_CLOUD_CHILD(pc);
	struct port_cloud_call *c = calloc(1, sizeof(*c));
	char **kv = calloc(2 * (n + 1), sizeof(char *));
	int r = -ENOMEM;

	if (c != NULL && kv != NULL) {
		struct proto_cloud_tags t = port_cloud_tags(tags, n, kv, kv + n + 1);
		c->cb = (void *)cb;
		c->arg = arg;
		r = cloudc_set_tags(*pc->cloudd, id, &t, pc->timeout_ms, port_cloud_done, c);
	}
	free(kv);
	if (r != 0)
		free(c);
	return r;
}

/* Answered from the cache port_cloud_ready() fills each time cloudd becomes ready. */
static const char *
port_cloud_quota_group(void *ctx, const char *provider_type, bool preemptible)
{
	return port_cloud_qgroup_lookup(ctx, provider_type, preemptible);
}

void
port_cloud_init(struct port_cloud *pc, struct pool_cloud_port *port)
{
	*port = (struct pool_cloud_port){
		.ctx = pc,
		.create = port_cloud_create,
		.list = port_cloud_list,
		.destroy = port_cloud_destroy,
		.destroy_many = port_cloud_destroy_many,
		.set_tags = port_cloud_set_tags,
		.quota_group = port_cloud_quota_group,
	};
}
