/*
 * pool_runner_path.c - what DeployRunnerBinary means here (spec 12 question 1, design
 * "Runner binary"). The reference's default /proc/self/exe is "the dispatcher itself", which
 * is crunch-run in Go but not in this C dispatcher: it is read as the installed Arvados
 * crunch-run found on PATH.
 */
#include "pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL_SELF_EXE "/proc/self/exe"

static int
pool_runner_on_path(const char *path_env, char **out)
{
	const char *p = path_env;

	while (p && *p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char buf[4096];
		struct stat st;

		/* An empty PATH element means the current directory: never for a root binary. */
		if (n > 0 && n + sizeof("/crunch-run") < sizeof(buf) && p[0] == '/') {
			snprintf(buf, sizeof(buf), "%.*s/crunch-run", (int)n, p);
			if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
				return (*out = strdup(buf)) ? 0 : -ENOMEM;
		}
		p = end ? end + 1 : NULL;
	}
	return -ENOENT;
}

int
pool_runner_resolve(const char *configured, const char *path_env, char **out, char *err,
		    size_t errlen)
{
	int rc;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!configured || strcmp(configured, POOL_SELF_EXE) != 0)
		return (*out = strdup(configured ? configured : "")) ? 0 : -ENOMEM;
	if (!path_env)
		path_env = getenv("PATH");
	rc = pool_runner_on_path(path_env, out);
	if (rc == -ENOENT && err)
		snprintf(
			err, errlen,
			"Containers.CloudVMs.DeployRunnerBinary is %s (the default), which here "
			"means the installed Arvados crunch-run, but no crunch-run was found on "
			"PATH: install the crunch-run package, set DeployRunnerBinary to its path, "
			"or set it to \"\" if the compute image already has crunch-run",
			POOL_SELF_EXE);
	return rc;
}
