/*
 * mgmt_api.h - the dispatcher's management routes (spec/dispatcher.md 7.2) on an http_server.
 *
 * The data comes from providers the scheduler and the worker pool implement later. A NULL
 * provider answers as an empty queue and an empty pool would: `{"items":[]}` (never null,
 * design decision), and 404 for any container or instance.
 */
#ifndef ADC_MGMT_API_H
#define ADC_MGMT_API_H

#include <cjson/cJSON.h>

#include "http_server.h"

/* Positive outcomes of the providers; negative values are errno-style failures (500). */
#define MGMT_NOT_FOUND 1

enum mgmt_instance_action { MGMT_HOLD = 0, MGMT_DRAIN, MGMT_RUN, MGMT_KILL };

/* A list rendered incrementally (mgmt_list.h): open takes a snapshot of what to list (*n
 * entries; *snap is the source's until close), entry builds entry i of it as the one-shot
 * list would hold it (*out NULL: skip it, it is gone since the snapshot), close frees the
 * snapshot. open runs in one loop turn, so it should copy keys, not render; entry runs in
 * later turns, so it must not keep pointers into data that may change in between.
 * Negative errno-style returns are failures (500). */
struct mgmt_list_src {
	int (*open)(void *ctx, void **snap, size_t *n);
	int (*entry)(void *ctx, void *snap, size_t i, cJSON **out);
	void (*close)(void *ctx, void *snap);
};

struct mgmt_providers {
	void *ctx;
	/* Queue entries in scheduler order (7.2 "Queue entry object"). *items: a cJSON array the
	 * caller frees; NULL means "no scheduling pass yet" and is sent as []. */
	int (*list_containers)(void *ctx, cJSON **items);
	/* One queue entry; MGMT_NOT_FOUND when the scheduler does not know the uuid. */
	int (*get_container)(void *ctx, const char *uuid, cJSON **entry);
	/* Start the kill series of 5.11; reason is already "via management API: <reason>"
	 * (the route builds it). MGMT_NOT_FOUND when no worker runs it. */
	int (*kill_container)(void *ctx, const char *uuid, const char *reason);
	/* Instance views (5.1); NULL *items is sent as []. */
	int (*list_instances)(void *ctx, cJSON **items);
	/* hold/drain/run/kill; MGMT_NOT_FOUND when the instance does not exist. reason is ""
	 * except for kill, where it is already "via management API: <reason>". */
	int (*instance_action)(void *ctx, enum mgmt_instance_action a, const char *instance_id,
			       const char *reason);
	/* Optional incremental forms of list_containers and list_instances (ctx is ctx), used
	 * instead of them when open is set. Without them the one-shot list is built in one turn
	 * and only its printing is sliced. */
	struct mgmt_list_src containers_src, instances_src;
};

struct mgmt_api_opts {
	/* A list rendering is served to requests arriving up to this long after its snapshot
	 * (docs/MANAGEMENT_API.md, "Large lists"). 0: 1000 ms. */
	uint64_t cache_ms;
	uint64_t slice_budget_ns; /* loop time per rendering slice; 0: 1 ms */
	size_t slice_max;	  /* entries per slice at most; 0: only the budget counts */
	/* A rendering larger than this is streamed, not kept (0: 16 MiB), and runs at most
	 * window bytes ahead of its slowest reader (0: 4 MiB); at most max_renders per list at
	 * once (0: 4). */
	uint64_t cache_max, window;
	unsigned max_renders;
};

/* Register the 7.2 routes. p (not copied) and p->ctx must outlive the server. 0 or -errno.
 * The lists' state is freed after http_server_close (the loop must run until then). */
int mgmt_api_register(struct http_server *s, const struct mgmt_providers *p);
int mgmt_api_register_opts(struct http_server *s, const struct mgmt_providers *p,
			   const struct mgmt_api_opts *o);

#endif
