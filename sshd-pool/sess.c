/*
 * sess.c - the pool of worker sessions and each session's connection state machine:
 *
 *   idle -> [waiting: fd budget, slot queue full, or pace] -> tcp -> banner
 *        -> [slot: waiting for a handshake slot] -> handshake -> auth -> ready
 *                 any setup failure -> idle (the next command connects at once)
 *                 ready, connection lost -> idle (reconnect at once if commands wait)
 *
 * Three limits, because the costs differ (docs/SSHPOOL.md, "Probes at scale"; sess_limits.c): a
 * connection costs two descriptors for as long as it lives (max_conns, from RLIMIT_NOFILE); a
 * key exchange and authentication cost CPU here (max_connecting, from the CPU count); a session
 * is made only with a handshake slot, so a session between TCP connect and handshake costs a
 * descriptor and a timer whatever its server does; and connects start at most connect_burst per
 * 10 ms, so 10,000 workers asked at once do not make 10,000 servers start their side together.
 * The TCP connect and the
 * wait for the server's banner hold no handshake slot, so unreachable addresses (their SYNs
 * dropped) and silent servers wait out their timeout beside the reachable workers instead of
 * ahead of them. Before, 8 slots were held from the TCP connect on: 8 blackholed workers stopped
 * every handshake for the whole connect timeout.
 *
 * The TCP connect is a non-blocking socket of ours; libssh gets a dup of it (SSH_OPTIONS_FD), so
 * when libssh closes its copy on an error the fd number watched by our uv_poll_t stays valid
 * until the poll handle is closed (a reused fd number would otherwise be unregistered from epoll
 * under another handle). Key exchange and authentication are re-entered on readiness; once ready,
 * a per-connection ssh_event polled with timeout 0 processes packets for every channel.
 */
#include "sess_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static void sess_advance(struct sess *s);
static void sess_connect_start(struct sess *s);

void
sess_opts_defaults(struct sess_opts *o)
{
	if (!o->connect_timeout_ms)
		o->connect_timeout_ms = 60000;
	if (!o->command_timeout_ms)
		o->command_timeout_ms = 600000;
	if (!o->keepalive_ms)
		o->keepalive_ms = 30000;
	if (!o->keepalive_timeout_ms)
		o->keepalive_timeout_ms = 15000;
	if (!o->max_channels)
		o->max_channels = 8;
	if (!o->max_conns) {
		struct rlimit rl;
		rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;

		if (n == RLIM_INFINITY || n > 2u * 1000u * 1000u)
			n = 2u * 1000u * 1000u;
		o->max_conns = n > 64 + 2 * 16 ? (unsigned)((n - 64) / 2) : 16;
	}
	if (!o->max_connecting) {
		/* A handshake costs this process ~1.5 ms of CPU (curve25519, the Ed25519 signature)
		 * and otherwise waits on round trips and the server: 16 per CPU keep the CPUs busy
		 * without a queue of half-done key exchanges. */
		unsigned n = 16 * uv_available_parallelism();

		o->max_connecting = n < 8 ? 8 : n > 256 ? 256 : n;
	}
	if (o->max_connecting > o->max_conns)
		o->max_connecting = o->max_conns;
	if (!o->connect_burst)
		o->connect_burst = 4 * o->max_connecting; /* 12,800/s on 2 CPUs */
	if (!o->max_stdout)
		o->max_stdout = 1024 * 1024;
	if (!o->max_stderr)
		o->max_stderr = 64 * 1024;
}

int
sess_pool_new(uv_loop_t *loop, const struct sess_opts *opts, struct sess_pool **out)
{
	struct sess_pool *p;

	*out = NULL;
	if (loop == NULL || opts == NULL || opts->key == NULL)
		return -EINVAL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	ssh_init();
	p->loop = loop;
	p->o = *opts;
	sess_opts_defaults(&p->o);
	TAILQ_INIT(&p->sessions);
	TAILQ_INIT(&p->waiting);
	TAILQ_INIT(&p->slotq);
	TAILQ_INIT(&p->kickq);
	uv_timer_init(loop, &p->kick); /* cannot fail on unix */
	p->kick.data = p;
	p->live++; /* released by its close callback */
	sess_limits_init(p);
	*out = p;
	return 0;
}

void
sess_pool_get_stats(const struct sess_pool *p, struct sess_pool_stats *st)
{
	*st = p->st;
	st->conns = p->conns;
	st->handshakes = p->connecting;
	st->slot_queued = p->nslot;
	st->ssh_sessions = p->nssh;
}

const struct sess_opts *
sess_pool_opts(const struct sess_pool *p)
{
	return &p->o;
}

long
sess_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -errno;
	if (rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			return -errno;
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX ? LONG_MAX
								      : (long)rl.rlim_cur;
}

void
sess_pool_unref(struct sess_pool *p)
{
	if (--p->live == 0 && p->freeing) {
		sess_hash_free(p);
		free(p);
	}
}

static void
sess_kick_closed(uv_handle_t *h)
{
	sess_pool_unref(h->data);
}

void
sess_pool_free(struct sess_pool *p)
{
	struct sess *s;

	if (p == NULL)
		return;
	p->live++; /* hold the pool while closing */
	p->freeing = true;
	while ((s = TAILQ_FIRST(&p->sessions)) != NULL)
		sess_close(s);
	sess_limits_fini(p);
	uv_close((uv_handle_t *)&p->kick, sess_kick_closed);
	sess_pool_unref(p);
}

const char *
sess_state(const struct sess *s)
{
	static const char *const names[] = { "idle", "waiting",	  "connecting", "banner",
					     "slot", "handshake", "auth",	"ready" };
	return names[s->st];
}

bool
sess_conn_dead(const struct sess_conn *c)
{
	return c->ssh == NULL || !ssh_is_connected(c->ssh) ||
	       (ssh_get_status(c->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0;
}

static void
sess_on_kick(struct sess *s)
{
	if (s->closing)
		return;
	if ((s->st == SS_IDLE) && !TAILQ_EMPTY(&s->queue))
		sess_connect_start(s);
	else
		sess_admission_drop(s); /* admitted to connect, but nothing waits for it any more */
	sess_advance(s);
}

/* The sessions kicked before this run, oldest first; those kicked meanwhile wait for the next
 * run (a pump that kicks itself again must not loop here). */
static void
sess_on_kicks(uv_timer_t *t)
{
	struct sess_pool *p = t->data;
	struct sess *s;

	for (unsigned k = p->nkick; k > 0 && (s = TAILQ_FIRST(&p->kickq)) != NULL; k--) {
		sess_kick_cancel(s);
		sess_on_kick(s);
	}
	if (p->nkick > 0)
		uv_timer_start(&p->kick, sess_on_kicks, 0, 0);
}

void
sess_kick(struct sess *s)
{
	struct sess_pool *p = s->pool;

	if (s->closing || s->kick_queued)
		return;
	TAILQ_INSERT_TAIL(&p->kickq, s, kick_link);
	s->kick_queued = true;
	if (p->nkick++ == 0)
		uv_timer_start(&p->kick, sess_on_kicks, 0, 0);
}

void
sess_kick_cancel(struct sess *s)
{
	if (!s->kick_queued)
		return;
	TAILQ_REMOVE(&s->pool->kickq, s, kick_link);
	s->kick_queued = false;
	s->pool->nkick--;
}

void
sess_set_error(struct sess *s, const char *why)
{
	free(s->last_error);
	s->last_error = strdup(why); /* NULL on ENOMEM: the commands still get the text */
}

/* ---- connection teardown ------------------------------------------------------------------ */

static void
sess_conn_closed(uv_handle_t *h)
{
	struct sess_conn *c = h->data;
	struct sess_pool *p = c->pool;

	if (c->ka != NULL)
		ssh_channel_free(c->ka);
	if (c->ev != NULL) {
		ssh_event_remove_session(c->ev, c->ssh);
		ssh_event_free(c->ev);
	}
	if (c->ssh != NULL) {
		if (ssh_is_connected(c->ssh))
			ssh_disconnect(c->ssh); /* non-blocking: queues the message, closes */
		ssh_free(c->ssh);		/* closes libssh's dup of the fd */
		p->nssh--;
	}
	close(c->fd);
	free(c->host_key);
	free(c);
	p->conns--; /* its descriptors are closed only now */
	sess_admit_waiting(p);
	sess_pool_unref(p);
}

/* Detach and close the connection; commands on it must have been failed or requeued first. */
void
sess_conn_close(struct sess *s)
{
	struct sess_conn *c = s->conn;
	struct sess_cmd *cmd;

	if (c == NULL)
		return;
	TAILQ_FOREACH(cmd, &s->active, link)
	sess_cmd_detach(cmd);
	s->conn = NULL;
	c->s = NULL;
	uv_timer_stop(&s->timer);
	sess_release_slot(s);
	uv_poll_stop(&c->poll);
	uv_close((uv_handle_t *)&c->poll, sess_conn_closed);
}

/* A setup (tcp/handshake/auth) failed: every waiting command gets the error. No back-off before
 * the next attempt (spec 6: a command with no connection sets one up): the dispatcher paces its
 * commands itself (a worker's probes at ProbeInterval, one at a time), and a back-off here held
 * a booting worker's probes up to 30 s apart, so its boot was seen up to 30 s late. A command
 * submitted by a failure callback connects from the loop (sess_advance kicks), never here. */
static void
sess_setup_failed(struct sess *s, int err, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sess_set_error(s, why);
	s->stats.setup_failures++;
	sess_conn_close(s);
	sess_fail_all(s, &s->queue, err, "%s", why);
	sess_fail_all(s, &s->active, err, "%s", why);
	s->st = SS_IDLE;
	if (!TAILQ_EMPTY(&s->queue))
		sess_kick(s);
}

/* An established connection died: commands running on it fail; those whose channel was not yet
 * open are retried once on the next connection (spec 6: "try exactly once more"). */
static void
sess_conn_lost(struct sess *s, int err, const char *why)
{
	struct sess_cmd *c, *next;

	sess_set_error(s, why);
	s->stats.dropped++;
	for (c = TAILQ_FIRST(&s->active); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->st == SC_OPENING && !c->retried) {
			sess_cmd_detach(c);
			c->retried = true;
			c->st = SC_QUEUED;
			sess_cmd_move(c, &s->queue);
			TAILQ_REMOVE(&s->queue, c, link); /* keep submission order: to the front */
			TAILQ_INSERT_HEAD(&s->queue, c, link);
		} else {
			sess_cmd_fail(c, err, "connection to %s:%d lost while the command ran: %s",
				      s->address, s->port, why);
		}
	}
	sess_conn_close(s);
	s->st = SS_IDLE;
	if (!TAILQ_EMPTY(&s->queue))
		sess_kick(s);
}

void
sess_drop(struct sess *s, const char *why)
{
	if (s->conn == NULL)
		return;
	if (s->st == SS_READY) {
		sess_conn_lost(s, -ECONNRESET, why);
	} else {
		sess_conn_close(s);
		s->st = SS_IDLE;
		if (!TAILQ_EMPTY(&s->queue))
			sess_kick(s);
	}
	sess_drain_done(s);
}

/* ---- connection setup --------------------------------------------------------------------- */

static void sess_on_poll(uv_poll_t *h, int status, int events);

static void
sess_on_setup_timeout(uv_timer_t *t)
{
	struct sess *s = t->data;
	static const char *const phase[] = { [SS_TCP] = "TCP connect",
					     [SS_BANNER] = "waiting for the SSH banner",
					     [SS_HANDSHAKE] = "SSH banner and key exchange",
					     [SS_AUTH] = "public key authentication" };

	sess_setup_failed(s, -ETIMEDOUT, "connecting to %s:%d timed out after %llu ms (%s)",
			  s->address, s->port, (unsigned long long)s->pool->o.connect_timeout_ms,
			  s->st <= SS_AUTH && phase[s->st] ? phase[s->st] : "setup");
	sess_drain_done(s);
}

static int
sess_socket(struct sess *s, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, s->address, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)s->port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, s->address, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)s->port);
		len = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Small request/answer packets: without this, Nagle plus delayed ACKs add ~40 ms per step. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return -e;
	}
	*fdp = fd;
	return 0;
}

static void
sess_connect_start(struct sess *s)
{
	struct sess_pool *p = s->pool;
	struct sess_conn *c;
	int r, fd = -1;

	if (sess_must_wait(s))
		return;
	s->stats.connects++;
	if ((c = calloc(1, sizeof(*c))) == NULL || (r = sess_socket(s, &fd)) != 0) {
		r = c ? r : -ENOMEM;
		free(c);
		s->st = SS_TCP;
		sess_setup_failed(s, r, "connect to %s:%d: %s", s->address, s->port, strerror(-r));
		sess_drain_done(s);
		return;
	}
	if (++p->conns > p->st.conns_peak)
		p->st.conns_peak = p->conns;
	c->s = s;
	c->pool = p;
	c->fd = fd;
	s->conn = c;
	p->live++;
	uv_poll_init(p->loop, &c->poll, fd);
	c->poll.data = c;
	uv_poll_start(&c->poll, UV_WRITABLE, sess_on_poll);
	s->st = SS_TCP;
	uv_timer_start(&s->timer, sess_on_setup_timeout, p->o.connect_timeout_ms, 0);
}

static int
sess_ssh_new(struct sess *s)
{
	struct sess_conn *c = s->conn;
	bool no = false;
	int fd;

	if ((c->ssh = ssh_new()) == NULL)
		return -ENOMEM;
	if (++s->pool->nssh > s->pool->st.ssh_sessions_peak)
		s->pool->st.ssh_sessions_peak = s->pool->nssh;
	if ((fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return -errno;
	if (ssh_options_set(c->ssh, SSH_OPTIONS_FD, &fd) != SSH_OK) {
		close(fd);
		return -EPROTO;
	}
	/* No ~/.ssh/config or /etc/ssh/ssh_config: every setting comes from us. The ssh
	 * directory is named, because libssh otherwise looks up the home directory to make
	 * "~/.ssh": getpwuid() cannot read /etc/passwd in the sandbox, and a systemd service
	 * without User= has no $HOME, so every handshake failed with "Couldn't apply options"
	 * (found by tests/packaging/test_deb). Nothing is read from it (Landlock). */
	if (ssh_options_set(c->ssh, SSH_OPTIONS_SSH_DIR, "/nonexistent/.ssh") != SSH_OK ||
	    ssh_options_set(c->ssh, SSH_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
	    ssh_options_set(c->ssh, SSH_OPTIONS_HOST, s->address) != SSH_OK ||
	    ssh_options_set(c->ssh, SSH_OPTIONS_PORT, &s->port) != SSH_OK ||
	    ssh_options_set(c->ssh, SSH_OPTIONS_USER, s->user) != SSH_OK)
		return -EPROTO;
	ssh_set_blocking(c->ssh, 0);
	return 0;
}

void
sess_setup_deadline(struct sess *s)
{
	uv_timer_start(&s->timer, sess_on_setup_timeout, s->pool->o.connect_timeout_ms, 0);
}

static void
sess_tcp_step(struct sess *s)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(s->conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		sess_setup_failed(s, -err, "connect to %s:%d: %s", s->address, s->port,
				  strerror(err));
		return;
	}
	/* No slot and no libssh session yet: a server may accept and never speak, and then it costs
	 * a descriptor and a timer, nothing more. */
	s->st = SS_BANNER;
}

char *
sess_key_line(ssh_key k)
{
	char *b64 = NULL, *line = NULL;
	const char *type = ssh_key_type_to_char(ssh_key_type(k));

	if (ssh_pki_export_pubkey_base64(k, &b64) != SSH_OK)
		return NULL;
	if (asprintf(&line, "%s %s", type ? type : "unknown", b64) < 0)
		line = NULL;
	ssh_string_free_char(b64);
	return line;
}

static void
sess_handshake_step(struct sess *s)
{
	struct sess_conn *c = s->conn;
	ssh_key k = NULL;
	int rc;

	/* The libssh session is made with the slot: a session waiting for one holds none. */
	if (c->ssh == NULL && (rc = sess_ssh_new(s)) != 0) {
		sess_setup_failed(s, rc, "setting up the SSH session: %s", strerror(-rc));
		return;
	}
	rc = ssh_connect(c->ssh);

	if (rc == SSH_AGAIN)
		return;
	if (rc != SSH_OK) {
		sess_setup_failed(s, -EPROTO, "SSH handshake with %s:%d: %s", s->address, s->port,
				  ssh_get_error(c->ssh));
		return;
	}
	if (ssh_get_server_publickey(c->ssh, &k) != SSH_OK ||
	    (c->host_key = sess_key_line(k)) == NULL) {
		ssh_key_free(k);
		sess_setup_failed(s, -EPROTO, "cannot read the host key of %s:%d", s->address,
				  s->port);
		return;
	}
	/* Pinned: refuse another key before authenticating (spec 5.13, weakness 21). */
	if (s->pin != NULL && ssh_key_cmp(k, s->pin, SSH_KEY_CMP_PUBLIC) != 0) {
		ssh_key_free(k);
		sess_setup_failed(s, -EKEYREJECTED,
				  "host key of %s:%d changed: it presented %.80s but "
				  "%.80s is pinned; connection refused",
				  s->address, s->port, c->host_key, s->pin_line);
		return;
	}
	ssh_key_free(k);
	s->st = SS_AUTH;
}

static void sess_keepalive_arm(struct sess *s, uint64_t ms);

static void
sess_auth_step(struct sess *s)
{
	struct sess_conn *c = s->conn;
	int rc = ssh_userauth_publickey(c->ssh, NULL, s->pool->o.key);

	if (rc == SSH_AUTH_AGAIN)
		return;
	if (rc == SSH_AUTH_DENIED || rc == SSH_AUTH_PARTIAL) {
		sess_setup_failed(s, -EACCES, "public key authentication as %s refused by %s:%d",
				  s->user, s->address, s->port);
		return;
	}
	if (rc != SSH_AUTH_SUCCESS || (c->ev = ssh_event_new()) == NULL ||
	    ssh_event_add_session(c->ev, c->ssh) != SSH_OK) {
		sess_setup_failed(s, -EPROTO, "authentication with %s:%d: %s", s->address, s->port,
				  ssh_get_error(c->ssh));
		return;
	}
	uv_timer_stop(&s->timer); /* the setup deadline; keep-alives use it from here on */
	sess_release_slot(s);
	free(s->last_error);
	s->last_error = NULL;
	s->stats.connected++;
	s->st = SS_READY;
	if (s->pool->o.keepalive_ms != SESS_KEEPALIVE_OFF)
		sess_keepalive_arm(s, s->pool->o.keepalive_ms);
}

/* ---- ready: commands and keep-alives ------------------------------------------------------ */

static void
sess_on_keepalive(uv_timer_t *t)
{
	struct sess *s = t->data;
	struct sess_conn *c = s->conn;
	char why[128];

	if (c == NULL || s->st != SS_READY)
		return;
	if (c->ka != NULL) {
		snprintf(why, sizeof(why), "keep-alive: no answer within %llu ms",
			 (unsigned long long)s->pool->o.keepalive_timeout_ms);
		sess_conn_lost(s, -ETIMEDOUT, why);
		sess_drain_done(s);
		return;
	}
	/* Opening a session channel needs an answer from the server's SSH layer (a frozen sshd
	 * gives none), costs no process on the worker, and is closed at once. */
	c->ka = ssh_channel_new(c->ssh);
	sess_keepalive_arm(s, s->pool->o.keepalive_timeout_ms);
	sess_advance(s);
}

static void
sess_keepalive_arm(struct sess *s, uint64_t ms)
{
	uv_timer_start(&s->timer, sess_on_keepalive, ms, 0);
}

static void
sess_keepalive_step(struct sess *s)
{
	struct sess_conn *c = s->conn;
	int rc;

	if (c->ka == NULL)
		return;
	rc = ssh_channel_open_session(c->ka);
	if (rc == SSH_AGAIN || sess_conn_dead(c))
		return;
	/* Opened or refused (e.g. MaxSessions): either way the server answered. */
	if (rc == SSH_OK)
		ssh_channel_close(c->ka);
	ssh_channel_free(c->ka);
	c->ka = NULL;
	sess_keepalive_arm(s, s->pool->o.keepalive_ms);
}

static void
sess_ready_step(struct sess *s)
{
	struct sess_conn *c = s->conn;
	struct sess_cmd *cmd, *next;

	ssh_event_dopoll(c->ev, 0); /* read and dispatch what arrived, flush what is queued */
	while (!sess_conn_dead(c) && s->nactive < s->pool->o.max_channels &&
	       (cmd = TAILQ_FIRST(&s->queue)) != NULL) {
		if (s->pin == NULL && !(cmd->flags & SESS_EXEC_UNPINNED))
			sess_cmd_fail(cmd, -EPERM, "the host key of %s:%d is not verified yet",
				      s->address, s->port);
		else if (sess_cmd_begin(cmd) != 0)
			sess_cmd_fail(cmd, -ENOMEM, "cannot create a channel");
	}
	for (cmd = TAILQ_FIRST(&s->active); cmd != NULL && !sess_conn_dead(c); cmd = next) {
		next = TAILQ_NEXT(cmd, link);
		sess_cmd_step(cmd);
	}
	if (!sess_conn_dead(c))
		sess_keepalive_step(s);
	if (sess_conn_dead(c)) {
		char why[200];

		snprintf(why, sizeof(why), "%s",
			 ssh_get_error(c->ssh)[0] ? ssh_get_error(c->ssh) : "connection closed");
		sess_conn_lost(s, -ECONNRESET, why);
	}
}

static void
sess_update_poll(struct sess *s)
{
	struct sess_conn *c = s->conn;
	int ev = UV_READABLE;

	if (c == NULL)
		return;
	if (s->st == SS_SLOT) {
		uv_poll_stop(&c->poll); /* the banner waits in the socket until a slot is ours */
		return;
	}
	if (s->st == SS_TCP || (c->ssh != NULL && (ssh_get_poll_flags(c->ssh) & SSH_WRITE_PENDING)))
		ev |= UV_WRITABLE;
	if (s->st == SS_TCP)
		ev = UV_WRITABLE;
	if (s->st == SS_BANNER)
		ev = UV_READABLE;
	uv_poll_start(&c->poll, ev, sess_on_poll);
}

/* Run the state machine as far as it goes without waiting. */
static void
sess_advance(struct sess *s)
{
	enum sess_st before;

	do {
		before = s->st;
		if (s->conn == NULL)
			break;
		if (s->st == SS_HANDSHAKE)
			sess_handshake_step(s);
		else if (s->st == SS_AUTH)
			sess_auth_step(s);
		else if (s->st == SS_READY)
			sess_ready_step(s);
	} while (s->st != before && !s->closing);
	sess_update_poll(s);
	sess_drain_done(s);
	if (s->st == SS_IDLE && !TAILQ_EMPTY(&s->queue))
		sess_kick(s);
}

static void
sess_on_poll(uv_poll_t *h, int status, int events)
{
	struct sess_conn *c = h->data;
	struct sess *s = c->s;

	(void)events;
	if (s == NULL)
		return;
	if (s->st == SS_TCP || s->st == SS_BANNER) {
		if (status < 0) {
			/* libuv reports POLLERR as UV_EBADF; the socket knows the real reason. */
			int err = 0;
			socklen_t len = sizeof(err);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
				status = -err;
			sess_setup_failed(s, status, "connect to %s:%d: %s", s->address, s->port,
					  strerror(-status));
			sess_drain_done(s);
			return;
		}
		if (s->st == SS_TCP)
			sess_tcp_step(s);
		else
			sess_slot_want(s); /* the server spoke (or closed) */
	}
	sess_advance(s);
}
