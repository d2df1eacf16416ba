/*
 * ec2_sign.h - AWS Signature Version 4 for EC2 Query POSTs (spec 2.2), with mbedTLS.
 *
 * Why not CURLOPT_AWS_SIGV4: it reads the clock itself, so the spec's fixed test vector
 * cannot be checked against it, and libcurl 7.88 does not document which user headers
 * (X-Amz-Security-Token) it signs. Here the signed set is explicit:
 * content-type;host;x-amz-date[;x-amz-security-token], exactly the headers we send.
 */
#ifndef ADC_EC2_SIGN_H
#define ADC_EC2_SIGN_H

#include <stddef.h>
#include <time.h>

struct ec2_sign_in {
	const char *akid;
	const char *secret;
	const char *token; /* session token or NULL */
	const char *region;
	const char *service;	  /* "ec2" */
	const char *host;	  /* the Host header sent, host[:port] */
	const char *content_type; /* the Content-Type header sent */
	const char *body;
	size_t body_len;
	time_t now;
};

#define EC2_AMZ_DATE_LEN 17 /* YYYYMMDDTHHMMSSZ + NUL */

/* Fills amz_date and the Authorization header value. 0, or -ENOSPC / -EIO. The secret is
 * only read; the derived keys are wiped before return. */
int ec2_sign(const struct ec2_sign_in *in, char amz_date[EC2_AMZ_DATE_LEN], char *auth,
	     size_t auth_len);

/* Lowercase hex SHA-256 of data into out[65]. */
void ec2_sha256_hex(const void *data, size_t len, char out[65]);

#endif
