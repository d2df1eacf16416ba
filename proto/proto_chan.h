/*
 * proto_chan.h - one end of a parent/child socketpair, driven by a libuv loop.
 *
 * A uv_poll_t watches the fd: READABLE always, WRITABLE only while the send queue is not
 * empty. Received messages are checked (header, flags, direction and role via
 * proto_type_check, at most one SCM_RIGHTS fd and only with PROTO_F_FD, extra fds closed)
 * before any handler sees them; any violation closes the channel with -EPROTO.
 *
 * Requests: proto_chan_request() assigns a reqid, sends, and calls the reply callback once
 * per answer part (streamed answers, the catalogue's CLOUD_LIST_ANS and CLOUD_DESTROY_ANS, carry
 * PROTO_F_MORE on every part but the last; MORE on any other type is a violation), or once
 * with a status when the deadline passes (PROTO_E_TIMEOUT) or the channel closes
 * (PROTO_E_RETRY). An answer with an unknown reqid, or whose type is not the request's
 * partner (request type + 1), is a protocol violation.
 *
 * Deadlines live in one min-heap served by one uv_timer_t, so thousands of pending requests
 * cost O(log n) each. A request whose deadline passed is remembered for
 * PROTO_CHAN_LINGER_MS (60 s) more: an answer arriving in that time is dropped silently
 * (its fd closed), not treated as a violation. After that it would be an unknown reqid.
 *
 * Sending only queues: proto_chan_send/request never write from inside the call, so a
 * write error closes the channel later from the loop, not under the caller's feet. The queue is
 * FIFO except for PING_REQ and PING_ANS, which go ahead of every other queued message (behind
 * earlier pings): a liveness check must not wait behind thousands of queued requests or
 * answers (issue 16).
 */
#ifndef ADC_PROTO_CHAN_H
#define ADC_PROTO_CHAN_H

#include <uv.h>
#include "proto.h"

struct proto_chan;

/* An unsolicited message or a request from the peer. m->fd, if >= 0, belongs to the callee. */
typedef void (*proto_msg_cb)(struct proto_chan *ch, const struct proto_msg *m, void *arg);
/* An answer part (m != NULL, status PROTO_OK) or a failure (m == NULL, status PROTO_E_*).
 * m->fd, if >= 0, belongs to the callee. The last call for a request is the part without
 * PROTO_F_MORE or the failure. */
typedef void (*proto_reply_cb)(struct proto_chan *ch, int status, const struct proto_msg *m,
			       void *arg);
/* The channel is closed: reason 0 on EOF, -EPROTO on a violation, -errno otherwise. Called
 * once; the channel is freed after it returns. */
typedef void (*proto_closed_cb)(struct proto_chan *ch, int reason, const char *why, void *arg);

struct proto_chan_cfg {
	enum proto_dir recv_dir; /* PROTO_C2P in the parent, PROTO_P2C in a child */
	enum proto_role role;	 /* the child's role */
	proto_msg_cb on_msg;
	proto_closed_cb on_closed;
	void *arg;
};

/* Takes ownership of fd (made non-blocking, CLOEXEC). NULL on failure (fd closed). */
struct proto_chan *proto_chan_new(uv_loop_t *loop, int fd, const struct proto_chan_cfg *cfg);

/* Queue a finished message; w's buffer is consumed (freed, wiped if secret) in all cases.
 * fd >= 0 is sent with it (PROTO_F_FD is set) and closed after sending (or on failure).
 * 0 or -errno: -EINVAL (not ended, PROTO_F_FD without fd, a type this side may not send),
 * -EPIPE (closing), -ENOBUFS (send queue full), -ENOMEM. */
int proto_chan_send(struct proto_chan *ch, struct proto_wbuf *w, int fd);

/* Send a request: sets its reqid and timeout, queues it, and arranges for cb. Consumes w and
 * fd as proto_chan_send. Returns the reqid (> 0) or -errno (cb is not called then):
 * -EINVAL (no cb, timeout_ms 0, an odd type, a type this side may not send, a wbuf not
 * ended), -EPIPE (closing), -ENOBUFS (send queue full), -ENOMEM. */
int64_t proto_chan_request(struct proto_chan *ch, struct proto_wbuf *w, int fd, uint32_t timeout_ms,
			   proto_reply_cb cb, void *arg);

/* Close now: every pending request gets PROTO_E_RETRY, then on_closed(reason). Safe from
 * inside any callback; ch must not be used after on_closed returns, and the memory is
 * released by the loop (uv_close callbacks), so keep running the loop to free it. */
void proto_chan_close(struct proto_chan *ch, int reason, const char *why);

/* The send queue's cap in bytes (default 64 MiB); past it send/request give -ENOBUFS. */
void proto_chan_set_max_queue(struct proto_chan *ch, size_t bytes);

size_t proto_chan_pending(const struct proto_chan *ch);	   /* requests awaiting answers */
size_t proto_chan_queued(const struct proto_chan *ch);	   /* messages not yet written */
uint64_t proto_chan_received(const struct proto_chan *ch); /* messages received so far */

#endif
