/*
 * uv_wait.h - the one way the test harnesses and benchmarks wait for a condition on a libuv
 * loop.
 *
 * Why not `while (!cond) uv_run(loop, UV_RUN_ONCE);`: libuv 1.44 (Debian 12) runs the due
 * timers at the top of a UV_RUN_ONCE pass and then still polls, sleeping until the next timer
 * when nothing else is pending (libuv 1.45 changed this order). When a timer callback completes
 * the condition in that first step, UV_RUN_ONCE does not return: it sleeps until whatever timer
 * is next (a 60 s sweep, a 20 s guard) and the test times out although everything happened on
 * time. A UV_RUN_NOWAIT loop with a sleep in it instead notices late, or spins.
 *
 * uvw_run_until() starts, for the wait only, a prepare and a check handle that test the
 * condition on every pass and call uv_stop() as soon as it holds (libuv then polls with a zero
 * timeout, in 1.44 as in later versions), and a guard timer that turns a hang into an error.
 * Its handles are closed before it returns, so the loop is left as it was found.
 */
#ifndef ADC_TESTS_UV_WAIT_H
#define ADC_TESTS_UV_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

/* A condition: true once the wait is over. It must not run the loop itself. */
typedef bool (*uvw_pred)(void *arg);

/*
 * Run loop until done(arg) is true or timeout_ms (> 0) have passed. Returns 0 when the
 * condition holds (checked before the loop runs at all, and again when the guard fires),
 * UV_ETIMEDOUT when the guard fired first. Callbacks may call uv_stop(); the wait goes on.
 * Not reentrant on one loop (neither is uv_run).
 */
int uvw_run_until(uv_loop_t *loop, uvw_pred done, void *arg, uint64_t timeout_ms);

/* The common conditions. */
int uvw_until_true(uv_loop_t *loop, const bool *flag, uint64_t timeout_ms);	 /* *flag */
int uvw_until_int(uv_loop_t *loop, const int *n, int want, uint64_t timeout_ms); /* *n >= want */

/* Run loop for ms milliseconds (callbacks run as they come), then return. */
void uvw_run_for(uv_loop_t *loop, uint64_t ms);

#endif
