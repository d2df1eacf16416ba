/*
 * ec2_spot.h - spot price cache and price history (spec 2.7, 5) and InstanceQuotaGroup (2.9).
 *
 * The cache is keyed by (instance type, availability zone); only spot prices are stored.
 * All times are seconds since the epoch. Not thread-safe: cloudd runs one loop.
 */
#ifndef ADC_EC2_SPOT_H
#define ADC_EC2_SPOT_H

#include <stddef.h>
#include <stdint.h>

#include "drv.h"

struct ec2_qg_entry {
	char *prefix; /* lowercase */
	char *group;
};

/* InstanceQuotaGroup of 2.9 into buf. 0 or -ENOSPC. */
int ec2_quota_group(const struct ec2_qg_entry *tab, size_t n, const char *provider_type,
		    bool preemptible, char *buf, size_t len);

/* NormalizePriceHistory (5), in place; returns the new length. */
size_t ec2_price_normalize(struct drv_price *p, size_t n);

struct ec2_spot_key {
	char *type;
	char *az;
	int64_t updated;
	struct drv_price *prices;
	size_t n;
};

struct ec2_spot_cache {
	struct ec2_spot_key *keys;
	size_t n;
};

/* Does any (type, az) of these keys need a refresh (not updated within interval_s)? */
bool ec2_spot_stale(const struct ec2_spot_cache *c, const char *const *types,
		    const char *const *azs, size_t n, int64_t now, int64_t interval_s);
/* Append one point to (type, az) and mark it updated at now. 0 or -ENOMEM. */
int ec2_spot_add(struct ec2_spot_cache *c, const char *type, const char *az, int64_t ts,
		 double price, int64_t now);
/* After a refresh: drop keys not updated for 64 intervals, normalise every list. */
void ec2_spot_finish(struct ec2_spot_cache *c, int64_t now, int64_t interval_s);
/* The normalised list for (type, az) plus ebs_hourly on each point; malloc'd copy. */
int ec2_spot_history(const struct ec2_spot_cache *c, const char *type, const char *az,
		     double ebs_hourly, struct drv_price **out, size_t *n);
void ec2_spot_free(struct ec2_spot_cache *c);

/* RFC 3339 (2024-01-01T00:00:00Z, optional fraction and offset; rfc3339.h) to epoch seconds;
 * -1 if unparsable. */
int64_t ec2_parse_time(const char *s);

#endif
