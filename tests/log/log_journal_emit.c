/*
 * log_journal_emit - helper for journal_test.py: logs one entry with journal output on.
 *
 * usage: log_journal_emit UUID [sandbox|sandbox-cloudd|sandbox-under-parent [BODY_BYTES]]
 * With "sandbox" it first applies the sshd-pool sandbox ("sandbox-cloudd": cloudd's), as user
 * nobody when root, to show that native journal sending survives Landlock + seccomp;
 * "sandbox-under-parent" applies the parent's policy first, then sshd-pool's. With
 * BODY_BYTES the entry also carries a field Body (ADC_BODY) of that many bytes: beyond the
 * journal socket's send buffer, libsystemd passes the entry in a sealed memfd instead of a
 * datagram (docs/SANDBOX.md, "Journald and the sandbox"). Exit status 0 when logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

int
main(int argc, char **argv)
{
	struct sandbox_opts opts = { .user = "nobody" };
	size_t body_len = argc > 3 ? strtoul(argv[3], NULL, 10) : 0;
	char *body = calloc(1, body_len + 1);

	if (argc < 2 || body == NULL)
		return 2;
	memset(body, 'b', body_len);
	log_init("cloudd", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(true);
	log_set_cluster_id("zzzzz");
	enum sandbox_role role = argc > 2 && strcmp(argv[2], "sandbox-cloudd") == 0
					 ? SANDBOX_CLOUDD
					 : SANDBOX_SSHD_POOL;

	/* As a helper is started in production: inside the parent's policy (inherited across
	 * fork and execve), then its own on top. */
	if (argc > 2 && strcmp(argv[2], "sandbox-under-parent") == 0 &&
	    sandbox_apply(SANDBOX_DISPATCHER, &(struct sandbox_opts){ 0 }) != 0) {
		fprintf(stderr, "sandbox_apply (parent's policy) failed\n");
		return 1;
	}
	if (argc > 2 && strncmp(argv[2], "sandbox", 7) == 0 && sandbox_apply(role, &opts) != 0) {
		fprintf(stderr, "sandbox_apply failed\n");
		return 1;
	}
	log_kv_err(LOG_LVL_WARN, "instance unresponsive, shutting down", "timeout",
		   LF_STR("ContainerUUID", argv[1]), LF_STR("Instance", "i-0123456789"),
		   LF_STR("InstanceType", "m5.large"), LF_STR("WorkerState", "booting"),
		   LF_INT("RunningContainers", 3), LF_STR("IdleBehavior", "run"),
		   body_len ? LF_STR("Body", body) : LF_END);
	free(body);
	return 0;
}
