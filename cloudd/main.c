/*
 * main.c - cloudd, the helper that holds the cloud credentials.
 *
 * Boot order (docs/ARCHITECTURE.md): early hygiene (fds, PDEATHSIG, name), arguments and
 * logging, loading what is needed before lock-down, the sandbox (none but non-dumpable for
 * the loopback driver, see cloudd_loopback_hygiene), and only then the first byte from the
 * parent on fd 3.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include "cloudd.h"
#include "heap_tune.h"
#include "log.h"
#include "proto_child.h"
#include "sandbox.h"
#ifdef ADC_SANITIZE
#include <sanitizer/lsan_interface.h>
#endif

#define CLOUDD_PARENT_FD 3

/*
 * The loopback driver holds no secret and its instance is this host: the commands its sshd
 * runs (crunch-run, Docker) must run as the reference runs them, as the dispatcher's user in
 * a normal environment, so this cloudd applies no Landlock, no seccomp and no no_new_privs
 * (all three would be inherited by sshd and every command). It stays non-dumpable and keeps
 * its user (root when started as root, so that its sshd can log the dispatcher in as root).
 * What protects what: docs/SANDBOX.md, "cloudd -driver loopback".
 */
static int
cloudd_loopback_hygiene(void)
{
#ifdef ADC_SANITIZE
	/* As sandbox_apply: LeakSanitizer's exit check cannot ptrace a non-dumpable process. */
	__lsan_do_leak_check();
#endif
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		log_kv_err(LOG_LVL_ERROR, "cannot make cloudd non-dumpable", strerror(errno),
			   LF_STR("Driver", "loopback"));
		return -1;
	}
	log_kv(LOG_LVL_INFO,
	       "loopback driver: no Landlock or seccomp (no secret held; the instance's "
	       "commands run unconfined, as in the reference)",
	       LF_INT("uid", (int64_t)geteuid()));
	return 0;
}

int
main(int argc, char **argv)
{
	static const int keep[] = { CLOUDD_PARENT_FD };
	struct pchild_args a;
	struct cloudd cd = { 0 };
	uv_loop_t loop;
	int r;

	if (sandbox_child_early("cloudd", keep, 1) != 0)
		return 1;
	/* Answers (a DescribeInstances page is megabytes) and their XML trees (ec2_xml.c) are
	 * large blocks freed soon after. */
	heap_map_large_blocks();
	if ((r = pchild_parse_args(argc, argv, &a)) != 0)
		return r;
	pchild_log_init("cloudd", &a);
	uv_loop_init(&loop);
	/* Everything that needs the filesystem happens here, before lock-down: the CA bundle
	 * (ec2), the private directory, /run/sshd and the user name (loopback). */
	if (cloudd_setup(&cd, &loop, a.driver) != 0) {
		cloudd_teardown(&cd);
		uv_loop_close(&loop);
		return 1;
	}
	if (strcmp(a.driver, "loopback") == 0)
		r = cloudd_loopback_hygiene();
	else
		r = sandbox_apply(SANDBOX_CLOUDD, &(struct sandbox_opts){
							  .user = a.user,
							  .insecure = a.insecure_no_sandbox,
							  .require_landlock = a.require_landlock,
						  });
	if (r != 0) {
		log_kv(LOG_LVL_FATAL, "cannot apply the sandbox; refusing to start",
		       LF_STR("Helper", "cloudd"), LF_STR("flag", "-insecure-no-sandbox"));
		return 1;
	}
	r = pchild_serve(&loop, CLOUDD_PARENT_FD,
			 &(struct pchild_ops){
				 .name = "cloudd",
				 .role = PROTO_ROLE_CLOUDD,
				 .init_type = PROTO_CLOUD_INIT_REQ,
				 .on_init = cloudd_on_init,
				 .on_request = cloudd_on_request,
				 .arg = &cd,
			 });
	cloudd_teardown(&cd);
	return r;
}
