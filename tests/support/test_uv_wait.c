/*
 * test_uv_wait.c - the shared wait helper against the libuv 1.44 race (issue 18): a condition
 * completed by a timer at the top of a pass, by a close callback, by an idle handle, by I/O
 * from another thread; a foreign uv_stop(); the guard; and a loop left with no handle of the
 * helper's. test_naive_loop_sleeps_past shows that the injected delay really exercises the
 * race on this libuv: the old `while (!flag) uv_run(UV_RUN_ONCE)` sleeps past the condition.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "uv_wait.h"

/* Far beyond any scheduling delay, far below the helper's guard in the race tests. */
#define PROMPT_MS 5000
#define GUARD_MS  30000

struct fx {
	uv_loop_t loop;
	uv_timer_t done_timer, sweep;
	bool flag;
	int stops;
};

static uint64_t
ms_since(uint64_t t0)
{
	return (uv_hrtime() - t0) / 1000000;
}

static void
set_flag(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void
nothing(uv_timer_t *t)
{
	(void)t;
}

/*
 * The shape of test_proto_chan's test_many_timeouts: the condition is completed by a timer
 * (due after 10 ms); the only other timer is a long one (the channel's 60 s tombstone sweep).
 * The delay makes the completing timer overdue when the wait starts, so libuv 1.44 runs it in
 * the timer step at the top of the pass, before it polls.
 */
static void
fx_init(struct fx *f)
{
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->done_timer);
	f->done_timer.data = &f->flag;
	uv_timer_start(&f->done_timer, set_flag, 10, 0);
	uv_timer_init(&f->loop, &f->sweep);
	uv_timer_start(&f->sweep, nothing, 60000, 0);
	uv_unref((uv_handle_t *)&f->sweep);
}

static void
fx_free(struct fx *f)
{
	uv_close((uv_handle_t *)&f->done_timer, NULL);
	uv_close((uv_handle_t *)&f->sweep, NULL);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0); /* nothing of the helper's is left */
}

static void
test_timer_done_at_top_of_pass(void **state)
{
	struct fx f = { 0 };
	uint64_t t0;

	(void)state;
	fx_init(&f);
	usleep(200 * 1000); /* the injected delay of issue 18 */
	t0 = uv_hrtime();
	assert_int_equal(uvw_until_true(&f.loop, &f.flag, GUARD_MS), 0);
	assert_true(f.flag);
	assert_true(ms_since(t0) < PROMPT_MS);
	fx_free(&f);
}

static void
guard_cb(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void
test_naive_loop_sleeps_past(void **state)
{
	struct fx f = { 0 };
	uv_timer_t guard;
	bool guard_fired = false;

	(void)state;
	fx_init(&f);
	uv_timer_init(&f.loop, &guard);
	guard.data = &guard_fired;
	uv_timer_start(&guard, guard_cb, 1500, 0);
	usleep(200 * 1000);
	while (!f.flag && !guard_fired)
		uv_run(&f.loop, UV_RUN_ONCE);
	assert_true(f.flag);
	printf("# libuv %s: the UV_RUN_ONCE loop %s\n", uv_version_string(),
	       guard_fired ? "slept past the condition until its guard" : "returned in time");
#if UV_VERSION_HEX < 0x012d00
	/* 1.44: the injected delay reproduces the race every time. */
	assert_true(guard_fired);
#endif
	uv_close((uv_handle_t *)&guard, NULL);
	fx_free(&f);
}

static bool
never(void *arg)
{
	(void)arg;
	return false;
}

static void
test_timeout(void **state)
{
	uv_loop_t loop;
	uint64_t t0 = uv_hrtime();

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uvw_run_until(&loop, never, NULL, 100), UV_ETIMEDOUT);
	assert_true(ms_since(t0) >= 99);
	t0 = uv_hrtime();
	uvw_run_for(&loop, 50);
	assert_true(ms_since(t0) >= 49);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
test_already_true(void **state)
{
	struct fx f = { 0 };
	uv_timer_t due;
	bool fired = false;

	(void)state;
	fx_init(&f);
	f.flag = true;
	uv_timer_init(&f.loop, &due);
	due.data = &fired;
	uv_timer_start(&due, set_flag, 0, 0);
	assert_int_equal(uvw_until_true(&f.loop, &f.flag, GUARD_MS), 0);
	assert_false(fired); /* the loop did not run */
	uv_close((uv_handle_t *)&due, NULL);
	fx_free(&f);
}

static void
stop_cb(uv_timer_t *t)
{
	struct fx *f = t->data;

	f->stops++;
	uv_stop(&f->loop);
}

/* A callback's uv_stop() ends a uv_run(), not the wait. */
static void
test_foreign_stop(void **state)
{
	struct fx f = { 0 };
	uv_timer_t stopper;

	(void)state;
	fx_init(&f);
	uv_timer_stop(&f.done_timer);
	uv_timer_start(&f.done_timer, set_flag, 100, 0);
	uv_timer_init(&f.loop, &stopper);
	stopper.data = &f;
	uv_timer_start(&stopper, stop_cb, 5, 10);
	assert_int_equal(uvw_until_true(&f.loop, &f.flag, GUARD_MS), 0);
	assert_true(f.flag);
	assert_true(f.stops >= 2);
	uv_close((uv_handle_t *)&stopper, NULL);
	fx_free(&f);
}

static void
flag_on_close(uv_handle_t *h)
{
	*(bool *)h->data = true;
}

static void
close_it(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, flag_on_close);
}

/* Completed in the closing-handles step, after this pass's check callback. */
static void
test_done_in_close_cb(void **state)
{
	struct fx f = { 0 };
	uv_timer_t t;
	uint64_t t0;

	(void)state;
	fx_init(&f);
	uv_timer_stop(&f.done_timer);
	uv_timer_init(&f.loop, &t);
	t.data = &f.flag;
	uv_timer_start(&t, close_it, 10, 0);
	usleep(50 * 1000);
	t0 = uv_hrtime();
	assert_int_equal(uvw_until_true(&f.loop, &f.flag, GUARD_MS), 0);
	assert_true(ms_since(t0) < PROMPT_MS);
	fx_free(&f);
}

static void
idle_count(uv_idle_t *i)
{
	int *n = i->data;

	if (++*n == 1000)
		uv_idle_stop(i);
}

static void
test_done_by_idle(void **state)
{
	struct fx f = { 0 };
	uv_idle_t idle;
	int n = 0;

	(void)state;
	fx_init(&f);
	uv_timer_stop(&f.done_timer);
	uv_idle_init(&f.loop, &idle);
	idle.data = &n;
	uv_idle_start(&idle, idle_count);
	assert_int_equal(uvw_until_int(&f.loop, &n, 1000, GUARD_MS), 0);
	assert_int_equal(n, 1000);
	uv_close((uv_handle_t *)&idle, NULL);
	fx_free(&f);
}

struct io {
	uv_async_t async;
	bool got;
};

static void
async_cb(uv_async_t *a)
{
	struct io *io = a->data;

	io->got = true;
}

static void
send_later(void *arg)
{
	usleep(50 * 1000);
	uv_async_send(arg);
}

static void
test_done_by_io(void **state)
{
	struct fx f = { 0 };
	struct io io = { .got = false };
	uv_thread_t th;
	uint64_t t0 = uv_hrtime();

	(void)state;
	fx_init(&f);
	uv_timer_stop(&f.done_timer);
	uv_async_init(&f.loop, &io.async, async_cb);
	io.async.data = &io;
	assert_int_equal(uv_thread_create(&th, send_later, &io.async), 0);
	assert_int_equal(uvw_until_true(&f.loop, &io.got, GUARD_MS), 0);
	assert_true(ms_since(t0) < PROMPT_MS);
	assert_int_equal(uv_thread_join(&th), 0);
	uv_close((uv_handle_t *)&io.async, NULL);
	fx_free(&f);
}

/* No handle of the test's: the guard still bounds the wait (the old loops spun here). */
static void
test_empty_loop(void **state)
{
	uv_loop_t loop;
	bool flag = false;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uvw_until_true(&loop, &flag, 50), UV_ETIMEDOUT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_done_at_top_of_pass),
		cmocka_unit_test(test_naive_loop_sleeps_past),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_already_true),
		cmocka_unit_test(test_foreign_stop),
		cmocka_unit_test(test_done_in_close_cb),
		cmocka_unit_test(test_done_by_idle),
		cmocka_unit_test(test_done_by_io),
		cmocka_unit_test(test_empty_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
