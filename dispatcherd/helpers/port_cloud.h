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
#include "metrics.h"
#include "pool_ports.h"

/* Distinct subnets the EC2 metrics may name over the process's life. */
#define PORT_CLOUD_MAX_SUBNETS 256u

/* Last price history cloudd gave for (instance type, availability zone). */
struct port_cloud_hist {
	char *type; /* Arvados instance type name */
	char *az;
	struct pool_price *v;
	size_t n;
};

struct port_cloud {
	struct child **cloudd;		   /* the dispatcher's cloudd (NULL once stopped) */
	const struct cfg_cluster *cluster; /* instance types, for price and scratch */
	char *const *public_key;	   /* DeployPublicKey: the dispatch key's public half
						 * (from sshd-pool's init answer; may be NULL) */
	uint32_t timeout_ms;		   /* per call */
	struct metrics_registry *metrics;  /* ec2_instances, ec2_instance_starts_total
						 * (NULL: not published) */
	/* the adapter's own state (zero-initialised by the owner) */
	char **qgroups;		      /* per configured type: its quota group, NULL
						 * until cloudd answered */
	struct port_cloud_hist *hist; /* spot price histories, one per (type, az) */
	size_t n_hist;
	bool stats_busy, stats_again; /* one CLOUD_STATS request at a time */
	char **subnets;		      /* subnet ids with a metric series (at most
				       * PORT_CLOUD_MAX_SUBNETS: more from cloudd is a
				       * protocol violation, not more series) */
	size_t n_subnets;
};

/* Fill port with the adapter's functions; pc must outlive the pool. */
void port_cloud_init(struct port_cloud *pc, struct pool_cloud_port *port);

/* cloudd has become ready (first start or restart): ask it the quota group of every
 * configured type (the port's quota_group is synchronous and answers from this cache) and
 * its counters. Failures are logged; the next ready tries again. */
void port_cloud_ready(struct port_cloud *pc);
/* Ask cloudd for its per-subnet counters and publish them (port_cloud_cache.c). */
void port_cloud_stats(struct port_cloud *pc);
/* The cached quota group ("" when unknown); what the port's quota_group answers. */
const char *
port_cloud_qgroup_lookup(const struct port_cloud *pc, const char *provider_type, bool preemptible);
/* Free the caches (after the loop has stopped). */
void port_cloud_free(struct port_cloud *pc);

#endif
