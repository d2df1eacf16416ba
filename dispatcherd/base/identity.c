/* identity.c - see identity.h. */
#include "identity.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <mbedtls/md5.h>

int
identity_instance_set_id(const char *token, char *out, size_t outlen)
{
	unsigned char d[16];

	if (strncmp(token, "v2/", 3) == 0) {
		const char *u = token + 3, *slash = strchr(u, '/');
		if (slash != NULL && strchr(slash + 1, '/') == NULL) {
			size_t n = (size_t)(slash - u);
			if (n + 1 > outlen)
				return -ENAMETOOLONG;
			memcpy(out, u, n);
			out[n] = '\0';
			return 0;
		}
	}
	if (outlen < 33)
		return -ENAMETOOLONG;
	if (mbedtls_md5_ret((const unsigned char *)token, strlen(token), d) != 0)
		return -EIO;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}
