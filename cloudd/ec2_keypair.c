/* ec2_keypair.c - SSH public key blob to EC2 key fingerprints (mbedTLS for DER and hashes). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md5.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha1.h>
#include <mbedtls/sha256.h>

#include "ec2_keypair.h"

/* Reads one SSH wire "string" (u32 length + bytes) from the blob. */
static int
ec2_ssh_str(const unsigned char **p, const unsigned char *end, const unsigned char **s, size_t *len)
{
	uint32_t l;

	if (end - *p < 4)
		return -EINVAL;
	l = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 | (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < l)
		return -EINVAL;
	*s = *p;
	*len = l;
	*p += l;
	return 0;
}

static void
ec2_hexcolon(const unsigned char *h, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[3 * i] = hx[h[i] >> 4];
		out[3 * i + 1] = hx[h[i] & 15];
		out[3 * i + 2] = i + 1 < n ? ':' : 0;
	}
}

static int
ec2_rsa_fps(const unsigned char *blob, size_t blen, struct ec2_fps *out)
{
	const unsigned char *p = blob, *end = blob + blen, *t, *e, *n;
	size_t tl, el, nl;
	unsigned char der[2048], h[20];
	mbedtls_pk_context pk;
	int len, rc = -EINVAL;

	if (ec2_ssh_str(&p, end, &t, &tl) || ec2_ssh_str(&p, end, &e, &el) ||
	    ec2_ssh_str(&p, end, &n, &nl) || p != end || tl != 7 || memcmp(t, "ssh-rsa", 7))
		return -EINVAL;
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0 ||
	    mbedtls_rsa_import_raw(mbedtls_pk_rsa(pk), n, nl, NULL, 0, NULL, 0, NULL, 0, e, el) ||
	    mbedtls_rsa_complete(mbedtls_pk_rsa(pk)) != 0)
		goto out;
	len = mbedtls_pk_write_pubkey_der(&pk, der, sizeof(der));
	if (len <= 0)
		goto out;
	/* mbedTLS writes DER at the end of the buffer */
	mbedtls_md5_ret(der + sizeof(der) - len, (size_t)len, h);
	ec2_hexcolon(h, 16, out->fp[0]);
	mbedtls_sha1_ret(der + sizeof(der) - len, (size_t)len, h);
	ec2_hexcolon(h, 20, out->fp[1]);
	rc = 0;
out:
	mbedtls_pk_free(&pk);
	return rc;
}

int
ec2_key_fingerprints(const char *pubkey, struct ec2_fps *out, char *err, size_t errlen)
{
	const char *b64 = strchr(pubkey, ' ');
	size_t b64len, blen = 0;
	unsigned char *blob, h[32];
	char enc[64];
	size_t elen = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!b64) {
		snprintf(err, errlen,
			 "Could not make key fingerprint: not an authorized_keys line");
		return -EINVAL;
	}
	b64++;
	b64len = strcspn(b64, " \r\n");
	blob = malloc(b64len);
	if (!blob)
		return -ENOMEM;
	if (mbedtls_base64_decode(blob, b64len, &blen, (const unsigned char *)b64, b64len) != 0) {
		free(blob);
		snprintf(err, errlen, "Could not make key fingerprint: bad base64");
		return -EINVAL;
	}
	if (strncmp(pubkey, "ssh-rsa ", 8) == 0) {
		rc = ec2_rsa_fps(blob, blen, out);
		if (rc)
			snprintf(err, errlen, "Could not make key fingerprint: bad RSA key");
	} else {
		mbedtls_sha256_ret(blob, blen, h, 0);
		mbedtls_base64_encode((unsigned char *)enc, sizeof(enc), &elen, h, 32);
		enc[elen] = 0;
		snprintf(out->fp[0], sizeof(out->fp[0]), "SHA256:%s", enc); /* padded */
		while (elen && enc[elen - 1] == '=')
			enc[--elen] = 0;
		snprintf(out->fp[1], sizeof(out->fp[1]), "SHA256:%s", enc);
		rc = 0;
	}
	free(blob);
	return rc;
}
