/*
 * ops_run.c - running the typed operations on a worker session and reading their results.
 */
#include "container_uuid.h"
#include "ops_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "file_md5.h"
#include "proto_ssh.h"
#include "quote.h"
#include "util.h"

#define OPS_UNSAFE_EXIT 97

struct ops_sess {
	char deployed[33];
	bool deploying;
};

struct ops_call {
	struct ops *o;
	struct sess *s;
	ops_cb cb;
	void *arg;
	uint8_t *secret;
	size_t secret_len;
	bool vouched; /* secret is PROTO_SSH_HOST_KEY_PREFIX + the expected host key */
	int fd;
	char md5[33];
};

static struct ops_call *
ops_call_new(struct ops *o, struct sess *s, ops_cb cb, void *arg)
{
	struct ops_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->o = o;
	c->s = s;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	return c;
}

static void
ops_call_free(struct ops_call *c)
{
	if (c->secret != NULL) {
		adc_wipe(c->secret, c->secret_len);
		free(c->secret);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static int
ops_outcome(const struct sess_result *r)
{
	if (r->status < 0)
		return r->status;
	return r->exit_status == 0 ? OPS_OK : OPS_EXIT;
}

/* The common completion: outcome from the exit status. */
static void
ops_done_plain(struct sess_result *r, void *arg)
{
	struct ops_call *c = arg;

	c->cb(ops_outcome(r), r, c->arg);
	ops_call_free(c);
}

/* Run cmd (owned: freed here) for call c; on refusal c is freed and the error returned. */
static int
ops_exec(struct ops_call *c, char *cmd, int err, const struct sess_input *in, uint64_t timeout,
	 unsigned flags, sess_done_cb done)
{
	int r = cmd ? sess_exec(c->s, cmd, in, timeout, flags, done, c) : err;

	free(cmd);
	if (r != 0)
		ops_call_free(c);
	return r;
}

/* ---- identity ----------------------------------------------------------------------------- */

/* The presented key ("type base64") against the vouched-for line ("type base64 [comment]"). */
static bool
ops_same_host_key(const char *presented, const uint8_t *line, size_t len)
{
	const uint8_t *sp = memchr(line, ' ', len);
	const uint8_t *end = sp ? memchr(sp + 1, ' ', len - (size_t)(sp + 1 - line)) : NULL;
	size_t n = end ? (size_t)(end - line) : len;

	return presented != NULL && strlen(presented) == n && memcmp(presented, line, n) == 0;
}

static void
ops_verify_done(struct sess_result *r, void *arg)
{
	struct ops_call *c = arg;
	int outcome = ops_outcome(r);
	size_t pre = sizeof(PROTO_SSH_HOST_KEY_PREFIX) - 1;

	if (outcome == OPS_OK) {
		bool same = c->vouched
				    ? ops_same_host_key(r->host_key, c->secret + pre,
							c->secret_len - pre)
				    : !r->out_truncated && adc_ct_equal(r->out, r->out_len,
									c->secret, c->secret_len);
		const char *why = c->vouched ? "host key mismatch" : "bad instance secret";

		if (!same || r->host_key == NULL || sess_pin(c->s, r->host_key) != 0) {
			/* Weakness 12: nothing stays open to a worker that failed verification. */
			sess_drop(c->s, why);
			snprintf(r->error, sizeof(r->error), "%s", why);
			outcome = OPS_BAD_SECRET;
		}
	}
	if (r->out != NULL)
		adc_wipe(r->out, r->out_len); /* the worker's secret: never passed up */
	r->out_len = 0;
	c->cb(outcome, r, c->arg);
	ops_call_free(c);
}

int
ops_verify(struct ops *o, struct sess *s, const uint8_t *secret, size_t len, ops_cb cb, void *arg)
{
	struct ops_call *c;
	int err = 0;
	char *cmd;

	if (secret == NULL || len == 0 || len > 4096)
		return -EINVAL;
	if ((c = ops_call_new(o, s, cb, arg)) == NULL || (c->secret = malloc(len)) == NULL) {
		free(c);
		return -ENOMEM;
	}
	memcpy(c->secret, secret, len);
	c->secret_len = len;
	c->vouched = len > sizeof(PROTO_SSH_HOST_KEY_PREFIX) - 1 &&
		     memcmp(secret, PROTO_SSH_HOST_KEY_PREFIX,
			    sizeof(PROTO_SSH_HOST_KEY_PREFIX) - 1) == 0;
	/* Host key vouched for by the driver: any command opens the session that shows it. */
	cmd = c->vouched ? strdup("true") : ops_cmd_verify(sess_user(s), &err);
	if (cmd == NULL && err == 0)
		err = -ENOMEM;
	return ops_exec(c, cmd, err, NULL, o->t.verify_timeout_ms, SESS_EXEC_UNPINNED,
			ops_verify_done);
}

/* ---- boot probe, run probe, start, kill --------------------------------------------------- */

int
ops_boot_probe(struct ops *o, struct sess *s, ops_cb cb, void *arg)
{
	struct ops_call *c = ops_call_new(o, s, cb, arg);
	char *cmd = strdup(o->boot_probe_command); /* operator config, verbatim (5.7.1) */

	if (c == NULL) {
		free(cmd);
		return -ENOMEM;
	}
	return ops_exec(c, cmd, -ENOMEM, NULL, o->t.boot_timeout_ms, 0, ops_done_plain);
}

int
ops_run_probe(struct ops *o, struct sess *s, const uint8_t *prices, size_t len, bool spot,
	      ops_cb cb, void *arg)
{
	struct sess_input in = { .data = prices, .len = len, .fd = -1 };
	struct ops_call *c;
	int err = 0;
	char *cmd;

	if (spot && o->imds_url == NULL)
		return -EINVAL;
	if ((c = ops_call_new(o, s, cb, arg)) == NULL)
		return -ENOMEM;
	cmd = ops_cmd_run_probe(o, sess_user(s), prices != NULL && len > 0, spot, &err);
	return ops_exec(c, cmd, err, &in, o->t.probe_timeout_ms, 0, ops_done_plain);
}

int
ops_start(struct ops *o, struct sess *s, const char *uuid, const uint8_t *payload, size_t len,
	  ops_cb cb, void *arg)
{
	struct sess_input in = { .data = payload, .len = len, .fd = -1 };
	struct ops_call *c;
	int err = 0;
	char *cmd;

	if (!container_uuid_valid(uuid))
		return -EINVAL;
	if ((c = ops_call_new(o, s, cb, arg)) == NULL)
		return -ENOMEM;
	cmd = ops_cmd_start(o, sess_user(s), uuid, &err);
	return ops_exec(c, cmd, err, &in, o->t.start_timeout_ms, 0, ops_done_plain);
}

int
ops_kill(struct ops *o, struct sess *s, const char *uuid, int sig, ops_cb cb, void *arg)
{
	struct ops_call *c;
	int err = 0;
	char *cmd;

	if (!container_uuid_valid(uuid) || !quote_valid_signal(sig))
		return -EINVAL;
	if ((c = ops_call_new(o, s, cb, arg)) == NULL)
		return -ENOMEM;
	cmd = ops_cmd_kill(o, sess_user(s), uuid, sig, &err);
	return ops_exec(c, cmd, err, NULL, o->t.kill_timeout_ms, 0, ops_done_plain);
}

/* ---- deploy ------------------------------------------------------------------------------- */

static void
ops_sess_free(void *p)
{
	free(p);
}

static struct ops_sess *
ops_sess_of(struct sess *s)
{
	struct ops_sess *os = sess_userdata(s);

	if (os == NULL && (os = calloc(1, sizeof(*os))) != NULL)
		sess_set_userdata(s, os, ops_sess_free);
	return os;
}

static void
ops_deploy_finish(struct ops_call *c, int outcome, struct sess_result *r)
{
	struct ops_sess *os = sess_userdata(c->s);

	if (os != NULL) {
		os->deploying = false;
		if (outcome == OPS_OK)
			memcpy(os->deployed, c->md5, sizeof(os->deployed));
	}
	c->cb(outcome, r, c->arg);
	ops_call_free(c);
}

/* The owner guard's exit (97), from the check or the install: OPS_UNSAFE_DIR with its text. */
static int
ops_deploy_outcome(struct sess_result *r)
{
	int outcome = ops_outcome(r);

	if (outcome == OPS_EXIT && r->exit_status == OPS_UNSAFE_EXIT) {
		outcome = OPS_UNSAFE_DIR;
		snprintf(r->error, sizeof(r->error), "%.*s",
			 (int)(r->err_len && r->err[r->err_len - 1] == '\n' ? r->err_len - 1
									    : r->err_len),
			 r->err ? (char *)r->err : "");
	}
	return outcome;
}

static void
ops_deploy_installed(struct sess_result *r, void *arg)
{
	struct ops_call *c = arg;

	ops_deploy_finish(c, ops_deploy_outcome(r), r);
}

static void
ops_deploy_checked(struct sess_result *r, void *arg)
{
	struct ops_call *c = arg;
	struct sess_input in = { .fd = c->fd };
	char want[1200];
	int err = 0;
	char *cmd;

	if (r->status < 0) {
		ops_deploy_finish(c, r->status, r);
		return;
	}
	/* The guard refused the directory or file: unsafe, and nothing is installed. */
	if (ops_deploy_outcome(r) == OPS_UNSAFE_DIR) {
		ops_deploy_finish(c, OPS_UNSAFE_DIR, r);
		return;
	}
	/* Skip only on exactly "<md5>  <path>\n" and an empty stderr (5.8). */
	snprintf(want, sizeof(want), "%s  %s/crunch-run~%s\n", c->md5, c->o->deploy_dir, c->md5);
	if (r->exit_status == 0 && r->err_len == 0 && r->out_len == strlen(want) &&
	    memcmp(r->out, want, r->out_len) == 0) {
		ops_deploy_finish(c, OPS_OK, r);
		return;
	}
	cmd = ops_cmd_deploy_install(c->o, sess_user(c->s), c->md5, &err);
	err = cmd ? sess_exec(c->s, cmd, &in, c->o->t.deploy_timeout_ms, 0, ops_deploy_installed, c)
		  : err;
	free(cmd);
	if (err != 0) {
		r->status = err;
		snprintf(r->error, sizeof(r->error), "cannot queue the install: %s",
			 strerror(-err));
		ops_deploy_finish(c, err, r);
	}
}

int
ops_deploy(struct ops *o, struct sess *s, int fd, const char *md5, ops_cb cb, void *arg)
{
	struct ops_sess *os;
	struct ops_call *c;
	char sum[33];
	int err = 0, r;
	char *cmd;

	if (!quote_valid_md5(md5) || fd < 0)
		return -EINVAL;
	if ((r = file_md5_hex(fd, sum)) != 0)
		return r; /* the read's errno: the failed step's own cause */
	if (strcmp(sum, md5) != 0)
		return -EINVAL;
	if ((os = ops_sess_of(s)) == NULL)
		return -ENOMEM;
	if (strcmp(os->deployed, md5) == 0)
		return OPS_ALREADY;
	if (os->deploying)
		return -EBUSY;
	if ((c = ops_call_new(o, s, cb, arg)) == NULL)
		return -ENOMEM;
	memcpy(c->md5, md5, sizeof(c->md5));
	if ((c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		ops_call_free(c);
		return -EBADF;
	}
	cmd = ops_cmd_deploy_check(o, sess_user(s), md5, &err);
	r = ops_exec(c, cmd, err, NULL, o->t.probe_timeout_ms, 0, ops_deploy_checked);
	if (r == 0)
		os->deploying = true;
	return r;
}
