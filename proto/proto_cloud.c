/*
 * proto_cloud.c - encoders, decoders and destructors of the cloud verbs (proto_cloud.h).
 *
 * Same shape as proto_msgs.c: check the type, read every field through the bounded getters,
 * validate, proto_end(), free on failure. Lists are counted: each count is bounded and
 * checked against the bytes left (times the smallest encoding of one element) before
 * anything is allocated. Validation is shared by both directions (proto_cloud_err_valid),
 * so whatever decodes re-encodes to the same bytes.
 */
#include "proto_cloud.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Smallest encodings, for the count checks. */
#define PC_MIN_TAG   8u
#define PC_MIN_ERR   36u
#define PC_MIN_INST  41u
#define PC_MIN_PRICE 16u
#define PC_MIN_ID    4u

/* ---- helpers ---- */

/* A count: bounded by max, and n * min_each bytes must still be there. */
static int
pc_get_count(struct proto_rbuf *r, uint32_t *n, uint32_t max, size_t min_each)
{
	if (proto_get_u32(r, n) != 0)
		return r->err;
	if (*n > max || (size_t)*n * min_each > r->left) {
		*n = 0;
		return r->err = -EBADMSG;
	}
	return 0;
}

static void
pc_put_count(struct proto_wbuf *w, uint32_t n, uint32_t max)
{
	if (w->err == 0 && n > max)
		w->err = -EMSGSIZE;
	proto_put_u32(w, n);
}

static void
pc_free_strv(char **v, uint32_t n)
{
	for (uint32_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- tags ---- */

static void
pc_put_tags(struct proto_wbuf *w, const struct proto_cloud_tags *t)
{
	pc_put_count(w, t->n, PROTO_MAX_TAGS);
	for (uint32_t i = 0; i < t->n && w->err == 0; i++) {
		proto_put_str_max(w, t->keys[i], PROTO_MAX_TAG_KEY);
		proto_put_str_max(w, t->values[i], PROTO_MAX_TAG_VALUE);
	}
}

static void
pc_get_tags(struct proto_rbuf *r, struct proto_cloud_tags *t)
{
	uint32_t n;

	if (pc_get_count(r, &n, PROTO_MAX_TAGS, PC_MIN_TAG) != 0 || n == 0)
		return;
	t->keys = calloc(n, sizeof(char *));
	t->values = calloc(n, sizeof(char *));
	if (t->keys == NULL || t->values == NULL) {
		r->err = -ENOMEM;
		return;
	}
	t->n = n;
	for (uint32_t i = 0; i < n && r->err == 0; i++) {
		proto_get_str(r, &t->keys[i], PROTO_MAX_TAG_KEY);
		proto_get_str(r, &t->values[i], PROTO_MAX_TAG_VALUE);
	}
}

static void
pc_tags_free(struct proto_cloud_tags *t)
{
	pc_free_strv(t->keys, t->n);
	pc_free_strv(t->values, t->n);
	memset(t, 0, sizeof(*t));
}

static size_t
pc_tags_size(const struct proto_cloud_tags *t)
{
	size_t s = 4;

	for (uint32_t i = 0; i < t->n; i++)
		s += 8 + strlen(t->keys[i]) + strlen(t->values[i]);
	return s;
}

/* ---- error block ---- */

static bool
pc_err_valid(const struct proto_cloud_err *e)
{
	if (e->status < PROTO_OK || e->status > PROTO_E_LAST || e->cls > PROTO_CLOUD_CLASS_LAST)
		return false;
	if (e->earliest_retry_ms < 0 || e->earliest_retry_ms > PROTO_MAX_TIME_MS)
		return false;
	/* A class only on a failure, and a failure of the cloud call always has one. */
	return (e->status == PROTO_OK) == (e->cls == PROTO_CLOUD_OK);
}

static void
pc_put_err(struct proto_wbuf *w, const struct proto_cloud_err *e)
{
	if (w->err == 0 && !pc_err_valid(e))
		w->err = -EINVAL;
	proto_put_i32(w, e->status);
	proto_put_u8(w, e->cls);
	proto_put_i64(w, e->earliest_retry_ms);
	proto_put_bool(w, e->type_specific);
	proto_put_bool(w, e->quota_group_specific);
	proto_put_bool(w, e->spot);
	proto_put_i32(w, e->http_status);
	proto_put_str_max(w, e->instance_type, PROTO_MAX_ERR_FIELD);
	proto_put_str_max(w, e->quota_group, PROTO_MAX_ERR_FIELD);
	proto_put_str_max(w, e->code, PROTO_MAX_ERR_FIELD);
	proto_put_str_max(w, e->text, PROTO_MAX_ERR_TEXT);
}

static void
pc_get_err(struct proto_rbuf *r, struct proto_cloud_err *e)
{
	proto_get_i32(r, &e->status);
	proto_get_u8(r, &e->cls);
	proto_get_i64(r, &e->earliest_retry_ms);
	proto_get_bool(r, &e->type_specific);
	proto_get_bool(r, &e->quota_group_specific);
	proto_get_bool(r, &e->spot);
	proto_get_i32(r, &e->http_status);
	proto_get_str(r, &e->instance_type, PROTO_MAX_ERR_FIELD);
	proto_get_str(r, &e->quota_group, PROTO_MAX_ERR_FIELD);
	proto_get_str(r, &e->code, PROTO_MAX_ERR_FIELD);
	proto_get_str(r, &e->text, PROTO_MAX_ERR_TEXT);
	if (r->err == 0 && !pc_err_valid(e))
		r->err = -EBADMSG;
}

/* What every list-carrying answer starts with: the error block, then a count (at most max,
 * each item at least min_each bytes on the wire) and a zeroed array of that many items of
 * size bytes in *v (left NULL for none). Returns the count; 0 with r->err set on failure. */
static uint32_t
pc_get_ans_list(struct proto_rbuf *r, struct proto_cloud_err *err, void **v, size_t size,
		uint32_t max, size_t min_each)
{
	uint32_t n = 0;

	pc_get_err(r, err);
	if (r->err != 0 || pc_get_count(r, &n, max, min_each) != 0 || n == 0)
		return 0;
	if ((*v = calloc(n, size)) == NULL) {
		r->err = -ENOMEM;
		return 0;
	}
	return n;
}

void
proto_cloud_err_free(struct proto_cloud_err *e)
{
	free(e->instance_type);
	free(e->quota_group);
	free(e->code);
	free(e->text);
	memset(e, 0, sizeof(*e));
}

static size_t
pc_len(const char *s)
{
	return s != NULL ? strlen(s) : 0;
}

size_t
proto_cloud_err_size(const struct proto_cloud_err *e)
{
	return PC_MIN_ERR + pc_len(e->instance_type) + pc_len(e->quota_group) + pc_len(e->code) +
	       pc_len(e->text);
}

/* ---- instance type ---- */

static void
pc_put_itype(struct proto_wbuf *w, const struct proto_cloud_itype *t)
{
	proto_put_str_max(w, t->name, PROTO_MAX_ID);
	proto_put_str_max(w, t->provider_type, PROTO_MAX_ID);
	proto_put_f64(w, t->price);
	proto_put_bool(w, t->preemptible);
	proto_put_i64(w, t->added_scratch);
}

static void
pc_get_itype(struct proto_rbuf *r, struct proto_cloud_itype *t)
{
	proto_get_str(r, &t->name, PROTO_MAX_ID);
	proto_get_str(r, &t->provider_type, PROTO_MAX_ID);
	proto_get_f64(r, &t->price);
	proto_get_bool(r, &t->preemptible);
	proto_get_i64(r, &t->added_scratch);
}

static void
pc_itype_free(struct proto_cloud_itype *t)
{
	free(t->name);
	free(t->provider_type);
	memset(t, 0, sizeof(*t));
}

/* ---- instance ---- */

static void
pc_put_inst(struct proto_wbuf *w, const struct proto_cloud_inst *i)
{
	proto_put_str_max(w, i->id, PROTO_MAX_ID);
	proto_put_str_max(w, i->provider_type, PROTO_MAX_ID);
	proto_put_str_max(w, i->address, PROTO_MAX_ID);
	proto_put_str_max(w, i->private_address, PROTO_MAX_ID);
	proto_put_str_max(w, i->subnet_id, PROTO_MAX_ID);
	proto_put_str_max(w, i->state, PROTO_MAX_STATE);
	proto_put_str_max(w, i->az, PROTO_MAX_ID);
	proto_put_str_max(w, i->remote_user, PROTO_MAX_USER);
	proto_put_str_max(w, i->host_key, PROTO_MAX_HOST_KEY);
	proto_put_bool(w, i->spot);
	pc_put_tags(w, &i->tags);
}

static void
pc_get_inst(struct proto_rbuf *r, struct proto_cloud_inst *i)
{
	proto_get_str(r, &i->id, PROTO_MAX_ID);
	proto_get_str(r, &i->provider_type, PROTO_MAX_ID);
	proto_get_str(r, &i->address, PROTO_MAX_ID);
	proto_get_str(r, &i->private_address, PROTO_MAX_ID);
	proto_get_str(r, &i->subnet_id, PROTO_MAX_ID);
	proto_get_str(r, &i->state, PROTO_MAX_STATE);
	proto_get_str(r, &i->az, PROTO_MAX_ID);
	proto_get_str(r, &i->remote_user, PROTO_MAX_USER);
	proto_get_str(r, &i->host_key, PROTO_MAX_HOST_KEY);
	proto_get_bool(r, &i->spot);
	if (r->err == 0)
		pc_get_tags(r, &i->tags);
}

static void
pc_inst_free(struct proto_cloud_inst *i)
{
	free(i->id);
	free(i->provider_type);
	free(i->address);
	free(i->private_address);
	free(i->subnet_id);
	free(i->state);
	free(i->az);
	free(i->remote_user);
	free(i->host_key);
	pc_tags_free(&i->tags);
	memset(i, 0, sizeof(*i));
}

size_t
proto_cloud_inst_size(const struct proto_cloud_inst *i)
{
	return PC_MIN_INST - 4 + pc_len(i->id) + pc_len(i->provider_type) + pc_len(i->address) +
	       pc_len(i->private_address) + pc_len(i->subnet_id) + pc_len(i->state) +
	       pc_len(i->az) + pc_len(i->remote_user) + pc_len(i->host_key) +
	       pc_tags_size(&i->tags);
}

/* ---- CLOUD_CREATE_REQ / ANS ---- */

int
proto_cloud_create_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			  const struct proto_cloud_create *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_CREATE_REQ, 0, reqid, timeout_ms);
	pc_put_itype(w, &m->itype);
	proto_put_str_max(w, m->image, PROTO_MAX_IMAGE);
	proto_put_str_max(w, m->init_command, PROTO_MAX_INIT_COMMAND);
	proto_put_str_max(w, m->public_key, PROTO_MAX_PUBLIC_KEY);
	proto_put_str_max(w, m->key, PROTO_MAX_ID);
	pc_put_tags(w, &m->tags);
	return proto_encode_finish(w);
}

int
proto_cloud_create_decode(const struct proto_msg *msg, struct proto_cloud_create *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_CREATE_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_itype(&r, &m->itype);
	proto_get_str(&r, &m->image, PROTO_MAX_IMAGE);
	proto_get_str(&r, &m->init_command, PROTO_MAX_INIT_COMMAND);
	proto_get_str(&r, &m->public_key, PROTO_MAX_PUBLIC_KEY);
	proto_get_str(&r, &m->key, PROTO_MAX_ID);
	if (r.err == 0)
		pc_get_tags(&r, &m->tags);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_create_free(m);
	return rc;
}

void
proto_cloud_create_free(struct proto_cloud_create *m)
{
	pc_itype_free(&m->itype);
	free(m->image);
	free(m->init_command);
	free(m->public_key);
	free(m->key);
	pc_tags_free(&m->tags);
	memset(m, 0, sizeof(*m));
}

int
proto_cloud_create_ans_encode(struct proto_wbuf *w, uint32_t reqid,
			      const struct proto_cloud_create_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_CREATE_ANS, 0, reqid, 0);
	pc_put_err(w, &m->err);
	pc_put_inst(w, &m->inst);
	return proto_encode_finish(w);
}

int
proto_cloud_create_ans_decode(const struct proto_msg *msg, struct proto_cloud_create_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_CREATE_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_err(&r, &m->err);
	if (r.err == 0)
		pc_get_inst(&r, &m->inst);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_create_ans_free(m);
	return rc;
}

void
proto_cloud_create_ans_free(struct proto_cloud_create_ans *m)
{
	proto_cloud_err_free(&m->err);
	pc_inst_free(&m->inst);
}

/* ---- CLOUD_LIST_REQ / ANS ---- */

int
proto_cloud_list_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_cloud_list *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_LIST_REQ, 0, reqid, timeout_ms);
	pc_put_tags(w, &m->filter);
	return proto_encode_finish(w);
}

int
proto_cloud_list_decode(const struct proto_msg *msg, struct proto_cloud_list *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_LIST_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_tags(&r, &m->filter);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_list_free(m);
	return rc;
}

void
proto_cloud_list_free(struct proto_cloud_list *m)
{
	pc_tags_free(&m->filter);
}

int
proto_cloud_list_ans_encode(struct proto_wbuf *w, uint32_t reqid, uint16_t flags,
			    const struct proto_cloud_list_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_LIST_ANS, flags, reqid, 0);
	pc_put_err(w, &m->err);
	pc_put_count(w, m->n, PROTO_MAX_PART_INSTANCES);
	for (uint32_t i = 0; i < m->n && w->err == 0; i++)
		pc_put_inst(w, &m->insts[i]);
	return proto_encode_finish(w);
}

int
proto_cloud_list_ans_decode(const struct proto_msg *msg, struct proto_cloud_list_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_LIST_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	m->n = pc_get_ans_list(&r, &m->err, (void **)&m->insts, sizeof(*m->insts),
			       PROTO_MAX_PART_INSTANCES, PC_MIN_INST);
	for (uint32_t i = 0; i < m->n && r.err == 0; i++)
		pc_get_inst(&r, &m->insts[i]);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_list_ans_free(m);
	return rc;
}

void
proto_cloud_list_ans_free(struct proto_cloud_list_ans *m)
{
	proto_cloud_err_free(&m->err);
	for (uint32_t i = 0; m->insts != NULL && i < m->n; i++)
		pc_inst_free(&m->insts[i]);
	free(m->insts);
	memset(m, 0, sizeof(*m));
}

/* ---- CLOUD_DESTROY_REQ / ANS ---- */

int
proto_cloud_destroy_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			   const struct proto_cloud_destroy *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_DESTROY_REQ, 0, reqid, timeout_ms);
	if (w->err == 0 && m->n == 0)
		w->err = -EINVAL;
	pc_put_count(w, m->n, PROTO_MAX_DESTROY_IDS);
	for (uint32_t i = 0; i < m->n && w->err == 0; i++)
		proto_put_str_max(w, m->ids[i], PROTO_MAX_ID);
	return proto_encode_finish(w);
}

static int
pc_get_ids(struct proto_rbuf *r, char ***ids, uint32_t n)
{
	if (n == 0)
		return 0;
	*ids = calloc(n, sizeof(char *));
	if (*ids == NULL)
		return r->err = -ENOMEM;
	return 0;
}

int
proto_cloud_destroy_decode(const struct proto_msg *msg, struct proto_cloud_destroy *m)
{
	struct proto_rbuf r;
	uint32_t n = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_DESTROY_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	if (pc_get_count(&r, &n, PROTO_MAX_DESTROY_IDS, PC_MIN_ID) == 0 && n == 0)
		r.err = -EBADMSG;
	if (r.err == 0 && pc_get_ids(&r, &m->ids, n) == 0)
		m->n = n;
	for (uint32_t i = 0; i < m->n && r.err == 0; i++)
		proto_get_str(&r, &m->ids[i], PROTO_MAX_ID);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_destroy_free(m);
	return rc;
}

void
proto_cloud_destroy_free(struct proto_cloud_destroy *m)
{
	pc_free_strv(m->ids, m->n);
	memset(m, 0, sizeof(*m));
}

int
proto_cloud_destroy_ans_encode(struct proto_wbuf *w, uint32_t reqid, uint16_t flags,
			       const struct proto_cloud_destroy_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_DESTROY_ANS, flags, reqid, 0);
	pc_put_err(w, &m->err);
	pc_put_count(w, m->n, PROTO_MAX_DESTROY_IDS);
	for (uint32_t i = 0; i < m->n && w->err == 0; i++) {
		proto_put_str_max(w, m->ids[i], PROTO_MAX_ID);
		pc_put_err(w, &m->errs[i]);
	}
	return proto_encode_finish(w);
}

int
proto_cloud_destroy_ans_decode(const struct proto_msg *msg, struct proto_cloud_destroy_ans *m)
{
	struct proto_rbuf r;
	uint32_t n = 0;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_DESTROY_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	n = pc_get_ans_list(&r, &m->err, (void **)&m->errs, sizeof(*m->errs), PROTO_MAX_DESTROY_IDS,
			    PC_MIN_ID + PC_MIN_ERR);
	if (n > 0 && pc_get_ids(&r, &m->ids, n) == 0)
		m->n = n;
	for (uint32_t i = 0; i < m->n && r.err == 0; i++) {
		proto_get_str(&r, &m->ids[i], PROTO_MAX_ID);
		pc_get_err(&r, &m->errs[i]);
	}
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_destroy_ans_free(m);
	return rc;
}

void
proto_cloud_destroy_ans_free(struct proto_cloud_destroy_ans *m)
{
	proto_cloud_err_free(&m->err);
	for (uint32_t i = 0; m->errs != NULL && i < m->n; i++)
		proto_cloud_err_free(&m->errs[i]);
	free(m->errs);
	pc_free_strv(m->ids, m->n);
	memset(m, 0, sizeof(*m));
}

/* ---- CLOUD_TAGS_REQ, and the answers that are only an error block ---- */

int
proto_cloud_tags_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_cloud_tags_req *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_TAGS_REQ, 0, reqid, timeout_ms);
	proto_put_str_max(w, m->id, PROTO_MAX_ID);
	pc_put_tags(w, &m->tags);
	return proto_encode_finish(w);
}

int
proto_cloud_tags_decode(const struct proto_msg *msg, struct proto_cloud_tags_req *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_TAGS_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->id, PROTO_MAX_ID);
	if (r.err == 0)
		pc_get_tags(&r, &m->tags);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_tags_free(m);
	return rc;
}

void
proto_cloud_tags_free(struct proto_cloud_tags_req *m)
{
	free(m->id);
	pc_tags_free(&m->tags);
	memset(m, 0, sizeof(*m));
}

int
proto_cloud_err_ans_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
			   const struct proto_cloud_err *m)
{
	if (type != PROTO_CLOUD_TAGS_ANS) {
		memset(w, 0, sizeof(*w));
		return -EINVAL;
	}
	proto_wbuf_begin(w, type, 0, reqid, 0);
	pc_put_err(w, m);
	return proto_encode_finish(w);
}

int
proto_cloud_err_ans_decode(const struct proto_msg *msg, struct proto_cloud_err *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_TAGS_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_err(&r, m);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_err_free(m);
	return rc;
}

/* ---- CLOUD_PRICES_REQ / ANS ---- */

int
proto_cloud_prices_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			  const struct proto_cloud_prices *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_PRICES_REQ, 0, reqid, timeout_ms);
	pc_put_itype(w, &m->itype);
	proto_put_str_max(w, m->id, PROTO_MAX_ID);
	proto_put_str_max(w, m->az, PROTO_MAX_ID);
	proto_put_bool(w, m->spot);
	return proto_encode_finish(w);
}

int
proto_cloud_prices_decode(const struct proto_msg *msg, struct proto_cloud_prices *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_PRICES_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_itype(&r, &m->itype);
	proto_get_str(&r, &m->id, PROTO_MAX_ID);
	proto_get_str(&r, &m->az, PROTO_MAX_ID);
	proto_get_bool(&r, &m->spot);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_prices_free(m);
	return rc;
}

void
proto_cloud_prices_free(struct proto_cloud_prices *m)
{
	pc_itype_free(&m->itype);
	free(m->id);
	free(m->az);
	memset(m, 0, sizeof(*m));
}

int
proto_cloud_prices_ans_encode(struct proto_wbuf *w, uint32_t reqid,
			      const struct proto_cloud_prices_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_PRICES_ANS, 0, reqid, 0);
	pc_put_err(w, &m->err);
	pc_put_count(w, m->n, PROTO_MAX_PRICES);
	for (uint32_t i = 0; i < m->n && w->err == 0; i++) {
		if (m->v[i].start_time < 0 || m->v[i].start_time > PROTO_MAX_TIME_S)
			w->err = -EINVAL;
		proto_put_i64(w, m->v[i].start_time);
		proto_put_f64(w, m->v[i].price);
	}
	return proto_encode_finish(w);
}

int
proto_cloud_prices_ans_decode(const struct proto_msg *msg, struct proto_cloud_prices_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_PRICES_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	m->n = pc_get_ans_list(&r, &m->err, (void **)&m->v, sizeof(*m->v), PROTO_MAX_PRICES,
			       PC_MIN_PRICE);
	for (uint32_t i = 0; i < m->n && r.err == 0; i++) {
		proto_get_i64(&r, &m->v[i].start_time);
		proto_get_f64(&r, &m->v[i].price);
		if (r.err == 0 && (m->v[i].start_time < 0 || m->v[i].start_time > PROTO_MAX_TIME_S))
			r.err = -EBADMSG;
	}
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_prices_ans_free(m);
	return rc;
}

void
proto_cloud_prices_ans_free(struct proto_cloud_prices_ans *m)
{
	proto_cloud_err_free(&m->err);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- CLOUD_QGROUP_REQ / ANS ---- */

int
proto_cloud_qgroup_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			  const struct proto_cloud_qgroup *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_QGROUP_REQ, 0, reqid, timeout_ms);
	pc_put_itype(w, &m->itype);
	return proto_encode_finish(w);
}

int
proto_cloud_qgroup_decode(const struct proto_msg *msg, struct proto_cloud_qgroup *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_QGROUP_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_itype(&r, &m->itype);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_qgroup_free(m);
	return rc;
}

void
proto_cloud_qgroup_free(struct proto_cloud_qgroup *m)
{
	pc_itype_free(&m->itype);
}

int
proto_cloud_qgroup_ans_encode(struct proto_wbuf *w, uint32_t reqid,
			      const struct proto_cloud_qgroup_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_QGROUP_ANS, 0, reqid, 0);
	pc_put_err(w, &m->err);
	proto_put_str_max(w, m->group, PROTO_MAX_ERR_FIELD);
	return proto_encode_finish(w);
}

int
proto_cloud_qgroup_ans_decode(const struct proto_msg *msg, struct proto_cloud_qgroup_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_QGROUP_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	pc_get_err(&r, &m->err);
	proto_get_str(&r, &m->group, PROTO_MAX_ERR_FIELD);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_qgroup_ans_free(m);
	return rc;
}

void
proto_cloud_qgroup_ans_free(struct proto_cloud_qgroup_ans *m)
{
	proto_cloud_err_free(&m->err);
	free(m->group);
	memset(m, 0, sizeof(*m));
}

/* ---- CLOUD_STATS_REQ / ANS ---- */

#define PC_MIN_STATS 28u

int
proto_cloud_stats_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms)
{
	proto_wbuf_begin(w, PROTO_CLOUD_STATS_REQ, 0, reqid, timeout_ms);
	return proto_encode_finish(w);
}

int
proto_cloud_stats_decode(const struct proto_msg *msg)
{
	struct proto_rbuf r;

	if (msg->hdr.type != PROTO_CLOUD_STATS_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	return proto_end(&r);
}

int
proto_cloud_stats_ans_encode(struct proto_wbuf *w, uint32_t reqid,
			     const struct proto_cloud_stats_ans *m)
{
	proto_wbuf_begin(w, PROTO_CLOUD_STATS_ANS, 0, reqid, 0);
	pc_put_err(w, &m->err);
	pc_put_count(w, m->n, PROTO_MAX_SUBNETS);
	for (uint32_t i = 0; i < m->n && w->err == 0; i++) {
		proto_put_str_max(w, m->v[i].subnet_id, PROTO_MAX_SUBNET_ID);
		proto_put_u64(w, m->v[i].starts_ok);
		proto_put_u64(w, m->v[i].starts_fail);
		proto_put_u64(w, m->v[i].instances);
	}
	return proto_encode_finish(w);
}

int
proto_cloud_stats_ans_decode(const struct proto_msg *msg, struct proto_cloud_stats_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_STATS_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	m->n = pc_get_ans_list(&r, &m->err, (void **)&m->v, sizeof(*m->v), PROTO_MAX_SUBNETS,
			       PC_MIN_STATS);
	for (uint32_t i = 0; i < m->n && r.err == 0; i++) {
		proto_get_str(&r, &m->v[i].subnet_id, PROTO_MAX_SUBNET_ID);
		proto_get_u64(&r, &m->v[i].starts_ok);
		proto_get_u64(&r, &m->v[i].starts_fail);
		proto_get_u64(&r, &m->v[i].instances);
	}
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_stats_ans_free(m);
	return rc;
}

void
proto_cloud_stats_ans_free(struct proto_cloud_stats_ans *m)
{
	proto_cloud_err_free(&m->err);
	for (uint32_t i = 0; i < m->n; i++)
		free(m->v[i].subnet_id);
	free(m->v);
	memset(m, 0, sizeof(*m));
}
