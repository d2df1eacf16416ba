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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keepalive_on_by_default),
		cmocka_unit_test(test_given_values_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
