/*
 * proto_cloud.c - encoders, decoders and destructors of the cloud verbs (proto_cloud.h).
 *
 * Same shape as proto_msgs.c: check the type, read every field through the bounded getters,
 * validate, proto_end(), free on failure. Lists are counted: each count is bounded and
 * checked against the bytes left (times the smallest encoding of one element) before
 * anything is allocated. Validation is shared by both directions (proto_cloud_err_valid),
 * so whatever decodes re-encodes to the same bytes. The shared fields are in
 * proto_cloud_fields.c.
 */
#include "proto_cloud_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
