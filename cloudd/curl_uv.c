/* curl_uv.c - libcurl multi on libuv: socket callbacks map to uv_poll, the timer to uv_timer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "curl_uv.h"

struct cu {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	size_t active;
	int closing;
};

struct cu_req {
	struct cu *cu;
	CURL *easy;
	struct curl_slist *headers;
	cu_done_cb cb;
	void *arg;
	char *buf;
	size_t len, cap, max;
	int too_large;
	double retry_after;
	char errbuf[CURL_ERROR_SIZE];
};

/* One per socket curl watches; freed through uv_close. */
struct cu_sock {
	uv_poll_t poll;
	struct cu *cu;
	curl_socket_t fd;
};

static void
cu_check_done(struct cu *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct cu_req *r = NULL;
		struct cu_result res;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		memset(&res, 0, sizeof(res));
		res.curl_code = r->too_large ? CU_TOO_LARGE : (int)m->data.result;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &res.http_status);
		res.body = r->buf ? r->buf : "";
		res.body_len = r->len;
		res.retry_after_s = r->retry_after;
		res.easy = r->easy;
		if (r->too_large)
			res.error = "answer larger than the allowed maximum";
		else if (m->data.result != CURLE_OK)
			res.error = r->errbuf[0] ? r->errbuf : curl_easy_strerror(m->data.result);
		else
			res.error = "";
		curl_multi_remove_handle(c->multi, r->easy);
		c->active--;
		r->cb(r->arg, &res);
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		free(r->buf);
		free(r);
	}
}

static void
cu_on_poll(uv_poll_t *h, int status, int events)
{
	struct cu_sock *s = h->data;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->cu->multi, s->fd, flags, &running);
	cu_check_done(s->cu);
}

static void
cu_on_timer(uv_timer_t *t)
{
	struct cu *c = t->data;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	cu_check_done(c);
}

static void
cu_sock_closed(uv_handle_t *h)
{
	free(h->data);
}

static int
cu_socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct cu *c = userp;
	struct cu_sock *s = sockp;
	int ev = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, cu_sock_closed);
			curl_multi_assign(c->multi, fd, NULL);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->cu = c;
		s->fd = fd;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		curl_multi_assign(c->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		ev |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&s->poll, ev, cu_on_poll);
	return 0;
}

static int
cu_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct cu *c = userp;

	(void)m;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, cu_on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

int
cu_new(uv_loop_t *loop, struct cu **out)
{
	struct cu *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->multi = curl_multi_init();
	if (!c->multi) {
		free(c);
		return -ENOMEM;
	}
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, cu_socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, cu_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	*out = c;
	return 0;
}

static void
cu_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void
cu_free(struct cu *c)
{
	if (!c)
		return;
	curl_multi_cleanup(c->multi);
	uv_close((uv_handle_t *)&c->timer, cu_timer_closed);
}

size_t
cu_active(const struct cu *c)
{
	return c->active;
}

static size_t
cu_write(char *p, size_t sz, size_t n, void *arg)
{
	struct cu_req *r = arg;
	size_t add = sz * n;

	if (r->len + add > r->max) {
		r->too_large = 1;
		return 0; /* makes curl fail the transfer: memory stays bounded */
	}
	if (r->len + add + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *nb;

		while (cap < r->len + add + 1)
			cap *= 2;
		nb = realloc(r->buf, cap);
		if (!nb)
			return 0;
		r->buf = nb;
		r->cap = cap;
	}
	memcpy(r->buf + r->len, p, add);
	r->len += add;
	r->buf[r->len] = 0;
	return add;
}

/* Only Retry-After is read (seconds form); the rest of the headers are not needed. */
static size_t
cu_header(char *p, size_t sz, size_t n, void *arg)
{
	struct cu_req *r = arg;
	size_t len = sz * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		char tmp[32];
		size_t vl = len - (sizeof(name) - 1);
		char *end;
		double v;

		if (vl >= sizeof(tmp))
			vl = sizeof(tmp) - 1;
		memcpy(tmp, p + sizeof(name) - 1, vl);
		tmp[vl] = 0;
		v = strtod(tmp, &end);
		if (end != tmp && v >= 0)
			r->retry_after = v;
	}
	return len;
}

int
cu_start(struct cu *c, CURL *easy, struct curl_slist *headers, size_t max_body, cu_done_cb cb,
	 void *arg)
{
	struct cu_req *r = calloc(1, sizeof(*r));

	if (!r) {
		curl_easy_cleanup(easy);
		curl_slist_free_all(headers);
		return -ENOMEM;
	}
	r->cu = c;
	r->easy = easy;
	r->headers = headers;
	r->cb = cb;
	r->arg = arg;
	r->max = max_body;
	r->retry_after = -1;
	if (headers)
		curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cu_write);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, cu_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	if (curl_multi_add_handle(c->multi, easy) != CURLM_OK) {
		curl_easy_cleanup(easy);
		curl_slist_free_all(headers);
		free(r);
		return -EIO;
	}
	c->active++;
	return 0;
}
