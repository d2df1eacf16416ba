/* ec2_sign.c - SigV4: canonical request, string to sign, derived key, signature. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include "ec2_sign.h"
#include "util.h"

static void
ec2_hex(const unsigned char *b, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[b[i] >> 4];
		out[2 * i + 1] = hx[b[i] & 15];
	}
	out[2 * n] = 0;
}

void
ec2_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[32];

	mbedtls_sha256_ret(data, len, h, 0);
	ec2_hex(h, 32, out);
}

static int
ec2_hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char out[32])
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	return mbedtls_md_hmac(md, key, klen, (const unsigned char *)msg, strlen(msg), out) ? -EIO
											    : 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request") */
static int
ec2_signing_key(const struct ec2_sign_in *in, const char *date, unsigned char k[32])
{
	size_t sl = strlen(in->secret);
	unsigned char *k0 = malloc(sl + 4);
	int rc;

	if (!k0)
		return -ENOMEM;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, in->secret, sl);
	rc = ec2_hmac(k0, sl + 4, date, k);
	adc_wipe(k0, sl + 4);
	free(k0);
	if (!rc)
		rc = ec2_hmac(k, 32, in->region, k);
	if (!rc)
		rc = ec2_hmac(k, 32, in->service, k);
	if (!rc)
		rc = ec2_hmac(k, 32, "aws4_request", k);
	return rc;
}

int
ec2_sign(const struct ec2_sign_in *in, char amz_date[EC2_AMZ_DATE_LEN], char *auth, size_t auth_len)
{
	char date[9], body_hash[65], creq_hash[65], sig[65], scope[160];
	const char *signed_hdrs = in->token ? "content-type;host;x-amz-date;x-amz-security-token"
					    : "content-type;host;x-amz-date";
	unsigned char key[32], mac[32];
	struct tm tm;
	char *creq = NULL, *sts = NULL;
	int n, rc = -ENOMEM;

	gmtime_r(&in->now, &tm);
	strftime(amz_date, EC2_AMZ_DATE_LEN, "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, amz_date, 8);
	date[8] = 0;
	ec2_sha256_hex(in->body, in->body_len, body_hash);
	if (asprintf(&creq, "POST\n/\n\ncontent-type:%s\nhost:%s\nx-amz-date:%s\n%s%s%s\n%s\n%s",
		     in->content_type, in->host, amz_date, in->token ? "x-amz-security-token:" : "",
		     in->token ? in->token : "", in->token ? "\n" : "", signed_hdrs,
		     body_hash) < 0) {
		creq = NULL;
		goto out;
	}
	ec2_sha256_hex(creq, strlen(creq), creq_hash);
	n = snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, in->region, in->service);
	if (n < 0 || (size_t)n >= sizeof(scope)) {
		rc = -ENOSPC;
		goto out;
	}
	if (asprintf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope, creq_hash) < 0) {
		sts = NULL;
		goto out;
	}
	rc = ec2_signing_key(in, date, key);
	if (!rc)
		rc = ec2_hmac(key, 32, sts, mac);
	adc_wipe(key, sizeof(key));
	if (rc)
		goto out;
	ec2_hex(mac, 32, sig);
	n = snprintf(auth, auth_len,
		     "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", in->akid,
		     scope, signed_hdrs, sig);
	rc = (n < 0 || (size_t)n >= auth_len) ? -ENOSPC : 0;
out:
	free(creq);
	free(sts);
	return rc;
}
