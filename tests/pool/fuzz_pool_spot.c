/*
 * fuzz_pool_spot.c - libFuzzer target: arbitrary bytes as a run probe's output with the spot
 * check's line first (-spot-interruption-notices: EC2's instance-action or Azure's Scheduled
 * Events), through the pool's own reader
 * (pool_spot_take, dispatcherd/pool). Checks what the pool relies on afterwards: the rest it
 * returns lies inside the input and starts a line; a notice's action is one of the five
 * metric labels (EC2's four, Azure's "preempt") and its time only [0-9A-Za-z:.+-] (it reaches the log, the management API
 * and a label set); every text is NUL-terminated within its array.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool_spot_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *orig = malloc(size + 1), *rest;
	struct pool_spot s;
	static const char *const labels[] = { "terminate", "stop", "hibernate", "other",
					      "preempt" };
	bool known = false;

	if (!buf || !orig)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0; /* the probe's stdout arrives NUL-terminated (pool_probe.h) */
	memcpy(orig, buf, size + 1);
	/* An Azure instance id: the corpus's Scheduled Events documents name this VM. */
	rest = pool_spot_take(buf, "/subscriptions/sub-1/virtualMachines/vm1", &s);
	if (rest < buf || rest > buf + strlen(orig))
		abort();
	if (rest != buf && orig[rest - buf - 1] != '\n' && rest != buf + strlen(orig))
		abort();
	if (s.kind == POOL_SPOT_MISSING && rest != buf)
		abort();
	if (strcmp(rest, orig + (rest - buf)) != 0) /* the rest is untouched */
		abort();
	check_printable(s.why, sizeof(s.why));
	check_printable(s.time, sizeof(s.time));
	if (s.time[0] && strspn(s.time, "0123456789:.+-abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(s.time))
		abort();
	if (s.kind == POOL_SPOT_NOTICE) {
		for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
			known = known || strcmp(s.action, labels[i]) == 0;
		if (!known)
			abort();
	}
	free(buf);
	free(orig);
	return 0;
}
