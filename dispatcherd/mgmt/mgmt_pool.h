/*
 * mgmt_pool.h - the management API's instance providers (mgmt_api.h) over the worker pool:
 * the pool's own views and actions (pool.h) in the shapes the routes call, with
 * POOL_NOT_FOUND answered as MGMT_NOT_FOUND. Each takes the pool as ctx.
 */
#ifndef ADC_MGMT_POOL_H
#define ADC_MGMT_POOL_H

#include <cjson/cJSON.h>

#include "mgmt_api.h"
#include "pool.h"

int mgmt_pool_list_instances(void *pool, cJSON **items);
int mgmt_pool_instance_action(void *pool, enum mgmt_instance_action a, const char *id,
			      const char *reason);
int mgmt_pool_kill_container(void *pool, const char *uuid, const char *reason);
/* The incremental form of mgmt_pool_list_instances (struct mgmt_list_src, ctx the pool). */
void mgmt_pool_list_src(struct mgmt_list_src *src);
int mgmt_pool_list_open(void *pool, void **snap, size_t *n);
int mgmt_pool_list_entry(void *pool, void *snap, size_t i, cJSON **out);
void mgmt_pool_list_close(void *pool, void *snap);
/* Only the pool's entries, ctx the pool (tests; the dispatcher's providers are mgmt_wiring.h's,
 * whose one ctx also serves the queue's entries). */
void mgmt_pool_providers(struct pool *p, struct mgmt_providers *mp);

#endif
