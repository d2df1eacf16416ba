/* sshpool.c - sshd-pool's init (the key arrives as an fd, is parsed, and the raw bytes wiped),
 * the dispatch of worker operations to their handlers, and the teardown. */
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

#define SSHPOOL_MAX_KEY (64u * 1024u)

static int
sshpool_answer(struct proto_wbuf *ans, int32_t status, const char *msg, const char *pub)
{
	return proto_ssh_init_ans_encode(
		ans, 0,
		&(struct proto_ssh_init_ans){ .status = status,
					      .message = (char *)msg,
					      .public_key = (char *)(pub ? pub : "") });
}

/* The key text: from the attached fd, else from the payload. Caller wipes and frees. */
static int
sshpool_key_text(const struct proto_msg *m, struct proto_ssh_init *si, uint8_t **text, size_t *len)
{
	if (m->fd >= 0) {
		int r = secret_fd_read(m->fd, text, len, SSHPOOL_MAX_KEY);
		close(m->fd);
		return r;
	}
	if (si->private_key == NULL || si->private_key_len == 0)
		return -ENOENT;
	*text = malloc(si->private_key_len + 1);
	if (*text == NULL)
		return -ENOMEM;
	memcpy(*text, si->private_key, si->private_key_len);
	(*text)[si->private_key_len] = '\0';
	*len = si->private_key_len;
	return 0;
}

static char *
sshpool_take(char **p)
{
	char *s = *p;

	*p = NULL;
	return s;
}

/* Free what sshpool_configure set up (the key included): init may be tried again. */
static void
sshpool_unconfigure(struct sshpool *sp)
{
	ssh_key_free(sp->key);
	sp->key = NULL;
	free(sp->public_key);
	free(sp->boot_probe_command);
	free(sp->ssh_port);
	free(sp->cluster_id);
	free(sp->crunch_run_command);
	free(sp->deploy_dir);
	free(sp->runner_md5);
	free(sp->imds_url);
	free(sp->imds_kind);
	sp->imds_url = sp->imds_kind = NULL;
	sp->public_key = sp->boot_probe_command = sp->ssh_port = sp->cluster_id = NULL;
	sp->crunch_run_command = sp->deploy_dir = sp->runner_md5 = NULL;
}

/* Take the settings from the init message, check the runner settings the way every operation
 * will use them (ops_new), and create the session pool. PROTO_OK, or with why
 * PROTO_E_PERMANENT (a setting refused) or PROTO_E_FAILED. */
static int
sshpool_configure(struct sshpool *sp, struct proto_ssh_init *si, char *why, size_t len)
{
	struct sess_opts so = { 0 };
	struct ops *probe = NULL;
	int r;

	sp->boot_probe_command = sshpool_take(&si->boot_probe_command);
	sp->ssh_port = sshpool_take(&si->ssh_port);
	sp->cluster_id = sshpool_take(&si->cluster_id);
	sp->crunch_run_command = sshpool_take(&si->crunch_run_command);
	sp->deploy_dir = sshpool_take(&si->deploy_dir);
	sp->runner_md5 = sshpool_take(&si->runner_md5);
	sp->heartbeat = si->heartbeat;
	sp->imds_url = sshpool_take(&si->imds_url);
	sp->imds_kind = sshpool_take(&si->imds_kind);
	sp->connect_timeout_ms = si->connect_timeout_ms;
	sp->command_timeout_ms = si->command_timeout_ms;
	r = ops_new(&(struct ops_conf){ .boot_probe_command = sp->boot_probe_command,
					.crunch_run_command = sp->crunch_run_command,
					.deploy_dir = sp->deploy_dir,
					.runner_hash = sp->runner_md5,
					.imds_url = sp->imds_url,
					.imds_kind = sp->imds_kind },
		    &probe, why, len);
	if (r != 0)
		return r == -EINVAL ? PROTO_E_PERMANENT : PROTO_E_FAILED;
	ops_free(probe);
	so.key = sp->key;
	so.connect_timeout_ms = sp->connect_timeout_ms;
	so.command_timeout_ms = sp->command_timeout_ms;
	so.keepalive_ms = sp->keepalive_ms;
	so.keepalive_timeout_ms = sp->keepalive_timeout_ms;
	/* Answers are one message each: output beyond these is dropped and flagged. */
	so.max_stdout = PROTO_SSH_MAX_OUT;
	so.max_stderr = PROTO_SSH_MAX_ERR;
	sess_opts_defaults(&so);
	if (sp->loop == NULL || sess_pool_new(sp->loop, &so, &sp->pool) != 0) {
		snprintf(why, len, "cannot create the session pool");
		return PROTO_E_FAILED;
	}
	so = *sess_pool_opts(sp->pool);
	log_kv(LOG_LVL_INFO, "session limits", LF_INT("MaxConnections", (int64_t)so.max_conns),
	       LF_INT("MaxHandshakes", (int64_t)so.max_connecting),
	       LF_INT("ConnectBurst", (int64_t)so.connect_burst));
	return PROTO_OK;
}

int
sshpool_on_init(const struct proto_msg *m, struct proto_wbuf *ans, void *arg)
{
	struct sshpool *sp = arg;
	struct proto_ssh_init si;
	uint8_t *text = NULL;
	size_t len = 0;
	char why[256];
	int32_t status;
	int r;

	if (proto_ssh_init_decode(m, &si) != 0) {
		if (m->fd >= 0)
			close(m->fd);
		sshpool_answer(ans, PROTO_E_INVALID, "malformed init", NULL);
		return -1;
	}
	if (sp->test_fail_init) {
		if (m->fd >= 0)
			close(m->fd);
		proto_ssh_init_free(&si);
		sp->test_fail_init = false;
		sshpool_answer(ans, PROTO_E_FAILED, "test hook: a transient init failure", NULL);
		return -1;
	}
	/* A key that does not parse, or runner settings refused, will be refused again after
	 * a restart: PROTO_E_PERMANENT stops the dispatcher (proto.h). A key that could not be
	 * read, or no memory, may go better next time. */
	r = sshpool_key_text(m, &si, &text, &len);
	if (r == 0) {
		r = sshpool_key_load((const char *)text, &sp->key, &sp->public_key, why,
				     sizeof(why));
		adc_wipe(text, len);
		free(text);
		status = PROTO_E_PERMANENT;
	} else {
		snprintf(why, sizeof(why), "cannot read the key: %s", strerror(-r));
		status = PROTO_E_FAILED;
	}
	if (r != 0) {
		char msg[320];

		proto_ssh_init_free(&si);
		snprintf(msg, sizeof(msg),
			 "error parsing configured Containers.DispatchPrivateKey: %s", why);
		sshpool_answer(ans, status, msg, NULL);
		return -1;
	}
	status = sshpool_configure(sp, &si, why, sizeof(why));
	proto_ssh_init_free(&si);
	if (status != PROTO_OK) {
		sshpool_unconfigure(sp);
		sshpool_answer(ans, status, why, NULL);
		return -1;
	}
	log_kv(LOG_LVL_INFO, "dispatch key loaded",
	       LF_STR("KeyType", ssh_key_type_to_char(ssh_key_type(sp->key))));
	return sshpool_answer(ans, PROTO_OK, "", sp->public_key) == 0 ? 0 : -1;
}

void
sshpool_on_request(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	struct sshpool *sp = arg;
	sshpool_handler h = sshpool_handler_for(m->hdr.type);

	sp->chan = ch;
	if (h == NULL || sp->pool == NULL) {
		/* proto_chan and proto_child let only this role's requests through after init. */
		if (m->fd >= 0)
			close(m->fd);
		proto_chan_close(ch, -EPROTO, "unexpected request");
		return;
	}
	h(sp, m);
}

void
sshpool_teardown(struct sshpool *sp)
{
	sp->chan = NULL; /* the channel is gone: answers still due are dropped */
	if (sp->pool != NULL) {
		struct sess_pool *pool = sp->pool;

		sp->pool = NULL; /* callbacks run by the free must not look sessions up */
		sess_pool_free(pool);
	}
	/* Let the sessions' handles close, and pchild's SIGTERM watcher when a caught signal kept
	 * it closing past pchild_serve (bounded: the process is ending anyway). */
	for (int i = 0; sp->loop != NULL && i < 16 && uv_run(sp->loop, UV_RUN_NOWAIT) != 0; i++)
		;
	sshpool_unconfigure(sp);
	memset(sp, 0, sizeof(*sp));
}
