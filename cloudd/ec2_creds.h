/*
 * ec2_creds.h - where cloudd's AWS credentials come from (spec 2.2, docs/EC2_DRIVER.md):
 *   1. static keys from DriverParameters (AccessKeyID + SecretAccessKey);
 *   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   3. the instance's IAM role through IMDSv2 (token PUT, role name, credentials JSON),
 *      at AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254), refreshed
 *      5 minutes before Expiration; AWS_EC2_METADATA_DISABLED=true turns it off.
 * The environment is read once by ec2_creds_new (before the sandbox). Secrets are wiped
 * when replaced or freed and never logged.
 */
#ifndef ADC_EC2_CREDS_H
#define ADC_EC2_CREDS_H

#include <stdbool.h>
#include <stdint.h>

#include "curl_body.h"

enum ec2_creds_source { EC2_CREDS_STATIC = 1, EC2_CREDS_ENV, EC2_CREDS_IMDS };

struct ec2_cred {
	char *akid;
	char *secret;
	char *token;	 /* NULL without a session token */
	int64_t expires; /* epoch seconds, 0 for never */
};

struct ec2_creds;

/* The environment keys (source 2) when the caller read them elsewhere: cloudd gets them
 * from dispatcherd's secret fd, because the parent removes them from its environment. */
struct ec2_env_keys {
	const char *akid, *secret, *token; /* NULL or "" when absent */
};

/* static_akid/static_secret may be NULL or "". env: NULL reads AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN with getenv; else these values are used
 * instead. 0, -ENOMEM, or -ENOENT when no source is available (no static keys, no env
 * keys, IMDS disabled). */
int ec2_creds_new(struct cu *cu, const char *static_akid, const char *static_secret,
		  const struct ec2_env_keys *env, long connect_ms, long total_ms,
		  struct ec2_creds **out);
void ec2_creds_free(struct ec2_creds *c);
enum ec2_creds_source ec2_creds_source(const struct ec2_creds *c);

/* The current credentials if usable at now (epoch s), else NULL (refresh needed). */
const struct ec2_cred *ec2_creds_current(const struct ec2_creds *c, int64_t now);

/* Called with 0 and the fresh credentials, or a negative errno and an error text. */
typedef void (*ec2_creds_cb)(void *arg, int rc, const struct ec2_cred *cred, const char *err);
/* Fetch from IMDS (several waiters share one fetch). 0, or -ENOMEM (cb not called). */
int ec2_creds_refresh(struct ec2_creds *c, ec2_creds_cb cb, void *arg);

/* The IMDS answers (untrusted: anything on the link-local network may answer), exported for
 * tests/ec2/fuzz_ec2_imds.c. The role listing's first line into *role (allocated even when
 * refused: the caller frees it): 0, -EINVAL when it cannot be a role name (empty, or '/' or
 * '?', which would change the next URL), -ENOMEM. The credentials document into out
 * (ec2_cred_set; free with ec2_cred_clear): 0, or negative errno with a reason in err. */
int ec2_imds_parse_role(const char *body, char **role);
int ec2_imds_parse_creds(const char *body, struct ec2_cred *out, char *err, size_t errlen);
void ec2_cred_clear(struct ec2_cred *c);

/* Refresh margin before Expiration, seconds (spec: 5 minutes). */
#define EC2_CREDS_MARGIN_S 300

#endif
