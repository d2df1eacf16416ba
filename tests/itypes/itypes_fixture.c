/* itypes_fixture.c - see itypes_fixture.h. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "itypes_fixture.h"

static char *
fx_strdup(const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		abort();
	return d;
}

struct cfg_cluster *
fx_cluster(const struct fx_type *v, size_t n)
{
	struct cfg_cluster *c = calloc(1, sizeof(*c));

	if (c == NULL ||
	    (n > 0 && (c->instance_types = calloc(n, sizeof(*c->instance_types))) == NULL))
		abort();
	c->n_instance_types = n;
	for (size_t i = 0; i < n; i++) {
		struct cfg_instance_type *it = &c->instance_types[i];

		it->name = fx_strdup(v[i].name);
		it->provider_type = fx_strdup(v[i].name);
		it->price = v[i].price;
		it->ram = v[i].ram;
		it->vcpus = v[i].vcpus;
		it->scratch = it->included_scratch = v[i].scratch;
		it->preemptible = v[i].preemptible;
		it->gpu.stack = v[i].stack;
		it->gpu.driver_version = fx_strdup(v[i].driver);
		it->gpu.hardware_target = fx_strdup(v[i].hw);
		it->gpu.device_count = v[i].devices;
		it->gpu.vram = v[i].vram;
	}
	return c;
}

void
fx_cluster_free(struct cfg_cluster *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_instance_types; i++) {
		free(c->instance_types[i].name);
		free(c->instance_types[i].provider_type);
		free(c->instance_types[i].gpu.driver_version);
		free(c->instance_types[i].gpu.hardware_target);
	}
	free(c->instance_types);
	free(c);
}

int
fx_choose(const struct cfg_cluster *c, const struct ctres *r, char *names, size_t len)
{
	struct itypes_table *t;
	struct itypes_choice ch;
	size_t at = 0;
	int rc;

	names[0] = '\0';
	if (itypes_table_new(c, &t) != 0)
		abort();
	rc = itypes_choose(t, r, &ch, names, len);
	for (uint32_t i = 0; rc == 0 && i < ch.n && at < len; i++)
		at += (size_t)snprintf(names + at, len - at, "%s%s", i ? ", " : "",
				       itypes_choice_type(t, &ch, i)->name);
	itypes_choice_free(&ch);
	itypes_table_free(t);
	return rc;
}

struct ctres
fx_ctr(int64_t ram, int64_t vcpus)
{
	struct ctres r;

	ctres_init(&r);
	r.ram = ram;
	r.vcpus = vcpus;
	return r;
}
