/*
 * main.c - sshd-pool, the helper that holds the dispatch SSH private key.
 *
 * Boot order (docs/ARCHITECTURE.md): early hygiene (fds, PDEATHSIG, name), arguments and
 * logging, libssh's crypto set up, the sandbox (no filesystem at all), and only then the
 * first byte from the parent on fd 3. The key arrives as an fd with the init message.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <libssh/libssh.h>
#include <uv.h>

#include "config.h"
#include "log.h"
#include "proto_child.h"
#include "sandbox.h"
#include "sess.h"
#include "sshpool.h"

#define SSHPOOL_PARENT_FD 3

/* Test builds only (ADC_TEST_HOOKS): ADC_TEST_SSH_INIT_FAIL_DIR=DIR makes each start that can
 * remove a file from DIR answer its init with a transient failure (PROTO_E_FAILED), so that
 * the process tests see the dispatcher restart a helper with back-off. */
static bool
sshpool_test_fail_init(void)
{
#ifdef ADC_TEST_HOOKS
	const char *dir = getenv("ADC_TEST_SSH_INIT_FAIL_DIR");
	struct dirent *e;
	char path[4096];
	bool hit = false;
	DIR *d;

	if (dir == NULL || (d = opendir(dir)) == NULL)
		return false;
	while (!hit && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < sizeof(path))
			hit = unlink(path) == 0;
	closedir(d);
	return hit;
#else
	return false;
#endif
}

/* A -keepalive-* flag's value in ms (0 when not given); -1 after a message on stderr. */
static int
sshpool_flag_ms(const char *flag, const char *v, uint64_t *ms)
{
	cfg_duration_ns ns;

	*ms = 0;
	if (v == NULL)
		return 0;
	if (cfg_parse_duration(v, &ns) != 0 || ns < 1000000) {
		fprintf(stderr, "sshd-pool: %s: bad duration \"%s\" (e.g. 5s, at least 1ms)\n",
			flag, v);
		return -1;
	}
	*ms = (uint64_t)(ns / 1000000);
	return 0;
}

int
main(int argc, char **argv)
{
	static const int keep[] = { SSHPOOL_PARENT_FD };
	struct pchild_args a;
	struct sshpool sp = { 0 };
	uv_loop_t loop;
	int r;

	if (sandbox_child_early("sshd-pool", keep, 1) != 0)
		return 1;
	if ((r = pchild_parse_args(argc, argv, &a)) != 0)
		return r;
	if (sshpool_flag_ms("-keepalive-interval", a.keepalive_interval, &sp.keepalive_ms) != 0)
		return 2;
	if (sshpool_flag_ms("-keepalive-timeout", a.keepalive_timeout, &sp.keepalive_timeout_ms))
		return 2;
	pchild_log_init("sshd-pool", &a);
	if (ssh_init() != 0) {
		log_kv(LOG_LVL_FATAL, "cannot initialise libssh", LF_STR("Helper", "sshd-pool"));
		return 1;
	}
	/* Two descriptors per worker connection: the soft limit (often 1024) up to the hard one
	 * while setrlimit is still allowed; sess_opts_defaults sizes max_conns from it. */
	if (sess_raise_nofile() < 0)
		log_kv(LOG_LVL_WARN, "cannot raise RLIMIT_NOFILE to its hard limit",
		       LF_STR("Helper", "sshd-pool"));
	uv_loop_init(&loop);
	sp.loop = &loop;
	sp.test_fail_init = sshpool_test_fail_init();
	if (sandbox_apply(SANDBOX_SSHD_POOL,
			  &(struct sandbox_opts){ .user = a.user,
						  .insecure = a.insecure_no_sandbox,
						  .require_landlock = a.require_landlock }) != 0) {
		log_kv(LOG_LVL_FATAL, "cannot apply the sandbox; refusing to start",
		       LF_STR("Helper", "sshd-pool"), LF_STR("flag", "-insecure-no-sandbox"));
		return 1;
	}
	r = pchild_serve(&loop, SSHPOOL_PARENT_FD,
			 &(struct pchild_ops){
				 .name = "sshd-pool",
				 .role = PROTO_ROLE_SSHD_POOL,
				 .init_type = PROTO_SSH_INIT_REQ,
				 .on_init = sshpool_on_init,
				 .on_request = sshpool_on_request,
				 .arg = &sp,
			 });
	sshpool_teardown(&sp);
	return r;
}
