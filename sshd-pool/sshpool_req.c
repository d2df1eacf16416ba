/*
 * sshpool_req.c - one handler per worker-operation message (proto_ssh.h).
 *
 * Each handler decodes (malformed: protocol violation), checks the values again (the
 * parent's checks are not trusted: a bad value is answered PROTO_SSH_INVALID), finds the
 * worker's session, and calls the typed operation of ops.h with a per-request struct ops
 * (the runner settings from init, this request's deadline, and for a start its runtime
 * engine and arguments). An operation refused synchronously is answered at once; otherwise
 * the answer is sent from the operation's callback. Every answer echoes the request's reqid.
 */
#include "sshpool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "ops.h"
#include "proto_ssh.h"
#include "secret_fd.h"
#include "sess.h"
#include "util.h"

/* One request in flight. */
struct sshpool_call {
	struct sshpool *sp;
	uint16_t ans_type;
	uint32_t reqid;
	struct ops *ops; /* this request's, freed with the call */
	char instance[PROTO_SSH_MAX_INSTANCE + 1];
};

/* ---- answers ---- */

static void
sshpool_send(struct sshpool *sp, uint16_t type, uint32_t reqid, const struct proto_ssh_ans *a)
{
	struct proto_wbuf w;

	if (sp->chan == NULL)
		return; /* shutting down: nobody is waiting */
	if (proto_ssh_ans_encode(&w, type, reqid, a) != 0 || proto_chan_send(sp->chan, &w, -1) != 0)
		log_kv(LOG_LVL_ERROR, "cannot send an answer",
		       LF_STR("Type", proto_type_str(type)));
}

static void
sshpool_answer_now(struct sshpool *sp, const struct proto_msg *m, int outcome, const char *why)
{
	sshpool_send(sp, proto_ssh_ans_type(m->hdr.type), m->hdr.reqid,
		     &(struct proto_ssh_ans){ .outcome = (uint8_t)outcome,
					      .exit_status = outcome == PROTO_SSH_OK ? 0 : -1,
					      .message = (char *)why });
}

/* The session layer's errors, as the answer's outcome class. */
static int
sshpool_outcome(int ops_outcome)
{
	switch (ops_outcome) {
	case OPS_OK:
	case OPS_ALREADY:
		return PROTO_SSH_OK;
	case OPS_EXIT:
		return PROTO_SSH_EXIT;
	case OPS_BAD_SECRET:
		return PROTO_SSH_BAD_SECRET;
	case OPS_UNSAFE_DIR:
		return PROTO_SSH_UNSAFE_DIR;
	case -ETIMEDOUT:
		return PROTO_SSH_TIMEOUT;
	case -EKEYREJECTED:
		return PROTO_SSH_HOSTKEY_CHANGED;
	case -EPERM:
		return PROTO_SSH_UNVERIFIED;
	case -EINVAL:
		return PROTO_SSH_INVALID;
	case -EBUSY:
		return PROTO_SSH_BUSY;
	case -ECANCELED:
		return PROTO_SSH_CANCELED;
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ECONNABORTED:
	case -EACCES:
	case -EPROTO:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -EPIPE:
	case -ENOTCONN:
		return PROTO_SSH_CONNECT;
	default:
		return PROTO_SSH_FAILED;
	}
}

/* "SHA256:<base64>" of a "<type> <base64>" host key line; "" if it cannot be parsed. */
static void
sshpool_fingerprint(const char *line, char *out, size_t len)
{
	const char *sp = line != NULL ? strchr(line, ' ') : NULL;
	unsigned char *hash = NULL;
	char type[64], *fp = NULL;
	size_t hlen = 0;
	ssh_key k = NULL;

	out[0] = '\0';
	if (sp == NULL || (size_t)(sp - line) >= sizeof(type))
		return;
	memcpy(type, line, (size_t)(sp - line));
	type[sp - line] = '\0';
	if (ssh_pki_import_pubkey_base64(sp + 1, ssh_key_type_from_name(type), &k) == SSH_OK &&
	    ssh_get_publickey_hash(k, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0 &&
	    (fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL)
		snprintf(out, len, "%s", fp);
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(k);
}

static void
sshpool_call_free(struct sshpool_call *c)
{
	ops_free(c->ops);
	free(c);
}

void
sshpool_answer_of(int outcome, struct sess_result *r, uint16_t ans_type, const char *pin,
		  struct proto_ssh_ans *a, struct sshpool_ans_text *t)
{
	memset(a, 0, sizeof(*a));
	a->outcome = (uint8_t)sshpool_outcome(outcome);
	sshpool_fingerprint(r->host_key, t->fp, sizeof(t->fp));
	a->exit_status = r->exit_status < -1 || r->exit_status > 255 ? -1 : r->exit_status;
	if (a->outcome == PROTO_SSH_OK)
		a->exit_status = 0;
	else if (a->outcome == PROTO_SSH_EXIT && a->exit_status == 0)
		a->exit_status = -1;
	a->exit_signal = r->exit_signal;
	a->out = r->out;
	a->out_len = r->out_len > PROTO_SSH_MAX_OUT ? PROTO_SSH_MAX_OUT : r->out_len;
	a->out_truncated = r->out_truncated || r->out_len > PROTO_SSH_MAX_OUT;
	if (ans_type == PROTO_SSH_VERIFY_ANS) {
		a->out_len = 0; /* ops_verify wiped it already: never sent up */
		a->out_truncated = false;
	}
	a->err = r->err;
	a->err_len = r->err_len > PROTO_SSH_MAX_ERR ? PROTO_SSH_MAX_ERR : r->err_len;
	a->err_truncated = r->err_truncated || r->err_len > PROTO_SSH_MAX_ERR;
	a->message = a->outcome == PROTO_SSH_OK ? "" : r->error;
	if (a->outcome != PROTO_SSH_OK && r->error[0] == '\0') {
		/* A command that ran and failed: its exit, in the words of the reference's SSH
		 * library (golang.org/x/crypto/ssh ExitError), so that no failure is logged
		 * without a cause; stderr rides beside it. */
		if (r->exit_signal[0] != '\0')
			snprintf(t->why, sizeof(t->why),
				 "Process exited with status %d from signal %s", r->exit_status,
				 r->exit_signal);
		else if (r->exit_status >= 0)
			snprintf(t->why, sizeof(t->why), "Process exited with status %d",
				 r->exit_status);
		else
			snprintf(t->why, sizeof(t->why), "%s", proto_ssh_outcome_str(a->outcome));
		a->message = t->why;
	}
	a->host_key_fp = t->fp;
	a->pinned = pin != NULL && r->host_key != NULL && strcmp(pin, r->host_key) == 0;
}

/* The common completion of every operation: the result, as an answer. */
static void
sshpool_done(int outcome, struct sess_result *r, void *arg)
{
	struct sshpool_call *c = arg;
	struct sess *s = c->sp->pool != NULL ? sess_find(c->sp->pool, c->instance) : NULL;
	struct proto_ssh_ans a;
	struct sshpool_ans_text t;

	sshpool_answer_of(outcome, r, c->ans_type, s != NULL ? sess_pinned(s) : NULL, &a, &t);
	sshpool_send(c->sp, c->ans_type, c->reqid, &a);
	sshpool_call_free(c);
}

/* ---- per-request setup ---- */

/* The child's own deadline: a little under the parent's, so that its answer (TIMEOUT) arrives
 * before the parent gives up on the request. */
static uint64_t
sshpool_deadline(const struct sshpool *sp, uint32_t parent_ms)
{
	uint32_t margin;

	if (parent_ms == 0)
		return sp->command_timeout_ms;
	margin = parent_ms / 10 < 1000 ? parent_ms / 10 : 1000;
	return parent_ms - margin > 0 ? parent_ms - margin : 1;
}

/* A call with its own struct ops; start passes its engine and arguments. NULL after answering
 * (the settings were refused, or no memory). */
static struct sshpool_call *
sshpool_call_new(struct sshpool *sp, const struct proto_msg *m, const char *instance,
		 const char *engine, char *const *args, size_t nargs)
{
	struct sshpool_call *c = calloc(1, sizeof(*c));
	uint64_t t = sshpool_deadline(sp, m->hdr.timeout_ms);
	char why[256] = "out of memory";
	struct ops_conf conf = {
		.boot_probe_command = sp->boot_probe_command,
		.crunch_run_command = sp->crunch_run_command,
		.deploy_dir = sp->deploy_dir,
		.runner_hash = sp->runner_md5,
		.heartbeat = sp->heartbeat,
		.imds_url = sp->imds_url,
		.imds_kind = sp->imds_kind,
		.runtime_engine = engine,
		.crunch_run_args = (const char *const *)args,
		.ncrunch_run_args = nargs,
		.verify_timeout_ms = t,
		.boot_timeout_ms = t,
		.probe_timeout_ms = t,
		.deploy_timeout_ms = t,
		.start_timeout_ms = t,
		.kill_timeout_ms = t,
	};
	int r = c != NULL ? ops_new(&conf, &c->ops, why, sizeof(why)) : -ENOMEM;

	if (r != 0) {
		free(c);
		sshpool_answer_now(sp, m, r == -EINVAL ? PROTO_SSH_INVALID : PROTO_SSH_FAILED, why);
		return NULL;
	}
	c->sp = sp;
	c->ans_type = proto_ssh_ans_type(m->hdr.type);
	c->reqid = m->hdr.reqid;
	snprintf(c->instance, sizeof(c->instance), "%s", instance);
	return c;
}

/* The verified session of instance, or NULL after answering UNVERIFIED. */
static struct sess *
sshpool_session(struct sshpool *sp, const struct proto_msg *m, const char *instance)
{
	struct sess *s = sess_find(sp->pool, instance);

	if (s == NULL || sess_pinned(s) == NULL) {
		sshpool_answer_now(sp, m, PROTO_SSH_UNVERIFIED,
				   "worker not verified: verify it first");
		return NULL;
	}
	return s;
}

/* After an ops call: r < 0 was refused synchronously (cb not called): answer now. */
static void
sshpool_started(struct sshpool_call *c, const struct proto_msg *m, int r)
{
	char why[128];

	if (r == 0)
		return;
	snprintf(why, sizeof(why), "refused: %s",
		 r == OPS_ALREADY ? "already installed" : strerror(-r));
	sshpool_answer_now(c->sp, m, sshpool_outcome(r), r == OPS_ALREADY ? "" : why);
	sshpool_call_free(c);
}

static void
sshpool_violation(struct sshpool *sp, const struct proto_msg *m)
{
	char why[64];

	snprintf(why, sizeof(why), "malformed %s", proto_type_str(m->hdr.type));
	if (m->fd >= 0)
		close(m->fd);
	if (sp->chan != NULL)
		proto_chan_close(sp->chan, -EPROTO, why);
}

/* ---- the handlers ---- */

static void
sshpool_verify(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_verify v;
	struct sshpool_call *c;
	struct sess *s;
	char why[256];
	int r;

	if (proto_ssh_verify_decode(m, &v) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_verify_check(&v, why, sizeof(why)) != 0) {
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	} else if ((r = sess_get(sp->pool, v.instance_id, v.address, v.port, v.user, &s)) != 0) {
		snprintf(why, sizeof(why), "cannot set up the session: %s", strerror(-r));
		sshpool_answer_now(sp, m, sshpool_outcome(r), why);
	} else if ((c = sshpool_call_new(sp, m, v.instance_id, NULL, NULL, 0)) != NULL) {
		sshpool_started(c, m,
				ops_verify(c->ops, s, v.secret, v.secret_len, sshpool_done, c));
	}
	proto_ssh_verify_free(&v);
}

static void
sshpool_boot_probe(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_target t;
	struct sshpool_call *c;
	struct sess *s;
	char why[256];

	if (proto_ssh_target_decode(m, &t) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_target_check(&t, why, sizeof(why)) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	else if ((s = sshpool_session(sp, m, t.instance_id)) != NULL &&
		 (c = sshpool_call_new(sp, m, t.instance_id, NULL, NULL, 0)) != NULL)
		sshpool_started(c, m, ops_boot_probe(c->ops, s, sshpool_done, c));
	proto_ssh_target_free(&t);
}

/* The parent names the runner by its md5 as well: only the one configured at init may be
 * installed (a parent cannot push another binary to the workers' root). */
static void
sshpool_deploy(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_deploy d;
	struct sshpool_call *c;
	struct sess *s;
	char why[256];

	if (proto_ssh_deploy_decode(m, &d) != 0 || m->fd < 0) {
		sshpool_violation(sp, m);
		proto_ssh_deploy_free(&d);
		return;
	}
	if (proto_ssh_deploy_check(&d, why, sizeof(why)) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	else if (sp->runner_md5 == NULL || strcmp(sp->runner_md5, d.md5) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID,
				   "not the runner configured at init (or deploying is off)");
	else if ((s = sshpool_session(sp, m, d.instance_id)) != NULL &&
		 (c = sshpool_call_new(sp, m, d.instance_id, NULL, NULL, 0)) != NULL)
		sshpool_started(c, m, ops_deploy(c->ops, s, m->fd, d.md5, sshpool_done, c));
	close(m->fd); /* ops_deploy keeps its own dup */
	proto_ssh_deploy_free(&d);
}

static void
sshpool_run_probe(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_run_probe p;
	struct sshpool_call *c;
	struct sess *s;
	char why[256];

	if (proto_ssh_run_probe_decode(m, &p) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_run_probe_check(&p, why, sizeof(why)) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	else if (p.spot_check && (sp->imds_url == NULL || sp->imds_url[0] == '\0'))
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID,
				   "spot check asked for, but init gave no instance metadata URL");
	else if ((s = sshpool_session(sp, m, p.instance_id)) != NULL &&
		 (c = sshpool_call_new(sp, m, p.instance_id, NULL, NULL, 0)) != NULL)
		sshpool_started(c, m,
				ops_run_probe(c->ops, s, p.prices, p.prices_len, p.spot_check,
					      sshpool_done, c));
	proto_ssh_run_probe_free(&p);
}

/* The payload: inline, or read from the attached memfd (bounded). Caller wipes and frees. */
static int
sshpool_start_payload(const struct proto_msg *m, struct proto_ssh_start *st, uint8_t **p,
		      size_t *len)
{
	if (m->fd < 0) {
		*p = st->payload;
		*len = st->payload_len;
		st->payload = NULL;
		st->payload_len = 0;
		return 0;
	}
	return secret_fd_read(m->fd, p, len, PROTO_SSH_MAX_PAYLOAD_FD);
}

static void
sshpool_start(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_start st;
	struct sshpool_call *c;
	uint8_t *payload = NULL;
	size_t len = 0;
	struct sess *s;
	char why[256];

	if (proto_ssh_start_decode(m, &st) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_start_check(&st, m->fd >= 0, why, sizeof(why)) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	else if (sshpool_start_payload(m, &st, &payload, &len) != 0 || len == 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID,
				   "cannot read the payload (or it is empty)");
	else if ((s = sshpool_session(sp, m, st.instance_id)) != NULL &&
		 (c = sshpool_call_new(sp, m, st.instance_id, st.runtime_engine, st.args,
				       st.nargs)) != NULL)
		/* sess_exec copies the payload: ours is wiped right after. */
		sshpool_started(c, m, ops_start(c->ops, s, st.uuid, payload, len, sshpool_done, c));
	if (payload != NULL) {
		adc_wipe(payload, len);
		free(payload);
	}
	if (m->fd >= 0)
		close(m->fd);
	proto_ssh_start_free(&st);
}

static void
sshpool_kill(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_kill k;
	struct sshpool_call *c;
	struct sess *s;
	char why[256];

	if (proto_ssh_kill_decode(m, &k) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_kill_check(&k, why, sizeof(why)) != 0)
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	else if ((s = sshpool_session(sp, m, k.instance_id)) != NULL &&
		 (c = sshpool_call_new(sp, m, k.instance_id, NULL, NULL, 0)) != NULL)
		sshpool_started(c, m, ops_kill(c->ops, s, k.uuid, k.signal, sshpool_done, c));
	proto_ssh_kill_free(&k);
}

/* The instance is gone: close its session (its running operations answer CANCELED). */
static void
sshpool_forget(struct sshpool *sp, const struct proto_msg *m)
{
	struct proto_ssh_target t;
	struct sess *s;
	char why[256];

	if (proto_ssh_target_decode(m, &t) != 0) {
		sshpool_violation(sp, m);
		return;
	}
	if (proto_ssh_target_check(&t, why, sizeof(why)) != 0) {
		sshpool_answer_now(sp, m, PROTO_SSH_INVALID, why);
	} else {
		if ((s = sess_find(sp->pool, t.instance_id)) != NULL)
			sess_close(s);
		sshpool_answer_now(sp, m, PROTO_SSH_OK, "");
	}
	proto_ssh_target_free(&t);
}

sshpool_handler
sshpool_handler_for(uint16_t type)
{
	static const struct {
		uint16_t type;
		sshpool_handler fn;
	} table[] = {
		{ PROTO_SSH_VERIFY_REQ, sshpool_verify },
		{ PROTO_SSH_BOOT_PROBE_REQ, sshpool_boot_probe },
		{ PROTO_SSH_DEPLOY_REQ, sshpool_deploy },
		{ PROTO_SSH_RUN_PROBE_REQ, sshpool_run_probe },
		{ PROTO_SSH_START_REQ, sshpool_start },
		{ PROTO_SSH_KILL_REQ, sshpool_kill },
		{ PROTO_SSH_FORGET_REQ, sshpool_forget },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].type == type)
			return table[i].fn;
	return NULL;
}
