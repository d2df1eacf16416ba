/*
 * sandbox_seccomp_dispatcher.c - the parent's seccomp allow-list: the helpers' table
 * (sandbox_seccomp.c) plus what the parent does after start-up, plus what an exec'd helper
 * does before its own filter, because seccomp filters are inherited across fork and execve
 * (the helper's own, stricter, filter is added on top of this one later).
 *
 * The parent after start-up: serves the management port (accept4; listen() on the bound
 * socket only), talks to the API server (libcurl) and PostgreSQL (libpq, over TCP or a unix
 * socket), notifies systemd (an AF_UNIX datagram), forks and executes the helpers (clone
 * without namespace flags, execve: Landlock says which files), reaps and signals them.
 *
 * An exec'd helper before its own sandbox: the dynamic loader (arch_prctl, access, mmap of
 * its libraries with PROT_EXEC), the user switch (setgroups, setresgid, setresuid, and the
 * setuid(0) check that must fail), prctl (pdeath signal, name, dumpable, no_new_privs),
 * Landlock and seccomp themselves, close_range.
 *
 * Left out, and so killed: ptrace, process_vm_readv/writev, bpf, perf_event_open, mount,
 * unshare, setns, io_uring, keyctl, bind, execveat, personality, and everything else not
 * listed. memfd_create gets EPERM (nothing executable can be written). mmap(PROT_EXEC) of anonymous
 * memory and mprotect(PROT_EXEC) get EACCES: code can only come from a file Landlock lets
 * this process read, and nothing here can write a file.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <seccomp.h>

/* libseccomp's SCMP_A0()..SCMP_A5() leave datum_b to the default (0) for one-datum
 * comparisons, which clang's -Wextra reports. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct sandbox_scd_allow {
	int nr;
	const char *why;
};

#define SCD(name, reason)              \
	{                              \
		SCMP_SYS(name), reason \
	}

static const struct sandbox_scd_allow sandbox_scd_allowed[] = {
	SCD(accept4, "management HTTP connections (libuv)"),
	SCD(accept, "management HTTP connections (older libuv paths)"),
	SCD(execve, "restarting a helper; Landlock allows only the helpers' files"),
#ifdef ADC_TEST_HOOKS
	/* Test builds only: sshd-pool's ADC_TEST_SSH_INIT_FAIL_DIR hook; Landlock allows removal
	 * in that directory only (sandbox_landlock_dispatcher.c). */
	SCD(unlink, "test builds: sshd-pool's init-failure hook"),
#endif
#ifdef ADC_SANITIZE
	/* Sanitizer builds only: an exec'd helper runs a LeakSanitizer check just before its
	 * own sandbox, which stops the world with ptrace from a forked tracer (it would spin
	 * forever if the tracer were killed). Landlock still refuses ptrace of any process
	 * outside this domain (tests/sandbox checks the parent's test process). */
	SCD(ptrace, "LeakSanitizer's stop-the-world in an exec'd helper (sanitizer builds)"),
	SCD(getdents, "LeakSanitizer lists /proc/self/task (raw syscall)"),
#else /* in the common table there */
	SCD(wait4, "reaping a helper (libuv's SIGCHLD handler)"),
	SCD(access, "an exec'd helper's dynamic loader (ld.so.preload)"),
	SCD(readlink, "an exec'd helper, glibc"),
	SCD(readlinkat, "glibc realpath()"),
#endif
	SCD(waitid, "reaping a helper"),
	SCD(kill, "stopping a helper (SIGTERM, SIGKILL); Landlock scopes signals (ABI 6)"),
	SCD(dup2, "a forked helper's stdio (libuv)"),
	SCD(fstatfs, "glibc's opendir() of /proc/self/fd (metrics)"),
	SCD(arch_prctl, "an exec'd helper's dynamic loader (thread pointer)"),
	SCD(faccessat, "glibc access()"),
	SCD(faccessat2, "glibc access() on newer glibc"),
	SCD(setgroups, "an exec'd helper switching to its user"),
	SCD(setresgid, "an exec'd helper switching to its user"),
	SCD(setresuid, "an exec'd helper switching to its user"),
	SCD(setuid, "an exec'd helper checking that setuid(0) now fails"),
	SCD(setgid, "glibc setgid()"),
	SCD(getresuid, "glibc, OpenSSL (secure_getenv)"),
	SCD(getresgid, "glibc, OpenSSL (secure_getenv)"),
	SCD(getgroups, "glibc"),
	SCD(close_range, "an exec'd helper closing inherited fds"),
	SCD(landlock_create_ruleset, "an exec'd helper's own sandbox"),
	SCD(landlock_add_rule, "an exec'd helper's own sandbox"),
	SCD(landlock_restrict_self, "an exec'd helper's own sandbox"),
	SCD(seccomp, "an exec'd helper loading its own, stricter, filter"),
	SCD(getcwd, "glibc, libpq"),
	SCD(getpgrp, "glibc"),
};

#ifndef ADC_SANITIZE
/* prctl options: the parent's thread names, and an exec'd helper's start-up. */
static const int sandbox_scd_prctl[] = {
	PR_SET_NAME,	  PR_GET_NAME,	    PR_GET_DUMPABLE,	 PR_SET_DUMPABLE,
	PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS,
	PR_GET_SECCOMP,	  PR_CAPBSET_READ,  PR_GET_SECUREBITS,
};
#endif

#define RULE(ctx, act, sys, ...)                                              \
	sandbox_seccomp_rule((ctx), (act), SCMP_SYS(sys),                     \
			     sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / \
				     sizeof(struct scmp_arg_cmp),             \
			     (struct scmp_arg_cmp[]){ __VA_ARGS__ })
#define RULE0(ctx, act, sys) sandbox_seccomp_rule((ctx), (act), SCMP_SYS(sys), 0, NULL)

/* socket(): TCP and UDP over IP (libcurl, the resolver, libpq), AF_UNIX stream (libpq's
 * socket, the userdb NSS module) and datagram (sd_notify, the journal). Others:
 * EAFNOSUPPORT (glibc's netlink probe falls back); raw sockets are killed. */
static int
sandbox_scd_socket(void *ctx)
{
	static const int fam[] = { AF_INET, AF_INET6, AF_UNIX },
			 typ[] = { SOCK_STREAM, SOCK_DGRAM };
	int r = 0;

	for (int f = 0; r == 0 && f < 3; f++)
		for (int t = 0; r == 0 && t < 2; t++)
			r = RULE(ctx, SCMP_ACT_ALLOW, socket,
				 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam[f]),
				 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)typ[t]));
	return r == 0 ? sandbox_seccomp_deny_families(ctx, fam, 3) : r;
}

/* clone(): threads, and fork() (a helper's restart: libuv forks), never a new namespace.
 * clone3's flags are in memory seccomp cannot read: ENOSYS, and glibc falls back to clone. */
static int
sandbox_scd_clone(void *ctx)
{
	const scmp_datum_t ns = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
				CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;
	int r = RULE(ctx, SCMP_ACT_ALLOW, clone, SCMP_A0(SCMP_CMP_MASKED_EQ, ns, 0));

	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3);
#ifdef ADC_SANITIZE
	/* The sanitizer runtime fork()s llvm-symbolizer for its reports (raw syscall), which
	 * Landlock would not let it execute anyway: refused, the report comes unsymbolized. */
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(EPERM), fork);
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(EPERM), vfork);
#endif
	return r;
}

/* mmap(PROT_EXEC) of a file (an exec'd helper's libraries, a late dlopen of a system
 * library), never of anonymous memory; mprotect never adds PROT_EXEC. fd -1 is passed
 * sign-extended, so "not a file" is any fd argument at or above 2^31. */
static int
sandbox_scd_memory(void *ctx)
{
	const scmp_datum_t x = PROT_EXEC;
	int r = RULE(ctx, SCMP_ACT_ALLOW, mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, x, 0));

	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ALLOW, mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, x, x),
			 SCMP_A4(SCMP_CMP_LT, 0x80000000ULL));
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ERRNO(EACCES), mmap, SCMP_A2(SCMP_CMP_MASKED_EQ, x, x),
			 SCMP_A4(SCMP_CMP_GE, 0x80000000ULL));
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ALLOW, mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, x, 0));
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ERRNO(EACCES), mprotect, SCMP_A2(SCMP_CMP_MASKED_EQ, x, x));
	return r;
}

static int
sandbox_scd_misc(void *ctx, const struct sandbox_opts *opts)
{
	int r = 0;

#ifdef ADC_SANITIZE
	/* The sanitizer runtime of an exec'd helper sets RLIMIT_CORE at its start; prctl is
	 * in the common table there (any option). */
	r = sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 0, NULL);
#else
	for (size_t i = 0; r == 0 && i < sizeof(sandbox_scd_prctl) / sizeof(int); i++)
		r = RULE(ctx, SCMP_ACT_ALLOW, prctl,
			 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sandbox_scd_prctl[i]));
	/* Reading limits; setting them is refused (nothing here needs it). */
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ALLOW, prlimit64, SCMP_A2(SCMP_CMP_EQ, 0));
#endif
	/* Signals to threads of this process only (abort, raise). */
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ALLOW, tgkill, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* listen() on the management socket bound at start-up, no other. */
	/* memfd_create: EPERM, not a kill. Nothing here creates a memfd after start-up (the
	 * secrets' were made before), but libsystemd tries one for a journal entry too large for
	 * a datagram; refused, it fails that entry and the log falls back to stderr, instead of
	 * the parent being killed by a long log line. */
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(EPERM), memfd_create);
	if (r == 0 && opts->has_listen_fd)
		r = RULE(ctx, SCMP_ACT_ALLOW, listen,
			 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)opts->listen_fd));
	return r;
}

int
sandbox_seccomp_dispatcher(void *ctx, const struct sandbox_opts *opts, bool journal)
{
	size_t n = sizeof(sandbox_scd_allowed) / sizeof(sandbox_scd_allowed[0]);
	int r = 0;

	(void)journal; /* AF_UNIX datagrams are allowed anyway (sd_notify) */
	for (size_t i = 0; r == 0 && i < n; i++)
		r = sandbox_seccomp_rule(ctx, SCMP_ACT_ALLOW, sandbox_scd_allowed[i].nr, 0, NULL);
	if (r == 0)
		r = sandbox_scd_socket(ctx);
	if (r == 0)
		r = sandbox_seccomp_ioctl(ctx);
	if (r == 0)
		r = sandbox_scd_clone(ctx);
	if (r == 0)
		r = sandbox_scd_memory(ctx);
	if (r == 0)
		r = sandbox_scd_misc(ctx, opts);
	if (r == 0)
		r = sandbox_seccomp_open_rdonly(ctx);
	return r;
}
