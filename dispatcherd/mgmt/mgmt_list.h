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
 *  - requests arriving during a rendering that is not streaming (below) wait for it and are
 *    all answered from it;
 *  - mgmt_list_invalidate (a management action changed the data) makes the cached body unusable
 *    and makes requests arriving afterwards wait for a rendering that starts after it;
 *  - the body is a chain of blocks. A rendering that grows past cache_max (100,000 queued
 *    containers are ~150 MB of JSON) is not kept: the requests waiting for it are answered at
 *    once with a streamed body (no Content-Length, chunked) that reads the blocks as they are
 *    rendered, each block is freed when every reader has passed it, the rendering pauses
 *    while its slowest reader is more than window bytes behind, and it stops when every
 *    reader has gone. A request arriving meanwhile starts a rendering of its own, so a client
 *    that stops reading holds back only the rendering it reads;
 *  - at most max_renders renderings per list run at once (more requests wait for one to end),
 *    each holding at most about cache_max + window bytes, whatever the list's size.
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
struct mgmt_job;
struct mgmt_waiter;

/* Counters for tests and the bench. */
struct mgmt_list_stats {
	uint64_t renders, slices, hits;
	uint64_t streamed; /* renderings too large to keep, streamed to their requests */
	uint64_t pauses;   /* slices held back for a reader more than window bytes behind */
	uint64_t aborted;  /* streamed renderings stopped because every reader had gone */
	uint64_t held_max; /* most bytes a rendering held in blocks at once */
};

struct mgmt_list {
	uv_loop_t *loop;
	struct http_server *srv;
	uv_idle_t idle;	   /* a slice of each running rendering per loop turn */
	uv_timer_t expiry; /* drops the cached body when it is too old to be served */
	struct mgmt_list_src src;
	void *src_ctx;
	uint64_t cache_ms, budget_ns;
	size_t slice_max;
	uint64_t cache_max, window;
	unsigned max_renders;
	/* The cached rendering. */
	struct mgmt_body *body;
	uint64_t body_at_ms; /* loop time its snapshot was taken */
	uint64_t gen;	     /* bumped by mgmt_list_invalidate */
	/* The renderings in progress, and the requests waiting for a rendering to start. */
	struct mgmt_job *jobs;
	unsigned njobs;
	struct mgmt_waiter *queued, **qtail;
	/* Teardown. */
	bool closed;
	int nclosing;
	void (*done)(void *);
	void *done_arg;
	struct mgmt_list_stats stats;
};

struct mgmt_list_opts {
	struct mgmt_list_src src; /* copied */
	void *src_ctx;
	uint64_t cache_ms;    /* serve a rendering this long after its snapshot */
	uint64_t budget_ns;   /* loop time per slice; 0: 1 ms */
	size_t slice_max;     /* entries per slice at most; 0: no limit but the budget */
	uint64_t cache_max;   /* a rendering larger than this is streamed, not kept; 0: 16 MiB */
	uint64_t window;      /* how far a streamed rendering may run ahead of a reader; 0: 4 MiB */
	unsigned max_renders; /* renderings at once; 0: 4 */
};

/* Initialise l (caller-owned memory) on the server's loop. 0 or a negative errno. */
int mgmt_list_init(struct mgmt_list *l, struct http_server *srv, const struct mgmt_list_opts *o);
/* The route handler's body: answers now (0, or the http_respond_* result) or returns
 * HTTP_DEFER. */
int mgmt_list_serve(struct mgmt_list *l, const struct http_request *r, struct http_response *w);
/* The data changed in a way a client must see at once (a management action). */
void mgmt_list_invalidate(struct mgmt_list *l);
/* Forget waiting requests (the server answers them), drop the renderings (streamed bodies are
 * cut) and the cache, close the handles; done(arg) once they are closed. A request served afterwards gets a 503. */
void mgmt_list_close(struct mgmt_list *l, void (*done)(void *), void *arg);

#endif
