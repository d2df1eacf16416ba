/*
 * test_pool_spot.c - what each spot check line means (pool_spot_take, pool_spot_parse.c): the
 * lines sshd-pool's command prints (sshd-pool/ops.c ops_cmd_spot_check) and lines a worker
 * could print instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pool_spot_parse.h"

struct spot_case {
	const char *out;
	enum pool_spot_kind kind;
	const char *action, *time, *why, *rest;
};

static void
check(const struct spot_case *c)
{
	char buf[512];
	struct pool_spot s;
	char *rest;

	snprintf(buf, sizeof(buf), "%s", c->out);
	rest = pool_spot_take(buf, &s);
	print_message("%s\n", c->out);
	assert_int_equal(s.kind, c->kind);
	assert_string_equal(rest, c->rest);
	if (c->action)
		assert_string_equal(s.action, c->action);
	if (c->time)
		assert_string_equal(s.time, c->time);
	if (c->why)
		assert_string_equal(s.why, c->why);
}

static void
test_notice(void **st)
{
	(void)st;
	/* EC2's own format (docs: spot-instance-termination-notices), then crunch-run's lines. */
	check(&(struct spot_case){
		"adc-spot action {\"action\": \"terminate\", \"time\": \"2026-12-06T10:42:00Z\"} "
		"200\nzzzzz-dz642-0123456789abcde\n",
		POOL_SPOT_NOTICE, "terminate", "2026-12-06T10:42:00Z", NULL,
		"zzzzz-dz642-0123456789abcde\n" });
	check(&(struct spot_case){ "adc-spot action {\"action\":\"stop\",\"time\":\"x\"} 200",
				   POOL_SPOT_NOTICE, "stop", "x", NULL, "" });
	check(&(struct spot_case){ "adc-spot action {  \"action\" : \"hibernate\" ,  \"time\" : "
				   "\"2026-12-06T10:42:00Z\" } "
				   "  200\n",
				   POOL_SPOT_NOTICE, "hibernate", "2026-12-06T10:42:00Z", NULL,
				   "" });
	/* Another action is still a notice (the instance goes), counted as "other"; a time
	 * with characters outside RFC 3339's is dropped, not shown. */
	check(&(struct spot_case){
		"adc-spot action {\"action\": \"reboot\", \"time\": \"soon; rm -rf /\"} 200\n",
		POOL_SPOT_NOTICE, "other", "", NULL, "" });
	check(&(struct spot_case){ "adc-spot action {\"action\": \"terminate\"} 200\nbroken\n",
				   POOL_SPOT_NOTICE, "terminate", "", NULL, "broken\n" });
}

static void
test_no_notice(void **st)
{
	(void)st;
	/* The 404 of EC2 (its body is an HTML page or empty: either way, no notice). */
	check(&(struct spot_case){ "adc-spot action  404\n", POOL_SPOT_NONE, NULL, NULL, NULL,
				   "" });
	check(&(struct spot_case){
		"adc-spot action <?xml version=\"1.0\"?> <html> <title>404 - Not Found</title> "
		"</html> 404\nzzzzz-dz642-0123456789abcde stale\n",
		POOL_SPOT_NONE, NULL, NULL, NULL, "zzzzz-dz642-0123456789abcde stale\n" });
	check(&(struct spot_case){ "adc-spot no-curl\nzzzzz-dz642-0123456789abcde\n",
				   POOL_SPOT_NO_CURL, NULL, NULL, NULL,
				   "zzzzz-dz642-0123456789abcde\n" });
}

static void
test_errors(void **st)
{
	(void)st;
	check(&(struct spot_case){ "adc-spot token 000\n", POOL_SPOT_ERROR, NULL, NULL,
				   "no IMDSv2 token (HTTP 000)", "" });
	check(&(struct spot_case){ "adc-spot token 401\nbroken\n", POOL_SPOT_ERROR, NULL, NULL,
				   "no IMDSv2 token (HTTP 401)", "broken\n" });
	check(&(struct spot_case){ "adc-spot action Unauthorized 401\n", POOL_SPOT_ERROR, NULL,
				   NULL, "instance-action answered HTTP 401", "" });
	check(&(struct spot_case){ "adc-spot action not json 200\n", POOL_SPOT_ERROR, NULL, NULL,
				   "instance-action answered 200 without a notice", "" });
	check(&(struct spot_case){ "adc-spot action [\"terminate\"] 200\n", POOL_SPOT_ERROR, NULL,
				   NULL, "instance-action answered 200 without a notice", "" });
	check(&(struct spot_case){ "adc-spot action {\"action\": \"terminate\"} 2000\n",
				   POOL_SPOT_ERROR, NULL, NULL,
				   "spot check line without an HTTP status", "" });
	check(&(struct spot_case){ "adc-spot token \n", POOL_SPOT_ERROR, NULL, NULL,
				   "unrecognized spot check line", "" });
	/* Not our line first (a shell that printed nothing for it): everything is
	 * crunch-run's, and nothing is cut. */
	check(&(struct spot_case){ "zzzzz-dz642-0123456789abcde\nadc-spot action {\"action\": "
				   "\"terminate\"} 200\n",
				   POOL_SPOT_MISSING, NULL, NULL,
				   "the probe printed no spot check line",
				   "zzzzz-dz642-0123456789abcde\nadc-spot action {\"action\": "
				   "\"terminate\"} 200\n" });
	check(&(struct spot_case){ "", POOL_SPOT_MISSING, NULL, NULL, NULL, "" });
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notice),
		cmocka_unit_test(test_no_notice),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
