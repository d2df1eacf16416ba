/*
 * log_journal_emit - helper for journal_test.py: logs one entry with journal output on.
 *
 * usage: log_journal_emit UUID [sandbox]
 * With "sandbox" it first applies the sshd-pool sandbox (as user nobody when root), to show
 * that native journal sending survives Landlock + seccomp. Exit status 0 when logged.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

int
main(int argc, char **argv)
{
	struct sandbox_opts opts = { .user = "nobody" };

	if (argc < 2)
		return 2;
	log_init("cloudd", LOG_FMT_JSON, LOG_LVL_INFO);
	log_set_journal(true);
	log_set_cluster_id("zzzzz");
	if (argc > 2 && strcmp(argv[2], "sandbox") == 0 &&
	    sandbox_apply(SANDBOX_SSHD_POOL, &opts) != 0) {
		fprintf(stderr, "sandbox_apply failed\n");
		return 1;
	}
	log_kv_err(LOG_LVL_WARN, "instance unresponsive, shutting down", "timeout",
		   LF_STR("ContainerUUID", argv[1]), LF_STR("Instance", "i-0123456789"),
		   LF_STR("InstanceType", "m5.large"), LF_STR("WorkerState", "booting"),
		   LF_INT("RunningContainers", 3), LF_STR("IdleBehavior", "run"));
	return 0;
}
