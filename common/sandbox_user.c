/*
 * sandbox_user.c - when a child starts as root, become the role's unprivileged user.
 *
 * Defaults: arvados-cloudd (cloudd), arvados-sshd-pool (sshd-pool); the parent never drops; the
 * -cloudd-user / -sshd-pool-user flags override them (opts->user). Supplementary groups are
 * dropped, then gid, then uid (uid last, or we could no longer change the gid), and we check
 * that setuid(0) now fails. The kernel clears PR_SET_PDEATHSIG on a credential change, so it
 * is armed again here.
 */
#include "sandbox_internal.h"

#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static const char *
sandbox_user_flag(enum sandbox_role role)
{
	return role == SANDBOX_SSHD_POOL ? "-sshd-pool-user" : "-cloudd-user";
}

static int
sandbox_user_missing(enum sandbox_role role, const char *name)
{
	char err[256];

	snprintf(err, sizeof(err),
		 "user \"%s\" does not exist: create it (useradd --system --no-create-home "
		 "--shell /usr/sbin/nologin %s) or name another one with %s",
		 name, name, sandbox_user_flag(role));
	log_kv_err(LOG_LVL_ERROR, "sandbox: cannot drop privileges", err,
		   LF_STR("role", sandbox_role_name(role)), LF_STR("user", name));
	return -ENOENT;
}

static int
sandbox_user_switch(uid_t uid, gid_t gid)
{
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0)
		return -errno;
	/* If root could be regained, something (a capability, a kernel quirk) is wrong. */
	if (setuid(0) == 0 || geteuid() == 0 || getegid() == 0)
		return -EPERM;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return -errno;
	if (getppid() == 1)
		return -ESRCH;
	return 0;
}

int
sandbox_user_drop(enum sandbox_role role, const struct sandbox_opts *opts)
{
	const char *name = opts->user ? opts->user : sandbox_default_user(role);
	struct passwd *pw;
	int r;

	if (geteuid() != 0)
		return 0;
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL)
		return sandbox_user_missing(role, name);
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_kv(LOG_LVL_ERROR, "sandbox: refusing to run as a root user or group",
		       LF_STR("user", name), LF_STR("flag", sandbox_user_flag(role)));
		return -EPERM;
	}
	if ((r = sandbox_user_switch(pw->pw_uid, pw->pw_gid)) < 0)
		log_kv_err(LOG_LVL_ERROR, "sandbox: cannot drop privileges", strerror(-r),
			   LF_STR("user", name));
	return r;
}
