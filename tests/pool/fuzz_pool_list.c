/*
 * fuzz_pool_list.c - libFuzzer target: arbitrary bytes as a worker's `crunch-run --list`
 * output, through the pool's own parser (pool_probe_lines_parse, dispatcherd/pool). Checks
 * what the pool relies on afterwards: every UUID it keeps (to reconcile runners, and to send
 * back in a --kill) is a whole line of the input, of this cluster, and passes the one strict
 * pattern sshd-pool applies before a UUID goes into a command line (container_uuid_valid).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container_uuid.h"
#include "pool_list_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* s lies in [buf, buf+n), is a whole line there (or a line cut before " stale") and passes. */
static void
check_line(const char *buf, const char *orig, size_t n, const char *s, const char *suffix)
{
	size_t off, len;

	if (s < buf || s >= buf + n || !container_uuid_valid(s) || strncmp(s, "zzzzz", 5) != 0)
		abort();
	off = (size_t)(s - buf);
	len = strlen(s);
	if ((off > 0 && orig[off - 1] != '\n') ||
	    strncmp(orig + off + len, suffix, strlen(suffix)) != 0)
		abort();
	off += len + strlen(suffix);
	if (orig[off] != '\n' && orig[off] != '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *orig = malloc(size + 1);
	struct pool_probe_lines l;
	size_t lines = 1;

	if (!buf || !orig)
		abort();
	memcpy(buf, data, size);
	buf[size] = 0; /* the probe's stdout arrives NUL-terminated (pool_probe.h) */
	memcpy(orig, buf, size + 1);
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (pool_probe_lines_parse(buf, "zzzzz", &l) != 0)
		abort(); /* only on ENOMEM, which these sizes never reach */
	if (l.n + l.n_stale > lines)
		abort();
	for (size_t i = 0; i < l.n; i++)
		check_line(buf, orig, size, l.uuids[i], "");
	for (size_t i = 0; i < l.n_stale; i++)
		check_line(buf, orig, size, l.stale[i], " stale");
	if (l.broken && strstr(orig, "broken") == NULL)
		abort();
	pool_probe_lines_free(&l);
	free(buf);
	free(orig);
	return 0;
}
