/*
 * sandbox.h - what each child does to itself before it reads an untrusted byte.
 *
 * Boot order of every child main() (see docs/ARCHITECTURE.md):
 *   sandbox_child_early()   PR_SET_PDEATHSIG, close every fd but 0,1,2 and the kept ones,
 *                           PR_SET_NAME;
 *   (role-specific loading: CA bundle, etc.)
 *   sandbox_apply(role)     non-dumpable, own unprivileged user when root, Landlock (ABI
 *                           probed), no_new_privs, seccomp allow-list (libseccomp).
 * If the sandbox cannot be applied the child refuses to start, unless the explicit
 * -insecure-no-sandbox flag was given (opts.insecure), which is logged loudly. One layer is
 * optional: on a kernel without Landlock (Debian 11, Ubuntu 20.04, RHEL 8 stock kernels) the
 * child starts with the others and logs one warning naming the missing layer, unless
 * opts.require_landlock (-require-landlock) makes that fatal too.
 */
#ifndef ADC_SANDBOX_H
#define ADC_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum sandbox_role {
	SANDBOX_CLOUDD = 0,	 /* HTTPS to the cloud API; no filesystem beyond name resolution */
	SANDBOX_CLOUDD_LOOPBACK, /* as cloudd, plus executing /usr/sbin/sshd and a private dir */
	SANDBOX_SSHD_POOL,	 /* TCP to workers; no filesystem at all */
};

struct sandbox_opts {
	const char *user;	 /* drop to this user when started as root; NULL = role default */
	const char *private_dir; /* SANDBOX_CLOUDD_LOOPBACK: read/write dir for sshd's files */
	bool insecure;		 /* -insecure-no-sandbox: skip, loudly */
	bool require_landlock;	 /* -require-landlock: no Landlock is fatal, not a warning */
	bool keep_root;		 /* SANDBOX_CLOUDD_LOOPBACK only: started as root, stay root
				    * (its sshd must run as root to log the dispatcher in as
				    * root); ignored for the other roles */
};

/* Default user per role when started as root (documented in docs/ARCHITECTURE.md). */
const char *sandbox_default_user(enum sandbox_role role);

/* Early hygiene; keep_fds lists fds (besides 0-2) to keep open, n entries. 0 or -errno. */
int sandbox_child_early(const char *proc_name, const int *keep_fds, int n_keep);

/* Apply the role's sandbox to the calling process. 0 on success; on failure -errno and a log
 * line saying which step failed. */
int sandbox_apply(enum sandbox_role role, const struct sandbox_opts *opts);

/* Landlock ABI version of the running kernel, 0 if none. */
int sandbox_landlock_abi(void);

/* The same, as sandbox_apply sees it: in test builds (ADC_TEST_HOOKS) the environment
 * variable ADC_TEST_NO_LANDLOCK=1 makes it 0, as on a kernel without Landlock. */
int sandbox_landlock_probe(void);

#endif
