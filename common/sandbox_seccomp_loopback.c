/*
 * sandbox_seccomp_loopback.c - the seccomp filter of the cloudd-loopback role.
 *
 * The loopback driver is for development and tests: it runs a real /usr/sbin/sshd, and sshd
 * runs whatever command the dispatcher sends (a shell, a stub crunch-run). Every process it
 * starts inherits this filter, so an allow-list would have to cover sshd, the shell and
 * every command - it cannot be written down. This role therefore gets a deny-list (default
 * allow): the kernel attack surface and the escape hatches no part of a loopback worker
 * needs are killed, and Landlock (sandbox_landlock.c) confines the filesystem. Production
 * drivers (ec2, azure) use the allow-list in sandbox_seccomp.c.
 */
#include "sandbox_internal.h"

#include <errno.h>
#include <seccomp.h>

/* libseccomp's SCMP_A0()..SCMP_A5() leave datum_b to the default (0) for one-datum
 * comparisons, which clang's -Wextra reports. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <sys/socket.h>

static const int sandbox_sc_loopback_denied[] = {
	SCMP_SYS(ptrace),	     /* reading other processes' memory */
	SCMP_SYS(process_vm_readv),  /* same */
	SCMP_SYS(process_vm_writev), /* same */
	SCMP_SYS(bpf),		     /* kernel attack surface */
	SCMP_SYS(perf_event_open),   /* kernel attack surface, side channels */
	SCMP_SYS(userfaultfd),	     /* exploitation helper */
	SCMP_SYS(io_uring_setup),    /* bypasses seccomp for the operations it runs */
	SCMP_SYS(io_uring_enter),
	SCMP_SYS(io_uring_register),
	SCMP_SYS(keyctl), /* kernel keyrings */
	SCMP_SYS(add_key),
	SCMP_SYS(request_key),
	SCMP_SYS(unshare), /* new namespaces: user namespaces widen the surface */
	SCMP_SYS(setns),
	SCMP_SYS(mount), /* nothing here mounts */
	SCMP_SYS(umount2),
	SCMP_SYS(pivot_root),
	/* chroot stays allowed: a root sshd chroots its pre-auth child to /run/sshd (a
	 * smaller world, not an escape: Landlock's rules follow the process). */
	SCMP_SYS(open_by_handle_at), /* bypasses path-based checks */
	SCMP_SYS(name_to_handle_at),
	SCMP_SYS(kexec_load), /* machine-wide */
	SCMP_SYS(kexec_file_load),
	SCMP_SYS(init_module),
	SCMP_SYS(finit_module),
	SCMP_SYS(delete_module),
	SCMP_SYS(reboot),
	SCMP_SYS(swapon),
	SCMP_SYS(swapoff),
	SCMP_SYS(acct),
	SCMP_SYS(syslog),
	SCMP_SYS(settimeofday),
	SCMP_SYS(clock_settime),
	SCMP_SYS(clock_adjtime),
	SCMP_SYS(adjtimex),
	SCMP_SYS(personality), /* e.g. READ_IMPLIES_EXEC */
	SCMP_SYS(iopl),
	SCMP_SYS(ioperm),
	SCMP_SYS(quotactl),
	SCMP_SYS(lookup_dcookie),
	SCMP_SYS(vhangup),
};

int
sandbox_seccomp_loopback(void *ctx)
{
	size_t n = sizeof(sandbox_sc_loopback_denied) / sizeof(sandbox_sc_loopback_denied[0]);
	int r = 0;

	for (size_t i = 0; r == 0 && i < n; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, sandbox_sc_loopback_denied[i], 0);
	/* Sockets: IP, and AF_UNIX for sshd's internals and the journal; no netlink, no raw
	 * packet sockets. */
	if (r == 0)
		r = sandbox_seccomp_deny_families(ctx, (const int[]){ AF_UNIX, AF_INET, AF_INET6 },
						  3);
	return r;
}
