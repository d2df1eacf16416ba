/* test_api_limiter.c - the concurrency limiter of spec 2.2 on a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api_limiter.h"

static void
fill(struct api_limiter *l, uint64_t now)
{
	while (api_limiter_may_start(l, now))
		api_limiter_acquire(l);
}

static void
test_starts_at_8(void **state)
{
	struct api_limiter l;

	(void)state;
	api_limiter_init(&l, 0);
	fill(&l, 0);
	assert_int_equal(l.in_flight, 8);
	assert_false(api_limiter_may_start(&l, 0));
	api_limiter_release(&l);
	assert_true(api_limiter_may_start(&l, 0));
}

static void
test_503_halves_and_pauses(void **state)
{
	struct api_limiter l;

	(void)state;
	api_limiter_init(&l, 0);
	fill(&l, 1000);
	assert_true(api_limiter_report(&l, 503, 1000));
	api_limiter_release(&l);
	assert_int_equal(l.limit, 4);
	/* Below the new limit, but no new request until the quiet second is over. */
	for (int i = 0; i < 5; i++)
		api_limiter_release(&l);
	assert_int_equal(l.in_flight, 2);
	assert_false(api_limiter_may_start(&l, 1999));
	assert_int_equal(api_limiter_wait_ms(&l, 1500), 500);
	/* A further 503 inside the quiet second does not halve again. */
	assert_true(api_limiter_report(&l, 503, 1500));
	assert_int_equal(l.limit, 4);
	assert_true(api_limiter_may_start(&l, 2000));
	assert_int_equal(api_limiter_wait_ms(&l, 2000), 0);
	/* After it, the next 503 halves, rounding up: 4 -> 2 -> 1 -> 1. */
	assert_true(api_limiter_report(&l, 503, 2000));
	assert_int_equal(l.limit, 2);
	assert_true(api_limiter_report(&l, 503, 3000));
	assert_int_equal(l.limit, 1);
	assert_true(api_limiter_report(&l, 503, 4000));
	assert_int_equal(l.limit, 1);
	/* Other failures change nothing and are not 503s. */
	assert_false(api_limiter_report(&l, 500, 5000));
	assert_false(api_limiter_report(&l, 0, 5000));
	assert_int_equal(l.limit, 1);
}

static void
test_success_grows_within_caps(void **state)
{
	struct api_limiter l;

	(void)state;
	api_limiter_init(&l, 0);
	for (int i = 0; i < 5; i++)
		api_limiter_acquire(&l);
	/* +max(1, 8/10) = 9, under 2 x 5 in flight. */
	assert_false(api_limiter_report(&l, 200, 0));
	assert_int_equal(l.limit, 9);
	assert_false(api_limiter_report(&l, 304, 0));
	assert_int_equal(l.limit, 10);
	/* 10 + 1 = 11 > 2 x 5: capped at 10. */
	assert_false(api_limiter_report(&l, 204, 0));
	assert_int_equal(l.limit, 10);
	for (int i = 0; i < 95; i++)
		api_limiter_acquire(&l);
	assert_false(api_limiter_report(&l, 200, 0));
	assert_int_equal(l.limit, 11);
	for (int i = 0; i < 30; i++)
		api_limiter_report(&l, 200, 0);
	/* 10% steps: grows faster than 1 per success once above 20. */
	assert_true(l.limit > 41);
	assert_true(l.limit <= 200);
	assert_int_equal(l.peak_limit, l.limit);
	/* 2 x in-flight also pulls the limit down when concurrency is low. */
	while (l.in_flight > 1)
		api_limiter_release(&l);
	api_limiter_report(&l, 200, 0);
	assert_int_equal(l.limit, 2);
	/* 4xx neither grows nor shrinks. */
	api_limiter_report(&l, 404, 0);
	assert_int_equal(l.limit, 2);
}

static void
test_configured_cap(void **state)
{
	struct api_limiter l;

	(void)state;
	api_limiter_init(&l, 64); /* cap 16 */
	assert_int_equal(l.limit, 8);
	for (int i = 0; i < 100; i++)
		api_limiter_acquire(&l);
	for (int i = 0; i < 50; i++)
		api_limiter_report(&l, 200, 0);
	assert_int_equal(l.limit, 16);
	api_limiter_init(&l, 16); /* cap 4, applied from the start */
	fill(&l, 0);
	assert_int_equal(l.in_flight, 4);
	api_limiter_init(&l, 2); /* 2/4 rounds to 0: still one at a time */
	fill(&l, 0);
	assert_int_equal(l.in_flight, 1);
}

static void
test_unlimited_then_503(void **state)
{
	struct api_limiter l;

	(void)state;
	api_limiter_init(&l, 0);
	l.limit = 0; /* unlimited, as a client built that way */
	for (int i = 0; i < 30; i++) {
		assert_true(api_limiter_may_start(&l, 0));
		api_limiter_acquire(&l);
	}
	api_limiter_report(&l, 200, 0);
	assert_int_equal(l.limit, 0);
	/* The first 503 takes the actual concurrency as the limit, then halves it. */
	assert_true(api_limiter_report(&l, 503, 10));
	assert_int_equal(l.limit, 15);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_at_8),
		cmocka_unit_test(test_503_halves_and_pauses),
		cmocka_unit_test(test_success_grows_within_caps),
		cmocka_unit_test(test_configured_cap),
		cmocka_unit_test(test_unlimited_then_503),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
