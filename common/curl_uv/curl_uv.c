/* curl_uv.c - see curl_uv.h. */
#include "curl_uv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* One socket curl watches. Its poll handle is closed when curl loses interest, and freed in
 * the close callback: libuv may still hold it for one loop turn after curl has forgotten it. */
struct curl_uv_sock {
	uv_poll_t poll;
	curl_socket_t fd;
	struct curl_uv *cu;
	struct curl_uv_sock *prev, *next; /* live sockets (not yet closing) */
};

struct curl_uv {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct curl_uv_sock *socks;
	unsigned open_handles; /* the timer plus every poll not yet closed */
	bool closing;
	void (*closed)(void *arg);
	void *closed_arg;
};

static void
curl_uv_handle_closed(uv_handle_t *h)
{
	struct curl_uv *cu;

	if (h->type == UV_POLL) {
		struct curl_uv_sock *s = h->data;
		cu = s->cu;
		free(s);
	} else {
		cu = h->data;
	}
	if (--cu->open_handles == 0 && cu->closing) {
		void (*closed)(void *) = cu->closed;
		void *arg = cu->closed_arg;
		free(cu);
		if (closed != NULL)
			closed(arg);
	}
}

static void
curl_uv_sock_close(struct curl_uv_sock *s)
{
	struct curl_uv *cu = s->cu;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		cu->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	/* uv_close stops the watcher and drops the fd from epoll now, so a new socket that
	 * reuses the fd number can get its own poll handle at once. */
	uv_close((uv_handle_t *)&s->poll, curl_uv_handle_closed);
}

/* Hand every finished transfer back to its owner. The owner may close us meanwhile. */
static void
curl_uv_check(struct curl_uv *cu)
{
	CURLMsg *m;
	int left;

	while (!cu->closing && (m = curl_multi_info_read(cu->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *easy = m->easy_handle;
		CURLcode res = m->data.result;
		struct curl_uv_xfer *x = NULL;
		curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
		/* m is invalid after this. */
		curl_multi_remove_handle(cu->multi, easy);
		if (x != NULL && x->done != NULL)
			x->done(x, res);
	}
}

static void
curl_uv_on_poll(uv_poll_t *h, int status, int events)
{
	struct curl_uv_sock *s = h->data;
	struct curl_uv *cu = s->cu;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	/* s may be closed by curl inside this call; do not touch it afterwards. */
	curl_multi_socket_action(cu->multi, s->fd, flags, &running);
	curl_uv_check(cu);
}

static void
curl_uv_on_timeout(uv_timer_t *t)
{
	struct curl_uv *cu = t->data;
	int running;

	curl_multi_socket_action(cu->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_uv_check(cu);
}

/* CURLMOPT_TIMERFUNCTION. A 0 ms timeout also goes through the timer: calling
 * curl_multi_socket_action from inside a curl callback is not allowed. */
static int
curl_uv_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_uv *cu = userp;

	(void)multi;
	if (timeout_ms < 0)
		return uv_timer_stop(&cu->timer) == 0 ? 0 : -1;
	return uv_timer_start(&cu->timer, curl_uv_on_timeout, (uint64_t)timeout_ms, 0) == 0 ? 0
											    : -1;
}

static struct curl_uv_sock *
curl_uv_sock_new(struct curl_uv *cu, curl_socket_t fd)
{
	struct curl_uv_sock *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (uv_poll_init_socket(cu->loop, &s->poll, fd) != 0) {
		free(s);
		return NULL;
	}
	s->fd = fd;
	s->cu = cu;
	s->poll.data = s;
	s->next = cu->socks;
	if (s->next != NULL)
		s->next->prev = s;
	cu->socks = s;
	cu->open_handles++;
	if (curl_multi_assign(cu->multi, fd, s) != CURLM_OK) {
		curl_uv_sock_close(s);
		return NULL;
	}
	return s;
}

/* CURLMOPT_SOCKETFUNCTION. On REMOVE curl drops its own record of the socket right after
 * this returns, so only our handle needs closing. */
static int
curl_uv_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curl_uv *cu = userp;
	struct curl_uv_sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			curl_uv_sock_close(s);
		return 0;
	}
	if (s == NULL && (s = curl_uv_sock_new(cu, fd)) == NULL)
		return -1;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, curl_uv_on_poll) == 0 ? 0 : -1;
}

int
curl_uv_new(uv_loop_t *loop, struct curl_uv **out)
{
	struct curl_uv *cu = calloc(1, sizeof(*cu));

	*out = NULL;
	if (cu == NULL)
		return -ENOMEM;
	cu->loop = loop;
	cu->multi = curl_multi_init();
	if (cu->multi == NULL || uv_timer_init(loop, &cu->timer) != 0) {
		if (cu->multi != NULL)
			curl_multi_cleanup(cu->multi);
		free(cu);
		return -EIO;
	}
	cu->timer.data = cu;
	cu->open_handles = 1;
	if (curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, curl_uv_socket_cb) != CURLM_OK ||
	    curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu) != CURLM_OK ||
	    curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, curl_uv_timer_cb) != CURLM_OK ||
	    curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu) != CURLM_OK) {
		curl_uv_close(cu, NULL, NULL);
		return -EIO;
	}
	*out = cu;
	return 0;
}

int
curl_uv_add(struct curl_uv *cu, struct curl_uv_xfer *x)
{
	CURLMcode mc;

	if (cu->closing)
		return -ECANCELED;
	if (curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x) != CURLE_OK)
		return -EIO;
	/* curl answers through the timer callback: the transfer starts on the next loop turn. */
	mc = curl_multi_add_handle(cu->multi, x->easy);
	if (mc == CURLM_OK)
		return 0;
	return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

void
curl_uv_remove(struct curl_uv *cu, struct curl_uv_xfer *x)
{
	if (cu->multi != NULL)
		curl_multi_remove_handle(cu->multi, x->easy);
}

void
curl_uv_close(struct curl_uv *cu, void (*closed)(void *arg), void *arg)
{
	cu->closing = true;
	cu->closed = closed;
	cu->closed_arg = arg;
	uv_timer_stop(&cu->timer);
	/* Closing cached connections may call the socket callback with REMOVE. */
	curl_multi_cleanup(cu->multi);
	cu->multi = NULL;
	while (cu->socks != NULL)
		curl_uv_sock_close(cu->socks);
	uv_close((uv_handle_t *)&cu->timer, curl_uv_handle_closed);
}

bool
curl_uv_append(char **buf, size_t *len, size_t *cap, size_t max, const char *data, size_t n)
{
	if (n > max || *len > max - n)
		return false;
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 4096;
		char *p;

		while (c < *len + n + 1)
			c *= 2;
		if ((p = realloc(*buf, c)) == NULL)
			return false;
		*buf = p;
		*cap = c;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return true;
}
