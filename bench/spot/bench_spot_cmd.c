/* bench_spot_cmd.c - print the run probe's command line as sshd-pool builds it
 * (ops_cmd_run_probe), with the spot check for the metadata URL argv[1] and the runner argv[2],
 * or without it when argv[1] is "-"; argv[3] the check's kind, "ec2" (default) or "azure". For
 * spot_check_bench.py. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

int
main(int argc, char **argv)
{
	bool spot = argc > 1 && strcmp(argv[1], "-") != 0;
	struct ops_conf c = { .imds_url = spot ? argv[1] : NULL,
			      .imds_kind = argc > 3 ? argv[3] : "ec2",
			      .crunch_run_command = argc > 2 ? argv[2] : "true" };
	struct ops *o = NULL;
	char why[256], *cmd;
	int err = 0;

	if (argc < 2 || ops_new(&c, &o, why, sizeof(why)) != 0) {
		fprintf(stderr, "usage: %s URL|- [RUNNER [ec2|azure]] (%s)\n", argv[0],
			argc < 2 ? "" : why);
		return 2;
	}
	cmd = ops_cmd_run_probe(o, "root", 0, spot, &err);
	if (cmd == NULL)
		return 1;
	printf("%s\n", cmd);
	free(cmd);
	ops_free(o);
	return 0;
}
