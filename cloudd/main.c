/*
 * main.c - cloudd, the helper that holds the cloud credentials.
 *
 * Boot order (docs/ARCHITECTURE.md): early hygiene (fds, PDEATHSIG, name), arguments and
 * logging, loading what is needed before lock-down, the sandbox of its driver's role, and
 * only then the first byte from the parent on fd 3.
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cloudd.h"
#include "log.h"
#include "proto_child.h"
#include "sandbox.h"

#define CLOUDD_PARENT_FD 3

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
	if ((r = pchild_parse_args(argc, argv, &a)) != 0)
		return r;
	pchild_log_init("cloudd", &a);
	uv_loop_init(&loop);
	/* Everything that needs the filesystem happens here, before lock-down: the CA bundle
	 * (ec2), the private directory, /run/sshd and the user name (loopback). */
	if (cloudd_setup(&cd, &loop, a.driver) != 0)
		return 1;
	bool loopback = strcmp(a.driver, "loopback") == 0;
	enum sandbox_role role = loopback ? SANDBOX_CLOUDD_LOOPBACK : SANDBOX_CLOUDD;
	if (sandbox_apply(role,
			  &(struct sandbox_opts){ .user = a.user,
						  .insecure = a.insecure_no_sandbox,
						  .require_landlock = a.require_landlock,
						  .private_dir = loopback ? cd.private_dir : NULL,
						  .keep_root = loopback }) != 0) {
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
