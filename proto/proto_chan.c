/*
 * proto_chan.c - one end of a SOCK_SEQPACKET socketpair on a libuv loop.
 *
 * We do SCM_RIGHTS ourselves on a uv_poll_t (libuv's IPC pipes add their own framing and
 * carry only libuv handles). WRITABLE is asked for only while the send queue is non-empty
 * (iked imsg_event_add, ntpd). Sending never writes from inside proto_chan_send(): it only
 * queues and asks for WRITABLE, so a send error can close the channel from the poll
 * callback rather than re-entering the caller's code from inside its own call.
 *
 * Every received message is checked before a handler sees it: no truncation, at most one
 * fd and only with PROTO_F_FD, a valid header, a type allowed in this direction for this
 * role, PROTO_F_MORE only on the catalogue's streamed answer types, an answer's reqid known and its type the request's
 * partner (request type + 1). Anything else closes the channel with -EPROTO.
 *
 * Lifetime: proto_chan_close() fails the pending requests, calls on_closed once, and then
 * uv_close()s both handles; the memory goes in the last close callback, so closing from
 * inside any callback of ours is safe (we only look at ch->closing after calling out).
 */
#include "proto_chan.h"
#include "proto_pending.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROTO_CHAN_MAX_QUEUE (64u * 1024u * 1024u)
/* How long a timed-out request is remembered so its late answer is dropped quietly. */
#define PROTO_CHAN_LINGER_MS 60000u
/* Messages read per wakeup, so that one busy peer cannot starve the rest of the loop. */
#define PROTO_CHAN_READ_BURST 64

struct proto_out {
	struct proto_out *next;
	uint8_t *data;
	size_t len, cap;
	int fd;
	bool secret;
};

struct proto_chan {
	uv_loop_t *loop;
	int fd;
	uv_poll_t poll;
	uv_timer_t timer;
	struct proto_chan_cfg cfg;
	enum proto_dir send_dir;
	int poll_events;
	bool closing;
	int handles_open;
	struct proto_out *qhead, **qtail;
	/* Where the next ping goes: behind the pings already queued, ahead of everything else. */
	struct proto_out **qping;
	size_t nqueued, qbytes, qmax;
	struct proto_pend_table pend;
	size_t npending;    /* live entries, tombstones excluded */
	uint64_t nreceived; /* messages received and checked */
	uint32_t next_reqid;
	char why[192];
	uint8_t rbuf[PROTO_MAX_MSG];
};

static void proto_chan_poll_cb(uv_poll_t *h, int status, int events);

/* ---- small helpers ---- */

static void
proto_fd_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

static void
proto_out_free(struct proto_out *o)
{
	if (o->secret)
		adc_wipe(o->data, o->cap);
	free(o->data);
	proto_fd_close(o->fd);
	free(o);
}

static void
proto_chan_update_poll(struct proto_chan *ch)
{
	int ev = UV_READABLE | (ch->qhead != NULL ? UV_WRITABLE : 0);

	if (ch->closing || ev == ch->poll_events)
		return;
	if (uv_poll_start(&ch->poll, ev, proto_chan_poll_cb) == 0)
		ch->poll_events = ev;
}

static void
proto_chan_violation(struct proto_chan *ch, int fd, const char *fmt, ...)
{
	char why[sizeof(ch->why)];
	va_list ap;

	proto_fd_close(fd);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	proto_chan_close(ch, -EPROTO, why);
}

/* ---- deadlines ---- */

static void proto_chan_timer_cb(uv_timer_t *t);

static void
proto_chan_arm_timer(struct proto_chan *ch)
{
	struct proto_pend *p = proto_pend_min(&ch->pend);
	uint64_t now = uv_now(ch->loop);

	if (ch->closing)
		return;
	if (p == NULL) {
		uv_timer_stop(&ch->timer);
		return;
	}
	uv_timer_start(&ch->timer, proto_chan_timer_cb, p->deadline > now ? p->deadline - now : 0,
		       0);
}

/* A live request expires: tell its owner once, then keep a tombstone for late answers. */
static void
proto_chan_expire(struct proto_chan *ch, struct proto_pend *p, uint64_t now)
{
	proto_reply_cb cb = p->cb;
	void *arg = p->arg;

	p->expired = true;
	p->cb = NULL;
	p->arg = NULL;
	ch->npending--;
	proto_pend_set_deadline(&ch->pend, p, now + PROTO_CHAN_LINGER_MS);
	cb(ch, PROTO_E_TIMEOUT, NULL, arg);
}

static void
proto_chan_timer_cb(uv_timer_t *t)
{
	struct proto_chan *ch = t->data;
	uint64_t now = uv_now(ch->loop);
	struct proto_pend *p;

	while (!ch->closing && (p = proto_pend_min(&ch->pend)) != NULL && p->deadline <= now) {
		if (p->expired) {
			proto_pend_remove(&ch->pend, p);
			free(p);
		} else {
			proto_chan_expire(ch, p, now);
		}
	}
	proto_chan_arm_timer(ch);
}

/* ---- receiving ---- */

/* The first SCM_RIGHTS fd, or -1; every other fd is closed and counted in *nfds. */
static int
proto_chan_take_fd(struct msghdr *mh, int *nfds)
{
	int keep = -1;

	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (keep < 0)
				keep = fd;
			else
				close(fd);
			(*nfds)++;
		}
	}
	return keep;
}

static void
proto_chan_on_answer(struct proto_chan *ch, const struct proto_msg *m)
{
	struct proto_pend *p = proto_pend_find(&ch->pend, m->hdr.reqid);
	bool more = (m->hdr.flags & PROTO_F_MORE) != 0;
	proto_reply_cb cb;
	void *arg;

	if (p == NULL) {
		proto_chan_violation(ch, m->fd, "%s with unknown reqid %u",
				     proto_type_str(m->hdr.type), m->hdr.reqid);
		return;
	}
	if (m->hdr.type != p->ans_type) {
		proto_chan_violation(ch, m->fd, "%s answers reqid %u, which expects %s",
				     proto_type_str(m->hdr.type), m->hdr.reqid,
				     proto_type_str(p->ans_type));
		return;
	}
	if (p->expired) { /* late answer to a request that timed out */
		proto_fd_close(m->fd);
		if (!more) {
			proto_pend_remove(&ch->pend, p);
			free(p);
		}
		return;
	}
	if (more) { /* p stays pending; cb may close ch and free p */
		p->cb(ch, PROTO_OK, m, p->arg);
		return;
	}
	cb = p->cb;
	arg = p->arg;
	proto_pend_remove(&ch->pend, p);
	free(p);
	ch->npending--;
	proto_chan_arm_timer(ch);
	cb(ch, PROTO_OK, m, arg);
}

static void
proto_chan_dispatch(struct proto_chan *ch, const struct proto_msg *m)
{
	if (m->hdr.type & 1u) {
		proto_chan_on_answer(ch, m);
		return;
	}
	if (ch->cfg.on_msg != NULL)
		ch->cfg.on_msg(ch, m, ch->cfg.arg);
	else
		proto_fd_close(m->fd);
}

/* Check what recvmsg gave us; 0 and a filled m, or -1 after closing the channel. */
static int
proto_chan_check(struct proto_chan *ch, struct msghdr *mh, ssize_t n, struct proto_msg *m)
{
	int nfds, fd = proto_chan_take_fd(mh, &nfds);

	if (n == 0) {
		proto_fd_close(fd);
		proto_chan_close(ch, 0, "EOF");
		return -1;
	}
	if (mh->msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		proto_chan_violation(ch, fd, "truncated message (%zd bytes, flags 0x%x)", n,
				     (unsigned)mh->msg_flags);
		return -1;
	}
	if (nfds > 1) {
		proto_chan_violation(ch, fd, "%d fds in one message", nfds);
		return -1;
	}
	if (proto_hdr_parse(ch->rbuf, (size_t)n, &m->hdr) != 0) {
		proto_chan_violation(ch, fd, "bad header (%zd bytes)", n);
		return -1;
	}
	if (proto_type_check(m->hdr.type, ch->cfg.recv_dir, ch->cfg.role) != 0) {
		proto_chan_violation(ch, fd, "%s not allowed from the peer",
				     proto_type_str(m->hdr.type));
		return -1;
	}
	if ((m->hdr.flags & PROTO_F_MORE) != 0 && !proto_type_streams(m->hdr.type)) {
		/* Only a streamed answer has parts; any other answer is delivered once (its
		 * callback may free what it was given), so a second part would be used after. */
		proto_chan_violation(ch, fd, "%s with PROTO_F_MORE (not a streamed type)",
				     proto_type_str(m->hdr.type));
		return -1;
	}
	if (((m->hdr.flags & PROTO_F_FD) != 0) != (fd >= 0)) {
		proto_chan_violation(ch, fd, "%s: PROTO_F_FD %s but %s fd",
				     proto_type_str(m->hdr.type), fd >= 0 ? "clear" : "set",
				     fd >= 0 ? "an" : "no");
		return -1;
	}
	m->payload = ch->rbuf + PROTO_HDR_LEN;
	m->payload_len = (size_t)n - PROTO_HDR_LEN;
	m->fd = fd;
	return 0;
}

/* 1: a message was handled, 0: nothing more to read now, -1: the channel closed. */
static int
proto_chan_recv_one(struct proto_chan *ch)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = ch->rbuf, .iov_len = sizeof(ch->rbuf) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cm.buf,
			     .msg_controllen = sizeof(cm.buf) };
	struct proto_msg m;
	ssize_t n;

	n = recvmsg(ch->fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0) {
		int e = errno;

		if (e == EAGAIN || e == EWOULDBLOCK)
			return 0;
		if (e == EINTR)
			return 1;
		snprintf(ch->why, sizeof(ch->why), "recvmsg: %s", strerror(e));
		proto_chan_close(ch, -e, ch->why);
		return -1;
	}
	if (proto_chan_check(ch, &mh, n, &m) != 0)
		return -1;
	ch->nreceived++;
	proto_chan_dispatch(ch, &m);
	/* The payload may have carried a secret; decoders copied what they keep. */
	adc_wipe(ch->rbuf, (size_t)n);
	return ch->closing ? -1 : 1;
}

/* ---- sending ---- */

static int
proto_chan_send_one(struct proto_chan *ch, struct proto_out *o)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = o->data, .iov_len = o->len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (o->fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &o->fd, sizeof(int));
	}
	do
		n = sendmsg(ch->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == o->len ? 0 : -EIO; /* SEQPACKET sends whole records */
}

static void
proto_chan_flush(struct proto_chan *ch)
{
	struct proto_out *o;
	int r;

	while ((o = ch->qhead) != NULL) {
		if ((r = proto_chan_send_one(ch, o)) != 0) {
			if (r == -EAGAIN || r == -EWOULDBLOCK)
				return;
			snprintf(ch->why, sizeof(ch->why), "sendmsg: %s", strerror(-r));
			proto_chan_close(ch, r, ch->why);
			return;
		}
		if (ch->qping == &o->next)
			ch->qping = &ch->qhead;
		if ((ch->qhead = o->next) == NULL)
			ch->qtail = &ch->qhead;
		ch->nqueued--;
		ch->qbytes -= o->len;
		proto_out_free(o);
	}
}

/* libuv reports any POLLERR as UV_EBADF; the socket's own error says what happened (often
 * ECONNRESET: the peer closed with our messages unread). */
static void
proto_chan_poll_error(struct proto_chan *ch, int status)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(ch->fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
		status = -err;
	snprintf(ch->why, sizeof(ch->why), "poll: %s", strerror(-status));
	proto_chan_close(ch, status, ch->why);
}

static void
proto_chan_poll_cb(uv_poll_t *h, int status, int events)
{
	struct proto_chan *ch = h->data;

	if (ch->closing)
		return;
	if (status < 0) {
		proto_chan_poll_error(ch, status);
		return;
	}
	if (events & UV_READABLE)
		for (int i = 0; i < PROTO_CHAN_READ_BURST; i++)
			if (proto_chan_recv_one(ch) <= 0)
				break;
	if (!ch->closing && (events & UV_WRITABLE))
		proto_chan_flush(ch);
	proto_chan_update_poll(ch);
}

/* Check and queue w (consumed in all cases) with fd (closed on failure). */
static int
proto_chan_enqueue(struct proto_chan *ch, struct proto_wbuf *w, int fd)
{
	uint16_t flags = proto_wbuf_flags(w);
	struct proto_hdr h;
	struct proto_out *o;
	int r = 0;

	if (fd >= 0)
		proto_wbuf_set_flags(w, flags | PROTO_F_FD);
	if (ch->closing)
		r = -EPIPE;
	else if (w->err != 0 || w->data == NULL)
		r = w->err != 0 ? w->err : -EINVAL;
	else if (fd < 0 && (flags & PROTO_F_FD))
		r = -EINVAL;
	else if (proto_hdr_parse(w->data, w->len, &h) != 0 ||
		 proto_type_check(h.type, ch->send_dir, ch->cfg.role) != 0 ||
		 ((h.flags & PROTO_F_MORE) != 0 && !proto_type_streams(h.type)))
		r = -EINVAL; /* not ended, not ours to send, or parts of an unstreamed type */
	else if (ch->qbytes + w->len > ch->qmax)
		r = -ENOBUFS;
	else if ((o = calloc(1, sizeof(*o))) == NULL)
		r = -ENOMEM;
	if (r != 0) {
		proto_wbuf_free(w);
		proto_fd_close(fd);
		return r;
	}
	*o = (struct proto_out){
		.data = w->data, .len = w->len, .cap = w->cap, .fd = fd, .secret = w->secret
	};
	memset(w, 0, sizeof(*w));
	if (h.type == PROTO_PING_REQ || h.type == PROTO_PING_ANS) {
		/* A ping measures whether the peer's loop runs, not how long our backlog is: behind
		 * 10,000 queued probes sshd-pool's answer came after the parent's deadline and the
		 * parent killed a busy, healthy child (issue 16). Messages are independent records
		 * (SEQPACKET, each request matched by reqid), so reordering a ping is safe. */
		o->next = *ch->qping;
		*ch->qping = o;
		if (ch->qtail == ch->qping)
			ch->qtail = &o->next;
		ch->qping = &o->next;
	} else {
		*ch->qtail = o;
		ch->qtail = &o->next;
	}
	ch->nqueued++;
	ch->qbytes += o->len;
	proto_chan_update_poll(ch);
	return 0;
}

int
proto_chan_send(struct proto_chan *ch, struct proto_wbuf *w, int fd)
{
	return proto_chan_enqueue(ch, w, fd);
}

static uint32_t
proto_chan_next_reqid(struct proto_chan *ch)
{
	uint32_t id;

	do
		id = ch->next_reqid++;
	while (id == 0 || proto_pend_find(&ch->pend, id) != NULL);
	return id;
}

int64_t
proto_chan_request(struct proto_chan *ch, struct proto_wbuf *w, int fd, uint32_t timeout_ms,
		   proto_reply_cb cb, void *arg)
{
	struct proto_pend *p = NULL;
	int r = 0;

	if (cb == NULL || timeout_ms == 0 || w->data == NULL || w->len < PROTO_HDR_LEN ||
	    (w->data[1] & 1u) != 0) /* requests are even; the type's low byte says */
		r = -EINVAL;
	else if (ch->closing)
		r = -EPIPE;
	else if ((p = calloc(1, sizeof(*p))) == NULL)
		r = -ENOMEM;
	if (r != 0) {
		proto_wbuf_free(w);
		proto_fd_close(fd);
		return r;
	}
	*p = (struct proto_pend){ .reqid = proto_chan_next_reqid(ch),
				  .cb = cb,
				  .arg = arg,
				  .deadline = uv_now(ch->loop) + timeout_ms,
				  .ans_type = (uint16_t)(((unsigned)w->data[0] << 8 | w->data[1]) +
							 1) };
	if ((r = proto_pend_add(&ch->pend, p)) != 0) {
		free(p);
		proto_wbuf_free(w);
		proto_fd_close(fd);
		return r;
	}
	proto_wbuf_set_reqid(w, p->reqid);
	proto_wbuf_set_timeout(w, timeout_ms);
	if ((r = proto_chan_enqueue(ch, w, fd)) != 0) {
		proto_pend_remove(&ch->pend, p);
		free(p);
		return r;
	}
	ch->npending++;
	proto_chan_arm_timer(ch);
	return p->reqid;
}

/* ---- life cycle ---- */

static void
proto_chan_handle_closed(uv_handle_t *h)
{
	struct proto_chan *ch = h->data;
	struct proto_out *o;

	if (--ch->handles_open > 0)
		return;
	while ((o = ch->qhead) != NULL) {
		ch->qhead = o->next;
		proto_out_free(o);
	}
	proto_pend_fini(&ch->pend);
	proto_fd_close(ch->fd);
	free(ch);
}

static int
proto_chan_setup_fd(int fd)
{
	int fl, type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EINVAL; /* message boundaries are the framing */
	if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if ((fl = fcntl(fd, F_GETFD)) < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

struct proto_chan *
proto_chan_new(uv_loop_t *loop, int fd, const struct proto_chan_cfg *cfg)
{
	struct proto_chan *ch;

	if (cfg == NULL || (cfg->recv_dir != PROTO_P2C && cfg->recv_dir != PROTO_C2P) ||
	    proto_chan_setup_fd(fd) != 0 || (ch = calloc(1, sizeof(*ch))) == NULL) {
		proto_fd_close(fd);
		return NULL;
	}
	if (proto_pend_init(&ch->pend) != 0 || uv_poll_init(loop, &ch->poll, fd) != 0) {
		proto_pend_fini(&ch->pend);
		free(ch);
		close(fd);
		return NULL;
	}
	ch->loop = loop;
	ch->fd = fd;
	ch->cfg = *cfg;
	ch->send_dir = cfg->recv_dir == PROTO_C2P ? PROTO_P2C : PROTO_C2P;
	ch->qtail = ch->qping = &ch->qhead;
	ch->qmax = PROTO_CHAN_MAX_QUEUE;
	ch->next_reqid = 1;
	ch->poll.data = ch;
	ch->timer.data = ch;
	uv_timer_init(loop, &ch->timer); /* cannot fail on unix */
	ch->handles_open = 2;
	proto_chan_update_poll(ch);
	if (ch->poll_events == 0) {
		ch->closing = true;
		uv_close((uv_handle_t *)&ch->poll, proto_chan_handle_closed);
		uv_close((uv_handle_t *)&ch->timer, proto_chan_handle_closed);
		return NULL;
	}
	return ch;
}

/* Fail every outstanding request with PROTO_E_RETRY; tombstones are just dropped. */
static void
proto_chan_fail_pending(struct proto_chan *ch)
{
	struct proto_pend *p;

	while ((p = proto_pend_min(&ch->pend)) != NULL) {
		proto_reply_cb cb = p->cb;
		void *arg = p->arg;
		bool live = !p->expired;

		proto_pend_remove(&ch->pend, p);
		free(p);
		if (live) {
			ch->npending--;
			cb(ch, PROTO_E_RETRY, NULL, arg);
		}
	}
}

void
proto_chan_close(struct proto_chan *ch, int reason, const char *why)
{
	if (ch == NULL || ch->closing)
		return;
	ch->closing = true;
	if (why != ch->why)
		snprintf(ch->why, sizeof(ch->why), "%s", why != NULL ? why : "closed");
	uv_poll_stop(&ch->poll);
	uv_timer_stop(&ch->timer);
	proto_chan_fail_pending(ch);
	if (ch->cfg.on_closed != NULL)
		ch->cfg.on_closed(ch, reason, ch->why, ch->cfg.arg);
	uv_close((uv_handle_t *)&ch->poll, proto_chan_handle_closed);
	uv_close((uv_handle_t *)&ch->timer, proto_chan_handle_closed);
}

void
proto_chan_set_max_queue(struct proto_chan *ch, size_t bytes)
{
	ch->qmax = bytes;
}

size_t
proto_chan_pending(const struct proto_chan *ch)
{
	return ch->npending;
}

uint64_t
proto_chan_received(const struct proto_chan *ch)
{
	return ch->nreceived;
}

size_t
proto_chan_queued(const struct proto_chan *ch)
{
	return ch->nqueued;
}
