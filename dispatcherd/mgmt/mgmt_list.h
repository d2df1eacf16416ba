/*
 * mgmt_list.h - one management list route (/arvados/v1/dispatch/{containers,instances}) served
 * from a cached rendering that is built in slices across loop turns.
 *
 * Why: building the JSON of 10,000 instance views (or 100,000 queue entries) in one handler
 * call kept dispatcherd's only loop busy for 43 ms (seconds for the queue) per request. Here:
 *
 *  - a request finds the body rendered less than cache_ms ago: it gets that body (shared,
 *    not copied; refcounted until libmicrohttpd has sent it);
 *  - otherwise it waits (HTTP_DEFER: its connection is suspended) for the rendering in
 *    progress, or starts one: the source takes a snapshot of what to list (open), then an
 *    idle handle prints entries (entry) for at most budget_ns (and slice_max entries) per loop
 *    turn, appending each entry's cJSON_PrintUnformatted to the body, so the bytes are those
 *    of printing the whole {"items":[...]} object at once;
 *  - at most one rendering per list runs at a time; every request waiting is answered from it;
 *  - mgmt_list_invalidate (a management action changed the data) makes the cached body unusable
 *    and makes requests arriving afterwards wait for a rendering that starts after it.
 */
#ifndef ADC_MGMT_LIST_H
#define ADC_MGMT_LIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "http_server.h"
#include "mgmt_api.h"

struct mgmt_body;
struct mgmt_waiter;

struct mgmt_list {
	uv_loop_t *loop;
	struct http_server *srv;
	uv_idle_t idle;	   /* a slice per loop turn while rendering */
	uv_timer_t expiry; /* drops the cached body when it is too old to be served */
	struct mgmt_list_src src;
	void *src_ctx;
	uint64_t cache_ms, budget_ns;
	size_t slice_max;
	/* The cached rendering. */
	struct mgmt_body *body;
	uint64_t body_at_ms; /* loop time its snapshot was taken */
	uint64_t gen;	     /* bumped by mgmt_list_invalidate */
	/* The rendering in progress. */
	bool running;
	void *snap;
	size_t n, i, printed;
	struct mgmt_body *out;
	uint64_t job_gen, job_at_ms;
	struct mgmt_waiter *waiters, **wtail;
	/* Teardown. */
	bool closed;
	int nclosing;
	void (*done)(void *);
	void *done_arg;
	/* Counters for tests and the bench. */
	uint64_t renders, slices, hits;
};

struct mgmt_list_opts {
	struct mgmt_list_src src; /* copied */
	void *src_ctx;
	uint64_t cache_ms;  /* serve a rendering this long after its snapshot */
	uint64_t budget_ns; /* loop time per slice; 0: 1 ms */
	size_t slice_max;   /* entries per slice at most; 0: no limit but the budget */
};

/* Initialise l (caller-owned memory) on the server's loop. 0 or a negative errno. */
int mgmt_list_init(struct mgmt_list *l, struct http_server *srv, const struct mgmt_list_opts *o);
/* The route handler's body: answers now (0, or the http_respond_* result) or returns
 * HTTP_DEFER. */
int mgmt_list_serve(struct mgmt_list *l, const struct http_request *r, struct http_response *w);
/* The data changed in a way a client must see at once (a management action). */
void mgmt_list_invalidate(struct mgmt_list *l);
/* Forget waiting requests (the server answers them), drop the rendering and the cache, close
 * the handles; done(arg) once they are closed. A request served afterwards gets a 503. */
void mgmt_list_close(struct mgmt_list *l, void (*done)(void *), void *arg);

#endif
