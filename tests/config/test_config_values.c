/* test_config_values.c - the duration and byte-size syntaxes (spec 1.2), incl. overflow. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config.h"

#define MS  1000000LL
#define SEC 1000000000LL

static void
dur_ok(const char *s, int64_t want)
{
	cfg_duration_ns d = 12345;
	int rc = cfg_parse_duration(s, &d);
	if (rc != 0 || d != want)
		print_error("duration \"%s\": rc %d, got %lld, want %lld\n", s, rc, (long long)d,
			    (long long)want);
	assert_int_equal(rc, 0);
	assert_true(d == want);
}

static void
dur_bad(const char *s, int want_rc)
{
	cfg_duration_ns d = 777;
	int rc = cfg_parse_duration(s, &d);
	if (rc != want_rc)
		print_error("duration \"%s\": rc %d, want %d\n", s, rc, want_rc);
	assert_int_equal(rc, want_rc);
	assert_true(d == 777); /* untouched on failure */
}

static void
test_duration_valid(void **state)
{
	(void)state;
	dur_ok("300ms", 300 * MS);
	dur_ok("10s", 10 * SEC);
	dur_ok("1m", 60 * SEC);
	dur_ok("2m30s", 150 * SEC);
	dur_ok("1h30m", 5400 * SEC);
	dur_ok("1m30s", 90 * SEC);
	dur_ok("2h", 7200 * SEC);
	dur_ok("1.5h", 5400 * SEC);
	dur_ok(".5s", 500 * MS);
	dur_ok("1.s", SEC);
	dur_ok("0", 0);
	dur_ok("-0", 0);
	dur_ok("+0", 0);
	dur_ok("0s", 0);
	dur_ok("-2s", -2 * SEC);
	dur_ok("+5m", 300 * SEC);
	dur_ok("1ns", 1);
	dur_ok("1us", 1000);
	dur_ok("1\xc2\xb5s", 1000);
	dur_ok("1\xce\xbcs", 1000);
	dur_ok("1h2m3s4ms5us6ns", 3723 * SEC + 4 * MS + 5000 + 6);
	dur_ok("5m", 300 * SEC);
	dur_ok("10m", 600 * SEC);
	dur_ok("9223372036854775807ns", INT64_MAX);
	dur_ok("-9223372036854775808ns", INT64_MIN);
	dur_ok("2562047h", 2562047LL * 3600 * SEC);
	dur_ok("0.000000001s", 1);
	dur_ok("1.0000000000000000000000001s", SEC); /* extra fraction digits ignored */
}

static void
test_duration_invalid(void **state)
{
	(void)state;
	dur_bad("", -EINVAL);
	dur_bad("-", -EINVAL);
	dur_bad("+", -EINVAL);
	dur_bad("10", -EINVAL); /* missing unit */
	dur_bad("s", -EINVAL);
	dur_bad(".s", -EINVAL);
	dur_bad("1x", -EINVAL);
	dur_bad("1 s", -EINVAL);
	dur_bad(" 1s", -EINVAL);
	dur_bad("1s ", -EINVAL);
	dur_bad("1h-1m", -EINVAL);
	dur_bad("1d", -EINVAL);
	dur_bad("1S", -EINVAL);
	dur_bad("00", -EINVAL);
	dur_bad("9223372036854775808ns", -ERANGE);
	dur_bad("2562048h", -ERANGE);
	dur_bad("99999999999999999999s", -ERANGE);
	dur_bad("9223372036854775807ns1ns", -ERANGE);
	assert_int_equal(cfg_parse_duration(NULL, &(cfg_duration_ns){ 0 }), -EINVAL);
}

static void
bs_ok(const char *s, int64_t want)
{
	int64_t v = 12345;
	int rc = cfg_parse_bytesize(s, &v);
	if (rc != 0 || v != want)
		print_error("bytesize \"%s\": rc %d, got %lld, want %lld\n", s, rc, (long long)v,
			    (long long)want);
	assert_int_equal(rc, 0);
	assert_true(v == want);
}

static void
bs_bad(const char *s, int want_rc)
{
	int64_t v = 777;
	int rc = cfg_parse_bytesize(s, &v);
	if (rc != want_rc)
		print_error("bytesize \"%s\": rc %d, want %d\n", s, rc, want_rc);
	assert_int_equal(rc, want_rc);
	assert_true(v == 777);
}

static void
test_bytesize_valid(void **state)
{
	(void)state;
	bs_ok("16GB", 16000000000LL);
	bs_ok("550MiB", 576716800LL);
	bs_ok("64GiB", 68719476736LL);
	bs_ok("128GB", 128000000000LL);
	bs_ok("0", 0);
	bs_ok("1234", 1234);
	bs_ok("100B", 100);
	bs_ok("1K", 1000);
	bs_ok("1KB", 1000);
	bs_ok("1Ki", 1024);
	bs_ok("1KiB", 1024);
	bs_ok("1 KiB", 1024);
	bs_ok("2  MB", 2000000);
	bs_ok("3Mi", 3 << 20);
	bs_ok("1T", 1000000000000LL);
	bs_ok("1Ti", 1LL << 40);
	bs_ok("1P", 1000000000000000LL);
	bs_ok("1Pi", 1LL << 50);
	bs_ok("1E", 1000000000000000000LL);
}

static void
test_bytesize_more(void **state)
{
	(void)state;
	bs_ok("7Ei", 7LL << 60);
	bs_ok("9E", 9000000000000000000LL);
	bs_ok("1.5K", 1500);
	bs_ok("0.5KiB", 512);
	bs_ok("1.5GiB", 1610612736LL);
	bs_ok("1e3", 1000);
	bs_ok("2.5e3K", 2500000);
	bs_ok("-1", -1);
	bs_ok("+2K", 2000);
	bs_ok("9223372036854775807", INT64_MAX);
	bs_ok("-9223372036854775808", INT64_MIN);
	bs_ok("0.9", 0); /* truncated toward zero, as the reference */
}

static void
test_bytesize_invalid(void **state)
{
	(void)state;
	bs_bad("", -EINVAL);
	bs_bad("K", -EINVAL);
	bs_bad("KiB", -EINVAL);
	bs_bad("12X", -EINVAL);
	bs_bad("12 parsecs", -EINVAL);
	bs_bad("1k", -EINVAL);
	bs_bad("1iB", -EINVAL);
	bs_bad("1BB", -EINVAL);
	bs_bad("1KiBs", -EINVAL);
	bs_bad(" 1K", -EINVAL);
	bs_bad("1K ", -EINVAL);
	bs_bad("0x10", -EINVAL);
	bs_bad(".", -EINVAL);
	bs_bad("9223372036854775808", -ERANGE);
	bs_bad("-9223372036854775809", -ERANGE);
	bs_bad("8Ei", -ERANGE);
	bs_bad("10E", -ERANGE);
	bs_bad("9.3E", -ERANGE);
	bs_bad("1e19", -ERANGE);
	bs_bad("1e999", -ERANGE);
	bs_bad("99999999999999999999K", -ERANGE);
	assert_int_equal(cfg_parse_bytesize(NULL, &(int64_t){ 0 }), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_valid),	 cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_bytesize_valid),	 cmocka_unit_test(test_bytesize_more),
		cmocka_unit_test(test_bytesize_invalid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
