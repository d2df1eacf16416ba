/*
 * proto_cloud_fields.c - the fields the cloud verbs share (tags, error block, instance type,
 * instance, counted lists): their encoders, bounded decoders and destructors. The verbs
 * themselves are in proto_cloud.c.
 */
#include "proto_cloud_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* A count: bounded by max, and n * min_each bytes must still be there. */
int
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

void
pc_put_count(struct proto_wbuf *w, uint32_t n, uint32_t max)
{
	if (w->err == 0 && n > max)
		w->err = -EMSGSIZE;
	proto_put_u32(w, n);
}

void
pc_free_strv(char **v, uint32_t n)
{
	for (uint32_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- tags ---- */

void
pc_put_tags(struct proto_wbuf *w, const struct proto_cloud_tags *t)
{
	pc_put_count(w, t->n, PROTO_MAX_TAGS);
	for (uint32_t i = 0; i < t->n && w->err == 0; i++) {
		proto_put_str_max(w, t->keys[i], PROTO_MAX_TAG_KEY);
		proto_put_str_max(w, t->values[i], PROTO_MAX_TAG_VALUE);
	}
}

void
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

void
pc_tags_free(struct proto_cloud_tags *t)
{
	pc_free_strv(t->keys, t->n);
	pc_free_strv(t->values, t->n);
	memset(t, 0, sizeof(*t));
}

size_t
pc_tags_size(const struct proto_cloud_tags *t)
{
	size_t s = 4;

	for (uint32_t i = 0; i < t->n; i++)
		s += 8 + strlen(t->keys[i]) + strlen(t->values[i]);
	return s;
}

/* ---- error block ---- */

bool
pc_err_valid(const struct proto_cloud_err *e)
{
	if (e->status < PROTO_OK || e->status > PROTO_E_LAST || e->cls > PROTO_CLOUD_CLASS_LAST)
		return false;
	if (e->earliest_retry_ms < 0 || e->earliest_retry_ms > PROTO_MAX_TIME_MS)
		return false;
	/* A class only on a failure, and a failure of the cloud call always has one. */
	return (e->status == PROTO_OK) == (e->cls == PROTO_CLOUD_OK);
}

void
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

void
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
uint32_t
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

size_t
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

void
pc_put_itype(struct proto_wbuf *w, const struct proto_cloud_itype *t)
{
	proto_put_str_max(w, t->name, PROTO_MAX_ID);
	proto_put_str_max(w, t->provider_type, PROTO_MAX_ID);
	proto_put_f64(w, t->price);
	proto_put_bool(w, t->preemptible);
	proto_put_i64(w, t->added_scratch);
}

void
pc_get_itype(struct proto_rbuf *r, struct proto_cloud_itype *t)
{
	proto_get_str(r, &t->name, PROTO_MAX_ID);
	proto_get_str(r, &t->provider_type, PROTO_MAX_ID);
	proto_get_f64(r, &t->price);
	proto_get_bool(r, &t->preemptible);
	proto_get_i64(r, &t->added_scratch);
}

void
pc_itype_free(struct proto_cloud_itype *t)
{
	free(t->name);
	free(t->provider_type);
	memset(t, 0, sizeof(*t));
}

/* ---- instance ---- */

void
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

void
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

void
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
