/*
 * config_unknown.c - warnings for keys nobody reads, in the sections the dispatcher owns.
 *
 * As the reference: "deprecated or unknown config entry: <path>", plus " (perhaps you meant
 * X?)" when the key matches a known one but for case; the mis-cased key is then dropped (its
 * value is not used, and workers do not receive it). Keys of other services' sections are not
 * looked at.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"

/* 1: known; 0: unknown; -1: unknown but *near is a case-insensitive match. */
static int
unknown_classify(const char *const *keys, const char *k, const char **near)
{
	*near = NULL;
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], k) == 0)
			return 1;
	for (size_t i = 0; keys[i]; i++)
		if (strcasecmp(keys[i], k) == 0) {
			*near = keys[i];
			return -1;
		}
	return 0;
}

/* Report the unknown keys of one mapping (rel names it); drop the mis-cased ones. */
static void
unknown_check_map(struct cfg_ctx *x, const char *rel, struct fy_node *map, const char *const *keys)
{
	struct fy_node_pair *p;
	struct fy_node **drop = NULL;
	size_t ndrop = 0;
	void *it = NULL;

	if (!map || fy_node_get_type(map) != FYNT_MAPPING)
		return;
	while ((p = fy_node_mapping_iterate(map, &it))) {
		struct fy_node *kn = fy_node_pair_key(p);
		char *k = cfg_scalar_dup(kn), path[512];
		const char *near;
		int c = k ? unknown_classify(keys, k, &near) : 1;

		if (c <= 0) {
			snprintf(path, sizeof(path), "%s.%s", rel, k);
			cfg_report(x, false, path, kn, NULL,
				   "deprecated or unknown config entry: %s.%s%s%s%s", x->prefix,
				   path, near ? " (perhaps you meant " : "", near ? near : "",
				   near ? "?)" : "");
		}
		if (c < 0) {
			struct fy_node **d = realloc(drop, (ndrop + 1) * sizeof(*d));
			if (d) {
				drop = d;
				drop[ndrop++] = kn;
			}
		}
		free(k);
	}
	/* Removing while iterating is not safe: drop them afterwards. */
	for (size_t i = 0; i < ndrop; i++)
		fy_node_free(fy_node_mapping_remove_by_key(map, drop[i]));
	free(drop);
}

static void
unknown_check_types(struct cfg_ctx *x, const struct cfg_section *s)
{
	struct fy_node *types = cfg_lookup(x->cluster, "InstanceTypes", NULL);
	const char *sub = s->rel + strlen("InstanceTypes.*");
	struct fy_node_pair *p;
	void *it = NULL;

	if (!types || fy_node_get_type(types) != FYNT_MAPPING)
		return;
	while ((p = fy_node_mapping_iterate(types, &it))) {
		char *name = cfg_scalar_dup(fy_node_pair_key(p)), rel[512];
		struct fy_node *v = fy_node_pair_value(p);

		if (name && *sub)
			v = cfg_lookup(v, sub + 1, NULL);
		if (name) {
			snprintf(rel, sizeof(rel), "InstanceTypes.%s%s", name, sub);
			unknown_check_map(x, rel, v, s->keys);
		}
		free(name);
	}
}

void
cfg_unknown_check(struct cfg_ctx *x)
{
	for (const struct cfg_section *s = cfg_sections; s->rel; s++) {
		if (strncmp(s->rel, "InstanceTypes.*", 15) == 0)
			unknown_check_types(x, s);
		else
			unknown_check_map(x, s->rel, cfg_lookup(x->cluster, s->rel, NULL), s->keys);
	}
}
