/* child.c - supervision of one helper process; see child.h for its life cycle. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "build_id.h"
#include "log.h"
#include "util.h"

#define CHILD_BACKOFF_MIN_MS   1000u
#define CHILD_BACKOFF_MAX_MS   60000u
#define CHILD_STABLE_MS	       60000u /* ready this long: the next failure restarts at 1 s */
#define CHILD_HELLO_TIMEOUT_MS 5000u
#define CHILD_INIT_TIMEOUT_MS  30000u
#define CHILD_PING_EVERY_MS    10000u
#define CHILD_PING_TIMEOUT_MS  5000u

/* One spawned process. It outlives its owner's interest in it until libuv closes it. */
struct child_proc {
	uv_process_t h;
	struct child *owner;
};

struct child {
	uv_loop_t *loop;
	struct child_spec spec;
	enum child_state state;
	struct child_proc *proc;
	pid_t pid;
	struct proto_chan *chan;
	uv_timer_t restart_timer, ping_timer, kill_timer;
	uint32_t backoff_ms;
	uint64_t ready_since_ms;
	unsigned starts;
	uint64_t ping_nonce;
	uint64_t ping_rx;    /* messages received from the child when the ping was sent */
	uint64_t ping_acked; /* the last nonce answered (pings are answered in order) */
	bool stopping;
	bool failed; /* init refused for good: never restarted */
	int open_handles;
	void (*stop_done)(void *arg);
	void *stop_arg;
};

static void child_spawn(struct child *c);

static void
child_log(struct child *c, enum log_level lvl, const char *msg, const char *err)
{
	if (err != NULL)
		log_kv_err(lvl, msg, err, LF_STR("Helper", c->spec.name),
			   LF_INT("HelperPID", c->pid));
	else
		log_kv(lvl, msg, LF_STR("Helper", c->spec.name), LF_INT("HelperPID", c->pid));
}

static void
restart_cb(uv_timer_t *t)
{
	struct child *c = t->data;

	if (!c->stopping && c->proc == NULL)
		child_spawn(c);
}

static void
child_schedule_restart(struct child *c)
{
	if (c->stopping || c->failed)
		return;
	if (c->ready_since_ms != 0 && adc_now_ms() - c->ready_since_ms >= CHILD_STABLE_MS)
		c->backoff_ms = CHILD_BACKOFF_MIN_MS;
	c->ready_since_ms = 0;
	log_kv(LOG_LVL_WARN, "restarting helper", LF_STR("Helper", c->spec.name),
	       LF_INT("DelayMs", c->backoff_ms));
	uv_timer_start(&c->restart_timer, restart_cb, c->backoff_ms, 0);
	c->backoff_ms = c->backoff_ms * 2 > CHILD_BACKOFF_MAX_MS ? CHILD_BACKOFF_MAX_MS
								 : c->backoff_ms * 2;
}

/* Something is wrong with the running child: kill it; its exit restarts it. */
static void
child_fail(struct child *c, const char *why)
{
	child_log(c, LOG_LVL_ERROR, "helper misbehaved; killing it", why);
	if (c->proc != NULL)
		uv_process_kill(&c->proc->h, SIGKILL);
	if (c->chan != NULL)
		proto_chan_close(c->chan, -EPROTO, why);
}

static void
ping_reply_cb(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct child *c = arg;
	struct proto_ping p;

	if (status == PROTO_E_RETRY)
		return; /* the channel is closing; that path handles the child */
	if (status != PROTO_OK && proto_chan_received(ch) > c->ping_rx) {
		/* Late, but the child answered other requests meanwhile: its loop runs, it is busy,
		 * not hung (pings jump both send queues, but the child reads in order). The next
		 * ping decides. */
		child_log(c, LOG_LVL_WARN,
			  "ping answer late; the helper is answering other requests", NULL);
		return;
	}
	if (status != PROTO_OK) {
		child_fail(c, "no answer to ping");
		return;
	}
	/* With a period shorter than the deadline (tests) a ping may be answered after the next
	 * one went out: any nonce sent and not yet answered, in order. */
	if (proto_ping_decode(m, &p) != 0 || p.nonce <= c->ping_acked || p.nonce > c->ping_nonce)
		child_fail(c, "bad answer to ping");
	else
		c->ping_acked = p.nonce;
}

static void
ping_cb(uv_timer_t *t)
{
	struct child *c = t->data;
	struct proto_wbuf w;

	if (c->state != CHILD_READY || c->chan == NULL)
		return;
	c->ping_nonce++;
	c->ping_rx = proto_chan_received(c->chan);
	if (proto_ping_encode(&w, PROTO_PING_REQ, 0, &(struct proto_ping){ c->ping_nonce }) != 0)
		return;
	proto_chan_request(c->chan, &w, -1,
			   c->spec.ping_timeout_ms ? c->spec.ping_timeout_ms
						   : CHILD_PING_TIMEOUT_MS,
			   ping_reply_cb, c);
}

/* The init was refused for a reason a restart will not change: one fatal line, the child
 * goes (EOF on its channel; killed if it lingers) and stays down, and the owner is told. */
static void
child_give_up(struct child *c, const char *why)
{
	c->failed = true;
	c->state = CHILD_FAILED;
	log_kv(LOG_LVL_FATAL, why, LF_STR("Helper", c->spec.name), LF_INT("HelperPID", c->pid));
	if (c->chan != NULL)
		proto_chan_close(c->chan, 0, "init refused for good");
	if (c->spec.on_fatal != NULL)
		c->spec.on_fatal(c, c->spec.arg);
}

static void
init_reply_cb(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct child *c = arg;
	char why[512] = "";
	int r;

	(void)ch;
	if (status == PROTO_E_RETRY)
		return;
	if (status != PROTO_OK) {
		child_fail(c, "no answer to init");
		return;
	}
	r = c->spec.check_init(c, m, why, sizeof(why), c->spec.arg);
	if (r == CHILD_INIT_PERMANENT) {
		child_give_up(c, why[0] ? why : "helper refused its init");
		return;
	}
	if (r != 0) {
		child_fail(c, why[0] ? why : "init refused");
		return;
	}
	c->state = CHILD_READY;
	c->ready_since_ms = adc_now_ms();
	child_log(c, LOG_LVL_INFO, "helper ready", NULL);
	uv_timer_start(&c->ping_timer, ping_cb,
		       c->spec.ping_every_ms ? c->spec.ping_every_ms : CHILD_PING_EVERY_MS,
		       c->spec.ping_every_ms ? c->spec.ping_every_ms : CHILD_PING_EVERY_MS);
	if (c->spec.on_ready != NULL)
		c->spec.on_ready(c, c->spec.arg);
}

static void
child_send_init(struct child *c)
{
	struct proto_wbuf w;
	int fd = -1;

	if (c->spec.build_init(c, &w, c->spec.arg) != 0) {
		child_fail(c, "cannot build init message");
		return;
	}
	if (c->spec.secret_fd >= 0 && (fd = fcntl(c->spec.secret_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
		proto_wbuf_free(&w);
		child_fail(c, "cannot duplicate the secret fd");
		return;
	}
	c->state = CHILD_INIT;
	if (proto_chan_request(c->chan, &w, fd, CHILD_INIT_TIMEOUT_MS, init_reply_cb, c) < 0)
		child_fail(c, "cannot send init");
}

static int
child_check_hello(struct child *c, const struct proto_msg *m, char *why, size_t len)
{
	struct proto_hello h;
	int ok;

	if (proto_hello_decode(m, &h) != 0) {
		snprintf(why, len, "malformed HELLO answer");
		return -1;
	}
	ok = h.version == PROTO_VERSION && strcmp(h.build_id, ADC_BUILD_ID) == 0 &&
	     strcmp(h.role, c->spec.name) == 0;
	if (!ok)
		snprintf(why, len,
			 "HELLO mismatch: %s version %u build %s, want %s version %u build %s",
			 h.role, h.version, h.build_id, c->spec.name, PROTO_VERSION, ADC_BUILD_ID);
	proto_hello_free(&h);
	return ok ? 0 : -1;
}

static void
hello_reply_cb(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct child *c = arg;
	char why[512];

	(void)ch;
	if (status == PROTO_E_RETRY)
		return;
	if (status != PROTO_OK) {
		child_fail(c, "no answer to HELLO");
		return;
	}
	if (child_check_hello(c, m, why, sizeof(why)) != 0) {
		child_fail(c, why);
		return;
	}
	child_send_init(c);
}

static void
chan_msg_cb(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	struct child *c = arg;

	(void)ch;
	if (m->fd >= 0)
		close(m->fd);
	/* Children only answer; they never send requests of their own (yet). */
	child_fail(c, proto_type_str(m->hdr.type));
}

static void
chan_closed_cb(struct proto_chan *ch, int reason, const char *why, void *arg)
{
	struct child *c = arg;

	if (c->chan != ch)
		return;
	c->chan = NULL;
	if (reason != 0 && !c->stopping)
		log_kv_err(LOG_LVL_ERROR, "helper channel closed", why ? why : strerror(-reason),
			   LF_STR("Helper", c->spec.name), LF_INT("HelperPID", c->pid));
	if (c->proc != NULL && !c->stopping)
		uv_process_kill(&c->proc->h, SIGKILL);
}

static void
proc_close_cb(uv_handle_t *h)
{
	free(h->data);
}

static void child_maybe_finish(struct child *c);

static void
proc_exit_cb(uv_process_t *h, int64_t status, int term_signal)
{
	struct child_proc *p = h->data;
	struct child *c = p->owner;

	uv_close((uv_handle_t *)h, proc_close_cb);
	if (c == NULL)
		return;
	bool quiet = c->stopping || c->failed; /* expected: the fatal line said why */

	if (term_signal != 0)
		log_kv(quiet ? LOG_LVL_INFO : LOG_LVL_ERROR, "helper killed by signal",
		       LF_STR("Helper", c->spec.name), LF_INT("HelperPID", c->pid),
		       LF_STR("Signal", strsignal(term_signal)));
	else
		log_kv(quiet ? LOG_LVL_INFO : LOG_LVL_ERROR, "helper exited",
		       LF_STR("Helper", c->spec.name), LF_INT("HelperPID", c->pid),
		       LF_INT("ExitStatus", status));
	bool was_ready = c->state == CHILD_READY;
	c->proc = NULL;
	c->state = c->failed ? CHILD_FAILED : CHILD_DOWN;
	uv_timer_stop(&c->ping_timer);
	if (c->chan != NULL)
		proto_chan_close(c->chan, 0, "helper exited");
	c->pid = 0;
	if (was_ready && c->spec.on_down != NULL)
		c->spec.on_down(c, c->spec.arg);
	if (c->stopping)
		child_maybe_finish(c);
	else
		child_schedule_restart(c);
}

static int
child_spawn_proc(struct child *c, int fd)
{
	const char *argv[32];
	size_t n = 0;
	uv_stdio_container_t stdio[4];
	uv_process_options_t o;
	struct child_proc *p = calloc(1, sizeof(*p));
	int r;

	if (p == NULL)
		return -ENOMEM;
	argv[n++] = c->spec.path;
	for (size_t i = 0; c->spec.args != NULL && c->spec.args[i] != NULL && n < 31; i++)
		argv[n++] = c->spec.args[i];
	argv[n] = NULL;
	stdio[0].flags = UV_IGNORE;
	stdio[1] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD, .data.fd = 1 };
	stdio[2] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD, .data.fd = 2 };
	stdio[3] = (uv_stdio_container_t){ .flags = UV_INHERIT_FD, .data.fd = fd };
	memset(&o, 0, sizeof(o));
	o.file = c->spec.path;
	o.args = (char **)argv;
	o.exit_cb = proc_exit_cb;
	o.stdio = stdio;
	o.stdio_count = 4;
	p->owner = c;
	p->h.data = p;
	r = uv_spawn(c->loop, &p->h, &o);
	if (r != 0) {
		/* libuv wants the handle closed even when spawning failed. */
		p->owner = NULL;
		uv_close((uv_handle_t *)&p->h, proc_close_cb);
		return r;
	}
	c->proc = p;
	c->pid = p->h.pid;
	return 0;
}

static void
child_spawn(struct child *c)
{
	int sv[2], r;
	struct proto_wbuf w;
	struct proto_chan_cfg cfg = {
		.recv_dir = PROTO_C2P,
		.role = c->spec.role,
		.on_msg = chan_msg_cb,
		.on_closed = chan_closed_cb,
		.arg = c,
	};

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_kv_err(LOG_LVL_ERROR, "cannot start helper", strerror(errno),
			   LF_STR("Helper", c->spec.name));
		child_schedule_restart(c);
		return;
	}
	c->starts++;
	r = child_spawn_proc(c, sv[1]);
	close(sv[1]);
	if (r != 0) {
		close(sv[0]);
		log_kv_err(LOG_LVL_ERROR, "cannot start helper", uv_strerror(r),
			   LF_STR("Helper", c->spec.name), LF_STR("path", c->spec.path));
		child_schedule_restart(c);
		return;
	}
	child_log(c, LOG_LVL_INFO, "helper started", NULL);
	c->chan = proto_chan_new(c->loop, sv[0], &cfg);
	if (c->chan == NULL) {
		child_fail(c, "cannot set up its channel");
		return;
	}
	c->state = CHILD_HELLO;
	if (proto_hello_encode(&w, PROTO_HELLO_REQ, 0,
			       &(struct proto_hello){ .version = PROTO_VERSION,
						      .build_id = (char *)ADC_BUILD_ID,
						      .role = (char *)c->spec.name,
						      .pid = (uint32_t)getpid() }) != 0 ||
	    proto_chan_request(c->chan, &w, -1, CHILD_HELLO_TIMEOUT_MS, hello_reply_cb, c) < 0)
		child_fail(c, "cannot send HELLO");
}

struct child *
child_new(uv_loop_t *loop, const struct child_spec *spec)
{
	struct child *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->loop = loop;
	c->spec = *spec;
	c->backoff_ms = CHILD_BACKOFF_MIN_MS;
	uv_timer_init(loop, &c->restart_timer);
	uv_timer_init(loop, &c->ping_timer);
	uv_timer_init(loop, &c->kill_timer);
	c->restart_timer.data = c->ping_timer.data = c->kill_timer.data = c;
	child_spawn(c);
	return c;
}

static void
timer_close_cb(uv_handle_t *h)
{
	struct child *c = h->data;

	if (--c->open_handles > 0)
		return;
	if (c->spec.secret_fd >= 0)
		close(c->spec.secret_fd);
	void (*done)(void *) = c->stop_done;
	void *arg = c->stop_arg;
	free(c);
	if (done != NULL)
		done(arg);
}

static void
child_maybe_finish(struct child *c)
{
	if (c->proc != NULL || c->open_handles > 0)
		return;
	c->open_handles = 3;
	uv_close((uv_handle_t *)&c->restart_timer, timer_close_cb);
	uv_close((uv_handle_t *)&c->ping_timer, timer_close_cb);
	uv_close((uv_handle_t *)&c->kill_timer, timer_close_cb);
}

static void
kill_timer_cb(uv_timer_t *t)
{
	struct child *c = t->data;

	if (c->proc != NULL) {
		child_log(c, LOG_LVL_WARN, "helper did not exit in time; killing it", NULL);
		uv_process_kill(&c->proc->h, SIGKILL);
	}
}

void
child_stop(struct child *c, uint64_t grace_ms, void (*done)(void *arg), void *arg)
{
	c->stopping = true;
	c->stop_done = done;
	c->stop_arg = arg;
	uv_timer_stop(&c->restart_timer);
	uv_timer_stop(&c->ping_timer);
	if (c->chan != NULL)
		proto_chan_close(c->chan, 0, "dispatcher stopping");
	if (c->proc != NULL) {
		uv_process_kill(&c->proc->h, SIGTERM);
		uv_timer_start(&c->kill_timer, kill_timer_cb, grace_ms, 0);
	}
	child_maybe_finish(c);
}

enum child_state
child_state(const struct child *c)
{
	return c->state;
}
pid_t
child_pid(const struct child *c)
{
	return c->pid;
}
unsigned
child_starts(const struct child *c)
{
	return c->starts;
}
const char *
child_name(const struct child *c)
{
	return c->spec.name;
}

struct proto_chan *
child_chan(const struct child *c)
{
	return c->state == CHILD_READY ? c->chan : NULL;
}
