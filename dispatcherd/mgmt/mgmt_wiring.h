/*
 * mgmt_wiring.h - the management API's providers (mgmt_api.h) for the running dispatcher:
 * containers from the queue with the latest pass's scheduling statuses (sched_driver.h),
 * instances and instance actions from the pool.
 */
#ifndef ADC_MGMT_WIRING_H
#define ADC_MGMT_WIRING_H

#include "config.h"
#include "mgmt_api.h"
#include "mgmt_pool.h"
#include "pool.h"
#include "queue.h"
#include "sched_driver.h"

struct mgmt_wiring {
	const struct cfg_cluster *cluster;
	struct queue *queue;
	struct pool *pool;
	struct sched_driver *sched;
	struct mgmt_providers providers; /* ctx is this struct */
};

/* Fill w->providers. w must outlive the HTTP server. */
void mgmt_wiring_init(struct mgmt_wiring *w);

#endif
