/* sshc.c - see sshc.h. */
#include "sshc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "log.h"
#include "secret_fd.h"

struct sshc_call {
	sshc_cb cb;
	void *arg;
};

static void
sshc_fail(struct sshc_call *call, int status, const char *why)
{
	struct sshc_result r = { .status = status,
				 .outcome = PROTO_SSH_FAILED,
				 .exit_status = -1,
				 .exit_signal = "",
				 .message = why,
				 .host_key_fp = "" };

	call->cb(&r, call->arg);
	free(call);
}

static void
sshc_reply_cb(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct sshc_call *call = arg;
	struct proto_ssh_ans a;
	struct sshc_result r;

	if (status != PROTO_OK) {
		sshc_fail(call, status,
			  status == PROTO_E_TIMEOUT ? "sshd-pool did not answer in time"
						    : "sshd-pool restarted");
		return;
	}
	if (m->fd >= 0)
		close(m->fd);
	if ((m->hdr.flags & PROTO_F_MORE) != 0) {
		/* Worker answers are never streamed. Closing fails this request (still pending)
		 * with PROTO_E_RETRY, which calls back here once more. */
		proto_chan_close(ch, -EPROTO, "streamed answer to a worker operation");
		return;
	}
	if (proto_ssh_ans_decode(m, &a) != 0) {
		log_kv(LOG_LVL_ERROR, "malformed answer from sshd-pool",
		       LF_STR("Type", proto_type_str(m->hdr.type)));
		sshc_fail(call, PROTO_E_FAILED, "malformed answer from sshd-pool");
		proto_chan_close(ch, -EPROTO, "malformed answer to a worker operation");
		return;
	}
	r = (struct sshc_result){
		.status = PROTO_OK,
		.outcome = a.outcome,
		.exit_status = a.exit_status,
		.exit_signal = a.exit_signal,
		.out = a.out,
		.out_len = a.out_len,
		.out_truncated = a.out_truncated,
		.err = a.err,
		.err_len = a.err_len,
		.err_truncated = a.err_truncated,
		.message = a.message,
		.host_key_fp = a.host_key_fp,
		.pinned = a.pinned,
	};
	call->cb(&r, call->arg);
	proto_ssh_ans_free(&a);
	free(call);
}

/* Send an encoded request (w and fd consumed in every case). */
static int
sshc_send(struct child *c, struct proto_wbuf *w, int fd, uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	struct proto_chan *ch = child_chan(c);
	struct sshc_call *call = calloc(1, sizeof(*call));
	int64_t r;

	if (ch == NULL || call == NULL || cb == NULL) {
		proto_wbuf_free(w);
		if (fd >= 0)
			close(fd);
		free(call);
		return ch == NULL ? -EAGAIN : cb == NULL ? -EINVAL : -ENOMEM;
	}
	call->cb = cb;
	call->arg = arg;
	r = proto_chan_request(ch, w, fd, timeout_ms ? timeout_ms : SSHC_DEFAULT_TIMEOUT_MS,
			       sshc_reply_cb, call);
	if (r < 0) {
		free(call);
		return (int)r;
	}
	return 0;
}

/* The common front of every call: sshd-pool ready, values checked. */
static int
sshc_ready(struct child *c, int check_rc, const char *why)
{
	if (check_rc != 0) {
		log_kv(LOG_LVL_WARN, "worker operation refused", LF_STR("error", why));
		return -EINVAL;
	}
	return child_chan(c) != NULL ? 0 : -EAGAIN;
}

int
sshc_verify(struct child *c, const struct sshc_worker *wk, const uint8_t *secret, size_t len,
	    uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	struct proto_ssh_verify m = {
		.instance_id = (char *)wk->instance_id,
		.address = (char *)wk->address,
		.port = wk->port,
		.user = (char *)wk->user,
		.secret = (uint8_t *)secret,
		.secret_len = len,
	};
	struct proto_wbuf w;
	char why[256];
	int r;

	if ((r = sshc_ready(c, proto_ssh_verify_check(&m, why, sizeof(why)), why)) != 0)
		return r;
	if ((r = proto_ssh_verify_encode(&w, 0, 0, &m)) != 0)
		return r;
	return sshc_send(c, &w, -1, timeout_ms, cb, arg);
}

static int
sshc_target(struct child *c, uint16_t type, const char *instance_id, uint32_t timeout_ms,
	    sshc_cb cb, void *arg)
{
	struct proto_ssh_target m = { .instance_id = (char *)instance_id };
	struct proto_wbuf w;
	char why[256];
	int r;

	if ((r = sshc_ready(c, proto_ssh_target_check(&m, why, sizeof(why)), why)) != 0)
		return r;
	if ((r = proto_ssh_target_encode(&w, type, 0, 0, &m)) != 0)
		return r;
	return sshc_send(c, &w, -1, timeout_ms, cb, arg);
}

int
sshc_boot_probe(struct child *c, const char *instance_id, uint32_t timeout_ms, sshc_cb cb,
		void *arg)
{
	return sshc_target(c, PROTO_SSH_BOOT_PROBE_REQ, instance_id, timeout_ms, cb, arg);
}

int
sshc_forget(struct child *c, const char *instance_id, uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	return sshc_target(c, PROTO_SSH_FORGET_REQ, instance_id, timeout_ms, cb, arg);
}

int
sshc_deploy(struct child *c, const char *instance_id, int fd, const char *md5, uint32_t timeout_ms,
	    sshc_cb cb, void *arg)
{
	struct proto_ssh_deploy m = { .instance_id = (char *)instance_id, .md5 = (char *)md5 };
	struct proto_wbuf w;
	char why[256];
	int r, dup_fd;

	if ((r = sshc_ready(c, proto_ssh_deploy_check(&m, why, sizeof(why)), why)) != 0)
		return r;
	if (fd < 0)
		return -EBADF;
	if ((r = proto_ssh_deploy_encode(&w, 0, 0, &m)) != 0)
		return r;
	if ((dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		proto_wbuf_free(&w);
		return -EBADF;
	}
	return sshc_send(c, &w, dup_fd, timeout_ms, cb, arg);
}

int
sshc_run_probe(struct child *c, const char *instance_id, const uint8_t *prices, size_t len,
	       bool spot, uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	struct proto_ssh_run_probe m = { .instance_id = (char *)instance_id,
					 .prices = (uint8_t *)prices,
					 .prices_len = prices ? len : 0,
					 .spot_check = spot };
	struct proto_wbuf w;
	char why[256];
	int r;

	if ((r = sshc_ready(c, proto_ssh_run_probe_check(&m, why, sizeof(why)), why)) != 0)
		return r;
	if ((r = proto_ssh_run_probe_encode(&w, 0, 0, &m)) != 0)
		return r;
	return sshc_send(c, &w, -1, timeout_ms, cb, arg);
}

int
sshc_start(struct child *c, const struct sshc_start *s, uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	bool with_fd = s->payload_len > PROTO_SSH_MAX_INLINE;
	struct proto_ssh_start m = {
		.instance_id = (char *)s->instance_id,
		.uuid = (char *)s->uuid,
		.runtime_engine = (char *)s->runtime_engine,
		.args = (char **)s->args,
		.nargs = s->nargs > PROTO_SSH_MAX_ARGS ? PROTO_SSH_MAX_ARGS + 1
						       : (uint32_t)s->nargs,
		.payload = (uint8_t *)s->payload,
		.payload_len = s->payload_len,
	};
	struct proto_wbuf w;
	char why[256];
	int r, fd = -1;

	r = proto_ssh_start_check(&m, with_fd, why, sizeof(why));
	if (r == 0 && (s->payload == NULL || s->payload_len == 0 ||
		       s->payload_len > PROTO_SSH_MAX_PAYLOAD_FD)) {
		snprintf(why, sizeof(why), "payload empty or too large");
		r = -EINVAL;
	}
	if ((r = sshc_ready(c, r, why)) != 0)
		return r;
	/* A large payload (a whole cluster config) rides as a sealed memfd. */
	if (with_fd && (fd = secret_memfd_create("start-payload", s->payload, s->payload_len)) < 0)
		return fd;
	if ((r = proto_ssh_start_encode(&w, 0, 0, &m, with_fd)) != 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return sshc_send(c, &w, fd, timeout_ms, cb, arg);
}

int
sshc_kill(struct child *c, const char *instance_id, const char *uuid, int signal,
	  uint32_t timeout_ms, sshc_cb cb, void *arg)
{
	struct proto_ssh_kill m = { .instance_id = (char *)instance_id,
				    .uuid = (char *)uuid,
				    .signal = signal >= 1 && signal <= 64 ? (uint8_t)signal : 0 };
	struct proto_wbuf w;
	char why[256];
	int r;

	if ((r = sshc_ready(c, proto_ssh_kill_check(&m, why, sizeof(why)), why)) != 0)
		return r;
	if ((r = proto_ssh_kill_encode(&w, 0, 0, &m)) != 0)
		return r;
	return sshc_send(c, &w, -1, timeout_ms, cb, arg);
}
