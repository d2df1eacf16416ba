/*
 * unit_seccomp_exec.c - tests/packaging: run a command under the seccomp filters a systemd
 * unit's SystemCallFilter=, SystemCallErrorNumber=, RestrictAddressFamilies=,
 * MemoryDenyWriteExecute= and RestrictNamespaces= would install (systemd is not PID 1 on the
 * test machines, so unit_exec.py reproduces the unit by hand; this is its seccomp part).
 *
 *   unit_seccomp_exec ALLOWED_SYSCALLS_FILE ERRNO FAMILIES MDWE RESTRICT_NS -- COMMAND...
 *
 * ALLOWED_SYSCALLS_FILE: the expanded allow-list, one name a line (unit_exec.py expands the
 * groups with `systemd-analyze syscall-filter`); names this libseccomp does not know are
 * skipped, as systemd skips them. ERRNO: what a refused call returns. FAMILIES: a comma
 * list of address family numbers socket() may use ("" = any). MDWE, RESTRICT_NS: 0 or 1.
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

/* SCMP_A0() and friends leave datum_b out, which clang -Wextra refuses. */
#define CMP(n, o, a, b) \
	((struct scmp_arg_cmp){ .arg = (n), .op = (o), .datum_a = (a), .datum_b = (b) })

static int
fail(const char *what, int rc)
{
	fprintf(stderr, "unit_seccomp_exec: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
	return 127;
}

/* The allow-list filter: listed calls allowed, socket() only for the listed families. */
static int
load_allow_list(const char *path, int err, const char *families)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO((uint32_t)err));
	char line[128];
	FILE *f = fopen(path, "r");
	int rc, sock = seccomp_syscall_resolve_name("socket");

	if (ctx == NULL || f == NULL)
		return fail(path, errno ? errno : ENOMEM);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		int nr = seccomp_syscall_resolve_name(line);
		if (line[0] == '\0' || nr == __NR_SCMP_ERROR)
			continue;
		if (nr == sock && families[0] != '\0')
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0)
			return fail(line, rc);
	}
	fclose(f);
	for (const char *p = families; *p != '\0';) {
		char *end;
		long fam = strtol(p, &end, 10);
		if (end == p)
			return fail("bad family list", EINVAL);
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, sock, 1,
				      CMP(0, SCMP_CMP_EQ, (scmp_datum_t)fam, 0));
		if (rc != 0)
			return fail("socket rule", rc);
		p = *end == ',' ? end + 1 : end;
	}
	if ((rc = seccomp_load(ctx)) != 0)
		return fail("seccomp_load (allow-list)", rc);
	seccomp_release(ctx);
	return 0;
}

/* MemoryDenyWriteExecute= and RestrictNamespaces=yes, as a second filter (the kernel applies
 * the most restrictive answer of all filters). */
static int
load_restrictions(int mdwe, int restrict_ns)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	const scmp_datum_t wx = PROT_WRITE | PROT_EXEC;
	int rc = 0;

	if (ctx == NULL)
		return fail("seccomp_init", ENOMEM);
	if (mdwe) {
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mmap), 1,
				       CMP(2, SCMP_CMP_MASKED_EQ, wx, wx));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mprotect), 1,
				       CMP(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pkey_mprotect), 1,
				       CMP(2, SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(shmat), 1,
				       CMP(2, SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC));
	}
	if (restrict_ns) {
		static const scmp_datum_t flags[] = { CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
						      CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
						      CLONE_NEWCGROUP };
		for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
					       CMP(0, SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
			rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					       CMP(0, SCMP_CMP_MASKED_EQ, flags[i], flags[i]));
		}
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(setns), 0);
		/* clone3 passes its flags in memory: systemd answers ENOSYS so libc falls back
		 * to clone, whose flags it can check. */
		rc |= seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	}
	if (rc != 0)
		return fail("restriction rules", EINVAL);
	if ((rc = seccomp_load(ctx)) != 0)
		return fail("seccomp_load (restrictions)", rc);
	seccomp_release(ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc;

	if (argc < 8 || strcmp(argv[6], "--") != 0) {
		fprintf(stderr, "usage: unit_seccomp_exec ALLOWED_FILE ERRNO FAMILIES MDWE "
				"RESTRICT_NS -- COMMAND...\n");
		return 2;
	}
	if ((rc = load_restrictions(atoi(argv[4]), atoi(argv[5]))) != 0 ||
	    (rc = load_allow_list(argv[1], atoi(argv[2]), argv[3])) != 0)
		return rc;
	execv(argv[7], argv + 7);
	return fail(argv[7], errno);
}
