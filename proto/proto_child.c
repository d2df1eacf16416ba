/* proto_child.c - see proto_child.h. */
#include "proto_child.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_id.h"
#include "log.h"

enum pchild_state { PCHILD_WANT_HELLO = 0, PCHILD_WANT_INIT, PCHILD_SERVING };

struct pchild {
	uv_loop_t *loop;
	const struct pchild_ops *ops;
	struct proto_chan *chan;
	enum pchild_state state;
	/* On the heap, freed by its close callback: a SIGTERM caught just before pchild_finish
	 * closes it leaves a message naming it in libuv's signal pipe, and libuv keeps the closing
	 * handle queued until that message is read, possibly after pchild_serve has returned (the
	 * loop is stopped) by the role's teardown. A handle in pchild_serve's frame was then
	 * written to and finished on a dead stack: uv__finish_close's !UV_HANDLE_CLOSED assert. */
	uv_signal_t *sigterm;
	int exit_code;
	bool done;
};

int
pchild_parse_args(int argc, char **argv, struct pchild_args *a)
{
	memset(a, 0, sizeof(*a));
	a->log_format = "json";
	a->log_level = "info";
	for (int i = 1; i < argc; i++) {
		const char *f = argv[i];
		const char **dst = NULL;
		if (strcmp(f, "-insecure-no-sandbox") == 0) {
			a->insecure_no_sandbox = true;
			continue;
		}
		if (strcmp(f, "-require-landlock") == 0) {
			a->require_landlock = true;
			continue;
		}
		if (strcmp(f, "-driver") == 0)
			dst = &a->driver;
		else if (strcmp(f, "-cluster-id") == 0)
			dst = &a->cluster_id;
		else if (strcmp(f, "-log-format") == 0)
			dst = &a->log_format;
		else if (strcmp(f, "-log-level") == 0)
			dst = &a->log_level;
		else if (strcmp(f, "-user") == 0)
			dst = &a->user;
		else if (strcmp(f, "-keepalive-interval") == 0)
			dst = &a->keepalive_interval;
		else if (strcmp(f, "-keepalive-timeout") == 0)
			dst = &a->keepalive_timeout;
		if (dst == NULL || i + 1 >= argc) {
			fprintf(stderr,
				"%s: bad argument \"%s\" (this program is started by "
				"arvados-dispatch-cloud)\n",
				argv[0], f);
			return 2;
		}
		*dst = argv[++i];
	}
	return 0;
}

void
pchild_log_init(const char *proc, const struct pchild_args *a)
{
	int fmt = log_format_parse(a->log_format), lvl = log_level_parse(a->log_level);

	log_init(proc, fmt < 0 ? LOG_FMT_JSON : (enum log_format)fmt,
		 lvl < 0 ? LOG_LVL_INFO : (enum log_level)lvl);
	if (a->cluster_id != NULL)
		log_set_cluster_id(a->cluster_id);
}

static void
pchild_sigterm_closed(uv_handle_t *h)
{
	free(h);
}

static void
pchild_finish(struct pchild *p, int code, const char *why)
{
	if (p->done)
		return;
	p->done = true;
	p->exit_code = code;
	if (code != 0)
		log_kv(LOG_LVL_ERROR, "protocol violation from parent; exiting",
		       LF_STR("Reason", why));
	if (p->chan != NULL) {
		struct proto_chan *ch = p->chan;
		p->chan = NULL;
		proto_chan_close(ch, code ? -EPROTO : 0, why);
	}
	uv_close((uv_handle_t *)p->sigterm, pchild_sigterm_closed);
	p->sigterm = NULL;
	/* Role handles (curl, ssh sessions) may still be open: the process is ending anyway. */
	uv_stop(p->loop);
}

static void
pchild_hello(struct pchild *p, const struct proto_msg *m)
{
	struct proto_hello h;
	struct proto_wbuf w;
	bool ok;

	if (proto_hello_decode(m, &h) != 0) {
		pchild_finish(p, 2, "malformed HELLO");
		return;
	}
	ok = h.version == PROTO_VERSION && strcmp(h.build_id, ADC_BUILD_ID) == 0;
	if (!ok)
		log_kv(LOG_LVL_ERROR, "parent is another build; answering and exiting",
		       LF_STR("ParentBuild", h.build_id), LF_STR("Build", ADC_BUILD_ID));
	proto_hello_free(&h);
	if (proto_hello_encode(&w, PROTO_HELLO_ANS, m->hdr.reqid,
			       &(struct proto_hello){ .version = PROTO_VERSION,
						      .build_id = (char *)ADC_BUILD_ID,
						      .role = (char *)p->ops->name,
						      .pid = (uint32_t)getpid() }) == 0)
		proto_chan_send(p->chan, &w, -1);
	if (!ok) {
		pchild_finish(p, 2, "version mismatch");
		return;
	}
	p->state = PCHILD_WANT_INIT;
}

static void
pchild_ping(struct pchild *p, const struct proto_msg *m)
{
	struct proto_ping ping;
	struct proto_wbuf w;

	if (proto_ping_decode(m, &ping) != 0) {
		pchild_finish(p, 2, "malformed PING");
		return;
	}
	if (proto_ping_encode(&w, PROTO_PING_ANS, m->hdr.reqid, &ping) == 0)
		proto_chan_send(p->chan, &w, -1);
}

static void
pchild_init(struct pchild *p, const struct proto_msg *m)
{
	struct proto_wbuf w = { 0 };
	int r = p->ops->on_init(m, &w, p->ops->arg);

	if (w.data != NULL) {
		proto_wbuf_set_reqid(&w, m->hdr.reqid);
		proto_chan_send(p->chan, &w, -1);
	}
	if (r == 0) {
		p->state = PCHILD_SERVING;
		log_kv(LOG_LVL_INFO, "initialised", LF_STR("Helper", p->ops->name));
	}
}

static void
pchild_msg_cb(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	struct pchild *p = arg;
	uint16_t t = m->hdr.type;

	(void)ch;
	if (t == PROTO_HELLO_REQ && p->state == PCHILD_WANT_HELLO) {
		pchild_hello(p, m);
	} else if (p->state == PCHILD_WANT_HELLO) {
		pchild_finish(p, 2, "expected HELLO first");
	} else if (t == PROTO_PING_REQ) {
		pchild_ping(p, m);
	} else if (t == p->ops->init_type && p->state == PCHILD_WANT_INIT) {
		pchild_init(p, m);
		return; /* on_init owns m->fd */
	} else if (p->state == PCHILD_SERVING && t != p->ops->init_type && t != PROTO_HELLO_REQ) {
		p->ops->on_request(p->chan, m, p->ops->arg);
		return; /* on_request owns m->fd */
	} else {
		pchild_finish(p, 2, proto_type_str(t));
	}
	if (m->fd >= 0)
		close(m->fd);
}

static void
pchild_closed_cb(struct proto_chan *ch, int reason, const char *why, void *arg)
{
	struct pchild *p = arg;

	(void)ch;
	if (p->chan == NULL)
		return;
	p->chan = NULL;
	pchild_finish(p, reason == 0 ? 0 : 2, why ? why : "channel closed");
}

static void
pchild_sigterm_cb(uv_signal_t *s, int signum)
{
	(void)signum;
	pchild_finish(s->data, 0, "SIGTERM");
}

int
pchild_serve(uv_loop_t *loop, int fd, const struct pchild_ops *ops)
{
	struct pchild p = { .loop = loop, .ops = ops };
	struct proto_chan_cfg cfg = {
		.recv_dir = PROTO_P2C,
		.role = ops->role,
		.on_msg = pchild_msg_cb,
		.on_closed = pchild_closed_cb,
		.arg = &p,
	};

	if ((p.sigterm = malloc(sizeof(*p.sigterm))) == NULL) {
		close(fd);
		return 1;
	}
	uv_signal_init(loop, p.sigterm);
	p.sigterm->data = &p;
	uv_signal_start(p.sigterm, pchild_sigterm_cb, SIGTERM);
	p.chan = proto_chan_new(loop, fd, &cfg);
	if (p.chan == NULL) {
		uv_close((uv_handle_t *)p.sigterm, pchild_sigterm_closed);
		uv_run(loop, UV_RUN_DEFAULT);
		return 1;
	}
	uv_run(loop, UV_RUN_DEFAULT);
	/* p.sigterm is NULL here (pchild_finish closed it): its close may still be pending, and
	 * needs the heap memory only, not this frame (the signal callback is not run once closed). */
	return p.exit_code;
}
