/* file_md5.c - see file_md5.h. */
#include "file_md5.h"

#include <errno.h>
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include <mbedtls/md5.h>

int
file_md5_hex(int fd, char hex[33])
{
	mbedtls_md5_context ctx;
	unsigned char buf[65536], sum[16];
	off_t off = 0;
	ssize_t n;

	mbedtls_md5_init(&ctx);
	mbedtls_md5_starts_ret(&ctx);
	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		mbedtls_md5_update_ret(&ctx, buf, (size_t)n);
		off += n;
	}
	mbedtls_md5_finish_ret(&ctx, sum);
	mbedtls_md5_free(&ctx);
	if (n < 0)
		return -errno;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	return 0;
}
