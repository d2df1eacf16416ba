/*
 * fuzz_proto_chan.c - libFuzzer target: what a compromised cloudd can write to the parent's
 * channel (proto/proto_chan.c), as a sequence of SOCK_SEQPACKET packets on a real socketpair,
 * against a parent that has requests pending: a streamed one (CLOUD_LIST), one-answer ones
 * (CLOUD_CREATE, CLOUD_TAGS, PING). The channel's checks (header, flags, direction, role,
 * reqid, the partner type, MORE only on streamed answers) decide what reaches the callbacks.
 *
 * The property the parent's callers rely on (issue 12, defect 1: a create answer delivered
 * twice freed its context twice): every request's callback is called until its last call (an
 * answer without MORE, or a failure) and never after it; after the channel closes, every
 * request has had its last call exactly once, and a request whose answer does not stream has
 * had exactly one call.
 *
 * Input: records. A record whose first byte has the top bit set is a raw packet (next byte:
 * length, then the bytes). Otherwise 4 bytes build a header for one of the pending requests
 * (byte 0: answer type, byte 1: flags, byte 2: which request's reqid, or a stray one; byte
 * 3: payload length) followed by the payload.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "proto.h"
#include "proto_chan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NREQ 4

struct req {
	uint32_t reqid;
	int calls, finals;
};

static uv_loop_t loop;
static bool closed;

static void
on_msg(struct proto_chan *ch, const struct proto_msg *m, void *arg)
{
	(void)ch;
	(void)arg;
	if (m->fd >= 0)
		close(m->fd);
}

static void
on_closed(struct proto_chan *ch, int reason, const char *why, void *arg)
{
	(void)ch;
	(void)reason;
	(void)why;
	(void)arg;
	closed = true;
}

static void
on_reply(struct proto_chan *ch, int status, const struct proto_msg *m, void *arg)
{
	struct req *r = arg;

	(void)ch;
	if (r->finals > 0)
		abort(); /* a call after the last one: the caller's context is gone */
	r->calls++;
	if (m && m->fd >= 0)
		close(m->fd);
	if (!m || status != PROTO_OK || !(m->hdr.flags & PROTO_F_MORE))
		r->finals++;
}

static void
drain(int fd)
{
	static uint8_t sink[PROTO_MAX_MSG];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint16_t req_types[NREQ] = { PROTO_CLOUD_LIST_REQ, PROTO_CLOUD_CREATE_REQ,
						  PROTO_CLOUD_TAGS_REQ, PROTO_PING_REQ };
	static uint8_t pkt[PROTO_MAX_MSG];
	struct proto_chan_cfg cfg = { .recv_dir = PROTO_C2P,
				      .role = PROTO_ROLE_CLOUDD,
				      .on_msg = on_msg,
				      .on_closed = on_closed };
	struct req reqs[NREQ] = { 0 };
	struct proto_chan *ch;
	const uint8_t *p = data, *end = data + size;
	int sv[2];

	if (loop.data == NULL) {
		uv_loop_init(&loop);
		loop.data = &loop;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	closed = false;
	if ((ch = proto_chan_new(&loop, sv[0], &cfg)) == NULL)
		abort();
	for (int i = 0; i < NREQ; i++) {
		struct proto_wbuf w;
		int64_t id;

		if (proto_wbuf_begin(&w, req_types[i], 0, 0, 0) != 0 || proto_wbuf_end(&w) != 0)
			abort();
		if ((id = proto_chan_request(ch, &w, -1, 600000, on_reply, &reqs[i])) <= 0)
			abort();
		reqs[i].reqid = (uint32_t)id;
	}
	uv_run(&loop, UV_RUN_NOWAIT); /* the requests go out */
	drain(sv[1]);
	while (p < end && !closed) {
		size_t n, len;

		if (*p & 0x80) {
			n = end - p >= 2 ? p[1] : 0;
			p += end - p >= 2 ? 2 : 1;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			if (send(sv[1], n ? p : pkt, n, MSG_DONTWAIT) < 0)
				break; /* the parent stopped reading (closed, or its queue is full) */
			p += n;
		} else if (end - p >= 4) {
			struct proto_wbuf w;
			uint16_t type = (uint16_t)(p[0] & 0x3f);
			uint32_t reqid = p[2] < 0xf0 ? reqs[p[2] % NREQ].reqid : p[2];

			n = p[3] < (size_t)(end - p - 4) ? p[3] : (size_t)(end - p - 4);
			if (proto_wbuf_begin(&w, type, p[1] & PROTO_F_MORE, reqid, 0) != 0)
				abort();
			proto_put_bytes(&w, p + 4, n);
			if (proto_wbuf_end(&w) != 0)
				abort();
			len = w.len;
			memcpy(pkt, w.data, len);
			proto_wbuf_free(&w);
			if (send(sv[1], pkt, len, MSG_DONTWAIT) < 0)
				break;
			p += 4 + n;
		} else {
			break;
		}
		uv_run(&loop, UV_RUN_NOWAIT);
		drain(sv[1]);
	}
	if (!closed)
		proto_chan_close(ch, 0, "fuzz: done");
	while (!closed || uv_loop_alive(&loop))
		uv_run(&loop, UV_RUN_NOWAIT);
	/* Exactly one last call each; and one call in all for the answers that do not stream,
	 * since their callers free their context on the first (cloudc.c). */
	for (int i = 0; i < NREQ; i++)
		if (reqs[i].finals != 1 ||
		    (!proto_type_streams((uint16_t)(req_types[i] + 1)) && reqs[i].calls != 1))
			abort();
	close(sv[1]);
	return 0;
}
