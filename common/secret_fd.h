/*
 * secret_fd.h - secrets that the parent holds as file descriptors, never as bytes.
 *
 * At start-up dispatcherd copies each child's secret (DriverParameters, an inline private
 * key) into a sealed memfd and wipes its own copies; a file:// private key is opened and
 * kept open unread. Each time a child is (re)started, a dup of that fd rides with the
 * child's init message (SCM_RIGHTS) and the child reads it. So the parent can restart a
 * child without ever holding the secret in its address space again (a core dump of the
 * parent has none of it; see docs/ARCHITECTURE.md, "Secrets").
 */
#ifndef ADC_SECRET_FD_H
#define ADC_SECRET_FD_H

#include <stddef.h>
#include <stdint.h>

/* A sealed (no write, grow, shrink) memfd holding len bytes of data. fd or -errno. */
int secret_memfd_create(const char *name, const void *data, size_t len);

/* Read the whole content of fd from offset 0 (pread: the offset is shared with the parent's
 * copy) into a malloc'd buffer with a NUL after it; at most max bytes (-EFBIG past it).
 * 0 or -errno. The caller wipes (adc_wipe) and frees. */
int secret_fd_read(int fd, uint8_t **out, size_t *len, size_t max);

#endif
