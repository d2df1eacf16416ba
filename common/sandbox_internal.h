/*
 * sandbox_internal.h - the steps of sandbox_apply(), one file each, and the test hook.
 *
 * sandbox.c runs them in order; tests call sandbox_apply_hooked() to make a step fail on
 * purpose (there is no way to make the running kernel lose Landlock or seccomp).
 */
#ifndef ADC_SANDBOX_INTERNAL_H
#define ADC_SANDBOX_INTERNAL_H

#include "sandbox.h"

#include <stdint.h>

/* Test hook: pretend a step failed. Never set outside tests/sandbox. */
struct sandbox_test_hooks {
	bool fail_landlock; /* as if the kernel had no Landlock (ABI 0) */
	bool fail_seccomp;  /* as if seccomp_load() had failed */
};

int sandbox_apply_hooked(enum sandbox_role role, const struct sandbox_opts *opts,
			 const struct sandbox_test_hooks *hooks);

const char *sandbox_role_name(enum sandbox_role role);

/* Drop to the role's user when euid is 0 (no-op otherwise); re-arms PR_SET_PDEATHSIG,
 * which the kernel clears on a credential change. 0 or -errno (logged). */
int sandbox_user_drop(enum sandbox_role role, const struct sandbox_opts *opts);

/* Restrict the filesystem (and TCP bind, signals, abstract sockets where the ABI allows)
 * for role. abi > 0 is the probed Landlock ABI. 0 or -errno (logged). */
int sandbox_landlock_apply(enum sandbox_role role, const struct sandbox_opts *opts, int abi);

/* Load the role's seccomp filter. journal: admit libsystemd's AF_UNIX datagram socket.
 * 0 or -errno (logged). */
int sandbox_seccomp_apply(enum sandbox_role role, const struct sandbox_opts *opts, bool journal);

/* Helpers shared by the two filters (sandbox_seccomp.c, sandbox_seccomp_dispatcher.c); ctx is
 * a libseccomp scmp_filter_ctx. Each logs and returns -errno on failure. */
int sandbox_seccomp_deny_families(void *ctx, const int *allowed, int n);
int sandbox_seccomp_rule(void *ctx, uint32_t action, int nr, unsigned n, const void *cmp);
int sandbox_seccomp_common(void *ctx);	    /* the table both filters share */
int sandbox_seccomp_open_rdonly(void *ctx); /* open/openat: read-only, writes EACCES */
int sandbox_seccomp_ioctl(void *ctx);	    /* the fd-flag requests; isatty() ENOTTY */

/* The parent's additions (sandbox_seccomp_dispatcher.c). */
int sandbox_seccomp_dispatcher(void *ctx, const struct sandbox_opts *opts, bool journal);

/* The parent's filesystem rules (sandbox_landlock_dispatcher.c); h: the handled rights. */
int sandbox_ll_allow(int ruleset, const char *path, uint64_t access, uint64_t handled);
int sandbox_ll_rules_dispatcher(int ruleset, const struct sandbox_opts *opts, uint64_t h);

#endif
