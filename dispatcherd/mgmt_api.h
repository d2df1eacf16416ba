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
};

/* Register the 7.2 routes. p (not copied) and p->ctx must outlive the server. 0 or -errno. */
int mgmt_api_register(struct http_server *s, const struct mgmt_providers *p);

#endif
