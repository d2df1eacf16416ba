/* config_digest.c - see config_digest.h. */
#include "config_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <mbedtls/sha256.h>

int
config_digest(const char *path, char hex[65], double *mtime)
{
	mbedtls_sha256_context c;
	unsigned char buf[8192], sum[32];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	mbedtls_sha256_init(&c);
	if (mbedtls_sha256_starts_ret(&c, 0) != 0)
		rc = -EIO;
	while (rc == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = -errno;
		else if (mbedtls_sha256_update_ret(&c, buf, (size_t)n) != 0)
			rc = -EIO;
	}
	if (rc == 0 && mbedtls_sha256_finish_ret(&c, sum) != 0)
		rc = -EIO;
	/* The file may hold secrets inline (DispatchPrivateKey, tokens): leave no copy on the
	 * stack for a core dump to find (tests/process: the parent's core has no secret).
	 * mbedtls_sha256_free zeroes the context's block buffer. */
	explicit_bzero(buf, sizeof(buf));
	mbedtls_sha256_free(&c);
	close(fd);
	if (rc != 0)
		return rc;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	*mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
	return 0;
}
