/*
 * config_itypes.c - InstanceTypes: a map of name -> type (the list form is rejected), with
 * ProviderType defaulting to the name, Scratch computed, GPU fields checked, the loopback
 * driver's single type, the automatic ".preemptible" variants, and the result sorted by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

struct itype_field {
	const char *key;
	enum { F_STR, F_INT, F_FLOAT, F_BOOL, F_SIZE } kind;
	size_t off;
};

#define F(k, kind, member)                                          \
	{                                                           \
		k, kind, offsetof(struct cfg_instance_type, member) \
	}
static const struct itype_field itype_fields[] = {
	F("ProviderType", F_STR, provider_type),
	F("VCPUs", F_INT, vcpus),
	F("RAM", F_SIZE, ram),
	F("IncludedScratch", F_SIZE, included_scratch),
	F("AddedScratch", F_SIZE, added_scratch),
	F("Price", F_FLOAT, price),
	F("Preemptible", F_BOOL, preemptible),
	F("GPU.DriverVersion", F_STR, gpu.driver_version),
	F("GPU.HardwareTarget", F_STR, gpu.hardware_target),
	F("GPU.DeviceCount", F_INT, gpu.device_count),
	F("GPU.VRAM", F_SIZE, gpu.vram),
};
#undef F

static int
itype_field(struct cfg_ctx *x, const char *base, struct fy_node *tn, const struct itype_field *f,
	    struct cfg_instance_type *t)
{
	struct fy_node *k = NULL, *v = cfg_lookup(tn, f->key, &k);
	char rel[512];
	void *p = (char *)t + f->off;

	if (cfg_node_is_null(v))
		return 0;
	snprintf(rel, sizeof(rel), "%s.%s", base, f->key);
	switch (f->kind) {
	case F_STR:
		return cfg_node_str(x, rel, k, v, p);
	case F_INT:
		return cfg_node_int(x, rel, k, v, p);
	case F_FLOAT:
		return cfg_node_float(x, rel, k, v, p);
	case F_BOOL:
		return cfg_node_bool(x, rel, k, v, p);
	default:
		return cfg_node_bytesize(x, rel, k, v, p);
	}
}

/* "11.4", "470": digits with at most one decimal point. */
static bool
itype_decimal(const char *s)
{
	size_t i = 0, digits = 0;

	for (; s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (s[i] == '.')
		for (i++; s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	return digits > 0 && s[i] == '\0' && s[0] != '.';
}

static int
itype_gpu(struct cfg_ctx *x, const char *base, struct fy_node *tn, struct cfg_instance_type *t)
{
	struct fy_node *k = NULL, *gpu = cfg_lookup(tn, "GPU", &k), *sk = NULL, *sv;
	char rel[512], *stack = NULL;
	int rc = 0;

	snprintf(rel, sizeof(rel), "%s.GPU", base);
	if (!cfg_node_is_null(gpu) && fy_node_get_type(gpu) != FYNT_MAPPING) {
		cfg_report(x, true, rel, k, gpu, "expected a mapping");
		return -1;
	}
	sv = cfg_lookup(gpu, "Stack", &sk);
	snprintf(rel, sizeof(rel), "%s.GPU.Stack", base);
	if (sv && cfg_node_str(x, rel, sk, sv, &stack) < 0)
		return -1;
	if (!stack || !*stack)
		t->gpu.stack = CFG_GPU_NONE;
	else if (!strcmp(stack, "cuda"))
		t->gpu.stack = CFG_GPU_CUDA;
	else if (!strcmp(stack, "rocm"))
		t->gpu.stack = CFG_GPU_ROCM;
	else {
		cfg_report(x, true, rel, sk, sv,
			   "GPU stack must be \"cuda\", \"rocm\" or empty, not \"%s\"", stack);
		rc = -1;
	}
	free(stack);
	return rc;
}

/* After reading: checks of spec 1.2 and values that cannot make sense. */
static int
itype_check(struct cfg_ctx *x, const char *base, struct fy_node *tn, struct cfg_instance_type *t)
{
	struct fy_node *k = NULL, *v;
	char rel[512];
	int rc = 0;

	for (size_t i = 1; i < sizeof(itype_fields) / sizeof(itype_fields[0]); i++) {
		const struct itype_field *f = &itype_fields[i];
		const void *p = (const char *)t + f->off;
		bool neg = (f->kind == F_INT || f->kind == F_SIZE) ? *(const int64_t *)p < 0
			   : f->kind == F_FLOAT			   ? *(const double *)p < 0
								   : false;
		if (!neg)
			continue;
		v = cfg_lookup(tn, f->key, &k);
		snprintf(rel, sizeof(rel), "%s.%s", base, f->key);
		cfg_report(x, true, rel, k, v, "must not be negative");
		rc = -1;
	}
	if (__builtin_add_overflow(t->included_scratch, t->added_scratch, &t->scratch)) {
		v = cfg_lookup(tn, "AddedScratch", &k);
		snprintf(rel, sizeof(rel), "%s.AddedScratch", base);
		cfg_report(x, true, rel, k, v, "IncludedScratch + AddedScratch is out of range");
		rc = -1;
	}
	if (t->gpu.device_count > 0 && !itype_decimal(t->gpu.driver_version)) {
		v = cfg_lookup(tn, "GPU.DriverVersion", &k);
		if (!k)
			v = cfg_lookup(tn, "GPU.DeviceCount", &k);
		snprintf(rel, sizeof(rel), "%s.GPU.DriverVersion", base);
		cfg_report(x, true, rel, k, v,
			   "GPU driver version \"%s\" is not a decimal number "
			   "(e.g. \"11.4\")",
			   t->gpu.driver_version);
		rc = -1;
	}
	return rc;
}

static int
itype_read_one(struct cfg_ctx *x, struct fy_node *kn, struct fy_node *tn,
	       struct cfg_instance_type *t)
{
	char base[400];
	int rc = 0;
	struct fy_node *sk = NULL, *sv;

	t->name = cfg_scalar_dup(kn);
	t->provider_type = strdup("");
	t->gpu.driver_version = strdup("");
	t->gpu.hardware_target = strdup("");
	if (!t->name || !t->provider_type || !t->gpu.driver_version || !t->gpu.hardware_target) {
		cfg_report(x, true, "InstanceTypes", kn, NULL,
			   "instance type name must be a string");
		return -1;
	}
	snprintf(base, sizeof(base), "InstanceTypes.%s", t->name);
	if (!cfg_node_is_null(tn) && fy_node_get_type(tn) != FYNT_MAPPING) {
		cfg_report(x, true, base, kn, NULL, "expected a mapping (an instance type)");
		return -1;
	}
	for (size_t i = 0; i < sizeof(itype_fields) / sizeof(itype_fields[0]); i++)
		rc |= itype_field(x, base, tn, &itype_fields[i], t);
	rc |= itype_gpu(x, base, tn, t);
	if (rc == 0)
		rc = itype_check(x, base, tn, t);
	if ((sv = cfg_lookup(tn, "Scratch", &sk)) != NULL || sk) {
		char rel[512];
		snprintf(rel, sizeof(rel), "%s.Scratch", base);
		cfg_report(x, false, rel, sk, sv,
			   "ignored: Scratch is IncludedScratch + AddedScratch");
	}
	if (!*t->provider_type) {
		free(t->provider_type);
		t->provider_type = strdup(t->name);
	}
	return rc || !t->provider_type ? -1 : 0;
}

static int
itype_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cfg_instance_type *)a)->name,
		      ((const struct cfg_instance_type *)b)->name);
}

static bool
itype_equal(const struct cfg_instance_type *a, const struct cfg_instance_type *b)
{
	return !strcmp(a->provider_type, b->provider_type) && a->vcpus == b->vcpus &&
	       a->ram == b->ram && a->included_scratch == b->included_scratch &&
	       a->added_scratch == b->added_scratch && a->price == b->price &&
	       a->preemptible == b->preemptible && a->gpu.stack == b->gpu.stack &&
	       !strcmp(a->gpu.driver_version, b->gpu.driver_version) &&
	       !strcmp(a->gpu.hardware_target, b->gpu.hardware_target) &&
	       a->gpu.device_count == b->gpu.device_count && a->gpu.vram == b->gpu.vram;
}

static struct cfg_instance_type *
itype_find(struct cfg_cluster *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c->instance_types[i].name, name))
			return &c->instance_types[i];
	return NULL;
}

static int
itype_copy(struct cfg_instance_type *d, const struct cfg_instance_type *s)
{
	*d = *s;
	d->provider_type = strdup(s->provider_type);
	d->gpu.driver_version = strdup(s->gpu.driver_version);
	d->gpu.hardware_target = strdup(s->gpu.hardware_target);
	d->name = NULL;
	return d->provider_type && d->gpu.driver_version && d->gpu.hardware_target ? 0 : -1;
}

/* Spec 1.2: "<name>.preemptible" twins; c->instance_types has room for 2n entries. */
static int
itype_add_preemptible(struct cfg_ctx *x)
{
	struct cfg_cluster *c = x->c;
	size_t n = c->n_instance_types;
	double factor = c->containers.preemptible_price_factor;

	for (size_t i = 0; i < n; i++) {
		struct cfg_instance_type twin, *have;
		if (c->instance_types[i].preemptible)
			continue;
		if (itype_copy(&twin, &c->instance_types[i]) < 0 ||
		    asprintf(&twin.name, "%s.preemptible", c->instance_types[i].name) < 0) {
			twin.name = NULL;
			cfg_itype_free(&twin);
			return -1;
		}
		twin.preemptible = true;
		twin.price *= factor;
		have = itype_find(c, c->n_instance_types, twin.name);
		if (have) {
			if (!itype_equal(have, &twin))
				cfg_report(x, false, "InstanceTypes", NULL, NULL,
					   "InstanceTypes.%s already exists and differs, so no "
					   "preemptible variant of %s is added automatically",
					   twin.name, c->instance_types[i].name);
			cfg_itype_free(&twin);
			continue;
		}
		c->instance_types[c->n_instance_types++] = twin;
	}
	return 0;
}

static int
itype_loopback(struct cfg_ctx *x, struct fy_node *k, struct fy_node *map)
{
	struct cfg_cluster *c = x->c;

	if (strcmp(c->containers.cloudvms.driver ? c->containers.cloudvms.driver : "", "loopback"))
		return 0;
	if (c->n_instance_types > 1) {
		cfg_report(
			x, true, "InstanceTypes", k, map,
			"Containers.CloudVMs.Driver is loopback: InstanceTypes must have exactly "
			"one entry, not %zu",
			c->n_instance_types);
		return -1;
	}
	if (c->n_instance_types == 1)
		return 0;
	if (cfg_loopback_type(&c->instance_types[0]) < 0) {
		cfg_report(x, true, "InstanceTypes", k, map,
			   "cannot describe this host for the "
			   "loopback driver's instance type");
		return -1;
	}
	c->n_instance_types = 1;
	return 0;
}

int
cfg_read_instance_types(struct cfg_ctx *x)
{
	struct fy_node *k = NULL, *map = cfg_lookup(x->cluster, "InstanceTypes", &k);
	struct cfg_cluster *c = x->c;
	struct fy_node_pair *p;
	void *it = NULL;
	size_t n = 0;
	int rc = 0;

	if (!cfg_node_is_null(map) && fy_node_get_type(map) != FYNT_MAPPING) {
		cfg_report(x, true, "InstanceTypes", k, map,
			   "InstanceTypes must be a map of name to type (the list form is not "
			   "supported)");
		return -1;
	}
	if (!cfg_node_is_null(map))
		n = (size_t)fy_node_mapping_item_count(map);
	/* Room for the preemptible twins, and for the loopback type. */
	c->instance_types = calloc(2 * n + 1, sizeof(*c->instance_types));
	if (!c->instance_types)
		return -1;
	while (n && (p = fy_node_mapping_iterate(map, &it))) {
		struct cfg_instance_type *t = &c->instance_types[c->n_instance_types++];
		rc |= itype_read_one(x, fy_node_pair_key(p), fy_node_pair_value(p), t);
	}
	if (rc)
		return -1;
	if (itype_loopback(x, k, map) < 0)
		return -1;
	if (c->containers.preemptible_price_factor > 0 && itype_add_preemptible(x) < 0)
		return -1;
	qsort(c->instance_types, c->n_instance_types, sizeof(*c->instance_types), itype_cmp);
	return 0;
}

const struct cfg_instance_type *
cfg_instance_type(const struct cfg_cluster *c, const char *name)
{
	struct cfg_instance_type key = { .name = (char *)name };

	if (!c || !name || !c->n_instance_types)
		return NULL;
	return bsearch(&key, c->instance_types, c->n_instance_types, sizeof(key), itype_cmp);
}
