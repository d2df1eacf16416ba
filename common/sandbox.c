/*
 * sandbox.c - sandbox_apply(): the fixed order of the lock-down steps, and fail-closed.
 *
 * Order (each step needs the previous one's world, see docs/SANDBOX.md):
 *   1. name-service warm-up (cloudd and the parent): load NSS modules and read gai.conf
 *      while dlopen still works; afterwards mmap(PROT_EXEC) is refused (the parent: refused
 *      for anonymous memory only, see sandbox_seccomp_dispatcher.c).
 *   2. user drop when root (needs /etc/passwd, so before Landlock); not the parent;
 *   3. PR_SET_DUMPABLE 0 (after the drop, which resets it);
 *   4. PR_SET_NO_NEW_PRIVS (the kernel requires it before an unprivileged Landlock
 *      restrict_self, and it must precede seccomp too);
 *   5. Landlock (ABI probed; a kernel without it: one warning, or a failure with
 *      opts->require_landlock);
 *   6. the seccomp filter.
 * Any failure returns -errno, and the child must exit. With opts->insecure, steps 4-6 are
 * skipped and an error-level line says so; the user drop and non-dumpable still happen
 * because they cost nothing and a root child is the worst case.
 */
#include "sandbox_internal.h"

#include "log.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#ifdef ADC_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

const char *
sandbox_default_user(enum sandbox_role role)
{
	return role == SANDBOX_SSHD_POOL ? "arvados-sshd-pool" : "arvados-cloudd";
}

const char *
sandbox_role_name(enum sandbox_role role)
{
	switch (role) {
	case SANDBOX_CLOUDD:
		return "cloudd";
	case SANDBOX_SSHD_POOL:
		return "sshd-pool";
	case SANDBOX_DISPATCHER:
		return "dispatcher";
	}
	return "unknown";
}

/* glibc dlopen()s the NSS modules named in nsswitch.conf on first use; do that now. The
 * answer does not matter, only the side effect. */
static void
sandbox_warm_name_service(void)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;

	if (getaddrinfo("localhost", NULL, &hints, &res) == 0)
		freeaddrinfo(res);
}

static int
sandbox_fail(enum sandbox_role role, const char *step, int r)
{
	log_kv_err(LOG_LVL_ERROR, "sandbox: cannot apply, refusing to start", strerror(-r),
		   LF_STR("role", sandbox_role_name(role)), LF_STR("step", step));
	return r;
}

int
sandbox_landlock_probe(void)
{
#ifdef ADC_TEST_HOOKS
	const char *no = getenv("ADC_TEST_NO_LANDLOCK");

	if (no != NULL && strcmp(no, "1") == 0)
		return 0;
#endif
	return sandbox_landlock_abi();
}

static int
sandbox_lockdown(enum sandbox_role role, const struct sandbox_opts *opts,
		 const struct sandbox_test_hooks *hooks)
{
	int abi = hooks && hooks->fail_landlock ? 0 : sandbox_landlock_probe();
	int r;

	/* no_new_privs first: an unprivileged landlock_restrict_self() requires it. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sandbox_fail(role, "no_new_privs", -errno);
	if (abi <= 0 && opts->require_landlock)
		return sandbox_fail(role, "landlock (kernel has no Landlock; -require-landlock)",
				    -ENOSYS);
	if (abi <= 0)
		/* The other layers stay required; the kernels Arvados supports include some
		 * without Landlock (docs/SANDBOX.md, "Kernels without Landlock"). */
		log_kv(LOG_LVL_WARN,
		       "sandbox: kernel has no Landlock; running without its filesystem "
		       "restrictions",
		       LF_STR("role", sandbox_role_name(role)), LF_STR("layer", "landlock"),
		       LF_STR("flag", "-require-landlock"));
	else if ((r = sandbox_landlock_apply(role, opts, abi)) < 0)
		return sandbox_fail(role, "landlock", r);
	if (hooks && hooks->fail_seccomp)
		return sandbox_fail(role, "seccomp", -EINVAL);
	if ((r = sandbox_seccomp_apply(role, opts, log_journal_enabled())) < 0)
		return sandbox_fail(role, "seccomp", r);
	return 0;
}

int
sandbox_apply_hooked(enum sandbox_role role, const struct sandbox_opts *opts,
		     const struct sandbox_test_hooks *hooks)
{
	static const struct sandbox_opts none = { 0 };
	int r;

	if (opts == NULL)
		opts = &none;
	if (role != SANDBOX_SSHD_POOL)
		sandbox_warm_name_service();
	/* The parent keeps its user: it starts the helpers as root so that they can switch. */
	if (role != SANDBOX_DISPATCHER && (r = sandbox_user_drop(role, opts)) < 0)
		return r;
#ifdef ADC_SANITIZE
	/* LeakSanitizer's end-of-process check ptrace()s the process, which a non-dumpable,
	 * seccomp-filtered process cannot allow (it would die with "LeakSanitizer has
	 * encountered a fatal error"). Check now, while it still works; this also turns
	 * the end-of-process check off. Leaks made later in a child go unchecked. The parent
	 * keeps its end-of-process check: its filter allows ptrace and getdents in sanitizer
	 * builds (sandbox_seccomp_dispatcher.c), the tracer is in its Landlock domain, and
	 * the tests run as root (CAP_SYS_PTRACE for a non-dumpable process). */
	if (role != SANDBOX_DISPATCHER)
		__lsan_do_leak_check();
#endif
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return sandbox_fail(role, "dumpable", -errno);
	if (opts->insecure) {
		log_kv(LOG_LVL_ERROR, "sandbox disabled by -insecure-no-sandbox",
		       LF_STR("role", sandbox_role_name(role)));
		return 0;
	}
	return sandbox_lockdown(role, opts, hooks);
}

int
sandbox_apply(enum sandbox_role role, const struct sandbox_opts *opts)
{
	return sandbox_apply_hooked(role, opts, NULL);
}
