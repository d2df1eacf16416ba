/* http_auth.c - see http_auth.h. */
#include "http_auth.h"

#include <string.h>
#include <strings.h>

#include "util.h"

static enum http_auth
compare(const char *token, size_t toklen, const char *cand)
{
	/* adc_ct_equal leaks only the lengths, and the token's length is no secret worth having. */
	return adc_ct_equal(token, toklen, cand, strlen(cand)) ? HTTP_AUTH_OK : HTTP_AUTH_WRONG;
}

enum http_auth
http_auth_check(const char *token, size_t toklen, const char *authz)
{
	static const char *const schemes[] = { "Bearer ", "OAuth2 " };
	if (!token || toklen == 0)
		return HTTP_AUTH_UNSET;
	if (!authz)
		return HTTP_AUTH_MISSING;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (strncasecmp(authz, schemes[i], n) == 0)
			return authz[n] ? compare(token, toklen, authz + n) : HTTP_AUTH_MISSING;
	}
	return HTTP_AUTH_MISSING;
}

enum http_auth
http_auth_check_exact(const char *token, size_t toklen, const char *authz)
{
	if (!token || toklen == 0)
		return HTTP_AUTH_UNSET;
	if (!authz || !*authz)
		return HTTP_AUTH_MISSING;
	if (strncmp(authz, "Bearer ", 7) != 0)
		return HTTP_AUTH_WRONG;
	return compare(token, toklen, authz + 7);
}
