/*
 * ca_store.h - the CA certificates cloudd trusts, read into memory before its sandbox (after
 * it no file can be opened; curl gets them as CURLOPT_CAINFO_BLOB).
 *
 * Where from, first match wins (docs/EC2_DRIVER.md, "TLS"):
 *   1. AWS_CA_BUNDLE: that file only (the AWS SDKs' override);
 *   2. what curl would trust: SSL_CERT_FILE if set, else libcurl's built-in default bundle
 *      (curl_version_info()->cainfo, /etc/ssl/certs/ca-certificates.crt on Debian); plus
 *      the hashed certificates (NNNNNNNN.D files) of SSL_CERT_DIR if set (a ':'-separated
 *      list, as OpenSSL reads it), else of libcurl's default CA path
 *      (curl_version_info()->capath) when the bundle gave nothing.
 * A file or directory named by a variable must be readable; the built-in defaults may be
 * missing.
 */
#ifndef ADC_CA_STORE_H
#define ADC_CA_STORE_H

#include <stddef.h>
#include <stdint.h>

struct ca_sources {
	const char *aws_ca_bundle; /* $AWS_CA_BUNDLE, or NULL */
	const char *ssl_cert_file; /* $SSL_CERT_FILE, or NULL */
	const char *ssl_cert_dir;  /* $SSL_CERT_DIR, or NULL */
	const char *curl_cainfo;   /* libcurl's built-in default bundle, or NULL */
	const char *curl_capath;   /* libcurl's built-in default directory, or NULL */
};

/* The sources from the environment and from curl_version_info(). */
void ca_sources_default(struct ca_sources *s);

/* Reads the certificates into *pem (malloc'd, NUL-terminated; *pem NULL and *len 0 when
 * none was found) and names where they came from in `from` (for the log). At most max
 * bytes in all. 0, or -errno with err naming the variable and the path. */
int ca_store_load(const struct ca_sources *s, uint8_t **pem, size_t *len, size_t max, char *from,
		  size_t fromlen, char *err, size_t errlen);

#endif
