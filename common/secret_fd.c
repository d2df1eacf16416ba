/* secret_fd.c - see secret_fd.h. */
#include "secret_fd.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int
secret_memfd_create(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	const char *p = data;
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? -errno : -EIO;
			close(fd);
			return e;
		}
		done += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int
secret_fd_read(int fd, uint8_t **out, size_t *len, size_t max)
{
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap + 1);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				adc_wipe(buf, n);
				free(buf);
				return -EFBIG;
			}
			/* Grow by copying ourselves, so no unwiped copy is left behind by realloc. */
			size_t ncap = cap * 2 > max ? max : cap * 2;
			uint8_t *nb = malloc(ncap + 1);
			if (nb == NULL) {
				adc_wipe(buf, n);
				free(buf);
				return -ENOMEM;
			}
			for (size_t i = 0; i < n; i++)
				nb[i] = buf[i];
			adc_wipe(buf, n);
			free(buf);
			buf = nb;
			cap = ncap;
		}
		ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			adc_wipe(buf, n);
			free(buf);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
