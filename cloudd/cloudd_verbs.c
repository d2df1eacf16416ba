/*
 * cloudd_verbs.c - one handler per cloud verb: decode the request, call the driver
 * (drv.h), answer with the request's reqid. Driver errors travel as the driver classified
 * them (proto_cloud_err). Streamed answers (list, destroy) are cut into parts that fit a
 * message: every part but the last has PROTO_F_MORE; the last carries the outcome.
 */
#include "cloudd.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec2_ops.h"
#include "log.h"
#include "proto_cloud.h"

/* Room left for instances in a part: the header, an error block with empty strings and
 * the count. */
#define CV_PART_ROOM (PROTO_MAX_MSG - PROTO_HDR_LEN - 64u - 4u)

struct cv_req {
	struct cloudd *cd;
	struct proto_chan *ch;
	uint32_t reqid;
	uint16_t type;
	/* list / destroy: the part being filled */
	struct proto_cloud_inst *insts;
	uint32_t n, cap;
	size_t bytes;
	struct drv_itype itype; /* create: the request's strings live in req */
	struct proto_cloud_create create;
};

static void
cv_err_from_drv(struct proto_cloud_err *e, const struct drv_error *d)
{
	memset(e, 0, sizeof(*e));
	if (d == NULL || d->cls == DRV_OK)
		return;
	e->status = PROTO_E_FAILED;
	e->cls = (uint8_t)d->cls; /* drv_err_class and proto_cloud_class share numbers */
	/* the wire's range (proto_cloud.h): a later retry time saturates */
	e->earliest_retry_ms = d->earliest_retry_ms < 0			  ? 0
			       : d->earliest_retry_ms > PROTO_MAX_TIME_MS ? PROTO_MAX_TIME_MS
									  : d->earliest_retry_ms;
	e->type_specific = d->type_specific;
	e->quota_group_specific = d->quota_group_specific;
	e->spot = d->spot;
	e->http_status = d->http_status;
	e->instance_type = (char *)d->instance_type;
	e->quota_group = (char *)d->quota_group;
	e->code = (char *)d->code;
	e->text = (char *)d->text;
}

static void
cv_err_local(struct proto_cloud_err *e, int32_t status, char *text)
{
	memset(e, 0, sizeof(*e));
	e->status = status;
	e->cls = PROTO_CLOUD_OTHER;
	e->text = text;
}

static void
cv_send(struct cv_req *q, struct proto_wbuf *w, int enc_rc)
{
	if (enc_rc != 0) {
		log_kv_err(LOG_LVL_ERROR, "cannot encode an answer", strerror(-enc_rc),
			   LF_STR("Request", proto_type_str(q->type)));
		return;
	}
	proto_chan_send(q->ch, w, -1);
}

static struct cv_req *
cv_req_new(struct cloudd *cd, struct proto_chan *ch, const struct proto_msg *m)
{
	struct cv_req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->cd = cd;
	q->ch = ch;
	q->reqid = m->hdr.reqid;
	q->type = m->hdr.type;
	return q;
}

static void
cv_req_done(struct cv_req *q)
{
	q->cd->inflight--;
	proto_cloud_create_free(&q->create);
	free(q->insts);
	free(q);
}

static void
cv_itype(struct drv_itype *t, const struct proto_cloud_itype *p)
{
	t->name = p->name;
	t->provider_type = p->provider_type;
	t->price = p->price;
	t->preemptible = p->preemptible;
	t->added_scratch = p->added_scratch;
}

/* Tags in the wire form borrow the driver's strings. */
static int
cv_tags_to_wire(struct proto_cloud_tags *w, const struct drv_tags *t)
{
	memset(w, 0, sizeof(*w));
	if (t->n == 0)
		return 0;
	w->keys = calloc(t->n, sizeof(char *));
	w->values = calloc(t->n, sizeof(char *));
	if (w->keys == NULL || w->values == NULL) {
		free(w->keys);
		free(w->values);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		w->keys[i] = t->v[i].key;
		w->values[i] = t->v[i].value;
	}
	w->n = (uint32_t)t->n;
	return 0;
}

static void
cv_tags_wire_free(struct proto_cloud_tags *w)
{
	free(w->keys);
	free(w->values);
	memset(w, 0, sizeof(*w));
}

/* The driver's tags from the wire's (copies). */
static int
cv_tags_from_wire(struct drv_tags *t, const struct proto_cloud_tags *w)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < w->n; i++)
		if (drv_tags_add(t, w->keys[i], w->values[i]) != 0) {
			drv_tags_free(t);
			return -ENOMEM;
		}
	return 0;
}

static int
cv_inst_to_wire(struct cloudd *cd, struct proto_cloud_inst *w, const struct drv_instance *i)
{
	memset(w, 0, sizeof(*w));
	w->id = i->id;
	w->provider_type = i->provider_type;
	w->address = (char *)cd->drv->ops->address(cd->drv, i);
	w->private_address = i->address;
	w->subnet_id = i->subnet_id;
	w->state = i->state;
	w->az = i->az;
	w->remote_user = (char *)cd->drv->ops->remote_user(cd->drv);
	w->host_key = i->host_key;
	w->spot = i->spot;
	return cv_tags_to_wire(&w->tags, &i->tags);
}

/* ---- create ---- */

static void
cv_create_cb(void *arg, const struct drv_error *err, const struct drv_instance *inst)
{
	struct cv_req *q = arg;
	struct proto_cloud_create_ans a;
	struct proto_wbuf w;

	memset(&a, 0, sizeof(a));
	cv_err_from_drv(&a.err, err);
	if (a.err.status == PROTO_OK && inst != NULL && cv_inst_to_wire(q->cd, &a.inst, inst) != 0)
		cv_err_local(&a.err, PROTO_E_FAILED, "out of memory");
	cv_send(q, &w, proto_cloud_create_ans_encode(&w, q->reqid, &a));
	cv_tags_wire_free(&a.inst.tags);
	cv_req_done(q);
}

static int
cv_create(struct cv_req *q, const struct proto_msg *m)
{
	struct cloudd *cd = q->cd;
	struct drv_tags tags;
	int r;

	if (proto_cloud_create_decode(m, &q->create) != 0)
		return -EBADMSG;
	cv_itype(&q->itype, &q->create.itype);
	if (cv_tags_from_wire(&tags, &q->create.tags) != 0)
		return -ENOMEM;
	if (strcmp(cd->driver, "ec2") == 0 && q->create.key[0] != 0)
		r = ec2_create_keyed(cd->drv, &q->itype, q->create.image, &tags,
				     q->create.init_command, q->create.public_key, q->create.key,
				     cv_create_cb, q);
	else
		r = cd->drv->ops->create(cd->drv, &q->itype, q->create.image, &tags,
					 q->create.init_command, q->create.public_key, cv_create_cb,
					 q);
	drv_tags_free(&tags);
	return r;
}

/* ---- list: parts of whole instances ---- */

static void
cv_part_flush(struct cv_req *q, uint16_t flags, const struct drv_error *err)
{
	struct proto_cloud_list_ans a = { .insts = q->insts, .n = q->n };
	struct proto_wbuf w;

	cv_err_from_drv(&a.err, err);
	cv_send(q, &w, proto_cloud_list_ans_encode(&w, q->reqid, flags, &a));
	for (uint32_t i = 0; i < q->n; i++)
		cv_tags_wire_free(&q->insts[i].tags);
	q->n = 0;
	q->bytes = proto_cloud_err_size(&a.err);
}

/* A page's instances go out in parts at once: they borrow the page's strings, which are
 * valid only during the callback. */
static void
cv_list_page(void *arg, const struct drv_instance *insts, size_t n)
{
	struct cv_req *q = arg;

	for (size_t i = 0; i < n; i++) {
		struct proto_cloud_inst wi;
		size_t sz;

		if (cv_inst_to_wire(q->cd, &wi, &insts[i]) != 0)
			continue;
		sz = proto_cloud_inst_size(&wi);
		if (q->n > 0 && (q->bytes + sz > CV_PART_ROOM || q->n == PROTO_MAX_PART_INSTANCES))
			cv_part_flush(q, PROTO_F_MORE, NULL);
		if (q->n == q->cap) {
			uint32_t cap = q->cap ? q->cap * 2 : 64;
			struct proto_cloud_inst *v = realloc(q->insts, cap * sizeof(*v));

			if (v == NULL) {
				cv_tags_wire_free(&wi.tags);
				continue;
			}
			q->insts = v;
			q->cap = cap;
		}
		q->insts[q->n++] = wi;
		q->bytes += sz;
	}
	if (q->n > 0)
		cv_part_flush(q, PROTO_F_MORE, NULL);
}

static void
cv_list_done(void *arg, const struct drv_error *err)
{
	struct cv_req *q = arg;
	struct cloudd *cd = q->cd;

	cv_part_flush(q, 0, err);
	cv_req_done(q);
	/* A list of 10,000 instances leaves small blocks in glibc's heap once freed: the
	 * instances' records, Azure's JSON trees (EC2's XML trees and the answers are in mapped
	 * blocks since, ec2_xml.c and main.c; before that, bench_e2e_scale saw 18-22 MB of
	 * cloudd's 34 MB RSS between two lists, 2 MB after a trim). The driver frees its list
	 * state only after this callback (a handle close), so the heap is trimmed when the
	 * next request arrives (the parent asks for the counters right after each list): one
	 * walk of the free lists per list, every SyncInterval. */
	cd->trim_pending = true;
}

static int
cv_list(struct cv_req *q, const struct proto_msg *m)
{
	struct proto_cloud_list l;
	struct drv_tags filter;
	int r;

	if (proto_cloud_list_decode(m, &l) != 0)
		return -EBADMSG;
	r = cv_tags_from_wire(&filter, &l.filter);
	proto_cloud_list_free(&l);
	if (r != 0)
		return r;
	r = q->cd->drv->ops->list(q->cd->drv, &filter, cv_list_page, cv_list_done, q);
	drv_tags_free(&filter);
	return r;
}

/* ---- destroy: one outcome per id, in parts ---- */

static void
cv_destroy_cb(void *arg, size_t n, const char *const *ids, const struct drv_error *errs)
{
	struct cv_req *q = arg;
	size_t i = 0;

	do {
		struct proto_cloud_destroy_ans a;
		struct proto_cloud_err *pe = calloc(n ? n : 1, sizeof(*pe));
		size_t bytes = 0, start = i;
		struct proto_wbuf w;

		memset(&a, 0, sizeof(a));
		if (pe == NULL)
			break;
		for (; i < n; i++) {
			cv_err_from_drv(&pe[i - start], &errs[i]);
			size_t sz = 4 + strlen(ids[i]) + proto_cloud_err_size(&pe[i - start]);
			if (i > start && bytes + sz > CV_PART_ROOM)
				break;
			bytes += sz;
		}
		a.ids = (char **)ids + start;
		a.errs = pe;
		a.n = (uint32_t)(i - start);
		cv_send(q, &w,
			proto_cloud_destroy_ans_encode(&w, q->reqid, i < n ? PROTO_F_MORE : 0, &a));
		free(pe);
	} while (i < n);
	cv_req_done(q);
}

static int
cv_destroy(struct cv_req *q, const struct proto_msg *m)
{
	struct proto_cloud_destroy d;
	int r;

	if (proto_cloud_destroy_decode(m, &d) != 0)
		return -EBADMSG;
	r = q->cd->drv->ops->destroy(q->cd->drv, (const char *const *)d.ids, d.n, cv_destroy_cb, q);
	proto_cloud_destroy_free(&d);
	return r;
}

/* ---- set tags ---- */

static void
cv_tags_cb(void *arg, const struct drv_error *err)
{
	struct cv_req *q = arg;
	struct proto_cloud_err e;
	struct proto_wbuf w;

	cv_err_from_drv(&e, err);
	cv_send(q, &w, proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, q->reqid, &e));
	cv_req_done(q);
}

static int
cv_set_tags(struct cv_req *q, const struct proto_msg *m)
{
	struct proto_cloud_tags_req t;
	struct drv_tags tags;
	int r;

	if (proto_cloud_tags_decode(m, &t) != 0)
		return -EBADMSG;
	r = cv_tags_from_wire(&tags, &t.tags);
	if (r == 0)
		r = q->cd->drv->ops->set_tags(q->cd->drv, t.id, &tags, cv_tags_cb, q);
	drv_tags_free(&tags);
	proto_cloud_tags_free(&t);
	return r;
}

/* ---- local operations: answered at once ---- */

static int
cv_prices(struct cv_req *q, const struct proto_msg *m)
{
	struct proto_cloud_prices p;
	struct proto_cloud_prices_ans a;
	struct drv_instance inst;
	struct drv_price *v = NULL;
	struct drv_itype t;
	struct proto_wbuf w;
	size_t n = 0;

	if (proto_cloud_prices_decode(m, &p) != 0)
		return -EBADMSG;
	memset(&a, 0, sizeof(a));
	memset(&inst, 0, sizeof(inst));
	cv_itype(&t, &p.itype);
	inst.id = p.id;
	inst.provider_type = p.itype.provider_type;
	inst.az = p.az;
	inst.spot = p.spot;
	if (q->cd->drv->ops->price_history(q->cd->drv, &inst, &t, &v, &n) != 0)
		cv_err_local(&a.err, PROTO_E_FAILED, "out of memory");
	if (n > PROTO_MAX_PRICES)
		n = PROTO_MAX_PRICES; /* newest first: the oldest are dropped */
	a.v = calloc(n ? n : 1, sizeof(*a.v));
	a.n = 0;
	for (size_t i = 0; a.v != NULL && i < n; i++) /* prices past the wire's range: dropped */
		if (v[i].start_time >= 0 && v[i].start_time <= PROTO_MAX_TIME_S)
			a.v[a.n++] = (struct proto_cloud_price){ v[i].start_time, v[i].price };
	cv_send(q, &w, proto_cloud_prices_ans_encode(&w, q->reqid, &a));
	free(a.v);
	free(v);
	proto_cloud_prices_free(&p);
	cv_req_done(q);
	return 0;
}

static int
cv_qgroup(struct cv_req *q, const struct proto_msg *m)
{
	struct proto_cloud_qgroup g;
	struct proto_cloud_qgroup_ans a;
	struct drv_itype t;
	struct proto_wbuf w;
	char buf[PROTO_MAX_ERR_FIELD + 1] = "";

	if (proto_cloud_qgroup_decode(m, &g) != 0)
		return -EBADMSG;
	memset(&a, 0, sizeof(a));
	cv_itype(&t, &g.itype);
	if (q->cd->drv->ops->quota_group(q->cd->drv, &t, buf, sizeof(buf)) != 0)
		cv_err_local(&a.err, PROTO_E_FAILED, "quota group name too long");
	a.group = buf;
	cv_send(q, &w, proto_cloud_qgroup_ans_encode(&w, q->reqid, &a));
	proto_cloud_qgroup_free(&g);
	cv_req_done(q);
	return 0;
}

/* The EC2 driver's per-subnet counters (spec 8: ec2_instance_starts_total, ec2_instances).
 * Starts go out as the difference since the previous answer, so the parent adds them to
 * counters of its own that survive a restart of cloudd (a new cloudd starts from zero);
 * instances are the last list's. Other drivers keep none: an empty answer. */
static int
cv_stats(struct cv_req *q, const struct proto_msg *m)
{
	struct cloudd *cd = q->cd;
	struct proto_cloud_stats_ans a;
	const struct ec2_subnet_stats *st = NULL;
	struct proto_wbuf w;
	size_t n = 0;

	if (proto_cloud_stats_decode(m) != 0)
		return -EBADMSG;
	memset(&a, 0, sizeof(a));
	if (strcmp(cd->driver, "ec2") == 0)
		n = ec2_driver_stats(cd->drv, &st);
	if (n > PROTO_MAX_SUBNETS)
		n = PROTO_MAX_SUBNETS;
	if (n > 0 && cd->starts_sent == NULL)
		cd->starts_sent = calloc(2 * n, sizeof(*cd->starts_sent));
	a.v = calloc(n ? n : 1, sizeof(*a.v));
	if (a.v == NULL || (n > 0 && cd->starts_sent == NULL)) {
		cv_err_local(&a.err, PROTO_E_FAILED, "out of memory");
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		a.v[i] = (struct proto_cloud_subnet_stats){
			.subnet_id = (char *)st[i].subnet_id,
			.starts_ok = st[i].starts_ok - cd->starts_sent[2 * i],
			.starts_fail = st[i].starts_fail - cd->starts_sent[2 * i + 1],
			.instances = st[i].instances,
		};
	}
	a.n = (uint32_t)n;
	if (proto_cloud_stats_ans_encode(&w, q->reqid, &a) == 0) {
		/* counted as reported once queued: a lost answer means cloudd is gone anyway */
		for (size_t i = 0; i < n; i++) {
			cd->starts_sent[2 * i] = st[i].starts_ok;
			cd->starts_sent[2 * i + 1] = st[i].starts_fail;
		}
		proto_chan_send(q->ch, &w, -1);
	} else {
		log_kv_err(LOG_LVL_ERROR, "cannot encode an answer", "stats",
			   LF_STR("Request", proto_type_str(q->type)));
	}
	free(a.v);
	cv_req_done(q);
	return 0;
}

/* ---- dispatch ---- */

/* A request that could not start: answer it at once with the reason, in its answer type. */
static void
cv_fail_now(struct cv_req *q, int r)
{
	char text[128];
	struct proto_cloud_err e;
	struct proto_wbuf w;
	int enc;

	snprintf(text, sizeof(text), "cloudd: cannot start %s: %s", proto_type_str(q->type),
		 strerror(-r));
	cv_err_local(&e, r == -EBADMSG ? PROTO_E_INVALID : PROTO_E_FAILED, text);
	switch (q->type) {
	case PROTO_CLOUD_CREATE_REQ:
		enc = proto_cloud_create_ans_encode(&w, q->reqid,
						    &(struct proto_cloud_create_ans){ .err = e });
		break;
	case PROTO_CLOUD_LIST_REQ:
		enc = proto_cloud_list_ans_encode(&w, q->reqid, 0,
						  &(struct proto_cloud_list_ans){ .err = e });
		break;
	case PROTO_CLOUD_DESTROY_REQ:
		enc = proto_cloud_destroy_ans_encode(&w, q->reqid, 0,
						     &(struct proto_cloud_destroy_ans){ .err = e });
		break;
	case PROTO_CLOUD_TAGS_REQ:
		enc = proto_cloud_err_ans_encode(&w, PROTO_CLOUD_TAGS_ANS, q->reqid, &e);
		break;
	case PROTO_CLOUD_PRICES_REQ:
		enc = proto_cloud_prices_ans_encode(&w, q->reqid,
						    &(struct proto_cloud_prices_ans){ .err = e });
		break;
	case PROTO_CLOUD_STATS_REQ:
		enc = proto_cloud_stats_ans_encode(&w, q->reqid,
						   &(struct proto_cloud_stats_ans){ .err = e });
		break;
	default:
		enc = proto_cloud_qgroup_ans_encode(&w, q->reqid,
						    &(struct proto_cloud_qgroup_ans){ .err = e });
		break;
	}
	cv_send(q, &w, enc);
	cv_req_done(q);
}

void
cloudd_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	struct cloudd *cd = arg;
	struct cv_req *q;
	int r;

	if (m->fd >= 0)
		close(m->fd); /* no cloud verb carries an fd */
	if (cd->trim_pending) {
		cd->trim_pending = false;
		malloc_trim(0);
	}
	if (m->hdr.type < PROTO_CLOUD_CREATE_REQ || m->hdr.type > PROTO_CLOUD_STATS_REQ ||
	    cd->drv == NULL) {
		proto_chan_close(ch, -EPROTO, "unexpected request");
		return;
	}
	if ((q = cv_req_new(cd, ch, m)) == NULL) {
		proto_chan_close(ch, -ENOMEM, "out of memory");
		return;
	}
	cd->inflight++;
	switch (m->hdr.type) {
	case PROTO_CLOUD_CREATE_REQ:
		r = cv_create(q, m);
		break;
	case PROTO_CLOUD_LIST_REQ:
		r = cv_list(q, m);
		break;
	case PROTO_CLOUD_DESTROY_REQ:
		r = cv_destroy(q, m);
		break;
	case PROTO_CLOUD_TAGS_REQ:
		r = cv_set_tags(q, m);
		break;
	case PROTO_CLOUD_PRICES_REQ:
		r = cv_prices(q, m);
		break;
	case PROTO_CLOUD_STATS_REQ:
		r = cv_stats(q, m);
		break;
	default:
		r = cv_qgroup(q, m);
		break;
	}
	if (r != 0)
		cv_fail_now(q, r);
}
