/*
 * sess_cmd.c - one command on one channel: queue, open, exec, stream stdin, collect output.
 *
 * Output arrives through libssh channel callbacks, which run inside whatever libssh call processes
 * packets (for any channel); they only record bytes and flags. Completion is decided by
 * sess_cmd_step, and user callbacks run from sess_drain_done, never inside libssh.
 */
#include "sess_internal.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define SESS_CHUNK (64u * 1024u)

void
sess_cmd_move(struct sess_cmd *c, struct sess_cmdq *q)
{
	if (c->where != NULL)
		TAILQ_REMOVE(c->where, c, link);
	if (c->where == &c->s->active)
		c->s->nactive--;
	c->where = q;
	if (q != NULL)
		TAILQ_INSERT_TAIL(q, c, link);
	if (q == &c->s->active)
		c->s->nactive++;
}

void
sess_cmd_keep(uint8_t **buf, size_t *len, size_t *cap, bool *trunc, size_t max, const uint8_t *data,
	      size_t n)
{
	size_t room = max > *len ? max - *len : 0;

	if (n > room) {
		*trunc = true;
		n = room;
	}
	if (n == 0)
		return;
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap : 1024;
		uint8_t *p;

		while (ncap < *len + n + 1)
			ncap *= 2;
		if ((p = realloc(*buf, ncap)) == NULL) {
			*trunc = true;
			return;
		}
		*buf = p;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static int
sess_cmd_on_data(ssh_session ssh, ssh_channel ch, void *data, uint32_t len, int is_stderr,
		 void *arg)
{
	struct sess_cmd *c = arg;
	const struct sess_opts *o = &c->s->pool->o;

	(void)ssh;
	(void)ch;
	if (is_stderr)
		sess_cmd_keep(&c->res.err, &c->res.err_len, &c->err_cap, &c->res.err_truncated,
			      o->max_stderr, data, len);
	else
		sess_cmd_keep(&c->res.out, &c->res.out_len, &c->out_cap, &c->res.out_truncated,
			      o->max_stdout, data, len);
	return (int)len; /* all consumed, so libssh keeps the window open */
}

static void
sess_cmd_on_eof(ssh_session ssh, ssh_channel ch, void *arg)
{
	(void)ssh;
	(void)ch;
	((struct sess_cmd *)arg)->got_eof = true;
}

static void
sess_cmd_on_close(ssh_session ssh, ssh_channel ch, void *arg)
{
	(void)ssh;
	(void)ch;
	((struct sess_cmd *)arg)->got_close = true;
}

static void
sess_cmd_on_exit(ssh_session ssh, ssh_channel ch, int status, void *arg)
{
	struct sess_cmd *c = arg;

	(void)ssh;
	(void)ch;
	c->res.exit_status = status;
	c->got_exit = true;
}

static void
sess_cmd_on_signal(ssh_session ssh, ssh_channel ch, const char *sig, int core, const char *msg,
		   const char *lang, void *arg)
{
	struct sess_cmd *c = arg;

	(void)ssh, (void)ch, (void)core, (void)msg, (void)lang;
	snprintf(c->res.exit_signal, sizeof(c->res.exit_signal), "%s", sig ? sig : "?");
	c->res.exit_status = -1;
	c->got_exit = true;
}

void
sess_cmd_detach(struct sess_cmd *c)
{
	if (c->ch == NULL)
		return;
	ssh_remove_channel_callbacks(c->ch, &c->cbs);
	/* A channel of a live connection is closed and freed now; a dead connection's channels go
	 * with its ssh_free. */
	if (c->s->conn != NULL && !sess_conn_dead(c->s->conn)) {
		if (c->st >= SC_EXEC)
			ssh_channel_close(c->ch);
		ssh_channel_free(c->ch);
	}
	c->ch = NULL;
}

int
sess_cmd_begin(struct sess_cmd *c)
{
	struct sess_conn *conn = c->s->conn;

	c->ch = ssh_channel_new(conn->ssh);
	if (c->ch == NULL)
		return -ENOMEM;
	memset(&c->cbs, 0, sizeof(c->cbs));
	c->cbs.userdata = c;
	c->cbs.channel_data_function = sess_cmd_on_data;
	c->cbs.channel_eof_function = sess_cmd_on_eof;
	c->cbs.channel_close_function = sess_cmd_on_close;
	c->cbs.channel_exit_status_function = sess_cmd_on_exit;
	c->cbs.channel_exit_signal_function = sess_cmd_on_signal;
	ssh_callbacks_init(&c->cbs);
	ssh_set_channel_callbacks(c->ch, &c->cbs);
	free(c->res.host_key);
	c->res.host_key = conn->host_key ? strdup(conn->host_key) : NULL;
	c->st = SC_OPENING;
	sess_cmd_move(c, &c->s->active);
	return 0;
}

/* Next stdin bytes, or NULL at EOF; <0 through *err on a read error. */
static const uint8_t *
sess_cmd_input(struct sess_cmd *c, size_t max, size_t *n, int *err)
{
	*err = 0;
	if (c->in_fd < 0) {
		*n = c->in_len - c->in_off < max ? c->in_len - c->in_off : max;
		return *n ? c->in + c->in_off : NULL;
	}
	if (c->chunk_off == c->chunk_len) {
		ssize_t r;

		if (c->chunk == NULL && (c->chunk = malloc(SESS_CHUNK)) == NULL) {
			*err = -ENOMEM;
			return NULL;
		}
		/* A regular file (checked at sess_exec): this read does not wait on anything remote.
		 * pread at this stream's own offset: every dup of one runner fd shares one file
		 * offset, so read() would interleave the chunks of concurrent deploys. */
		do
			r = pread(c->in_fd, c->chunk, SESS_CHUNK, (off_t)c->in_off);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			*err = -errno;
			return NULL;
		}
		c->in_off += (size_t)r;
		c->chunk_len = (size_t)r;
		c->chunk_off = 0;
		if (r == 0)
			return NULL;
	}
	*n = c->chunk_len - c->chunk_off < max ? c->chunk_len - c->chunk_off : max;
	return c->chunk + c->chunk_off;
}

/* Write what the window and libssh's output buffer allow; EOF once stdin is exhausted. */
static int
sess_cmd_write(struct sess_cmd *c)
{
	ssh_session ssh = c->s->conn->ssh;

	while (!c->eof_sent && !c->got_close) {
		uint32_t win = ssh_channel_window_size(c->ch);
		const uint8_t *p;
		size_t n;
		int err, w;

		if ((ssh_get_poll_flags(ssh) & SSH_WRITE_PENDING) || win == 0)
			return 0; /* back-pressure: the socket or the peer's window is full */
		p = sess_cmd_input(c, win < SESS_CHUNK ? win : SESS_CHUNK, &n, &err);
		if (err < 0) {
			sess_cmd_fail(c, err, "reading the stdin file: %s", strerror(-err));
			return err;
		}
		if (p == NULL) {
			if (ssh_channel_send_eof(c->ch) != SSH_OK && sess_conn_dead(c->s->conn))
				return -ECONNRESET;
			c->eof_sent = c->in_done = true;
			return 0;
		}
		w = ssh_channel_write(c->ch, p, (uint32_t)n);
		if (w < 0)
			return sess_conn_dead(c->s->conn)
				       ? -ECONNRESET
				       : (sess_cmd_fail(c, -EPROTO, "writing stdin: %s",
							ssh_get_error(ssh)),
					  -EPROTO);
		if (c->in_fd < 0)
			c->in_off += (size_t)w;
		else
			c->chunk_off += (size_t)w;
		if (w == 0)
			return 0;
	}
	return 0;
}

static void
sess_cmd_complete(struct sess_cmd *c)
{
	if (!c->got_exit) {
		sess_cmd_fail(c, -EPROTO, "the channel closed without an exit status");
		return;
	}
	sess_cmd_detach(c);
	c->st = SC_FINISHED;
	c->res.status = 0;
	sess_cmd_move(c, &c->s->done);
}

void
sess_cmd_step(struct sess_cmd *c)
{
	ssh_session ssh = c->s->conn->ssh;
	int rc;

	if (c->st == SC_OPENING) {
		rc = ssh_channel_open_session(c->ch);
		if (rc == SSH_AGAIN || (rc != SSH_OK && sess_conn_dead(c->s->conn)))
			return; /* a dead connection is handled by the session */
		if (rc != SSH_OK) {
			sess_cmd_fail(c, -EPROTO, "cannot open a channel: %s", ssh_get_error(ssh));
			return;
		}
		c->s->stats.channels++;
		c->st = SC_EXEC;
	}
	if (c->st == SC_EXEC) {
		rc = ssh_channel_request_exec(c->ch, c->command);
		if (rc == SSH_AGAIN || (rc != SSH_OK && sess_conn_dead(c->s->conn)))
			return;
		if (rc != SSH_OK) {
			sess_cmd_fail(c, -EPROTO, "exec request refused: %s", ssh_get_error(ssh));
			return;
		}
		c->st = SC_IO;
	}
	if (c->st != SC_IO || sess_cmd_write(c) < 0 || c->where != &c->s->active)
		return;
	if (c->got_close || (c->got_eof && c->got_exit))
		sess_cmd_complete(c);
}

static void
sess_cmd_vfail(struct sess_cmd *c, int err, const char *fmt, va_list ap)
{
	sess_cmd_detach(c);
	c->st = SC_FINISHED;
	c->res.status = err;
	vsnprintf(c->res.error, sizeof(c->res.error), fmt, ap);
	sess_cmd_move(c, &c->s->done);
}

void
sess_cmd_fail(struct sess_cmd *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sess_cmd_vfail(c, err, fmt, ap);
	va_end(ap);
}

void
sess_fail_all(struct sess *s, struct sess_cmdq *q, int err, const char *fmt, ...)
{
	struct sess_cmd *c;

	while ((c = TAILQ_FIRST(q)) != NULL) {
		va_list ap;

		va_start(ap, fmt);
		sess_cmd_vfail(c, err, fmt, ap);
		va_end(ap);
	}
	(void)s;
}

static void
sess_cmd_freed(uv_handle_t *h)
{
	struct sess_cmd *c = h->data;
	struct sess_pool *p = c->s->pool;
	struct sess *s = c->s;

	free(c);
	sess_pool_unref(p);    /* the command's reference; the session still holds the pool */
	sess_handle_closed(s); /* may free the session, and then the pool */
}

static void
sess_cmd_free_result(struct sess_result *r)
{
	free(r->out);
	free(r->err);
	free(r->host_key);
}

/* Run the callbacks of finished commands, oldest first. A callback may queue more commands or
 * close the session; the session's memory stays valid until its handles are closed. */
void
sess_drain_done(struct sess *s)
{
	struct sess_cmd *c;

	while ((c = TAILQ_FIRST(&s->done)) != NULL) {
		sess_cmd_move(c, NULL);
		uv_timer_stop(&c->timer);
		c->cb(&c->res, c->arg);
		sess_cmd_free_result(&c->res);
		if (c->in != NULL) {
			adc_wipe(c->in, c->in_len); /* may be a config payload with tokens */
			free(c->in);
		}
		free(c->chunk);
		free(c->command);
		if (c->in_fd >= 0)
			close(c->in_fd);
		uv_close((uv_handle_t *)&c->timer, sess_cmd_freed);
	}
}

static void
sess_cmd_on_timeout(uv_timer_t *t)
{
	struct sess_cmd *c = t->data;
	struct sess *s = c->s;

	if (c->st == SC_QUEUED)
		sess_cmd_fail(c, -ETIMEDOUT,
			      "timed out after %llu ms waiting for the connection to "
			      "%s:%d (%s%s%s)",
			      (unsigned long long)c->timeout_ms, s->address, s->port, sess_state(s),
			      s->last_error ? ", last error: " : "",
			      s->last_error ? s->last_error : "");
	else
		sess_cmd_fail(c, -ETIMEDOUT, "command timed out after %llu ms",
			      (unsigned long long)c->timeout_ms);
	sess_drain_done(s);
	sess_kick(s); /* a channel slot may be free now */
}

static int
sess_cmd_set_input(struct sess_cmd *c, const struct sess_input *in)
{
	struct stat st;

	c->in_fd = -1;
	if (in == NULL)
		return 0;
	if (in->fd >= 0) {
		/* Only regular files: their reads never wait on a peer, so the loop never blocks. */
		if (fstat(in->fd, &st) != 0 || !S_ISREG(st.st_mode))
			return -EBADF;
		if ((c->in_fd = fcntl(in->fd, F_DUPFD_CLOEXEC, 3)) < 0)
			return -errno;
		c->in_off = 0; /* streamed from the start, by pread (never the shared offset) */
		return 0;
	}
	if (in->len > 0) {
		if ((c->in = malloc(in->len)) == NULL)
			return -ENOMEM;
		memcpy(c->in, in->data, in->len);
		c->in_len = in->len;
	}
	return 0;
}

int
sess_exec(struct sess *s, const char *command, const struct sess_input *in, uint64_t timeout_ms,
	  unsigned flags, sess_done_cb cb, void *arg)
{
	struct sess_cmd *c;
	int r;

	if (s->closing || command == NULL || cb == NULL)
		return -EINVAL;
	if (s->pin == NULL && !(flags & SESS_EXEC_UNPINNED))
		return -EPERM;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->s = s;
	c->res.exit_status = -1;
	if ((r = sess_cmd_set_input(c, in)) != 0 || (c->command = strdup(command)) == NULL) {
		if (c->in_fd >= 0)
			close(c->in_fd);
		free(c->in);
		free(c);
		return r ? r : -ENOMEM;
	}
	c->timeout_ms = timeout_ms ? timeout_ms : s->pool->o.command_timeout_ms;
	c->flags = flags;
	c->cb = cb;
	c->arg = arg;
	uv_timer_init(s->pool->loop, &c->timer);
	c->timer.data = c;
	s->handles++;
	s->pool->live++;
	uv_timer_start(&c->timer, sess_cmd_on_timeout, c->timeout_ms, 0);
	sess_cmd_move(c, &s->queue);
	sess_kick(s);
	return 0;
}
