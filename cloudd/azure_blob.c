/*
 * azure_blob.c - Blob service SharedKey authorization (spec 3.8; the 2009-09-19+ string to
 * sign) with mbedTLS HMAC-SHA256, for the requests this driver sends: GET and DELETE without
 * a body, headers x-ms-date and x-ms-version only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "azure_int.h"
#include "util.h"

struct az_qp {
	char *k, *v;
};

static int
az_qp_cmp(const void *a, const void *b)
{
	const struct az_qp *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

/* Appends s to the growing buffer. */
static int
az_cat(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		size_t nc = (*cap ? *cap * 2 : 512) + n;
		char *nb = realloc(*buf, nc);

		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

int
azure_blob_string_to_sign(const char *account, const char *verb, const char *path,
			  const char *query, const char *xms_date, const char *xms_version,
			  char **out)
{
	struct az_qp *qp = NULL;
	size_t nq = 0, len = 0, cap = 0;
	char *buf = NULL, *q = query ? strdup(query) : NULL, *save = NULL, *tok;
	int r = 0;

	*out = NULL;
	if (query && !q)
		return -ENOMEM;
	for (tok = q ? strtok_r(q, "&", &save) : NULL; tok; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '='), *k, *v;
		int kl, vl;
		struct az_qp *nv = realloc(qp, (nq + 1) * sizeof(*qp));

		if (!nv) {
			r = -ENOMEM;
			goto out;
		}
		qp = nv;
		if (eq)
			*eq = 0;
		k = curl_easy_unescape(NULL, tok, 0, &kl);
		v = curl_easy_unescape(NULL, eq ? eq + 1 : "", 0, &vl);
		if (!k || !v) {
			curl_free(k);
			curl_free(v);
			r = -ENOMEM;
			goto out;
		}
		for (char *c = k; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		qp[nq].k = k;
		qp[nq].v = v;
		nq++;
	}
	if (nq > 1)
		qsort(qp, nq, sizeof(*qp), az_qp_cmp);
	char hdr[256];

	/* verb, then Content-Encoding, -Language, -Length, -MD5, -Type, Date, If-Modified-Since,
	 * If-Match, If-None-Match, If-Unmodified-Since, Range: all empty here. */
	snprintf(hdr, sizeof(hdr), "%s\n\n\n\n\n\n\n\n\n\n\n\n", verb);
	if ((r = az_cat(&buf, &len, &cap, hdr)) < 0)
		goto out;
	snprintf(hdr, sizeof(hdr), "x-ms-date:%s\nx-ms-version:%s\n/%s", xms_date, xms_version,
		 account);
	if ((r = az_cat(&buf, &len, &cap, hdr)) < 0 || (r = az_cat(&buf, &len, &cap, path)) < 0)
		goto out;
	for (size_t i = 0; i < nq; i++) {
		bool same = i > 0 && strcmp(qp[i].k, qp[i - 1].k) == 0;

		if ((r = az_cat(&buf, &len, &cap, same ? "," : "\n")) < 0 ||
		    (!same && ((r = az_cat(&buf, &len, &cap, qp[i].k)) < 0 ||
			       (r = az_cat(&buf, &len, &cap, ":")) < 0)) ||
		    (r = az_cat(&buf, &len, &cap, qp[i].v)) < 0)
			goto out;
	}
	*out = buf;
	buf = NULL;
out:
	for (size_t i = 0; i < nq; i++) {
		curl_free(qp[i].k);
		curl_free(qp[i].v);
	}
	free(qp);
	free(q);
	free(buf);
	return r;
}

int
azure_blob_sign(const char *account, const char *key_b64, const char *verb, const char *path,
		const char *query, const char *xms_date, const char *xms_version, char *auth,
		size_t authlen)
{
	unsigned char key[128], mac[32], sig[64];
	size_t kl = 0, sl = 0;
	char *sts = NULL;
	int r;

	if (mbedtls_base64_decode(key, sizeof(key), &kl, (const unsigned char *)key_b64,
				  strlen(key_b64)) != 0 ||
	    kl == 0)
		return -EINVAL;
	r = azure_blob_string_to_sign(account, verb, path, query, xms_date, xms_version, &sts);
	if (r == 0 && mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, kl,
				      (const unsigned char *)sts, strlen(sts), mac) != 0)
		r = -EIO;
	if (r == 0 && mbedtls_base64_encode(sig, sizeof(sig), &sl, mac, sizeof(mac)) != 0)
		r = -EIO;
	if (r == 0 &&
	    (size_t)snprintf(auth, authlen, "SharedKey %s:%.*s", account, (int)sl, sig) >= authlen)
		r = -ENOSPC;
	adc_wipe(key, sizeof(key));
	free(sts);
	return r;
}
