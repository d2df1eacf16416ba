/*
 * proto_ssh.c - encoders, decoders and destructors of the worker operations (proto_ssh.h).
 *
 * Same shape as proto_msgs.c: encoders put every field with its bound; decoders check the
 * header type, read every field, check structure (bounds, flags), proto_end(), and free on
 * failure. Values (UUIDs, addresses...) are checked by proto_ssh_check.c, not here.
 */
#include "proto_ssh.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ---- */

static void
pssh_put_bytes(struct proto_wbuf *w, const uint8_t *p, size_t n, size_t max)
{
	if (w->err == 0 && n > max) {
		w->err = -EMSGSIZE;
		return;
	}
	proto_put_bytes(w, p, n);
}

static void
pssh_begin(struct proto_wbuf *w, uint16_t type, uint16_t flags, uint32_t reqid, uint32_t timeout_ms,
	   bool secret)
{
	proto_wbuf_begin(w, type, flags, reqid, timeout_ms);
	w->secret = secret;
}

/* Bytes that may hold a secret: wiped before free. */
static void
pssh_free_secret(uint8_t *p, size_t n)
{
	if (p != NULL) {
		adc_wipe(p, n);
		free(p);
	}
}

/* Decoded bytes fields are allocated even when empty (proto_get_bytes); an empty one is
 * documented as NULL/0. */
static void
pssh_null_if_empty(uint8_t **p, size_t n)
{
	if (n == 0) {
		free(*p);
		*p = NULL;
	}
}

const char *
proto_ssh_outcome_str(int outcome)
{
	static const char *const names[] = {
		"ok",
		"exit status non-zero",
		"bad instance secret",
		"host key changed",
		"unsafe deploy directory",
		"timeout",
		"connection failure",
		"invalid argument",
		"worker not verified",
		"busy",
		"canceled",
		"failed",
	};

	if (outcome < 0 || outcome > PROTO_SSH_OUTCOME_LAST)
		return "unknown outcome";
	return names[outcome];
}

/* ---- SSH_VERIFY_REQ (secret) ---- */

int
proto_ssh_verify_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_ssh_verify *m)
{
	pssh_begin(w, PROTO_SSH_VERIFY_REQ, 0, reqid, timeout_ms, true);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_put_str_max(w, m->address, PROTO_SSH_MAX_ADDRESS);
	proto_put_u16(w, m->port);
	proto_put_str_max(w, m->user, PROTO_SSH_MAX_USER);
	pssh_put_bytes(w, m->secret, m->secret_len, PROTO_SSH_MAX_SECRET);
	return proto_encode_finish(w);
}

int
proto_ssh_verify_decode(const struct proto_msg *msg, struct proto_ssh_verify *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_VERIFY_REQ || (msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_get_str(&r, &m->address, PROTO_SSH_MAX_ADDRESS);
	proto_get_u16(&r, &m->port);
	proto_get_str(&r, &m->user, PROTO_SSH_MAX_USER);
	proto_get_bytes(&r, &m->secret, &m->secret_len, PROTO_SSH_MAX_SECRET);
	if ((rc = proto_end(&r)) != 0) {
		proto_ssh_verify_free(m);
		return rc;
	}
	pssh_null_if_empty(&m->secret, m->secret_len);
	return 0;
}

void
proto_ssh_verify_free(struct proto_ssh_verify *m)
{
	free(m->instance_id);
	free(m->address);
	free(m->user);
	pssh_free_secret(m->secret, m->secret_len);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_BOOT_PROBE_REQ, SSH_FORGET_REQ ---- */

static bool
pssh_target_type(uint16_t type)
{
	return type == PROTO_SSH_BOOT_PROBE_REQ || type == PROTO_SSH_FORGET_REQ;
}

int
proto_ssh_target_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_ssh_target *m)
{
	if (!pssh_target_type(type)) {
		memset(w, 0, sizeof(*w));
		return -EINVAL;
	}
	pssh_begin(w, type, 0, reqid, timeout_ms, false);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	return proto_encode_finish(w);
}

int
proto_ssh_target_decode(const struct proto_msg *msg, struct proto_ssh_target *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!pssh_target_type(msg->hdr.type) || (msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	if ((rc = proto_end(&r)) != 0)
		proto_ssh_target_free(m);
	return rc;
}

void
proto_ssh_target_free(struct proto_ssh_target *m)
{
	free(m->instance_id);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_DEPLOY_REQ (the binary is the fd) ---- */

int
proto_ssh_deploy_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			const struct proto_ssh_deploy *m)
{
	pssh_begin(w, PROTO_SSH_DEPLOY_REQ, PROTO_F_FD, reqid, timeout_ms, false);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_put_str_max(w, m->md5, PROTO_MAX_MD5);
	return proto_encode_finish(w);
}

int
proto_ssh_deploy_decode(const struct proto_msg *msg, struct proto_ssh_deploy *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_DEPLOY_REQ || !(msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_get_str(&r, &m->md5, PROTO_MAX_MD5);
	if ((rc = proto_end(&r)) != 0)
		proto_ssh_deploy_free(m);
	return rc;
}

void
proto_ssh_deploy_free(struct proto_ssh_deploy *m)
{
	free(m->instance_id);
	free(m->md5);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_RUN_PROBE_REQ ---- */

int
proto_ssh_run_probe_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
			   const struct proto_ssh_run_probe *m)
{
	pssh_begin(w, PROTO_SSH_RUN_PROBE_REQ, 0, reqid, timeout_ms, false);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	pssh_put_bytes(w, m->prices, m->prices_len, PROTO_SSH_MAX_PRICES);
	proto_put_bool(w, m->spot_check);
	return proto_encode_finish(w);
}

int
proto_ssh_run_probe_decode(const struct proto_msg *msg, struct proto_ssh_run_probe *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_RUN_PROBE_REQ || (msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_get_bytes(&r, &m->prices, &m->prices_len, PROTO_SSH_MAX_PRICES);
	proto_get_bool(&r, &m->spot_check);
	if ((rc = proto_end(&r)) != 0) {
		proto_ssh_run_probe_free(m);
		return rc;
	}
	pssh_null_if_empty(&m->prices, m->prices_len);
	return 0;
}

void
proto_ssh_run_probe_free(struct proto_ssh_run_probe *m)
{
	free(m->instance_id);
	free(m->prices);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_START_REQ (secret: the payload holds the API token) ---- */

int
proto_ssh_start_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
		       const struct proto_ssh_start *m, bool with_fd)
{
	size_t plen = with_fd ? 0 : m->payload_len;

	pssh_begin(w, PROTO_SSH_START_REQ, with_fd ? PROTO_F_FD : 0, reqid, timeout_ms, true);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_put_str_max(w, m->uuid, PROTO_SSH_MAX_UUID);
	proto_put_str_max(w, m->runtime_engine, PROTO_SSH_MAX_ENGINE);
	if (w->err == 0 && (m->nargs > PROTO_SSH_MAX_ARGS || (m->nargs > 0 && m->args == NULL)))
		w->err = -EMSGSIZE;
	proto_put_u32(w, m->nargs);
	for (uint32_t i = 0; i < m->nargs && w->err == 0; i++)
		proto_put_str_max(w, m->args[i], PROTO_SSH_MAX_ARG);
	/* Exactly one of the two carries the payload: the message or the fd. */
	if (w->err == 0 && !with_fd && plen == 0)
		w->err = -EINVAL;
	pssh_put_bytes(w, m->payload, plen, PROTO_SSH_MAX_INLINE);
	return proto_encode_finish(w);
}

/* n bounded, and each entry needs at least its 4-byte length, checked against what is left
 * before anything is allocated. */
static int
pssh_get_args(struct proto_rbuf *r, struct proto_ssh_start *m)
{
	uint32_t n;

	if (proto_get_u32(r, &n) != 0)
		return r->err;
	if (n > PROTO_SSH_MAX_ARGS || (size_t)n * 4u > r->left)
		return r->err = -EBADMSG;
	if (n == 0)
		return 0;
	if ((m->args = calloc(n, sizeof(char *))) == NULL)
		return r->err = -ENOMEM;
	m->nargs = n;
	for (uint32_t i = 0; i < n && r->err == 0; i++)
		proto_get_str(r, &m->args[i], PROTO_SSH_MAX_ARG);
	return r->err;
}

int
proto_ssh_start_decode(const struct proto_msg *msg, struct proto_ssh_start *m)
{
	bool with_fd = (msg->hdr.flags & PROTO_F_FD) != 0;
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_START_REQ)
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_get_str(&r, &m->uuid, PROTO_SSH_MAX_UUID);
	proto_get_str(&r, &m->runtime_engine, PROTO_SSH_MAX_ENGINE);
	pssh_get_args(&r, m);
	proto_get_bytes(&r, &m->payload, &m->payload_len, PROTO_SSH_MAX_INLINE);
	rc = proto_end(&r);
	if (rc == 0 && with_fd != (m->payload_len == 0))
		rc = -EBADMSG;
	if (rc != 0) {
		proto_ssh_start_free(m);
		return rc;
	}
	pssh_null_if_empty(&m->payload, m->payload_len);
	return 0;
}

void
proto_ssh_start_free(struct proto_ssh_start *m)
{
	free(m->instance_id);
	free(m->uuid);
	free(m->runtime_engine);
	for (uint32_t i = 0; m->args != NULL && i < m->nargs; i++)
		free(m->args[i]);
	free(m->args);
	pssh_free_secret(m->payload, m->payload_len);
	memset(m, 0, sizeof(*m));
}

/* ---- SSH_KILL_REQ ---- */

int
proto_ssh_kill_encode(struct proto_wbuf *w, uint32_t reqid, uint32_t timeout_ms,
		      const struct proto_ssh_kill *m)
{
	pssh_begin(w, PROTO_SSH_KILL_REQ, 0, reqid, timeout_ms, false);
	proto_put_str_max(w, m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_put_str_max(w, m->uuid, PROTO_SSH_MAX_UUID);
	proto_put_u8(w, m->signal);
	return proto_encode_finish(w);
}

int
proto_ssh_kill_decode(const struct proto_msg *msg, struct proto_ssh_kill *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (msg->hdr.type != PROTO_SSH_KILL_REQ || (msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_str(&r, &m->instance_id, PROTO_SSH_MAX_INSTANCE);
	proto_get_str(&r, &m->uuid, PROTO_SSH_MAX_UUID);
	proto_get_u8(&r, &m->signal);
	if ((rc = proto_end(&r)) != 0)
		proto_ssh_kill_free(m);
	return rc;
}

void
proto_ssh_kill_free(struct proto_ssh_kill *m)
{
	free(m->instance_id);
	free(m->uuid);
	memset(m, 0, sizeof(*m));
}

/* ---- every SSH_*_ANS ---- */

uint16_t
proto_ssh_ans_type(uint16_t req_type)
{
	switch (req_type) {
	case PROTO_SSH_VERIFY_REQ:
	case PROTO_SSH_BOOT_PROBE_REQ:
	case PROTO_SSH_DEPLOY_REQ:
	case PROTO_SSH_RUN_PROBE_REQ:
	case PROTO_SSH_START_REQ:
	case PROTO_SSH_KILL_REQ:
	case PROTO_SSH_FORGET_REQ:
		return (uint16_t)(req_type + 1);
	default:
		return 0;
	}
}

static bool
pssh_ans_type(uint16_t type)
{
	return (type & 1u) && proto_ssh_ans_type((uint16_t)(type - 1)) == type;
}

/* The consistency rules both sides enforce. */
static bool
pssh_ans_consistent(uint16_t type, const struct proto_ssh_ans *m)
{
	if (m->outcome > PROTO_SSH_OUTCOME_LAST || m->exit_status < -1 || m->exit_status > 255)
		return false;
	if (m->outcome == PROTO_SSH_OK && m->exit_status != 0)
		return false;
	if (m->outcome == PROTO_SSH_EXIT && m->exit_status == 0)
		return false;
	/* The worker's secret never travels up (sshd-pool wipes it). */
	return type != PROTO_SSH_VERIFY_ANS || (m->out_len == 0 && !m->out_truncated);
}

int
proto_ssh_ans_encode(struct proto_wbuf *w, uint16_t type, uint32_t reqid,
		     const struct proto_ssh_ans *m)
{
	if (!pssh_ans_type(type) || !pssh_ans_consistent(type, m)) {
		memset(w, 0, sizeof(*w));
		return -EINVAL;
	}
	pssh_begin(w, type, 0, reqid, 0, false);
	proto_put_u8(w, m->outcome);
	proto_put_i32(w, m->exit_status);
	proto_put_str_max(w, m->exit_signal, PROTO_SSH_MAX_SIGNAL_NAME);
	pssh_put_bytes(w, m->out, m->out_len, PROTO_SSH_MAX_OUT);
	proto_put_bool(w, m->out_truncated);
	pssh_put_bytes(w, m->err, m->err_len, PROTO_SSH_MAX_ERR);
	proto_put_bool(w, m->err_truncated);
	proto_put_str_max(w, m->message, PROTO_SSH_MAX_TEXT);
	proto_put_str_max(w, m->host_key_fp, PROTO_SSH_MAX_FP);
	proto_put_bool(w, m->pinned);
	return proto_encode_finish(w);
}

int
proto_ssh_ans_decode(const struct proto_msg *msg, struct proto_ssh_ans *m)
{
	struct proto_rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	if (!pssh_ans_type(msg->hdr.type) || (msg->hdr.flags & PROTO_F_FD))
		return -EBADMSG;
	proto_rbuf_init(&r, msg);
	proto_get_u8(&r, &m->outcome);
	proto_get_i32(&r, &m->exit_status);
	proto_get_str(&r, &m->exit_signal, PROTO_SSH_MAX_SIGNAL_NAME);
	proto_get_bytes(&r, &m->out, &m->out_len, PROTO_SSH_MAX_OUT);
	proto_get_bool(&r, &m->out_truncated);
	proto_get_bytes(&r, &m->err, &m->err_len, PROTO_SSH_MAX_ERR);
	proto_get_bool(&r, &m->err_truncated);
	proto_get_str(&r, &m->message, PROTO_SSH_MAX_TEXT);
	proto_get_str(&r, &m->host_key_fp, PROTO_SSH_MAX_FP);
	proto_get_bool(&r, &m->pinned);
	rc = proto_end(&r);
	if (rc == 0 && !pssh_ans_consistent(msg->hdr.type, m))
		rc = -EBADMSG;
	if (rc != 0)
		proto_ssh_ans_free(m);
	return rc;
}

void
proto_ssh_ans_free(struct proto_ssh_ans *m)
{
	free(m->exit_signal);
	free(m->out);
	free(m->err);
	free(m->message);
	free(m->host_key_fp);
	memset(m, 0, sizeof(*m));
}
