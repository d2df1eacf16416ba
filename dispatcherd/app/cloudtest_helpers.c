/*
 * cloudtest_helpers.c - cloudtest's cloudd and sshd-pool: started with the dispatcher's secrets
 * and init messages (helper_setup.h) but the test's own InstanceSetID, arguments and checks;
 * ready (the test begins), a failed start, a signal, the stop.
 */
#include "cloudtest_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helper_paths.h"
#include "helper_setup.h"

/* ---- helpers: start, ready, stop ---- */

static void
ct_child_stopped(void *arg)
{
	struct ct *t = arg;

	if (--t->running == 0) {
		uv_close((uv_handle_t *)&t->timer, NULL);
		uv_close((uv_handle_t *)&t->sigint, NULL);
		uv_close((uv_handle_t *)&t->sigterm, NULL);
		if (t->stdin_polling)
			uv_close((uv_handle_t *)&t->stdin_poll, NULL);
	}
}

void
ct_finish(struct ct *t)
{
	if (t->running == 0 || t->cloudd == NULL)
		return;
	t->exit_code = t->failed ? 1 : 0;
	log_kv(LOG_LVL_INFO, "exiting", LF_BOOL("Failed", t->failed));
	uv_timer_stop(&t->timer);
	child_stop(t->cloudd, CT_STOP_GRACE_MS, ct_child_stopped, t);
	child_stop(t->sshp, CT_STOP_GRACE_MS, ct_child_stopped, t);
	if (t->sshcmd != NULL)
		child_stop(t->sshcmd, CT_STOP_GRACE_MS, ct_child_stopped, t);
	t->cloudd = t->sshp = t->sshcmd = NULL;
}

void
ct_signal(uv_signal_t *s, int signum)
{
	struct ct *t = s->data;

	log_kv(LOG_LVL_WARN, "interrupted", LF_STR("Signal", strsignal(signum)));
	t->failed = true;
	/* an instance is known: still destroy it (step 9 is deferred in the reference) */
	if (t->id != NULL && t->step != CT_DESTROY && t->step != CT_DONE) {
		uv_timer_stop(&t->timer);
		t->step = CT_DESTROY;
		ct_destroy(t);
		return;
	}
	ct_finish(t);
}

static void
ct_child_ready(struct child *c, void *arg)
{
	struct ct *t = arg;

	(void)c;
	if (t->step == CT_START && ++t->ready == t->want_ready) {
		uv_timer_stop(&t->timer);
		ct_next(t);
	}
}

/* A helper that fails before the test has begun (bad credentials, another build, a missing
 * user) is restarted by child.c with a back-off: fail at once instead, as the reference fails
 * to initialise its driver. Checked every 200 ms until both are ready. */
void
ct_start_watch(uv_timer_t *h)
{
	struct ct *t = h->data;
	struct child *c[] = { t->cloudd, t->sshp, t->sshcmd };

	for (size_t i = 0; t->step == CT_START && i < 3; i++) {
		if (c[i] == NULL || child_starts(c[i]) <= 1)
			continue;
		char why[128];
		snprintf(why, sizeof(why), "%s could not be started (see its log above)",
			 child_name(c[i]));
		log_emit_err(LOG_LVL_ERROR, "error initializing driver", why, CT_NOF);
		t->failed = true;
		t->step = CT_DONE;
		ct_finish(t);
	}
}

static int
ct_cloudd_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct ct *t = arg;

	(void)c;
	return helper_cloud_init_encode(w, t->cfg, t->set_id);
}

static int
ct_status_check(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	(void)c;
	(void)arg;
	return helper_cloud_check_init(m, why, len);
}

/* -command's sshd-pool runs the command as its boot probe. */
static int
ct_ssh_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct ct *t = arg;
	const char *probe = c == t->sshcmd ? t->command
					   : t->cfg->containers.cloudvms.boot_probe_command;

	return helper_ssh_init_encode(w, t->cfg, probe, "", false, "", "");
}

static int
ct_ssh_check(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct ct *t = arg;

	/* only the first sshd-pool's key is given to cloudd (the -command one has the same) */
	return helper_ssh_check_init(m, why, len, c == t->sshp ? &t->public_key : NULL);
}

/* A helper refused its init for good (child.c logged why, and will not restart it): the test
 * fails at once, as the reference's does when its driver cannot be initialised. */
static void
ct_child_refused(struct child *c, void *arg)
{
	struct ct *t = arg;

	(void)c;
	if (t->step != CT_START)
		return;
	t->failed = true;
	t->step = CT_DONE;
	ct_finish(t);
}

static void
ct_child_args(struct ct *t, const char **a, bool cloud)
{
	size_t n = 0;

	if (cloud) {
		a[n++] = "-driver";
		a[n++] = t->cfg->containers.cloudvms.driver;
	}
	a[n++] = "-cluster-id";
	a[n++] = t->cfg->cluster_id;
	a[n++] = "-log-format";
	a[n++] = "text";
	a[n++] = "-log-level";
	a[n++] = "info";
	a[n] = NULL;
}

int
ct_start_children(struct ct *t, const char *argv0)
{
	struct cfg_secrets *s = &t->cfg->secrets;
	int cloud_fd, key_fd, key_fd2 = -1;

	if (helper_path(NULL, argv0, "cloudd", t->cloudd_path, sizeof(t->cloudd_path)) != 0 ||
	    helper_path(NULL, argv0, "sshd-pool", t->sshp_path, sizeof(t->sshp_path)) != 0)
		return -ENOENT;
	if ((key_fd = helper_key_fd(s)) < 0) {
		log_emit_err(LOG_LVL_ERROR, "error loading Containers.DispatchPrivateKey",
			     key_fd == -ENOKEY ? "no key configured" : strerror(-key_fd), CT_NOF);
		return key_fd;
	}
	if (t->command != NULL && *t->command != '\0' &&
	    (key_fd2 = fcntl(key_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		close(key_fd);
		return -errno;
	}
	if ((cloud_fd = helper_cloud_secret_fd(s)) < 0) {
		close(key_fd);
		if (key_fd2 >= 0)
			close(key_fd2);
		return cloud_fd;
	}
	cfg_secrets_wipe(s);
	ct_child_args(t, t->cloudd_args, true);
	ct_child_args(t, t->ssh_args, false);
	struct child_spec cs = { .name = "cloudd",
				 .role = PROTO_ROLE_CLOUDD,
				 .path = t->cloudd_path,
				 .args = t->cloudd_args,
				 .secret_fd = cloud_fd,
				 .build_init = ct_cloudd_init,
				 .check_init = ct_status_check,
				 .on_ready = ct_child_ready,
				 .on_fatal = ct_child_refused,
				 .arg = t };
	struct child_spec ss = { .name = "sshd-pool",
				 .role = PROTO_ROLE_SSHD_POOL,
				 .path = t->sshp_path,
				 .args = t->ssh_args,
				 .secret_fd = key_fd,
				 .build_init = ct_ssh_init,
				 .check_init = ct_ssh_check,
				 .on_ready = ct_child_ready,
				 .on_fatal = ct_child_refused,
				 .arg = t };
	t->want_ready = 2;
	if ((t->cloudd = child_new(&t->loop, &cs)) == NULL ||
	    (t->sshp = child_new(&t->loop, &ss)) == NULL)
		return -ENOMEM;
	t->running = 2;
	if (key_fd2 >= 0) {
		ss.secret_fd = key_fd2;
		t->want_ready = 3;
		/* the init callbacks tell the two apart by pointer; they run later */
		if ((t->sshcmd = child_new(&t->loop, &ss)) == NULL)
			return -ENOMEM;
		t->running = 3;
	}
	return 0;
}
