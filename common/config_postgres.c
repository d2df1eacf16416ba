/*
 * config_postgres.c - PostgreSQL.Connection (spec 1.3): the map of libpq connection keywords
 * (host, port, user, password, dbname, sslmode, ...) the dispatcher uses for its advisory lock
 * (spec 1.6 step 4). Values are kept as text, in file order; scalars only. The password is a
 * secret: freed wiped, never printed. Whether the keywords are libpq's is checked where libpq
 * is linked (dispatcherd/pglock.c), not here.
 */
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "util.h"

static void
pg_free_partial(struct cfg_postgres *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		adc_free_secret_str(p->values[i]);
	}
	free(p->keys);
	free(p->values);
	memset(p, 0, sizeof(*p));
}

void
cfg_postgres_free(struct cfg_postgres *p)
{
	pg_free_partial(p);
}

const char *
cfg_postgres_get(const struct cfg_postgres *p, const char *key)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->keys[i], key) == 0)
			return p->values[i];
	return NULL;
}

int
cfg_read_postgres(struct cfg_ctx *x)
{
	struct cfg_postgres *p = &x->c->postgres;
	struct fy_node *kn = NULL, *map = cfg_lookup(x->cluster, "PostgreSQL.Connection", &kn);
	struct fy_node_pair *pair;
	void *it = NULL;
	int n;

	if (map == NULL || cfg_node_is_null(map))
		return 0;
	if (fy_node_get_type(map) != FYNT_MAPPING) {
		cfg_report(x, true, "PostgreSQL.Connection", kn, map,
			   "expected a mapping of connection parameters");
		return 0;
	}
	n = fy_node_mapping_item_count(map);
	if (n <= 0)
		return 0;
	p->keys = calloc((size_t)n, sizeof(char *));
	p->values = calloc((size_t)n, sizeof(char *));
	if (p->keys == NULL || p->values == NULL) {
		pg_free_partial(p);
		return -1;
	}
	while ((pair = fy_node_mapping_iterate(map, &it)) != NULL) {
		struct fy_node *k = fy_node_pair_key(pair), *v = fy_node_pair_value(pair);
		char *ks = cfg_scalar_dup(k), *vs = NULL;
		char rel[160];

		snprintf(rel, sizeof(rel), "PostgreSQL.Connection.%s", ks ? ks : "?");
		if (ks == NULL || ks[0] == '\0') {
			cfg_report(x, true, "PostgreSQL.Connection", k, v,
				   "expected a connection parameter name");
			free(ks);
			continue;
		}
		if (v == NULL || cfg_node_is_null(v))
			vs = strdup("");
		else if ((vs = cfg_scalar_dup(v)) == NULL) {
			/* never quote the value: it may be the password */
			cfg_report(x, true, rel, k, v, "expected a string");
			free(ks);
			continue;
		}
		if (vs == NULL) {
			free(ks);
			pg_free_partial(p);
			return -1;
		}
		p->keys[p->n] = ks;
		p->values[p->n++] = vs;
	}
	return 0;
}
