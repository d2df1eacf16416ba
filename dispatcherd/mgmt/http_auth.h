/*
 * http_auth.h - the ManagementToken check (spec 7.1, weakness 24 fixed).
 *
 * Only the Authorization header carries the token: `Bearer <t>` (what Prometheus and
 * arvados-server send) or `OAuth2 <t>` (the Arvados SDKs' form). Query strings, cookies and
 * Basic passwords are not read: they end up in logs, browser state and proxies. The
 * comparison is constant time (adc_ct_equal).
 */
#ifndef ADC_HTTP_AUTH_H
#define ADC_HTTP_AUTH_H

#include <stddef.h>

enum http_auth {
	HTTP_AUTH_OK = 0,
	HTTP_AUTH_UNSET,   /* ManagementToken is empty: nothing can be authorized */
	HTTP_AUTH_MISSING, /* no Authorization header, or not a token scheme */
	HTTP_AUTH_WRONG,   /* a token that is not the ManagementToken */
};

/* token/toklen: the configured ManagementToken; authz: the Authorization header or NULL. */
enum http_auth http_auth_check(const char *token, size_t toklen, const char *authz);

/* The health route's stricter rule (sdk/go/health): the header must be exactly
 * "Bearer <token>"; any other header is WRONG, no header is MISSING. */
enum http_auth http_auth_check_exact(const char *token, size_t toklen, const char *authz);

#endif
