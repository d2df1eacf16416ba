/*
 * sandbox.h - what each process does to itself before it reads an untrusted byte.
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
 *
 * The parent (SANDBOX_DISPATCHER) calls sandbox_apply() too, after start-up: once the config
 * file, the secrets and the TLS files have been read, and before it starts the helpers. It
 * keeps its user (it starts the helpers as root so that they can switch to theirs), and its
 * rules are inherited by every helper it starts, so they allow what a helper needs up to its
 * own sandbox (docs/SANDBOX.md, "The parent").
 */
#ifndef ADC_SANDBOX_H
#define ADC_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

enum sandbox_role {
	SANDBOX_CLOUDD = 0, /* HTTPS to the cloud API; no filesystem beyond name resolution */
	SANDBOX_SSHD_POOL,  /* TCP to workers; no filesystem at all */
	SANDBOX_DISPATCHER, /* the parent: system libraries and name service, executes only the
			     * helpers; never the config file */
};

struct sandbox_opts {
	const char *user;      /* drop to this user when started as root; NULL = role default
				* (SANDBOX_DISPATCHER never drops: it starts the helpers as root) */
	bool insecure;	       /* -insecure-no-sandbox: skip, loudly */
	bool require_landlock; /* -require-landlock: no Landlock is fatal, not a warning */
	/* SANDBOX_DISPATCHER only: */
	const char *const *exec_paths; /* NULL-terminated: the helper executables (re)started */
	const char *const *read_paths; /* NULL-terminated: more files or directories a helper
					* reads before its own sandbox (CA bundles named by the
					* environment); missing ones are skipped */
	int listen_fd;		       /* the bound management socket: listen() only on it */
	bool has_listen_fd;
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
