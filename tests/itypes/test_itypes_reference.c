/*
 * test_itypes_reference.c - the module against a literal transcription of the spec's algorithm
 * (3.2-3.4: scan in config order with a running price ceiling, sort, truncate at the final
 * ceiling), on random menus and containers, each menu also shuffled. The module ranks once and
 * walks instead; this is what shows the two agree, ties and GPU rules included.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "itypes_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MENU 12

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

#define PICK(a) ((a)[rnd(N(a))])

/* --- The reference, transcribed from the spec's wording, not from the module. --- */

static bool
ref_contains(const struct ctres_gpu *g, const char *s)
{
	for (size_t i = 0; i < g->n_hardware_target; i++)
		if (strcmp(g->hardware_target[i], s) == 0)
			return true;
	return false;
}

/* "requested device_count > 0 and the hardware check fails"; -1: invalid stack. */
static int
ref_hw_insufficient(const struct cfg_instance_type *it, const struct ctres_gpu *g)
{
	bool less;

	if (strcmp(g->stack, "") == 0)
		return 0;
	if (strcmp(g->stack, "cuda") == 0) {
		if (g->n_hardware_target > 1)
			return !ref_contains(g, it->gpu.hardware_target);
		if (g->n_hardware_target == 1)
			return itypes_version_less(it->gpu.hardware_target, g->hardware_target[0],
						   &less) != 0 ||
			       less;
		return 1;
	}
	if (strcmp(g->stack, "rocm") == 0)
		return !ref_contains(g, it->gpu.hardware_target);
	return -1;
}

static const char *
ref_stack_name(enum cfg_gpu_stack s)
{
	return s == CFG_GPU_CUDA ? "cuda" : s == CFG_GPU_ROCM ? "rocm" : "";
}

static int
ref_cmp(const void *pa, const void *pb)
{
	const struct cfg_instance_type *a = *(const struct cfg_instance_type *const *)pa;
	const struct cfg_instance_type *b = *(const struct cfg_instance_type *const *)pb;

	if (a->price != b->price)
		return a->price < b->price ? -1 : 1;
	if (a->ram != b->ram)
		return a->ram > b->ram ? -1 : 1;
	if (a->vcpus != b->vcpus)
		return a->vcpus > b->vcpus ? -1 : 1;
	if (a->scratch != b->scratch)
		return a->scratch > b->scratch ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Returns the code; the names in out as the fixture writes them. */
static int
ref_choose(const struct cfg_cluster *c, const struct ctres *r, char *out, size_t len)
{
	const struct cfg_instance_type *acc[MENU];
	double factor = c->containers.maximum_price_factor, ceiling = 0;
	bool have_ceiling = false, drv_less;
	struct res_vec need;
	size_t k = 0, at = 0;

	out[0] = '\0';
	if (c->n_instance_types == 0)
		return ITYPES_NOT_CONFIGURED;
	if (factor < 1)
		factor = 1;
	for (size_t i = 0; i < c->n_instance_types; i++) {
		const struct cfg_instance_type *it = &c->instance_types[i];
		int hw = ref_hw_insufficient(it, &r->gpu);
		bool drv_bad = itypes_version_less(it->gpu.driver_version, r->gpu.driver_version,
						   &drv_less) != 0 ||
			       drv_less;

		if (hw < 0)
			return ITYPES_INVALID_GPU_STACK;
		if (ctres_need(r, &c->containers, &need) != 0)
			return ITYPES_UNSATISFIABLE;
		if ((have_ceiling && it->price > ceiling) || it->scratch < need.scratch ||
		    it->ram < need.ram || it->vcpus < need.vcpus ||
		    it->preemptible != r->preemptible ||
		    strcmp(ref_stack_name(it->gpu.stack), r->gpu.stack) != 0 ||
		    it->gpu.device_count < r->gpu.device_count || it->gpu.vram < r->gpu.vram ||
		    (r->gpu.device_count > 0 && drv_bad) || (r->gpu.device_count > 0 && hw))
			continue;
		acc[k++] = it;
		if (!have_ceiling || it->price * factor < ceiling)
			ceiling = it->price * factor;
		have_ceiling = true;
	}
	if (k == 0)
		return ITYPES_UNSATISFIABLE;
	qsort(acc, k, sizeof(acc[0]), ref_cmp);
	for (size_t i = 0; i < k && at < len; i++) {
		if (i > 0 && acc[i]->price > ceiling)
			break;
		at += (size_t)snprintf(out + at, len - at, "%s%s", i ? ", " : "", acc[i]->name);
	}
	return 0;
}

/* --- Random menus and containers over small value sets, so that ties and edges occur. --- */

static const double prices[] = { 0.5, 1.0, 1.1, 1.5, 2.0, 2.2, 3.0 };
static const int64_t rams[] = { GiB, 2 * GiB, 4 * GiB };
static const int64_t vcpuss[] = { 1, 2, 4 };
static const int64_t scratches[] = { 0, GiB, 4 * GiB };
static const char *drivers[] = { "10.0", "11.0", "9.10", "9.2", "bad", "" };
static const char *cuda_hw[] = { "8.0", "9.0", "9", "12.0.12" };
static const char *rocm_hw[] = { "gfx1100", "gfx1103", "9.0" };
static const char *targets[] = { "8.0", "9.0", "9", "gfx1100", "gfx1103", "9.5" };
static const char *stacks[] = { "", "", "cuda", "rocm", "cuda" };
static const double factors[] = { 0, 1, 1.5, 2 };

static void
random_menu(struct fx_type *m, char names[][8])
{
	for (size_t i = 0; i < MENU; i++) {
		enum cfg_gpu_stack st = (enum cfg_gpu_stack)rnd(3);

		snprintf(names[i], 8, "t%zu", i);
		m[i] = (struct fx_type){
			.name = names[i],
			.price = PICK(prices),
			.ram = PICK(rams),
			.vcpus = PICK(vcpuss),
			.scratch = PICK(scratches),
			.preemptible = rnd(4) == 0,
			.stack = st,
			.driver = PICK(drivers),
			.hw = st == CFG_GPU_ROCM ? PICK(rocm_hw) : PICK(cuda_hw),
			.devices = st == CFG_GPU_NONE ? 0 : 1 + rnd(2),
			.vram = st == CFG_GPU_NONE ? 0 : (int64_t)rnd(3) * GiB,
		};
	}
}

static struct ctres
random_ctr(const char **tg)
{
	struct ctres r = fx_ctr((int64_t)rnd(5) * GiB / 2, rnd(5));

	r.tmp_capacity = (int64_t)rnd(3) * GiB;
	r.preemptible = rnd(4) == 0;
	r.gpu.stack = rnd(50) == 0 ? "opencl" : PICK(stacks);
	if (r.gpu.stack[0] != '\0') {
		r.gpu.device_count = rnd(3);
		r.gpu.vram = (int64_t)rnd(3) * GiB;
		r.gpu.driver_version = PICK(drivers);
		r.gpu.n_hardware_target = rnd(3);
		for (size_t i = 0; i < r.gpu.n_hardware_target; i++)
			tg[i] = PICK(targets);
		r.gpu.hardware_target = tg;
	}
	return r;
}

static void
shuffle(struct fx_type *m, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd((uint32_t)i + 1);
		struct fx_type t = m[i];

		m[i] = m[j];
		m[j] = t;
	}
}

static void
test_against_reference(void **state)
{
	struct fx_type m[MENU];
	char names[MENU][8], got[512], want[512], first[512];
	const char *tg[4];
	int accepted = 0, several = 0;

	(void)state;
	for (int round = 0; round < 3000; round++) {
		struct ctres r;
		double factor = PICK(factors);
		int got_rc, want_rc, first_rc = 0;

		random_menu(m, names);
		r = random_ctr(tg);
		for (int s = 0; s < 4; s++) {
			struct cfg_cluster *c;

			if (s > 0)
				shuffle(m, MENU);
			c = fx_cluster(m, MENU);
			c->containers.maximum_price_factor = factor;
			got_rc = fx_choose(c, &r, got, sizeof(got));
			want_rc = ref_choose(c, &r, want, sizeof(want));
			fx_cluster_free(c);
			if (got_rc != want_rc || (got_rc == 0 && strcmp(got, want) != 0))
				fail_msg("round %d shuffle %d: got %d \"%s\", reference %d \"%s\"",
					 round, s, got_rc, got, want_rc, want);
			if (s == 0) {
				first_rc = got_rc;
				memcpy(first, got, sizeof(first));
			} else if (got_rc != first_rc || (got_rc == 0 && strcmp(got, first) != 0)) {
				fail_msg("round %d: order changed the answer", round);
			}
		}
		accepted += first_rc == 0;
		several += first_rc == 0 && strchr(first, ',') != NULL;
	}
	/* The generator must exercise both outcomes, and lists longer than one. */
	assert_true(accepted > 300);
	assert_true(accepted < 2700);
	assert_true(several > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_against_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
