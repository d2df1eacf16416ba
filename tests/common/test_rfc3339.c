/*
 * test_rfc3339.c - RFC 3339 timestamps: what the Arvados controller writes (9 digits, Z) and
 * what Go's time.RFC3339Nano prints back (trailing zeros trimmed; the vectors below are Go's own
 * output for these inputs), offsets, the fraction's edge cases, and text that is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "rfc3339.h"

/* Parse, check the instant, print back and compare with Go's text. */
static void
round_trip(const char *in, int64_t want_ns, int32_t want_off, const char *go)
{
	int64_t ns = -1;
	int32_t off = -1;
	char buf[RFC3339_MAX];

	assert_int_equal(rfc3339_parse(in, &ns, &off), 0);
	assert_int_equal(ns, want_ns);
	assert_int_equal(off, want_off);
	rfc3339_format(ns, off, buf, sizeof(buf));
	assert_string_equal(buf, go);
}

static void
test_controller_times(void **state)
{
	(void)state;
	/* PostgreSQL keeps microseconds: the controller's last three digits are zeros */
	round_trip("2024-05-01T12:00:00.123456000Z", 1714564800123456000LL, 0,
		   "2024-05-01T12:00:00.123456Z");
	round_trip("2024-05-01T12:00:00.000000000Z", 1714564800000000000LL, 0,
		   "2024-05-01T12:00:00Z");
	round_trip("2016-01-11T11:11:11.111111111Z", 1452510671111111111LL, 0,
		   "2016-01-11T11:11:11.111111111Z");
	round_trip("2024-05-01T12:00:00.1Z", 1714564800100000000LL, 0, "2024-05-01T12:00:00.1Z");
	round_trip("2024-05-01T12:00:00Z", 1714564800000000000LL, 0, "2024-05-01T12:00:00Z");
	/* digits beyond nanoseconds are dropped, as Go does */
	round_trip("2024-05-01T12:00:00.1234567891Z", 1714564800123456789LL, 0,
		   "2024-05-01T12:00:00.123456789Z");
	/* lower-case t and z are RFC 3339 too */
	round_trip("2024-05-01t12:00:00z", 1714564800000000000LL, 0, "2024-05-01T12:00:00Z");
}

static void
test_offsets(void **state)
{
	(void)state;
	/* Go keeps the offset it parsed and prints the local time with it */
	round_trip("2024-05-01T14:30:00.5+02:30", 1714564800500000000LL, 9000,
		   "2024-05-01T14:30:00.5+02:30");
	round_trip("2024-05-01T07:00:00-05:00", 1714564800000000000LL, -18000,
		   "2024-05-01T07:00:00-05:00");
	/* +00:00 is UTC: Go prints Z */
	round_trip("2024-05-01T12:00:00+00:00", 1714564800000000000LL, 0, "2024-05-01T12:00:00Z");
}

static void
test_before_1970(void **state)
{
	char buf[RFC3339_MAX];

	(void)state;
	round_trip("1969-12-31T23:59:59.75Z", -250000000LL, 0, "1969-12-31T23:59:59.75Z");
	rfc3339_format(0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"yesterday",
		"2024-05-01",
		"2024-05-01 12:00:00Z",	     /* a space is not RFC 3339 */
		"2024-05-01T12:00:00",	     /* no offset */
		"2024-05-01T12:00:00.Z",     /* a dot without digits */
		"2024-05-01T12:00:00+0200",  /* no colon */
		"2024-05-01T12:00:00+24:00", /* no such offset */
		"2024-05-01T12:00:00Zjunk",
		"2024-13-01T12:00:00Z",
		"2024-05-01T25:00:00Z",
		"1013-12-06T07:33:29.210409174Z", /* outside an int64_t of nanoseconds */
		"9999-12-31T23:59:59Z",
	};
	int64_t ns = 42;
	int32_t off = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rfc3339_parse(bad[i], &ns, &off), -EINVAL);
		assert_int_equal(ns, 42);
		assert_int_equal(off, 42);
	}
	assert_int_equal(rfc3339_parse(NULL, &ns, NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controller_times),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_before_1970),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
