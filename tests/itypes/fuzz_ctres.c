/*
 * fuzz_ctres.c - libFuzzer target: arbitrary bytes as a container record, through ctres_parse()
 * and, when it parses, itypes_choose() against a small fixed menu. Checks the documented
 * contracts: a parse failure returns a known code with a message and nothing to release; a
 * choice is non-empty, indexes the menu, and every candidate accommodates the need. The spot
 * fallback is on (factor 4): a preemptible request's fallback candidates are non-preemptible,
 * accommodate the need and cost at most 4 x its first candidate; other requests have none.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "itypes_fixture.h"

static const struct fx_type menu[] = {
	{ .name = "a", .price = 1, .ram = 4 * GiB, .vcpus = 2, .scratch = 10 * GiB },
	{ .name = "b", .price = 1.5, .ram = 8 * GiB, .vcpus = 4, .scratch = 50 * GiB },
	{ .name = "p",
	  .price = 0.5,
	  .ram = 8 * GiB,
	  .vcpus = 4,
	  .scratch = 50 * GiB,
	  .preemptible = true },
	{ .name = "g",
	  .price = 3,
	  .ram = 16 * GiB,
	  .vcpus = 8,
	  .scratch = 100 * GiB,
	  .stack = CFG_GPU_CUDA,
	  .driver = "12.0",
	  .hw = "8.6",
	  .devices = 2,
	  .vram = 24 * GiB },
	{ .name = "r",
	  .price = 3,
	  .ram = 16 * GiB,
	  .vcpus = 8,
	  .scratch = 100 * GiB,
	  .stack = CFG_GPU_ROCM,
	  .driver = "6.2",
	  .hw = "gfx1100",
	  .devices = 1,
	  .vram = 0 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_cluster *c;
	static struct itypes_table *t;
	struct itypes_choice ch;
	struct ctres r;
	char err[ITYPES_ERR_MAX];
	cJSON *tree;
	int rc;

	if (c == NULL) {
		c = fx_cluster(menu, sizeof(menu) / sizeof(menu[0]));
		c->containers.maximum_price_factor = 1.5;
		c->containers.reserve_extra_ram = 550 * MiB;
		c->containers.local_keep_blob_buffers_per_vcpu = 1;
		if (itypes_table_new(c, &t) != 0)
			abort();
		itypes_table_set_spot_fallback(t, 4);
	}
	if ((tree = cJSON_ParseWithLength((const char *)data, size)) == NULL)
		return 0;
	err[0] = '\0';
	rc = ctres_parse(tree, &r, err, sizeof(err));
	if (rc != 0) {
		if ((rc != CTRES_EFIELD && rc != CTRES_EMOUNTS && rc != -ENOMEM) ||
		    (rc > 0 && strncmp(err, "json: cannot unmarshal ", 23) != 0))
			abort();
		cJSON_Delete(tree);
		return 0;
	}
	rc = itypes_choose(t, &r, &ch, err, sizeof(err));
	if (rc == 0) {
		if (ch.n == 0 || ch.n > c->n_instance_types)
			abort();
		for (uint32_t i = 0; i < ch.n; i++) {
			const struct cfg_instance_type *it = itypes_choice_type(t, &ch, i);

			if (ch.idx[i] >= c->n_instance_types ||
			    !itypes_accommodates(itypes_capacity(it), ch.need) ||
			    it->price > itypes_choice_type(t, &ch, 0)->price * 1.5)
				abort();
		}
		if (ch.n_fallback > c->n_instance_types ||
		    (ch.n_fallback > 0 && !itypes_choice_type(t, &ch, 0)->preemptible))
			abort();
		for (uint32_t i = ch.n; i < ch.n + ch.n_fallback; i++) {
			const struct cfg_instance_type *it = itypes_choice_type(t, &ch, i);

			if (ch.idx[i] >= c->n_instance_types || it->preemptible ||
			    !itypes_accommodates(itypes_capacity(it), ch.need) ||
			    it->price > itypes_choice_type(t, &ch, 0)->price * 4)
				abort();
		}
	} else if (rc != ITYPES_UNSATISFIABLE && rc != ITYPES_INVALID_GPU_STACK) {
		abort();
	}
	itypes_choice_free(&ch);
	ctres_release(&r);
	cJSON_Delete(tree);
	return 0;
}
