/*
 * test_instance_types.c - spec/dispatcher.md 3.2-3.5 and the reference cases of 10.1
 * (container/node_size_test.go), one table per case, menus built in C.
 */
#include <errno.h>
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

/* Choose against menu v[0..n) with the given Containers knobs; names/err text in out. */
static int
choose(const struct fx_type *v, size_t n, double factor, int64_t reserve, int64_t buffers,
       const struct ctres *r, char *out, size_t len)
{
	struct cfg_cluster *c = fx_cluster(v, n);
	int rc;

	c->containers.maximum_price_factor = factor;
	c->containers.reserve_extra_ram = reserve;
	c->containers.local_keep_blob_buffers_per_vcpu = buffers;
	rc = fx_choose(c, r, out, len);
	fx_cluster_free(c);
	return rc;
}

static void
expect(const struct fx_type *v, size_t n, double factor, int64_t reserve, int64_t buffers,
       const struct ctres *r, int want_rc, const char *want)
{
	char out[1024];
	int rc = choose(v, n, factor, reserve, buffers, r, out, sizeof(out));

	if (rc != want_rc || strcmp(out, want) != 0)
		fail_msg("got %d \"%s\", want %d \"%s\"", rc, out, want_rc, want);
}

/* The container most reference tests use: 2 VCPUs, 987654321 + 123456789 RAM, 2 GiB tmp. */
static struct ctres
std_ctr(void)
{
	struct ctres r = fx_ctr(987654321, 2);

	r.keep_cache_ram = 123456789;
	r.tmp_capacity = 2 * GiB;
	return r;
}

/* 10.1 ChooseNotConfigured. */
static void
test_not_configured(void **state)
{
	struct ctres r = fx_ctr(1234567890, 2);

	(void)state;
	expect(NULL, 0, 0, 0, 0, &r, ITYPES_NOT_CONFIGURED,
	       "site configuration does not list any instance types");
	/* It takes precedence over an invalid GPU stack (checked before the stack). */
	r.gpu.stack = "opencl";
	expect(NULL, 0, 0, 0, 0, &r, ITYPES_NOT_CONFIGURED,
	       "site configuration does not list any instance types");
}

/* 10.1 ChooseUnsatisfiable. */
static void
test_unsatisfiable(void **state)
{
	static const struct fx_type menu[] = {
		{ .name = "small1", .price = 1.1, .ram = 1000000000, .vcpus = 2 },
		{ .name = "small2", .price = 2.2, .ram = 2000000000, .vcpus = 4 },
		{ .name = "small4", .price = 4.4, .ram = 4000000000, .vcpus = 8, .scratch = GiB },
	};
	struct ctres cases[5];

	(void)state;
	cases[0] = fx_ctr(9876543210, 2);  /* too much RAM */
	cases[1] = fx_ctr(1234567890, 20); /* too many VCPUs */
	cases[2] = fx_ctr(1234567890, 2);  /* too much keep_cache_ram */
	cases[2].keep_cache_ram = 9876543210;
	cases[3] = fx_ctr(12345, 1); /* 2 GiB tmp vs 1 GiB scratch */
	cases[3].tmp_capacity = 2 * GiB;
	cases[4] = fx_ctr(INT64_MAX, 1); /* overflowing request */
	cases[4].keep_cache_ram = INT64_MAX;
	for (size_t i = 0; i < N(cases); i++)
		expect(menu, N(menu), 0, 0, 0, &cases[i], ITYPES_UNSATISFIABLE,
		       "constraints not satisfiable by any configured instance type");
	/* Control: a container that fits is not refused by the same menu. */
	cases[0] = fx_ctr(12345, 1);
	cases[0].tmp_capacity = GiB;
	expect(menu, N(menu), 0, 0, 0, &cases[0], 0, "small4");
}

/* 10.1 Choose: five menus, 1 buffer/VCPU, 256 MiB reserve: always "best", same prices. */
static void
test_choose_menus(void **state)
{
#define T(n, p, r, v, s)                                                  \
	{                                                                 \
		.name = n, .price = p, .ram = r, .vcpus = v, .scratch = s \
	}
	static const struct fx_type m1[] = {
		T("costly", 4.4, 4000000000, 8, 2 * GiB),
		T("best", 2.2, 2000000000, 4, 2 * GiB),
		T("small", 1.1, 1000000000, 2, 2 * GiB),
	};
	static const struct fx_type m2[] = {
		T("costly", 4.4, 4000000000, 8, 2 * GiB),
		T("goodenough", 2.2, 2000000000, 4, 2 * GiB),
		T("best", 2.2, 4000000000, 4, 2 * GiB),
		T("small", 1.1, 1000000000, 2, 2 * GiB),
	};
	static const struct fx_type m3[] = {
		T("small", 1.1, 1000000000, 2, 2 * GiB),
		T("goodenough", 2.2, 2000000000, 4, 2 * GiB),
		T("best", 2.2, 4000000000, 4, 2 * GiB),
		T("costly", 4.4, 4000000000, 8, 2 * GiB),
	};
	static const struct fx_type m4[] = {
		T("small", 1.1, 1000000000, 2, GiB),
		T("nearly", 2.2, 2000000000, 4, GiB),
		T("best", 3.3, 4000000000, 4, 2 * GiB),
		T("costly", 4.4, 4000000000, 8, 2 * GiB),
	};
	static const struct fx_type m5[] = {
		T("small", 1.1, 1000000000, 2, GiB),
		T("nearly", 2.2, 1200000000, 4, 2 * GiB),
		T("best", 3.3, 4000000000, 4, 2 * GiB),
		T("costly", 4.4, 4000000000, 8, 2 * GiB),
	};
#undef T
	static const struct {
		const struct fx_type *m;
		size_t n;
		const char *want;
	} menus[] = {
		/* Equal-price ties: the one with more RAM first; no factor: same price only. */
		{ m1, N(m1), "best" },
		{ m2, N(m2), "best, goodenough" },
		{ m3, N(m3), "best, goodenough" },
		{ m4, N(m4), "best" },
		{ m5, N(m5), "best" },
	};
	struct ctres r = std_ctr();

	(void)state;
	for (size_t i = 0; i < N(menus); i++)
		expect(menus[i].m, menus[i].n, 0, 268435456, 1, &r, 0, menus[i].want);
}

static const struct fx_type price_menu[] = {
	{ .name = "best+7", .price = 3.4, .ram = 8000000000, .vcpus = 8, .scratch = 64 * GiB },
	{ .name = "best+5", .price = 3.0, .ram = 8000000000, .vcpus = 8, .scratch = 16 * GiB },
	{ .name = "best+3", .price = 2.6, .ram = 4000000000, .vcpus = 8, .scratch = 16 * GiB },
	{ .name = "best+2", .price = 2.4, .ram = 4000000000, .vcpus = 8, .scratch = 4 * GiB },
	{ .name = "best+1", .price = 2.2, .ram = 2000000000, .vcpus = 4, .scratch = 4 * GiB },
	{ .name = "best", .price = 2.0, .ram = 2000000000, .vcpus = 4, .scratch = 2 * GiB },
	{ .name = "small+1", .price = 1.1, .ram = 1000000000, .vcpus = 2, .scratch = 16 * GiB },
	{ .name = "small", .price = 1.0, .ram = 2000000000, .vcpus = 2, .scratch = 1 * GiB },
};

/* 10.1 MaximumPriceFactor, the 3.4 example: ceiling $2.0 x 1.5 = $3.0 (inclusive). */
static void
test_maximum_price_factor(void **state)
{
	struct ctres r = std_ctr();

	(void)state;
	expect(price_menu, N(price_menu), 1.5, 0, 0, &r, 0, "best, best+1, best+2, best+3, best+5");
	/* A larger factor lets the next type in; factors below 1 (or unset) act as 1. */
	expect(price_menu, N(price_menu), 1.7, 0, 0, &r, 0,
	       "best, best+1, best+2, best+3, best+5, best+7");
	expect(price_menu, N(price_menu), 1.0, 0, 0, &r, 0, "best");
	expect(price_menu, N(price_menu), 0.5, 0, 0, &r, 0, "best");
	expect(price_menu, N(price_menu), 0, 0, 0, &r, 0, "best");
}

/* Truncation is independent of the order the config lists the types in. */
static void
test_scan_order_independent(void **state)
{
	struct fx_type m[N(price_menu)];
	struct ctres r = std_ctr();
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 200; round++) {
		memcpy(m, price_menu, sizeof(m));
		for (size_t i = N(m) - 1; i > 0; i--) {
			size_t j;
			struct fx_type tmp;

			seed = seed * 1103515245u + 12345u;
			j = (seed >> 16) % (i + 1);
			tmp = m[i], m[i] = m[j], m[j] = tmp;
		}
		expect(m, N(m), 1.5, 0, 0, &r, 0, "best, best+1, best+2, best+3, best+5");
	}
}

/* 10.1 ChooseWithBlobBuffersOverhead: 16 buffers/VCPU reject the 4 GB type. */
static void
test_blob_buffers_overhead(void **state)
{
	static const struct fx_type menu[] = {
		{ .name = "nearly",
		  .price = 2.2,
		  .ram = 4000000000,
		  .vcpus = 4,
		  .scratch = 2 * GiB },
		{ .name = "best", .price = 3.3, .ram = 8000000000, .vcpus = 4, .scratch = 2 * GiB },
		{ .name = "costly",
		  .price = 4.4,
		  .ram = 12000000000,
		  .vcpus = 8,
		  .scratch = 2 * GiB },
	};
	struct ctres r = std_ctr();

	(void)state;
	expect(menu, N(menu), 0, 268435456, 16, &r, 0, "best");
	/* Control: with 1 buffer/VCPU the 4 GB type is enough. */
	expect(menu, N(menu), 0, 268435456, 1, &r, 0, "nearly");
}

/* 10.1 ChoosePreemptible, and the rule the other way round. */
static void
test_preemptible(void **state)
{
	static const struct fx_type menu[] = {
		{ .name = "costly",
		  .price = 4.4,
		  .ram = 4000000000,
		  .vcpus = 8,
		  .scratch = 2 * GiB,
		  .preemptible = true },
		{ .name = "almost best",
		  .price = 2.2,
		  .ram = 2000000000,
		  .vcpus = 4,
		  .scratch = 2 * GiB },
		{ .name = "best",
		  .price = 2.2,
		  .ram = 2000000000,
		  .vcpus = 4,
		  .scratch = 2 * GiB,
		  .preemptible = true },
		{ .name = "small",
		  .price = 1.1,
		  .ram = 1000000000,
		  .vcpus = 2,
		  .scratch = 2 * GiB,
		  .preemptible = true },
	};
	struct ctres r = std_ctr();

	(void)state;
	r.preemptible = true;
	expect(menu, N(menu), 0, 0, 0, &r, 0, "best");
	/* Non-preemptible containers never use preemptible types. */
	r.preemptible = false;
	expect(menu, N(menu), 0, 0, 0, &r, 0, "almost best");
	expect(menu, N(menu), 10, 0, 0, &r, 0, "almost best");
	expect(menu, 1, 0, 0, 0, &r, ITYPES_UNSATISFIABLE,
	       "constraints not satisfiable by any configured instance type");
}

/* Each size rule of 3.2, at the boundary: equal is enough, one less is not. */
static void
test_size_boundaries(void **state)
{
	struct fx_type t = { .name = "t", .price = 1, .ram = 100, .vcpus = 4, .scratch = 500 };
	struct ctres r = fx_ctr(95, 4); /* needs exactly 100 RAM */

	(void)state;
	r.tmp_capacity = 500;
	expect(&t, 1, 0, 0, 0, &r, 0, "t");
	t.ram = 99;
	expect(&t, 1, 0, 0, 0, &r, ITYPES_UNSATISFIABLE, ITYPES_ERR_UNSATISFIABLE);
	t.ram = 100, t.vcpus = 3;
	expect(&t, 1, 0, 0, 0, &r, ITYPES_UNSATISFIABLE, ITYPES_ERR_UNSATISFIABLE);
	t.vcpus = 4, t.scratch = 499;
	expect(&t, 1, 0, 0, 0, &r, ITYPES_UNSATISFIABLE, ITYPES_ERR_UNSATISFIABLE);
	/* keep_cache_disk is part of the scratch need. */
	t.scratch = 500;
	r.keep_cache_disk = 1;
	expect(&t, 1, 0, 0, 0, &r, ITYPES_UNSATISFIABLE, ITYPES_ERR_UNSATISFIABLE);
}

/* 3.4 ordering among equal prices: RAM desc, VCPUs desc, Scratch desc, then name asc. */
static void
test_tie_break(void **state)
{
	static const struct fx_type menu[] = {
		{ .name = "a-small-scratch", .price = 1, .ram = 10, .vcpus = 2, .scratch = 5 },
		{ .name = "z-more-ram", .price = 1, .ram = 20, .vcpus = 1, .scratch = 1 },
		{ .name = "c-same", .price = 1, .ram = 10, .vcpus = 2, .scratch = 10 },
		{ .name = "b-same", .price = 1, .ram = 10, .vcpus = 2, .scratch = 10 },
		{ .name = "y-more-vcpus", .price = 1, .ram = 10, .vcpus = 3, .scratch = 1 },
		{ .name = "0-cheaper", .price = 0.5, .ram = 1, .vcpus = 1, .scratch = 1 },
	};
	struct ctres r = fx_ctr(0, 1);

	(void)state;
	expect(menu + 0, 5, 0, 0, 0, &r, 0,
	       "z-more-ram, y-more-vcpus, b-same, c-same, a-small-scratch");
	/* A cheaper type comes first whatever its size, and sets the ceiling. */
	expect(menu, N(menu), 2, 0, 0, &r, 0,
	       "0-cheaper, z-more-ram, y-more-vcpus, b-same, c-same, a-small-scratch");
	expect(menu, N(menu), 1.9, 0, 0, &r, 0, "0-cheaper");
}

/* The 10.1 ChooseGPU menu. */
#define GPU(n, p, st, dev, hw_, drv, vr)                                               \
	{                                                                              \
		.name = n, .price = p, .ram = 2 * GiB, .vcpus = 4, .scratch = 2 * GiB, \
		.stack = st, .devices = dev, .hw = hw_, .driver = drv, .vram = vr      \
	}
static const struct fx_type gpu_menu[] = {
	{ .name = "costly",
	  .price = 4.4,
	  .ram = 4 * GiB,
	  .vcpus = 8,
	  .scratch = 2 * GiB,
	  .stack = CFG_GPU_CUDA,
	  .devices = 2,
	  .hw = "9.0",
	  .driver = "11.0",
	  .vram = 2 * GiB },
	GPU("low_capability", 2.1, CFG_GPU_CUDA, 1, "8.0", "11.0", 2 * GiB),
	GPU("best", 2.2, CFG_GPU_CUDA, 1, "9.0", "11.0", 2 * GiB),
	GPU("low_driver", 2.1, CFG_GPU_CUDA, 1, "9.0", "10.0", 2 * GiB),
	GPU("cheap_gpu", 2.0, CFG_GPU_CUDA, 1, "8.0", "10.0", 2 * GiB),
	GPU("more_vram", 2.3, CFG_GPU_CUDA, 1, "8.0", "10.0", 8 * GiB),
	GPU("invalid_gpu", 1.9, CFG_GPU_CUDA, 1, "12.0.12", "12.0.12", 2 * GiB),
	GPU("gpu_rocm", 2.0, CFG_GPU_ROCM, 1, "gfx1100", "6.2", 20 * GiB),
	GPU("cheap_gpu_rocm", 1.9, CFG_GPU_ROCM, 1, "gfx1103", "6.2", 8 * GiB),
	GPU("unspecified_vram", 2.0, CFG_GPU_ROCM, 1, "gfx1104", "6.2", 0),
	{ .name = "non_gpu", .price = 1.1, .ram = 2 * GiB, .vcpus = 4, .scratch = 2 * GiB },
};
#undef GPU

struct gpu_case {
	const char *stack;
	int64_t devices;
	const char *targets[3];
	size_t n_targets;
	const char *driver;
	int64_t vram;
	const char *want; /* NULL: unsatisfiable */
};

static void
expect_gpu(const struct fx_type *menu, size_t n, const struct gpu_case *c)
{
	struct ctres r = std_ctr();

	r.gpu.stack = c->stack;
	r.gpu.device_count = c->devices;
	r.gpu.hardware_target = (const char **)c->targets;
	r.gpu.n_hardware_target = c->n_targets;
	r.gpu.driver_version = c->driver;
	r.gpu.vram = c->vram;
	if (c->want != NULL)
		expect(menu, n, 0, 0, 0, &r, 0, c->want);
	else
		expect(menu, n, 0, 0, 0, &r, ITYPES_UNSATISFIABLE, ITYPES_ERR_UNSATISFIABLE);
}

/* 10.1 ChooseGPU: the ten reference cases (plus one, see "more VRAM"). */
static void
test_gpu_reference(void **state)
{
	static const struct gpu_case cases[] = {
		{ "cuda", 1, { "9.0" }, 1, "11.0", 2000000000, "best" },
		{ "cuda", 2, { "9.0" }, 1, "11.0", 2000000000, "costly" },
		{ "cuda", 1, { "8.0" }, 1, "11.0", 2000000000, "low_capability" },
		{ "cuda", 1, { "9.0" }, 1, "10.0", 2000000000, "low_driver" },
		/*
		 * "more VRAM": the reference names more_vram, but its driver (10.0) is below the
		 * request (11.0) and every other type has too little VRAM, so nothing qualifies;
		 * the reference only compares names when a list comes back. With the driver
		 * lowered to 10.0, more_vram is the answer.
		 */
		{ "cuda", 1, { "8.0" }, 1, "11.0", 8000000000, NULL },
		{ "cuda", 1, { "8.0" }, 1, "10.0", 8000000000, "more_vram" },
		{ "cuda", 1, { 0 }, 0, "10.0", 2000000000, NULL },
		{ "rocm", 1, { "gfx1100" }, 1, "6.2", 2000000000, "gpu_rocm" },
		{ "rocm", 1, { "gfx1100", "gfx1103" }, 2, "6.2", 2000000000, "cheap_gpu_rocm" },
		/* A type with VRAM 0 no longer matches a VRAM request. */
		{ "rocm", 1, { "gfx1104" }, 1, "6.2", 2000000000, NULL },
		{ "", 0, { "" }, 1, "", 0, "non_gpu" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		expect_gpu(gpu_menu, N(gpu_menu), &cases[i]);
}

/* The 3.3 rules one by one, each against a menu where breaking it changes the answer. */
static void
test_gpu_rules(void **state)
{
#define C(n, p, st, hw_, drv, vr)                                                      \
	{                                                                              \
		.name = n, .price = p, .ram = 2 * GiB, .vcpus = 4, .scratch = 2 * GiB, \
		.stack = st, .devices = 1, .hw = hw_, .driver = drv, .vram = vr        \
	}
	static const struct fx_type cuda[] = {
		C("c80", 1.0, CFG_GPU_CUDA, "8.0", "11.0", GiB),
		C("c9", 1.1, CFG_GPU_CUDA, "9", "11.0", GiB),
		C("c90", 1.2, CFG_GPU_CUDA, "9.0", "9.10", GiB),
		C("c95", 1.3, CFG_GPU_CUDA, "9.5", "12.1", GiB),
		C("cbad", 0.5, CFG_GPU_CUDA, "9.5.1", "x11", GiB),
		C("r1100", 0.9, CFG_GPU_ROCM, "gfx1100", "6.2", GiB),
		C("r90", 0.8, CFG_GPU_ROCM, "9.0", "6.2", GiB),
		C("vram0", 0.1, CFG_GPU_CUDA, "9.9", "99", 0),
	};
#undef C
	static const struct gpu_case cases[] = {
		/* cuda, one target: type's target >= it as versions ("9" == "9.0"). */
		{ "cuda", 1, { "9.0" }, 1, "9.1", 0, "vram0" },
		{ "cuda", 1, { "9.0" }, 1, "9.1", 1, "c9" },
		{ "cuda", 1, { "9.2" }, 1, "9.1", 1, "c95" },
		/* cuda, two targets: exact strings, so "9" does not match "9.0". */
		{ "cuda", 1, { "9.0", "9.5" }, 2, "9.1", 1, "c90" },
		{ "cuda", 1, { "9", "8.0" }, 2, "9.1", 1, "c80" },
		{ "cuda", 1, { "7.0", "7.5" }, 2, "9.1", 1, NULL },
		/* cuda, no targets: nothing. */
		{ "cuda", 1, { 0 }, 0, "1", 1, NULL },
		/* Driver "9.10" is 9.1: enough for 9.1, not for 9.2. */
		{ "cuda", 1, { "9.0", "8.9" }, 2, "9.1", 1, "c90" },
		{ "cuda", 1, { "9.0", "8.9" }, 2, "9.2", 1, NULL },
		{ "cuda", 1, { "9.0" }, 1, "9.2", 1, "c9" },
		{ "cuda", 1, { "9.0" }, 1, "12.0", 1, "c95" },
		{ "cuda", 1, { "9.0" }, 1, "12.2", 1, NULL },
		/* A request that does not parse fails every type (cbad would be cheapest). */
		{ "cuda", 1, { "9.0" }, 1, "12.0.1", 1, NULL },
		{ "cuda", 1, { "9.x" }, 1, "1", 1, NULL },
		{ "cuda", 1, { "9.0" }, 1, "", 1, NULL },
		/* rocm: exact string match, even for a single target. */
		{ "rocm", 1, { "gfx1100" }, 1, "6", 1, "r1100" },
		{ "rocm", 1, { "9" }, 1, "6", 1, NULL },
		{ "rocm", 1, { "9.0" }, 1, "6", 1, "r90" },
		{ "rocm", 1, { 0 }, 0, "6", 1, NULL },
		{ "rocm", 1, { "9.0" }, 1, "6.3", 1, NULL },
		/* More devices than any type has. */
		{ "cuda", 2, { "8.0" }, 1, "1", 1, NULL },
		/*
		 * device_count 0: the stack must still match, but the driver and hardware checks
		 * are skipped, so even a cuda request with no targets and a bad driver is served,
		 * by the cheapest type of that stack.
		 */
		{ "cuda", 0, { 0 }, 0, "garbage", 0, "vram0" },
		{ "rocm", 0, { "nothing" }, 1, "", 0, "r90" },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		expect_gpu(cuda, N(cuda), &cases[i]);
}

/* Any stack but "", cuda, rocm fails at once with the exact text (Go's %q quoting). */
static void
test_invalid_stack(void **state)
{
	static const struct {
		const char *stack, *text;
	} cases[] = {
		{ "opencl",
		  "Invalid GPU stack \"opencl\", expected to be blank or one of 'cuda' or 'rocm'" },
		{ "CUDA",
		  "Invalid GPU stack \"CUDA\", expected to be blank or one of 'cuda' or 'rocm'" },
		{ "cuda ",
		  "Invalid GPU stack \"cuda \", expected to be blank or one of 'cuda' or 'rocm'" },
		{ "a\"b\\c\n", "Invalid GPU stack \"a\\\"b\\\\c\\n\", expected to be blank or one "
			       "of 'cuda' or 'rocm'" },
	};
	struct ctres r = std_ctr();

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		r.gpu.stack = cases[i].stack;
		/* Even when the container would otherwise fit a non-GPU type. */
		expect(price_menu, N(price_menu), 1.5, 0, 0, &r, ITYPES_INVALID_GPU_STACK,
		       cases[i].text);
	}
}

/* The choice keeps the requirement vector, and the table ranks the whole menu. */
static void
test_choice_and_ranking(void **state)
{
	struct cfg_cluster *c = fx_cluster(price_menu, N(price_menu));
	static const char *ranked[] = { "small",  "small+1", "best",   "best+1",
					"best+2", "best+3",  "best+5", "best+7" };
	struct itypes_table *t;
	struct itypes_choice ch;
	struct ctres r = std_ctr();
	const uint32_t *rank;
	char err[ITYPES_ERR_MAX];
	size_t n;

	(void)state;
	c->containers.maximum_price_factor = 1.5;
	assert_int_equal(itypes_table_new(c, &t), 0);
	rank = itypes_table_ranked(t, &n);
	assert_int_equal(n, N(ranked));
	for (size_t i = 0; i < n; i++)
		assert_string_equal(c->instance_types[rank[i]].name, ranked[i]);
	assert_int_equal(itypes_choose(t, &r, &ch, err, sizeof(err)), 0);
	assert_int_equal(ch.n, 5);
	assert_int_equal(ch.need.vcpus, 2);
	assert_int_equal(ch.need.ram, ((int64_t)987654321 + 123456789) * 100 / 95);
	assert_int_equal(ch.need.scratch, 2 * GiB);
	assert_ptr_equal(itypes_choice_type(t, &ch, 0), &c->instance_types[5]);
	itypes_choice_free(&ch);
	assert_null(ch.idx);
	assert_int_equal(ch.n, 0);
	itypes_choice_free(&ch);
	/* A failed choice is empty and needs no free; a NULL err is allowed. */
	r.vcpus = 100;
	assert_int_equal(itypes_choose(t, &r, &ch, NULL, 0), ITYPES_UNSATISFIABLE);
	assert_null(ch.idx);
	assert_int_equal(ch.n, 0);
	itypes_table_free(t);
	fx_cluster_free(c);
}

/* More types than the on-stack scratch buffer: the heap path gives the same answer. */
static void
test_many_types(void **state)
{
	struct fx_type m[300];
	char names[300][16];
	struct ctres r = fx_ctr(0, 150);

	(void)state;
	for (size_t i = 0; i < N(m); i++) {
		snprintf(names[i], sizeof(names[i]), "t%03zu", i);
		m[i] = (struct fx_type){ .name = names[i],
					 .price = (double)(i + 1),
					 .ram = GiB,
					 .vcpus = (int64_t)i,
					 .scratch = GiB };
	}
	expect(m, N(m), 1.0, 0, 0, &r, 0, "t150");
	expect(m, N(m), 1.01, 0, 0, &r, 0, "t150, t151");
}

/* The spot fallback list of a preemptible request under fallback factor f, names joined by
 * ", " into out (n candidates first, then " | " and the fallback list). */
static void
fallback_names(const struct fx_type *v, size_t n, double mpf, double f, bool preemptible, char *out,
	       size_t len)
{
	struct cfg_cluster *c = fx_cluster(v, n);
	struct itypes_table *t;
	struct itypes_choice ch;
	struct ctres r = fx_ctr(512 * MiB, 1);
	size_t at = 0;

	c->containers.maximum_price_factor = mpf;
	r.preemptible = preemptible;
	assert_int_equal(itypes_table_new(c, &t), 0);
	itypes_table_set_spot_fallback(t, f);
	assert_int_equal(itypes_choose(t, &r, &ch, NULL, 0), 0);
	out[0] = '\0';
	for (uint32_t i = 0; i < ch.n + ch.n_fallback && at < len; i++)
		at += (size_t)snprintf(out + at, len - at, "%s%s",
				       i == 0	   ? ""
				       : i == ch.n ? " | "
						   : ", ",
				       itypes_choice_type(t, &ch, i)->name);
	itypes_choice_free(&ch);
	itypes_table_free(t);
	fx_cluster_free(c);
}

/* -spot-fallback-price-factor: after a preemptible request's candidates, the non-preemptible
 * ones it would get (3.2-3.4: MaximumPriceFactor, fit, GPU) cut at factor x its cheapest
 * preemptible candidate; none for a non-preemptible request or with the factor off. */
static void
test_spot_fallback_list(void **state)
{
	static const struct fx_type menu[] = {
		{ .name = "s1",
		  .price = 1,
		  .ram = GiB,
		  .vcpus = 1,
		  .scratch = GiB,
		  .preemptible = true },
		{ .name = "s2",
		  .price = 1.2,
		  .ram = GiB,
		  .vcpus = 1,
		  .scratch = GiB,
		  .preemptible = true },
		{ .name = "small", .price = 1.5, .ram = 256 * MiB, .vcpus = 1, .scratch = GiB },
		{ .name = "o1", .price = 2, .ram = GiB, .vcpus = 1, .scratch = GiB },
		{ .name = "g1",
		  .price = 2.2,
		  .ram = GiB,
		  .vcpus = 1,
		  .scratch = GiB,
		  .stack = CFG_GPU_CUDA,
		  .driver = "12.0",
		  .hw = "8.0",
		  .devices = 1,
		  .vram = GiB },
		{ .name = "o2", .price = 2.5, .ram = GiB, .vcpus = 2, .scratch = GiB },
		{ .name = "o3", .price = 3.5, .ram = GiB, .vcpus = 4, .scratch = GiB },
	};
	char out[512];

	(void)state;
	fallback_names(menu, N(menu), 1.5, 0, true, out, sizeof(out));
	assert_string_equal(out, "s1, s2");
	fallback_names(menu, N(menu), 1.5, 3, true, out, sizeof(out));
	assert_string_equal(out, "s1, s2 | o1, o2"); /* o3 is beyond MaximumPriceFactor */
	fallback_names(menu, N(menu), 1.5, 2.2, true, out, sizeof(out));
	assert_string_equal(out, "s1, s2 | o1");
	fallback_names(menu, N(menu), 1.5, 1.9, true, out, sizeof(out));
	assert_string_equal(out, "s1, s2");
	fallback_names(menu, N(menu), 3, 10, true, out, sizeof(out));
	assert_string_equal(out, "s1, s2 | o1, o2, o3");
	fallback_names(menu, N(menu), 1.5, 3, false, out, sizeof(out));
	assert_string_equal(out, "o1, o2");
}

/* More on-demand candidates than the scheduler's view counts (8 bits): the list stops at 255. */
static void
test_spot_fallback_list_long(void **state)
{
	struct fx_type m[301];
	char names[301][16];
	struct cfg_cluster *c;
	struct itypes_table *t;
	struct itypes_choice ch;
	struct ctres r = fx_ctr(512 * MiB, 1);

	(void)state;
	for (size_t i = 0; i < N(m); i++) {
		snprintf(names[i], sizeof(names[i]), "t%03zu", i);
		m[i] = (struct fx_type){ .name = names[i],
					 .price = i ? 2 : 1,
					 .ram = GiB,
					 .vcpus = 1,
					 .scratch = GiB,
					 .preemptible = i == 0 };
	}
	c = fx_cluster(m, N(m));
	r.preemptible = true;
	assert_int_equal(itypes_table_new(c, &t), 0);
	itypes_table_set_spot_fallback(t, 2);
	assert_int_equal(itypes_choose(t, &r, &ch, NULL, 0), 0);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.n_fallback, ITYPES_FALLBACK_MAX);
	itypes_choice_free(&ch);
	itypes_table_free(t);
	fx_cluster_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_configured),
		cmocka_unit_test(test_unsatisfiable),
		cmocka_unit_test(test_choose_menus),
		cmocka_unit_test(test_maximum_price_factor),
		cmocka_unit_test(test_scan_order_independent),
		cmocka_unit_test(test_blob_buffers_overhead),
		cmocka_unit_test(test_preemptible),
		cmocka_unit_test(test_size_boundaries),
		cmocka_unit_test(test_tie_break),
		cmocka_unit_test(test_gpu_reference),
		cmocka_unit_test(test_gpu_rules),
		cmocka_unit_test(test_invalid_stack),
		cmocka_unit_test(test_choice_and_ranking),
		cmocka_unit_test(test_many_types),
		cmocka_unit_test(test_spot_fallback_list),
		cmocka_unit_test(test_spot_fallback_list_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
