/* pool_list_parse.c - `crunch-run --list` output into lines (pool_list_parse.h). */
#include "pool_list_parse.h"

#include <stdlib.h>
#include <string.h>

#include "container_uuid.h"

/* A container UUID of this cluster, as crunch-run --list prints it. The pattern is the one
 * sshd-pool and the proto decoders check (container_uuid_valid). */
static bool
pool_uuid_ok(const char *cluster_id, const char *s)
{
	size_t cl = strlen(cluster_id);

	return container_uuid_valid(s) && cl == 5 && strncmp(s, cluster_id, cl) == 0;
}

int
pool_probe_lines_parse(char *out, const char *cluster_id, struct pool_probe_lines *l)
{
	size_t cap = 1;

	memset(l, 0, sizeof(*l));
	for (const char *c = out; *c; c++)
		cap += *c == '\n';
	l->uuids = calloc(cap, sizeof(char *));
	l->stale = calloc(cap, sizeof(char *));
	if (!l->uuids || !l->stale) {
		pool_probe_lines_free(l);
		return -1;
	}
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (strcmp(line, "broken") == 0) {
			l->broken = true;
		} else if (sp && strcmp(sp, " stale") == 0) {
			*sp = 0;
			if (pool_uuid_ok(cluster_id, line))
				l->stale[l->n_stale++] = line;
		} else if (!sp && pool_uuid_ok(cluster_id, line)) {
			l->uuids[l->n++] = line;
		}
	}
	return 0;
}

void
pool_probe_lines_free(struct pool_probe_lines *l)
{
	free(l->uuids);
	free(l->stale);
	memset(l, 0, sizeof(*l));
}
