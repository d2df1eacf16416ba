/*
 * config_legacy.c - the older config layout (first seed document, Arvados 1.3/1.4), moved to
 * the new keys inside the parsed document, with one warning per old key naming the new one:
 *
 *   Clusters.<id>.CloudVMs                               -> Containers.CloudVMs
 *   Clusters.<id>.Dispatch.PrivateKey                    -> Containers.DispatchPrivateKey
 *   NodeProfiles.<any>.arvados-dispatch-cloud.Listen     -> Services.DispatchCloud.InternalURLs
 *   InstanceTypes.<n>.CUDA{DriverVersion,HardwareCapability,DeviceCount}
 *                                                        -> GPU{Stack: cuda, DriverVersion,
 *                                                               HardwareTarget, DeviceCount}
 *
 * Values are moved, not copied, so diagnostics about them still point into the file. When the
 * new key is also set, the new key wins and the old one is dropped (with its warning).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* Detach the value of pair p from map (the key is destroyed); NULL for an empty value. */
static struct fy_node *
legacy_detach(struct fy_node *map, struct fy_node_pair *p)
{
	return fy_node_mapping_remove_by_key(map, fy_node_pair_key(p));
}

static int
legacy_append(struct fy_document *doc, struct fy_node *map, const char *key, struct fy_node *value)
{
	struct fy_node *k = fy_node_create_scalar_copy(doc, key, strlen(key));

	if (!k)
		return -1;
	if (fy_node_mapping_append(map, k, value) != 0) {
		fy_node_free(k);
		return -1;
	}
	return 0;
}

/* map.key as a mapping, created empty when absent; NULL when it exists as something else. */
static struct fy_node *
legacy_ensure_map(struct fy_document *doc, struct fy_node *map, const char *key)
{
	struct fy_node *v = fy_node_mapping_lookup_by_string(map, key, strlen(key));
	struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_string(map, key, strlen(key));

	if (p && !cfg_node_is_null(v))
		return fy_node_get_type(v) == FYNT_MAPPING ? v : NULL;
	if (p)
		fy_node_free(legacy_detach(map, p));
	v = fy_node_create_mapping(doc);
	if (!v || legacy_append(doc, map, key, v) < 0) {
		fy_node_free(v);
		return NULL;
	}
	return v;
}

/* Move old.rel (pair p in map) to newmap.newkey, or drop it when newmap already has newkey. */
static void
legacy_move(struct cfg_ctx *x, struct fy_node *map, struct fy_node_pair *p, const char *oldrel,
	    struct fy_node *newmap, const char *newkey, const char *newrel)
{
	struct fy_node *k = fy_node_pair_key(p), *v = fy_node_pair_value(p);
	bool taken = newmap &&
		     fy_node_mapping_lookup_pair_by_string(newmap, newkey, strlen(newkey));

	cfg_report(x, false, oldrel, k, NULL, "deprecated config key, use %s.%s instead%s",
		   x->prefix, newrel, taken ? " (it is set, so this old key is ignored)" : "");
	v = legacy_detach(map, p);
	if (!newmap || taken || legacy_append(x->doc, newmap, newkey, v) < 0)
		fy_node_free(v);
}

static void
legacy_cloudvms(struct cfg_ctx *x)
{
	struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_string(x->cluster, "CloudVMs", 8);
	struct fy_node *containers;

	if (!p)
		return;
	containers = legacy_ensure_map(x->doc, x->cluster, "Containers");
	legacy_move(x, x->cluster, p, "CloudVMs", containers, "CloudVMs", "Containers.CloudVMs");
}

static void
legacy_dispatch_key(struct cfg_ctx *x)
{
	struct fy_node *d = fy_node_mapping_lookup_by_string(x->cluster, "Dispatch", 8);
	struct fy_node_pair *p;
	struct fy_node *containers;

	if (!d || fy_node_get_type(d) != FYNT_MAPPING)
		return;
	p = fy_node_mapping_lookup_pair_by_string(d, "PrivateKey", 10);
	if (!p)
		return;
	containers = legacy_ensure_map(x->doc, x->cluster, "Containers");
	legacy_move(x, d, p, "Dispatch.PrivateKey", containers, "DispatchPrivateKey",
		    "Containers.DispatchPrivateKey");
	if (fy_node_mapping_is_empty(d)) {
		p = fy_node_mapping_lookup_pair_by_string(x->cluster, "Dispatch", 8);
		fy_node_free(legacy_detach(x->cluster, p));
	}
}

/*
 * The InternalURLs entry for an old "Listen" address. "host:port" gives http://host:port. An
 * empty or wildcard host meant "all addresses": the entry is http://localhost:port (how local
 * clients reach it, as in the new-layout examples) with ListenURL http://0.0.0.0:port.
 */
static int
legacy_listen_urls(const char *listen, char **url, char **listen_url)
{
	const char *colon = strrchr(listen, ':');
	size_t hostlen = colon ? (size_t)(colon - listen) : strlen(listen);
	bool wildcard = hostlen == 0 || (hostlen == 7 && !strncmp(listen, "0.0.0.0", 7)) ||
			(hostlen == 4 && !strncmp(listen, "[::]", 4)) ||
			(hostlen == 2 && !strncmp(listen, "::", 2));

	*url = *listen_url = NULL;
	if (colon && wildcard) {
		if (asprintf(url, "http://localhost:%s", colon + 1) < 0 ||
		    asprintf(listen_url, "http://0.0.0.0:%s", colon + 1) < 0)
			return -1;
		return 0;
	}
	return asprintf(url, "http://%s", listen) < 0 ? -1 : 0;
}

static void
legacy_add_internal_url(struct cfg_ctx *x, const char *url, const char *listen_url)
{
	struct fy_node *svc = legacy_ensure_map(x->doc, x->cluster, "Services");
	struct fy_node *dc = svc ? legacy_ensure_map(x->doc, svc, "DispatchCloud") : NULL;
	struct fy_node *iu = dc ? legacy_ensure_map(x->doc, dc, "InternalURLs") : NULL;
	struct fy_node *entry;

	if (!iu || fy_node_mapping_lookup_pair_by_string(iu, url, strlen(url)))
		return;
	entry = fy_node_create_mapping(x->doc);
	if (!entry)
		return;
	if (listen_url &&
	    legacy_append(x->doc, entry, "ListenURL",
			  fy_node_create_scalar_copy(x->doc, listen_url, strlen(listen_url))) < 0) {
		fy_node_free(entry);
		return;
	}
	if (legacy_append(x->doc, iu, url, entry) < 0)
		fy_node_free(entry);
}

static void
legacy_one_profile(struct cfg_ctx *x, const char *name, struct fy_node *profile)
{
	struct fy_node *k = NULL, *v;
	char rel[256], *listen, *url, *listen_url;

	snprintf(rel, sizeof(rel), "NodeProfiles.%s.arvados-dispatch-cloud.Listen", name);
	v = cfg_lookup(profile, "arvados-dispatch-cloud.Listen", &k);
	if (!v)
		return;
	listen = cfg_scalar_dup(v);
	if (!listen) {
		cfg_report(x, true, rel, k, v, "expected a listen address such as \":9006\"");
		return;
	}
	if (legacy_listen_urls(listen, &url, &listen_url) == 0) {
		cfg_report(x, false, rel, k, NULL,
			   "deprecated config key, use %s.Services.DispatchCloud.InternalURLs "
			   "(mapped to \"%s\"%s%s)",
			   x->prefix, url, listen_url ? " with ListenURL " : "",
			   listen_url ? listen_url : "");
		legacy_add_internal_url(x, url, listen_url);
	}
	free(url);
	free(listen_url);
	free(listen);
}

static void
legacy_node_profiles(struct cfg_ctx *x)
{
	struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_string(x->cluster, "NodeProfiles",
								       12);
	struct fy_node *np = p ? fy_node_pair_value(p) : NULL;
	struct fy_node_pair *q;
	void *it = NULL;

	if (!p)
		return;
	if (np && fy_node_get_type(np) == FYNT_MAPPING)
		while ((q = fy_node_mapping_iterate(np, &it))) {
			char *name = cfg_scalar_dup(fy_node_pair_key(q));
			if (name && fy_node_pair_value(q))
				legacy_one_profile(x, name, fy_node_pair_value(q));
			free(name);
		}
	/* NodeProfiles is gone from the current layout; drop it so workers do not get it. */
	fy_node_free(legacy_detach(x->cluster, p));
}

static const struct {
	const char *old, *new;
} legacy_cuda_keys[] = {
	{ "DriverVersion", "DriverVersion" },
	{ "HardwareCapability", "HardwareTarget" },
	{ "DeviceCount", "DeviceCount" },
};

int
cfg_legacy_cuda(struct cfg_ctx *x, const char *name, struct fy_node *itype)
{
	struct fy_node_pair *p = fy_node_mapping_lookup_pair_by_string(itype, "CUDA", 4), *q;
	struct fy_node *cuda = p ? fy_node_pair_value(p) : NULL, *gpu;
	char rel[256];
	bool has_gpu = fy_node_mapping_lookup_pair_by_string(itype, "GPU", 3) != NULL;

	if (!p)
		return 0;
	snprintf(rel, sizeof(rel), "InstanceTypes.%s.CUDA", name);
	if (cuda && fy_node_get_type(cuda) != FYNT_MAPPING) {
		cfg_report(x, true, rel, fy_node_pair_key(p), cuda, "expected a mapping");
		return -1;
	}
	cfg_report(x, false, rel, fy_node_pair_key(p), NULL,
		   "deprecated config key, use %s.InstanceTypes.%s.GPU with Stack \"cuda\" "
		   "(HardwareCapability is now HardwareTarget)%s",
		   x->prefix, name, has_gpu ? "; GPU is set, so CUDA is ignored" : "");
	gpu = has_gpu ? NULL : legacy_ensure_map(x->doc, itype, "GPU");
	if (gpu)
		legacy_append(x->doc, gpu, "Stack", fy_node_create_scalar_copy(x->doc, "cuda", 4));
	for (size_t i = 0; gpu && cuda && i < 3; i++) {
		const char *o = legacy_cuda_keys[i].old;
		q = fy_node_mapping_lookup_pair_by_string(cuda, o, strlen(o));
		if (!q)
			continue;
		struct fy_node *v = legacy_detach(cuda, q);
		if (legacy_append(x->doc, gpu, legacy_cuda_keys[i].new, v) < 0)
			fy_node_free(v);
	}
	for (void *it = NULL; gpu && cuda && (q = fy_node_mapping_iterate(cuda, &it));) {
		char *k = cfg_scalar_dup(fy_node_pair_key(q)), r2[512];
		snprintf(r2, sizeof(r2), "%s.%s", rel, k ? k : "?");
		cfg_report(x, false, r2, fy_node_pair_key(q), NULL,
			   "deprecated or unknown config entry: %s.%s", x->prefix, r2);
		free(k);
	}
	fy_node_free(legacy_detach(itype, p));
	return 0;
}

int
cfg_legacy_map(struct cfg_ctx *x)
{
	struct fy_node *it = fy_node_mapping_lookup_by_string(x->cluster, "InstanceTypes", 13);
	struct fy_node_pair *p;
	void *iter = NULL;

	legacy_cloudvms(x);
	legacy_dispatch_key(x);
	legacy_node_profiles(x);
	if (it && fy_node_get_type(it) == FYNT_MAPPING)
		while ((p = fy_node_mapping_iterate(it, &iter))) {
			struct fy_node *v = fy_node_pair_value(p);
			char *name = cfg_scalar_dup(fy_node_pair_key(p));
			if (name && v && fy_node_get_type(v) == FYNT_MAPPING)
				cfg_legacy_cuda(x, name, v);
			free(name);
		}
	return 0;
}
