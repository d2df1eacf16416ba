/* mgmt_list.c - see mgmt_list.h. Everything runs on the server's loop thread: the body's
 * reference count needs no atomics (libmicrohttpd runs without threads here). */
#include "api_json.h"
#include "mgmt_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MGMT_LIST_HEAD "{\"items\":["
#define MGMT_LIST_TAIL "]}\n"

/* A rendered body, shared by the cache and every response still sending it. */
struct mgmt_body {
	int refs;
	size_t len, cap;
	char data[];
};

struct mgmt_waiter {
	struct mgmt_waiter *next;
	struct http_request *rq;
	uint64_t gen; /* the list's generation when the request arrived */
};

static void
mgmt_body_release(void *cls)
{
	struct mgmt_body *b = cls;

	if (b != NULL && --b->refs == 0)
		free(b);
}

/* Append to a body that is not shared yet (refs == 1); realloc may move it. */
static int
mgmt_body_append(struct mgmt_body **bp, const char *s, size_t n)
{
	struct mgmt_body *b = *bp;

	if (b == NULL || b->cap - b->len < n) {
		size_t cap = b ? b->cap : 0, len = b ? b->len : 0;

		while (cap - len < n)
			cap = cap ? cap * 2 : 64 * 1024;
		if ((b = realloc(b, sizeof(*b) + cap)) == NULL)
			return -ENOMEM;
		if (*bp == NULL)
			*b = (struct mgmt_body){ .refs = 1 };
		b->cap = cap;
		*bp = b;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	return 0;
}

static int
mgmt_list_respond(struct mgmt_list *l, struct http_response *w, struct mgmt_body *b)
{
	(void)l;
	b->refs++;
	return http_respond_shared(w, 200, "application/json", b->data, b->len, mgmt_body_release,
				   b);
}

static void
mgmt_list_drop_cache(struct mgmt_list *l)
{
	mgmt_body_release(l->body);
	l->body = NULL;
	uv_timer_stop(&l->expiry);
}

static void
mgmt_list_on_expiry(uv_timer_t *t)
{
	mgmt_list_drop_cache(t->data);
}

static void mgmt_list_on_idle(uv_idle_t *h);

/* Snapshot and first bytes; the idle handle does the rest. <0: nothing started. */
static int
mgmt_list_start(struct mgmt_list *l)
{
	int rc;

	uv_update_time(l->loop);
	l->job_gen = l->gen;
	l->job_at_ms = uv_now(l->loop);
	l->snap = NULL;
	l->n = l->i = l->printed = 0;
	l->out = NULL;
	if ((rc = l->src.open(l->src_ctx, &l->snap, &l->n)) < 0)
		return rc;
	if ((rc = mgmt_body_append(&l->out, MGMT_LIST_HEAD, strlen(MGMT_LIST_HEAD))) < 0) {
		l->src.close(l->src_ctx, l->snap);
		return rc;
	}
	l->running = true;
	l->renders++;
	return uv_idle_start(&l->idle, mgmt_list_on_idle);
}

/* Answer the waiters that arrived up to generation gen: the body, or 500 when b is NULL. */
static void
mgmt_list_answer(struct mgmt_list *l, uint64_t gen, struct mgmt_body *b)
{
	struct mgmt_waiter **pp = &l->waiters, *wt;

	while ((wt = *pp) != NULL) {
		if (wt->gen > gen) {
			pp = &wt->next;
			continue;
		}
		*pp = wt->next;
		struct http_response *w = http_request_response(wt->rq);
		if (b != NULL)
			mgmt_list_respond(l, w, b);
		else
			http_respond_error(w, 500, "internal error");
		http_request_resume(wt->rq);
		free(wt);
	}
	l->wtail = pp;
	for (wt = l->waiters; wt != NULL; wt = wt->next)
		l->wtail = &wt->next;
}

/* The rendering is over (out complete, or NULL after a failure). */
static void
mgmt_list_finish(struct mgmt_list *l, bool ok)
{
	struct mgmt_body *b = ok ? l->out : NULL;

	uv_idle_stop(&l->idle);
	l->src.close(l->src_ctx, l->snap);
	l->snap = NULL;
	l->running = false;
	if (!ok)
		mgmt_body_release(l->out);
	l->out = NULL;
	/* Cached only if nothing invalidated it meanwhile and it is not already too old. */
	if (b != NULL && l->job_gen == l->gen) {
		uint64_t age = uv_now(l->loop) - l->job_at_ms;

		mgmt_list_drop_cache(l);
		if (age < l->cache_ms) {
			b->refs++;
			l->body = b;
			l->body_at_ms = l->job_at_ms;
			uv_timer_start(&l->expiry, mgmt_list_on_expiry, l->cache_ms - age, 0);
		}
	}
	mgmt_list_answer(l, l->job_gen, b);
	mgmt_body_release(b); /* the rendering's own reference */
	/* Requests that came after an invalidation need a rendering of their own. */
	if (l->waiters != NULL && mgmt_list_start(l) < 0)
		mgmt_list_answer(l, UINT64_MAX, NULL);
}

/* One slice: entries until the budget or slice_max is reached. */
static int
mgmt_list_slice(struct mgmt_list *l, uint64_t t0)
{
	size_t done = 0;

	while (l->i < l->n) {
		cJSON *e = NULL;
		int rc = l->src.entry(l->src_ctx, l->snap, l->i++, &e);

		if (rc < 0)
			return rc;
		if (e != NULL) {
			char *s = api_json_print(e);

			cJSON_Delete(e);
			if (s == NULL)
				return -ENOMEM;
			rc = l->printed ? mgmt_body_append(&l->out, ",", 1) : 0;
			rc = rc ? rc : mgmt_body_append(&l->out, s, strlen(s));
			cJSON_free(s);
			if (rc < 0)
				return rc;
			l->printed++;
		}
		if (l->i < l->n && (++done == l->slice_max || uv_hrtime() - t0 >= l->budget_ns))
			return 0;
	}
	return mgmt_body_append(&l->out, MGMT_LIST_TAIL, strlen(MGMT_LIST_TAIL));
}

static void
mgmt_list_on_idle(uv_idle_t *h)
{
	struct mgmt_list *l = h->data;
	uint64_t t0 = uv_hrtime();
	int rc = mgmt_list_slice(l, t0);

	l->slices++;
	if (rc < 0)
		mgmt_list_finish(l, false);
	else if (l->i == l->n)
		mgmt_list_finish(l, true);
	http_server_account(l->srv, uv_hrtime() - t0);
}

int
mgmt_list_init(struct mgmt_list *l, struct http_server *srv, const struct mgmt_list_opts *o)
{
	int rc;

	*l = (struct mgmt_list){
		.loop = http_server_loop(srv),
		.srv = srv,
		.src = o->src,
		.src_ctx = o->src_ctx,
		.cache_ms = o->cache_ms,
		.budget_ns = o->budget_ns ? o->budget_ns : 1000000,
		.slice_max = o->slice_max,
	};
	l->wtail = &l->waiters;
	/* Neither fails in libuv (they only fill the struct); checked all the same, before l
	 * holds anything. */
	if ((rc = uv_idle_init(l->loop, &l->idle)) < 0 ||
	    (rc = uv_timer_init(l->loop, &l->expiry)) < 0)
		return rc;
	l->idle.data = l->expiry.data = l;
	/* The expiry timer alone must not keep the loop running. */
	uv_unref((uv_handle_t *)&l->expiry);
	return 0;
}

int
mgmt_list_serve(struct mgmt_list *l, const struct http_request *r, struct http_response *w)
{
	struct mgmt_waiter *wt;

	if (l->closed)
		return http_respond_error(w, 503, "server is shutting down");
	if (l->body != NULL && uv_now(l->loop) - l->body_at_ms < l->cache_ms) {
		l->hits++;
		return mgmt_list_respond(l, w, l->body);
	}
	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return http_respond_error(w, 500, "out of memory");
	wt->rq = http_request_defer(r);
	wt->gen = l->gen;
	*l->wtail = wt;
	l->wtail = &wt->next;
	if (!l->running) {
		int rc = mgmt_list_start(l);

		if (rc < 0) {
			/* Nobody else can be waiting: no rendering was running. */
			l->waiters = NULL;
			l->wtail = &l->waiters;
			free(wt);
			return http_respond_error(w, 500, "internal error");
		}
	}
	return HTTP_DEFER;
}

void
mgmt_list_invalidate(struct mgmt_list *l)
{
	l->gen++;
	mgmt_list_drop_cache(l);
}

static void
mgmt_list_on_close(uv_handle_t *h)
{
	struct mgmt_list *l = h->data;

	if (--l->nclosing == 0 && l->done)
		l->done(l->done_arg);
}

void
mgmt_list_close(struct mgmt_list *l, void (*done)(void *), void *arg)
{
	struct mgmt_waiter *wt;

	l->closed = true;
	while ((wt = l->waiters) != NULL) {
		l->waiters = wt->next;
		free(wt);
	}
	l->wtail = &l->waiters;
	if (l->running) {
		l->src.close(l->src_ctx, l->snap);
		mgmt_body_release(l->out);
		l->out = NULL;
		l->running = false;
	}
	mgmt_list_drop_cache(l);
	l->done = done;
	l->done_arg = arg;
	l->nclosing = 2;
	uv_close((uv_handle_t *)&l->idle, mgmt_list_on_close);
	uv_close((uv_handle_t *)&l->expiry, mgmt_list_on_close);
}
