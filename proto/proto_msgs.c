/*
 * proto_msgs.c - encoders, decoders and destructors of the typed messages in proto.h.
 *
 * Every decoder follows one shape: check the header type, read every field through the
 * bounds-checked getters, validate values, proto_end(), and on any failure free what it
 * allocated and leave the struct zeroed. Encoders enforce the same bounds, so that a sender
 * learns of an oversized field at once rather than by the peer closing the channel.
 */
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

/* Begin failures leave w->err set; let finish report and free them in one place. */
static void
proto_encode_begin(struct proto_wbuf *w, uint16_t type, uint16_t flags, uint32_t reqid,
		   uint32_t timeout_ms, bool secret)
{
	proto_wbuf_begin(w, type, flags, reqid, timeout_ms);
	w->secret = secret;
}

static int
proto_encode_bad_type(struct proto_wbuf *w)
{
	memset(w, 0, sizeof(*w));
	return -EINVAL;
}

static bool
proto_status_ok(int32_t status)
{
	return status >= PROTO_OK && status <= PROTO_E_LAST;
}

/* ---- HELLO_REQ / HELLO_ANS ---- */

static bool
proto_hello_type(uint16_t type)
{
	return type == PROTO_HELLO_REQ || type == PROTO_HELLO_ANS;
}

int
proto_hello_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid, const struct proto_hello *m)
{
	if (!proto_hello_type(type))
		return proto_encode_bad_type(w);
	proto_encode_begin(w, type, 0, reqid, 0, false);
	proto_put_u32(w, m->version);
	proto_put_str_max(w, m->build_id, PROTO_MAX_BUILD_ID);
	proto_put_str_max(w, m->role, PROTO_MAX_ROLE);
	proto_put_u32(w, m->pid);
	return proto_encode_finish(w);
}

int
proto_hello_decode(const struct proto_msg *msg, struct proto_hello *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!proto_hello_type(msg->hdr.type))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_u32(&r, &m->version);
	proto_get_str(&r, &m->build_id, PROTO_MAX_BUILD_ID);
	proto_get_str(&r, &m->role, PROTO_MAX_ROLE);
	proto_get_u32(&r, &m->pid);
	if ((rc = proto_end(&r)) != 0)
		proto_hello_free(m);
	return rc;
}

void
proto_hello_free(struct proto_hello *m)
{
	free(m->build_id);
	free(m->role);
	memset(m, 0, sizeof(*m));
}

/* ---- PING_REQ / PING_ANS ---- */

static bool
proto_ping_type(uint16_t type)
{
	return type == PROTO_PING_REQ || type == PROTO_PING_ANS;
}

int
proto_ping_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid, const struct proto_ping *m)
{
	if (!proto_ping_type(type))
		return proto_encode_bad_type(w);
	proto_encode_begin(w, type, 0, reqid, 0, false);
	proto_put_u64(w, m->nonce);
	return proto_encode_finish(w);
}

int
proto_ping_decode(const struct proto_msg *msg, struct proto_ping *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!proto_ping_type(msg->hdr.type))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_u64(&r, &m->nonce);
	if ((rc = proto_end(&r)) != 0)
		memset(m, 0, sizeof(*m));
	return rc;
}

/* ---- generic status answer ---- */

/* The answers whose payload is a bare status; add a new one here when it has no own struct. */
static bool
proto_status_type(uint16_t type)
{
	return type == PROTO_CLOUD_INIT_ANS;
}

int
proto_status_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
		    const struct proto_status *m)
{
	if (!proto_status_type(type) || !proto_status_ok(m->status))
		return proto_encode_bad_type(w);
	proto_encode_begin(w, type, 0, reqid, 0, false);
	proto_put_i32(w, m->status);
	proto_put_str_max(w, m->message, PROTO_MAX_MESSAGE);
	return proto_encode_finish(w);
}

int
proto_status_decode(const struct proto_msg *msg, struct proto_status *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!proto_status_type(msg->hdr.type))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_i32(&r, &m->status);
	proto_get_str(&r, &m->message, PROTO_MAX_MESSAGE);
	rc = proto_end(&r);
	if (rc == 0 && !proto_status_ok(m->status))
		rc = -EBADMSG;
	if (rc != 0)
		proto_status_free(m);
	return rc;
}

void
proto_status_free(struct proto_status *m)
{
	free(m->message);
	memset(m, 0, sizeof(*m));
}

/* ---- CLOUD_INIT_REQ (secret: driver_params_json) ---- */

int
proto_cloud_init_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_cloud_init *m)
{
	proto_encode_begin(w, PROTO_CLOUD_INIT_REQ, 0, reqid, timeout_ms, true);
	proto_put_str_max(w, m->driver, PROTO_MAX_DRIVER);
	proto_put_str_max(w, m->driver_params_json, PROTO_MAX_STR);
	proto_put_str_max(w, m->instance_set_id, PROTO_MAX_ID);
	proto_put_str_max(w, m->tag_key_prefix, PROTO_MAX_ID);
	if (w->err == 0 && m->n_shared_tags > PROTO_MAX_TAGS)
		w->err = -EMSGSIZE;
	proto_put_u32(w, m->n_shared_tags);
	for (uint32_t i = 0; i < m->n_shared_tags && w->err == 0; i++) {
		proto_put_str_max(w, m->shared_tag_keys[i], PROTO_MAX_TAG_KEY);
		proto_put_str_max(w, m->shared_tag_values[i], PROTO_MAX_TAG_VALUE);
	}
	return proto_encode_finish(w);
}

/* The tag list: n bounded, and each pair needs at least 8 bytes, so n is checked against
 * what is left before anything is allocated. */
static int
proto_cloud_init_get_tags(struct proto_rbuf *r, struct proto_cloud_init *m)
{
	uint32_t n;

	if (proto_get_u32(r, &n) != 0)
		return r->err;
	if (n > PROTO_MAX_TAGS || (size_t)n * 8u > r->left)
		return r->err = -EBADMSG;
	if (n == 0)
		return 0;
	m->shared_tag_keys = calloc(n, sizeof(char *));
	m->shared_tag_values = calloc(n, sizeof(char *));
	if (m->shared_tag_keys == NULL || m->shared_tag_values == NULL)
		return r->err = -ENOMEM;
	m->n_shared_tags = n;
	for (uint32_t i = 0; i < n && r->err == 0; i++) {
		proto_get_str(r, &m->shared_tag_keys[i], PROTO_MAX_TAG_KEY);
		proto_get_str(r, &m->shared_tag_values[i], PROTO_MAX_TAG_VALUE);
	}
	return r->err;
}

int
proto_cloud_init_decode(const struct proto_msg *msg, struct proto_cloud_init *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_CLOUD_INIT_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->driver, PROTO_MAX_DRIVER);
	proto_get_str(&r, &m->driver_params_json, PROTO_MAX_STR);
	proto_get_str(&r, &m->instance_set_id, PROTO_MAX_ID);
	proto_get_str(&r, &m->tag_key_prefix, PROTO_MAX_ID);
	proto_cloud_init_get_tags(&r, m);
	if ((rc = proto_end(&r)) != 0)
		proto_cloud_init_free(m);
	return rc;
}

void
proto_cloud_init_free(struct proto_cloud_init *m)
{
	free(m->driver);
	adc_free_secret_str(m->driver_params_json);
	free(m->instance_set_id);
	free(m->tag_key_prefix);
	for (uint32_t i = 0; i < m->n_shared_tags; i++) {
		if (m->shared_tag_keys != NULL)
			free(m->shared_tag_keys[i]);
		if (m->shared_tag_values != NULL)
			free(m->shared_tag_values[i]);
	}
	free(m->shared_tag_keys);
	free(m->shared_tag_values);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_INIT_REQ (secret: private_key, or an fd to it) ---- */

int
proto_ssh_init_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
		      const struct proto_ssh_init *m, bool with_fd)
{
	size_t keylen = with_fd ? 0 : m->private_key_len;

	proto_encode_begin(w, PROTO_SSH_INIT_REQ, with_fd ? PROTO_F_FD : 0, reqid, timeout_ms,
			   true);
	/* Exactly one of the two carries the key: the payload or the fd. */
	if (w->err == 0 && (keylen > PROTO_MAX_PRIVATE_KEY || (!with_fd && keylen == 0)))
		w->err = keylen == 0 ? -EINVAL : -EMSGSIZE;
	proto_put_bytes(w, m->private_key, keylen);
	proto_put_str_max(w, m->boot_probe_command, PROTO_MAX_COMMAND);
	proto_put_str_max(w, m->ssh_port, PROTO_MAX_PORT);
	proto_put_str_max(w, m->cluster_id, PROTO_MAX_ID);
	proto_put_u32(w, m->connect_timeout_ms);
	proto_put_u32(w, m->command_timeout_ms);
	proto_put_str_max(w, m->crunch_run_command, PROTO_MAX_PATH);
	proto_put_str_max(w, m->deploy_dir, PROTO_MAX_PATH);
	proto_put_str_max(w, m->runner_md5, PROTO_MAX_MD5);
	proto_put_bool(w, m->heartbeat);
	proto_put_str_max(w, m->imds_url, PROTO_MAX_PATH);
	proto_put_str_max(w, m->imds_kind, PROTO_MAX_ID);
	return proto_encode_finish(w);
}

int
proto_ssh_init_decode(const struct proto_msg *msg, struct proto_ssh_init *m)
{
	bool with_fd = (msg->hdr.flags & PROTO_F_FD) != 0;
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_INIT_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_bytes(&r, &m->private_key, &m->private_key_len, PROTO_MAX_PRIVATE_KEY);
	proto_get_str(&r, &m->boot_probe_command, PROTO_MAX_COMMAND);
	proto_get_str(&r, &m->ssh_port, PROTO_MAX_PORT);
	proto_get_str(&r, &m->cluster_id, PROTO_MAX_ID);
	proto_get_u32(&r, &m->connect_timeout_ms);
	proto_get_u32(&r, &m->command_timeout_ms);
	proto_get_str(&r, &m->crunch_run_command, PROTO_MAX_PATH);
	proto_get_str(&r, &m->deploy_dir, PROTO_MAX_PATH);
	proto_get_str(&r, &m->runner_md5, PROTO_MAX_MD5);
	proto_get_bool(&r, &m->heartbeat);
	proto_get_str(&r, &m->imds_url, PROTO_MAX_PATH);
	proto_get_str(&r, &m->imds_kind, PROTO_MAX_ID);
	rc = proto_end(&r);
	if (rc == 0 && with_fd != (m->private_key_len == 0))
		rc = -EBADMSG;
	if (rc != 0) {
		proto_ssh_init_free(m);
		return rc;
	}
	if (m->private_key_len == 0) { /* documented: NULL when passed as the fd */
		free(m->private_key);
		m->private_key = NULL;
	}
	return 0;
}

void
proto_ssh_init_free(struct proto_ssh_init *m)
{
	if (m->private_key != NULL) {
		adc_wipe(m->private_key, m->private_key_len);
		free(m->private_key);
	}
	free(m->boot_probe_command);
	free(m->ssh_port);
	free(m->cluster_id);
	free(m->crunch_run_command);
	free(m->deploy_dir);
	free(m->runner_md5);
	free(m->imds_url);
	free(m->imds_kind);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_INIT_ANS ---- */

int
proto_ssh_init_ans_encode(struct proto_wbuf *w, uint32_t reqid, const struct proto_ssh_init_ans *m)
{
	if (!proto_status_ok(m->status))
		return proto_encode_bad_type(w);
	proto_encode_begin(w, PROTO_SSH_INIT_ANS, 0, reqid, 0, false);
	proto_put_i32(w, m->status);
	proto_put_str_max(w, m->message, PROTO_MAX_MESSAGE);
	proto_put_str_max(w, m->public_key, PROTO_MAX_PUBLIC_KEY);
	return proto_encode_finish(w);
}

int
proto_ssh_init_ans_decode(const struct proto_msg *msg, struct proto_ssh_init_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_INIT_ANS)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_i32(&r, &m->status);
	proto_get_str(&r, &m->message, PROTO_MAX_MESSAGE);
	proto_get_str(&r, &m->public_key, PROTO_MAX_PUBLIC_KEY);
	rc = proto_end(&r);
	if (rc == 0 && !proto_status_ok(m->status))
		rc = -EBADMSG;
	if (rc != 0)
		proto_ssh_init_ans_free(m);
	return rc;
}

void
proto_ssh_init_ans_free(struct proto_ssh_init_ans *m)
{
	free(m->message);
	free(m->public_key);
	memset(m, 0, sizeof(*m));
}
