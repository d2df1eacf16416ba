/* test_ec2_pace.c - cloudd's client-side EC2 token buckets (ec2_pace.c) on a real libuv loop:
 * a call that needs more resource tokens than the bucket can hold ("oversize", e.g. one
 * TerminateInstances for 1,000 instances against 1000 - reserve tokens) goes out once the
 * bucket is full, woken by the pacer's own timer, not only when some other call happens to
 * come by (issue 16: the pool's batched destroys waited forever). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <uv.h>

#include "ec2_pace.h"
#include "uv_wait.h"

static void
count_cb(void *arg)
{
	(*(int *)arg)++;
}

static void
test_oversize_waits_for_a_full_bucket(void **state)
{
	uv_loop_t loop;
	struct ec2_pace *p;
	int first = 0, drain = 0, big = 0;
	uint64_t t0;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(ec2_pace_new(&loop, &p), 0);
	ec2_pace_set_margin(p, 1.0);
	/* 100 requests; 20 instance tokens, 50/s: a reserve of 10, so 10 usable when full. */
	ec2_pace_set(p, EC2_PACE_TERMINATE, 100, 10, 20, 50);
	assert_int_equal(ec2_pace_acquire(p, EC2_PACE_TERMINATE, 5, count_cb, &first), 0);
	assert_int_equal(first, 1);
	assert_int_equal(ec2_pace_acquire(p, EC2_PACE_TERMINATE, 5, count_cb, &drain), 0);
	assert_int_equal(drain, 1); /* at most 5 tokens left, whatever time passed */
	t0 = uv_now(&loop);
	/* More than the bucket can ever hold: sent when it is full (10 tokens at 50/s). */
	assert_int_equal(ec2_pace_acquire(p, EC2_PACE_TERMINATE, 100, count_cb, &big), 0);
	assert_int_equal(big, 0);
	assert_int_equal(uvw_until_int(&loop, &big, 1, 3000), 0);
	uv_update_time(&loop);
	/* It did wait for the refill: from at most 5 tokens to full (10) at 50/s is 100 ms at
	 * least (a lower bound: a slow machine only makes it longer). */
	assert_true(uv_now(&loop) - t0 >= 100);
	ec2_pace_free(p);
	uvw_run_for(&loop, 10);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oversize_waits_for_a_full_bucket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
