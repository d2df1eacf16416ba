/* test_sess_defaults.c - the session pool's keep-alives are on by default (30 s, answered
 * within 15 s), as the dispatcher runs sshd-pool: it passes no -keepalive-* flag, so sshpool.c
 * hands sess_opts_defaults zeros. sshglue checks the keep-alive end to end, with short values
 * given by those flags so that it need not wait 45 s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sess.h"

static void
test_keepalive_on_by_default(void **st)
{
	struct sess_opts o = { 0 };

	(void)st;
	sess_opts_defaults(&o);
	assert_int_equal(o.keepalive_ms, 30000);
	assert_int_equal(o.keepalive_timeout_ms, 15000);
}

static void
test_given_values_kept(void **st)
{
	struct sess_opts o = { .keepalive_ms = 2000, .keepalive_timeout_ms = 4000 };
	struct sess_opts off = { .keepalive_ms = SESS_KEEPALIVE_OFF };

	(void)st;
	sess_opts_defaults(&o);
	sess_opts_defaults(&off);
	assert_int_equal(o.keepalive_ms, 2000);
	assert_int_equal(o.keepalive_timeout_ms, 4000);
	assert_true(off.keepalive_ms == SESS_KEEPALIVE_OFF);
}

/* Issue 16's limits: a connect burst of 4 handshake slots' worth per 10 ms, and a given one kept
 * (handshake slots: 16 per CPU, 8 to 256, within the descriptor budget). */
static void
test_connect_limits(void **st)
{
	struct sess_opts o = { 0 }, given = { .max_connecting = 3, .connect_burst = 5 };

	(void)st;
	sess_opts_defaults(&o);
	sess_opts_defaults(&given);
	assert_true(o.max_connecting >= 8 && o.max_connecting <= 256);
	assert_true(o.max_connecting <= o.max_conns);
	assert_int_equal(o.connect_burst, 4 * o.max_connecting);
	assert_int_equal(given.max_connecting, 3);
	assert_int_equal(given.connect_burst, 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_on_by_default),
		cmocka_unit_test(test_given_values_kept),
		cmocka_unit_test(test_connect_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
