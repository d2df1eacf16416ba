/*
 * http_server.c - libmicrohttpd driven from the libuv loop.
 *
 * MHD runs without threads (no MHD_USE_INTERNAL_POLLING_THREAD) with MHD_USE_EPOLL: all its
 * sockets sit in one epoll fd, which is itself pollable. A uv_poll_t on that fd calls MHD_run
 * (non-blocking in this mode) whenever something is ready, and a uv_timer_t re-armed from
 * MHD_get_timeout after every run covers MHD's own deadlines (idle connections, buffered TLS
 * data). A second timer enforces a deadline on the request head and one on the whole request
 * (head, body and response, not counting a deferred handler's wait), which MHD has no option
 * for: without them a client sending a byte a second would hold a connection slot forever.
 * Authorisation is checked on the head (http_request.c), before any body is read, and one
 * address may hold at most half of the connection slots (MHD's per-IP limit).
 */
#include "http_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_request.h"
#include "log.h"
#include "util.h"

static void srv_drive(struct http_server *s);

static void
on_poll(uv_poll_t *p, int status, int events)
{
	(void)status;
	(void)events;
	srv_drive(p->data);
}

static void
on_timer(uv_timer_t *t)
{
	srv_drive(t->data);
}

void
http_server_account(struct http_server *s, uint64_t ns)
{
	s->stats.turns++;
	s->stats.total_ns += ns;
	if (ns > s->stats.max_turn_ns)
		s->stats.max_turn_ns = ns;
}

void
http_server_stats(struct http_server *s, struct http_server_stats *out, bool reset)
{
	if (out)
		*out = s->stats;
	if (reset)
		memset(&s->stats, 0, sizeof(s->stats));
}

uv_loop_t *
http_server_loop(struct http_server *s)
{
	return s->loop;
}

/* One loop callback's worth of MHD work (reads, handlers, writes), timed for the stats. */
static void
srv_drive(struct http_server *s)
{
	MHD_UNSIGNED_LONG_LONG to;
	uint64_t t0 = uv_hrtime();
	MHD_run(s->mhd);
	http_server_account(s, uv_hrtime() - t0);
	if (MHD_get_timeout(s->mhd, &to) == MHD_YES)
		uv_timer_start(&s->timer, on_timer, to, 0);
	else
		uv_timer_stop(&s->timer);
}

void
http_server_kick(struct http_server *s)
{
	if (s->mhd)
		uv_timer_start(&s->timer, on_timer, 0, 0);
}

/* The request-head deadline: shut the socket down; MHD sees EOF on its next run and cleans up
 * through its usual close path, so no MHD state is touched from outside. */
static bool
conn_late(const struct http_conn *c, uint64_t now, uint64_t head_ms, uint64_t total_ms)
{
	if (c->waiting_since_ms && now - c->waiting_since_ms >= head_ms)
		return true; /* the request head is not in yet */
	/* A request (head, body, response) that is not done: a client trickling its body or
	 * reading its response a byte at a time holds a slot no longer than this. */
	return !c->paused && c->request_since_ms && now - c->request_since_ms >= total_ms;
}

static void
on_sweep(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = adc_now_ms(), head = (uint64_t)s->header_timeout_s * 1000,
		 total = (uint64_t)s->request_timeout_s * 1000;
	int cut = 0;
	for (struct http_conn *c = s->conns; c; c = c->next) {
		if (c->cut || !conn_late(c, now, head, total))
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->cut = true;
		cut++;
	}
	if (cut) {
		log_kv(LOG_LVL_INFO, "closing connections that did not complete a request in time",
		       LF_INT("N", cut));
		srv_drive(s);
	}
}

static void
set_keepalive(int fd)
{
	/* The reference's listener enables TCP keep-alive with a 3-minute period. */
	int on = 1, period = 180;
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &period, sizeof(period));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &period, sizeof(period));
}

static void
on_connection(void *cls, struct MHD_Connection *conn, void **sctx,
	      enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	struct http_conn *c = *sctx;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (!(c = calloc(1, sizeof(*c))))
			return; /* no deadline for this one; MHD's idle timeout still applies */
		c->fd = ci ? ci->connect_fd : -1;
		c->waiting_since_ms = c->request_since_ms = adc_now_ms();
		if (c->fd >= 0)
			set_keepalive(c->fd);
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		*sctx = c;
		return;
	}
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
	*sctx = NULL;
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	/* Debug only: what a client sends must not be able to flood the journal. */
	log_kv(LOG_LVL_DEBUG, "http server", LF_STR("error", msg));
}

static int
srv_copy_opts(struct http_server *s, const struct http_server_opts *o)
{
	s->loop = o->loop;
	s->metrics = o->metrics;
	s->health = o->health;
	s->health_ctx = o->health_ctx;
	s->header_timeout_s = o->header_timeout_s ? o->header_timeout_s : 30;
	s->request_timeout_s = o->request_timeout_s ? o->request_timeout_s : 60;
	s->max_body = o->max_body_bytes ? o->max_body_bytes : 64 * 1024;
	s->token = strdup(o->management_token ? o->management_token : "");
	if (!s->token)
		return -ENOMEM;
	s->token_len = strlen(s->token);
	if (o->tls_cert_pem && o->tls_key_pem) {
		s->tls_cert = strdup(o->tls_cert_pem);
		s->tls_key = strdup(o->tls_key_pem);
		if (!s->tls_cert || !s->tls_key)
			return -ENOMEM;
	}
	return 0;
}

static void
srv_free(struct http_server *s)
{
	http_router_free(s);
	adc_free_secret_str(s->token);
	adc_free_secret_str(s->tls_key);
	free(s->tls_cert);
	free(s);
}

static struct MHD_Daemon *
srv_start_mhd(struct http_server *s, const struct http_server_opts *o)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	size_t hdr = o->max_header_bytes ? o->max_header_bytes : 16 * 1024;
	unsigned maxc = o->max_connections ? o->max_connections : 1000;
	unsigned per_ip = o->max_connections_per_ip ? o->max_connections_per_ip : (maxc + 1) / 2;
	if (o->listen_fd < 0)
		flags |= MHD_USE_NO_LISTEN_SOCKET;
	if (s->tls_cert)
		flags |= MHD_USE_TLS;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	if (o->listen_fd >= 0 && getsockname(o->listen_fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The memory pool holds the request head and the read buffer, so its size is the header
	 * limit: a larger head gets MHD's 431 (or 414 for the request line) with a reason. */
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)hdr, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, maxc, NULL },
		/* one address cannot take every slot: the rest stay for the others */
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s ? o->idle_timeout_s : 30, NULL },
		{ MHD_OPTION_LISTEN_SOCKET, o->listen_fd, NULL },
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	if (!s->tls_cert)
		opts[5].option = opts[6].option = MHD_OPTION_END;
	if (o->listen_fd < 0)
		opts[4] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, http_request_access, s, MHD_OPTION_ARRAY,
				opts, MHD_OPTION_URI_LOG_CALLBACK, http_request_begin, s,
				MHD_OPTION_NOTIFY_COMPLETED, http_request_completed, s,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_END);
}

/* Only uv_poll_init can fail before a handle is on the loop; later failures go through
 * http_server_close like any other stop. */
static int
srv_watch_init(struct http_server *s)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!di || di->epoll_fd < 0)
		return -EINVAL;
	int rc = uv_poll_init(s->loop, &s->poll, di->epoll_fd);
	if (rc < 0)
		return rc;
	s->poll.data = s;
	uv_timer_init(s->loop, &s->timer);
	s->timer.data = s;
	uv_timer_init(s->loop, &s->sweep);
	s->sweep.data = s;
	return 0;
}

static int
srv_watch_start(struct http_server *s)
{
	unsigned first = s->header_timeout_s < s->request_timeout_s ? s->header_timeout_s
								    : s->request_timeout_s;
	uint64_t every = first * 1000u / 4;
	uv_timer_start(&s->sweep, on_sweep, every ? every : 250, every ? every : 250);
	int rc = uv_poll_start(&s->poll, UV_READABLE, on_poll);
	if (rc == 0)
		srv_drive(s);
	return rc;
}

int
http_server_start(const struct http_server_opts *o, struct http_server **out)
{
	struct http_server *s = calloc(1, sizeof(*s));
	int rc = s ? srv_copy_opts(s, o) : -ENOMEM;
	rc = rc ? rc : http_front_register_builtin(s);
	if (rc == 0 && !(s->mhd = srv_start_mhd(s, o)))
		rc = -EINVAL;
	if (rc < 0) {
		/* MHD owns a listen socket it was given only once it started. */
		if (o->listen_fd >= 0)
			close(o->listen_fd);
		if (s)
			srv_free(s);
		return rc;
	}
	if ((rc = srv_watch_init(s)) < 0) {
		MHD_stop_daemon(s->mhd);
		srv_free(s);
		return rc;
	}
	if ((rc = srv_watch_start(s)) < 0) {
		http_server_close(s, NULL, NULL);
		return rc;
	}
	*out = s;
	return 0;
}

int
http_server_adopt(struct http_server *s, int fd)
{
	struct sockaddr_in6 peer = { .sin6_family = AF_INET6 };
	if (MHD_add_connection(s->mhd, fd, (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES) {
		close(fd);
		return -EINVAL;
	}
	srv_drive(s);
	return 0;
}

static void
on_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;
	if (--s->nclosing > 0)
		return;
	void (*done)(void *) = s->done;
	void *arg = s->done_arg;
	srv_free(s);
	if (done)
		done(arg);
}

int
http_server_on_close(struct http_server *s, void (*fn)(void *arg), void *arg)
{
	if (s->ncloser == HTTP_MAX_CLOSERS)
		return -ENOSPC;
	s->closers[s->ncloser].fn = fn;
	s->closers[s->ncloser].arg = arg;
	s->ncloser++;
	return 0;
}

/* Deferred requests nobody will answer now: 503, and one MHD_run to queue the responses, so
 * that MHD_stop_daemon finds no suspended connection and every request is logged and freed. */
static void
srv_finish_deferred(struct http_server *s)
{
	int n = 0;
	for (size_t i = 0; i < s->ncloser; i++)
		s->closers[i].fn(s->closers[i].arg);
	s->ncloser = 0;
	for (struct http_request *r = s->inflight; r; r = r->next) {
		/* A stream: its writer has just been closed (the closers), so a reader waiting for
		 * bytes now ends it; woken here or by the closer, MHD_run must move it off MHD's
		 * suspended list before MHD_stop_daemon. */
		if (r->stream != NULL) {
			http_stream_wake(r->stream);
			n++;
		}
		if (!r->deferred || r->resumed)
			continue;
		http_respond_error(&r->resp, 503, "server is shutting down");
		http_request_resume(r);
		n++;
	}
	if (n)
		MHD_run(s->mhd);
}

void
http_server_close(struct http_server *s, void (*done)(void *arg), void *arg)
{
	srv_finish_deferred(s);
	s->done = done;
	s->done_arg = arg;
	s->nclosing = 3;
	/* uv_close stops watching the epoll fd now, so MHD may close it below. */
	uv_close((uv_handle_t *)&s->poll, on_closed);
	uv_close((uv_handle_t *)&s->timer, on_closed);
	uv_close((uv_handle_t *)&s->sweep, on_closed);
	MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
}
