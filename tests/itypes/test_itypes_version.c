/* test_itypes_version.c - GPU version comparison (3.3) and the %q quoting of the stack error. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "instance_types.h"
#include "instance_types_gpu.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ParseFloat's decimal syntax: what parses, to what; what does not. */
static void
test_version_parse(void **state)
{
	static const struct {
		const char *s;
		double v;
	} ok[] = {
		{ "11.0", 11.0 }, { "12.1", 12.1 }, { "9.10", 9.1 },   { "9", 9 },
		{ "9.", 9 },	  { ".5", 0.5 },    { "+1.5", 1.5 },   { "-2", -2 },
		{ "1e1", 10 },	  { "1.5E+1", 15 }, { "007.50", 7.5 }, { "1e-400", 0 },
	};
	static const char *bad[] = {
		"",	  " 1.0",  "1.0 ", "12.0.12", "9.x",	"x11", ".",
		"+",	  "1e",	   "1e+",  "0x1p0",   "1_000",	"1,5", "1e400",
		"-1e400", "infin", "+nan", "v11",     "11.0\n",
	};
	double v;

	(void)state;
	for (size_t i = 0; i < N(ok); i++) {
		if (itypes_version_parse(ok[i].s, &v) != 0)
			fail_msg("\"%s\" should parse", ok[i].s);
		assert_true(v == ok[i].v);
	}
	for (size_t i = 0; i < N(bad); i++)
		if (itypes_version_parse(bad[i], &v) != -EINVAL)
			fail_msg("\"%s\" should not parse", bad[i]);
	assert_int_equal(itypes_version_parse(NULL, &v), -EINVAL);
	/* ParseFloat's words. */
	assert_int_equal(itypes_version_parse("Inf", &v), 0);
	assert_true(isinf(v) && v > 0);
	assert_int_equal(itypes_version_parse("-infinity", &v), 0);
	assert_true(isinf(v) && v < 0);
	assert_int_equal(itypes_version_parse("NaN", &v), 0);
	assert_true(isnan(v));
}

static void
test_version_less(void **state)
{
	bool less;

	(void)state;
	assert_int_equal(itypes_version_less("11.0", "12.1", &less), 0);
	assert_true(less);
	assert_int_equal(itypes_version_less("12.1", "11.0", &less), 0);
	assert_false(less);
	assert_int_equal(itypes_version_less("9.0", "9", &less), 0);
	assert_false(less);
	/* "9.10" is 9.1, so it is less than "9.2" (not a dotted version). */
	assert_int_equal(itypes_version_less("9.10", "9.2", &less), 0);
	assert_true(less);
	assert_int_equal(itypes_version_less("9.10", "9.1", &less), 0);
	assert_false(less);
	/* Either side failing to parse is an error. */
	assert_int_equal(itypes_version_less("12.0.12", "1", &less), -EINVAL);
	assert_int_equal(itypes_version_less("1", "", &less), -EINVAL);
}

static void
test_stack_names(void **state)
{
	enum cfg_gpu_stack st;

	(void)state;
	assert_int_equal(itypes_gpu_stack("", &st), 0);
	assert_int_equal(st, CFG_GPU_NONE);
	assert_int_equal(itypes_gpu_stack(NULL, &st), 0);
	assert_int_equal(st, CFG_GPU_NONE);
	assert_int_equal(itypes_gpu_stack("cuda", &st), 0);
	assert_int_equal(st, CFG_GPU_CUDA);
	assert_int_equal(itypes_gpu_stack("rocm", &st), 0);
	assert_int_equal(st, CFG_GPU_ROCM);
	assert_int_equal(itypes_gpu_stack("Cuda", &st), -EINVAL);
	assert_int_equal(itypes_gpu_stack("rocm\n", &st), -EINVAL);
}

static void
test_quote(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "opencl", "\"opencl\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "\t\n\r\a\b\f\v", "\"\\t\\n\\r\\a\\b\\f\\v\"" },
		{ "\x01\x1f\x7f", "\"\\x01\\x1f\\x7f\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" }, /* valid UTF-8 kept */
		{ "\xff"
		  "a\xc3",
		  "\"\\xffa\\xc3\"" },			   /* invalid bytes escaped */
		{ "\xed\xa0\x80", "\"\\xed\\xa0\\x80\"" }, /* a surrogate is invalid */
		{ "\xc0\xaf", "\"\\xc0\\xaf\"" },	   /* overlong */
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		itypes_gpu_quote(cases[i].in, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
	}
	/* Truncation keeps whole characters and the closing quote. */
	itypes_gpu_quote("abcdef", buf, 6);
	assert_string_equal(buf, "\"abc\"");
	itypes_gpu_quote("a\nb", buf, 5);
	assert_string_equal(buf, "\"a\"");
	itypes_gpu_quote("x", buf, 2);
	assert_string_equal(buf, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_version_less),
		cmocka_unit_test(test_stack_names),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
