/* test_ec2_badxml.c - broken answers (malformed, truncated, not XML, DOCTYPE, deep, oversized,
 * empty error bodies) end the call with a clear error, never a crash or a leak. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

static struct fake B;
static uv_loop_t L;

static int
setup(void **s)
{
	(void)s;
	uv_loop_init(&L);
	return fake_start(&B, EC2_TEST_DIR "/bad_ec2.py", NULL);
}

static int
teardown(void **s)
{
	(void)s;
	fake_stop(&B);
	uv_loop_close(&L);
	return 0;
}

static void
mode(const char *m)
{
	char p[100];

	snprintf(p, sizeof(p), "/_fake/mode?m=%s", m);
	assert_int_equal(fake_ctl0(&B, "GET", p, NULL), 0);
}

struct c {
	const char *mode, *want;
	int status;
};

static void
t_list_broken(void **s)
{
	static const struct c v[] = {
		{ "malformed", "malformed XML answer: mismatched tag", 200 },
		{ "truncated", "malformed XML answer", 200 },
		{ "notxml", "malformed XML answer: syntax error", 200 },
		{ "empty", "malformed XML answer", 200 },
		{ "html500", "HTTP 500 with no EC2 error", 500 },
		{ "empty503", "HTTP 503: malformed XML answer", 503 },
		{ "doctype", "DOCTYPE refused", 200 },
		{ "deep", "nested too deeply", 200 },
		{ "oversized", "larger than the allowed maximum", 200 },
		{ "error", "api error InvalidParameterValue: bad & worse", 400 },
	};
	struct ec2_driver_opts o = { .no_pace = true, .max_body = 1 << 20 };
	struct drv *d = drv_for(&L, &B, "{}", &o);
	struct op_result r;

	(void)s;
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		mode(v[i].mode);
		assert_int_equal(do_list(&L, d, NULL, &r), 0);
		assert_true(r.failed);
		assert_int_equal(r.err.cls, DRV_ERR_OTHER);
		if (!strstr(r.err.text, v[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", v[i].mode, r.err.text, v[i].want);
		assert_non_null(strstr(r.err.text, "DescribeInstances"));
		assert_int_equal(r.err.http_status, v[i].status);
		op_result_free(&r);
	}
	drv_done_free(&L, d);
}

static void
t_create_broken(void **s)
{
	struct ec2_driver_opts o = { .no_pace = true };
	struct drv *d = drv_for(&L, &B, "{}", &o);
	struct drv_itype t = { .name = "m5.large" };
	struct op_result r;

	(void)s;
	mode("noinstance");
	assert_int_equal(do_create(&L, d, &t, NULL, NULL, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "answer has no instance"));
	op_result_free(&r);
	mode("truncated");
	assert_int_equal(do_create(&L, d, &t, NULL, NULL, NULL, &r), 0);
	assert_true(r.failed);
	assert_non_null(strstr(r.err.text, "RunInstances: HTTP 200: malformed XML answer"));
	op_result_free(&r);
	drv_done_free(&L, d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_list_broken),
		cmocka_unit_test(t_create_broken),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
