/*
 * sandbox_landlock.c - the filesystem (and, where the ABI has them, TCP bind, signal and
 * abstract-socket) policy of each role, with Landlock.
 *
 * The ABI is probed at run time and every right the ABI knows is handled, so anything not
 * granted below is denied. Debian 12's headers stop at ABI 2, so the newer constants and
 * the three-field ruleset attribute are defined here; the kernel takes the attribute size
 * as the version of the struct, so we pass 8, 16 or 24 bytes depending on the ABI.
 *
 * Policies (reasons in docs/SANDBOX.md):
 *   cloudd:           read /etc/{resolv.conf,hosts,nsswitch.conf,gai.conf,host.conf} (name
 *                     resolution after start-up; NSS modules are already loaded and TLS
 *                     material is in memory), no TCP bind.
 *   sshd-pool:        nothing at all, no TCP bind.
 *   dispatcher:       see sandbox_landlock_dispatcher.c.
 * Sanitizer builds add read access to /proc (ASan reads /proc/self/maps in its reports).
 */
#include "sandbox_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#define ADC_LL_NET_BIND_TCP	   (1ULL << 0) /* ABI 4 */
#define ADC_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define ADC_LL_SCOPE_SIGNAL	   (1ULL << 1) /* ABI 6 */

/* struct landlock_ruleset_attr as of ABI 6. */
struct adc_ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

#define LL_READ_FILE LANDLOCK_ACCESS_FS_READ_FILE
#define LL_READ_DIR  (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_EXEC_DIR  (LL_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE)
/* The rights that apply to a non-directory; others on a file rule are EINVAL. */
#define LL_FILE_RIGHTS                                                \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
	 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
	 LANDLOCK_ACCESS_FS_IOCTL_DEV)

int
sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t
sandbox_ll_handled_fs(int abi)
{
	uint64_t fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* Grants access beneath path. A missing path is fine (e.g. no /etc/gai.conf). */
int
sandbox_ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct landlock_path_beneath_attr pb = { 0 };
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC), r = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
	} else {
		pb.parent_fd = fd;
		pb.allowed_access = access & handled &
				    (S_ISDIR(st.st_mode) ? ~0ULL : LL_FILE_RIGHTS);
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) !=
		    0)
			r = -errno;
	}
	close(fd);
	if (r < 0)
		log_kv_err(LOG_LVL_ERROR, "sandbox: landlock rule failed", strerror(-r),
			   LF_STR("path", path));
	return r;
}

static const char *const sandbox_ll_resolver_files[] = {
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/gai.conf", "/etc/host.conf",
};

static int
sandbox_ll_rules(int rs, enum sandbox_role role, const struct sandbox_opts *opts, uint64_t h)
{
	int r = 0;

	if (role == SANDBOX_SSHD_POOL)
		goto sanitizer;
	if (role == SANDBOX_DISPATCHER)
		r = sandbox_ll_rules_dispatcher(rs, opts, h);
	for (size_t i = 0; r == 0 && i < sizeof(sandbox_ll_resolver_files) / sizeof(char *); i++)
		r = sandbox_ll_allow(rs, sandbox_ll_resolver_files[i], LL_READ_FILE, h);
sanitizer:
#ifdef ADC_SANITIZE
	if (r == 0)
		r = sandbox_ll_allow(rs, "/proc", LL_READ_DIR, h);
#endif
	return r;
}

/* The ruleset attribute for abi; *size is how much of it the kernel should read. */
static struct adc_ll_ruleset_attr
sandbox_ll_attr(enum sandbox_role role, int abi, size_t *size)
{
	struct adc_ll_ruleset_attr a = { .handled_access_fs = sandbox_ll_handled_fs(abi) };

	*size = sizeof(a.handled_access_fs);
	if (abi >= 4) {
		/* No role binds a TCP port (the parent bound its management port before).
		 * Connect stays open: the cloud API and the workers are on arbitrary ports. */
		a.handled_access_net = ADC_LL_NET_BIND_TCP;
		*size = offsetof(struct adc_ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		/* No signals to, and no abstract-socket connections with, processes outside
		 * this sandbox. */
		a.scoped = ADC_LL_SCOPE_ABSTRACT_UNIX | ADC_LL_SCOPE_SIGNAL;
		/* The parent's $NOTIFY_SOCKET may be an abstract socket (systemd allows it). */
		if (role == SANDBOX_DISPATCHER)
			a.scoped = ADC_LL_SCOPE_SIGNAL;
		*size = sizeof(a);
	}
	return a;
}

int
sandbox_landlock_apply(enum sandbox_role role, const struct sandbox_opts *opts, int abi)
{
	size_t size;
	struct adc_ll_ruleset_attr attr = sandbox_ll_attr(role, abi, &size);
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0), r;

	if (rs < 0)
		return -errno;
	r = sandbox_ll_rules(rs, role, opts, attr.handled_access_fs);
	if (r == 0 && syscall(SYS_landlock_restrict_self, rs, 0) != 0)
		r = -errno;
	close(rs);
	return r;
}
