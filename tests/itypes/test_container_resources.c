/* test_container_resources.c - spec/dispatcher.md 3.1: RAM, scratch, image estimate, overflow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "itypes_fixture.h"

static struct cfg_containers
cc_with(int64_t reserve, int64_t buffers)
{
	struct cfg_containers cc = { 0 };

	cc.reserve_extra_ram = reserve;
	cc.local_keep_blob_buffers_per_vcpu = buffers;
	return cc;
}

/* The spec's worked example: defaults (550 MiB reserve, 1 buffer/VCPU), 1 GiB, 1 VCPU. */
static void
test_ram_worked_example(void **state)
{
	struct cfg_containers cc = cc_with(550 * MiB, 1);
	struct ctres r = fx_ctr(GiB, 1);
	int64_t ram;

	(void)state;
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, 2057857993);
	/* 1954965094 before the 5% step, as the spec states. */
	assert_int_equal(ram, (int64_t)1954965094 * 100 / 95);
}

/*
 * Each RAM term separately, with values chosen so that a wrong order of operations shows:
 * 64 MiB x 11 / 10 = 73819750 (multiply first) vs 73819746 (divide first); 3 x 100 / 95 = 3
 * vs 3 / 95 x 100 = 0.
 */
static void
test_ram_terms(void **state)
{
	struct cfg_containers cc;
	struct ctres r;
	int64_t ram;

	(void)state;
	/* No buffers: no keepstore overhead at all (not even the 220 MiB). */
	cc = cc_with(0, 0);
	r = fx_ctr(95, 8);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, 100);
	r = fx_ctr(3, 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, 3);
	/* keep_cache_ram and reserve add up with ram. */
	cc = cc_with(1000, 0);
	r = fx_ctr(900, 1);
	r.keep_cache_ram = 7650;
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, (900 + 7650 + 1000) * 100 / 95);
	/* One buffer, one VCPU: 220 MiB + floor(64 MiB x 11 / 10). */
	cc = cc_with(0, 1);
	r = fx_ctr(0, 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, (220 * MiB + 73819750) * 100 / 95);
	/* Buffers scale with the container's VCPUs and the per-VCPU count. */
	cc = cc_with(0, 3);
	r = fx_ctr(0, 5);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, (220 * MiB + 15 * 64 * MiB * 11 / 10) * 100 / 95);
	/* Negative buffer counts act as 0 ("if > 0"). */
	cc = cc_with(0, -4);
	r = fx_ctr(95, 2);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, 100);
}

/* 10.1 ChooseWithBlobBuffersOverhead's arithmetic: 16 buffers/VCPU x 2 VCPUs adds ~2.2 GiB. */
static void
test_ram_many_buffers(void **state)
{
	struct cfg_containers cc = cc_with(268435456, 16);
	struct ctres r = fx_ctr(987654321, 2);
	int64_t ram;

	(void)state;
	r.keep_cache_ram = 123456789;
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, (987654321 + 123456789 + 268435456 + 220 * MiB +
			       (int64_t)16 * 2 * 64 * MiB * 11 / 10) *
				      100 / 95);
	assert_true(ram > 4000000000);
	assert_true(ram < 8000000000);
}

static void
test_ram_overflow(void **state)
{
	struct cfg_containers cc = cc_with(0, 0);
	struct ctres r = fx_ctr(INT64_MAX, 1);
	struct res_vec need;
	int64_t ram;

	(void)state;
	/* Sum overflows. */
	r.keep_cache_ram = 1;
	assert_int_equal(ctres_ram(&r, &cc, &ram), -ERANGE);
	/* Sum fits, x100 overflows. */
	r = fx_ctr(INT64_MAX / 50, 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), -ERANGE);
	/* The largest request that still fits. */
	r = fx_ctr(INT64_MAX / 100, 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), 0);
	assert_int_equal(ram, INT64_MAX / 100 * 100 / 95);
	/* Reserve pushes it over. */
	cc = cc_with(INT64_MAX, 0);
	r = fx_ctr(1, 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), -ERANGE);
	/* buffers x vcpus x 64 MiB overflows even though each factor is modest. */
	cc = cc_with(0, 1 << 20);
	r = fx_ctr(1, (int64_t)1 << 20);
	assert_int_equal(ctres_ram(&r, &cc, &ram), -ERANGE);
	assert_int_equal(ctres_need(&r, &cc, &need), -ERANGE);
	/* x11 overflows after x64 MiB fits. */
	cc = cc_with(0, 1);
	r = fx_ctr(0, INT64_MAX / (64 * MiB) - 1);
	assert_int_equal(ctres_ram(&r, &cc, &ram), -ERANGE);
}

static void
test_image_estimate(void **state)
{
	static const struct {
		const char *pdh;
		int64_t d;
	} cases[] = {
		{ "d5025c0f29f6eef304a7358afa82a822+342", 6 * 64 * MiB },
		{ "d5025c0f29f6eef304a7358afa82a822+-342", 0 },	      /* not \d+ */
		{ "d5025c0f29f6eef304a7358afa82a822+34", 0 },	      /* short manifest */
		{ "d5025c0f29f6eef304a7358afa82a822+121", 0 },	      /* just below 122 */
		{ "d5025c0f29f6eef304a7358afa82a822+122", 64 * MiB }, /* (122-80)/42 = 1 */
		{ "d5025c0f29f6eef304a7358afa82a822+163", 64 * MiB }, /* 83/42 = 1 */
		{ "d5025c0f29f6eef304a7358afa82a822+164", 2 * 64 * MiB },
		{ "D5025C0F29F6EEF304A7358AFA82A822+342", 0 },	   /* uppercase hex */
		{ "d5025c0f29f6eef304a7358afa82a82+342", 0 },	   /* 31 hex digits */
		{ "d5025c0f29f6eef304a7358afa82a8222+342", 0 },	   /* 33 hex digits */
		{ "d5025c0f29f6eef304a7358afa82a822+342\n", 0 },   /* $ is end of text */
		{ "d5025c0f29f6eef304a7358afa82a822+342+K@x", 0 }, /* hints not allowed */
		{ "d5025c0f29f6eef304a7358afa82a822+", 0 },
		{ "d5025c0f29f6eef304a7358afa82a822", 0 },
		{ "xd5025c0f29f6eef304a7358afa82a822+342", 0 },
		{ "g5025c0f29f6eef304a7358afa82a822+342", 0 },
		{ "", 0 },
		{ "arvados/jobs:latest", 0 },
		/* Beyond int64: ParseInt fails, so 0. */
		{ "d5025c0f29f6eef304a7358afa82a822+99999999999999999999", 0 },
	};
	int64_t d;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d = -1;
		assert_int_equal(ctres_image_estimate(cases[i].pdh, &d), 0);
		if (d != cases[i].d)
			fail_msg("%s: got %lld, want %lld", cases[i].pdh, (long long)d,
				 (long long)cases[i].d);
	}
	/* Fits int64 but the estimate overflows: not a wrapped number. */
	assert_int_equal(
		ctres_image_estimate("d5025c0f29f6eef304a7358afa82a822+9000000000000000000", &d),
		-ERANGE);
}

static void
test_scratch(void **state)
{
	struct ctres r;
	int64_t s;

	(void)state;
	/* The spec example: no tmp, no disk cache, d = 402653184 -> 805306368. */
	ctres_init(&r);
	r.container_image = "d5025c0f29f6eef304a7358afa82a822+342";
	assert_int_equal(ctres_scratch(&r, &s), 0);
	assert_int_equal(s, 805306368);
	/* tmp larger than d: max(t, d) + d. */
	r.tmp_capacity = GiB;
	assert_int_equal(ctres_scratch(&r, &s), 0);
	assert_int_equal(s, GiB + 402653184);
	/* tmp smaller than d: d + d. */
	r.tmp_capacity = 1000;
	assert_int_equal(ctres_scratch(&r, &s), 0);
	assert_int_equal(s, 805306368);
	/* keep_cache_disk is added on top. */
	r.keep_cache_disk = 12345;
	assert_int_equal(ctres_scratch(&r, &s), 0);
	assert_int_equal(s, 805306368 + 12345);
	/* No image estimate: tmp + disk cache. */
	r.container_image = "";
	r.tmp_capacity = 2 * GiB;
	assert_int_equal(ctres_scratch(&r, &s), 0);
	assert_int_equal(s, 2 * GiB + 12345);
	/* Overflows. */
	r.keep_cache_disk = INT64_MAX;
	assert_int_equal(ctres_scratch(&r, &s), -ERANGE);
	r.keep_cache_disk = 0;
	r.tmp_overflow = true;
	assert_int_equal(ctres_scratch(&r, &s), -ERANGE);
}

static void
test_need_vector(void **state)
{
	struct cfg_containers cc = cc_with(0, 0);
	struct ctres r = fx_ctr(95, 3);
	struct res_vec need;

	(void)state;
	r.tmp_capacity = 77;
	r.gpu.device_count = 2;
	r.gpu.vram = 5 * GiB;
	assert_int_equal(ctres_need(&r, &cc, &need), 0);
	assert_int_equal(need.vcpus, 3);
	assert_int_equal(need.ram, 100);
	assert_int_equal(need.scratch, 77);
	assert_int_equal(need.gpus, 2);
	assert_int_equal(need.gpu_vram, 5 * GiB); /* per device, not multiplied */
	assert_false(need.shared_vcpu_used);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ram_worked_example), cmocka_unit_test(test_ram_terms),
		cmocka_unit_test(test_ram_many_buffers),   cmocka_unit_test(test_ram_overflow),
		cmocka_unit_test(test_image_estimate),	   cmocka_unit_test(test_scratch),
		cmocka_unit_test(test_need_vector),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
