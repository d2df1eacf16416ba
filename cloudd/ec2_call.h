/*
 * ec2_call.h - one EC2 Query API call: pace, credentials, SigV4, HTTPS POST, XML answer.
 *
 * Endpoint per the AWS SDK conventions: cfg.endpoint, else AWS_ENDPOINT_URL_EC2, else
 * AWS_ENDPOINT_URL, else https://ec2.<region>.amazonaws.com (amazonaws.com.cn for cn-*).
 * http:// is allowed (test fakes). The CA bundle (cfg.ca_file, else AWS_CA_BUNDLE) is read
 * into memory here and given to libcurl as a blob, so later calls need no filesystem.
 * Every call has a connect and a total timeout. One HTTP request per call: no retries.
 */
#ifndef ADC_EC2_CALL_H
#define ADC_EC2_CALL_H

#include <stddef.h>
#include <uv.h>

#include "curl_body.h"
#include "drv.h"
#include "ec2_creds.h"
#include "ec2_pace.h"
#include "ec2_query.h"
#include "ec2_xml.h"

struct ec2_client_cfg {
	const char *region;
	const char *endpoint;  /* NULL or "": from the environment or region */
	const char *ca_file;   /* NULL or "": AWS_CA_BUNDLE, else the system store */
	const uint8_t *ca_pem; /* CA bundle already in memory (read before the sandbox);
				      * wins over ca_file */
	size_t ca_pem_len;
	const char *akid, *secret;	/* static keys (NULL/"": env, then IMDS) */
	const struct ec2_env_keys *env; /* NULL: getenv (see ec2_creds_new) */
	long connect_timeout_ms;	/* 0: 30 s */
	long timeout_ms;		/* 0: 5 min */
	size_t max_body;		/* 0: 64 MiB */
};

struct ec2_reply {
	const struct ec2_xnode *root; /* the answer on success, NULL on failure */
	struct drv_error err;	      /* cls DRV_OK, or DRV_ERR_OTHER with code/text/status
					 * (callers classify with ec2_err_classify) */
	const char *message;	      /* provider message, "" when none */
};

typedef void (*ec2_call_cb)(void *arg, const struct ec2_reply *r);

struct ec2_client;

/* 0; or negative errno with a reason in err (no secret in it). */
int ec2_client_new(uv_loop_t *loop, const struct ec2_client_cfg *cfg, struct ec2_client **out,
		   char *err, size_t errlen);
/* Call when no call is in flight; the loop must run afterwards to close handles. */
void ec2_client_free(struct ec2_client *c);
struct ec2_pace *ec2_client_pace(struct ec2_client *c);
struct ec2_creds *ec2_client_creds(struct ec2_client *c);
const char *ec2_client_endpoint(const struct ec2_client *c);
size_t ec2_client_active(const struct ec2_client *c);

/* Sends action with the body in q (taken over, success or not). res_cost: resource tokens
 * (instances) for the pacer. cb is called exactly once, never before this returns.
 * 0 or -ENOMEM (q freed, cb not called). */
int ec2_call(struct ec2_client *c, const char *action, struct ec2_query *q, double res_cost,
	     ec2_call_cb cb, void *arg);

#endif
