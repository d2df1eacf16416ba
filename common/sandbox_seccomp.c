/*
 * sandbox_seccomp.c - the seccomp allow-list of cloudd and sshd-pool (libseccomp), and the
 * table it shares with the parent's (sandbox_seccomp_dispatcher.c).
 *
 * Default action: kill the whole process. libseccomp checks the architecture first (a
 * foreign-arch syscall is killed too). What runs under it: libuv (epoll, eventfd, pipes,
 * signals), libcurl + OpenSSL + glibc's resolver (sockets, poll, getrandom, its helper
 * threads), libssh, and this project's code. Harmless probes get an errno instead of a kill
 * (glibc's resolver tries AF_NETLINK and nscd's AF_UNIX socket, isatty() asks TCGETS, a
 * write-open is answered EACCES), so libraries fall back as they would on a locked-down
 * host. Argument filters where they are cheap: socket() families, mmap/mprotect without
 * PROT_EXEC, clone() with thread flags only, openat() read-only, ioctl() requests,
 * tgkill() to ourselves, prlimit64() get-only.
 *
 * Build with -DADC_SECCOMP_DEBUG to trap instead of kill and print the syscall number.
 */
#include "sandbox_internal.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <seccomp.h>

/* libseccomp's SCMP_A0()..SCMP_A5() leave datum_b to the default (0) for one-datum
 * comparisons, which clang's -Wextra reports. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef FIOCLEX
#define FIOCLEX 0x5451
#endif

struct sandbox_sc_allow {
	int nr;
	const char *why;
};

#define SC(name, reason)               \
	{                              \
		SCMP_SYS(name), reason \
	}

/* Unconditionally allowed, each with the reason it is needed. */
static const struct sandbox_sc_allow sandbox_sc_allowed[] = {
	SC(read, "sockets, pipes, eventfd, the parent channel"),
	SC(write, "sockets, pipes, eventfd wake-ups, log lines on stderr"),
	SC(readv, "libuv stream reads"),
	SC(writev, "libuv stream writes, OpenSSL"),
	SC(pread64, "reading an fd opened before the sandbox (tests, /proc)"),
	SC(recvfrom, "glibc resolver UDP answers, libcurl"),
	SC(sendto, "glibc resolver queries, libcurl, libsystemd's journal datagrams"),
	SC(recvmsg, "the SOCK_SEQPACKET parent channel with SCM_RIGHTS"),
	SC(sendmsg, "the parent channel, libsystemd's journal datagrams"),
	SC(recvmmsg, "glibc resolver"),
	SC(sendmmsg, "glibc resolver sends the A and AAAA queries together"),
	SC(close, "every fd"),
	SC(shutdown, "libcurl and libssh closing connections"),
	SC(connect, "TCP to the cloud API / workers; UDP to the DNS server"),
	SC(getsockopt, "SO_ERROR after a non-blocking connect"),
	SC(setsockopt, "TCP_NODELAY, keepalive, SO_SNDBUF (libsystemd)"),
	SC(getsockname, "libcurl, glibc's address sorting"),
	SC(getpeername, "libcurl, libssh"),
	SC(socketpair, "libcurl's multi wake-up and threaded-resolver notification pair"),
	SC(epoll_create1, "libuv loop"),
	SC(epoll_ctl, "libuv loop"),
	SC(epoll_wait, "libuv loop"),
	SC(epoll_pwait, "libuv loop"),
	SC(epoll_pwait2, "libuv loop on newer kernels"),
	SC(eventfd2, "libuv async handles"),
	SC(pipe2, "libuv signal pipe"),
	SC(poll, "glibc resolver, OpenSSL, libssh"),
	SC(ppoll, "glibc resolver, libcurl"),
	SC(select, "libssh fallback waits"),
	SC(pselect6, "libssh fallback waits"),
	SC(fcntl, "O_NONBLOCK / FD_CLOEXEC flags (libuv, libcurl, libssh)"),
	SC(fstat, "stdio, libuv"),
	SC(newfstatat, "glibc fstat(), resolver checks of resolv.conf"),
	SC(statx, "glibc stat family on newer glibc"),
	SC(lseek, "stdio on files opened read-only"),
	SC(dup, "libuv, stdio"),
	SC(dup3, "libuv"),
	SC(getrandom, "OpenSSL, mbedTLS, libuv, glibc malloc"),
	SC(clock_gettime, "timers (usually the vDSO; the syscall is the fallback)"),
	SC(clock_getres, "libuv"),
	SC(gettimeofday, "libssh, OpenSSL (vDSO fallback)"),
	SC(time, "vDSO fallback"),
	SC(nanosleep, "libcurl, glibc resolver retries"),
	SC(clock_nanosleep, "glibc sleep"),
	SC(rt_sigaction, "libuv signal handles"),
	SC(rt_sigprocmask, "libuv, pthread_create"),
	SC(rt_sigreturn, "return from a signal handler"),
	SC(sigaltstack, "glibc and sanitizers' signal stacks"),
	SC(futex, "threads: libcurl resolver, libuv thread pool"),
	SC(set_robust_list, "new threads"),
	SC(get_robust_list, "glibc"),
	SC(rseq, "new threads (glibc registers rseq)"),
	SC(set_tid_address, "new threads"),
	SC(sched_yield, "spin locks in OpenSSL and sanitizers"),
	SC(sched_getaffinity, "libuv uv_available_parallelism, sysconf(NPROCESSORS)"),
	SC(exit, "thread exit"),
	SC(exit_group, "process exit"),
	SC(restart_syscall, "restart after a signal"),
	SC(brk, "malloc"),
	SC(munmap, "malloc, thread stacks"),
	SC(mremap, "realloc of large blocks"),
	SC(madvise, "malloc trimming, thread stack release"),
	SC(getpid, "libuv, logging (PID field), OpenSSL fork checks"),
	SC(gettid, "glibc, libuv"),
	SC(getppid, "checking the parent is alive"),
	SC(getuid, "libssh, OpenSSL"),
	SC(geteuid, "libssh, OpenSSL"),
	SC(getgid, "libssh, OpenSSL"),
	SC(getegid, "libssh, OpenSSL"),
	SC(uname, "OpenSSL, libcurl user agent, glibc"),
	SC(sysinfo, "libuv memory queries, glibc"),
	SC(getrlimit, "glibc pthread_create stack size"),
	SC(getrusage, "libuv uv_getrusage (metrics)"),
	SC(getdents64, "reading a directory fd opened before the sandbox"),
#ifdef ADC_SANITIZE
	/* AddressSanitizer / UBSan runtimes: thread registration and error reports. */
	SC(readlink, "ASan: /proc/self/exe in reports"),
	SC(readlinkat, "ASan: /proc/self/exe in reports"),
	SC(mincore, "ASan: checking a stack address is mapped"),
	SC(prctl, "ASan: PR_GET_DUMPABLE and thread names in reports (all options)"),
	SC(getpgid, "sanitizer runtime"),
	SC(stat, "sanitizer runtime: looking for llvm-symbolizer (raw syscall)"),
	SC(lstat, "sanitizer runtime (raw syscall)"),
	SC(access, "sanitizer runtime (raw syscall)"),
	SC(pipe, "sanitizer runtime: symbolizer pipes (raw syscall, fails on fork anyway)"),
	SC(wait4, "sanitizer symbolizer (only if started before the sandbox)"),
#endif
};

/* One rule; logs and returns -errno on failure. */
static int
sandbox_sc_rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n,
		const struct scmp_arg_cmp *cmp)
{
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);

	if (r < 0) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		log_kv_err(LOG_LVL_ERROR, "sandbox: seccomp rule failed", strerror(-r),
			   LF_STR("syscall", name ? name : "?"));
		free(name);
	}
	return r;
}

#define RULE0(ctx, act, sys) sandbox_sc_rule((ctx), (act), SCMP_SYS(sys), 0, NULL)
#define RULE(ctx, act, sys, ...)                                         \
	sandbox_sc_rule((ctx), (act), SCMP_SYS(sys),                     \
			sizeof((struct scmp_arg_cmp[]){ __VA_ARGS__ }) / \
				sizeof(struct scmp_arg_cmp),             \
			(struct scmp_arg_cmp[]){ __VA_ARGS__ })

/* mmap/mprotect: never PROT_EXEC (no new code after start-up); refused with EACCES so that
 * a late dlopen() fails cleanly instead of killing the process. */
static int
sandbox_sc_memory(scmp_filter_ctx ctx, int nr, unsigned prot_arg)
{
	struct scmp_arg_cmp noexec = { prot_arg, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 };
	struct scmp_arg_cmp exec = { prot_arg, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC };
	int r = sandbox_sc_rule(ctx, SCMP_ACT_ALLOW, nr, 1, &noexec);

	return r < 0 ? r : sandbox_sc_rule(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1, &exec);
}

int
sandbox_seccomp_rule(void *ctx, uint32_t action, int nr, unsigned n, const void *cmp)
{
	return sandbox_sc_rule(ctx, action, nr, n, cmp);
}

/* open/openat: read-only allowed (Landlock decides which paths), writing refused. */
static int
sandbox_sc_open(scmp_filter_ctx ctx, int nr, unsigned flags_arg)
{
	int r = sandbox_sc_rule(
		ctx, SCMP_ACT_ALLOW, nr, 1,
		(struct scmp_arg_cmp[]){ { flags_arg, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDONLY } });

	if (r == 0)
		r = sandbox_sc_rule(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1,
				    (struct scmp_arg_cmp[]){ { flags_arg, SCMP_CMP_MASKED_EQ,
							       O_ACCMODE, O_WRONLY } });
	if (r == 0)
		r = sandbox_sc_rule(ctx, SCMP_ACT_ERRNO(EACCES), nr, 1,
				    (struct scmp_arg_cmp[]){
					    { flags_arg, SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDWR } });
	return r;
}

/* socket() families other than those in allowed[] get EAFNOSUPPORT. libseccomp allows one
 * comparison per argument in a rule, so this is one rule per small family number (all
 * below AF_INET6 + 1 = 11) plus one for every family above 10. */
int
sandbox_seccomp_deny_families(void *ctx, const int *allowed, int n)
{
	int r = 0;

	for (int f = 0; r == 0 && f <= AF_INET6; f++) {
		bool ok = false;

		for (int i = 0; i < n; i++)
			ok = ok || allowed[i] == f;
		if (!ok)
			r = RULE(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), socket,
				 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)f));
	}
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), socket, SCMP_A0(SCMP_CMP_GT, AF_INET6));
	return r;
}

/* socket(): TCP/UDP over IPv4/IPv6. With journal output, libsystemd's one datagram socket
 * (it opens it lazily, on the first entry; other AF_UNIX types are refused). Other
 * families get EAFNOSUPPORT (glibc's AF_NETLINK and nscd probes then fall back); raw IP
 * sockets are killed. */
static int
sandbox_sc_socket(scmp_filter_ctx ctx, bool journal)
{
	static const int fam[] = { AF_INET, AF_INET6, AF_UNIX },
			 typ[] = { SOCK_STREAM, SOCK_DGRAM };
	int r = 0;

	for (int f = 0; r == 0 && f < 2; f++)
		for (int t = 0; r == 0 && t < 2; t++)
			r = RULE(ctx, SCMP_ACT_ALLOW, socket,
				 SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fam[f]),
				 SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)typ[t]));
	if (r == 0 && journal)
		r = RULE(ctx, SCMP_ACT_ALLOW, socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			 SCMP_A1(SCMP_CMP_EQ, SOCK_DGRAM | SOCK_CLOEXEC), SCMP_A2(SCMP_CMP_EQ, 0));
	if (r == 0 && journal)
		r = RULE(ctx, SCMP_ACT_ERRNO(EACCES), socket, SCMP_A0(SCMP_CMP_EQ, AF_UNIX),
			 SCMP_A1(SCMP_CMP_NE, SOCK_DGRAM | SOCK_CLOEXEC));
	if (r == 0)
		r = sandbox_seccomp_deny_families(ctx, fam, journal ? 3 : 2);
	return r;
}

int
sandbox_seccomp_open_rdonly(void *ctx)
{
	int r = sandbox_sc_open(ctx, SCMP_SYS(openat), 2);

	return r == 0 ? sandbox_sc_open(ctx, SCMP_SYS(open), 1) : r;
}

/* ioctl(): the four fd-flag requests libuv and libcurl use; the terminal probes of
 * isatty() answered ENOTTY; anything else is killed. */
int
sandbox_seccomp_ioctl(void *ctx)
{
	static const unsigned long ok[] = { FIONREAD, FIONBIO, FIOCLEX, FIONCLEX };
	static const unsigned long tty[] = { TCGETS, TIOCGWINSZ };
	int r = 0;

	for (size_t i = 0; r == 0 && i < 4; i++)
		r = RULE(ctx, SCMP_ACT_ALLOW, ioctl, SCMP_A1(SCMP_CMP_EQ, ok[i]));
	for (size_t i = 0; r == 0 && i < 2; i++)
		r = RULE(ctx, SCMP_ACT_ERRNO(ENOTTY), ioctl, SCMP_A1(SCMP_CMP_EQ, tty[i]));
	return r;
}

/* Threads yes (libcurl's resolver, libuv's pool), processes no. clone3's flags live in
 * memory that seccomp cannot read, so it gets ENOSYS and glibc falls back to clone(). */
static int
sandbox_sc_threads(scmp_filter_ctx ctx)
{
	const scmp_datum_t tf = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
	int r = RULE(ctx, SCMP_ACT_ALLOW, clone, SCMP_A0(SCMP_CMP_MASKED_EQ, tf, tf));

	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ERRNO(EPERM), clone,
			 SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3);
#ifdef ADC_SANITIZE
	/* The sanitizer runtime fork()s llvm-symbolizer for its reports (raw syscall): refuse,
	 * so the report is printed unsymbolized instead of the process being killed. */
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(EPERM), fork);
	if (r == 0)
		r = RULE0(ctx, SCMP_ACT_ERRNO(EPERM), vfork);
#endif
	return r;
}

static int
sandbox_sc_misc(scmp_filter_ctx ctx)
{
	int r;

	/* abort() and raise() signal this process only. */
	r = RULE(ctx, SCMP_ACT_ALLOW, tgkill, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* prlimit64 as getrlimit: reading limits only (new_limit == NULL). */
	if (r == 0)
		r = RULE(ctx, SCMP_ACT_ALLOW, prlimit64, SCMP_A2(SCMP_CMP_EQ, 0));
#ifndef ADC_SANITIZE
	/* prctl: reading the dumpable flag (tests, diagnostics) and naming threads only. */
	static const int pr_ok[] = { PR_GET_DUMPABLE, PR_SET_NAME, PR_GET_NAME };

	for (size_t i = 0; r == 0 && i < 3; i++)
		r = RULE(ctx, SCMP_ACT_ALLOW, prctl, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)pr_ok[i]));
#endif
	if (r == 0)
		r = sandbox_sc_memory(ctx, SCMP_SYS(mmap), 2);
	if (r == 0)
		r = sandbox_sc_memory(ctx, SCMP_SYS(mprotect), 2);
	if (r == 0)
		r = sandbox_seccomp_open_rdonly(ctx);
	return r;
}

int
sandbox_seccomp_common(void *ctx)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(sandbox_sc_allowed) / sizeof(sandbox_sc_allowed[0]);
	     i++)
		r = sandbox_sc_rule(ctx, SCMP_ACT_ALLOW, sandbox_sc_allowed[i].nr, 0, NULL);
	return r;
}

static int
sandbox_sc_build(scmp_filter_ctx ctx, enum sandbox_role role, const struct sandbox_opts *opts,
		 bool journal)
{
	int r = sandbox_seccomp_common(ctx);

	if (r == 0 && role == SANDBOX_DISPATCHER)
		return sandbox_seccomp_dispatcher(ctx, opts, journal);
	if (r == 0)
		r = sandbox_sc_socket(ctx, journal);
	if (r == 0)
		r = sandbox_seccomp_ioctl(ctx);
	if (r == 0)
		r = sandbox_sc_threads(ctx);
	if (r == 0)
		r = sandbox_sc_misc(ctx);
	return r;
}

#ifdef ADC_SECCOMP_DEBUG
static void
sandbox_sc_sigsys(int sig, siginfo_t *si, void *uc)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "seccomp: blocked syscall %d\n", si->si_syscall);

	(void)sig;
	(void)uc;
	if (write(2, buf, (size_t)n) < 0)
		_exit(159);
	_exit(159);
}
#define SANDBOX_SC_DEFAULT SCMP_ACT_TRAP
#else
#define SANDBOX_SC_DEFAULT SCMP_ACT_KILL_PROCESS
#endif

int
sandbox_seccomp_apply(enum sandbox_role role, const struct sandbox_opts *opts, bool journal)
{
	scmp_filter_ctx ctx = seccomp_init(SANDBOX_SC_DEFAULT);
	int r;

	if (ctx == NULL)
		return -ENOMEM;
#ifdef ADC_SECCOMP_DEBUG
	struct sigaction sa = { .sa_sigaction = sandbox_sc_sigsys, .sa_flags = SA_SIGINFO };
	sigaction(SIGSYS, &sa, NULL);
#endif
	r = sandbox_sc_build(ctx, role, opts, journal);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
