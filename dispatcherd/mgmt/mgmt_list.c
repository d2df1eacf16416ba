/* mgmt_list.c - see mgmt_list.h. Everything runs on the server's loop thread: the body's
 * reference count needs no atomics (libmicrohttpd runs without threads here). */
#include "api_json.h"
#include "mgmt_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MGMT_LIST_HEAD "{\"items\":["
#define MGMT_LIST_TAIL "]}\n"
/* A block's bytes: with its header, 256 KiB, a mapping of its own (heap_map_large_blocks), so
 * a freed block goes back to the system and only its written pages are ever resident. */
#define MGMT_BLOCK	       (256 * 1024 - 32)
#define MGMT_CACHE_MAX_DEFAULT ((uint64_t)16 << 20)
#define MGMT_WINDOW_DEFAULT    ((uint64_t)4 << 20)

struct mgmt_block {
	struct mgmt_block *next;
	size_t len;
	char data[MGMT_BLOCK];
};

/* A rendering's bytes, shared by the list (while it renders, and as the cache) and by every
 * response reading it. */
struct mgmt_body {
	int refs;
	struct mgmt_job *job; /* while its rendering runs */
	struct mgmt_block *head, *tail;
	uint64_t head_pos; /* offset of head's first byte: the blocks before it are freed */
	uint64_t len;	   /* bytes rendered so far */
	bool done, failed;
	bool streaming; /* too large to keep: blocks every reader has passed are freed */
	struct mgmt_reader *readers;
};

/* One response's read position in a body. */
struct mgmt_reader {
	struct mgmt_reader *next, **pprev;
	struct mgmt_body *b;
	struct mgmt_block *blk; /* the block holding pos, or the one it ends */
	uint64_t blk_pos;	/* offset of blk's first byte */
	uint64_t pos;
	struct http_stream *st;
	bool waiting; /* caught up with the rendering: woken when it has more */
};

struct mgmt_waiter {
	struct mgmt_waiter *next;
	struct http_request *rq;
};

/* One rendering in progress. */
struct mgmt_job {
	struct mgmt_job *next;
	struct mgmt_list *l;
	void *snap;
	size_t n, i, printed;
	struct mgmt_body *out;
	uint64_t gen, at_ms; /* the list's generation and the loop time at its snapshot */
	bool paused;	     /* streaming, waiting for its slowest reader */
	struct mgmt_waiter *waiters, **wtail;
};

static void
mgmt_body_release(struct mgmt_body *b)
{
	if (b == NULL || --b->refs > 0)
		return;
	for (struct mgmt_block *k = b->head, *next; k != NULL; k = next) {
		next = k->next;
		free(k);
	}
	free(b);
}

static struct mgmt_body *
mgmt_body_new(struct mgmt_job *job)
{
	struct mgmt_body *b = calloc(1, sizeof(*b));

	if (b != NULL) {
		b->refs = 1;
		b->job = job;
	}
	return b;
}

static int
mgmt_body_append(struct mgmt_body *b, const char *s, size_t n)
{
	while (n > 0) {
		struct mgmt_block *t = b->tail;

		if (t == NULL || t->len == MGMT_BLOCK) {
			if ((t = malloc(sizeof(*t))) == NULL)
				return -ENOMEM;
			t->next = NULL;
			t->len = 0;
			if (b->tail != NULL)
				b->tail->next = t;
			else
				b->head = t;
			b->tail = t;
		}
		size_t k = MGMT_BLOCK - t->len < n ? MGMT_BLOCK - t->len : n;

		memcpy(t->data + t->len, s, k);
		t->len += k;
		b->len += k;
		s += k;
		n -= k;
	}
	return 0;
}

/* How far behind the rendering the slowest reader is (0 without readers). */
static uint64_t
mgmt_body_lag(const struct mgmt_body *b)
{
	uint64_t lag = 0;

	for (const struct mgmt_reader *r = b->readers; r != NULL; r = r->next)
		if (b->len - r->pos > lag)
			lag = b->len - r->pos;
	return lag;
}

/* A streamed body: free the blocks every reader has passed (all but the one being written). */
static void
mgmt_body_trim(struct mgmt_body *b)
{
	uint64_t min = b->len;

	if (!b->streaming)
		return;
	for (const struct mgmt_reader *r = b->readers; r != NULL; r = r->next)
		if (r->pos < min)
			min = r->pos;
	while (b->head != b->tail && b->head_pos + b->head->len <= min) {
		struct mgmt_block *k = b->head;

		for (struct mgmt_reader *r = b->readers; r != NULL; r = r->next)
			if (r->blk == k) {
				r->blk = k->next;
				r->blk_pos += k->len;
			}
		b->head = k->next;
		b->head_pos += k->len;
		free(k);
	}
}

/* Readers that caught up get asked again: there is more, or the body ended. */
static void
mgmt_body_wake(struct mgmt_body *b)
{
	for (struct mgmt_reader *r = b->readers; r != NULL; r = r->next)
		if (r->waiting) {
			r->waiting = false;
			http_stream_wake(r->st);
		}
}

static void mgmt_list_on_idle(uv_idle_t *h);

static void
mgmt_job_run(struct mgmt_job *job)
{
	job->paused = false;
	uv_idle_start(&job->l->idle, mgmt_list_on_idle);
}

/* A streamed rendering held back for its slowest reader goes on once that reader is within
 * half the window, or gone. */
static void
mgmt_job_unpause(struct mgmt_job *job)
{
	if (job->paused && mgmt_body_lag(job->out) <= job->l->window / 2)
		mgmt_job_run(job);
}

static long
mgmt_reader_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct mgmt_reader *r = cls;
	struct mgmt_body *b = r->b;
	size_t n = 0;

	if (b->failed || pos != r->pos)
		return HTTP_STREAM_ERROR; /* MHD reads a body in order, once */
	if (pos >= b->len) {
		if (b->done)
			return HTTP_STREAM_END;
		r->waiting = true;
		return HTTP_STREAM_WAIT;
	}
	while (n < max && r->pos < b->len) {
		if (r->pos == r->blk_pos + r->blk->len) { /* then a next block exists */
			r->blk_pos += r->blk->len;
			r->blk = r->blk->next;
		}
		size_t off = (size_t)(r->pos - r->blk_pos), k = r->blk->len - off;

		if (k > max - n)
			k = max - n;
		memcpy(buf + n, r->blk->data + off, k);
		n += k;
		r->pos += k;
	}
	mgmt_body_trim(b);
	if (b->job != NULL)
		mgmt_job_unpause(b->job);
	return (long)n;
}

static void
mgmt_reader_release(void *cls)
{
	struct mgmt_reader *r = cls;
	struct mgmt_body *b = r->b;

	if ((*r->pprev = r->next) != NULL)
		r->next->pprev = r->pprev;
	free(r);
	mgmt_body_trim(b);
	/* The idle handle also stops a streamed rendering nobody reads any more. */
	if (b->job != NULL && b->job->paused)
		mgmt_job_run(b->job);
	mgmt_body_release(b);
}

/* Answer w with b: whole (its length known) or streamed as it is rendered. */
static int
mgmt_list_respond(struct http_response *w, struct mgmt_body *b)
{
	struct mgmt_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return http_respond_error(w, 500, "out of memory");
	r->b = b;
	r->blk = b->head;
	r->blk_pos = b->head_pos;
	if ((r->next = b->readers) != NULL)
		r->next->pprev = &r->next;
	r->pprev = &b->readers;
	b->readers = r;
	b->refs++;
	return http_respond_stream(w, 200, "application/json",
				   b->done ? b->len : HTTP_STREAM_LEN_UNKNOWN, mgmt_reader_read,
				   mgmt_reader_release, r, &r->st);
}

/* Answer every waiter in *list with b (500 when NULL) and empty the list. */
static void
mgmt_list_answer(struct mgmt_waiter **list, struct mgmt_body *b)
{
	struct mgmt_waiter *wt;

	while ((wt = *list) != NULL) {
		struct http_response *w = http_request_response(wt->rq);

		*list = wt->next;
		if (b != NULL)
			mgmt_list_respond(w, b);
		else
			http_respond_error(w, 500, "internal error");
		http_request_resume(wt->rq);
		free(wt);
	}
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

static bool
mgmt_list_fresh(const struct mgmt_list *l)
{
	return l->body != NULL && uv_now(l->loop) - l->body_at_ms < l->cache_ms;
}

static void
mgmt_job_free(struct mgmt_job *job)
{
	struct mgmt_list *l = job->l;
	struct mgmt_job **pp = &l->jobs;

	while (*pp != job)
		pp = &(*pp)->next;
	*pp = job->next;
	l->njobs--;
	l->src.close(l->src_ctx, job->snap);
	job->out->job = NULL;
	mgmt_body_release(job->out); /* the rendering's own reference */
	free(job);
}

/* A rendering: snapshot and first bytes; the idle handle does the rest. NULL: none started. */
static struct mgmt_job *
mgmt_job_start(struct mgmt_list *l)
{
	struct mgmt_job *job = calloc(1, sizeof(*job));

	uv_update_time(l->loop);
	if (job == NULL || (job->out = mgmt_body_new(job)) == NULL) {
		free(job);
		return NULL;
	}
	job->l = l;
	job->gen = l->gen;
	job->at_ms = uv_now(l->loop);
	job->wtail = &job->waiters;
	if (l->src.open(l->src_ctx, &job->snap, &job->n) < 0) {
		mgmt_body_release(job->out);
		free(job);
		return NULL;
	}
	job->next = l->jobs;
	l->jobs = job;
	l->njobs++;
	if (mgmt_body_append(job->out, MGMT_LIST_HEAD, strlen(MGMT_LIST_HEAD)) < 0) {
		mgmt_job_free(job);
		return NULL;
	}
	l->stats.renders++;
	mgmt_job_run(job);
	return job;
}

/* A rendering slot is free: the requests queued for one are served from a fresh cache, or get
 * a rendering together. */
static void
mgmt_list_dequeue(struct mgmt_list *l)
{
	struct mgmt_job *job;

	if (l->queued == NULL || l->njobs >= l->max_renders)
		return;
	if (mgmt_list_fresh(l)) {
		l->stats.hits++;
		mgmt_list_answer(&l->queued, l->body);
	} else if ((job = mgmt_job_start(l)) != NULL) {
		job->waiters = l->queued;
		job->wtail = l->qtail;
		l->queued = NULL;
	} else {
		mgmt_list_answer(&l->queued, NULL);
	}
	l->qtail = &l->queued;
}

/* The rendering is over: complete, or failed, or stopped (nobody reads it any more). */
static void
mgmt_job_finish(struct mgmt_job *job, bool ok)
{
	struct mgmt_list *l = job->l;
	struct mgmt_body *b = job->out;

	b->done = ok;
	b->failed = !ok;
	mgmt_body_wake(b); /* streamed readers: the end, or an error */
	/* Kept only if small enough, nothing invalidated it meanwhile, it is not too old, and no
	 * later snapshot is cached. */
	if (ok && !b->streaming && job->gen == l->gen &&
	    (l->body == NULL || l->body_at_ms <= job->at_ms)) {
		uint64_t age = uv_now(l->loop) - job->at_ms;

		mgmt_list_drop_cache(l);
		if (age < l->cache_ms) {
			b->refs++;
			l->body = b;
			l->body_at_ms = job->at_ms;
			uv_timer_start(&l->expiry, mgmt_list_on_expiry, l->cache_ms - age, 0);
		}
	}
	/* A streamed rendering answered its waiters when it started streaming. */
	mgmt_list_answer(&job->waiters, ok ? b : NULL);
	mgmt_job_free(job);
	mgmt_list_dequeue(l);
}

/* One slice: entries until the budget or slice_max is reached. */
static int
mgmt_list_slice(struct mgmt_job *job, uint64_t t0)
{
	const struct mgmt_list *l = job->l;
	size_t done = 0;

	while (job->i < job->n) {
		cJSON *e = NULL;
		int rc = l->src.entry(l->src_ctx, job->snap, job->i++, &e);

		if (rc < 0)
			return rc;
		if (e != NULL) {
			char *s = api_json_print(e);

			cJSON_Delete(e);
			if (s == NULL)
				return -ENOMEM;
			rc = job->printed ? mgmt_body_append(job->out, ",", 1) : 0;
			rc = rc ? rc : mgmt_body_append(job->out, s, strlen(s));
			cJSON_free(s);
			if (rc < 0)
				return rc;
			job->printed++;
		}
		if (job->i < job->n && (++done == l->slice_max || uv_hrtime() - t0 >= l->budget_ns))
			return 0;
	}
	return mgmt_body_append(job->out, MGMT_LIST_TAIL, strlen(MGMT_LIST_TAIL));
}

/* Too large to keep: the requests waiting get it streamed from its first byte. */
static void
mgmt_job_stream(struct mgmt_job *job)
{
	job->out->streaming = true;
	job->l->stats.streamed++;
	mgmt_list_answer(&job->waiters, job->out);
	job->wtail = &job->waiters;
}

/* One turn of one rendering; false when it paused. */
static bool
mgmt_job_turn(struct mgmt_job *job)
{
	struct mgmt_list *l = job->l;
	struct mgmt_body *b = job->out;
	int rc;

	if (b->streaming && b->readers == NULL) {
		l->stats.aborted++;
		mgmt_job_finish(job, false);
		return true;
	}
	if (b->streaming && mgmt_body_lag(b) > l->window) {
		job->paused = true;
		l->stats.pauses++;
		return false;
	}
	rc = mgmt_list_slice(job, uv_hrtime());
	l->stats.slices++;
	if (b->len - b->head_pos > l->stats.held_max)
		l->stats.held_max = b->len - b->head_pos;
	if (rc >= 0 && job->i < job->n && !b->streaming && b->len > l->cache_max)
		mgmt_job_stream(job);
	if (rc < 0)
		mgmt_job_finish(job, false);
	else if (job->i == job->n)
		mgmt_job_finish(job, true);
	else
		mgmt_body_wake(b);
	return true;
}

static void
mgmt_list_on_idle(uv_idle_t *h)
{
	struct mgmt_list *l = h->data;
	uint64_t t0 = uv_hrtime();
	bool active = false;

	/* A finished rendering may start a new one (at the head): it gets its turn next time. */
	for (struct mgmt_job *job = l->jobs, *next; job != NULL; job = next) {
		next = job->next;
		if (!job->paused && mgmt_job_turn(job))
			active = true;
	}
	for (struct mgmt_job *job = l->jobs; job != NULL && !active; job = job->next)
		active = !job->paused;
	if (!active)
		uv_idle_stop(&l->idle);
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
		.cache_max = o->cache_max ? o->cache_max : MGMT_CACHE_MAX_DEFAULT,
		.window = o->window ? o->window : MGMT_WINDOW_DEFAULT,
		.max_renders = o->max_renders ? o->max_renders : 4,
	};
	l->qtail = &l->queued;
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
	struct mgmt_job *job;

	if (l->closed)
		return http_respond_error(w, 503, "server is shutting down");
	if (mgmt_list_fresh(l)) {
		l->stats.hits++;
		return mgmt_list_respond(w, l->body);
	}
	/* A rendering that started after the last invalidation and is still kept whole. */
	for (job = l->jobs; job != NULL; job = job->next)
		if (job->gen == l->gen && !job->out->streaming)
			break;
	if (job == NULL && l->njobs < l->max_renders && (job = mgmt_job_start(l)) == NULL)
		return http_respond_error(w, 500, "internal error");
	if ((wt = calloc(1, sizeof(*wt))) == NULL)
		return http_respond_error(w, 500,
					  "out of memory"); /* a new one still fills the cache */
	wt->rq = http_request_defer(r);
	if (job != NULL) {
		*job->wtail = wt;
		job->wtail = &wt->next;
	} else {
		*l->qtail = wt;
		l->qtail = &wt->next;
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

static void
mgmt_list_forget(struct mgmt_waiter **list)
{
	struct mgmt_waiter *wt;

	while ((wt = *list) != NULL) {
		*list = wt->next;
		free(wt);
	}
}

void
mgmt_list_close(struct mgmt_list *l, void (*done)(void *), void *arg)
{
	l->closed = true;
	mgmt_list_forget(&l->queued);
	l->qtail = &l->queued;
	while (l->jobs != NULL) {
		/* Streamed readers see the error (their connections are closed, the body cut). */
		mgmt_list_forget(&l->jobs->waiters);
		l->jobs->out->failed = true;
		mgmt_body_wake(l->jobs->out);
		mgmt_job_free(l->jobs);
	}
	mgmt_list_drop_cache(l);
	l->done = done;
	l->done_arg = arg;
	l->nclosing = 2;
	uv_close((uv_handle_t *)&l->idle, mgmt_list_on_close);
	uv_close((uv_handle_t *)&l->expiry, mgmt_list_on_close);
}
