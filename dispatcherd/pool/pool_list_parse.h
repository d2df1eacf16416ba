/* pool_list_parse.h - reading what `crunch-run --list` printed on a worker (5.7.3), the most
 * untrusted text the pool sees: a worker's user can make it print anything. Pure: no pool, no
 * loop, so that tests/pool/fuzz_pool_list.c feeds it arbitrary bytes. */
#ifndef ADC_POOL_LIST_PARSE_H
#define ADC_POOL_LIST_PARSE_H

#include <stdbool.h>
#include <stddef.h>

struct pool_probe_lines {
	const char **uuids; /* running containers of this cluster, pointing into the text */
	size_t n;
	const char **stale; /* "<uuid> stale" lines of this cluster, pointing into the text */
	size_t n_stale;
	bool broken; /* a "broken" line */
};

/* Splits out (modified in place: lines and the " stale" suffixes are cut) into l. A line
 * counts only if its UUID matches container_uuid_valid and starts with cluster_id (another
 * cluster's runner, or junk, is ignored: a UUID is later sent back in a --kill). 0, or -1 on
 * ENOMEM (l then holds nothing). Free with pool_probe_lines_free. */
int pool_probe_lines_parse(char *out, const char *cluster_id, struct pool_probe_lines *l);
void pool_probe_lines_free(struct pool_probe_lines *l);

#endif
