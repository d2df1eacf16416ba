/*
 * main.c - sshd-pool, the helper that holds the dispatch SSH private key.
 *
 * Boot order (docs/ARCHITECTURE.md): early hygiene (fds, PDEATHSIG, name), arguments and
 * logging, libssh's crypto set up, the sandbox (no filesystem at all), and only then the
 * first byte from the parent on fd 3. The key arrives as an fd with the init message.
 */
#include <libssh/libssh.h>
#include <uv.h>

#include "log.h"
#include "proto_child.h"
#include "sandbox.h"
#include "sshpool.h"

#define SSHPOOL_PARENT_FD 3

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
	pchild_log_init("sshd-pool", &a);
	if (ssh_init() != 0) {
		log_kv(LOG_LVL_FATAL, "cannot initialise libssh", LF_STR("Helper", "sshd-pool"));
		return 1;
	}
	uv_loop_init(&loop);
	sp.loop = &loop;
	if (sandbox_apply(SANDBOX_SSHD_POOL,
			  &(struct sandbox_opts){ .user = a.user,
						  .insecure = a.insecure_no_sandbox }) != 0) {
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
