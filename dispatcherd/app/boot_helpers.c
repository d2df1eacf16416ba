/*
 * boot_helpers.c - the helpers' boot steps: the secrets turned into file descriptors
 * (helper_setup.h), then cloudd and sshd-pool started and supervised (child.h) with their init
 * messages built (helper_setup.h) and checked here.
 */
#include "dispatcher_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heap_scrub.h"
#include "helper_setup.h"
#include "log.h"
#include "proto.h"
#include "proto_cloud.h"
#include "proto_ssh.h"

/* ---- secrets: held as fds from here on ---- */

/* The dispatch key (helper_setup.h), with the boot's own fatal errors. */
static int
boot_key_fd(const struct cfg_secrets *s)
{
	int fd = helper_key_fd(s);

	if (s->dispatch_private_key_path != NULL) {
		if (fd < 0)
			log_kv_err(LOG_LVL_FATAL,
				   "error parsing configured Containers.DispatchPrivateKey",
				   strerror(-fd), LF_STR("path", s->dispatch_private_key_path));
		return fd;
	}
	if (fd == -ENOKEY) {
		log_kv_err(LOG_LVL_FATAL, "error parsing configured Containers.DispatchPrivateKey",
			   "no key configured", LF_STR("key", "Containers.DispatchPrivateKey"));
		return -EINVAL;
	}
	return fd;
}

int
boot_secrets(struct dispatcher *d)
{
	struct cfg_secrets *s = &d->cfg->secrets;

	if ((d->cloud_fd = helper_cloud_secret_fd(s)) < 0 || (d->key_fd = boot_key_fd(s)) < 0)
		return -1;
	cfg_secrets_wipe(s);
	heap_scrub_tcache();
	/* The config's secrets are gone from the heap (the core-dump tests check it): what the
	 * parent frees from now on it held anyway (its token, the instances' secrets). */
	heap_scrub_end();
	return 0;
}

/* ---- init messages ---- */

static int
cloudd_build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct dispatcher *d = arg;

	(void)c;
	return helper_cloud_init_encode(w, d->cfg, d->instance_set_id);
}

static int
status_check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	(void)c;
	(void)arg;
	return helper_cloud_check_init(m, why, len);
}

static int
sshpool_build_init(struct child *c, struct proto_wbuf *w, void *arg)
{
	struct dispatcher *d = arg;

	(void)c;
	return helper_ssh_init_encode(
		w, d->cfg, d->cfg->containers.cloudvms.boot_probe_command, d->pssh.runner_md5,
		d->opts->deadman_timeout_ns > 0,
		dispatcher_spot_notices(d) ? d->opts->imds_url : "",
		dispatcher_spot_notices(d) ? d->cfg->containers.cloudvms.driver : "");
}

static int
sshpool_check_init(struct child *c, const struct proto_msg *m, char *why, size_t len, void *arg)
{
	struct dispatcher *d = arg;

	(void)c;
	return helper_ssh_check_init(m, why, len, &d->public_key);
}

/* ---- start ---- */

static void
boot_child_args(struct dispatcher *d, const char **a, const char *user, bool cloud)
{
	size_t n = 0;

	if (cloud) {
		a[n++] = "-driver";
		a[n++] = d->cfg->containers.cloudvms.driver;
	}
	a[n++] = "-cluster-id";
	a[n++] = d->cfg->cluster_id;
	a[n++] = "-log-format";
	a[n++] = d->cfg->log_format;
	a[n++] = "-log-level";
	a[n++] = d->cfg->log_level;
	if (user != NULL) {
		a[n++] = "-user";
		a[n++] = user;
	}
	if (d->opts->insecure_no_sandbox)
		a[n++] = "-insecure-no-sandbox";
	if (d->opts->require_landlock)
		a[n++] = "-require-landlock";
	a[n] = NULL;
}

static int
boot_children(struct dispatcher *d)
{
	/* The paths were resolved by boot_helper_paths (boot_sandbox.c). */
	boot_child_args(d, d->cloudd_args, d->opts->cloudd_user, true);
	boot_child_args(d, d->sshpool_args, d->opts->sshd_pool_user, false);
	struct child_spec cs = {
		.name = "cloudd",
		.role = PROTO_ROLE_CLOUDD,
		.path = d->cloudd_path,
		.args = d->cloudd_args,
		.secret_fd = d->cloud_fd,
		.build_init = cloudd_build_init,
		.check_init = status_check_init,
		.on_ready = wake_helper_up,
		.on_fatal = wake_helper_refused,
		.arg = d,
	};
	struct child_spec ss = {
		.name = "sshd-pool",
		.role = PROTO_ROLE_SSHD_POOL,
		.path = d->sshpool_path,
		.args = d->sshpool_args,
		.secret_fd = d->key_fd,
		.build_init = sshpool_build_init,
		.check_init = sshpool_check_init,
		.on_ready = wake_helper_up,
		.on_fatal = wake_helper_refused,
		.arg = d,
	};
	d->cloudd = child_new(&d->loop, &cs);
	if (d->cloudd != NULL)
		d->cloud_fd = -1; /* owned by the child now */
	d->sshpool = child_new(&d->loop, &ss);
	if (d->sshpool != NULL)
		d->key_fd = -1;
	return d->cloudd == NULL || d->sshpool == NULL ? -ENOMEM : 0;
}

int
boot_helpers(struct dispatcher *d)
{
	int r = boot_children(d);

	if (r != 0)
		log_kv_err(LOG_LVL_FATAL, "cannot start the helpers", strerror(-r),
			   LF_STR("cloudd", d->cloudd_path), LF_STR("sshd-pool", d->sshpool_path));
	return r != 0 ? -1 : 0;
}
