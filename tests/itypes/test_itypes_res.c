/* test_itypes_res.c - resource accounting for packing (spec 3.6, 10.1 InstanceResources). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "itypes_fixture.h"

static struct res_vec
V(int64_t vcpus, bool shared) {
	struct res_vec r = { .vcpus = vcpus, .shared_vcpu_used = shared };

	return r;
}

/* The reference test's table, line by line. */
static void
test_reference_cases(void **state)
{
	(void)state;
	assert_true(itypes_sub(V(2, false), V(0, false)).shared_vcpu_used);
	assert_false(itypes_sub(V(2, false), V(1, false)).shared_vcpu_used);
	assert_true(itypes_sub(V(2, true), V(0, false)).shared_vcpu_used);
	assert_true(itypes_sub(V(2, true), V(1, false)).shared_vcpu_used);
	assert_true(itypes_accommodates(V(2, false), V(2, false)));
	assert_false(itypes_accommodates(V(2, true), V(2, false)));
	assert_true(itypes_accommodates(V(2, true), V(1, false)));
	assert_true(itypes_accommodates(V(2, true), V(0, false)));
	assert_false(itypes_accommodates(V(1, true), V(1, false)));
	assert_true(itypes_accommodates(V(1, true), V(0, false)));
	assert_false(itypes_accommodates(V(0, true), V(0, false)));
	assert_false(itypes_accommodates(V(0, false), V(0, false)));
}

static const struct fx_type gpu4 = { .name = "g",
				     .price = 1,
				     .ram = 16 * GiB,
				     .vcpus = 4,
				     .scratch = 100 * GiB,
				     .stack = CFG_GPU_CUDA,
				     .devices = 4,
				     .vram = 16 * GiB };

static void
test_capacity(void **state)
{
	struct cfg_cluster *c = fx_cluster(&gpu4, 1);
	struct res_vec cap = itypes_capacity(&c->instance_types[0]);

	(void)state;
	assert_int_equal(cap.vcpus, 4);
	assert_int_equal(cap.ram, 16 * GiB); /* nominal, not discounted */
	assert_int_equal(cap.scratch, 100 * GiB);
	assert_int_equal(cap.gpus, 4);
	assert_int_equal(cap.gpu_vram, 16 * GiB); /* per device */
	assert_false(cap.shared_vcpu_used);
	fx_cluster_free(c);
}

/* Pack containers one after the other, as the scheduler does; count how many fit. */
static int
pack(struct res_vec cap, struct res_vec q, int max)
{
	int n = 0;

	while (n < max && itypes_accommodates(cap, q)) {
		cap = itypes_sub(cap, q);
		n++;
	}
	return n;
}

static void
test_zero_vcpu_sharing(void **state)
{
	struct res_vec cap = { .vcpus = 4, .ram = 100, .scratch = 100 };
	struct res_vec zero = { .vcpus = 0, .ram = 1 };
	struct res_vec one = { .vcpus = 1, .ram = 1 };
	struct res_vec four = { .vcpus = 4, .ram = 1 };
	struct res_vec r;

	(void)state;
	/* Any number of 0-VCPU containers share one VCPU (RAM is the limit here). */
	assert_int_equal(pack(cap, zero, 1000), 100);
	/* Once one is there, only 3 whole VCPUs are left for the others. */
	r = itypes_sub(cap, zero);
	assert_int_equal(pack(r, one, 1000), 3);
	assert_false(itypes_accommodates(r, four));
	/* Without it, all 4. */
	assert_int_equal(pack(cap, one, 1000), 4);
	/* An N-VCPU container takes an N-VCPU instance alone, even against 0-VCPU ones. */
	r = itypes_sub(cap, four);
	assert_false(itypes_accommodates(r, zero));
	assert_false(itypes_accommodates(r, one));
	/* 3 one-VCPU containers, then a 0-VCPU one still fits on the last VCPU. */
	r = itypes_sub(itypes_sub(itypes_sub(cap, one), one), one);
	assert_true(itypes_accommodates(r, zero));
	r = itypes_sub(r, zero);
	assert_false(itypes_accommodates(r, one));
	assert_true(itypes_accommodates(r, zero));
}

static void
test_each_component(void **state)
{
	struct res_vec cap = { .vcpus = 4, .ram = 10, .scratch = 10, .gpus = 2, .gpu_vram = 10 };
	struct res_vec q = { .vcpus = 1, .ram = 10, .scratch = 10, .gpus = 2, .gpu_vram = 10 };

	(void)state;
	assert_true(itypes_accommodates(cap, q));
	q.ram = 11;
	assert_false(itypes_accommodates(cap, q));
	q.ram = 10, q.scratch = 11;
	assert_false(itypes_accommodates(cap, q));
	q.scratch = 10, q.gpus = 3;
	assert_false(itypes_accommodates(cap, q));
	q.gpus = 2, q.gpu_vram = 11;
	assert_false(itypes_accommodates(cap, q));
	q.gpu_vram = 10, q.vcpus = 5;
	assert_false(itypes_accommodates(cap, q));
	q.vcpus = 4;
	assert_true(itypes_accommodates(cap, q));
	/* Subtraction is component-wise. */
	q = (struct res_vec){ .vcpus = 1, .ram = 2, .scratch = 3, .gpus = 1, .gpu_vram = 4 };
	cap = itypes_sub(cap, q);
	assert_int_equal(cap.vcpus, 3);
	assert_int_equal(cap.ram, 8);
	assert_int_equal(cap.scratch, 7);
	assert_int_equal(cap.gpus, 1);
	assert_int_equal(cap.gpu_vram, 6);
	/* Saturates instead of overflowing. */
	cap.ram = INT64_MIN + 1;
	q.ram = 5;
	assert_int_equal(itypes_sub(cap, q).ram, INT64_MIN);
	cap.ram = INT64_MAX;
	q.ram = -5;
	assert_int_equal(itypes_sub(cap, q).ram, INT64_MAX);
}

/* The VRAM quirk: a per-device amount decremented per container, whatever the device count. */
static void
test_vram_quirk(void **state)
{
	struct cfg_cluster *c = fx_cluster(&gpu4, 1);
	struct res_vec cap = itypes_capacity(&c->instance_types[0]);
	struct res_vec q = {
		.vcpus = 1, .ram = GiB, .scratch = GiB, .gpus = 1, .gpu_vram = 10 * GiB
	};

	(void)state;
	/* Four devices of 16 GiB, but two 10 GiB containers do not share the instance. */
	assert_int_equal(pack(cap, q, 10), 1);
	/* Two 8 GiB ones do (together they fit one device's VRAM), a third does not. */
	q.gpu_vram = 8 * GiB;
	assert_int_equal(pack(cap, q, 10), 2);
	/* Without VRAM requests, the device count is the limit. */
	q.gpu_vram = 0;
	assert_int_equal(pack(cap, q, 10), 4);
	fx_cluster_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_cases),	  cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_zero_vcpu_sharing), cmocka_unit_test(test_each_component),
		cmocka_unit_test(test_vram_quirk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
