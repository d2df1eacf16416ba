/*
 * sandbox_early.c - sandbox_child_early(): the hygiene every child does first.
 *
 * - PR_SET_PDEATHSIG(SIGKILL): the child must not outlive dispatcherd. The parent may have
 *   died between fork and this prctl, in which case we were already re-parented and no
 *   signal will ever come; getppid() == 1 afterwards detects that race.
 * - close every fd above 2 except the kept ones (the parent channel, the journal...):
 *   anything else inherited by accident (a listening socket, a credentials file) must not
 *   survive into the sandbox. close_range() (Linux 5.9) in gaps between kept fds; on older
 *   kernels a walk of /proc/self/fd.
 * - PR_SET_NAME, so ps and the journal's _COMM tell the processes apart.
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static bool
sandbox_is_kept(int fd, const int *keep, int n)
{
	for (int i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/* The /proc/self/fd walk, for kernels without close_range(). */
static int
sandbox_close_walk(const int *keep, int n)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int dfd;

	if (d == NULL)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end != '\0' || end == de->d_name || fd <= 2 || fd == dfd)
			continue;
		if (!sandbox_is_kept((int)fd, keep, n))
			close((int)fd);
	}
	closedir(d);
	return 0;
}

/* Closes [lo, hi]; 0, or -ENOSYS when the kernel lacks close_range. */
static int
sandbox_close_span(unsigned lo, unsigned hi)
{
	if (lo > hi)
		return 0;
	return close_range(lo, hi, 0) == 0 ? 0 : -errno;
}

static int
sandbox_close_fds(const int *keep, int n)
{
	unsigned lo = 3;
	int r;

	/* Walk the kept fds in increasing order, closing the gaps between them. */
	for (;;) {
		unsigned next = UINT_MAX;

		for (int i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		r = sandbox_close_span(lo, next == UINT_MAX ? UINT_MAX : next - 1);
		if (r == -ENOSYS)
			return sandbox_close_walk(keep, n);
		if (r < 0 || next == UINT_MAX)
			return r;
		lo = next + 1;
	}
}

int
sandbox_child_early(const char *proc_name, const int *keep_fds, int n_keep)
{
	int r;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
		return -errno;
	if (getppid() == 1)
		return -ESRCH; /* the parent died before the prctl took effect */
	if ((r = sandbox_close_fds(keep_fds, keep_fds ? n_keep : 0)) < 0)
		return r;
	if (proc_name != NULL && prctl(PR_SET_NAME, proc_name, 0, 0, 0) != 0)
		return -errno;
	return 0;
}
