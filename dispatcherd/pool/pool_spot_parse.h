/* pool_spot_parse.h - reading the spot check's line (-spot-interruption-notices), the first
 * line of a run probe's output when the probe asked for it (sshd-pool/ops.c,
 * ops_cmd_spot_check: EC2's instance-action or Azure's Scheduled Events). Untrusted like the
 * rest of that output: a worker's root can print anything, or answer for the metadata
 * service. Pure: no pool, no loop, so that
 * tests/pool/fuzz_pool_spot.c feeds it arbitrary bytes. */
#ifndef ADC_POOL_SPOT_PARSE_H
#define ADC_POOL_SPOT_PARSE_H

enum pool_spot_kind {
	POOL_SPOT_MISSING = 0, /* the first line is not the spot check's */
	POOL_SPOT_NONE,	       /* no notice: EC2 answered 404, Azure no Preempt for this VM */
	POOL_SPOT_NOTICE,      /* a notice: action and time below */
	POOL_SPOT_NO_CURL,     /* the worker has no curl: no notice can be seen */
	POOL_SPOT_ERROR,       /* anything else (no token, another status, a bad notice): why */
};

#define POOL_SPOT_TIME_MAX 40

struct pool_spot {
	enum pool_spot_kind kind;
	/* NOTICE: EC2's "terminate", "stop" or "hibernate", else "other"; Azure's "preempt" (a
	 * metric label). */
	char action[16];
	/* NOTICE: the notice's time as EC2 wrote it (RFC 3339), checked to be 1..35 characters
	 * of [0-9A-Za-z:.+-], or Azure's NotBefore turned into RFC 3339; "" if it had none or
	 * another. */
	char time[POOL_SPOT_TIME_MAX];
	char why[96]; /* ERROR, MISSING: printable ASCII only */
};

/*
 * Reads the first line of out into s. id is the worker's instance id: an Azure Scheduled
 * Events line is a notice only for an event naming this VM (id's last '/' part). When it is the spot check's line, it is cut off and the
 * rest (crunch-run's own output, what pool_probe_lines_parse reads) is returned; otherwise
 * (MISSING) out is returned unchanged. out is NUL-terminated and is modified in place.
 */
char *pool_spot_take(char *out, const char *id, struct pool_spot *s);

#endif
