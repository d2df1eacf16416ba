/*
 * ec2_query.h - building EC2 Query form bodies (spec 2.2): Action, Version, then parameters
 * with list flattening (Filter.1.Value.2 ...), every name and value percent-encoded as SigV4
 * expects (unreserved A-Z a-z 0-9 - _ . ~ kept, everything else %XX).
 *
 * Errors are sticky: after an allocation failure every add is a no-op and ec2_query_done()
 * returns -ENOMEM, so callers check once.
 */
#ifndef ADC_EC2_QUERY_H
#define ADC_EC2_QUERY_H

#include <stddef.h>

#define EC2_API_VERSION "2016-11-15"

struct ec2_query {
	char *buf;
	size_t len, cap;
	int err;
};

void ec2_query_init(struct ec2_query *q, const char *action);
void ec2_query_add(struct ec2_query *q, const char *key, const char *value);
/* The key is a printf format: ec2_query_addf(q, v, "Filter.%zu.Value.%zu", i, j). */
void ec2_query_addf(struct ec2_query *q, const char *value, const char *keyfmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 0 or -ENOMEM (then the buffer is already freed). */
int ec2_query_done(struct ec2_query *q);
void ec2_query_free(struct ec2_query *q);

/* Standard base64 (with padding) of data, malloc'd into *out. 0 or -ENOMEM. */
int ec2_base64(const void *data, size_t len, char **out);
/* Go's %v of a float64 (shortest round-trip: 0.02, 1.5, 1e-05) into buf. */
void ec2_format_price(double v, char *buf, size_t len);

#endif
