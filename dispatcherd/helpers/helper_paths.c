/* helper_paths.c - see helper_paths.h. */
#include "helper_paths.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int
helper_path(const char *flag, const char *argv0, const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n;

	(void)argv0;
	if (flag != NULL) {
		snprintf(out, len, "%s", flag);
		if (access(out, X_OK) == 0)
			return 0;
		log_kv_err(LOG_LVL_FATAL, "helper is not executable", strerror(errno),
			   LF_STR("path", out));
		return -ENOENT;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(out, len, "%s/%s", self, name);
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	snprintf(out, len, "%s/%s", ADC_LIBEXECDIR, name);
	if (access(out, X_OK) == 0)
		return 0;
	log_kv(LOG_LVL_FATAL, "cannot find helper executable", LF_STR("Helper", name),
	       LF_STR("tried", out), LF_STR("flag", "-cloudd-path / -sshd-pool-path"));
	return -ENOENT;
}
