/*
 * sandbox_landlock_dispatcher.c - the parent's filesystem policy (Landlock).
 *
 * What the parent itself needs after start-up is small: the name service (the generic
 * resolver files, /etc/passwd and /etc/group for libpq's and glibc's user look-ups), the
 * system libraries (a late NSS or OpenSSL module), /proc/self and /proc/stat (the process
 * metrics), /dev/null and /dev/urandom. The API client's CA bundle is in memory
 * (CURLOPT_CAINFO_BLOB), and the config file, the secrets, the TLS files and the runner binary
 * were read (or opened) before this.
 *
 * The helpers constrain it more: Landlock domains are inherited across execve, so cloudd and
 * sshd-pool, restarted by this process whenever they die, start inside this policy. Up to
 * their own sandbox they need to be executed (their files and the ELF interpreter), to load
 * their libraries, to read /etc/passwd and /etc/group (their user switch), the CA store
 * (cloudd copies it into memory at start: /etc/ssl, /usr/share/ca-certificates, and any bundle
 * named by $SSL_CERT_FILE, $SSL_CERT_DIR or $AWS_CA_BUNDLE, which the caller passes as
 * read_paths) and OpenSSL's config (/etc/ssl/openssl.cnf). Nothing else under /etc is
 * granted: /etc/arvados (the config file, a key file) stays closed, and so does the config
 * file wherever -config put it.
 */
#include "sandbox_internal.h"

#include <link.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <stdlib.h>

#define LLD_READ_FILE LANDLOCK_ACCESS_FS_READ_FILE
#define LLD_READ_DIR  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LLD_EXEC      (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_EXECUTE)

static const char *const sandbox_lld_read_dirs[] = {
	"/usr",			   /* libraries, /usr/share/ca-certificates, zoneinfo */
	"/lib",			   /* the same on a system without merged /usr */
	"/lib64",		   /* the ELF interpreter's directory */
	"/etc/ssl",		   /* CA store, openssl.cnf (cloudd's start) */
	"/etc/pki",		   /* the same on RHEL */
	"/sys/devices/system/cpu", /* glibc's and libuv's processor count */
};

static const char *const sandbox_lld_read_files[] = {
	"/etc/passwd",	    "/etc/group", /* user look-ups: libpq, the helpers' user switch */
	"/etc/ld.so.cache", "/etc/ld.so.preload", /* the dynamic loader of an exec'd helper */
	"/etc/localtime",   "/etc/services",	  "/etc/protocols",
	"/dev/urandom",	    "/dev/random", /* OpenSSL's fallback entropy */
	"/proc/stat",			   /* the process metrics (boot time) */
	"/proc/self", /* the parent's own /proc/<pid> (metrics: stat, fd), not others' */
};

/* The program interpreter (PT_INTERP) of this executable, which the helpers share: the
 * kernel opens it for execution at every execve. NULL for a static executable. */
static int
sandbox_lld_interp_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_INTERP)
			*(const char **)arg =
				(const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	return 1; /* the first object is the executable itself */
}

int
sandbox_ll_rules_dispatcher(int rs, const struct sandbox_opts *opts, uint64_t h)
{
	const char *interp = NULL;
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(sandbox_lld_read_dirs) / sizeof(char *); i++)
		r = sandbox_ll_allow(rs, sandbox_lld_read_dirs[i], LLD_READ_DIR, h);
	for (size_t i = 0; r == 0 && i < sizeof(sandbox_lld_read_files) / sizeof(char *); i++)
		r = sandbox_ll_allow(rs, sandbox_lld_read_files[i], LLD_READ_DIR, h);
	/* libuv opens /dev/null for a helper's ignored stdin, read-write for other fds. */
	if (r == 0)
		r = sandbox_ll_allow(rs, "/dev/null", LLD_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE,
				     h);
	dl_iterate_phdr(sandbox_lld_interp_cb, &interp);
	if (r == 0 && interp != NULL)
		r = sandbox_ll_allow(rs, interp, LLD_EXEC, h);
	for (size_t i = 0; r == 0 && opts->exec_paths && opts->exec_paths[i]; i++)
		r = sandbox_ll_allow(rs, opts->exec_paths[i], LLD_EXEC, h);
	for (size_t i = 0; r == 0 && opts->read_paths && opts->read_paths[i]; i++)
		r = sandbox_ll_allow(rs, opts->read_paths[i], LLD_READ_DIR, h);
#ifdef ADC_TEST_HOOKS
	/* Test builds: sshd-pool's ADC_TEST_SSH_INIT_FAIL_DIR hook (sshd-pool/main.c) removes a
	 * file there at each start, before its own sandbox, inside this one. */
	const char *fail_dir = getenv("ADC_TEST_SSH_INIT_FAIL_DIR");

	if (r == 0 && fail_dir != NULL)
		r = sandbox_ll_allow(rs, fail_dir, LLD_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE,
				     h);
#endif
	return r;
}
