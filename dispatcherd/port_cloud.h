/*
 * port_cloud.h - the worker pool's cloud port (pool_ports.h) carried out by cloudd through
 * cloudc.h. The adapter copies what the pool lends it, converts cloudd's error blocks into
 * the pool's error classes, and gathers a streamed list into one array for the pool.
 *
 * While cloudd is down or restarting every call returns -EAGAIN at once (the pool treats it
 * as a failed call and retries on its next pass); a request in flight when cloudd dies is
 * answered with PROTO_E_RETRY, which becomes a POOL_CLOUD_OTHER error: nothing is lost.
 */
#ifndef ADC_PORT_CLOUD_H
#define ADC_PORT_CLOUD_H

#include "child.h"
#include "config.h"
#include "pool_ports.h"

struct port_cloud {
	struct child **cloudd;			/* the dispatcher's cloudd (NULL once stopped) */
	const struct cfg_cluster *cluster;	/* instance types, for price and scratch */
	char *const *public_key;		/* DeployPublicKey: the dispatch key's public half
						 * (from sshd-pool's init answer; may be NULL) */
	uint32_t timeout_ms;			/* per call */
};

/* Fill port with the adapter's functions; pc must outlive the pool. */
void port_cloud_init(struct port_cloud *pc, struct pool_cloud_port *port);

#endif
