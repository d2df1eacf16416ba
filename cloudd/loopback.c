/* loopback.c - see loopback.h. */
#include "loopback.h"
#include "loopback_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define LB_SSHD		 "/usr/sbin/sshd"
#define LB_KEYGEN	 "/usr/bin/ssh-keygen"
#define LB_POLL_MS	 20
#define LB_READY_TRIES	 500 /* 10 s for sshd to listen */
#define LB_STOP_TRIES	 100 /* 2 s for sshd to exit after SIGTERM, then SIGKILL */
#define LB_PORT_ATTEMPTS 5
#define LB_BROKEN	 "/var/lock/crunch-run-broken"

enum lb_phase { LB_IDLE = 0, LB_KEYGEN_RUN, LB_STARTING, LB_UP, LB_STOPPING };

struct lb_driver {
	struct drv drv;
	uv_loop_t *loop;
	char dir[256], user[64];
	enum lb_phase phase;
	uv_process_t keygen;
	uv_timer_t poll;
	int tries, port_attempts;
	pid_t sshd;
	int port;
	char addr[32];
	struct drv_instance inst;
	/* the create or destroy being served */
	drv_create_cb create_cb;
	drv_destroy_cb destroy_cb;
	void *cb_arg;
	char *destroy_id;
};

/* ---- callbacks never from inside the starting call (drv.h): a one-shot timer ---- */

struct lb_defer {
	uv_timer_t t;
	void (*fn)(struct lb_defer *);
	struct lb_driver *d;
	void *cb, *arg;
	struct drv_error err;
	char *id;
};

static void
lb_defer_closed(uv_handle_t *h)
{
	struct lb_defer *x = h->data;

	free(x->id);
	free(x);
}

static void
lb_defer_fire(uv_timer_t *t)
{
	struct lb_defer *x = t->data;

	x->fn(x);
	uv_close((uv_handle_t *)t, lb_defer_closed);
}

static struct lb_defer *
lb_defer(struct lb_driver *d, void (*fn)(struct lb_defer *), void *cb, void *arg)
{
	struct lb_defer *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->fn = fn;
	x->d = d;
	x->cb = cb;
	x->arg = arg;
	uv_timer_init(d->loop, &x->t);
	x->t.data = x;
	uv_timer_start(&x->t, lb_defer_fire, 0, 0);
	return x;
}

/* ---- files ---- */

static int
lb_path(const struct lb_driver *d, const char *name, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "%s/%s", d->dir, name) < len ? 0 : -ENAMETOOLONG;
}

static int
lb_write(const struct lb_driver *d, const char *name, const char *text)
{
	char p[320];
	size_t n = strlen(text);
	int fd, r = 0;

	if (lb_path(d, name, p, sizeof(p)) != 0)
		return -ENAMETOOLONG;
	unlink(p);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, n) != (ssize_t)n)
		r = -EIO;
	if (close(fd) != 0 && r == 0)
		r = -errno;
	return r;
}

static void
lb_unlink_all(const struct lb_driver *d)
{
	static const char *const names[] = { "host_key", "host_key.pub", "authorized_keys",
					     "sshd_config" };
	char p[320];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (lb_path(d, names[i], p, sizeof(p)) == 0)
			unlink(p);
}

static char *
lb_read_pub(const struct lb_driver *d)
{
	char p[320], buf[4096];
	ssize_t n;
	int fd;

	if (lb_path(d, "host_key.pub", p, sizeof(p)) != 0 ||
	    (fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	return strdup(buf);
}

/* ---- the create sequence: keygen -> config -> sshd -> listening ---- */

static void
lb_create_finish(struct lb_driver *d, const struct drv_error *err)
{
	drv_create_cb cb = d->create_cb;
	void *arg = d->cb_arg;

	d->create_cb = NULL;
	if (err != NULL) {
		d->phase = LB_IDLE;
		lb_unlink_all(d);
		drv_instance_free(&d->inst);
		cb(arg, err, NULL);
		return;
	}
	d->phase = LB_UP;
	cb(arg, NULL, &d->inst);
}

static void
lb_create_fail(struct lb_driver *d, const char *what, int e)
{
	struct drv_error err;

	drv_error_set(&err, DRV_ERR_OTHER, "loopback: %s: %s", what, strerror(e < 0 ? -e : e));
	lb_create_finish(d, &err);
}

static int
lb_write_config(struct lb_driver *d)
{
	char cfg[2048];

	snprintf(cfg, sizeof(cfg),
		 "# written by cloudd's loopback driver for one instance\n"
		 "Port %d\nListenAddress 127.0.0.1\n"
		 "HostKey %s/host_key\nAuthorizedKeysFile %s/authorized_keys\n"
		 "AllowUsers %s\nPermitRootLogin prohibit-password\n"
		 "PubkeyAuthentication yes\nPasswordAuthentication no\n"
		 "KbdInteractiveAuthentication no\nUsePAM no\n"
		 /* The files live in a private dir under /tmp or $RUNTIME_DIRECTORY, whose
		  * parents sshd's StrictModes would refuse (world-writable /tmp). */
		 "StrictModes no\nPidFile none\nPrintMotd no\nPrintLastLog no\n"
		 "X11Forwarding no\nAllowTcpForwarding no\nAllowAgentForwarding no\n"
		 "PermitTunnel no\nLogLevel ERROR\n",
		 d->port, d->dir, d->dir, d->user);
	return lb_write(d, "sshd_config", cfg);
}

/* fork + exec sshd with PR_SET_PDEATHSIG: it must not outlive cloudd (a restarted cloudd
 * knows nothing of it). libuv's uv_spawn cannot set that. */
static int
lb_spawn_sshd(struct lb_driver *d)
{
	char cfgpath[320];
	pid_t pid;

	if (lb_path(d, "sshd_config", cfgpath, sizeof(cfgpath)) != 0)
		return -ENAMETOOLONG;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
		execl(LB_SSHD, LB_SSHD, "-D", "-e", "-f", cfgpath, (char *)NULL);
		_exit(127);
	}
	d->sshd = pid;
	return 0;
}

static void lb_start_sshd(struct lb_driver *d);

static void
lb_ready_poll(uv_timer_t *t)
{
	struct lb_driver *d = t->data;
	int st;

	if (waitpid(d->sshd, &st, WNOHANG) == d->sshd) {
		d->sshd = 0;
		uv_timer_stop(&d->poll);
		/* Most likely another process took the port between our probe and sshd's bind. */
		if (++d->port_attempts < LB_PORT_ATTEMPTS)
			lb_start_sshd(d);
		else
			lb_create_fail(d, "sshd exited at start", ECHILD);
		return;
	}
	if (loopback_listening(d->port)) {
		uv_timer_stop(&d->poll);
		lb_create_finish(d, NULL);
		return;
	}
	if (++d->tries >= LB_READY_TRIES) {
		uv_timer_stop(&d->poll);
		kill(d->sshd, SIGKILL);
		waitpid(d->sshd, &st, 0);
		d->sshd = 0;
		lb_create_fail(d, "sshd did not listen", ETIMEDOUT);
	}
}

static void
lb_start_sshd(struct lb_driver *d)
{
	int r;

	d->phase = LB_STARTING;
	d->port = loopback_pick_port();
	if (d->port < 0) {
		lb_create_fail(d, "cannot pick a port", d->port);
		return;
	}
	snprintf(d->addr, sizeof(d->addr), "127.0.0.1:%d", d->port);
	if ((r = lb_write_config(d)) != 0 || (r = lb_spawn_sshd(d)) != 0) {
		lb_create_fail(d, "cannot start sshd", r);
		return;
	}
	d->tries = 0;
	uv_timer_start(&d->poll, lb_ready_poll, LB_POLL_MS, LB_POLL_MS);
}

static void
lb_keygen_closed(uv_handle_t *h)
{
	(void)h;
}

static void
lb_keygen_exit(uv_process_t *p, int64_t status, int sig)
{
	struct lb_driver *d = p->data;

	uv_close((uv_handle_t *)p, lb_keygen_closed);
	if (status != 0 || sig != 0) {
		lb_create_fail(d, "ssh-keygen failed", EIO);
		return;
	}
	d->inst.host_key = lb_read_pub(d);
	if (d->inst.host_key == NULL) {
		lb_create_fail(d, "cannot read the new host key", EIO);
		return;
	}
	d->port_attempts = 0;
	lb_start_sshd(d);
}

static int
lb_start_keygen(struct lb_driver *d)
{
	char keypath[320];
	const char *args[] = { LB_KEYGEN, "-q",	      "-t", "ed25519", "-N", "",
			       "-C",	  "loopback", "-f", keypath,   NULL };
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
		{ .flags = UV_INHERIT_FD, .data.fd = 2 },
	};
	uv_process_options_t o = {
		.file = LB_KEYGEN,
		.args = (char **)args,
		.exit_cb = lb_keygen_exit,
		.stdio = stdio,
		.stdio_count = 3,
	};

	if (lb_path(d, "host_key", keypath, sizeof(keypath)) != 0)
		return -ENAMETOOLONG;
	d->keygen.data = d;
	return uv_spawn(d->loop, &d->keygen, &o);
}

/* ---- driver operations ---- */

/* A create that fails before it starts: its error, from the loop. */
static void
lb_quota_fire(struct lb_defer *x)
{
	((drv_create_cb)x->cb)(x->arg, &x->err, NULL);
}

static bool
lb_key_line_ok(const char *k)
{
	return k != NULL && *k && strpbrk(k, "\r\n") == NULL &&
	       (strncmp(k, "ssh-", 4) == 0 || strncmp(k, "ecdsa-", 6) == 0 ||
		strncmp(k, "sk-", 3) == 0);
}

static int
lb_create(struct drv *dv, const struct drv_itype *t, const char *image_id,
	  const struct drv_tags *tags, const char *init_command, const char *public_key,
	  drv_create_cb cb, void *arg)
{
	struct lb_driver *d = (struct lb_driver *)dv;
	char line[16400];
	int r;

	(void)image_id;
	(void)init_command; /* ignored, as in the reference: the host key is verified */
	if (d->phase != LB_IDLE) {
		struct lb_defer *x = lb_defer(d, lb_quota_fire, (void *)cb, arg);

		if (x == NULL)
			return -ENOMEM;
		drv_error_set(&x->err, DRV_ERR_QUOTA, "loopback driver is always at quota");
		return 0;
	}
	if (!lb_key_line_ok(public_key) || strlen(public_key) + 2 > sizeof(line))
		return -EINVAL;
	/* As the reference: a new instance starts unbroken (crunch-run marks this host broken
	 * with this file; --list then says "broken" and the dispatcher shuts it down). */
	if (unlink(LB_BROKEN) != 0 && errno != ENOENT) {
		struct lb_defer *x = lb_defer(d, lb_quota_fire, (void *)cb, arg);

		if (x == NULL)
			return -ENOMEM;
		drv_error_set(&x->err, DRV_ERR_OTHER, "loopback: cannot remove %s: %s", LB_BROKEN,
			      strerror(errno));
		return 0;
	}
	memset(&d->inst, 0, sizeof(d->inst));
	const char *pt = t->provider_type && *t->provider_type ? t->provider_type : t->name;
	d->inst.id = strdup(pt);
	d->inst.provider_type = strdup(pt);
	d->inst.address = strdup("127.0.0.1");
	d->inst.subnet_id = strdup("");
	d->inst.state = strdup("running");
	d->inst.az = strdup("");
	if (!d->inst.id || !d->inst.provider_type || !d->inst.address || !d->inst.subnet_id ||
	    !d->inst.state || !d->inst.az || drv_tags_copy(&d->inst.tags, tags) != 0) {
		drv_instance_free(&d->inst);
		return -ENOMEM;
	}
	lb_unlink_all(d);
	snprintf(line, sizeof(line), "%s\n", public_key);
	if ((r = lb_write(d, "authorized_keys", line)) != 0 || (r = lb_start_keygen(d)) != 0) {
		lb_unlink_all(d);
		drv_instance_free(&d->inst);
		return r;
	}
	d->phase = LB_KEYGEN_RUN;
	d->create_cb = cb;
	d->cb_arg = arg;
	return 0;
}

static bool
lb_matches(const struct drv_instance *i, const struct drv_tags *filter)
{
	for (size_t k = 0; filter != NULL && k < filter->n; k++) {
		const char *v = drv_tags_get(&i->tags, filter->v[k].key);

		if (v == NULL || strcmp(v, filter->v[k].value) != 0)
			return false;
	}
	return true;
}

struct lb_list {
	drv_page_cb page;
	drv_done_cb done;
	struct drv_tags filter;
};

static void
lb_list_fire(struct lb_defer *x)
{
	struct lb_list *l = x->cb;
	struct lb_driver *d = x->d;

	if (d->phase == LB_UP && lb_matches(&d->inst, &l->filter))
		l->page(x->arg, &d->inst, 1);
	l->done(x->arg, NULL);
	drv_tags_free(&l->filter);
	free(l);
}

static int
lb_list(struct drv *dv, const struct drv_tags *filter, drv_page_cb page, drv_done_cb done,
	void *arg)
{
	struct lb_driver *d = (struct lb_driver *)dv;
	struct lb_list *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return -ENOMEM;
	l->page = page;
	l->done = done;
	if (drv_tags_copy(&l->filter, filter) != 0 || lb_defer(d, lb_list_fire, l, arg) == NULL) {
		drv_tags_free(&l->filter);
		free(l);
		return -ENOMEM;
	}
	return 0;
}

static void
lb_destroy_finish(struct lb_driver *d)
{
	struct drv_error ok = { .cls = DRV_OK };
	const char *id = d->destroy_id;
	drv_destroy_cb cb = d->destroy_cb;

	d->destroy_cb = NULL;
	d->phase = LB_IDLE;
	lb_unlink_all(d);
	drv_instance_free(&d->inst);
	cb(d->cb_arg, 1, &id, &ok);
	free(d->destroy_id);
	d->destroy_id = NULL;
}

static void
lb_stop_poll(uv_timer_t *t)
{
	struct lb_driver *d = t->data;
	int st;

	if (waitpid(d->sshd, &st, WNOHANG) == d->sshd || ++d->tries == LB_STOP_TRIES) {
		if (d->tries == LB_STOP_TRIES) {
			kill(d->sshd, SIGKILL);
			waitpid(d->sshd, &st, 0);
		}
		d->sshd = 0;
		uv_timer_stop(&d->poll);
		lb_destroy_finish(d);
	}
}

/* Outcomes for every id at once: a deferred callback with copies. */
struct lb_dest {
	drv_destroy_cb cb;
	void *arg;
	char **ids;
	struct drv_error *errs;
	size_t n;
};

static void
lb_dest_fire(struct lb_defer *x)
{
	struct lb_dest *o = x->cb;

	o->cb(o->arg, o->n, (const char *const *)o->ids, o->errs);
	for (size_t i = 0; i < o->n; i++)
		free(o->ids[i]);
	free(o->ids);
	free(o->errs);
	free(o);
}

static int
lb_destroy(struct drv *dv, const char *const *ids, size_t n, drv_destroy_cb cb, void *arg)
{
	struct lb_driver *d = (struct lb_driver *)dv;
	bool ours = n == 1 && d->phase == LB_UP && strcmp(ids[0], d->inst.id) == 0;

	if (ours) {
		if ((d->destroy_id = strdup(ids[0])) == NULL)
			return -ENOMEM;
		d->phase = LB_STOPPING;
		d->destroy_cb = cb;
		d->cb_arg = arg;
		d->tries = 0;
		kill(d->sshd, SIGTERM);
		uv_timer_start(&d->poll, lb_stop_poll, LB_POLL_MS, LB_POLL_MS);
		return 0;
	}
	/* Unknown ids (or a batch): each is not found, as EC2's NotFound. */
	struct lb_dest *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return -ENOMEM;
	o->cb = cb;
	o->arg = arg;
	o->n = n;
	o->ids = calloc(n ? n : 1, sizeof(char *));
	o->errs = calloc(n ? n : 1, sizeof(*o->errs));
	for (size_t i = 0; o->ids && o->errs && i < n; i++) {
		o->ids[i] = strdup(ids[i]);
		drv_error_set(&o->errs[i], DRV_ERR_OTHER, "loopback: no instance %s", ids[i]);
	}
	if (o->ids == NULL || o->errs == NULL || lb_defer(d, lb_dest_fire, o, NULL) == NULL) {
		for (size_t i = 0; o->ids && i < n; i++)
			free(o->ids[i]);
		free(o->ids);
		free(o->errs);
		free(o);
		return -ENOMEM;
	}
	return 0;
}

static void
lb_tags_fire(struct lb_defer *x)
{
	((drv_done_cb)x->cb)(x->arg, x->err.cls == DRV_OK ? NULL : &x->err);
}

static int
lb_set_tags(struct drv *dv, const char *id, const struct drv_tags *tags, drv_done_cb cb, void *arg)
{
	struct lb_driver *d = (struct lb_driver *)dv;
	struct lb_defer *x;

	if (d->phase == LB_UP && strcmp(id, d->inst.id) == 0)
		for (size_t i = 0; i < tags->n; i++)
			if (drv_tags_add(&d->inst.tags, tags->v[i].key, tags->v[i].value) != 0)
				return -ENOMEM;
	if ((x = lb_defer(d, lb_tags_fire, (void *)cb, arg)) == NULL)
		return -ENOMEM;
	if (d->phase != LB_UP || strcmp(id, d->inst.id) != 0)
		drv_error_set(&x->err, DRV_ERR_OTHER, "loopback: no instance %s", id);
	return 0;
}

static const char *
lb_address(struct drv *dv, const struct drv_instance *inst)
{
	struct lb_driver *d = (struct lb_driver *)dv;

	(void)inst;
	return d->phase == LB_UP || d->phase == LB_STARTING ? d->addr : "";
}

static const char *
lb_remote_user(struct drv *dv)
{
	return ((struct lb_driver *)dv)->user;
}

static int
lb_quota_group(struct drv *d, const struct drv_itype *t, char *buf, size_t len)
{
	(void)d;
	(void)t;
	if (len == 0)
		return -ENOSPC;
	buf[0] = 0;
	return 0;
}

static void
lb_poll_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
lb_free(struct drv *dv)
{
	struct lb_driver *d = (struct lb_driver *)dv;
	int st;

	if (d->sshd > 0) {
		kill(d->sshd, SIGKILL);
		waitpid(d->sshd, &st, 0);
	}
	lb_unlink_all(d);
	drv_instance_free(&d->inst);
	free(d->destroy_id);
	uv_close((uv_handle_t *)&d->poll, lb_poll_closed);
}

static const struct drv_ops lb_ops = {
	.create = lb_create,
	.list = lb_list,
	.destroy = lb_destroy,
	.set_tags = lb_set_tags,
	.address = lb_address,
	.remote_user = lb_remote_user,
	.price_history = drv_price_history_none,
	.quota_group = lb_quota_group,
	.free = lb_free,
};

int
loopback_driver_new(uv_loop_t *loop, const char *private_dir, const char *user, struct drv **out,
		    char *err, size_t errlen)
{
	struct lb_driver *d;

	if (private_dir == NULL || *private_dir == 0 || strlen(private_dir) >= sizeof(d->dir) ||
	    user == NULL || strlen(user) >= sizeof(d->user)) {
		snprintf(err, errlen, "loopback: no private directory or user");
		return -EINVAL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->drv.ops = &lb_ops;
	d->loop = loop;
	snprintf(d->dir, sizeof(d->dir), "%s", private_dir);
	snprintf(d->user, sizeof(d->user), "%s", user);
	uv_timer_init(loop, &d->poll);
	d->poll.data = d;
	*out = &d->drv;
	return 0;
}
