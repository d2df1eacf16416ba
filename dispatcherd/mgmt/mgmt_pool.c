/* mgmt_pool.c - see mgmt_pool.h. */
#include "mgmt_pool.h"

#include <errno.h>

static int
mgmt_pool_found(int r)
{
	return r == POOL_NOT_FOUND ? MGMT_NOT_FOUND : r;
}

int
mgmt_pool_list_instances(void *pool, cJSON **items)
{
	*items = pool_instances_json(pool);
	return *items ? 0 : -ENOMEM;
}

/* reason arrives as the log's Reason already ("via management API: <reason>", built by
 * mgmt_api.c's routes): adding the prefix here too logged it twice. */
int
mgmt_pool_instance_action(void *pool, enum mgmt_instance_action a, const char *id,
			  const char *reason)
{
	switch (a) {
	case MGMT_HOLD:
		return mgmt_pool_found(pool_set_idle_behavior(pool, id, SCHED_IDLE_HOLD));
	case MGMT_DRAIN:
		return mgmt_pool_found(pool_set_idle_behavior(pool, id, SCHED_IDLE_DRAIN));
	case MGMT_RUN:
		return mgmt_pool_found(pool_set_idle_behavior(pool, id, SCHED_IDLE_RUN));
	case MGMT_KILL:
		return mgmt_pool_found(pool_kill_instance(pool, id, reason ? reason : ""));
	}
	return MGMT_NOT_FOUND;
}

int
mgmt_pool_kill_container(void *pool, const char *uuid, const char *reason)
{
	return pool_kill_container(pool, uuid, reason ? reason : "") ? 0 : MGMT_NOT_FOUND;
}

int
mgmt_pool_list_open(void *pool, void **snap, size_t *n)
{
	struct pool_snap *s = NULL;
	int r = pool_instances_open(pool, &s, n);

	*snap = s;
	return r;
}

int
mgmt_pool_list_entry(void *pool, void *snap, size_t i, cJSON **out)
{
	return pool_instances_entry(pool, snap, i, out);
}

void
mgmt_pool_list_close(void *pool, void *snap)
{
	(void)pool;
	pool_instances_close(snap);
}

void
mgmt_pool_list_src(struct mgmt_list_src *src)
{
	*src = (struct mgmt_list_src){ mgmt_pool_list_open, mgmt_pool_list_entry,
				       mgmt_pool_list_close };
}

void
mgmt_pool_providers(struct pool *p, struct mgmt_providers *mp)
{
	mp->ctx = p;
	mp->list_instances = mgmt_pool_list_instances;
	mgmt_pool_list_src(&mp->instances_src);
	mp->instance_action = mgmt_pool_instance_action;
	mp->kill_container = mgmt_pool_kill_container;
}
